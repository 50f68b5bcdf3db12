// FOR COMPARISON ONLY, inside `npm run bench`: runs `ioenv` exactly as bin/ioenv.js does, except that
// SQLite's `synchronous = FULL` is replaced by `NORMAL`. NORMAL skips the fsync of each commit, so an
// acknowledged write can be lost on power loss: ioenv never runs like this (C-6.3). The bench uses it
// only to show what the per-commit fsync costs.
import { createRequire } from 'node:module'

const require = createRequire(new URL('../package.json', import.meta.url))
const Database = require('better-sqlite3')
const pragma = Database.prototype.pragma
Database.prototype.pragma = function (source, options) {
  const weakened = /^\s*synchronous\s*=\s*full\s*$/i.test(source) ? 'synchronous = NORMAL' : source
  return options === undefined ? pragma.call(this, weakened) : pragma.call(this, weakened, options)
}
// IOENV_BENCH_BIN: the bin/ioenv.js being measured (run.mjs --ioenv); default this checkout's.
await import(process.env.IOENV_BENCH_BIN ? new URL(`file://${process.env.IOENV_BENCH_BIN}`).href : '../bin/ioenv.js')
