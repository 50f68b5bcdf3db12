import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Redis } from 'ioredis'
import { createLimiter } from '../../src/http/rate-limit.ts'
import { assertError, build } from '../helpers/app.ts'
import { DIALECTS, freshDatabase } from '../helpers/dialects.ts'

const REDIS_URL = process.env.TEST_REDIS_URL

function redisClient(t: import('node:test').TestContext, url: string): Redis {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true })
  redis.on('error', () => {})
  t.after(() => redis.disconnect())
  return redis
}

for (const dialect of DIALECTS) {
  describe(`[${dialect}] rate limit per account (C-6.1)`, () => {
    test(`[${dialect}] an empty bucket is 429 with Retry-After and the rate_limited envelope`, async (t) => {
      const h = await build(t, dialect, { limiter: createLimiter({ burst: 5, refill: 0.5 }) })
      for (let i = 0; i < 5; i++) assert.equal((await h.request({ url: '/v1/environments' })).statusCode, 200)
      const limited = await h.request({ url: '/v1/environments' })
      assertError(limited, 429, ['rate_limited'])
      const retryAfter = Number(limited.headers['retry-after'])
      assert.equal(retryAfter, 2, 'one token every 2 s')
      assert.equal(limited.json().errors[0].message, `Too many requests. Retry after ${retryAfter} seconds.`)
      // writes are limited too, and nothing is stored
      assertError(await h.request({ method: 'POST', url: '/v1/environments', body: { name: 'x' } }), 429, ['rate_limited'])
      // another account has its own bucket; requests without a valid token are not counted against anyone
      const other = await h.newAccount()
      assert.equal((await h.request({ url: '/v1/environments', token: other.token })).statusCode, 200)
      assert.equal((await h.request({ url: '/v1/environments', token: 'nope' })).statusCode, 401)
    })

    test(`[${dialect}] the bucket refills at its rate, one token at a time`, async (t) => {
      const h = await build(t, dialect, { limiter: createLimiter({ burst: 2, refill: 4 }) })
      assert.equal((await h.request({ url: '/v1/environments' })).statusCode, 200)
      assert.equal((await h.request({ url: '/v1/environments' })).statusCode, 200)
      const limited = await h.request({ url: '/v1/environments' })
      assert.equal(limited.statusCode, 429)
      assert.equal(limited.headers['retry-after'], '1', 'a token comes within 250 ms: rounded up to 1 s')
      await new Promise((r) => setTimeout(r, 300))
      assert.equal((await h.request({ url: '/v1/environments' })).statusCode, 200, 'one token refilled')
      assert.equal((await h.request({ url: '/v1/environments' })).statusCode, 429, 'only one')
      await new Promise((r) => setTimeout(r, 600))
      assert.equal((await h.request({ url: '/v1/environments' })).statusCode, 200)
      assert.equal((await h.request({ url: '/v1/environments' })).statusCode, 200, 'two tokens after 500+ ms, no more than the burst')
      assert.equal((await h.request({ url: '/v1/environments' })).statusCode, 429)
    })

    test(`[${dialect}] Retry-After is the wait for the next token, in whole seconds`, async (t) => {
      const h = await build(t, dialect, { limiter: createLimiter({ burst: 1, refill: 0.25 }) })
      assert.equal((await h.request({ url: '/v1/environments' })).statusCode, 200)
      const limited = await h.request({ url: '/v1/environments' })
      assertError(limited, 429, ['rate_limited'])
      assert.equal(limited.headers['retry-after'], '4')
      assert.equal(limited.json().errors[0].message, 'Too many requests. Retry after 4 seconds.')
    })

    test(`[${dialect}] a burst of 0 turns limiting off`, async (t) => {
      const h = await build(t, dialect, { limiter: createLimiter({ burst: 0, refill: 1 }) })
      const statuses = await Promise.all(Array.from({ length: 60 }, () => h.request({ url: '/v1/environments' })))
      assert.ok(statuses.every((r) => r.statusCode === 200))
    })

    test(`[${dialect}] with Redis, two instances share one limit, not one each`, { skip: REDIS_URL === undefined && 'NO REDIS (set TEST_REDIS_URL or put redis-server on PATH)' }, async (t) => {
      const db = await freshDatabase(dialect)
      t.after(() => db.dispose())
      const prefix = `${Math.random()}`
      const make = () => {
        const redis = redisClient(t, REDIS_URL!)
        return redis.connect().then(() => createLimiter({ burst: 10, refill: 0.001, redis, prefix }))
      }
      const a = await build(t, dialect, { databaseUrl: db.url, limiter: await make() })
      const b = await build(t, dialect, { databaseUrl: db.url, limiter: await make() })
      const token = a.account.token
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).request({ url: '/v1/environments', token })),
      )
      assert.equal(results.filter((r) => r.statusCode === 200).length, 10)
      assert.equal(results.filter((r) => r.statusCode === 429).length, 20)
    })

    test(`[${dialect}] an unreachable Redis is a clear 503, and service resumes when it is back`, { skip: REDIS_URL === undefined && 'NO REDIS (set TEST_REDIS_URL or put redis-server on PATH)' }, async (t) => {
      const redis = redisClient(t, REDIS_URL!)
      await redis.connect()
      const h = await build(t, dialect, { limiter: createLimiter({ burst: 100, refill: 10, redis, prefix: `${Math.random()}` }) })
      assert.equal((await h.request({ url: '/v1/environments' })).statusCode, 200)
      // The server drops our connection (as on a Redis restart); ioredis reconnects by itself.
      const id = await redis.client('ID')
      const killer = redisClient(t, REDIS_URL!)
      await killer.connect()
      await killer.client('KILL', 'ID', String(id))
      for (let i = 0; i < 50 && redis.status === 'ready'; i++) await new Promise((r) => setTimeout(r, 10))
      const down = await h.request({ url: '/v1/environments' })
      assertError(down, 503, ['service_unavailable'])
      assert.equal(down.headers['retry-after'], '1')
      for (let i = 0; i < 50 && redis.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 100))
      assert.equal((await h.request({ url: '/v1/environments' })).statusCode, 200)
    })
  })
}
