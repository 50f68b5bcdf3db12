import type { FastifyInstance, FastifyRequest } from 'fastify'
import { LRUCache } from 'lru-cache'
import { errors } from '../errors.ts'
import type { Clock } from '../ids.ts'
import { authenticate, hashToken } from '../domain/tokens.ts'
import type { Principal } from '../domain/types.ts'
import type { Store } from '../storage/store.ts'

export type Access = 'public' | 'read' | 'write'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route (C-2.4); routes without it still need a valid token. */
    access?: Access
  }
  interface FastifyRequest {
    principal?: Principal
  }
}

function countHeader(raw: string[], name: string): number {
  let n = 0
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name) n++
  return n
}
const BEARER = /^bearer[ \t]+([^\s]+)[ \t]*$/i

interface CacheEntry {
  principal: Principal | null
}

/**
 * Bearer-token authentication as an onRequest hook, so it runs before body parsing, routing errors
 * and validation (C-2: "before anything else, even for unknown ids or routes"). Token checks are
 * cached by hash for at most `cacheMs` (≤ 5 s), which bounds how late a revocation or a new token
 * takes effect (C-5.4); expiry is re-checked on every request.
 */
export function registerAuth(
  app: FastifyInstance,
  store: Store,
  options: { cacheMs: number; clock: Clock },
): (request: FastifyRequest) => Promise<void> {
  const cache =
    options.cacheMs > 0 ? new LRUCache<string, CacheEntry>({ max: 10_000, ttl: options.cacheMs }) : undefined

  const live = (p: Principal | null, now: number): Principal | undefined =>
    p === null || (p.expiresAt !== null && p.expiresAt <= now) ? undefined : p

  /** The token's principal: from the cache at once, or a promise when the database must be asked. */
  function principalOf(secret: string): Principal | undefined | Promise<Principal | undefined> {
    const now = options.clock()
    const key = hashToken(secret)
    const entry = cache?.get(key)
    if (entry !== undefined) return live(entry.principal, now)
    return authenticate(store, secret, now).then((found) => {
      const fresh: CacheEntry = { principal: found ?? null }
      cache?.set(key, fresh)
      return live(fresh.principal, now)
    })
  }

  function admit(request: FastifyRequest, access: Access | undefined, principal: Principal | undefined): void {
    if (principal === undefined) throw errors.authFailed()
    request.principal = principal
    // C-2.4: reading needs a full token of the account; changing needs a full Production token.
    if (access === 'read' && principal.scope !== 'full') throw errors.accessRestricted()
    if (access === 'write' && !(principal.scope === 'full' && principal.production)) {
      throw errors.accessRestricted('Only a full-access token of the Production environment can change environments.')
    }
  }

  /** The whole check; a promise only when the token was not in the cache (most requests need none). */
  function check(request: FastifyRequest): void | Promise<void> {
    // Every route but the public ones authenticates first, unknown paths included: a 404 never tells
    // a caller without a token which paths exist.
    const access = request.routeOptions?.config?.access
    if (access === 'public') return

    const header = request.headers.authorization
    if (header === undefined || header === '') throw errors.unauthorized()
    // Node keeps only the first of several Authorization headers; a proxy may honour the last. Two
    // parties disagreeing on who is calling is worse than refusing.
    if (countHeader(request.raw.rawHeaders, 'authorization') > 1) throw errors.authFailed()
    const match = BEARER.exec(header)
    if (match === null) throw errors.authFailed()
    const found = principalOf(match[1]!)
    if (found instanceof Promise) return found.then((principal) => admit(request, access, principal))
    admit(request, access, found)
  }

  async function gate(request: FastifyRequest): Promise<void> {
    await check(request)
  }

  app.decorateRequest('principal', undefined)
  // Callback style: a cached token is checked without a promise or an extra turn of the event loop.
  app.addHook('onRequest', (request, _reply, done) => {
    let pending: void | Promise<void>
    try {
      pending = check(request)
    } catch (err) {
      done(err as Error)
      return
    }
    if (pending === undefined) done()
    else pending.then(() => done(), (err: Error) => done(err))
  })
  return gate
}

/** The authenticated principal of a route that declared `access`; auth has run before any handler. */
export function principal(request: FastifyRequest): Principal {
  if (request.principal === undefined) throw errors.unauthorized()
  return request.principal
}
