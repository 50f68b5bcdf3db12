import { UsageError, errors } from '../errors.ts'
import { type Clock, iso, newId, systemClock } from '../ids.ts'
import type { Store } from '../storage/store.ts'
import { type CreatedToken, createToken } from './tokens.ts'
import type { AccessLevel, Account, EnvironmentRecord, Invitation } from './types.ts'

/** Operator actions behind the `ioenv` admin commands (C-5.3) and the first-run bootstrap (C-5.2). */

export const DEFAULT_MAX_ENVIRONMENTS = 100

export interface CreatedAccount {
  account: Account
  environment: EnvironmentRecord
  token: string
  tokenId: string
}

export async function createAccount(
  store: Store,
  input: { name: string; maxEnvironments?: number; licenses?: number | null },
  options: { ifDatabaseEmpty?: boolean; clock?: Clock } = {},
): Promise<CreatedAccount | undefined> {
  const clock = options.clock ?? systemClock
  const maxEnvironments = input.maxEnvironments ?? DEFAULT_MAX_ENVIRONMENTS
  const licenses = input.licenses ?? null
  if (!Number.isInteger(maxEnvironments) || maxEnvironments < 1) {
    throw new UsageError('--max-environments must be a whole number of at least 1 (Production counts)')
  }
  if (licenses !== null && (!Number.isInteger(licenses) || licenses < 1)) {
    throw new UsageError('--licenses must be a whole number of at least 1 (Production is always enabled)')
  }
  const now = clock()
  const ownerUserId = newId()
  const account: Account = {
    _id: newId(),
    name: input.name,
    ownerUserId,
    maxEnvironments,
    enabledLicenses: licenses,
    createdAt: iso(now),
  }
  // C-1.3: the first environment is always Production, owned by the account owner, enabled.
  const created = await store.createAccount(
    account,
    { _id: newId(), name: 'Production', _envUserId: ownerUserId, enabled: true, isProduction: true, createdAt: now },
    options.ifDatabaseEmpty ?? false,
  )
  if (created === undefined) return undefined
  const token: CreatedToken = await createToken(store, account._id, { name: 'owner' }, clock)
  return { account: created.account, environment: created.production, token: token.token, tokenId: token._id }
}

export async function createInvitation(
  store: Store,
  input: { environmentId: string; email: string; accessLevel?: AccessLevel },
  clock: Clock = systemClock,
): Promise<Invitation> {
  const accountId = await store.findEnvironmentAccount(input.environmentId)
  if (accountId === undefined) throw errors.notFound('Environment')
  const invitation = await store.withAccount(accountId, async (tx) => {
    if ((await tx.getEnvironment(input.environmentId)) === undefined) throw errors.notFound('Environment')
    return tx.insertInvitation({
      _id: newId(),
      environmentId: input.environmentId,
      email: input.email,
      accessLevel: input.accessLevel ?? 'monitor',
      createdAt: clock(),
    })
  })
  if (invitation === undefined) throw errors.notFound('Environment')
  return invitation
}

/**
 * Accepting or dismissing resolves a pending invitation (C-1.5). Doing the same again is a no-op;
 * flipping a resolved invitation to the other outcome is refused, as the invitee's answer is final.
 */
export async function resolveInvitation(
  store: Store,
  id: string,
  state: 'accepted' | 'dismissed',
): Promise<Invitation> {
  const accountId = await store.findInvitationAccount(id)
  if (accountId === undefined) throw errors.notFound('Invitation')
  const resolved = await store.withAccount(accountId, async (tx) => {
    const current = await tx.getInvitation(id)
    if (current === undefined) throw errors.notFound('Invitation')
    if (state === 'accepted' ? current.accepted : current.dismissed) return current
    if (current.accepted || current.dismissed) {
      throw new UsageError(`invitation ${id} is already ${current.accepted ? 'accepted' : 'dismissed'}`)
    }
    return tx.resolveInvitation(id, state)
  })
  if (resolved === undefined) throw errors.notFound('Invitation')
  return resolved
}
