import fs from 'node:fs'
import path from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import pg from 'pg'
import type { Database } from './schema.ts'

export type Dialect = 'sqlite' | 'postgres'

export const SQLITE_BUSY_WAIT_MS = 20

export type DatabaseTarget =
  | { dialect: 'sqlite'; file: string /* ':memory:' for an ephemeral database */ }
  | { dialect: 'postgres'; url: string; schema?: string }

/** `sqlite:PATH`, `sqlite::memory:`, `postgres://…` / `postgresql://…` (C-5.1). */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '')
    if (file === '') throw new Error(`database URL ${JSON.stringify(url)} names no file; use sqlite:PATH or sqlite::memory:`)
    return { dialect: 'sqlite', file }
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    // `?schema=NAME` puts ioenv's tables in that schema (several deployments can share a database).
    const parsed = new URL(url)
    const schema = parsed.searchParams.get('schema') ?? undefined
    if (schema === undefined) return { dialect: 'postgres', url }
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`schema ${JSON.stringify(schema)} must be a lowercase SQL identifier`)
    parsed.searchParams.delete('schema')
    return { dialect: 'postgres', url: parsed.toString(), schema }
  }
  throw new Error(`unsupported database URL ${JSON.stringify(url)}: use sqlite:PATH, sqlite::memory: or postgres://…`)
}

export interface Connection {
  db: Kysely<Database>
  dialect: Dialect
  /** The raw SQLite handle, for pragmas and checks; undefined on PostgreSQL. */
  sqlite?: SqliteDatabase.Database
  /** SQLite: runs a read-only statement (prepared once) and returns its rows, as Kysely would. */
  readRows?: (sql: string, parameters: readonly unknown[]) => Record<string, unknown>[]
}

/** Distinct SQL texts kept prepared; past this the cache starts over (ioenv itself uses a few dozen). */
const STATEMENT_CACHE_SIZE = 500

/**
 * Kysely prepares every query it runs (`prepare(sql)` per call), and preparing costs SQLite more than
 * running the small queries ioenv makes. This hands Kysely one prepared statement per SQL text
 * instead; a statement still iterating (a stream) is never handed out twice.
 */
function preparingOnce(sqlite: SqliteDatabase.Database): { prepare(sql: string): SqliteDatabase.Statement; close(): void } {
  const statements = new Map<string, SqliteDatabase.Statement>()
  return {
    prepare(sql: string) {
      let stmt = statements.get(sql)
      if (stmt === undefined || stmt.busy) {
        stmt = sqlite.prepare(sql)
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.clear()
        statements.set(sql, stmt)
      }
      return stmt
    },
    close() {
      statements.clear()
      sqlite.close()
    },
  }
}

/**
 * Rows of a read, the same objects better-sqlite3 would make, but built here from its array rows:
 * better-sqlite3 sets each column of an object row through V8's slow generic path, which costs half
 * of reading a page of 100 environments; objects of one shape built in JavaScript are cheap.
 */
function rowReader(sqlite: SqliteDatabase.Database): (sql: string, parameters: readonly unknown[]) => Record<string, unknown>[] {
  const statements = new Map<string, { stmt: SqliteDatabase.Statement; columns: string[] }>()
  return (sql, parameters) => {
    let entry = statements.get(sql)
    if (entry === undefined || entry.stmt.busy) {
      const stmt = sqlite.prepare(sql).raw(true)
      entry = { stmt, columns: stmt.columns().map((c) => c.name) }
      if (statements.size >= STATEMENT_CACHE_SIZE) statements.clear()
      statements.set(sql, entry)
    }
    const arrays = entry.stmt.all(parameters) as unknown[][]
    // A schema change by another process re-prepares the statement under us; take its columns anew.
    if (arrays.length > 0 && arrays[0]!.length !== entry.columns.length) entry.columns = entry.stmt.columns().map((c) => c.name)
    const { columns } = entry
    const rows = new Array<Record<string, unknown>>(arrays.length)
    for (let r = 0; r < arrays.length; r++) {
      const values = arrays[r]!
      const row: Record<string, unknown> = {}
      for (let c = 0; c < columns.length; c++) row[columns[c]!] = values[c]
      rows[r] = row
    }
    return rows
  }
}

export function connect(target: DatabaseTarget, options: { poolSize?: number } = {}): Connection {
  if (target.dialect === 'sqlite') {
    if (target.file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(target.file)), { recursive: true })
    const sqlite = new SqliteDatabase(target.file)
    // WAL lets admin commands and the server share the file; synchronous=FULL makes every commit
    // reach the disk before it is acknowledged, so no 2xx is lost to kill -9 or power loss (C-6.3).
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('synchronous = FULL')
    // Short: better-sqlite3 waits synchronously, which would freeze the event loop for every request.
    // Longer waits for another process's write lock happen asynchronously, in KyselyStore.retryBusy.
    sqlite.pragma(`busy_timeout = ${SQLITE_BUSY_WAIT_MS}`)
    sqlite.pragma('foreign_keys = ON')
    const database = preparingOnce(sqlite)
    return {
      db: new Kysely<Database>({ dialect: new SqliteDialect({ database }) }),
      dialect: 'sqlite',
      sqlite,
      readRows: rowReader(sqlite),
    }
  }
  const pool = new pg.Pool({
    connectionString: target.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5000,
    // A server that stops answering (not just refusing) must not hold a request forever: it becomes
    // a 503 after these, and the connection is replaced.
    query_timeout: 10_000,
    statement_timeout: 10_000,
    idle_in_transaction_session_timeout: 10_000,
    keepAlive: true,
    ...(target.schema === undefined ? {} : { options: `-c search_path=${target.schema}` }),
  })
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', () => {})
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), dialect: 'postgres' }
}
