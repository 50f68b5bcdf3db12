import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError, loadConfig } from '../../src/config.ts'
import { parseDatabaseUrl } from '../../src/storage/dialect.ts'

test('C-5.1: defaults', () => {
  const c = loadConfig({}, {})
  assert.equal(c.databaseUrl, 'sqlite:./data/ioenv.db')
  assert.equal(c.port, 3000)
  assert.equal(c.host, '127.0.0.1')
  assert.equal(c.bootstrap, true)
  assert.equal(c.bodyLimit, 1048576)
  assert.equal(c.publicUrl, undefined)
})

test('C-5.1: flags beat IOENV_ variables, which beat PORT/HOST and defaults', () => {
  const env = { IOENV_DATABASE_URL: 'sqlite::memory:', PORT: '4000', IOENV_PORT: '4001', HOST: '0.0.0.0', IOENV_PUBLIC_URL: 'https://eu.example', IOENV_BOOTSTRAP: 'false' }
  const c = loadConfig({}, env)
  assert.equal(c.databaseUrl, 'sqlite::memory:')
  assert.equal(c.port, 4001)
  assert.equal(c.host, '0.0.0.0')
  assert.equal(c.publicUrl, 'https://eu.example')
  assert.equal(c.bootstrap, false)
  const f = loadConfig({ port: '5000', databaseUrl: 'sqlite:x.db' }, env)
  assert.equal(f.port, 5000)
  assert.equal(f.databaseUrl, 'sqlite:x.db')
})

test('bad values fail fast and name the flag or variable', () => {
  assert.throws(() => loadConfig({}, { PORT: 'eighty' }), (e: unknown) => e instanceof ConfigError && /PORT/.test(e.message))
  assert.throws(() => loadConfig({ port: '70000' }, {}), (e: unknown) => e instanceof ConfigError && /--port/.test(e.message))
  assert.throws(() => loadConfig({}, { IOENV_PUBLIC_URL: 'ftp://x' }), /IOENV_PUBLIC_URL/)
  assert.throws(() => loadConfig({}, { IOENV_BOOTSTRAP: 'maybe' }), /IOENV_BOOTSTRAP/)
  assert.throws(() => loadConfig({}, { IOENV_TOKEN_CACHE_MS: '6000' }), /IOENV_TOKEN_CACHE_MS/)
  assert.throws(() => loadConfig({}, { LOG_LEVEL: 'loud' }), /LOG_LEVEL/)
})

test('database URLs: sqlite paths, memory, postgres; anything else is refused', () => {
  assert.deepEqual(parseDatabaseUrl('sqlite:./data/ioenv.db'), { dialect: 'sqlite', file: './data/ioenv.db' })
  assert.deepEqual(parseDatabaseUrl('sqlite::memory:'), { dialect: 'sqlite', file: ':memory:' })
  assert.deepEqual(parseDatabaseUrl('sqlite:///abs/path.db'), { dialect: 'sqlite', file: '/abs/path.db' })
  assert.deepEqual(parseDatabaseUrl('postgres://u@h/db'), { dialect: 'postgres', url: 'postgres://u@h/db' })
  assert.throws(() => parseDatabaseUrl('mysql://x'), /unsupported database URL/)
  assert.throws(() => parseDatabaseUrl('sqlite:'), /names no file/)
})
