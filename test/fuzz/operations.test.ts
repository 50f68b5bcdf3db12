import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import type { LightMyRequestResponse } from 'fastify'
import { build, type Harness } from '../helpers/app.ts'
import { DIALECTS } from '../helpers/dialects.ts'

/**
 * Property-based fuzzing of every operation (issue 4). For random and hostile bodies, query strings,
 * ids and headers: never a 5xx, only documented statuses, the envelope (or the bare 401) on every
 * error, the common headers on every response, bodies that match the reference schemas (checked by
 * the harness), and stored state that changes only through requests that succeeded.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 300)

const DOCUMENTED = new Set([200, 201, 204, 400, 401, 403, 404, 405, 413, 415, 422])

function checkCommon(res: LightMyRequestResponse, label: string): void {
  assert.ok(DOCUMENTED.has(res.statusCode), `${label}: undocumented status ${res.statusCode}: ${res.body.slice(0, 300)}`)
  assert.ok(res.headers['x-request-id'], `${label}: X-Request-Id`)
  assert.equal(res.headers['x-content-type-options'], 'nosniff', label)
  assert.equal(res.headers['cache-control'], 'no-store', label)
  assert.doesNotMatch(res.body, /\n\s+at |SQLITE|syntax error|node_modules|\/work\//, `${label}: no internals`)
}

async function snapshot(h: Harness): Promise<string> {
  const res = await h.app.inject({ url: '/v1/environments', headers: { authorization: `Bearer ${h.account.token}` } })
  return res.body
}

/** JSON values with hostile keys and values mixed in. */
const hostileKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'name', 'description', 'apim', 'enabled', '_id', 'groupId', '', '\u0000', 'toString')
const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, on purpose
  fc.constantFrom('', ' ', '\u0000', '\ud800', '\udfff', 'a\ud800b', '💥'.repeat(300), 'x'.repeat(257), "'; DROP TABLE environments; --", '%00', '${7*7}', '<script>'),
)
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileString,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(hostileKey, fc.string()), tie('value'), { maxKeys: 5 }),
  ),
})).value

/** Bodies shaped like the reference Request, with every field possibly wrong. */
const requestLike = fc.record(
  {
    name: fc.oneof(hostileString, json),
    description: fc.oneof(hostileString, json),
    apim: fc.oneof(
      json,
      fc.record({ environmentId: fc.oneof(hostileString, json), environmentHRID: hostileString, groupId: fc.oneof(hostileString, json) }, { requiredKeys: [] }),
    ),
    enabled: json,
    _id: json,
  },
  { requiredKeys: [] },
)

const contentType = fc.oneof(
  fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/vnd.x+json', 'text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', ''),
  fc.string({ maxLength: 40 }),
)

for (const dialect of DIALECTS) {
  describe(`[${dialect}] fuzzing (issue 4)`, () => {
    test(`[${dialect}] POST and PUT with random bodies: documented answers; state changes only on success`, async (t) => {
      const h = await build(t, dialect, { account: { maxEnvironments: 100_000 } })
      const target = (await h.request({ method: 'POST', url: '/v1/environments', body: { name: 'target' } })).json()
      await fc.assert(
        fc.asyncProperty(fc.oneof(requestLike, json), fc.boolean(), async (body, isPut) => {
          const before = await snapshot(h)
          const res = await h.request({ method: isPut ? 'PUT' : 'POST', url: isPut ? `/v1/environments/${target._id}` : '/v1/environments', body })
          checkCommon(res, `${isPut ? 'PUT' : 'POST'} ${JSON.stringify(body).slice(0, 200)}`)
          if (res.statusCode >= 400) assert.equal(await snapshot(h), before, 'a rejected request changes nothing')
          else assert.ok([200, 201].includes(res.statusCode))
        }),
        { numRuns: RUNS },
      )
    })

    test(`[${dialect}] raw payloads with random content types`, async (t) => {
      const h = await build(t, dialect)
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a))), contentType, async (payload, type) => {
          const before = await snapshot(h)
          const res = await h.request({ method: 'POST', url: '/v1/environments', payload, headers: type === '' ? {} : { 'content-type': type } })
          checkCommon(res, `POST ${type} ${String(payload).slice(0, 50)}`)
          if (res.statusCode >= 400) assert.equal(await snapshot(h), before)
        }),
        { numRuns: RUNS },
      )
    })

    test(`[${dialect}] random query strings on the list`, async (t) => {
      const h = await build(t, dialect)
      const key = fc.oneof(fc.constantFrom('limit', 'skip', 'limit[]', 'skip[a]', '__proto__'), fc.string({ maxLength: 8 }))
      const value = fc.oneof(fc.integer({ min: -5, max: 2000 }).map(String), fc.string({ maxLength: 20 }), fc.constantFrom('1e3', '0x10', ' 5', '5 ', '', '%00', '1.0', '99999999999999999999'))
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(key, value), { maxLength: 4 }), async (pairs) => {
          const query = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')
          const res = await h.request({ url: `/v1/environments?${query}` })
          checkCommon(res, `GET ?${query}`)
          assert.ok([200, 204, 400].includes(res.statusCode), `${query} -> ${res.statusCode}`)
          if (res.statusCode === 400) assert.equal(res.json().errors[0].code, 'invalid_query_params')
        }),
        { numRuns: RUNS },
      )
    })

    test(`[${dialect}] random ids and paths`, async (t) => {
      const h = await build(t, dialect)
      const id = fc.oneof(
        fc.string({ maxLength: 30 }),
        fc.stringMatching(/^[0-9a-fA-F]{24}$/),
        fc.constantFrom('..', '.', '%2e%2e', '%00', '%zz', '%', 'a/b', h.account.environment._id.toUpperCase()),
      )
      const method = fc.constantFrom('GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS')
      const suffix = fc.constantFrom('', '/enable', '/enable/', '/x')
      await fc.assert(
        fc.asyncProperty(method, id, suffix, async (m, raw, tail) => {
          const before = await snapshot(h)
          const url = `/v1/environments/${/[%/]/.test(raw) ? raw : encodeURIComponent(raw)}${tail}`
          const res = await h.request({ method: m, url, ...(m === 'PUT' || m === 'POST' ? { body: { name: 'fuzz' } } : {}) })
          checkCommon(res, `${m} ${url}`)
          const changed = (await snapshot(h)) !== before
          if (changed) assert.ok(res.statusCode < 300, `${m} ${url} changed state with ${res.statusCode}`)
        }),
        { numRuns: RUNS },
      )
    })

    test(`[${dialect}] random Authorization headers never authenticate and always get the bare 401`, async (t) => {
      const h = await build(t, dialect)
      const header = fc.oneof(
        fc.string({ maxLength: 80 }),
        fc.string({ maxLength: 60 }).map((s) => `Bearer ${s}`),
        fc.constantFrom('Bearer', 'bearer ', `Bearer  ${h.account.token.slice(0, -1)}`, `Bearer ${h.account.token.toUpperCase()}`, `Basic ${h.account.token}`),
      ).filter((v) => !/[\r\n\u0000-\u001f\u007f-\uffff]/.test(v) && v.trim() !== `Bearer ${h.account.token}` && v.trim().toLowerCase() !== `bearer ${h.account.token}`.toLowerCase())
      await fc.assert(
        fc.asyncProperty(header, async (authorization) => {
          const res = await h.request({ url: '/v1/environments', token: null, headers: { authorization } })
          checkCommon(res, `Authorization: ${authorization}`)
          assert.equal(res.statusCode, 401, authorization)
          assert.deepEqual(Object.keys(res.json()), ['message'])
        }),
        { numRuns: RUNS },
      )
    })
  })
}
