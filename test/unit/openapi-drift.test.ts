import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { buildApp } from '../../src/app.ts'
import { KyselyStore } from '../../src/storage/kysely-store.ts'

/**
 * ioenv's OpenAPI document is generated from the route schemas; this compares it with the upstream
 * reference and fails on any drift in the five upstream operations: paths, methods, operation ids,
 * parameters, request and response schemas (property names, types, required), response statuses.
 */
type Schema = Record<string, any>
const upstream = JSON.parse(readFileSync(new URL('../fixtures/upstream/environments.openapi.json', import.meta.url), 'utf8'))

function resolve(doc: Schema, schema: Schema): Schema {
  if (schema.$ref) {
    const path = String(schema.$ref).replace(/^#\//, '').split('/').map((p) => p.replace(/~1/g, '/'))
    return resolve(doc, path.reduce((node: Schema, key) => node[key], doc))
  }
  if (schema.allOf) {
    const parts = schema.allOf.map((s: Schema) => resolve(doc, s))
    return {
      type: 'object',
      properties: Object.assign({}, ...parts.map((p: Schema) => p.properties ?? {})),
      required: [...new Set(parts.flatMap((p: Schema) => p.required ?? []))],
    }
  }
  return schema
}

const types = (s: Schema): string[] => {
  const branches: Schema[] | undefined = s.anyOf ?? s.oneOf
  if (branches) return [...new Set(branches.flatMap(types))].sort()
  return [s.type ?? 'any'].flat().map(String).sort()
}

/**
 * Request bodies must match exactly. A response may promise more than upstream (require fields that
 * upstream leaves optional: ioenv always sends them), never less, and must have the same properties.
 */
function assertCompatible(mine: unknown, theirs: unknown, label: string, response: boolean): void {
  if (response && mine !== null && theirs !== null && typeof mine === 'object' && typeof theirs === 'object' && !Array.isArray(mine)) {
    const m = mine as { required: string[]; properties: Record<string, unknown> }
    const u = theirs as { required: string[]; properties: Record<string, unknown> }
    assert.deepEqual(Object.keys(m.properties).sort(), Object.keys(u.properties).sort(), `${label}: properties`)
    for (const r of u.required) assert.ok(m.required.includes(r), `${label}: ${r} is required upstream`)
    for (const k of Object.keys(u.properties)) assertCompatible(m.properties[k], u.properties[k], `${label}.${k}`, response)
    return
  }
  if (response && Array.isArray(mine) && Array.isArray(theirs) && typeof theirs[0] === 'object') {
    assertCompatible(mine[0], theirs[0], `${label}[]`, response)
    return
  }
  if (response && Array.isArray(mine) && Array.isArray(theirs)) {
    // types: ours must be among upstream's (e.g. upstream code is string|integer, ours string)
    for (const t of mine) assert.ok((theirs as string[]).includes(t as string), `${label}: type ${String(t)} is allowed upstream (${theirs.join('|')})`)
    return
  }
  assert.deepEqual(mine, theirs, label)
}

/** The shape of a schema: for objects, property -> shape; for arrays, [item shape]; else its types. */
function shape(doc: Schema, raw: Schema): unknown {
  const s = resolve(doc, raw)
  const objectBranch = s.anyOf?.map((b: Schema) => resolve(doc, b)).find((b: Schema) => b.type === 'object')
  if (objectBranch) return shape(doc, objectBranch)
  if (s.type === 'object' || s.properties) {
    return {
      required: [...(s.required ?? [])].sort(),
      properties: Object.fromEntries(Object.entries<Schema>(s.properties ?? {}).map(([k, v]) => [k, shape(doc, v)])),
    }
  }
  if (s.type === 'array') return [shape(doc, s.items)]
  return types(s).filter((t) => t !== 'null')
}

test('the generated OpenAPI document matches the upstream reference for the five operations', async (t) => {
  const store = await KyselyStore.open({ dialect: 'sqlite', file: ':memory:' })
  const app = await buildApp({ store, logger: false, config: { bodyLimit: 1 << 20, trustProxy: false, tokenCacheMs: 0, logLevel: 'silent' } })
  t.after(async () => {
    await app.close()
    await store.close()
  })
  const res = await app.inject({ url: '/openapi.json' })
  assert.equal(res.statusCode, 200, 'served without a token')
  const ours = res.json()
  assert.equal(ours.openapi, '3.1.0')
  assert.deepEqual(ours.components.securitySchemes, upstream.components.securitySchemes)
  assert.deepEqual(ours.security, upstream.security)

  let operations = 0
  for (const [path, methods] of Object.entries<Schema>(upstream.paths)) {
    for (const [method, up] of Object.entries<Schema>(methods)) {
      operations++
      const label = `${method.toUpperCase()} ${path}`
      const mine = ours.paths[path]?.[method]
      assert.ok(mine, `${label} is in the document`)
      assert.equal(mine.operationId, up.operationId, label)
      assert.deepEqual(mine.tags, up.tags, label)
      assert.equal(mine.summary, up.summary, label)
      for (const p of up.parameters ?? []) {
        const q = (mine.parameters ?? []).find((x: Schema) => x.name === p.name && x.in === p.in)
        assert.ok(q, `${label}: parameter ${p.name}`)
        assert.equal(q.required, p.required)
        assert.deepEqual(q.schema, p.schema, `${label}: parameter ${p.name} schema`)
      }
      if (up.requestBody) {
        assert.equal(mine.requestBody?.required, up.requestBody.required, label)
        assertCompatible(
          shape(ours, mine.requestBody.content['application/json'].schema),
          shape(upstream, up.requestBody.content['application/json'].schema),
          `${label}: request body`,
          false,
        )
      }
      for (const [status, upRes] of Object.entries<Schema>(up.responses)) {
        const myRes = mine.responses[status]
        assert.ok(myRes, `${label}: response ${status}`)
        const upResolved = resolve(upstream, upRes)
        const upSchema = upResolved.content?.['application/json']?.schema
        const mySchema = myRes.content?.['application/json']?.schema
        assert.equal(mySchema === undefined, upSchema === undefined, `${label} ${status}: has a body exactly when upstream does`)
        if (upSchema) {
          assertCompatible(shape(ours, mySchema), shape(upstream, upSchema), `${label} ${status}`, true)
        }
        for (const header of Object.keys(upResolved.headers ?? {})) assert.ok(myRes.headers?.[header], `${label} ${status}: header ${header}`)
      }
    }
  }
  assert.equal(operations, 5)
  const ourOperations = Object.values<Schema>(ours.paths).flatMap((m) => Object.values<Schema>(m)).map((o) => o.operationId).sort()
  assert.deepEqual(ourOperations, ['createEnvironment', 'getEnvironment', 'listEnvironments', 'toggleEnvironment', 'updateEnvironment'])
})

test('/docs serves the interactive reference and its renderer locally', async (t) => {
  const store = await KyselyStore.open({ dialect: 'sqlite', file: ':memory:' })
  const app = await buildApp({ store, logger: false, config: { bodyLimit: 1 << 20, trustProxy: false, tokenCacheMs: 0, logLevel: 'silent' } })
  t.after(async () => {
    await app.close()
    await store.close()
  })
  const page = await app.inject({ url: '/docs' })
  assert.equal(page.statusCode, 200)
  assert.match(String(page.headers['content-type']), /^text\/html/)
  assert.match(page.body, /spec-url="\/openapi.json"/)
  assert.doesNotMatch(page.body, /https?:\/\//, 'no external resources')
  const js = await app.inject({ url: '/docs/redoc.standalone.js' })
  assert.equal(js.statusCode, 200)
  assert.ok(js.body.length > 100_000)
})
