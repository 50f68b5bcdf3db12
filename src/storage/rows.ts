import type { Selectable } from 'kysely'
import type { AccessLevel, Account, ApiToken, EnvironmentRecord, Invitation, TokenScope } from '../domain/types.ts'
import { iso } from '../ids.ts'
import type { AccountsTable, ApiTokensTable, EnvironmentsTable, InvitationsTable } from './schema.ts'

/** Rows -> domain objects, at the storage edge. Optional wire fields are left out when unset (C-1.2). */

const ms = (v: number | string): number => (typeof v === 'number' ? v : Number(v))

export function toEnvironment(row: Selectable<EnvironmentsTable>): EnvironmentRecord {
  const env: EnvironmentRecord = {
    _id: row.id,
    name: row.name,
    _envUserId: row.env_user_id,
    enabled: row.enabled === 1,
    createdAt: iso(ms(row.created_at)),
    lastModified: iso(ms(row.last_modified)),
    accountId: row.account_id,
    isProduction: row.is_production === 1,
  }
  if (row.description !== null) env.description = row.description
  if (row.apim !== null) env.apim = JSON.parse(row.apim) as EnvironmentRecord['apim']
  if (row.deleted_at !== null) env.deletedAt = iso(ms(row.deleted_at))
  if (row.integration_id !== null) env._integrationId = row.integration_id
  if (row.connector_id !== null) env._connectorId = row.connector_id
  return env
}

export function toAccount(row: Selectable<AccountsTable>): Account {
  return {
    _id: row.id,
    name: row.name,
    ownerUserId: row.owner_user_id,
    maxEnvironments: row.max_environments,
    enabledLicenses: row.enabled_licenses,
    createdAt: iso(ms(row.created_at)),
  }
}

export function toToken(row: Selectable<ApiTokensTable>): ApiToken {
  const token: ApiToken = {
    _id: row.id,
    accountId: row.account_id,
    environmentId: row.environment_id,
    scope: row.scope as TokenScope,
    createdAt: iso(ms(row.created_at)),
  }
  if (row.name !== null) token.name = row.name
  if (row.expires_at !== null) token.expiresAt = iso(ms(row.expires_at))
  if (row.revoked_at !== null) token.revokedAt = iso(ms(row.revoked_at))
  return token
}

export function toInvitation(row: Selectable<InvitationsTable>): Invitation {
  return {
    _id: row.id,
    accountId: row.account_id,
    environmentId: row.environment_id,
    email: row.email,
    accessLevel: row.access_level as AccessLevel,
    accepted: row.accepted === 1,
    dismissed: row.dismissed === 1,
    createdAt: iso(ms(row.created_at)),
  }
}

export { ms }
