import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { test } from 'node:test'

/**
 * Tests validate bodies against a vendored copy of the upstream reference so a fresh clone can run
 * them; when the shared copy sits beside the project (as on CI), the two must be identical.
 */
const shared = new URL('../../../shared/spec/', import.meta.url)
const vendored = new URL('../fixtures/upstream/', import.meta.url)

for (const file of ['environments.openapi.json', 'environments-api-reference.md']) {
  test(`the vendored ${file} matches ../shared/spec`, { skip: existsSync(new URL(file, shared)) ? false : 'no ../shared beside this clone' }, () => {
    assert.equal(readFileSync(new URL(file, vendored), 'utf8'), readFileSync(new URL(file, shared), 'utf8'))
  })
}
