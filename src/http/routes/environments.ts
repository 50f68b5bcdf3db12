import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import li from 'li'
import { Type } from 'typebox'
import type { EnvironmentService } from '../../domain/environments.ts'
import type { Apim, EnvironmentInput } from '../../domain/types.ts'
import { errors } from '../../errors.ts'
import { parseId } from '../../ids.ts'
import { principal } from '../auth.ts'
import {
  EnvironmentRequest,
  type EnvironmentRequestBody,
  EnvironmentResponse,
  ErrorEnvelope,
  IdParams,
  ListQuery,
  UnauthorizedBody,
} from '../schemas.ts'

export interface RouteOptions {
  service: EnvironmentService
  /** Base of absolute URLs in Link and Location; undefined = the request's own scheme and host. */
  publicUrl?: string
}

const DEFAULT_LIMIT = 1000

/** Paths of the reference and the methods each allows; anything else on them is a 405 (C-3.2). */
const ALLOWED = {
  '/v1/environments': ['GET', 'HEAD', 'POST'],
  '/v1/environments/:_id': ['GET', 'HEAD', 'PUT'],
  '/v1/environments/:_id/enable': ['PUT'],
} as const

const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

function baseUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  if (publicUrl !== undefined) return publicUrl.replace(/\/+$/, '')
  // Host and (behind --trust-proxy) X-Forwarded-Proto/-Host are the caller's own input: anything odd
  // falls back to a safe value, never into a URL.
  const host = HOST.test(request.host) ? request.host : 'localhost'
  const scheme = request.protocol === 'https' ? 'https' : 'http'
  return `${scheme}://${host}`
}

function envId(params: { _id: string }): string {
  // C-3.2: a malformed id is just an id that does not exist.
  const id = parseId(params._id)
  if (id === null) throw errors.notFound('Environment')
  return id
}

function toInput(body: EnvironmentRequestBody): EnvironmentInput {
  const input: EnvironmentInput = { name: body.name }
  if (body.description != null) input.description = body.description
  if (body.apim != null) {
    const apim: Apim = {}
    // Only the reference's keys are kept; unknown keys are ignored like unknown top-level fields.
    for (const key of ['environmentId', 'environmentHRID', 'groupId'] as const) {
      const value = body.apim[key]
      if (value != null) apim[key] = value
    }
    input.apim = apim
  }
  return input
}

/** A response schema with the description the OpenAPI document shows for that status. */
const described = <T extends object>(schema: T, description: string): T => ({ ...schema, description })

/** A 204 never has a body (C-3.3); Fastify drops the payload of a 204 whatever is passed. */
const NoContent = (description: string) => Type.Null({ description })

const errorResponses = {
  401: described(
    UnauthorizedBody,
    'Unauthorized: no token, or a bad, revoked or expired one. A bare `{"message": ...}` body, not the error envelope.',
  ),
  403: described(ErrorEnvelope, 'The token may not do this (only a full-access Production token may change environments).'),
  404: described(ErrorEnvelope, 'Not found. The requested resource does not exist or is not visible to the caller.'),
  422: described(ErrorEnvelope, 'Unprocessable entity. The request was well-formed but was unable to be followed due to semantic errors.'),
  429: described(ErrorEnvelope, 'Rate limited; `Retry-After` gives the seconds to wait.'),
}
const badRequest = (description: string) => described(ErrorEnvelope, description)
const TAGS = ['Environments']

export async function environmentRoutes(app: FastifyInstance, options: RouteOptions): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const { service } = options

  api.get(
    '/v1/environments',
    {
      config: { access: 'read' },
      schema: {
        operationId: 'listEnvironments',
        summary: 'List environments',
        description: 'Returns a list of all environments configured in the account.',
        tags: TAGS,
        querystring: ListQuery,
        response: {
          200: Type.Array(EnvironmentResponse, {
            description:
              'Successfully retrieved list of environments. While more pages remain, a `Link: <absolute-url>; rel="next"` header points to the next one.',
          }),
          204: NoContent('No environments on this page.'),
          400: badRequest('`limit` or `skip` is invalid (`invalid_query_params`).'),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { accountId } = principal(request)
      const limit = request.query.limit === undefined ? DEFAULT_LIMIT : Number(request.query.limit)
      const skip = request.query.skip === undefined ? 0 : Number(request.query.skip)
      const page = await service.list(accountId, { skip, limit })
      // Upstream answers an empty page with 204 and no body rather than `[]` (C-4.1).
      if (page.items.length === 0) return reply.code(204).send(null)
      if (page.hasMore) {
        const query = new URLSearchParams(request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '')
        query.set('skip', String(skip + limit))
        // Quoted `rel="next"` as upstream writes it, so clients that match the literal keep working.
        reply.header('link', li.stringify({ next: `${baseUrl(request, options.publicUrl)}/v1/environments?${query.toString()}` }))
      }
      return page.items
    },
  )

  api.post(
    '/v1/environments',
    {
      config: { access: 'write' },
      schema: {
        operationId: 'createEnvironment',
        summary: 'Create an environment',
        description: 'Creates a new environment configuration.',
        tags: TAGS,
        body: EnvironmentRequest,
        response: {
          201: described(EnvironmentResponse, 'environment created successfully'),
          400: badRequest('The body is not valid JSON.'),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const env = await service.create(principal(request).accountId, toInput(request.body))
      reply.header('location', `${baseUrl(request, options.publicUrl)}/v1/environments/${env._id}`)
      return reply.code(201).send(env)
    },
  )

  api.get(
    '/v1/environments/:_id',
    {
      config: { access: 'read' },
      schema: {
        operationId: 'getEnvironment',
        summary: 'Get an environment',
        description: 'Retrieve a single environment by its id.',
        tags: TAGS,
        params: IdParams,
        response: { 200: described(EnvironmentResponse, 'Successfully retrieved environment'), ...errorResponses },
      },
    },
    async (request) => service.get(principal(request).accountId, envId(request.params)),
  )

  api.put(
    '/v1/environments/:_id',
    {
      config: { access: 'write' },
      schema: {
        operationId: 'updateEnvironment',
        summary: 'Update an environment',
        description: "Replace an environment's mutable fields.",
        tags: TAGS,
        params: IdParams,
        body: EnvironmentRequest,
        response: {
          200: described(EnvironmentResponse, 'environment updated successfully'),
          400: badRequest('The body is not valid JSON.'),
          ...errorResponses,
        },
      },
    },
    async (request) => service.replace(principal(request).accountId, envId(request.params), toInput(request.body)),
  )

  // The toggle takes no body (C-4.5: "any request body is ignored"), and neither do 405 answers, so
  // they live in a scope whose only content-type parser drains and discards whatever is sent.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers()
    // The body is read to its end and dropped before the handler runs: a toggle whose request is
    // broken or abandoned halfway (bad chunking, a dropped connection) must change nothing.
    scope.addContentTypeParser('*', (_request, payload, done) => {
      let settled = false
      const finish = (err: Error | null) => {
        if (settled) return
        settled = true
        done(err, undefined)
      }
      payload.on('data', () => {})
      payload.once('end', () => finish(null))
      payload.once('error', (err: Error) => finish(err))
      payload.once('aborted', () => finish(errors.badRequest('The request body was not completely received.')))
    })
    const typed = scope.withTypeProvider<TypeBoxTypeProvider>()

    typed.put(
      '/v1/environments/:_id/enable',
      {
        config: { access: 'write' },
        schema: {
          operationId: 'toggleEnvironment',
          summary: 'Toggle an environment on or off',
          description:
            'Toggles the enabled state of a specific environment. If the environment is\ncurrently disabled it becomes enabled, and vice versa. Returns 204 on success.\n\n' +
            'The Production environment cannot be disabled — attempting to toggle it off\nreturns a 400 error. If the environment has pending user invitations, a 422\n' +
            'error is returned requesting that invitations be resolved before disabling.\n\nNo request body is required.',
          tags: TAGS,
          params: IdParams,
          response: {
            204: NoContent('Environment state toggled successfully (no body returned).'),
            400: badRequest('The Production environment cannot be disabled.'),
            ...errorResponses,
            404: described(ErrorEnvelope, 'Environment not found for the given id.'),
            422: described(
              ErrorEnvelope,
              'The environment has pending user invitations that must be resolved\nbefore it can be disabled (or no license is free to enable it).',
            ),
          },
        },
      },
      async (request, reply) => {
        await service.toggle(principal(request).accountId, envId(request.params))
        return reply.code(204).send(null)
      },
    )

    for (const [url, allowed] of Object.entries(ALLOWED)) {
      const others = [...scope.supportedMethods].filter((m) => !(allowed as readonly string[]).includes(m))
      scope.route({
        method: others,
        url,
        handler: async (request: FastifyRequest, _reply: FastifyReply) => {
          throw errors.methodNotAllowed(request.method, allowed)
        },
      })
    }
  })
}
