import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { ERROR_CODES } from '../../src/errors.ts'

/** The README's error table and the catalogue in src/errors.ts list the same codes with the same statuses (C-3.1). */
test('the README documents exactly the error catalogue', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const documented = Object.fromEntries(
    [...readme.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])]),
  )
  assert.deepEqual(documented, { ...ERROR_CODES })
})
