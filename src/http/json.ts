import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyRequest } from 'fastify'
import sjson from 'secure-json-parse'
import { type ApiError, errors } from '../errors.ts'

/** `application/json` and `application/*+json`, with or without parameters (C-3.2). */
export const JSON_MEDIA_TYPES = /^application\/(?:json|[a-z0-9!#$&^_.-]+\+json)(?:\s*;.*)?$/i

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)"?/i
const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * JSON bodies are UTF-8 (RFC 8259): another declared charset is a 415, and bytes that are not UTF-8
 * are a 400, never silently turned into U+FFFD and stored. `__proto__` and `constructor.prototype`
 * keys are dropped like any unknown field.
 */
export function parseJsonBody(request: FastifyRequest, body: Buffer, done: (err: ApiError | null, body?: unknown) => void): void {
  const contentType = String(request.headers['content-type'] ?? '')
  const charset = CHARSET.exec(contentType)?.[1]?.toLowerCase()
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    done(errors.unsupportedMediaType(contentType))
    return
  }
  if (body.length === 0) {
    done(errors.invalidJson('the body is empty.'))
    return
  }
  let text: string
  try {
    text = utf8.decode(body)
  } catch {
    done(errors.invalidJson('the body is not valid UTF-8.'))
    return
  }
  try {
    done(null, sjson.parse(text, { protoAction: 'remove', constructorAction: 'remove' }))
  } catch (err) {
    done(errors.invalidJson(err instanceof Error ? err.message : 'unreadable.'))
  }
}

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'request_header_fields_too_large', 'The request headers are too large.'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request_timeout', 'The request took too long to arrive.'],
  HPE_HEADERS_TIMEOUT: [408, 'request_timeout', 'The request headers took too long to arrive.'],
}

/** Node's `clientError`: a request too broken to route. Answer with the envelope, then close. */
export function writeClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  const [status, code, message] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'bad_request', 'The request is malformed and cannot be read.']
  const body = JSON.stringify({ errors: [{ code, message }] })
  socket.end(
    [
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
      'content-type: application/json; charset=utf-8',
      `content-length: ${Buffer.byteLength(body)}`,
      `x-request-id: ${randomUUID()}`,
      'cache-control: no-store',
      'x-content-type-options: nosniff',
      'connection: close',
      '',
      body,
    ].join('\r\n'),
  )
}
