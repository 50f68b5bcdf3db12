import { hash as oneShotHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { errors } from '../errors.ts'
import { type Clock, newId, systemClock } from '../ids.ts'
import type { Store } from '../storage/store.ts'
import type { ApiToken, Principal, TokenScope } from './types.ts'

/**
 * API tokens (C-1.6). A secret is 32 random bytes, shown once; only its SHA-256 is stored and looked
 * up. An attacker who can time the lookup learns about hashes of guesses, not about the secret, and
 * the final comparison is constant-time anyway.
 */
const PREFIX = 'ioe_'
const MAX_TOKEN_LENGTH = 512

// crypto.hash is the one-shot form (no Hash object per call); the same SHA-256 of the UTF-8 text.
export const hashToken = (secret: string): string => oneShotHash('sha256', secret, 'hex')

export const generateSecret = (): string => PREFIX + randomBytes(32).toString('base64url')

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex')
  const y = Buffer.from(b, 'hex')
  return x.length === y.length && timingSafeEqual(x, y)
}

/** The principal of a presented secret, or undefined when the token is unknown, revoked or expired. */
export async function authenticate(
  store: Store,
  secret: string,
  now: number,
): Promise<Principal | undefined> {
  if (secret.length === 0 || secret.length > MAX_TOKEN_LENGTH) return undefined
  const hash = hashToken(secret)
  const found = await store.findPrincipalByTokenHash(hash)
  // The lookup already matched the hash; comparing again in constant time keeps the check exact
  // whatever the database's text comparison does.
  if (found === undefined || !sameHash(found.tokenHash, hash) || found.revoked) return undefined
  if (found.expiresAt !== null && found.expiresAt <= now) return undefined
  const { revoked: _revoked, tokenHash: _hash, ...principal } = found
  return principal
}

export interface CreatedToken extends ApiToken {
  /** The secret, returned once and never again. */
  token: string
}

export async function createToken(
  store: Store,
  accountId: string,
  options: { environmentId?: string; scope?: TokenScope; expiresInMs?: number; name?: string },
  clock: Clock = systemClock,
): Promise<CreatedToken> {
  const secret = generateSecret()
  const now = clock()
  const created = await store.withAccount(accountId, async (tx) => {
    const environment =
      options.environmentId === undefined ? await tx.getProduction() : await tx.getEnvironment(options.environmentId)
    if (environment === undefined) throw errors.notFound('Environment')
    const environmentId = environment._id
    return tx.insertToken({
      _id: newId(),
      environmentId,
      scope: options.scope ?? 'full',
      ...(options.name === undefined ? {} : { name: options.name }),
      tokenHash: hashToken(secret),
      createdAt: now,
      expiresAt: options.expiresInMs === undefined ? null : now + options.expiresInMs,
    })
  })
  if (created === undefined) throw errors.notFound('Account')
  return { ...created, token: secret }
}
