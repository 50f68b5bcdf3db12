import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Dialect } from '../../src/storage/dialect.ts'
import { KyselyStore } from '../../src/storage/kysely-store.ts'

/**
 * The dialects every integration suite runs on, SQLite first. Each test gets its own database: a
 * fresh SQLite file in a temporary folder.
 */
export const DIALECTS: readonly Dialect[] = ['sqlite']

export interface TestDatabase {
  url: string
  dispose(): Promise<void>
}

export async function freshDatabase(dialect: Dialect): Promise<TestDatabase> {
  if (dialect !== 'sqlite') throw new Error(`no test database for ${dialect}`)
  const dir = mkdtempSync(path.join(tmpdir(), 'ioenv-test-'))
  return { url: `sqlite:${path.join(dir, 'ioenv.db')}`, dispose: async () => rmSync(dir, { recursive: true, force: true }) }
}

export async function openStore(url: string): Promise<KyselyStore> {
  const { parseDatabaseUrl } = await import('../../src/storage/dialect.ts')
  return KyselyStore.open(parseDatabaseUrl(url), { poolSize: 10 })
}
