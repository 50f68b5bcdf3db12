/** Domain objects. Environment uses the wire names of the reference `Response` schema (C-1.2). */

export interface Apim {
  environmentId?: string
  environmentHRID?: string
  groupId?: string
}

export interface Environment {
  _id: string
  name: string
  description?: string
  apim?: Apim
  _envUserId: string
  enabled: boolean
  createdAt: string
  lastModified: string
  deletedAt?: string
  _integrationId?: string
  _connectorId?: string
}

/** What storage knows of an environment beyond the wire fields; never serialized (C-1.3). */
export interface EnvironmentRecord extends Environment {
  accountId: string
  isProduction: boolean
}

/** The mutable fields of an environment: what POST sets and PUT replaces (C-4.2, C-4.4). */
export interface EnvironmentInput {
  name: string
  description?: string
  apim?: Apim
}

export interface Account {
  _id: string
  name: string
  ownerUserId: string
  maxEnvironments: number
  /** How many environments may be enabled at once; null = unlimited (C-1.1). */
  enabledLicenses: number | null
  createdAt: string
}

export type TokenScope = 'full' | 'custom'

export interface ApiToken {
  _id: string
  accountId: string
  environmentId: string
  scope: TokenScope
  name?: string
  createdAt: string
  expiresAt?: string
  revokedAt?: string
}

/** Who is calling: the result of authenticating a bearer token (C-2). */
export interface Principal {
  tokenId: string
  accountId: string
  environmentId: string
  scope: TokenScope
  /** The token belongs to the account's Production environment (C-2.4). */
  production: boolean
  /** ms since epoch, or null for tokens that never expire. */
  expiresAt: number | null
}

export type AccessLevel = 'administer' | 'manage' | 'monitor'

export interface Invitation {
  _id: string
  accountId: string
  environmentId: string
  email: string
  accessLevel: AccessLevel
  accepted: boolean
  dismissed: boolean
  createdAt: string
}

export interface Page {
  skip: number
  limit: number
}
