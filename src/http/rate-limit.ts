import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import { errors } from '../errors.ts'

/**
 * Per-account rate limit (C-6.1): a token bucket of `burst` requests refilled at `refill` per second.
 *
 * It is kept as GCRA, the token bucket's one-number form: per account, the "theoretical arrival
 * time" (TAT) at which the bucket would be full again. A request is allowed when the bucket holds at
 * least one token (TAT − capacity·interval ≤ now) and pushes TAT one interval further. One key, one
 * atomic step, exact burst and refill, and the wait until the next token falls out of the same sum.
 *
 * Why not a library: rate-limiter-flexible, @fastify/rate-limit and express-rate-limit count fixed
 * windows (a burst plus a window of the same size right after it passes twice the burst, and a burst
 * smaller than the refill caps the rate at the burst); the token-bucket libraries either keep state
 * in memory only or speak Upstash's HTTP API rather than Redis. The Lua below is the whole of it.
 */
export interface Limiter {
  /** Takes one token; returns 0 when allowed, else the milliseconds until a token is available. */
  take(key: string): Promise<number>
}

export interface RateLimitOptions {
  /** Bucket size: requests an idle account may send at once; 0 turns limiting off. */
  burst: number
  /** Tokens added per second. */
  refill: number
  /** Shared store for several instances; undefined = this process only. */
  redis?: Redis
  /** Key namespace in the shared store (tests use their own). */
  prefix?: string
}

const GCRA_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local allowAt = tat + interval - capacity * interval
if allowAt > now then return tostring(allowAt - now) end
local newTat = tat + interval
redis.call('SET', KEYS[1], string.format('%.3f', newTat), 'PX', math.ceil(newTat - now) + 1)
return '0'
`

type RedisWithGcra = Redis & { ioenvGcra(key: string, interval: number, capacity: number): Promise<string> }

export function createLimiter(options: RateLimitOptions): Limiter | undefined {
  if (options.burst === 0) return undefined
  const interval = 1000 / options.refill
  const capacity = options.burst
  const prefix = options.prefix ?? 'ioenv:rl:'

  if (options.redis !== undefined) {
    const redis = options.redis as RedisWithGcra
    if (typeof redis.ioenvGcra !== 'function') redis.defineCommand('ioenvGcra', { numberOfKeys: 1, lua: GCRA_LUA })
    return { take: async (key) => Number(await redis.ioenvGcra(prefix + key, interval, capacity)) }
  }

  // In-process: the same arithmetic. Keys whose bucket is full again are equivalent to absent, so
  // the LRU bound only ever forgets accounts that are not being limited.
  const tats = new LRUCache<string, number>({ max: 100_000 })
  return {
    take: async (key) => {
      const now = performance.timeOrigin + performance.now()
      const tat = Math.max(tats.get(key) ?? 0, now)
      const allowAt = tat + interval - capacity * interval
      if (allowAt > now) return allowAt - now
      tats.set(key, tat + interval)
      return 0
    },
  }
}

export function registerRateLimit(app: FastifyInstance, limiter: Limiter | undefined): void {
  if (limiter === undefined) return
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const accountId = request.principal?.accountId
    if (accountId === undefined) return
    let waitMs: number
    try {
      waitMs = await limiter.take(accountId)
    } catch (err) {
      // The shared store is unreachable: refuse clearly rather than run unlimited (see README).
      request.log.warn({ err }, 'rate limit store unavailable')
      throw errors.serviceUnavailable('The rate limit store is unavailable; retry shortly.')
    }
    if (waitMs > 0) throw errors.rateLimited(Math.max(1, Math.ceil(waitMs / 1000)))
  })
}
