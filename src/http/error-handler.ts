import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ApiError, AuthError, type ErrorItem, errors } from '../errors.ts'
import { isUnavailableError } from '../storage/errors.ts'
import { DESCRIPTION_MAX, NAME_MAX } from './schemas.ts'

/**
 * The one place errors become responses (C-3). Domain code throws ApiError/AuthError; framework
 * errors (parsing, body limits, schema validation) are translated here into the same catalogue.
 */

const FIELD_MESSAGES: Record<string, string> = {
  name: `name must be a non-blank string of at most ${NAME_MAX} characters.`,
  description: `description must be a string of at most ${DESCRIPTION_MAX} characters.`,
  apim: 'apim must be an object whose values are strings.',
}
const fieldMessage = (field: string) => FIELD_MESSAGES[field] ?? `${field} must be a string.`

interface AjvError {
  instancePath: string
  keyword: string
  params: Record<string, unknown>
}

const pathToField = (instancePath: string) =>
  instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.')

function valueAt(body: unknown, field: string): unknown {
  let v: unknown = body
  for (const key of field.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined
  return v
}

/** Ajv errors of a request body -> one 422 with every bad field once (C-3.1, C-4.2). */
export function bodyValidationError(validation: readonly AjvError[], body: unknown): ApiError {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return errors.validation([{ code: 'invalid_body', message: 'The request body must be a JSON object.' }])
  }
  const fieldOf = (e: AjvError) =>
    e.keyword === 'required'
      ? [pathToField(e.instancePath), String(e.params.missingProperty)].filter(Boolean).join('.')
      : pathToField(e.instancePath)
  const fields = validation.filter((e) => e.keyword !== 'anyOf').map(fieldOf)
  const items = new Map<string, ErrorItem>()
  for (const field of fields) {
    // A nullable object fails both of its branches; report the deepest problem, not its parent too.
    if (items.has(field) || fields.some((f) => f.startsWith(`${field}.`))) continue
    const value = valueAt(body, field)
    items.set(
      field,
      value === undefined || value === null
        ? { code: 'missing_required_field', message: `${field} is required.`, field }
        : { code: 'invalid_field', message: fieldMessage(field), field },
    )
  }
  return errors.validation([...items.values()])
}

export function queryValidationError(validation: readonly AjvError[]): ApiError {
  const fields = new Set(validation.map((e) => pathToField(e.instancePath)))
  return errors.invalidQueryParams(
    [...fields].map((field) => ({
      field,
      message:
        field === 'limit'
          ? 'limit must be a whole number from 1 to 1000.'
          : field === 'skip'
            ? 'skip must be a whole number of 0 or more.'
            : `${field} is invalid.`,
    })),
  )
}

const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  431: 'request_header_fields_too_large',
}

export function toApiError(err: FastifyError, request: FastifyRequest, bodyLimit: number): ApiError {
  if (err instanceof ApiError) return err
  if (err.validation !== undefined) {
    return err.validationContext === 'querystring'
      ? queryValidationError(err.validation as AjvError[])
      : bodyValidationError(err.validation as AjvError[], request.body)
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errors.payloadTooLarge(bodyLimit)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errors.unsupportedMediaType(String(request.headers['content-type'] ?? ''))
  }
  if (isUnavailableError(err)) return errors.serviceUnavailable()
  const status = err.statusCode ?? 500
  if (status >= 400 && status < 500) {
    return new ApiError(status, [{ code: STATUS_CODES[status] ?? 'bad_request', message: safeMessage(err.message) }])
  }
  return errors.internal()
}

/** Framework 4xx messages are fixed strings, but never echo more than a line of them. */
const safeMessage = (m: string) => (m.length > 0 ? m.split('\n')[0]!.slice(0, 200) : 'Bad request.')

export function registerErrorHandler(
  app: FastifyInstance,
  bodyLimit: number,
): (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => FastifyReply {
  const render = (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof AuthError) {
      // C-2.3: the bare upstream 401 body, no envelope.
      return reply.code(401).header('www-authenticate', 'Bearer').send({ message: err.message })
    }
    const apiError = toApiError(err, request, bodyLimit)
    if (apiError.statusCode === 503) request.log.warn({ err }, 'dependency unavailable')
    else if (apiError.statusCode >= 500) request.log.error({ err }, 'request failed')
    return reply.code(apiError.statusCode).headers(apiError.headers).send({ errors: apiError.errors })
  }
  app.setErrorHandler(render)
  return render
}
