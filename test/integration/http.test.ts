import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { assertError, build } from '../helpers/app.ts'
import { DIALECTS } from '../helpers/dialects.ts'

for (const dialect of DIALECTS) {
  describe(`[${dialect}] HTTP behaviour (C-3, C-4.6, C-6.2)`, () => {
    test(`[${dialect}] C-3.2: a known path with the wrong method is 405 with Allow`, async (t) => {
      const h = await build(t, dialect)
      const id = h.account.environment._id
      for (const [method, url, allow] of [
        ['DELETE', '/v1/environments', 'GET, HEAD, POST'],
        ['PATCH', '/v1/environments', 'GET, HEAD, POST'],
        ['PUT', '/v1/environments', 'GET, HEAD, POST'],
        ['DELETE', `/v1/environments/${id}`, 'GET, HEAD, PUT'],
        ['POST', `/v1/environments/${id}`, 'GET, HEAD, PUT'],
        ['PATCH', `/v1/environments/${id}`, 'GET, HEAD, PUT'],
        ['GET', `/v1/environments/${id}/enable`, 'PUT'],
        ['POST', `/v1/environments/${id}/enable`, 'PUT'],
        ['DELETE', `/v1/environments/${id}/enable`, 'PUT'],
      ] as const) {
        const res = await h.request({ method, url, payload: '{broken', headers: { 'content-type': 'application/json' } })
        assertError(res, 405, ['method_not_allowed'])
        assert.equal(res.headers.allow, allow, `${method} ${url}`)
      }
      assert.equal((await h.request({ url: `/v1/environments/${id}` })).json().name, 'Production', 'nothing changed')
    })

    test(`[${dialect}] C-3.2: unknown routes are 404 with the envelope (after authentication)`, async (t) => {
      const h = await build(t, dialect)
      for (const url of ['/v1', '/v1/', '/v1/nothing', '/v1/environments/x/y/z', '/v2/environments', '/V1/environments']) {
        assertError(await h.request({ url }), 404, ['not_found'])
      }
    })

    test(`[${dialect}] every path but /health needs a token first, so a 404 reveals nothing`, async (t) => {
      const h = await build(t, dialect)
      for (const url of ['/favicon.ico', '/./v1/environments', '/x/../v1/environments', '/v1%2fenvironments', '/v1;/environments']) {
        const res = await h.request({ url, token: null })
        assert.equal(res.statusCode, 401, url)
        assert.deepEqual(res.json(), { message: 'Unauthorized' })
      }
    })

    test(`[${dialect}] trailing slashes are tolerated`, async (t) => {
      const h = await build(t, dialect)
      assert.equal((await h.request({ url: '/v1/environments/' })).statusCode, 200)
      assert.equal((await h.request({ url: `/v1/environments/${h.account.environment._id}/` })).statusCode, 200)
    })

    test(`[${dialect}] C-4.6: HEAD of an environment is GET without the body`, async (t) => {
      const h = await build(t, dialect)
      const get = await h.request({ url: `/v1/environments/${h.account.environment._id}` })
      const head = await h.request({ method: 'HEAD', url: `/v1/environments/${h.account.environment._id}` })
      assert.equal(head.statusCode, 200)
      assert.equal(head.body, '')
      assert.equal(head.headers['content-length'], get.headers['content-length'])
      assertError(await h.request({ url: '/v1/environments/ffffffffffffffffffffffff' }), 404, ['not_found'])
      assert.equal((await h.request({ method: 'HEAD', url: '/v1/environments/ffffffffffffffffffffffff' })).statusCode, 404)
    })

    test(`[${dialect}] C-6.2: every response carries X-Request-Id, the caller's when sane`, async (t) => {
      const h = await build(t, dialect)
      const mine = await h.request({ url: '/v1/environments', headers: { 'x-request-id': 'trace-123:abc' } })
      assert.equal(mine.headers['x-request-id'], 'trace-123:abc')
      for (const res of [
        await h.request({ url: '/v1/environments' }),
        await h.request({ url: '/v1/environments', token: null }),
        await h.request({ url: '/v1/nope' }),
        await h.request({ url: '/v1/environments/%zz' }),
        await h.request({ method: 'DELETE', url: '/v1/environments' }),
        await h.request({ url: '/v1/environments', headers: { 'x-request-id': 'bad id with spaces' } }),
        await h.request({ url: '/v1/environments', headers: { 'x-request-id': 'x'.repeat(500) } }),
      ]) {
        assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/)
      }
    })

    test(`[${dialect}] C-3.3: a real fault is a bare 500 internal_error with no internals`, async (t) => {
      const h = await build(t, dialect)
      const original = h.store.getEnvironment.bind(h.store)
      h.store.getEnvironment = async () => {
        throw new Error('SQLITE_CORRUPT: secret table environments at /var/lib/x')
      }
      t.after(() => {
        h.store.getEnvironment = original
      })
      const res = await h.request({ url: `/v1/environments/${h.account.environment._id}` })
      assertError(res, 500, ['internal_error'])
      assert.doesNotMatch(res.body, /SQLITE|secret|\/var|at /)
    })

    test(`[${dialect}] responses are not cacheable or sniffable`, async (t) => {
      const h = await build(t, dialect)
      const res = await h.request({ url: '/v1/environments' })
      assert.equal(res.headers['cache-control'], 'no-store')
      assert.equal(res.headers['x-content-type-options'], 'nosniff')
    })

    test(`[${dialect}] /health answers without a token`, async (t) => {
      const h = await build(t, dialect)
      const res = await h.app.inject({ url: '/health' })
      assert.equal(res.statusCode, 200)
      assert.deepEqual(res.json(), { status: 'ok' })
    })
  })
}
