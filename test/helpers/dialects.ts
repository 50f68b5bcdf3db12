import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { type Dialect, parseDatabaseUrl } from '../../src/storage/dialect.ts'
import { KyselyStore } from '../../src/storage/kysely-store.ts'

/**
 * The dialects every integration suite runs on, SQLite first. Each test gets its own database: a
 * fresh SQLite file in a temporary folder, or a fresh schema in the PostgreSQL server named by
 * TEST_DATABASE_URL (which `npm test` always sets, starting a throwaway server when needed).
 */
export const DIALECTS: readonly Dialect[] = ['sqlite', 'postgres']

export interface TestDatabase {
  url: string
  dispose(): Promise<void>
}

export function postgresUrl(): string {
  const url = process.env.TEST_DATABASE_URL
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run the tests with `npm test`, which provides a PostgreSQL')
  return url
}

export async function freshDatabase(dialect: Dialect): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'ioenv-test-'))
    return { url: `sqlite:${path.join(dir, 'ioenv.db')}`, dispose: async () => rmSync(dir, { recursive: true, force: true }) }
  }
  const base = postgresUrl()
  const schema = `ioenv_test_${randomBytes(8).toString('hex')}`
  const admin = new pg.Client({ connectionString: base })
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  await admin.end()
  const url = new URL(base)
  url.searchParams.set('schema', schema)
  // Schemas are dropped by `npm test` when the whole run ends, not here: dropping one while another
  // test file's migrator lists the catalogue makes that listing fail ("schema does not exist").
  return { url: url.toString(), dispose: async () => {} }
}

export async function openStore(url: string, poolSize = 10): Promise<KyselyStore> {
  return KyselyStore.open(parseDatabaseUrl(url), { poolSize })
}
