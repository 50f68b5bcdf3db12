import { type Kysely, type Transaction, sql } from 'kysely'
import type { Account, Page } from '../domain/types.ts'
import { type Connection, type DatabaseTarget, connect } from './dialect.ts'
import { migrateToLatest } from './migrations.ts'
import { ms, toAccount, toEnvironment, toInvitation, toToken } from './rows.ts'
import type { Database } from './schema.ts'
import type { AccountTx, NewEnvironment, Store } from './store.ts'

/** How long a write waits for another process's SQLite write lock before answering 503. */
const BUSY_DEADLINE_MS = 5000

const flag = (b: boolean): number => (b ? 1 : 0)
const apimText = (apim: NewEnvironment['apim']): string | null => (apim === undefined ? null : JSON.stringify(apim))

/**
 * The one Store implementation, over Kysely. Both dialects run the same queries; what differs
 * (the account lock, the auto-increment column) is decided here and in migrations.ts only.
 */
export class KyselyStore implements Store {
  readonly dialect: Connection['dialect']
  readonly db: Kysely<Database>
  readonly connection: Connection

  private constructor(connection: Connection) {
    this.connection = connection
    this.db = connection.db
    this.dialect = connection.dialect
  }

  static async open(target: DatabaseTarget, options: { poolSize?: number; migrate?: boolean } = {}): Promise<KyselyStore> {
    const store = new KyselyStore(connect(target, options))
    if (options.migrate !== false) {
      try {
        await migrateToLatest(store.db, store.dialect)
      } catch (err) {
        await store.close()
        throw err
      }
    }
    return store
  }

  async close(): Promise<void> {
    await this.db.destroy()
  }

  /**
   * Takes the account's write lock as the transaction's first statement. PostgreSQL locks the account
   * row; SQLite has one writer per database, and a write as the first statement of a deferred
   * transaction takes it at once (waiting under busy_timeout for other processes), so a read never
   * has to be upgraded to a write later, which SQLite could only refuse with SQLITE_BUSY.
   */
  private async lockAccount(trx: Transaction<Database>, accountId: string): Promise<Account | undefined> {
    if (this.dialect === 'sqlite') {
      await trx.updateTable('accounts').set({ id: sql`id` }).where('id', '=', accountId).execute()
      const row = await trx.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirst()
      return row && toAccount(row)
    }
    const row = await trx.selectFrom('accounts').selectAll().where('id', '=', accountId).forUpdate().executeTakeFirst()
    return row && toAccount(row)
  }

  /**
   * SQLite lets one process write at a time. While another process (an admin command, a second
   * server on the same file) holds the write lock, the transaction is retried after a short async
   * pause, so this process keeps serving reads meanwhile; after BUSY_DEADLINE_MS the SQLITE_BUSY
   * error goes up and becomes a 503.
   */
  private async retryBusy<T>(work: () => Promise<T>): Promise<T> {
    if (this.dialect !== 'sqlite') return work()
    const deadline = Date.now() + BUSY_DEADLINE_MS
    for (let attempt = 0; ; attempt++) {
      try {
        return await work()
      } catch (err) {
        const code = (err as { code?: unknown }).code
        if ((code !== 'SQLITE_BUSY' && code !== 'SQLITE_LOCKED') || Date.now() > deadline) throw err
        await new Promise((r) => setTimeout(r, Math.min(50, 2 + attempt * 5) * (0.5 + Math.random())))
      }
    }
  }

  async withAccount<T>(accountId: string, fn: (tx: AccountTx) => Promise<T>): Promise<T | undefined> {
    return this.retryBusy(() =>
      this.db.transaction().execute(async (trx) => {
        const account = await this.lockAccount(trx, accountId)
        if (account === undefined) return undefined
        return fn(accountTx(trx, account))
      }),
    )
  }

  async createAccount(account: Account, production: NewEnvironment, ifDatabaseEmpty = false) {
    return this.retryBusy(() => this.db.transaction().execute(async (trx) => {
      if (ifDatabaseEmpty) {
        // First-run bootstrap (C-5.2): the settings row is the once-only latch, so instances that
        // start together on an empty database create one account between them, not one each.
        const latched = await trx
          .insertInto('settings')
          .values({ key: 'bootstrapped', value: new Date().toISOString() })
          .onConflict((oc) => oc.column('key').doNothing())
          .returning('key')
          .executeTakeFirst()
        if (latched === undefined) return undefined
        const existing = await trx.selectFrom('accounts').select('id').limit(1).executeTakeFirst()
        if (existing !== undefined) return undefined
      }
      await trx
        .insertInto('accounts')
        .values({
          id: account._id,
          name: account.name,
          owner_user_id: account.ownerUserId,
          max_environments: account.maxEnvironments,
          enabled_licenses: account.enabledLicenses,
          created_at: Date.parse(account.createdAt),
        })
        .execute()
      const env = await accountTx(trx, account).insertEnvironment(production)
      return { account, production: env }
    }))
  }

  async getAccount(accountId: string) {
    const row = await this.db.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirst()
    return row && toAccount(row)
  }

  async listAccounts() {
    const rows = await this.db.selectFrom('accounts').selectAll().orderBy('created_at').orderBy('id').execute()
    return rows.map(toAccount)
  }

  async listEnvironments(accountId: string, page: Page) {
    const rows = await this.db
      .selectFrom('environments')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('seq')
      .limit(page.limit)
      .offset(page.skip)
      .execute()
    return rows.map(toEnvironment)
  }

  async getEnvironment(accountId: string, id: string) {
    const row = await this.db
      .selectFrom('environments')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .executeTakeFirst()
    return row && toEnvironment(row)
  }

  async findEnvironmentAccount(id: string) {
    const row = await this.db.selectFrom('environments').select('account_id').where('id', '=', id).executeTakeFirst()
    return row?.account_id
  }

  async findPrincipalByTokenHash(tokenHash: string) {
    const row = await this.db
      .selectFrom('api_tokens as t')
      .innerJoin('environments as e', 'e.id', 't.environment_id')
      .select(['t.id', 't.account_id', 't.environment_id', 't.scope', 't.expires_at', 't.revoked_at', 't.token_hash', 'e.is_production'])
      .where('t.token_hash', '=', tokenHash)
      .executeTakeFirst()
    if (row === undefined) return undefined
    return {
      tokenId: row.id,
      accountId: row.account_id,
      environmentId: row.environment_id,
      scope: row.scope as 'full' | 'custom',
      production: row.is_production === 1,
      expiresAt: row.expires_at === null ? null : ms(row.expires_at),
      revoked: row.revoked_at !== null,
      tokenHash: row.token_hash,
    }
  }

  async listTokens(accountId: string) {
    const rows = await this.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('created_at')
      .orderBy('id')
      .execute()
    return rows.map(toToken)
  }

  async getToken(id: string) {
    const row = await this.db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst()
    return row && toToken(row)
  }

  async revokeToken(id: string, at: number) {
    const row = await this.retryBusy(() => this.db
      .updateTable('api_tokens')
      .set({ revoked_at: sql<number>`coalesce(revoked_at, ${at})` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst())
    return row && toToken(row)
  }

  async findInvitationAccount(id: string) {
    const row = await this.db.selectFrom('invitations').select('account_id').where('id', '=', id).executeTakeFirst()
    return row?.account_id
  }

  async listInvitations(accountId: string, environmentId: string) {
    const rows = await this.db
      .selectFrom('invitations')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('environment_id', '=', environmentId)
      .orderBy('created_at')
      .orderBy('id')
      .execute()
    return rows.map(toInvitation)
  }
}

function accountTx(trx: Transaction<Database>, account: Account): AccountTx {
  const accountId = account._id
  const count = (n: { n: number | string | bigint } | undefined): number => Number(n?.n ?? 0)
  const env = (id: string) =>
    trx.selectFrom('environments').selectAll().where('account_id', '=', accountId).where('id', '=', id)

  return {
    account,
    async getEnvironment(id) {
      const row = await env(id).executeTakeFirst()
      return row && toEnvironment(row)
    },
    async getProduction() {
      const row = await trx
        .selectFrom('environments')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('is_production', '=', 1)
        .executeTakeFirst()
      return row && toEnvironment(row)
    },
    async countEnvironments() {
      return count(
        await trx
          .selectFrom('environments')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('account_id', '=', accountId)
          .executeTakeFirst(),
      )
    },
    async countEnabledEnvironments() {
      return count(
        await trx
          .selectFrom('environments')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('account_id', '=', accountId)
          .where('enabled', '=', 1)
          .executeTakeFirst(),
      )
    },
    async countPendingInvitations(environmentId) {
      return count(
        await trx
          .selectFrom('invitations')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('account_id', '=', accountId)
          .where('environment_id', '=', environmentId)
          .where('accepted', '=', 0)
          .where('dismissed', '=', 0)
          .executeTakeFirst(),
      )
    },
    async insertEnvironment(e) {
      const row = await trx
        .insertInto('environments')
        .values({
          id: e._id,
          account_id: accountId,
          name: e.name,
          description: e.description ?? null,
          apim: apimText(e.apim),
          env_user_id: e._envUserId,
          enabled: flag(e.enabled),
          is_production: flag(e.isProduction),
          created_at: e.createdAt,
          last_modified: e.createdAt,
        })
        .returningAll()
        .executeTakeFirstOrThrow()
      return toEnvironment(row)
    },
    async replaceEnvironment(id, fields, lastModified) {
      const row = await trx
        .updateTable('environments')
        .set({
          name: fields.name,
          description: fields.description ?? null,
          apim: apimText(fields.apim),
          last_modified: lastModified,
        })
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow()
      return toEnvironment(row)
    },
    async setEnabled(id, enabled, lastModified) {
      await trx
        .updateTable('environments')
        .set({ enabled: flag(enabled), last_modified: lastModified })
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .execute()
    },
    async insertToken(t) {
      const row = await trx
        .insertInto('api_tokens')
        .values({
          id: t._id,
          account_id: accountId,
          environment_id: t.environmentId,
          scope: t.scope,
          name: t.name ?? null,
          token_hash: t.tokenHash,
          created_at: t.createdAt,
          expires_at: t.expiresAt,
          revoked_at: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow()
      return toToken(row)
    },
    async insertInvitation(i) {
      const row = await trx
        .insertInto('invitations')
        .values({
          id: i._id,
          account_id: accountId,
          environment_id: i.environmentId,
          email: i.email,
          access_level: i.accessLevel,
          accepted: 0,
          dismissed: 0,
          created_at: i.createdAt,
        })
        .returningAll()
        .executeTakeFirstOrThrow()
      return toInvitation(row)
    },
    async getInvitation(id) {
      const row = await trx
        .selectFrom('invitations')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .executeTakeFirst()
      return row && toInvitation(row)
    },
    async resolveInvitation(id, state) {
      const row = await trx
        .updateTable('invitations')
        .set(state === 'accepted' ? { accepted: 1 } : { dismissed: 1 })
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow()
      return toInvitation(row)
    },
  }
}
