import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible'
import { errors } from '../errors.ts'

export interface RateLimitOptions {
  /** Requests an idle account may send at once; 0 turns limiting off (C-6.1). */
  burst: number
  /** Long-run requests per second per account. */
  refill: number
  /** Shared store for several instances; undefined = this process only. */
  redis?: Redis
  /** Key namespace in the shared store (tests use their own). */
  prefix?: string
}

/**
 * Per-account rate limit (C-6.1), on rate-limiter-flexible: in-process by default, shared through
 * Redis (one atomic Lua call per request) when several instances serve the same accounts. The limit
 * is `burst` requests per window of burst/refill seconds (whole seconds, at least one), so an idle
 * account can send `burst` at once and sustains about `refill` per second.
 */
export function createLimiter(options: RateLimitOptions): RateLimiterAbstract | undefined {
  if (options.burst === 0) return undefined
  const duration = Math.max(1, Math.round(options.burst / options.refill))
  const common = { points: options.burst, duration, keyPrefix: options.prefix ?? 'ioenv:rl' }
  return options.redis === undefined
    ? new RateLimiterMemory(common)
    : new RateLimiterRedis({ ...common, storeClient: options.redis, useRedisPackage: false, rejectIfRedisNotReady: true })
}

export function registerRateLimit(app: FastifyInstance, limiter: RateLimiterAbstract | undefined): void {
  if (limiter === undefined) return
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const accountId = request.principal?.accountId
    if (accountId === undefined) return
    try {
      await limiter.consume(accountId)
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        throw errors.rateLimited(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)))
      }
      // The shared store is unreachable: refuse clearly rather than run unlimited (see README).
      request.log.warn({ err: rejection }, 'rate limit store unavailable')
      throw errors.serviceUnavailable('The rate limit store is unavailable; retry shortly.')
    }
  })
}
