import type { Generated } from 'kysely'

/**
 * Table types. Timestamps are integer milliseconds since the epoch and booleans are 0/1 integers in
 * both dialects, so the same query returns the same shape on SQLite and PostgreSQL; `bigint` columns
 * come back from node-postgres as strings, which `rows.ts` turns back into numbers.
 */
type Millis = number | string
type Flag = number

export interface AccountsTable {
  id: string
  name: string
  owner_user_id: string
  max_environments: number
  enabled_licenses: number | null
  created_at: Millis
}

export interface EnvironmentsTable {
  /** Creation order (C-4.1): ObjectIds from several processes do not sort by creation. */
  seq: Generated<number | string>
  id: string
  account_id: string
  /** 1-based position in the account's creation order (migration 0002); set on insert. */
  ordinal: number | string | null
  name: string
  description: string | null
  /** JSON text of the apim object as given (only its known string keys). */
  apim: string | null
  env_user_id: string
  enabled: Flag
  is_production: Flag
  created_at: Millis
  last_modified: Millis
  deleted_at: Millis | null
  integration_id: string | null
  connector_id: string | null
}

export interface InvitationsTable {
  id: string
  account_id: string
  environment_id: string
  email: string
  access_level: string
  accepted: Flag
  dismissed: Flag
  created_at: Millis
}

export interface ApiTokensTable {
  id: string
  account_id: string
  environment_id: string
  scope: string
  name: string | null
  /** SHA-256 of the secret, hex. The secret itself is never stored (C-1.6). */
  token_hash: string
  created_at: Millis
  expires_at: Millis | null
  revoked_at: Millis | null
}

export interface SettingsTable {
  key: string
  value: string
}

export interface Database {
  accounts: AccountsTable
  environments: EnvironmentsTable
  invitations: InvitationsTable
  api_tokens: ApiTokensTable
  settings: SettingsTable
}
