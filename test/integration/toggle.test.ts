import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { resolveInvitation } from '../../src/domain/admin.ts'
import { assertError, build, type Harness } from '../helpers/app.ts'
import { DIALECTS } from '../helpers/dialects.ts'

const toggle = (h: Harness, id: string, extra: { payload?: string; headers?: Record<string, string> } = {}) =>
  h.request({ method: 'PUT', url: `/v1/environments/${id}/enable`, ...extra })
const enabled = async (h: Harness, id: string) => (await h.request({ url: `/v1/environments/${id}` })).json().enabled as boolean
const create = async (h: Harness, name = 'dev') => (await h.request({ method: 'POST', url: '/v1/environments', body: { name } })).json()

for (const dialect of DIALECTS) {
  describe(`[${dialect}] PUT /v1/environments/{_id}/enable (C-4.5)`, () => {
    test(`[${dialect}] flips enabled with 204 and no body; lastModified moves`, async (t) => {
      const h = await build(t, dialect)
      const env = await create(h)
      h.clock.tick(10)
      const off = await toggle(h, env._id)
      assert.equal(off.statusCode, 204)
      assert.equal(off.body, '')
      assert.equal(off.headers['content-type'], undefined)
      assert.equal(off.headers['content-length'], undefined)
      const after = (await h.request({ url: `/v1/environments/${env._id}` })).json()
      assert.equal(after.enabled, false)
      assert.equal(after.lastModified, '2026-03-01T09:15:02.128Z')
      assert.equal((await toggle(h, env._id)).statusCode, 204)
      assert.equal(await enabled(h, env._id), true)
    })

    test(`[${dialect}] Production cannot be disabled: 400 production_cannot_be_disabled, stays enabled`, async (t) => {
      const h = await build(t, dialect)
      assertError(await toggle(h, h.account.environment._id), 400, ['production_cannot_be_disabled'])
      assert.equal(await enabled(h, h.account.environment._id), true)
    })

    test(`[${dialect}] a pending invitation blocks disabling (422) until accepted or dismissed`, async (t) => {
      const h = await build(t, dialect)
      const env = await create(h)
      const first = await h.invite(env._id)
      const second = await h.invite(env._id)
      const res = await toggle(h, env._id)
      assertError(res, 422, ['pending_invitations'])
      assert.match(res.json().errors[0].message, /2 pending user invitations/)
      assert.equal(await enabled(h, env._id), true)
      await resolveInvitation(h.store, first, 'accepted')
      assertError(await toggle(h, env._id), 422, ['pending_invitations'])
      await resolveInvitation(h.store, second, 'dismissed')
      assert.equal((await toggle(h, env._id)).statusCode, 204)
      assert.equal(await enabled(h, env._id), false)
    })

    test(`[${dialect}] invitations never block enabling, and only block their own environment`, async (t) => {
      const h = await build(t, dialect)
      const env = await create(h)
      const other = await create(h, 'other')
      assert.equal((await toggle(h, env._id)).statusCode, 204)
      await h.invite(env._id)
      assert.equal((await toggle(h, env._id)).statusCode, 204, 'enable despite the invitation')
      assert.equal(await enabled(h, env._id), true)
      assert.equal((await toggle(h, other._id)).statusCode, 204, 'another environment is not blocked')
    })

    test(`[${dialect}] enabling beyond enabledLicenses is 422 license_limit_exceeded`, async (t) => {
      const h = await build(t, dialect, { account: { licenses: 2 } })
      const a = await create(h, 'a')
      const b = await create(h, 'b')
      assert.equal(a.enabled, true)
      assert.equal(b.enabled, false)
      assertError(await toggle(h, b._id), 422, ['license_limit_exceeded'])
      assert.equal(await enabled(h, b._id), false)
      assert.equal((await toggle(h, a._id)).statusCode, 204)
      assert.equal((await toggle(h, b._id)).statusCode, 204)
      assert.equal(await enabled(h, b._id), true)
    })

    test(`[${dialect}] any request body is ignored, whatever its type or size`, async (t) => {
      const h = await build(t, dialect, { config: { bodyLimit: 100 } })
      const env = await create(h)
      for (const [payload, type] of [
        ['{not json', 'application/json'],
        ['{"enabled":true}', 'application/json'],
        ['hello', 'text/plain'],
        ['x'.repeat(10_000), 'application/octet-stream'],
        ['', 'application/json'],
      ] as const) {
        const res = await toggle(h, env._id, { payload, headers: { 'content-type': type } })
        assert.equal(res.statusCode, 204, `${type} ${payload.slice(0, 10)}`)
      }
      assert.equal(await enabled(h, env._id), false, 'five flips')
    })

    test(`[${dialect}] unknown and malformed ids are 404`, async (t) => {
      const h = await build(t, dialect)
      assertError(await toggle(h, 'ffffffffffffffffffffffff'), 404, ['not_found'])
      assertError(await toggle(h, 'nope'), 404, ['not_found'])
    })
  })
}
