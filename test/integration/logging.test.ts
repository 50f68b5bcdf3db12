import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { test } from 'node:test'
import { buildApp } from '../../src/app.ts'
import { createAccount } from '../../src/domain/admin.ts'
import { freshDatabase, openStore } from '../helpers/dialects.ts'

test('secrets never reach the log: Authorization is not logged, token-like query parameters are masked', async (t) => {
  const db = await freshDatabase('sqlite')
  const store = await openStore(db.url)
  const lines: string[] = []
  const stream = new PassThrough()
  stream.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)))
  const app = await buildApp({
    store,
    logger: { stream },
    config: { bodyLimit: 1 << 20, trustProxy: false, tokenCacheMs: 0, logLevel: 'trace' },
  })
  t.after(async () => {
    await app.close()
    await store.close()
    await db.dispose()
  })
  const { token } = (await createAccount(store, { name: 'log' }))!
  await app.inject({ url: `/v1/environments?access_token=${token}&limit=5`, headers: { authorization: `Bearer ${token}` } })
  await app.inject({ url: '/v1/environments', headers: { authorization: `Bearer ${token}x` } })
  await app.inject({ method: 'POST', url: '/v1/environments', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: '{"name":' })
  await new Promise((r) => setImmediate(r))
  const log = lines.join('\n')
  assert.ok(lines.length >= 6, `requests were logged:\n${log}`)
  assert.ok(log.includes('access_token=[redacted]&limit=5'), log)
  assert.equal(log.includes(token), false, 'the token appears nowhere in the log')
  assert.equal(log.includes(token.slice(4, 20)), false)
})
