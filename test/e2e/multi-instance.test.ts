import assert from 'node:assert/strict'
import { test } from 'node:test'
import { freshDatabase } from '../helpers/dialects.ts'
import { api, ioenv, startServer, type ServerProcess } from '../helpers/process.ts'

/**
 * Several stateless instances on one PostgreSQL (and one Redis): every rule must hold when requests
 * for one account land on different processes (issue 3).
 */
const REDIS_URL = process.env.TEST_REDIS_URL

async function pair(t: import('node:test').TestContext, url: string, args: string[] = []): Promise<[ServerProcess, ServerProcess]> {
  // both start at once on the same (maybe empty) schema: migrations and bootstrap must not collide
  const servers = await Promise.all([startServer(['--database-url', url, ...args]), startServer(['--database-url', url, ...args])])
  for (const s of servers) t.after(() => s.stop('SIGKILL'))
  return servers
}

test('[postgres] two instances: one migration, one bootstrap, exact toggle parity, limits, revocation, graceful stop', async (t) => {
  const db = await freshDatabase('postgres')
  const [a, b] = await pair(t, db.url)
  const tokens = [a.token, b.token].filter((x) => x !== undefined)
  assert.equal(tokens.length, 1, `exactly one instance bootstrapped:\n${a.output()}\n${b.output()}`)
  const token = tokens[0]!

  // 200 concurrent toggles split across both instances leave the exact parity (C-4.5)
  const env = (await api(a.url, token, 'POST', '/v1/environments', { name: 'shared' })).json()
  const toggles = await Promise.all(
    Array.from({ length: 200 }, (_, i) => api(i % 2 ? a.url : b.url, token, 'PUT', `/v1/environments/${env._id}/enable`)),
  )
  assert.deepEqual([...new Set(toggles.map((r) => r.status))], [204])
  assert.equal((await api(b.url, token, 'GET', `/v1/environments/${env._id}`)).json().enabled, true)
  const odd = await Promise.all(
    Array.from({ length: 101 }, (_, i) => api(i % 2 ? a.url : b.url, token, 'PUT', `/v1/environments/${env._id}/enable`)),
  )
  assert.deepEqual([...new Set(odd.map((r) => r.status))], [204])
  assert.equal((await api(a.url, token, 'GET', `/v1/environments/${env._id}`)).json().enabled, false)

  // 100 concurrent creates across both never exceed maxEnvironments (C-4.2)
  const acct = ioenv(['accounts', 'create', '--name', 'Small', '--max-environments', '30', '--licenses', '5', '--database-url', db.url])
  assert.equal(acct.status, 0, acct.stderr)
  const small = acct.json()
  const creates = await Promise.all(
    Array.from({ length: 100 }, (_, i) => api(i % 2 ? a.url : b.url, small.token, 'POST', '/v1/environments', { name: `e${i}` })),
  )
  assert.equal(creates.filter((r) => r.status === 201).length, 29, 'Production + 29 = 30')
  assert.equal(creates.filter((r) => r.status === 422 && r.json().errors[0].code === 'limit_exceeded').length, 71)
  const listed = (await api(b.url, small.token, 'GET', '/v1/environments')).json() as Array<{ enabled: boolean }>
  assert.equal(listed.length, 30)
  assert.equal(listed.filter((e) => e.enabled).length, 5, 'licenses hold across instances')

  // invitations created and resolved while toggles are in flight on both instances: every toggle
  // either saw the invitation pending (422) or not (204), and the final state matches the 204s
  const inv = ioenv(['invitations', 'create', '--environment', env._id, '--email', 'x@example.com', '--database-url', db.url]).json()
  await api(a.url, token, 'PUT', `/v1/environments/${env._id}/enable`) // enable: never blocked by invitations
  // toggles keep flowing through both instances before, during and after the dismissal
  let dismissed = false
  let afterDismissal = 0
  const raced: Array<Awaited<ReturnType<typeof api>>> = []
  const workers = [a, b].map(async (s) => {
    while (!dismissed || afterDismissal < 10) {
      const wasDismissed = dismissed
      raced.push(await api(s.url, token, 'PUT', `/v1/environments/${env._id}/enable`))
      if (wasDismissed) afterDismissal++
    }
  })
  await new Promise((r) => setTimeout(r, 50))
  const { spawn } = await import('node:child_process')
  const { BIN, ROOT } = await import('../helpers/process.ts')
  await new Promise((r) => spawn(process.execPath, [BIN, 'invitations', 'dismiss', inv._id, '--database-url', db.url], { cwd: ROOT }).on('exit', r))
  dismissed = true
  await Promise.all(workers)
  for (const r of raced) {
    assert.ok(r.status === 204 || (r.status === 422 && r.json().errors[0].code === 'pending_invitations'), `${r.status} ${r.text}`)
  }
  assert.ok(raced.some((r) => r.status === 422), 'some toggles met the pending invitation')
  const flips = raced.filter((r) => r.status === 204).length
  assert.equal((await api(b.url, token, 'GET', `/v1/environments/${env._id}`)).json().enabled, flips % 2 === 0)
  assert.ok(flips > 0, 'toggles went through once the invitation was dismissed')
  assert.equal((await api(a.url, token, 'PUT', `/v1/environments/${env._id}/enable`)).status, 204, 'and stay unblocked')

  // a token revoked through the operator command is refused by both within 5 s (C-5.4)
  const created = ioenv(['tokens', 'create', '--account', small.account._id, '--database-url', db.url]).json()
  for (const s of [a, b]) assert.equal((await api(s.url, created.token, 'GET', '/v1/environments')).status, 200)
  assert.equal(ioenv(['tokens', 'revoke', created._id, '--database-url', db.url]).status, 0)
  const revokedAt = Date.now()
  for (const s of [a, b]) {
    while ((await api(s.url, created.token, 'GET', '/v1/environments')).status !== 401) {
      assert.ok(Date.now() - revokedAt < 5000, 'refused within 5 s')
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  // graceful shutdown: in-flight requests finish, the process exits 0, and every 201 is stored
  const inflight = Array.from({ length: 30 }, (_, i) =>
    api(a.url, token, 'POST', '/v1/environments', { name: `late${i}` }).then(
      (r) => r.status,
      () => 'refused',
    ),
  )
  await new Promise((r) => setTimeout(r, 5))
  const code = await a.stop('SIGTERM')
  const statuses = await Promise.all(inflight)
  assert.equal(code, 0)
  assert.ok(statuses.every((s) => s === 201 || s === 503 || s === 'refused'), statuses.join(','))
  const stored = (await api(b.url, token, 'GET', '/v1/environments')).json() as Array<{ name: string }>
  assert.equal(stored.filter((e) => e.name.startsWith('late')).length, statuses.filter((s) => s === 201).length)
})

test('[postgres] two instances with Redis enforce one shared rate limit (C-6.1)', { skip: REDIS_URL === undefined && 'NO REDIS: set TEST_REDIS_URL or put redis-server on PATH' }, async (t) => {
  const db = await freshDatabase('postgres')
  const [a, b] = await pair(t, db.url, ['--redis-url', REDIS_URL!, '--rate-limit-burst', '20', '--rate-limit-refill', '0.01'])
  const token = (a.token ?? b.token)!
  const results = await Promise.all(
    Array.from({ length: 60 }, (_, i) => api(i % 2 ? a.url : b.url, token, 'GET', '/v1/environments')),
  )
  assert.equal(results.filter((r) => r.status === 200).length, 20, 'one bucket of 20 between both')
  const limited = results.filter((r) => r.status === 429)
  assert.equal(limited.length, 40)
  assert.match(limited[0]!.headers.get('retry-after') ?? '', /^\d+$/)
  assert.equal(limited[0]!.json().errors[0].code, 'rate_limited')
})
