import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { assertError, build, type Harness } from '../helpers/app.ts'
import { DIALECTS } from '../helpers/dialects.ts'
import { ENVIRONMENT_KEYS } from '../helpers/spec.ts'

const post = (h: Harness, body: unknown) => h.request({ method: 'POST', url: '/v1/environments', body })
const put = (h: Harness, id: string, body: unknown) => h.request({ method: 'PUT', url: `/v1/environments/${id}`, body })
const count = async (h: Harness) => ((await h.request({ url: '/v1/environments' })).json() as unknown[]).length

/** Bodies that must be refused by both POST and PUT, with the exact errors (C-4.2). */
const INVALID: Array<[string, unknown, Array<{ code: string; field?: string } | string>]> = [
  ['name missing', {}, [{ code: 'missing_required_field', field: 'name' }]],
  ['name null', { name: null }, [{ code: 'missing_required_field', field: 'name' }]],
  ['name a number', { name: 123 }, [{ code: 'invalid_field', field: 'name' }]],
  ['name a boolean', { name: true }, [{ code: 'invalid_field', field: 'name' }]],
  ['name an object', { name: { first: 'x' } }, [{ code: 'invalid_field', field: 'name' }]],
  ['name empty', { name: '' }, [{ code: 'invalid_field', field: 'name' }]],
  ['name blank', { name: ' \t\n ' }, [{ code: 'invalid_field', field: 'name' }]],
  ['name 257 characters', { name: 'x'.repeat(257) }, [{ code: 'invalid_field', field: 'name' }]],
  ['name with NUL', { name: 'a\u0000b' }, [{ code: 'invalid_field', field: 'name' }]],
  ['name with a lone surrogate', { name: 'a\ud800b' }, [{ code: 'invalid_field', field: 'name' }]],
  ['description a number', { name: 'x', description: 5 }, [{ code: 'invalid_field', field: 'description' }]],
  ['description 10 001 characters', { name: 'x', description: 'd'.repeat(10_001) }, [{ code: 'invalid_field', field: 'description' }]],
  ['apim a string', { name: 'x', apim: 'g' }, [{ code: 'invalid_field', field: 'apim' }]],
  ['apim an array', { name: 'x', apim: ['g'] }, [{ code: 'invalid_field', field: 'apim' }]],
  ['apim.groupId a number', { name: 'x', apim: { groupId: 1 } }, [{ code: 'invalid_field', field: 'apim.groupId' }]],
  [
    'several problems at once',
    { name: 7, description: false, apim: { environmentId: 1, groupId: {} } },
    [
      { code: 'invalid_field', field: 'name' },
      { code: 'invalid_field', field: 'description' },
      { code: 'invalid_field', field: 'apim.environmentId' },
      { code: 'invalid_field', field: 'apim.groupId' },
    ],
  ],
  ['body an array', [{ name: 'x' }], ['invalid_body']],
  ['body a string', 'x', ['invalid_body']],
  ['body a number', 42, ['invalid_body']],
  ['body null', null, ['invalid_body']],
]

for (const dialect of DIALECTS) {
  describe(`[${dialect}] POST /v1/environments (C-4.2)`, () => {
    test(`[${dialect}] creates with 201, Location and the full object`, async (t) => {
      const h = await build(t, dialect)
      h.clock.tick(5)
      const res = await post(h, { name: 'dev', description: 'for developers', apim: { environmentId: 'e1', environmentHRID: 'dev', groupId: 'g1' } })
      assert.equal(res.statusCode, 201)
      const env = res.json()
      assert.equal(res.headers.location, `http://localhost:80/v1/environments/${env._id}`)
      assert.deepEqual(Object.keys(env).sort(), ['_envUserId', '_id', 'apim', 'createdAt', 'description', 'enabled', 'lastModified', 'name'])
      assert.match(env._id, /^[0-9a-f]{24}$/)
      assert.match(env._envUserId, /^[0-9a-f]{24}$/)
      assert.notEqual(env._envUserId, h.account.account.ownerUserId, 'C-1.4: its own owner user')
      assert.notEqual(env._id, env._envUserId)
      assert.deepEqual(
        { ...env, _id: 'x', _envUserId: 'y' },
        {
          _id: 'x',
          _envUserId: 'y',
          name: 'dev',
          description: 'for developers',
          apim: { environmentId: 'e1', environmentHRID: 'dev', groupId: 'g1' },
          enabled: true,
          createdAt: '2026-03-01T09:15:02.123Z',
          lastModified: '2026-03-01T09:15:02.123Z',
        },
      )
      const got = await h.request({ url: `/v1/environments/${env._id}` })
      assert.equal(got.statusCode, 200)
      assert.deepEqual(got.json(), env, 'C-4.6: read your writes')
    })

    test(`[${dialect}] optional fields that are unset are absent, not null (C-1.2)`, async (t) => {
      const h = await build(t, dialect)
      const env = (await post(h, { name: 'bare', description: null, apim: null })).json()
      assert.deepEqual(Object.keys(env).sort(), ['_envUserId', '_id', 'createdAt', 'enabled', 'lastModified', 'name'])
      for (const key of Object.keys(env)) assert.ok(ENVIRONMENT_KEYS.has(key))
      const partial = (await post(h, { name: 'partial', apim: { groupId: 'g', environmentId: null, extra: 'ignored' } })).json()
      assert.deepEqual(partial.apim, { groupId: 'g' })
    })

    test(`[${dialect}] names are not unique and are echoed byte-exact (C-1.7)`, async (t) => {
      const h = await build(t, dialect)
      const names = ['dev', 'dev', '  padded  ', 'Ünïcødé 名前 🚀 \u200d👩‍💻', 'a"b\\c\n\td', '\u{1F600}'.repeat(256), 'x'.repeat(256)]
      for (const name of names) {
        const res = await post(h, { name })
        assert.equal(res.statusCode, 201, name.slice(0, 20))
        assert.equal(res.json().name, name)
        assert.equal((await h.request({ url: `/v1/environments/${res.json()._id}` })).json().name, name)
      }
    })

    test(`[${dialect}] read-only and unknown fields are ignored, so a GET body can be sent back`, async (t) => {
      const h = await build(t, dialect)
      const original = (await post(h, { name: 'orig', description: 'd' })).json()
      const copy = await post(h, {
        ...original,
        enabled: false,
        _envUserId: 'aaaaaaaaaaaaaaaaaaaaaaaa',
        createdAt: '2000-01-01T00:00:00.000Z',
        _integrationId: 'bbbbbbbbbbbbbbbbbbbbbbbb',
        unknown: { deep: [1, 2] },
      })
      assert.equal(copy.statusCode, 201)
      const env = copy.json()
      assert.notEqual(env._id, original._id)
      assert.notEqual(env._envUserId, 'aaaaaaaaaaaaaaaaaaaaaaaa')
      assert.equal(env.enabled, true)
      assert.equal(env.createdAt, '2026-03-01T09:15:02.118Z')
      assert.equal(env._integrationId, undefined)
      assert.equal(env.unknown, undefined)
    })

    test(`[${dialect}] __proto__ and constructor keys are treated as unknown fields`, async (t) => {
      const h = await build(t, dialect)
      const res = await h.request({
        method: 'POST',
        url: '/v1/environments',
        payload: '{"name":"p","__proto__":{"enabled":false,"isProduction":true},"constructor":{"prototype":{"x":1}}}',
        headers: { 'content-type': 'application/json' },
      })
      assert.equal(res.statusCode, 201)
      assert.equal(res.json().enabled, true)
      assert.equal(({} as Record<string, unknown>).x, undefined)
    })

    for (const [label, body, expected] of INVALID) {
      test(`[${dialect}] 422 when ${label}; nothing is stored`, async (t) => {
        const h = await build(t, dialect)
        const before = await count(h)
        assertError(await post(h, body), 422, expected)
        assert.equal(await count(h), before)
      })
    }

    test(`[${dialect}] limits: 256 characters of any script are fine, 10 000 of description too`, async (t) => {
      const h = await build(t, dialect)
      assert.equal((await post(h, { name: 'é'.repeat(256), description: 'd'.repeat(10_000) })).statusCode, 201)
    })

    test(`[${dialect}] creating beyond maxEnvironments is 422 limit_exceeded (Production counts)`, async (t) => {
      const h = await build(t, dialect, { account: { maxEnvironments: 3 } })
      assert.equal((await post(h, { name: 'a' })).statusCode, 201)
      assert.equal((await post(h, { name: 'b' })).statusCode, 201)
      assertError(await post(h, { name: 'c' }), 422, ['limit_exceeded'])
      assert.equal(await count(h), 3)
    })

    test(`[${dialect}] C-1.4: created disabled when no license slot is free`, async (t) => {
      const h = await build(t, dialect, { account: { licenses: 2 } })
      const a = (await post(h, { name: 'a' })).json()
      const b = (await post(h, { name: 'b' })).json()
      assert.equal(a.enabled, true)
      assert.equal(b.enabled, false)
    })

    test(`[${dialect}] C-3.2: malformed JSON 400, wrong media type 415, too large 413, +json and charset accepted`, async (t) => {
      const h = await build(t, dialect, { config: { bodyLimit: 2048 } })
      const send = (payload: string, contentType?: string) =>
        h.request({ method: 'POST', url: '/v1/environments', payload, headers: contentType === undefined ? {} : { 'content-type': contentType } })
      assertError(await send('{"name":', 'application/json'), 400, ['invalid_json'])
      assertError(await send("{'name':'x'}", 'application/json'), 400, ['invalid_json'])
      assertError(await send('', 'application/json'), 400, ['invalid_json'])
      assertError(await send('{"name":"x"}', 'text/plain'), 415, ['unsupported_media_type'])
      assertError(await send('name=x', 'application/x-www-form-urlencoded'), 415, ['unsupported_media_type'])
      assertError(await send('{"name":"x"}', 'application/xml'), 415, ['unsupported_media_type'])
      assertError(await send('{"name":"x"}'), 415, ['unsupported_media_type'])
      assertError(await send(JSON.stringify({ name: 'x', description: 'd'.repeat(4000) }), 'application/json'), 413, ['payload_too_large'])
      assert.equal((await send('{"name":"a"}', 'application/json; charset=utf-8')).statusCode, 201)
      assert.equal((await send('{"name":"b"}', 'application/vnd.ioenv+json')).statusCode, 201)
      assert.equal((await send('{"name":"c"}', 'APPLICATION/JSON')).statusCode, 201)
      assert.equal((await send('{"name":"d"}', 'application/merge-patch+json; charset=UTF-8')).statusCode, 201)
      assertError(await send('{"name":"e"}', 'application/json; charset=latin1'), 415, ['unsupported_media_type'])
      assertError(await send('{"name":"e"}', 'multipart/form-data; boundary=x'), 415, ['unsupported_media_type'])
      const invalidUtf8 = await h.request({
        method: 'POST',
        url: '/v1/environments',
        payload: Buffer.from([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0x61, 0xff, 0x22, 0x7d]), // {"name":"a\xff"}
        headers: { 'content-type': 'application/json' },
      })
      assertError(invalidUtf8, 400, ['invalid_json'])
      assert.match(invalidUtf8.json().errors[0].message, /UTF-8/)
      assert.equal(await count(h), 5)
    })

    test(`[${dialect}] POST with no body at all is 422 invalid_body`, async (t) => {
      const h = await build(t, dialect)
      assertError(await h.request({ method: 'POST', url: '/v1/environments' }), 422, ['invalid_body'])
    })
  })

  describe(`[${dialect}] GET and PUT /v1/environments/{_id} (C-4.3, C-4.4)`, () => {
    test(`[${dialect}] GET: 200 by id (any hex case), 404 for unknown or malformed ids`, async (t) => {
      const h = await build(t, dialect)
      const id = h.account.environment._id
      const res = await h.request({ url: `/v1/environments/${id}` })
      assert.equal(res.statusCode, 200)
      assert.equal(res.json().name, 'Production')
      assert.equal(res.json().enabled, true)
      assert.equal(res.json()._envUserId, h.account.account.ownerUserId, 'C-1.3: Production belongs to the owner')
      assert.equal((await h.request({ url: `/v1/environments/${id.toUpperCase()}` })).json()._id, id)
      for (const bad of ['ffffffffffffffffffffffff', 'xyz', '123', `${id}0`, 'gggggggggggggggggggggggg', '%00', 'a'.repeat(500), '..%2f..%2fetc', '%zz', '%E0%A4%A']) {
        assertError(await h.request({ url: `/v1/environments/${bad}` }), 404, ['not_found'])
      }
    })

    test(`[${dialect}] PUT replaces the mutable fields; omitted optional fields are removed`, async (t) => {
      const h = await build(t, dialect)
      const env = (await post(h, { name: 'dev', description: 'd', apim: { groupId: 'g' } })).json()
      h.clock.tick(1000)
      const res = await put(h, env._id, { name: 'renamed' })
      assert.equal(res.statusCode, 200)
      assert.deepEqual(res.json(), {
        _id: env._id,
        name: 'renamed',
        _envUserId: env._envUserId,
        enabled: true,
        createdAt: env.createdAt,
        lastModified: '2026-03-01T09:15:03.118Z',
      })
      assert.deepEqual((await h.request({ url: `/v1/environments/${env._id}` })).json(), res.json())
    })

    test(`[${dialect}] PUT ignores read-only fields; lastModified moves forward even when the clock does not`, async (t) => {
      const h = await build(t, dialect)
      const env = (await post(h, { name: 'dev' })).json()
      const first = (await put(h, env._id, { ...env, name: 'a', enabled: false, _id: 'ffffffffffffffffffffffff', _envUserId: 'ffffffffffffffffffffffff', createdAt: '1999-01-01T00:00:00.000Z' })).json()
      assert.equal(first._id, env._id)
      assert.equal(first.enabled, true)
      assert.equal(first._envUserId, env._envUserId)
      assert.equal(first.createdAt, env.createdAt)
      assert.ok(first.lastModified > env.lastModified)
      h.clock.now -= 60_000 // the clock goes back
      const second = (await put(h, env._id, { name: 'b' })).json()
      assert.ok(second.lastModified > first.lastModified, `${second.lastModified} > ${first.lastModified}`)
    })

    test(`[${dialect}] renaming Production keeps it Production (C-1.3)`, async (t) => {
      const h = await build(t, dialect)
      const id = h.account.environment._id
      assert.equal((await put(h, id, { name: 'Prod (renamed)' })).statusCode, 200)
      assertError(await h.request({ method: 'PUT', url: `/v1/environments/${id}/enable` }), 400, ['production_cannot_be_disabled'])
    })

    for (const [label, body, expected] of INVALID) {
      test(`[${dialect}] PUT 422 when ${label}; nothing changes`, async (t) => {
        const h = await build(t, dialect)
        const env = (await post(h, { name: 'keep', description: 'me' })).json()
        assertError(await put(h, env._id, body), 422, expected)
        assert.deepEqual((await h.request({ url: `/v1/environments/${env._id}` })).json(), env)
      })
    }

    test(`[${dialect}] PUT to an unknown id is 404 (after body checks pass)`, async (t) => {
      const h = await build(t, dialect)
      assertError(await put(h, 'ffffffffffffffffffffffff', { name: 'x' }), 404, ['not_found'])
      assertError(await put(h, 'nope', { name: 'x' }), 404, ['not_found'])
    })
  })
}
