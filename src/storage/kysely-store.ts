import { CompiledQuery, type Kysely, NoResultError, type QueryNode, sql } from 'kysely'
import type { Account, Page } from '../domain/types.ts'
import { type Connection, type DatabaseTarget, connect } from './dialect.ts'
import { migrateToLatest } from './migrations.ts'
import { prepared } from './prepared.ts'
import { ms, toAccount, toEnvironment, toInvitation, toToken } from './rows.ts'
import type { Database } from './schema.ts'
import type { AccountTx, NewEnvironment, Store } from './store.ts'

/** How long a write waits for another process's SQLite write lock before answering 503. */
const BUSY_DEADLINE_MS = 5000

const flag = (b: boolean): number => (b ? 1 : 0)
const apimText = (apim: NewEnvironment['apim']): string | null => (apim === undefined ? null : JSON.stringify(apim))

const isBusy = (err: unknown): boolean => {
  const code = (err as { code?: unknown } | null)?.code
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED'
}

/**
 * The queries of the request paths, built and compiled once per store (see prepared.ts). The other
 * queries (admin commands, migrations) are built per call as usual.
 */
function hotQueries(db: Kysely<Database>) {
  const env = db.selectFrom('environments').selectAll()
  return {
    getEnvironment: prepared((accountId: string, id: string) => env.where('account_id', '=', accountId).where('id', '=', id)),
    // Positions are 1..n (migrations.ts 0002), so skipping `skip` rows is `ordinal > skip`: one seek.
    listEnvironments: prepared((accountId: string, limit: number, skip: number) =>
      env.where('account_id', '=', accountId).where('ordinal', '>', skip).orderBy('ordinal').limit(limit),
    ),
    principal: prepared((tokenHash: string) =>
      db
        .selectFrom('api_tokens as t')
        .innerJoin('environments as e', 'e.id', 't.environment_id')
        .select(['t.id', 't.account_id', 't.environment_id', 't.scope', 't.expires_at', 't.revoked_at', 't.token_hash', 'e.is_production'])
        .where('t.token_hash', '=', tokenHash),
    ),
    account: prepared((accountId: string) => db.selectFrom('accounts').selectAll().where('id', '=', accountId)),
    accountForUpdate: prepared((accountId: string) => db.selectFrom('accounts').selectAll().where('id', '=', accountId).forUpdate()),
    // The highest position is the count (positions are 1..n): one index lookup, not a scan.
    countEnvironments: prepared((accountId: string) =>
      db
        .selectFrom('environments')
        .select((eb) => eb.fn.coalesce(eb.fn.max('ordinal'), eb.lit(0)).as('n'))
        .where('account_id', '=', accountId),
    ),
    countEnabledEnvironments: prepared((accountId: string, enabled: number) =>
      db
        .selectFrom('environments')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('account_id', '=', accountId)
        .where('enabled', '=', enabled),
    ),
    countPendingInvitations: prepared((accountId: string, environmentId: string, accepted: number, dismissed: number) =>
      db
        .selectFrom('invitations')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('account_id', '=', accountId)
        .where('environment_id', '=', environmentId)
        .where('accepted', '=', accepted)
        .where('dismissed', '=', dismissed),
    ),
    insertEnvironment: prepared(
      (
        id: string,
        accountId: string,
        name: string,
        description: string | null,
        apim: string | null,
        envUserId: string,
        enabled: number,
        isProduction: number,
        createdAt: number,
        lastModified: number,
      ) =>
        db
          .insertInto('environments')
          .values({
            id,
            account_id: accountId,
            name,
            description,
            apim,
            env_user_id: envUserId,
            enabled,
            is_production: isProduction,
            created_at: createdAt,
            last_modified: lastModified,
            // Next position in the account; the caller holds the account's write lock.
            ordinal: sql<number>`(select coalesce(max(${sql.ref('ordinal')}), 0) + 1 from ${sql.table('environments')} where ${sql.ref('account_id')} = ${accountId})`,
          })
          .returningAll(),
    ),
    replaceEnvironment: prepared(
      (name: string, description: string | null, apim: string | null, lastModified: number, accountId: string, id: string) =>
        db
          .updateTable('environments')
          .set({ name, description, apim, last_modified: lastModified })
          .where('account_id', '=', accountId)
          .where('id', '=', id)
          .returningAll(),
    ),
    setEnabled: prepared((enabled: number, lastModified: number, accountId: string, id: string) =>
      db
        .updateTable('environments')
        .set({ enabled, last_modified: lastModified })
        .where('account_id', '=', accountId)
        .where('id', '=', id),
    ),
  }
}
type HotQueries = ReturnType<typeof hotQueries>

const BEGIN_IMMEDIATE = CompiledQuery.raw('begin immediate')
const COMMIT = CompiledQuery.raw('commit')
const ROLLBACK = CompiledQuery.raw('rollback')
const SAVEPOINT = CompiledQuery.raw('savepoint ioenv_write')
const RELEASE = CompiledQuery.raw('release ioenv_write')
const ROLLBACK_TO = CompiledQuery.raw('rollback to ioenv_write')

/** A write waiting for the next SQLite group commit. */
interface Job {
  accountId: string
  fn: (tx: AccountTx) => Promise<unknown>
  resolve: (value: unknown) => void
  reject: (err: unknown) => void
}
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown }

/**
 * The one Store implementation, over Kysely. Both dialects run the same queries; what differs
 * (the account lock and SQLite's group commit, the auto-increment column) is decided here and in
 * migrations.ts only.
 */
export class KyselyStore implements Store {
  readonly dialect: Connection['dialect']
  readonly db: Kysely<Database>
  readonly connection: Connection
  private readonly q: HotQueries
  /** SQLite writes waiting for the next group commit, and whether one is scheduled or running. */
  private pending: Job[] = []
  private committing = false

  private constructor(connection: Connection) {
    this.connection = connection
    this.db = connection.db
    this.dialect = connection.dialect
    this.q = hotQueries(this.db)
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

  /**
   * Runs a read outside any transaction. On SQLite, when no transaction is open on the connection
   * (the usual case), the same SQL runs straight on better-sqlite3 (dialect.ts `readRows`), without
   * Kysely's chain of promises around the one synchronous call. While a transaction is open (a group
   * commit between two of its statements), the read waits through Kysely for the connection, so it
   * never sees writes that are not committed yet.
   */
  private async read<R>(query: CompiledQuery<R>): Promise<R[]> {
    const { sqlite, readRows } = this.connection
    if (readRows !== undefined && sqlite !== undefined && !sqlite.inTransaction) return readRows(query.sql, query.parameters) as R[]
    return (await this.db.executeQuery(query)).rows
  }

  async close(): Promise<void> {
    await this.db.destroy()
  }

  /** PostgreSQL: locks the account's row for the transaction (other writers of the account wait). */
  private async lockAccount(trx: Kysely<Database>, accountId: string): Promise<Account | undefined> {
    const row = (await trx.executeQuery(this.q.accountForUpdate(accountId))).rows[0]
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
        if (!isBusy(err) || Date.now() > deadline) throw err
        await new Promise((r) => setTimeout(r, Math.min(50, 2 + attempt * 5) * (0.5 + Math.random())))
      }
    }
  }

  async withAccount<T>(accountId: string, fn: (tx: AccountTx) => Promise<T>): Promise<T | undefined> {
    if (this.dialect === 'sqlite') {
      return new Promise<T | undefined>((resolve, reject) => {
        this.pending.push({ accountId, fn, resolve: resolve as (value: unknown) => void, reject })
        this.scheduleCommit()
      })
    }
    return this.db.transaction().execute(async (trx) => {
      const account = await this.lockAccount(trx, accountId)
      if (account === undefined) return undefined
      return fn(accountTx(trx, account, this.q))
    })
  }

  /**
   * SQLite group commit. SQLite has one writer, and with synchronous=FULL every commit waits for an
   * fsync (C-6.3), which better-sqlite3 does on the event loop: one commit per write would cap writes
   * at one fsync each and stall every other request meanwhile. So the writes that arrive together
   * (everything queued by the time the event loop has read its pending input) run one after another
   * in ONE transaction, each inside its own savepoint, and are committed with one fsync. Nothing
   * changes for a caller: each write still runs alone under the write lock, sees the writes before it,
   * is undone alone when it fails (rollback to its savepoint), and is answered only once the commit
   * that holds it is on disk. If the commit fails, every write of the batch fails with it.
   */
  private scheduleCommit(): void {
    if (this.committing) return
    this.committing = true
    setImmediate(() => void this.commitPending())
  }

  private async commitPending(): Promise<void> {
    const jobs = this.pending
    this.pending = []
    try {
      if (jobs.length > 0) await this.runBatch(jobs)
    } finally {
      this.committing = false
      if (this.pending.length > 0) this.scheduleCommit()
    }
  }

  private async runBatch(jobs: Job[]): Promise<void> {
    let outcomes: Outcome[]
    try {
      // BEGIN IMMEDIATE takes the write lock first (waiting under busy_timeout for other processes),
      // so no statement inside ever needs to upgrade a read lock, which SQLite could only refuse.
      outcomes = await this.retryBusy(() =>
        this.db.connection().execute(async (conn) => {
          await conn.executeQuery(BEGIN_IMMEDIATE)
          try {
            const results: Outcome[] = []
            // No write changes an account row, and no other writer runs until the commit: each
            // account is read once per batch.
            const accounts = new Map<string, Account | undefined>()
            for (const job of jobs) results.push(await this.runJob(conn, job, accounts))
            await conn.executeQuery(COMMIT)
            return results
          } catch (err) {
            await conn.executeQuery(ROLLBACK).catch(() => {})
            throw err
          }
        }),
      )
    } catch (err) {
      for (const job of jobs) job.reject(err)
      return
    }
    jobs.forEach((job, i) => {
      const outcome = outcomes[i]!
      if (outcome.ok) job.resolve(outcome.value)
      else job.reject(outcome.error)
    })
  }

  private async runJob(conn: Kysely<Database>, job: Job, accounts: Map<string, Account | undefined>): Promise<Outcome> {
    await conn.executeQuery(SAVEPOINT)
    try {
      let account = accounts.get(job.accountId)
      if (account === undefined && !accounts.has(job.accountId)) {
        const row = (await conn.executeQuery(this.q.account(job.accountId))).rows[0]
        account = row && toAccount(row)
        accounts.set(job.accountId, account)
      }
      const value = account === undefined ? undefined : await job.fn(accountTx(conn, account, this.q))
      await conn.executeQuery(RELEASE)
      return { ok: true, value }
    } catch (error) {
      // Cannot happen under the write lock, but if it did, the whole batch is retried.
      if (isBusy(error)) throw error
      await conn.executeQuery(ROLLBACK_TO)
      await conn.executeQuery(RELEASE)
      return { ok: false, error }
    }
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
      const env = await accountTx(trx, account, this.q).insertEnvironment(production)
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
    const rows = await this.read(this.q.listEnvironments(accountId, page.limit, page.skip))
    return rows.map(toEnvironment)
  }

  async getEnvironment(accountId: string, id: string) {
    const row = (await this.read(this.q.getEnvironment(accountId, id)))[0]
    return row && toEnvironment(row)
  }

  async findEnvironmentAccount(id: string) {
    const row = await this.db.selectFrom('environments').select('account_id').where('id', '=', id).executeTakeFirst()
    return row?.account_id
  }

  async findPrincipalByTokenHash(tokenHash: string) {
    const row = (await this.read(this.q.principal(tokenHash)))[0]
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

function accountTx(trx: Kysely<Database>, account: Account, q: HotQueries): AccountTx {
  const accountId = account._id
  const count = (n: { n: number | string | bigint } | undefined): number => Number(n?.n ?? 0)
  const first = async <R>(query: CompiledQuery<R>): Promise<R | undefined> => (await trx.executeQuery(query)).rows[0]
  const one = async <R>(query: CompiledQuery<R>): Promise<R> => {
    const row = await first(query)
    if (row === undefined) throw new NoResultError(query.query as QueryNode)
    return row
  }

  return {
    account,
    async getEnvironment(id) {
      const row = await first(q.getEnvironment(accountId, id))
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
      return count(await first(q.countEnvironments(accountId)))
    },
    async countEnabledEnvironments() {
      return count(await first(q.countEnabledEnvironments(accountId, 1)))
    },
    async countPendingInvitations(environmentId) {
      return count(await first(q.countPendingInvitations(accountId, environmentId, 0, 0)))
    },
    async insertEnvironment(e) {
      const row = await one(
        q.insertEnvironment(
          e._id,
          accountId,
          e.name,
          e.description ?? null,
          apimText(e.apim),
          e._envUserId,
          flag(e.enabled),
          flag(e.isProduction),
          e.createdAt,
          e.createdAt,
        ),
      )
      return toEnvironment(row)
    },
    async replaceEnvironment(id, fields, lastModified) {
      const row = await one(
        q.replaceEnvironment(fields.name, fields.description ?? null, apimText(fields.apim), lastModified, accountId, id),
      )
      return toEnvironment(row)
    },
    async setEnabled(id, enabled, lastModified) {
      await trx.executeQuery(q.setEnabled(flag(enabled), lastModified, accountId, id))
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
