import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  type Environment,
  IoenvApiError,
  IoenvAuthError,
  IoenvClient,
  IoenvNetworkError,
  IoenvResponseError,
} from '../../src/client/index.ts'
import { type ServerProcess, ioenv, startServer, tokenWorks } from '../helpers/process.ts'
import { freePort } from '../../scripts/services.mjs'
import { assertSchema } from '../helpers/spec.ts'

/**
 * The typed client (issue 5) end to end: a real `ioenv serve` on a real port, reached through the
 * global fetch. Every body the client hands back is checked against the reference schemas.
 */

interface Call {
  method: string
  url: string
  status?: number
  link?: string | null
  retryAfter?: string | null
  threw?: boolean
}

/** A fetch that records every call (and can fail the first `failFirst` ones as a network error would). */
function recordingFetch(failFirst = 0) {
  const calls: Call[] = []
  let failures = 0
  const fetchFn: typeof fetch = async (input, init) => {
    const call: Call = { method: init?.method ?? 'GET', url: String(input) }
    calls.push(call)
    if (failures < failFirst) {
      failures++
      call.threw = true
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNRESET'), { code: 'ECONNRESET' }) })
    }
    const res = await fetch(input, init)
    call.status = res.status
    call.link = res.headers.get('link')
    call.retryAfter = res.headers.get('retry-after')
    return res
  }
  return { calls, fetch: fetchFn }
}

/** A fetch that answers from a function, for the bodies a real ioenv never sends (proxies, gateways). */
const fakeFetch =
  (answer: () => Response): typeof fetch =>
  async () =>
    answer()



function tempDbUrl(): { url: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'ioenv-client-'))
  return { url: `sqlite:${path.join(dir, 'ioenv.db')}`, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A fresh account on the server's database, so counts are exact; waits until its token is honoured. */
async function freshAccount(server: ServerProcess, db: string, name: string) {
  const r = ioenv(['accounts', 'create', '--name', name, '--database-url', db])
  assert.equal(r.status, 0, r.stderr)
  const out = r.json<{ account: { _id: string }; environment: Environment; token: string }>()
  await tokenWorks(server.url, out.token)
  return { token: out.token, production: out.environment }
}

async function rejection<T extends Error>(promise: Promise<unknown>, type: new (...args: any[]) => T): Promise<T> {
  try {
    await promise
  } catch (err) {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`)
    return err
  }
  assert.fail(`expected ${type.name}, but it resolved`)
}

describe('typed client against a real server', () => {
  let server: ServerProcess
  let db: { url: string; cleanup(): void }
  let client: IoenvClient
  let production: Environment

  before(async () => {
    db = tempDbUrl()
    server = await startServer(['--database-url', db.url])
    assert.ok(server.token, 'the first start printed a token')
    client = new IoenvClient({ baseUrl: server.url, token: server.token })
    const page = await client.listEnvironments()
    production = page.items[0]!
    assert.equal(production.name, 'Production')
  })
  after(async () => {
    await server.stop('SIGKILL')
    db.cleanup()
  })

  test('createEnvironment, getEnvironment, updateEnvironment (full replace), toggleEnvironment', async () => {
    const created = await client.createEnvironment({ name: 'dev', description: 'for developers', apim: { groupId: 'g1' } })
    assertSchema('environment', created)
    assert.equal(created.name, 'dev')
    assert.equal(created.description, 'for developers')
    assert.deepEqual(created.apim, { groupId: 'g1' })
    assert.equal(created.enabled, true)

    const got = await client.getEnvironment(created._id)
    assertSchema('environment', got)
    assert.deepEqual(got, created)

    const replaced = await client.updateEnvironment(created._id, { name: 'qa' })
    assertSchema('environment', replaced)
    assert.equal(replaced.name, 'qa')
    assert.equal(replaced.description, undefined, 'a full replace removes what the body leaves out')
    assert.equal(replaced.apim, undefined)
    assert.equal(replaced.createdAt, created.createdAt)
    assert.ok(replaced.lastModified > created.lastModified)

    // A fetched environment can be sent back as is: read-only fields are ignored by the API.
    const roundTrip = await client.updateEnvironment(created._id, { ...replaced, description: 'again' })
    assert.equal(roundTrip.description, 'again')

    assert.equal(await client.toggleEnvironment(created._id), undefined)
    assert.equal((await client.getEnvironment(created._id)).enabled, false)
    await client.toggleEnvironment(created._id)
    assert.equal((await client.getEnvironment(created._id)).enabled, true)
  })

  test('listEnvironments: one page with its next link; an empty (204) page is an empty list', async () => {
    const first = await client.listEnvironments({ limit: 1 })
    assertSchema('environments', first.items)
    assert.equal(first.items.length, 1)
    assert.equal(first.items[0]!._id, production._id, 'Production first')
    assert.ok(first.next, 'a next link while more remain')
    assert.equal(new URL(first.next).searchParams.get('skip'), '1')
    assert.equal(new URL(first.next).searchParams.get('limit'), '1')

    const all = await client.listEnvironments()
    assert.equal(all.next, undefined, 'no next link on the last page')

    assert.deepEqual(await client.listEnvironments({ skip: 10_000 }), { items: [] })
    await assert.rejects(client.listEnvironments({ limit: 0 }), RangeError)
    await assert.rejects(client.listEnvironments({ limit: 1001 }), RangeError)
  })

  test('pagination: 26 environments with limit 10 follow the Link header exactly as given, same as one list', async () => {
    const acct = await freshAccount(server, db.url, 'Pages')
    const setup = new IoenvClient({ baseUrl: server.url, token: acct.token })
    for (let i = 0; i < 25; i++) await setup.createEnvironment({ name: `env-${String(i).padStart(2, '0')}` })

    const rec = recordingFetch()
    const paged = new IoenvClient({ baseUrl: server.url, token: acct.token, fetch: rec.fetch })
    const seen: Environment[] = []
    for await (const env of paged.environments({ limit: 10 })) seen.push(env)

    const single = await setup.listEnvironments()
    assert.equal(single.items.length, 26)
    assert.equal(single.next, undefined)
    assertSchema('environments', seen)
    assert.deepEqual(seen, single.items, 'the pages together are the single list, in order')
    assert.equal(seen[0]!.name, 'Production')

    assert.equal(rec.calls.length, 3)
    assert.equal(rec.calls[0]!.url, `${server.url}/v1/environments?limit=10`)
    for (let i = 1; i < rec.calls.length; i++) {
      const link = rec.calls[i - 1]!.link
      assert.ok(link)
      assert.equal(`<${rec.calls[i]!.url}>; rel="next"`, link, 'the next request is the Link target, verbatim')
    }
    assert.equal(rec.calls[2]!.link, null)

    const sizes: number[] = []
    for await (const page of paged.environmentPages({ limit: 10, skip: 5 })) sizes.push(page.items.length)
    assert.deepEqual(sizes, [10, 10, 1])

    // A listing that starts past the end is one empty (204) page.
    const empty: Environment[] = []
    for await (const env of paged.environments({ skip: 26 })) empty.push(env)
    assert.deepEqual(empty, [])
  })

  test('a next link to another origin is refused, not sent the token, unless that origin is trusted', async () => {
    const elsewhere = 'http://evil.example:9/v1/environments?skip=1'
    const rec = recordingFetch()
    const c = new IoenvClient({ baseUrl: server.url, token: server.token!, fetch: rec.fetch })
    await assert.rejects(c.listEnvironmentsAt(elsewhere), /refusing to send the token to http:\/\/evil.example:9/)
    assert.equal(rec.calls.length, 0, 'no request was made')
    const localhost = server.url.replace('127.0.0.1', 'localhost')
    const trusting = new IoenvClient({ baseUrl: server.url, token: server.token!, trustedOrigins: [localhost] })
    const page = await trusting.listEnvironmentsAt(`${localhost}/v1/environments?limit=1`)
    assert.equal(page.items.length, 1)
  })

  test('typed errors: 404 not_found with the request id', async () => {
    const err = await rejection(client.getEnvironment('000000000000000000000000'), IoenvApiError)
    assert.ok(!(err instanceof IoenvAuthError))
    assert.equal(err.status, 404)
    assert.deepEqual(err.codes, ['not_found'])
    assert.equal(err.errors[0]!.message, 'Environment not found.')
    assert.match(err.requestId ?? '', /^[0-9a-f-]{36}$/)
    assertSchema('error', JSON.parse(err.body))

    // Ids are path-encoded, so an id cannot reach another route.
    const odd = await rejection(client.getEnvironment('../environments?x=1'), IoenvApiError)
    assert.equal(odd.status, 404)
  })

  test('typed errors: 422 with the field, several problems together', async () => {
    const missing = await rejection(client.createEnvironment({} as { name: string }), IoenvApiError)
    assert.equal(missing.status, 422)
    assert.deepEqual(missing.errors.map((e) => [e.code, e.field]), [['missing_required_field', 'name']])
    assertSchema('error', JSON.parse(missing.body))

    const several = await rejection(
      client.updateEnvironment(production._id, { name: ' ', apim: { groupId: 5 as unknown as string } }),
      IoenvApiError,
    )
    assert.equal(several.status, 422)
    assert.deepEqual(several.errors.map((e) => [e.code, e.field]).sort(), [
      ['invalid_field', 'apim.groupId'],
      ['invalid_field', 'name'],
    ])
  })

  test('typed errors: 400 production_cannot_be_disabled', async () => {
    const err = await rejection(client.toggleEnvironment(production._id), IoenvApiError)
    assert.equal(err.status, 400)
    assert.deepEqual(err.codes, ['production_cannot_be_disabled'])
    assert.equal((await client.getEnvironment(production._id)).enabled, true)
  })

  test('typed errors: 401 is IoenvAuthError with the bare message', async () => {
    const bad = new IoenvClient({ baseUrl: server.url, token: 'ioe_not-a-real-token' })
    const err = await rejection(bad.listEnvironments(), IoenvAuthError)
    assert.ok(err instanceof IoenvApiError, 'an IoenvAuthError is an IoenvApiError')
    assert.equal(err.status, 401)
    assert.equal(err.message, 'Bearer Authentication Failed')
    assert.deepEqual(err.errors, [])
    assertSchema('unauthorized', JSON.parse(err.body))
    // Every method reports it the same way.
    await rejection(bad.createEnvironment({ name: 'x' }), IoenvAuthError)
    await rejection(bad.toggleEnvironment(production._id), IoenvAuthError)
  })

  test('the base URL may end with / or /v1; a bad one is refused at construction', async () => {
    for (const base of [`${server.url}/`, `${server.url}/v1`, `${server.url}/v1/`]) {
      const c = new IoenvClient({ baseUrl: base, token: server.token! })
      assert.equal(c.baseUrl, server.url)
      assert.equal((await c.getEnvironment(production._id))._id, production._id)
    }
    assert.throws(() => new IoenvClient({ baseUrl: 'api.integrator.io', token: 't' }), TypeError)
    assert.throws(() => new IoenvClient({ baseUrl: 'ftp://api.integrator.io', token: 't' }), TypeError)
    assert.throws(() => new IoenvClient({ baseUrl: server.url, token: '' }), TypeError)
    assert.equal(new IoenvClient({ baseUrl: 'https://api.eu.integrator.io', token: 't' }).baseUrl, 'https://api.eu.integrator.io')
  })

  test('a network failure is retried for GET, with the same result', async () => {
    const rec = recordingFetch(2)
    const c = new IoenvClient({ baseUrl: server.url, token: server.token!, fetch: rec.fetch, retryDelayMs: 10 })
    const env = await c.getEnvironment(production._id)
    assert.equal(env._id, production._id)
    assert.deepEqual(rec.calls.map((x) => x.threw ?? false), [true, true, false])

    const pages = recordingFetch(1)
    const lister = new IoenvClient({ baseUrl: server.url, token: server.token!, fetch: pages.fetch, retryDelayMs: 10 })
    assert.ok((await lister.listEnvironments()).items.length > 0)
    assert.equal(pages.calls.length, 2)
  })

  test('a network failure is not retried for POST or PUT (it may have been processed)', async () => {
    const before = (await client.listEnvironments()).items.length
    const rec = recordingFetch(1)
    const c = new IoenvClient({ baseUrl: server.url, token: server.token!, fetch: rec.fetch, retryDelayMs: 10 })
    const err = await rejection(c.createEnvironment({ name: 'once' }), IoenvNetworkError)
    assert.equal(err.method, 'POST')
    assert.equal(err.attempts, 1)
    assert.match(err.message, /ECONNRESET/)
    assert.equal(rec.calls.length, 1, 'sent once')
    assert.equal((await client.listEnvironments()).items.length, before)

    const toggle = recordingFetch(1)
    const t = new IoenvClient({ baseUrl: server.url, token: server.token!, fetch: toggle.fetch, retryDelayMs: 10 })
    await rejection(t.toggleEnvironment(production._id), IoenvNetworkError)
    assert.equal(toggle.calls.length, 1)
  })

  test('GET gives up after maxRetries network failures; an unreachable server is an IoenvNetworkError', async () => {
    const rec = recordingFetch(10)
    const c = new IoenvClient({ baseUrl: server.url, token: server.token!, fetch: rec.fetch, retryDelayMs: 1, maxRetries: 2 })
    const err = await rejection(c.getEnvironment(production._id), IoenvNetworkError)
    assert.equal(err.attempts, 3)
    assert.equal(rec.calls.length, 3)

    const unreachable = new IoenvClient({ baseUrl: `http://127.0.0.1:${await freePort()}`, token: 't', retryDelayMs: 1 })
    const down = await rejection(unreachable.listEnvironments(), IoenvNetworkError)
    assert.equal(down.attempts, 4)
    assert.match(down.message, /ECONNREFUSED/)
  })

  test('error bodies that are not the API envelope are handled', async () => {
    const html = new IoenvClient({
      baseUrl: 'https://api.example.com',
      token: 't',
      fetch: fakeFetch(() => new Response('<html><body>502 Bad Gateway</body></html>', { status: 502, statusText: 'Bad Gateway', headers: { 'content-type': 'text/html' } })),
    })
    const gateway = await rejection(html.getEnvironment('6b11a4dae02c0fcacd19de28'), IoenvApiError)
    assert.equal(gateway.status, 502)
    assert.deepEqual(gateway.errors, [])
    assert.match(gateway.message, /502 Bad Gateway/)
    assert.match(gateway.body, /<html>/)

    const emptyAuth = new IoenvClient({ baseUrl: 'https://api.example.com', token: 't', fetch: fakeFetch(() => new Response('', { status: 401, statusText: 'Unauthorized' })) })
    const auth = await rejection(emptyAuth.listEnvironments(), IoenvAuthError)
    assert.equal(auth.message, 'Unauthorized')

    const odd = new IoenvClient({ baseUrl: 'https://api.example.com', token: 't', fetch: fakeFetch(() => Response.json({ errors: 'nope' }, { status: 400 })) })
    const e = await rejection(odd.listEnvironments(), IoenvApiError)
    assert.equal(e.status, 400)
    assert.deepEqual(e.errors, [])

    const notJson = new IoenvClient({ baseUrl: 'https://api.example.com', token: 't', fetch: fakeFetch(() => new Response('<html>hello</html>', { status: 200 })) })
    await rejection(notJson.listEnvironments(), IoenvResponseError)
  })
})

describe('typed client against a rate-limited server (burst 2, refill 2/s)', () => {
  let server: ServerProcess

  before(async () => {
    server = await startServer(['--database-url', 'sqlite::memory:', '--rate-limit-burst', '2', '--rate-limit-refill', '2'])
    assert.ok(server.token)
  })
  after(() => server.stop('SIGKILL'))

  test('429s are retried after Retry-After, for GET and for POST, transparently', async () => {
    const rec = recordingFetch()
    const c = new IoenvClient({ baseUrl: server.url, token: server.token!, fetch: rec.fetch })
    const started = Date.now()
    const production = (await c.listEnvironments()).items[0]!
    for (let i = 0; i < 4; i++) assert.equal((await c.getEnvironment(production._id))._id, production._id)
    // Empty the bucket with a call that does not retry, so the POST's first attempt meets a 429.
    const once = new IoenvClient({ baseUrl: server.url, token: server.token!, maxRetries: 0 })
    for (;;) {
      const err = await once.listEnvironments().then(() => undefined, (e: unknown) => e)
      if (err instanceof IoenvApiError && err.status === 429) break
      assert.equal(err, undefined)
    }
    const created = await c.createEnvironment({ name: 'made under the limit' })
    assertSchema('environment', created)
    assert.deepEqual(
      rec.calls.filter((x) => x.method === 'POST').map((x) => x.status).slice(0, 2),
      [429, 201],
      'the POST was rate limited, then sent again',
    )

    const limited = rec.calls.filter((x) => x.status === 429)
    assert.ok(limited.length > 0, 'the server did rate limit')
    for (const x of limited) assert.match(x.retryAfter ?? '', /^\d+$/)
    assert.ok(Date.now() - started >= 900, 'it waited as Retry-After asked')
    assert.equal(rec.calls.filter((x) => x.method === 'POST' && x.status === 201).length, 1)
    const names = []
    for await (const env of c.environments()) names.push(env.name)
    assert.deepEqual(names, ['Production', 'made under the limit'], 'the retried POST created one environment')
  })

  test('with maxRetries 0 the 429 is an IoenvApiError with rate_limited and retryAfter', async () => {
    const c = new IoenvClient({ baseUrl: server.url, token: server.token!, maxRetries: 0 })
    let err: IoenvApiError | undefined
    for (let i = 0; i < 10 && err === undefined; i++) {
      try {
        await c.listEnvironments()
      } catch (e) {
        assert.ok(e instanceof IoenvApiError)
        err = e
      }
    }
    assert.ok(err, 'a 429 came back')
    assert.equal(err.status, 429)
    assert.deepEqual(err.codes, ['rate_limited'])
    assert.ok((err.retryAfter ?? 0) >= 1)
    assertSchema('error', JSON.parse(err.body))
  })

  test('a Retry-After longer than maxRetryAfterSeconds is not waited for', async () => {
    let calls = 0
    const c = new IoenvClient({
      baseUrl: 'https://api.example.com',
      token: 't',
      maxRetryAfterSeconds: 5,
      fetch: async () => {
        calls++
        return Response.json({ errors: [{ code: 'rate_limited', message: 'Too many requests. Retry after 3600 seconds.' }] }, { status: 429, headers: { 'retry-after': '3600' } })
      },
    })
    const err = await rejection(c.listEnvironments(), IoenvApiError)
    assert.equal(err.retryAfter, 3600)
    assert.equal(calls, 1)
  })
})
