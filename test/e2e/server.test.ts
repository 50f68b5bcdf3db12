import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import LinkHeader from 'http-link-header'
import { assertSchema } from '../helpers/spec.ts'
import { api, startServer } from '../helpers/process.ts'

function tempDb(t: import('node:test').TestContext): { url: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'ioenv-e2e-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'ioenv.db')
  return { url: `sqlite:${file}`, file }
}

test('e2e: serve bootstraps an empty database once and answers real HTTP (C-5.2, C-4)', async (t) => {
  const db = tempDb(t)
  const server = await startServer(['--database-url', db.url])
  t.after(() => server.stop('SIGKILL'))
  assert.ok(server.token, `a token was printed:\n${server.output()}`)
  const token = server.token!

  const missing = await api(server.url, undefined, 'GET', '/v1/environments')
  assert.equal(missing.status, 401)
  assert.deepEqual(missing.json(), { message: 'Unauthorized' })
  assert.equal(missing.headers.get('www-authenticate'), 'Bearer')

  const created = await api(server.url, token, 'POST', '/v1/environments', { name: 'dev' })
  assert.equal(created.status, 201)
  assertSchema('environment', created.json())
  assert.equal(created.headers.get('location'), `${server.url}/v1/environments/${created.json()._id}`)

  const page = await api(server.url, token, 'GET', '/v1/environments?limit=1')
  assert.equal(page.status, 200)
  assertSchema('environments', page.json())
  const next = LinkHeader.parse(page.headers.get('link') ?? '').get('rel', 'next')[0]?.uri
  assert.equal(next, `${server.url}/v1/environments?limit=1&skip=1`)
  const second = await fetch(next!, { headers: { authorization: `Bearer ${token}` } })
  assert.equal(second.status, 200)
  assert.equal(((await second.json()) as Array<{ _id: string }>)[0]!._id, created.json()._id)
  assert.equal(second.headers.get('link'), null)

  const toggled = await api(server.url, token, 'PUT', `/v1/environments/${created.json()._id}/enable`)
  assert.equal(toggled.status, 204)
  assert.equal(toggled.text, '')

  assert.equal(await server.stop('SIGTERM'), 0, 'C-6 graceful shutdown exits 0')
  assert.doesNotMatch(server.output().replaceAll(token, ''), /ioe_/, 'the token is printed once, nowhere else')

  const again = await startServer(['--database-url', db.url])
  t.after(() => again.stop('SIGKILL'))
  assert.equal(again.token, undefined, 'no second bootstrap on a database that has an account')
  assert.equal((await api(again.url, token, 'GET', '/v1/environments')).json().length, 2, 'the data survived the restart')
})

test('e2e: --no-bootstrap starts on an empty database without an account', async (t) => {
  const db = tempDb(t)
  const server = await startServer(['--database-url', db.url, '--no-bootstrap'])
  t.after(() => server.stop('SIGKILL'))
  assert.equal(server.token, undefined)
  assert.doesNotMatch(server.output(), /ioe_/)
})

test('e2e: C-4.5: concurrent toggles through two processes on one SQLite file never lose a flip', async (t) => {
  const db = tempDb(t)
  const a = await startServer(['--database-url', db.url])
  t.after(() => a.stop('SIGKILL'))
  const b = await startServer(['--database-url', db.url])
  t.after(() => b.stop('SIGKILL'))
  const token = a.token!
  const env = (await api(a.url, token, 'POST', '/v1/environments', { name: 'shared' })).json()
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) => api(i % 2 ? a.url : b.url, token, 'PUT', `/v1/environments/${env._id}/enable`)),
  )
  assert.deepEqual([...new Set(results.map((r) => r.status))], [204])
  assert.equal((await api(b.url, token, 'GET', `/v1/environments/${env._id}`)).json().enabled, true, '50 flips: back to enabled')
  const more = await Promise.all(
    Array.from({ length: 25 }, (_, i) => api(i % 2 ? a.url : b.url, token, 'PUT', `/v1/environments/${env._id}/enable`)),
  )
  assert.deepEqual([...new Set(more.map((r) => r.status))], [204])
  assert.equal((await api(a.url, token, 'GET', `/v1/environments/${env._id}`)).json().enabled, false, '75 flips: disabled')
})
