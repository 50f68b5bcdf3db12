import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { Limiter } from '../../src/http/rate-limit.ts'
import { type AppConfig, buildApp } from '../../src/app.ts'
import { type CreatedAccount, createAccount, createInvitation } from '../../src/domain/admin.ts'
import { createToken } from '../../src/domain/tokens.ts'
import type { TokenScope } from '../../src/domain/types.ts'
import type { Dialect } from '../../src/storage/dialect.ts'
import type { KyselyStore } from '../../src/storage/kysely-store.ts'
import { freshDatabase, openStore } from './dialects.ts'
import { type Kind, assertSchema } from './spec.ts'

export interface Harness {
  app: FastifyInstance
  store: KyselyStore
  clock: { now: number; tick(ms?: number): number }
  /** An account made for this test, with its Production full token. */
  account: CreatedAccount
  newAccount(input?: { maxEnvironments?: number; licenses?: number }): Promise<CreatedAccount>
  token(accountId: string, options?: { environmentId?: string; scope?: TokenScope; expiresInMs?: number }): Promise<string>
  invite(environmentId: string): Promise<string>
  request(opts: RequestOptions): Promise<LightMyRequestResponse>
}

export interface RequestOptions {
  method?: string
  url: string
  token?: string | null
  headers?: Record<string, string>
  body?: unknown
  payload?: string | Buffer
}

/** Builds the real app on a fresh database of `dialect`; closes both when the test ends. */
export async function build(
  t: TestContext,
  dialect: Dialect,
  options: {
    config?: Partial<AppConfig>
    account?: { maxEnvironments?: number; licenses?: number }
    limiter?: Limiter | undefined
    /** Use this database instead of a fresh one (several apps on one database). */
    databaseUrl?: string
  } = {},
): Promise<Harness> {
  const db = options.databaseUrl === undefined ? await freshDatabase(dialect) : { url: options.databaseUrl, dispose: async () => {} }
  const store = await openStore(db.url)
  const clock = {
    now: Date.parse('2026-03-01T09:15:02.118Z'),
    tick(ms = 1) {
      clock.now += ms
      return clock.now
    },
  }
  const now = () => clock.now
  const app = await buildApp({
    store,
    clock: now,
    logger: false,
    limiter: options.limiter,
    config: { bodyLimit: 1024 * 1024, trustProxy: false, tokenCacheMs: 0, logLevel: 'silent', ...options.config },
  })
  t.after(async () => {
    await app.close()
    await store.close()
    await db.dispose()
  })
  const newAccount = async (input: { maxEnvironments?: number; licenses?: number } = {}) => {
    const created = await createAccount(store, { name: 'Test account', ...input }, { clock: now })
    assert.ok(created)
    return created
  }
  const account = await newAccount(options.account)
  const harness: Harness = {
    app,
    store,
    clock,
    account,
    newAccount,
    token: async (accountId, o = {}) => (await createToken(store, accountId, o, now)).token,
    invite: async (environmentId) => (await createInvitation(store, { environmentId, email: 'invitee@example.com' }, now))._id,
    request: async (o) => {
      const headers: Record<string, string> = { ...o.headers }
      const token = o.token === undefined ? account.token : o.token
      if (token !== null) headers.authorization = `Bearer ${token}`
      let payload = o.payload
      if (o.body !== undefined) {
        payload = JSON.stringify(o.body)
        headers['content-type'] ??= 'application/json'
      }
      const res = await app.inject({ method: (o.method ?? 'GET') as 'GET', url: o.url, headers, ...(payload === undefined ? {} : { payload }) })
      checkAgainstReference(res)
      return res
    },
  }
  return harness
}

/** Validates every body against the reference schema its status calls for. */
export function checkAgainstReference(res: LightMyRequestResponse): void {
  if (res.statusCode === 204 || res.body === '') {
    assert.equal(res.body, '', `${res.statusCode} has no body`)
    return
  }
  const body = res.json()
  const kind: Kind =
    res.statusCode === 401 ? 'unauthorized' : res.statusCode >= 400 ? 'error' : Array.isArray(body) ? 'environments' : 'environment'
  assertSchema(kind, body)
}

/** Asserts the exact envelope of an error response. */
export function assertError(res: LightMyRequestResponse, status: number, codes: Array<string | { code: string; field?: string }>): void {
  assert.equal(res.statusCode, status, `status ${res.statusCode}: ${res.body}`)
  assert.match(String(res.headers['content-type']), /^application\/json/)
  const body = res.json() as { errors: Array<{ code: string; field?: string; message: string }> }
  assert.deepEqual(Object.keys(body), ['errors'])
  assert.deepEqual(
    body.errors.map((e) => ('field' in e ? { code: e.code, field: e.field } : e.code)),
    codes.map((c) => (typeof c === 'string' ? c : c.field === undefined ? c.code : c)),
  )
  for (const e of body.errors) assert.ok(e.message.length > 0, 'every error has a message')
}
