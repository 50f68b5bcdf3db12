import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { ROOT } from '../helpers/process.ts'

/** `ioenv/client` as another project gets it: the built ESM file and its declarations, plain Node. */
test('ioenv/client resolves through package exports to plain JavaScript with type declarations', () => {
  const script = `import('ioenv/client').then((m) => { console.log(typeof m.IoenvClient, typeof m.IoenvApiError, typeof m.IoenvAuthError) })`
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout.trim(), 'function function function')
  const pkg = spawnSync(process.execPath, ['-p', "JSON.stringify(require('./package.json').exports['./client'])"], { cwd: ROOT, encoding: 'utf8' })
  assert.deepEqual(JSON.parse(pkg.stdout), { types: './dist/types/client/index.d.ts', default: './dist/client/index.js' })
})
