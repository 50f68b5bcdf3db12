import { randomUUID } from 'node:crypto'
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify'
import type { Config } from './config.ts'
import { EnvironmentService } from './domain/environments.ts'
import { errors } from './errors.ts'
import { registerAuth } from './http/auth.ts'
import { registerErrorHandler } from './http/error-handler.ts'
import { JSON_MEDIA_TYPES, parseJsonBody, writeClientError } from './http/json.ts'
import { type Limiter, registerRateLimit } from './http/rate-limit.ts'
import { consoleRoutes } from './http/routes/console.ts'
import { docsRoutes, registerOpenApi } from './http/routes/docs.ts'
import { environmentRoutes } from './http/routes/environments.ts'
import { type Clock, systemClock } from './ids.ts'
import type { Store } from './storage/store.ts'

export type AppConfig = Pick<Config, 'bodyLimit' | 'trustProxy' | 'tokenCacheMs' | 'logLevel'> & {
  publicUrl?: string | undefined
}



export interface AppOptions {
  store: Store
  config: AppConfig
  clock?: Clock
  /** `false` silences logging; a stream receives the JSON log lines instead of stdout. */
  logger?: false | { stream: NodeJS.WritableStream }
  /** Per-account rate limiter (C-6.1); undefined = no limit. */
  limiter?: Limiter | undefined
  /** Shown in the OpenAPI document. */
  version?: string
}

const SECRET_PARAM = /([?&][^=&]*(?:token|key|secret|password|auth)[^=&]*=)[^&]*/gi
const redactUrl = (url: string) => url.replace(SECRET_PARAM, '$1[redacted]')

/** A caller's X-Request-Id is kept when it is short and plain; otherwise a fresh one is made (C-6.2). */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/

/**
 * Builds the app and never listens (`server.ts` does). Plugins, then hooks, then routes, in this
 * fixed order; everything the app needs is passed in.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { store, config } = options
  const clock = options.clock ?? systemClock
  // URLs the router cannot even match (bad percent-encoding, an over-long segment) bypass hooks and
  // the error handler; they are routed here, authenticated like any /v1 path, and answered 404.
  let onFrameworkError: (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => void = () => {}
  const app = Fastify({
    frameworkErrors: (err, request, reply) => onFrameworkError(err, request, reply),
    // Requests Node cannot even parse (bad Content-Length, broken chunking, huge headers) still get
    // the envelope and the common headers, not Node's canned text.
    clientErrorHandler: writeClientError,
    logger: options.logger === false ? false : {
      ...(options.logger === undefined ? {} : { stream: options.logger.stream }),
      level: config.logLevel,
      // Tokens are secrets (C-1.6): never logged, even if a serializer starts logging headers, and
      // never through a URL a client built with the token in its query string.
      redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization'], censor: '[redacted]' },
      serializers: {
        req: (req: { method: string; url: string; id: string }) => ({ method: req.method, url: redactUrl(req.url), reqId: req.id }),
      },
    },
    // Slow clients: headers within 10 s, the whole request within 30 s, checked every second.
    http: { headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 1000 },
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID()
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // A body key like "__proto__" is just an unknown field: dropped, never an error, never a prototype.
    onProtoPoisoning: 'remove',
    onConstructorPoisoning: 'remove',
    // Body fields are checked as sent: 123 is not a name, "true" is not a boolean (C-4.2).
    ajv: { customOptions: { coerceTypes: false, allErrors: true, removeAdditional: false } },
    return503OnClosing: true,
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    keepAliveTimeout: 5_000,
  })

  // Every response says who it answers and is not cached or sniffed.
  const commonHeaders = (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('x-request-id', request.id)
    reply.header('x-content-type-options', 'nosniff')
    reply.header('cache-control', 'no-store')
  }
  app.addHook('onRequest', (request, reply, done) => {
    commonHeaders(request, reply)
    done()
  })

  // One JSON parser for `application/json` and `application/*+json`, parameters allowed (C-3.2);
  // everything else (text/plain included) is a 415.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(JSON_MEDIA_TYPES, { parseAs: 'buffer' }, parseJsonBody)

  const renderError = registerErrorHandler(app, config.bodyLimit)
  const gate = registerAuth(app, store, { cacheMs: config.tokenCacheMs, clock })
  registerRateLimit(app, options.limiter)
  onFrameworkError = (_err, request, reply) => {
    void (async () => {
      commonHeaders(request, reply)
      await gate(request)
      throw errors.routeNotFound(request.method, (request.url.split('?')[0] ?? '/').slice(0, 200))
    })().catch((err: FastifyError) => renderError(err, request, reply))
  }

  app.setNotFoundHandler(async (request) => {
    throw errors.routeNotFound(request.method, (request.url.split('?')[0] ?? '/').slice(0, 200))
  })

  app.get('/health', { config: { access: 'public' } }, async () => {
    await store.getAccount('000000000000000000000000')
    return { status: 'ok' }
  })

  await registerOpenApi(app, options.version ?? '0.0.0')
  await app.register(docsRoutes)
  await app.register(consoleRoutes)
  await app.register(environmentRoutes, {
    service: new EnvironmentService(store, clock),
    ...(config.publicUrl === undefined ? {} : { publicUrl: config.publicUrl }),
  })
  return app
}
