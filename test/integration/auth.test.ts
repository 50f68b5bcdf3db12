import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { assertError, build } from '../helpers/app.ts'
import { DIALECTS } from '../helpers/dialects.ts'

const UNAUTHORIZED = { message: 'Unauthorized' }
const FAILED = { message: 'Bearer Authentication Failed' }

for (const dialect of DIALECTS) {
  describe(`[${dialect}] authentication and access (C-2)`, () => {
    test(`[${dialect}] C-2.1/C-2.3: no Authorization header is a bare 401 "Unauthorized" with WWW-Authenticate`, async (t) => {
      const h = await build(t, dialect)
      for (const [method, url] of [
        ['GET', '/v1/environments'],
        ['POST', '/v1/environments'],
        ['GET', `/v1/environments/${h.account.environment._id}`],
        ['PUT', `/v1/environments/${h.account.environment._id}/enable`],
        ['GET', '/v1/environments/not-an-id'],
        ['GET', '/v1/no-such-route'],
        ['DELETE', '/v1/environments'],
        ['GET', '/v1'],
        ['GET', '//v1/environments'],
      ] as const) {
        const res = await h.request({ method, url, token: null })
        assert.equal(res.statusCode, 401, `${method} ${url}`)
        assert.deepEqual(res.json(), UNAUTHORIZED)
        assert.equal(res.headers['www-authenticate'], 'Bearer')
      }
    })

    test(`[${dialect}] C-2.2: a header that is not a valid bearer token fails authentication`, async (t) => {
      const h = await build(t, dialect)
      const revoked = await h.token(h.account.account._id)
      const revokedRow = (await h.store.listTokens(h.account.account._id)).at(-1)!
      await h.store.revokeToken(revokedRow._id, h.clock.now)
      const expiring = await h.token(h.account.account._id, { expiresInMs: 1000 })
      assert.equal((await h.request({ url: '/v1/environments', token: expiring })).statusCode, 200)
      h.clock.tick(1000)

      for (const authorization of [
        'Basic dXNlcjpwYXNz',
        'Bearer',
        'Bearer ',
        `Token ${h.account.token}`,
        `Bearer ${h.account.token} extra`,
        'Bearer ioe_unknown',
        `Bearer ${h.account.token}x`,
        `Bearer ${'a'.repeat(5000)}`,
        `Bearer ${revoked}`,
        `Bearer ${expiring}`,
      ]) {
        const res = await h.request({ url: '/v1/environments', token: null, headers: { authorization } })
        assert.equal(res.statusCode, 401, authorization.slice(0, 40))
        assert.deepEqual(res.json(), FAILED)
        assert.equal(res.headers['www-authenticate'], 'Bearer')
      }
    })

    test(`[${dialect}] C-2.2: the scheme is matched case-insensitively`, async (t) => {
      const h = await build(t, dialect)
      for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
        const res = await h.request({ url: '/v1/environments', token: null, headers: { authorization: `${scheme} ${h.account.token}` } })
        assert.equal(res.statusCode, 200, scheme)
      }
    })

    test(`[${dialect}] C-2.4: a custom-scope token may not read or write`, async (t) => {
      const h = await build(t, dialect)
      const custom = await h.token(h.account.account._id, { scope: 'custom' })
      const id = h.account.environment._id
      for (const [method, url, body] of [
        ['GET', '/v1/environments', undefined],
        ['GET', `/v1/environments/${id}`, undefined],
        ['POST', '/v1/environments', { name: 'x' }],
        ['PUT', `/v1/environments/${id}`, { name: 'x' }],
        ['PUT', `/v1/environments/${id}/enable`, undefined],
      ] as const) {
        const res = await h.request({ method, url, token: custom, body })
        assertError(res, 403, ['access_restricted'])
      }
    })

    test(`[${dialect}] C-2.4: a full token of a non-Production environment reads but cannot change`, async (t) => {
      const h = await build(t, dialect)
      const dev = (await h.request({ method: 'POST', url: '/v1/environments', body: { name: 'dev' } })).json()
      const devToken = await h.token(h.account.account._id, { environmentId: dev._id })
      assert.equal((await h.request({ url: '/v1/environments', token: devToken })).statusCode, 200)
      assert.equal((await h.request({ url: `/v1/environments/${dev._id}`, token: devToken })).statusCode, 200)
      assertError(await h.request({ method: 'POST', url: '/v1/environments', token: devToken, body: { name: 'y' } }), 403, ['access_restricted'])
      assertError(await h.request({ method: 'PUT', url: `/v1/environments/${dev._id}`, token: devToken, body: { name: 'y' } }), 403, ['access_restricted'])
      assertError(await h.request({ method: 'PUT', url: `/v1/environments/${dev._id}/enable`, token: devToken }), 403, ['access_restricted'])
      const after = (await h.request({ url: `/v1/environments/${dev._id}` })).json()
      assert.deepEqual(after, dev, 'nothing changed')
    })

    test(`[${dialect}] C-2.5: another account's environments are indistinguishable from missing ones`, async (t) => {
      const h = await build(t, dialect)
      const other = await h.newAccount()
      const theirs = (await h.request({ method: 'POST', url: '/v1/environments', token: other.token, body: { name: 'theirs' } })).json()
      const missing = 'ffffffffffffffffffffffff'
      for (const id of [theirs._id, other.environment._id]) {
        for (const [method, url, body] of [
          ['GET', `/v1/environments/${id}`, undefined],
          ['PUT', `/v1/environments/${id}`, { name: 'hijacked' }],
          ['PUT', `/v1/environments/${id}/enable`, undefined],
        ] as const) {
          const res = await h.request({ method, url, body })
          const control = await h.request({ method, url: url.replace(id, missing), body })
          assertError(res, 404, ['not_found'])
          assert.equal(res.body, control.body, 'same body as a missing id')
        }
      }
      const mine = (await h.request({ url: '/v1/environments' })).json() as Array<{ _id: string }>
      assert.deepEqual(mine.map((e) => e._id), [h.account.environment._id])
      const theirsNow = (await h.request({ url: `/v1/environments/${theirs._id}`, token: other.token })).json()
      assert.deepEqual(theirsNow, theirs, 'their environment is untouched')
    })

    test(`[${dialect}] C-2: 401 comes before 404 and 405, 403 before validation`, async (t) => {
      const h = await build(t, dialect)
      const custom = await h.token(h.account.account._id, { scope: 'custom' })
      assert.equal((await h.request({ url: '/v1/nope', token: 'bad' })).statusCode, 401)
      assert.equal((await h.request({ method: 'PATCH', url: '/v1/environments', token: 'bad' })).statusCode, 401)
      assert.equal((await h.request({ method: 'POST', url: '/v1/environments', token: 'bad', payload: '{bad json', headers: { 'content-type': 'application/json' } })).statusCode, 401)
      assertError(await h.request({ method: 'POST', url: '/v1/environments', token: custom, body: { name: 5 } }), 403, ['access_restricted'])
    })
  })
}
