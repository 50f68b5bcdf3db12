import assert from 'node:assert/strict'
import net from 'node:net'
import { test } from 'node:test'
import { buildApp } from '../../src/app.ts'
import { KyselyStore } from '../../src/storage/kysely-store.ts'
import { isUnavailableError } from '../../src/storage/errors.ts'
import { assertError, checkAgainstReference } from '../helpers/app.ts'

/** A port where nothing listens. */
async function deadPort(): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const { port } = srv.address() as net.AddressInfo
  await new Promise((r) => srv.close(r))
  return port
}

test('[postgres] an unreachable database is a clear 503 service_unavailable, never a 500 or a hang', async (t) => {
  const port = await deadPort()
  const store = await KyselyStore.open({ dialect: 'postgres', url: `postgres://postgres@127.0.0.1:${port}/postgres` }, { migrate: false })
  const app = await buildApp({ store, logger: false, config: { bodyLimit: 1 << 20, trustProxy: false, tokenCacheMs: 0, logLevel: 'silent' } })
  t.after(async () => {
    await app.close()
    await store.close()
  })
  for (const [method, url] of [
    ['GET', '/v1/environments'],
    ['PUT', '/v1/environments/ffffffffffffffffffffffff/enable'],
  ] as const) {
    const res = await app.inject({ method, url, headers: { authorization: 'Bearer ioe_something' } })
    checkAgainstReference(res)
    assertError(res, 503, ['service_unavailable'])
    assert.equal(res.headers['retry-after'], '1')
  }
  const health = await app.inject({ url: '/health' })
  assertError(health, 503, ['service_unavailable'])
})

test('which database errors are "try again" (503) and which are faults (500)', () => {
  for (const err of [
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
    Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
    Object.assign(new Error('sorry, too many clients already'), { code: '53300' }),
    Object.assign(new Error('connection failure'), { code: '08006' }),
    new Error('Connection terminated unexpectedly'),
    new Error('timeout exceeded when trying to connect'),
    Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }),
    new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]),
  ]) {
    assert.equal(isUnavailableError(err), true, err.message)
  }
  for (const err of [
    new Error('boom'),
    Object.assign(new Error('syntax error'), { code: '42601' }),
    Object.assign(new Error('duplicate key'), { code: '23505' }),
    Object.assign(new Error('SQLITE_CORRUPT'), { code: 'SQLITE_CORRUPT' }),
    null,
    'string',
  ]) {
    assert.equal(isUnavailableError(err), false, String(err))
  }
})
