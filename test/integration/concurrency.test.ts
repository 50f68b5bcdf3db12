import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { build } from '../helpers/app.ts'
import { DIALECTS } from '../helpers/dialects.ts'

for (const dialect of DIALECTS) {
  describe(`[${dialect}] concurrency (C-4.5, C-4.2)`, () => {
    test(`[${dialect}] 50 parallel toggles of one environment flip it exactly 50 times`, async (t) => {
      const h = await build(t, dialect)
      const env = (await h.request({ method: 'POST', url: '/v1/environments', body: { name: 'hot' } })).json()
      const results = await Promise.all(
        Array.from({ length: 51 }, () => h.request({ method: 'PUT', url: `/v1/environments/${env._id}/enable` })),
      )
      assert.deepEqual([...new Set(results.map((r) => r.statusCode))], [204])
      // 51 flips from enabled: odd, so disabled
      assert.equal((await h.request({ url: `/v1/environments/${env._id}` })).json().enabled, false)
    })

    test(`[${dialect}] 50 parallel creates: 50 distinct ids, all listed, no 5xx`, async (t) => {
      const h = await build(t, dialect)
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => h.request({ method: 'POST', url: '/v1/environments', body: { name: `c${i}` } })),
      )
      assert.deepEqual([...new Set(results.map((r) => r.statusCode))], [201])
      const ids = new Set(results.map((r) => r.json()._id as string))
      assert.equal(ids.size, 50)
      const listed = (await h.request({ url: '/v1/environments' })).json() as Array<{ _id: string }>
      assert.equal(listed.length, 51)
      for (const id of ids) assert.ok(listed.some((e) => e._id === id))
    })

    test(`[${dialect}] parallel creates never pass maxEnvironments; parallel enables never pass the licenses`, async (t) => {
      const h = await build(t, dialect, { account: { maxEnvironments: 10, licenses: 3 } })
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) => h.request({ method: 'POST', url: '/v1/environments', body: { name: `c${i}` } })),
      )
      assert.equal(results.filter((r) => r.statusCode === 201).length, 9)
      assert.equal(results.filter((r) => r.statusCode === 422 && r.json().errors[0].code === 'limit_exceeded').length, 21)
      const envs = (await h.request({ url: '/v1/environments' })).json() as Array<{ _id: string; enabled: boolean }>
      assert.equal(envs.filter((e) => e.enabled).length, 3)
      const disabled = envs.filter((e) => !e.enabled)
      const toggles = await Promise.all(disabled.map((e) => h.request({ method: 'PUT', url: `/v1/environments/${e._id}/enable` })))
      assert.ok(toggles.every((r) => r.statusCode === 422))
      const after = (await h.request({ url: '/v1/environments' })).json() as Array<{ enabled: boolean }>
      assert.equal(after.filter((e) => e.enabled).length, 3)
    })
  })
}
