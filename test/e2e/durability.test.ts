import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import SqliteDatabase from 'better-sqlite3'
import { startEmbeddedPostgres } from '../../scripts/services.mjs'
import { api, startServer, type ServerProcess } from '../helpers/process.ts'

interface Ledger {
  created: Set<string>
  /** per environment: toggles acknowledged (204) and toggles whose outcome is unknown */
  toggles: Map<string, { acked: number; unknown: number }>
  /** per environment: the names a 200 PUT acknowledged, in order, and the ones in doubt */
  names: Map<string, { acked: string[]; unknown: string[] }>
}

/** A steady mixed stream of creates, toggles and replaces, recording what was acknowledged. */
function writeStream(server: ServerProcess, token: string, envs: string[], ledger: Ledger, round: number): { stop(): Promise<void> } {
  let running = true
  const workers = Array.from({ length: 8 }, async (_, w) => {
    for (let i = 0; running; i++) {
      const env = envs[(w + i) % envs.length]!
      const kind = (w + i) % 3
      try {
        if (kind === 0) {
          const r = await api(server.url, token, 'POST', '/v1/environments', { name: `r${round}-${w}-${i}` })
          if (r.status === 201) ledger.created.add(r.json()._id)
        } else if (kind === 1) {
          const t = ledger.toggles.get(env)!
          t.unknown++
          const r = await api(server.url, token, 'PUT', `/v1/environments/${env}/enable`)
          t.unknown--
          if (r.status === 204) t.acked++
        } else {
          const name = `n${round}-${w}-${i}`
          const n = ledger.names.get(env)!
          n.unknown.push(name)
          const r = await api(server.url, token, 'PUT', `/v1/environments/${env}`, { name })
          if (r.status === 200) {
            n.unknown.splice(n.unknown.indexOf(name), 1)
            n.acked.push(name)
          }
        }
      } catch {
        return // the server went away; what was in flight stays "unknown"
      }
    }
  })
  return {
    async stop() {
      running = false
      await Promise.all(workers)
    },
  }
}

test('e2e: C-6.3: under a steady stream of writes, kill -9 again and again loses nothing acknowledged', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ioenv-kill-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'ioenv.db')
  let server = await startServer(['--database-url', `sqlite:${file}`])
  const token = server.token!
  // toggled environments are separate from the renamed ones, so each has one kind of write in doubt
  const envs: string[] = []
  for (let i = 0; i < 4; i++) envs.push((await api(server.url, token, 'POST', '/v1/environments', { name: `base${i}` })).json()._id)
  const ledger: Ledger = { created: new Set(), toggles: new Map(envs.map((e) => [e, { acked: 0, unknown: 0 }])), names: new Map(envs.map((e) => [e, { acked: [], unknown: [] }])) }

  for (let round = 0; round < 5; round++) {
    const stream = writeStream(server, token, envs, ledger, round)
    await new Promise((r) => setTimeout(r, 150 + round * 50))
    await server.stop('SIGKILL')
    await stream.stop()
    server = await startServer(['--database-url', `sqlite:${file}`])
    assert.equal(server.token, undefined, 'a restart never bootstraps again')

    const listed = (await api(server.url, token, 'GET', '/v1/environments')).json() as Array<{ _id: string; enabled: boolean; name: string }>
    const byId = new Map(listed.map((e) => [e._id, e]))
    for (const id of ledger.created) assert.ok(byId.has(id), `round ${round}: acknowledged create ${id} survived`)
    for (const env of envs) {
      const { acked, unknown } = ledger.toggles.get(env)!
      const flips = byId.get(env)!.enabled ? 0 : 1 // started enabled
      // the number of applied toggles lies in [acked, acked + unknown]: its parity must fit
      const possible = Array.from({ length: unknown + 1 }, (_, k) => (acked + k) % 2)
      assert.ok(possible.includes(flips), `round ${round}: ${env} enabled=${byId.get(env)!.enabled} with ${acked} acknowledged and ${unknown} unknown toggles`)
      // a toggle in doubt settles now: read it back and count it as acknowledged from here on
      ledger.toggles.set(env, { acked: flips === acked % 2 ? acked : acked + 1, unknown: 0 })
      const names = ledger.names.get(env)!
      const last = names.acked.at(-1)
      if (last !== undefined) {
        const name = byId.get(env)!.name
        assert.ok(name === last || names.unknown.includes(name), `round ${round}: ${env} is named ${name}, acknowledged last: ${last}`)
        names.acked.push(name)
        names.unknown = []
      }
    }
  }
  t.after(() => server.stop('SIGKILL'))
  assert.ok(ledger.created.size > 20, `writes were acknowledged between kills (${ledger.created.size})`)
  await server.stop('SIGTERM')
  const sqlite = new SqliteDatabase(file, { readonly: true })
  assert.equal(sqlite.pragma('integrity_check', { simple: true }), 'ok')
  assert.deepEqual(sqlite.pragma('foreign_key_check'), [])
  sqlite.close()
})

test('e2e: PostgreSQL restarted underneath a running server: clean 503s, then recovery without a restart', async (t) => {
  const pg = await startEmbeddedPostgres()
  t.after(() => pg.dispose())
  const url = pg.url
  const server = await startServer(['--database-url', url])
  t.after(() => server.stop('SIGKILL'))
  const token = server.token!
  const before = (await api(server.url, token, 'POST', '/v1/environments', { name: 'before' })).json()

  await pg.stop()
  const started = Date.now()
  for (const [method, p, body] of [
    ['GET', '/v1/environments', undefined],
    ['POST', '/v1/environments', { name: 'during' }],
    ['PUT', `/v1/environments/${before._id}/enable`, undefined],
  ] as const) {
    const r = await api(server.url, token, method, p, body)
    assert.equal(r.status, 503, `${method} ${p} while the database is down: ${r.text}`)
    assert.equal(r.json().errors[0].code, 'service_unavailable')
    assert.equal(r.headers.get('retry-after'), '1')
  }
  assert.equal((await fetch(`${server.url}/health`)).status, 503)
  assert.ok(Date.now() - started < 20_000, 'answers come promptly, no hang')

  await pg.start()
  let recovered = false
  for (let i = 0; i < 100 && !recovered; i++) {
    recovered = (await api(server.url, token, 'GET', '/v1/environments')).status === 200
    if (!recovered) await new Promise((r) => setTimeout(r, 100))
  }
  assert.ok(recovered, 'the same server process serves again')
  const after = await api(server.url, token, 'POST', '/v1/environments', { name: 'after' })
  assert.equal(after.status, 201)
  const names = ((await api(server.url, token, 'GET', '/v1/environments')).json() as Array<{ name: string }>).map((e) => e.name)
  assert.deepEqual(names, ['Production', 'before', 'after'], 'nothing half-written while it was down')
})
