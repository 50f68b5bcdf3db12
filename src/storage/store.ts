import type {
  Account,
  ApiToken,
  EnvironmentRecord,
  Invitation,
  Page,
  Principal,
} from '../domain/types.ts'
import type { Dialect } from './dialect.ts'

export interface NewEnvironment {
  _id: string
  name: string
  description?: string
  apim?: EnvironmentRecord['apim']
  _envUserId: string
  enabled: boolean
  isProduction: boolean
  createdAt: number
}

export interface NewToken {
  _id: string
  environmentId: string
  scope: ApiToken['scope']
  name?: string
  tokenHash: string
  createdAt: number
  expiresAt: number | null
}

export interface NewInvitation {
  _id: string
  environmentId: string
  email: string
  accessLevel: Invitation['accessLevel']
  createdAt: number
}

/**
 * One account's data inside one transaction that holds that account's write lock. Every rule that
 * must be checked atomically with a write (C-4.5 guards, C-4.2 limits) runs inside one of these:
 * the domain reads, decides and writes while no other writer of the account can interleave, in this
 * process or any other.
 */
export interface AccountTx {
  readonly account: Account
  getEnvironment(id: string): Promise<EnvironmentRecord | undefined>
  getProduction(): Promise<EnvironmentRecord | undefined>
  countEnvironments(): Promise<number>
  countEnabledEnvironments(): Promise<number>
  countPendingInvitations(environmentId: string): Promise<number>
  insertEnvironment(env: NewEnvironment): Promise<EnvironmentRecord>
  replaceEnvironment(
    id: string,
    fields: Pick<NewEnvironment, 'name' | 'description' | 'apim'>,
    lastModified: number,
  ): Promise<EnvironmentRecord>
  setEnabled(id: string, enabled: boolean, lastModified: number): Promise<void>
  insertToken(token: NewToken): Promise<ApiToken>
  insertInvitation(invitation: NewInvitation): Promise<Invitation>
  getInvitation(id: string): Promise<Invitation | undefined>
  resolveInvitation(id: string, state: 'accepted' | 'dismissed'): Promise<Invitation>
}

/**
 * The storage interface. Every account-scoped method takes the account id first, so a query that
 * forgets the tenant cannot be written (C-2.5). Rows never leave the storage folder: methods return
 * domain objects.
 */
export interface Store {
  readonly dialect: Dialect
  close(): Promise<void>

  /** Runs `fn` in a transaction holding the account's write lock; undefined if no such account. */
  withAccount<T>(accountId: string, fn: (tx: AccountTx) => Promise<T>): Promise<T | undefined>
  /** Creates an account and its Production environment in one transaction. */
  createAccount(
    account: Account,
    production: NewEnvironment,
    ifDatabaseEmpty?: boolean,
  ): Promise<{ account: Account; production: EnvironmentRecord } | undefined>

  getAccount(accountId: string): Promise<Account | undefined>
  /** Every account, oldest first: for operator commands only. */
  listAccounts(): Promise<Account[]>
  listEnvironments(accountId: string, page: Page): Promise<EnvironmentRecord[]>
  getEnvironment(accountId: string, id: string): Promise<EnvironmentRecord | undefined>
  /** Finds an environment by id in any account: for operator commands, never for API requests. */
  findEnvironmentAccount(id: string): Promise<string | undefined>

  /** Authentication entry point: the principal of a token hash, whatever its state. */
  findPrincipalByTokenHash(tokenHash: string): Promise<(Principal & { revoked: boolean; tokenHash: string }) | undefined>
  listTokens(accountId: string): Promise<ApiToken[]>
  getToken(id: string): Promise<ApiToken | undefined>
  revokeToken(id: string, at: number): Promise<ApiToken | undefined>

  findInvitationAccount(id: string): Promise<string | undefined>
  listInvitations(accountId: string, environmentId: string): Promise<Invitation[]>
}
