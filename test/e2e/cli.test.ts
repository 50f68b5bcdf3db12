import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { api, ioenv, startServer } from '../helpers/process.ts'
import { assertSchema } from '../helpers/spec.ts'

function tempDbUrl(t: import('node:test').TestContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ioenv-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return `sqlite:${path.join(dir, 'ioenv.db')}`
}

/** Polls until `check` passes or `ms` elapse; returns how long it took. */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now()
  while (Date.now() - start < ms) {
    if (await check()) return Date.now() - start
    await new Promise((r) => setTimeout(r, 100))
  }
  assert.fail(`not within ${ms} ms`)
}

test('C-5.3: accounts create prints the account, its Production environment and a token', (t) => {
  const db = tempDbUrl(t)
  const r = ioenv(['accounts', 'create', '--name', 'Acme', '--max-environments', '5', '--licenses', '2', '--database-url', db])
  assert.equal(r.status, 0, r.stderr)
  const out = r.json()
  assert.deepEqual(Object.keys(out), ['account', 'environment', 'token'])
  assert.equal(out.account.name, 'Acme')
  assert.equal(out.account.maxEnvironments, 5)
  assert.equal(out.account.enabledLicenses, 2)
  assert.match(out.account._id, /^[0-9a-f]{24}$/)
  assertSchema('environment', out.environment)
  assert.equal(out.environment.name, 'Production')
  assert.equal(out.environment.enabled, true)
  assert.equal(out.environment._envUserId, out.account.ownerUserId)
  assert.match(out.token, /^ioe_[A-Za-z0-9_-]{43}$/)
})

test('C-5.3: the database comes from IOENV_DATABASE_URL as well as the flag', (t) => {
  const db = tempDbUrl(t)
  const created = ioenv(['accounts', 'create', '--name', 'Env'], { IOENV_DATABASE_URL: db }).json()
  const listed = ioenv(['tokens', 'list', '--account', created.account._id, '--database-url', db])
  assert.equal(listed.status, 0, listed.stderr)
  assert.equal(listed.json().length, 1)
})

test('C-5.3/C-5.4: tokens created and revoked by the CLI take effect on a running server within 5 s', async (t) => {
  const db = tempDbUrl(t)
  const server = await startServer(['--database-url', db, '--no-bootstrap'])
  t.after(() => server.stop('SIGKILL'))
  const acct = ioenv(['accounts', 'create', '--name', 'Live', '--database-url', db]).json()
  const accountId = acct.account._id as string
  await within(5000, async () => (await api(server.url, acct.token, 'GET', '/v1/environments')).status === 200)

  const created = ioenv(['tokens', 'create', '--account', accountId, '--scope', 'full', '--name', 'ci', '--expires-in', '1h', '--database-url', db])
  assert.equal(created.status, 0, created.stderr)
  const tok = created.json()
  assert.deepEqual(Object.keys(tok).slice(0, 2), ['_id', 'token'])
  assert.equal(tok.scope, 'full')
  assert.equal(tok.environmentId, acct.environment._id)
  assert.equal(tok.name, 'ci')
  assert.equal(Date.parse(tok.expiresAt) - Date.parse(tok.createdAt), 3_600_000)
  await within(5000, async () => (await api(server.url, tok.token, 'GET', '/v1/environments')).status === 200)

  const listed = ioenv(['tokens', 'list', '--account', accountId, '--database-url', db])
  assert.equal(listed.status, 0)
  assert.equal(listed.json().length, 2)
  assert.doesNotMatch(listed.stdout, /ioe_|hash/i, 'secrets and hashes are never listed')

  const revoked = ioenv(['tokens', 'revoke', tok._id, '--database-url', db])
  assert.equal(revoked.status, 0, revoked.stderr)
  assert.ok(revoked.json().revokedAt)
  await within(5000, async () => {
    const r = await api(server.url, tok.token, 'GET', '/v1/environments')
    return r.status === 401 && r.json().message === 'Bearer Authentication Failed'
  })
  assert.equal((await api(server.url, acct.token, 'GET', '/v1/environments')).status, 200, 'other tokens still work')

  // a custom token of the Production environment reads nothing (C-2.4)
  const custom = ioenv(['tokens', 'create', '--account', accountId, '--scope', 'custom', '--database-url', db]).json()
  await within(5000, async () => (await api(server.url, custom.token, 'GET', '/v1/environments')).status === 403)
})

test('C-5.3: invitations create, list, accept, dismiss; they gate disabling on a running server', async (t) => {
  const db = tempDbUrl(t)
  const server = await startServer(['--database-url', db])
  t.after(() => server.stop('SIGKILL'))
  const token = server.token!
  const env = (await api(server.url, token, 'POST', '/v1/environments', { name: 'qa' })).json()

  const inv = ioenv(['invitations', 'create', '--environment', env._id, '--email', 'ann@example.com', '--database-url', db])
  assert.equal(inv.status, 0, inv.stderr)
  const invitation = inv.json()
  assert.equal(invitation.accepted, false)
  assert.equal(invitation.dismissed, false)
  assert.equal(invitation.email, 'ann@example.com')
  assert.equal(invitation.environmentId, env._id)
  const blocked = await api(server.url, token, 'PUT', `/v1/environments/${env._id}/enable`)
  assert.equal(blocked.status, 422)
  assert.equal(blocked.json().errors[0].code, 'pending_invitations')

  const listed = ioenv(['invitations', 'list', '--environment', env._id, '--database-url', db])
  assert.deepEqual(listed.json().map((i: { _id: string }) => i._id), [invitation._id])

  const accepted = ioenv(['invitations', 'accept', invitation._id, '--database-url', db])
  assert.equal(accepted.status, 0, accepted.stderr)
  assert.equal(accepted.json().accepted, true)
  const refused = ioenv(['invitations', 'dismiss', invitation._id, '--database-url', db])
  assert.notEqual(refused.status, 0)
  assert.match(refused.stderr, /already accepted/)
  assert.equal(refused.stdout, '')
  assert.equal((await api(server.url, token, 'PUT', `/v1/environments/${env._id}/enable`)).status, 204)

  const second = ioenv(['invitations', 'create', '--environment', env._id, '--email', 'bob@example.com', '--database-url', db]).json()
  const dismissed = ioenv(['invitations', 'dismiss', second._id, '--database-url', db])
  assert.equal(dismissed.json().dismissed, true)
})

test('C-5.3: errors go to stderr with a non-zero exit and nothing on stdout', (t) => {
  const db = tempDbUrl(t)
  const cases: string[][] = [
    ['tokens', 'create', '--account', 'ffffffffffffffffffffffff', '--database-url', db],
    ['tokens', 'revoke', 'ffffffffffffffffffffffff', '--database-url', db],
    ['tokens', 'list', '--account', 'nope', '--database-url', db],
    ['tokens', 'create', '--account', 'x', '--expires-in', 'soon', '--database-url', db],
    ['tokens', 'create', '--account', 'x', '--scope', 'root', '--database-url', db],
    ['invitations', 'create', '--environment', 'ffffffffffffffffffffffff', '--email', 'a@b.c', '--database-url', db],
    ['invitations', 'create', '--environment', 'x', '--email', 'not-an-email', '--database-url', db],
    ['invitations', 'accept', 'ffffffffffffffffffffffff', '--database-url', db],
    ['accounts', 'create', '--database-url', db],
    ['accounts', 'create', '--name', 'x', '--max-environments', '0', '--database-url', db],
    ['accounts', 'create', '--name', 'x', '--database-url', 'mysql://nope'],
    ['serve', '--port', 'eighty'],
    ['no-such-command'],
  ]
  for (const args of cases) {
    const r = ioenv(args)
    assert.notEqual(r.status, 0, args.join(' '))
    assert.equal(r.stdout, '', args.join(' '))
    assert.ok(r.stderr.length > 0, args.join(' '))
    assert.doesNotMatch(r.stderr, /\n\s+at /, `no stack trace: ${args.join(' ')}`)
  }
})

test('C-5.1: --help lists every flag with its environment variable', () => {
  const r = ioenv(['serve', '--help'])
  assert.equal(r.status, 0)
  for (const v of ['IOENV_DATABASE_URL', 'IOENV_PORT, PORT', 'IOENV_HOST, HOST', 'IOENV_PUBLIC_URL', '--no-bootstrap', 'IOENV_BODY_LIMIT', 'IOENV_LOG_LEVEL']) {
    assert.ok(r.stdout.includes(v), v)
  }
})
