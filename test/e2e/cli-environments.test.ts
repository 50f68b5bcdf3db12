import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { IoenvClient } from '../../src/client/index.ts'
import { freePort } from '../../scripts/services.mjs'
import { BIN, ROOT, type ServerProcess, ioenv, startServer, tokenWorks } from '../helpers/process.ts'
import { assertSchema } from '../helpers/spec.ts'

/**
 * `ioenv environments …` (issue 5) as a user runs it: a real server process, the real command, its
 * stdout, stderr and exit code (0 ok, 2 usage, 3 other 4xx, 4 for 401/403, 5 for 5xx/429/network).
 */

interface Run {
  status: number | null
  stdout: string
  stderr: string
  json<T = any>(): T
}

/**
 * Runs `ioenv environments ARGS` with the connection in the environment and `input` on stdin.
 * Asynchronously: a blocked event loop would leave this process's kept-alive sockets (the setup
 * client's) open after the server closed them, and the next POST on one would fail.
 */
async function envs(conn: { url: string; token: string }, args: string[], input = ''): Promise<Run> {
  const child = spawn(process.execPath, [BIN, 'environments', ...args], {
    cwd: ROOT,
    env: { ...process.env, IOENV_BASE_URL: conn.url, IOENV_TOKEN: conn.token },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  child.stdin.end(input)
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const [status] = (await once(child, 'close')) as [number | null]
  clearTimeout(timer)
  return { status, stdout, stderr, json: () => JSON.parse(stdout) }
}


/** The typed client for setting up what a test does not itself exercise through the command. */
const api = (conn: { url: string; token: string }) => new IoenvClient({ baseUrl: conn.url, token: conn.token })


describe('ioenv environments', () => {
  let server: ServerProcess
  let dir: string
  let db: string

  /** A fresh account (so listings are exact), its token honoured by the server. */
  async function account(name: string) {
    const r = ioenv(['accounts', 'create', '--name', name, '--database-url', db])
    assert.equal(r.status, 0, r.stderr)
    const out = r.json()
    await tokenWorks(server.url, out.token)
    return { url: server.url, token: out.token as string, accountId: out.account._id as string, productionId: out.environment._id as string }
  }

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ioenv-cli-envs-'))
    db = `sqlite:${path.join(dir, 'ioenv.db')}`
    server = await startServer(['--database-url', db, '--no-bootstrap'])
  })
  after(async () => {
    await server.stop('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  test('create from flags, get as a table and as JSON', async () => {
    const conn = await account('Create')
    const created = await envs(conn, ['create', '--name', 'dev', '--description', 'for developers', '--apim-group-id', 'g1', '--json'])
    assert.equal(created.status, 0, created.stderr)
    const env = created.json()
    assertSchema('environment', env)
    assert.equal(env.name, 'dev')
    assert.equal(env.description, 'for developers')
    assert.deepEqual(env.apim, { groupId: 'g1' })

    const table = await envs(conn, ['get', env._id])
    assert.equal(table.status, 0, table.stderr)
    assert.match(table.stdout, new RegExp(`^_id +${env._id}$`, 'm'))
    assert.match(table.stdout, /^name +dev$/m)
    assert.match(table.stdout, /^description +for developers$/m)
    assert.match(table.stdout, /^enabled +yes$/m)
    assert.match(table.stdout, /^apim\.groupId +g1$/m)
    assert.match(table.stdout, new RegExp(`^lastModified +${env.lastModified}$`, 'm'))

    const json = await envs(conn, ['get', env._id, '--json'])
    assert.equal(json.status, 0, json.stderr)
    assert.deepEqual(json.json(), env)

    // Without the JSON flag create prints the same table as get.
    const plain = await envs(conn, ['create', '--name', 'plain'])
    assert.equal(plain.status, 0, plain.stderr)
    assert.match(plain.stdout, /^name +plain$/m)
  })

  test('create - reads the JSON body from stdin', async () => {
    const conn = await account('Stdin')
    const r = await envs(conn, ['create', '-', '--json'], JSON.stringify({ name: 'from stdin', apim: { environmentHRID: 'stg' } }))
    assert.equal(r.status, 0, r.stderr)
    assertSchema('environment', r.json())
    assert.equal(r.json().name, 'from stdin')
    assert.deepEqual(r.json().apim, { environmentHRID: 'stg' })

    const both = await envs(conn, ['create', '-', '--name', 'x'], '{"name":"y"}')
    assert.equal(both.status, 2)
    const notJson = await envs(conn, ['create', '-'], '{name: y}')
    assert.equal(notJson.status, 2)
    assert.match(notJson.stderr, /not valid JSON/)
    const neither = await envs(conn, ['create'])
    assert.equal(neither.status, 2)
    assert.match(neither.stderr, /--name is required/)
  })

  test('list: a table, a JSON array, NDJSON', async () => {
    const conn = await account('List')
    for (const name of ['a', 'b']) await api(conn).createEnvironment({ name })

    const table = await envs(conn, ['list'])
    assert.equal(table.status, 0, table.stderr)
    const lines = table.stdout.trimEnd().split('\n')
    assert.match(lines[0]!, /^ID +ENABLED +LAST MODIFIED +NAME$/)
    assert.equal(lines.length, 4)
    assert.match(lines[1]!, new RegExp(`^${conn.productionId}  yes +\\S+Z  Production$`))
    assert.match(lines[3]!, / {2}b$/)
    assert.equal(table.stderr, '', 'one page: no progress lines')

    const json = await envs(conn, ['list', '--json'])
    assert.equal(json.status, 0, json.stderr)
    const array = json.json()
    assertSchema('environments', array)
    assert.deepEqual(array.map((e: { name: string }) => e.name), ['Production', 'a', 'b'])

    const ndjson = await envs(conn, ['list', '--ndjson', '--limit', '2'])
    assert.equal(ndjson.status, 0, ndjson.stderr)
    const objects = ndjson.stdout.trimEnd().split('\n').map((l) => JSON.parse(l))
    assert.deepEqual(objects, array)
  })

  test('list streams page by page with progress on stderr; --json stays one array across pages', async () => {
    const conn = await account('Stream')
    for (let i = 1; i <= 6; i++) await api(conn).createEnvironment({ name: `e${i}` })

    const r = await envs(conn, ['list', '--limit', '2'])
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(r.stderr.trimEnd().split('\n'), [
      'ioenv: page 1 (2 environments)',
      'ioenv: page 2 (4 environments)',
      'ioenv: page 3 (6 environments)',
      'ioenv: page 4 (7 environments), done',
    ])
    const names = r.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/ {2,}/).at(-1))
    assert.deepEqual(names, ['Production', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6'])

    const json = await envs(conn, ['list', '--limit', '3', '--json'])
    assert.equal(json.status, 0, json.stderr)
    assert.equal(json.json().length, 7)
    assertSchema('environments', json.json())
    assert.match(json.stderr, /page 3 \(7 environments\), done/)

    const quiet = await envs(conn, ['list', '--limit', '2', '--quiet', '--skip', '5'])
    assert.equal(quiet.status, 0)
    assert.equal(quiet.stderr, '')
    assert.equal(quiet.stdout.trimEnd().split('\n').length, 3)

    const past = await envs(conn, ['list', '--skip', '100', '--json'])
    assert.equal(past.status, 0, past.stderr)
    assert.deepEqual(past.json(), [], 'an empty (204) listing is an empty array')
  })

  test('update reads a full replace from stdin; the output of get --json can be piped back', async () => {
    const conn = await account('Update')
    const env = await api(conn).createEnvironment({ name: 'dev', description: 'goes away' })
    const { description: _gone, ...edited } = { ...env, name: 'qa' }
    const r = await envs(conn, ['update', env._id, '--json'], JSON.stringify(edited))
    assert.equal(r.status, 0, r.stderr)
    const updated = r.json()
    assertSchema('environment', updated)
    assert.equal(updated.name, 'qa')
    assert.equal(updated.description, undefined, 'a full replace removed it')
    assert.equal(updated.createdAt, env.createdAt)

    const dash = await envs(conn, ['update', env._id, '-'], '{"name":"again"}')
    assert.equal(dash.status, 0, dash.stderr)
    assert.match(dash.stdout, /^name +again$/m)

    const invalid = await envs(conn, ['update', env._id], '{"description":"no name"}')
    assert.equal(invalid.status, 3)
    assert.match(invalid.stderr, /422/)
    assert.match(invalid.stderr, /missing_required_field \(name\)/)
  })

  test('set changes named fields and keeps the others', async () => {
    const conn = await account('Set')
    const env = await api(conn).createEnvironment({ name: 'dev', description: 'kept', apim: { groupId: 'g1', environmentId: 'e1' } })
    const r = await envs(conn, ['set', env._id, 'name=QA team', 'apim.environmentHRID=qa', '--unset', 'apim.groupId', '--json'])
    assert.equal(r.status, 0, r.stderr)
    const updated = r.json()
    assertSchema('environment', updated)
    assert.equal(updated.name, 'QA team')
    assert.equal(updated.description, 'kept')
    assert.deepEqual(updated.apim, { environmentId: 'e1', environmentHRID: 'qa' })
    assert.equal(updated.enabled, env.enabled)

    const cleared = await envs(conn, ['set', env._id, '--unset', 'description', '--unset', 'apim.environmentId', '--unset', 'apim.environmentHRID', '--json'])
    assert.equal(cleared.status, 0, cleared.stderr)
    assert.equal(cleared.json().description, undefined)
    assert.equal(cleared.json().apim, undefined)

    assert.equal((await envs(conn, ['set', env._id])).status, 2, 'nothing to change')
    assert.equal((await envs(conn, ['set', env._id, 'enabled=false'])).status, 2, 'not a settable field')
    assert.equal((await envs(conn, ['set', env._id, '--unset', 'name'])).status, 2)
    const help = await envs(conn, ['set', '--help'])
    assert.match(help.stdout, /read-modify-write/)
  })

  test('toggle flips and shows the new state; Production cannot be disabled (exit 3)', async () => {
    const conn = await account('Toggle')
    const env = await api(conn).createEnvironment({ name: 'dev' })
    const off = await envs(conn, ['toggle', env._id])
    assert.equal(off.status, 0, off.stderr)
    assert.equal(off.stdout, `${env._id} (dev) is now disabled\n`)
    const on = await envs(conn, ['toggle', env._id, '--json'])
    assert.equal(on.status, 0, on.stderr)
    assertSchema('environment', on.json())
    assert.equal(on.json().enabled, true)

    const prod = await envs(conn, ['toggle', conn.productionId])
    assert.equal(prod.status, 3)
    assert.match(prod.stderr, /the API answered 400 \(request id [^)]+\):\n {2}production_cannot_be_disabled: The Production environment cannot be disabled\./)
  })

  test('exit codes: 404 and 422 are 3, 401 and 403 are 4, with the API codes on stderr', async () => {
    const conn = await account('Codes')
    const missing = await envs(conn, ['get', '000000000000000000000000'])
    assert.equal(missing.status, 3)
    assert.equal(missing.stdout, '')
    assert.match(missing.stderr, /404/)
    assert.match(missing.stderr, /not_found: Environment not found\./)

    const invalid = await envs(conn, ['create', '--name', ' '])
    assert.equal(invalid.status, 3)
    assert.match(invalid.stderr, /invalid_field \(name\)/)

    const badToken = await envs({ ...conn, token: 'ioe_nope' }, ['list'])
    assert.equal(badToken.status, 4)
    assert.match(badToken.stderr, /401 Bearer Authentication Failed/)

    // A full token of a non-Production environment may read but not change (C-2.4).
    const other = await api(conn).createEnvironment({ name: 'other' })
    const tok = ioenv(['tokens', 'create', '--account', conn.accountId, '--environment', other._id, '--database-url', db])
    assert.equal(tok.status, 0, tok.stderr)
    const reader = { ...conn, token: tok.json().token as string }
    const start = Date.now()
    while ((await envs(reader, ['get', other._id])).status !== 0) assert.ok(Date.now() - start < 5000)
    const forbidden = await envs(reader, ['toggle', other._id])
    assert.equal(forbidden.status, 4)
    assert.match(forbidden.stderr, /403/)
    assert.match(forbidden.stderr, /access_restricted/)
  })

  test('exit codes: an unreachable server is 5, a missing token or bad flag is 2', async () => {
    const port = await freePort()
    const down = await envs({ url: `http://127.0.0.1:${port}`, token: 'ioe_x' }, ['list'])
    assert.equal(down.status, 5)
    assert.match(down.stderr, /cannot reach the API/)
    assert.match(down.stderr, /ECONNREFUSED/)
    const downWrite = await envs({ url: `http://127.0.0.1:${port}`, token: 'ioe_x' }, ['create', '--name', 'x'])
    assert.equal(downWrite.status, 5)

    const noToken = await envs({ url: server.url, token: '' }, ['list'])
    assert.equal(noToken.status, 2)
    assert.match(noToken.stderr, /token is required/)

    assert.equal((await envs({ url: server.url, token: 't' }, ['list', '--limit', '0'])).status, 2)
    assert.equal((await envs({ url: server.url, token: 't' }, ['list', '--bogus'])).status, 2)
    assert.equal((await envs({ url: 'not a url', token: 't' }, ['list'])).status, 2)

    // --base-url and --token beat the variables.
    const conn = await account('Flags')
    const flags = await envs({ url: `http://127.0.0.1:${port}`, token: 'ioe_x' }, ['list', '--json', '--base-url', conn.url, '--token', conn.token])
    assert.equal(flags.status, 0, flags.stderr)
    assert.equal(flags.json().length, 1)
  })

  test('--help documents the verbs, the variables and the exit codes', async () => {
    const help = await envs({ url: server.url, token: '' }, ['--help'])
    assert.equal(help.status, 0)
    for (const verb of ['list', 'get', 'create', 'update', 'set', 'toggle']) assert.match(help.stdout, new RegExp(`^  ${verb} `, 'm'))
    assert.match(help.stdout, /IOENV_BASE_URL/)
    assert.match(help.stdout, /IOENV_TOKEN/)
    for (const code of [0, 1, 2, 3, 4, 5]) assert.match(help.stdout, new RegExp(`^  ${code}  `, 'm'))
  })
})
