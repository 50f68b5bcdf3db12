import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'

/**
 * Every response body a test sees is checked against the upstream reference schemas
 * (`../shared/spec/environments.openapi.json`, vendored under test/fixtures/upstream so a fresh clone
 * has it; spec-drift.test.ts fails if the two copies ever differ).
 */
const doc = JSON.parse(readFileSync(new URL('../fixtures/upstream/environments.openapi.json', import.meta.url), 'utf8'))

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020
const ajv = new Ajv2020({ strict: false, allErrors: true })
addFormats(ajv)
ajv.addFormat('objectId', /^[0-9a-f]{24}$/)
ajv.addSchema(doc, 'spec')

const compile = (ref: string) => {
  const v = ajv.getSchema(`spec${ref}`)
  assert.ok(v, `schema ${ref} is in the reference`)
  return v
}
const validators = {
  environment: compile('#/components/schemas/Response'),
  error: compile('#/components/schemas/Error'),
  unauthorized: compile('#/components/responses/401-unauthorized/content/application~1json/schema'),
}

export type Kind = keyof typeof validators | 'environments'

export function assertSchema(kind: Kind, body: unknown): void {
  if (kind === 'environments') {
    assert.ok(Array.isArray(body), 'a list body is an array')
    for (const item of body) assertSchema('environment', item)
    return
  }
  const validate = validators[kind]
  assert.ok(validate(body), `body matches the reference ${kind} schema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`)
}

/** The exact set of wire keys an environment may carry (C-1.2). */
export const ENVIRONMENT_KEYS = new Set([
  '_id', 'name', 'description', 'apim', '_envUserId', 'enabled', 'createdAt', 'lastModified', 'deletedAt', '_integrationId', '_connectorId',
])
