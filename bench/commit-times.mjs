// For investigation, with `npm run bench -- --serve-script bench/commit-times.mjs`: runs ioenv as
// bin/ioenv.js does (nothing weakened), timing every SQLite COMMIT (each one waits for its fsync).
// When the server stops, the distribution is appended to $IOENV_BENCH_COMMITS (default
// $TMPDIR/ioenv-commit-times.txt), so the tail of write latency can be told apart from the disk's fsync tail.
import { appendFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(new URL('../package.json', import.meta.url))
const Database = require('better-sqlite3')
const durations = []
const prepare = Database.prototype.prepare
Database.prototype.prepare = function (sql) {
  const stmt = prepare.call(this, sql)
  if (/^\s*commit\s*$/i.test(sql)) {
    const run = stmt.run.bind(stmt)
    stmt.run = (...args) => {
      const t = process.hrtime.bigint()
      try {
        return run(...args)
      } finally {
        durations.push(Number(process.hrtime.bigint() - t) / 1e6)
      }
    }
  }
  return stmt
}
process.once('exit', () => {
  durations.sort((a, b) => a - b)
  const q = (p) => (durations.length === 0 ? 'n/a' : durations[Math.min(durations.length - 1, Math.floor(p * durations.length))].toFixed(2))
  const slow = durations.filter((d) => d > 5).length
  appendFileSync(
    process.env.IOENV_BENCH_COMMITS ?? path.join(tmpdir(), 'ioenv-commit-times.txt'),
    `${new Date().toISOString()} ${durations.length} commits: p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms; ${slow} over 5 ms\n`,
  )
})
await import(process.env.IOENV_BENCH_BIN ? new URL(`file://${process.env.IOENV_BENCH_BIN}`).href : '../bin/ioenv.js')
