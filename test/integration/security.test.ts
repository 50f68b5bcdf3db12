import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { authenticate, generateSecret, hashToken, sameHash } from '../../src/domain/tokens.ts'
import { build } from '../helpers/app.ts'
import { DIALECTS } from '../helpers/dialects.ts'

const comparable = (headers: Record<string, unknown>) => {
  const { date: _d, 'x-request-id': _r, ...rest } = headers
  return rest
}

for (const dialect of DIALECTS) {
  describe(`[${dialect}] security (issue 4)`, () => {
    test(`[${dialect}] tenancy: on every route another account's id answers exactly like a missing id`, async (t) => {
      const h = await build(t, dialect)
      const other = await h.newAccount()
      const theirs = (await h.request({ method: 'POST', url: '/v1/environments', token: other.token, body: { name: 'secret-name' } })).json()
      await h.invite(theirs._id)
      const missing = 'aaaaaaaaaaaaaaaaaaaaaaaa'
      for (const [method, suffix, body] of [
        ['GET', '', undefined],
        ['HEAD', '', undefined],
        ['PUT', '', { name: 'x' }],
        ['PUT', '/enable', undefined],
        ['DELETE', '', undefined],
        ['POST', '/enable', undefined],
      ] as const) {
        const a = await h.request({ method, url: `/v1/environments/${theirs._id}${suffix}`, body })
        const b = await h.request({ method, url: `/v1/environments/${missing}${suffix}`, body })
        assert.equal(a.statusCode, b.statusCode, `${method} ${suffix}`)
        assert.equal(a.body, b.body, `${method} ${suffix}`)
        assert.deepEqual(comparable(a.headers), comparable(b.headers), `${method} ${suffix}`)
        assert.doesNotMatch(a.body, /secret-name/)
      }
      const listed = (await h.request({ url: '/v1/environments?limit=1000' })).body
      assert.doesNotMatch(listed, new RegExp(`${theirs._id}|${other.environment._id}|secret-name`))
      const untouched = (await h.request({ url: `/v1/environments/${theirs._id}`, token: other.token })).json()
      assert.deepEqual(untouched, theirs)
    })

    test(`[${dialect}] tokens: only the hash is stored, and it is compared in constant time`, async (t) => {
      const h = await build(t, dialect)
      const raw = h.store.connection
      const rows =
        raw.dialect === 'sqlite'
          ? (raw.sqlite!.prepare('select * from api_tokens').all() as Array<Record<string, unknown>>)
          : (await h.store.db.selectFrom('api_tokens').selectAll().execute()) as Array<Record<string, unknown>>
      const dump = JSON.stringify(rows)
      assert.equal(dump.includes(h.account.token), false, 'the secret is not in the database')
      assert.ok(dump.includes(hashToken(h.account.token)), 'its SHA-256 is')
      assert.equal(sameHash(hashToken('a'), hashToken('a')), true)
      assert.equal(sameHash(hashToken('a'), hashToken('b')), false)
      assert.equal(sameHash(hashToken('a'), 'abc'), false, 'different lengths are unequal, not an exception')
      assert.ok(await authenticate(h.store, h.account.token, h.clock.now))
      assert.equal(await authenticate(h.store, generateSecret(), h.clock.now), undefined)
      assert.equal(await authenticate(h.store, '', h.clock.now), undefined)
      assert.equal(await authenticate(h.store, 'x'.repeat(10_000), h.clock.now), undefined)
    })

    test(`[${dialect}] an expired token stops working at its expiry, not after the cache`, async (t) => {
      const h = await build(t, dialect, { config: { tokenCacheMs: 5000 } })
      const token = await h.token(h.account.account._id, { expiresInMs: 60_000 })
      assert.equal((await h.request({ url: '/v1/environments', token })).statusCode, 200)
      h.clock.tick(60_000)
      assert.equal((await h.request({ url: '/v1/environments', token })).statusCode, 401)
    })
  })
}
