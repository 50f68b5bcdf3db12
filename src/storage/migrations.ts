import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely'
import type { Dialect } from './dialect.ts'

/**
 * Versioned migrations, run by Kysely's Migrator on every start (it records what ran in
 * `kysely_migration` and, on PostgreSQL, holds an advisory lock so instances starting together run
 * each migration once). Migrations live in code, not files, so they ship with the source and need no
 * directory scan. Never edit a released migration; add the next one.
 */
const migrations = (dialect: Dialect): Record<string, Migration> => ({
  '0001_initial': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('owner_user_id', 'text', (c) => c.notNull())
        .addColumn('max_environments', 'integer', (c) => c.notNull())
        .addColumn('enabled_licenses', 'integer')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute()

      // The one dialect difference of the schema: an auto-increment key for creation order.
      let envs = db.schema.createTable('environments')
      envs =
        dialect === 'postgres'
          ? envs.addColumn('seq', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
          : envs.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
      await envs
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('apim', 'text')
        .addColumn('env_user_id', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('is_production', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_modified', 'bigint', (c) => c.notNull())
        .addColumn('deleted_at', 'bigint')
        .addColumn('integration_id', 'text')
        .addColumn('connector_id', 'text')
        .execute()
      await db.schema.createIndex('environments_account_seq').on('environments').columns(['account_id', 'seq']).execute()
      // At most one Production per account (C-1.3), enforced by the database itself.
      await db.schema
        .createIndex('environments_one_production')
        .on('environments')
        .column('account_id')
        .unique()
        .where(sql.ref('is_production'), '=', 1)
        .execute()

      await db.schema
        .createTable('invitations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
        .addColumn('environment_id', 'text', (c) => c.notNull().references('environments.id'))
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('access_level', 'text', (c) => c.notNull())
        .addColumn('accepted', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('dismissed', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute()
      await db.schema.createIndex('invitations_environment').on('invitations').columns(['environment_id']).execute()

      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
        .addColumn('environment_id', 'text', (c) => c.notNull().references('environments.id'))
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('name', 'text')
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .execute()
      await db.schema.createIndex('api_tokens_account').on('api_tokens').columns(['account_id']).execute()

      await db.schema
        .createTable('settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute()
    },
  },
  // Each environment's 1-based position in its account's creation order, so a page starts with an
  // index seek (`ordinal > skip`) instead of stepping over `skip` rows (OFFSET), and counting an
  // account's environments is one index lookup (its highest ordinal). ioenv assigns it on insert,
  // under the account's write lock, and environments are never deleted, so the positions of an
  // account are exactly 1..n. It replaces environments_account_seq, whose only use was that order.
  '0002_environment_ordinal': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('environments').addColumn('ordinal', 'bigint').execute()
      await sql`update environments set ordinal = (select count(*) from environments as e where e.account_id = environments.account_id and e.seq <= environments.seq)`.execute(db)
      await db.schema.createIndex('environments_account_ordinal').on('environments').columns(['account_id', 'ordinal']).unique().execute()
      await db.schema.dropIndex('environments_account_seq').execute()
    },
  },
})

export async function migrateToLatest(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) }
  // The migrator's own tables live in the schema ioenv's tables go to (the first of search_path);
  // left to itself it would find another schema's migration tables in the same database.
  const schema =
    dialect === 'postgres'
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
      : undefined
  const migrator = new Migrator({ db, provider, ...(schema === undefined ? {} : { migrationTableSchema: schema }) })
  const { error, results } = await migrator.migrateToLatest()
  const failed = results?.find((r) => r.status === 'Error')
  if (error !== undefined || failed !== undefined) {
    const name = failed?.migrationName ?? 'unknown'
    throw new Error(`database migration ${name} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    })
  }
}
