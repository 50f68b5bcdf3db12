import { type ErrorItem, errors } from '../errors.ts'
import { type Clock, newId, systemClock } from '../ids.ts'
import type { Store } from '../storage/store.ts'
import type { EnvironmentInput, EnvironmentRecord, Page } from './types.ts'

/**
 * The five operations of the reference (C-4), with their rules. No HTTP and no SQL here: the store
 * gives a locked unit of work per account, and the rules are decided inside it so that checking and
 * writing are one atomic step.
 */
export class EnvironmentService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock = systemClock,
  ) {}

  /** One page in creation order, Production first (C-4.1). Fetches one extra row to know if more remain. */
  async list(accountId: string, page: Page): Promise<{ items: EnvironmentRecord[]; hasMore: boolean }> {
    const rows = await this.store.listEnvironments(accountId, { skip: page.skip, limit: page.limit + 1 })
    const hasMore = rows.length > page.limit
    return { items: hasMore ? rows.slice(0, page.limit) : rows, hasMore }
  }

  async get(accountId: string, id: string): Promise<EnvironmentRecord> {
    const env = await this.store.getEnvironment(accountId, id)
    if (env === undefined) throw errors.notFound('Environment')
    return env
  }

  /** C-4.2 and C-1.4: a fresh `_envUserId`; enabled only while a license slot is free. */
  async create(accountId: string, input: EnvironmentInput): Promise<EnvironmentRecord> {
    assertStorableText(input)
    const created = await this.store.withAccount(accountId, async (tx) => {
      const { maxEnvironments, enabledLicenses } = tx.account
      if ((await tx.countEnvironments()) >= maxEnvironments) throw errors.limitExceeded(maxEnvironments)
      const enabled = enabledLicenses === null || (await tx.countEnabledEnvironments()) < enabledLicenses
      return tx.insertEnvironment({
        _id: newId(),
        ...input,
        _envUserId: newId(),
        enabled,
        isProduction: false,
        createdAt: this.clock(),
      })
    })
    if (created === undefined) throw errors.notFound('Account')
    return created
  }

  /** C-4.4: a full replace of the mutable fields; `lastModified` always moves forward. */
  async replace(accountId: string, id: string, input: EnvironmentInput): Promise<EnvironmentRecord> {
    assertStorableText(input)
    const replaced = await this.store.withAccount(accountId, async (tx) => {
      const current = await tx.getEnvironment(id)
      if (current === undefined) throw errors.notFound('Environment')
      return tx.replaceEnvironment(id, input, nextModified(current, this.clock()))
    })
    if (replaced === undefined) throw errors.notFound('Environment')
    return replaced
  }

  /**
   * C-4.5: flips `enabled`. The guards are read under the account lock, so two toggles, or a toggle
   * and an invitation, never interleave: N concurrent toggles flip exactly N times.
   */
  async toggle(accountId: string, id: string): Promise<{ enabled: boolean }> {
    const result = await this.store.withAccount(accountId, async (tx) => {
      const env = await tx.getEnvironment(id)
      if (env === undefined) throw errors.notFound('Environment')
      if (env.enabled) {
        if (env.isProduction) throw errors.productionCannotBeDisabled()
        const pending = await tx.countPendingInvitations(id)
        if (pending > 0) throw errors.pendingInvitations(pending)
      } else {
        const licenses = tx.account.enabledLicenses
        if (licenses !== null && (await tx.countEnabledEnvironments()) >= licenses) {
          throw errors.licenseLimitExceeded(licenses)
        }
      }
      await tx.setEnabled(id, !env.enabled, nextModified(env, this.clock()))
      return { enabled: !env.enabled }
    })
    if (result === undefined) throw errors.notFound('Environment')
    return result
  }
}

/** Strictly later than the previous value even when the clock has not moved (or moved back). */
function nextModified(env: EnvironmentRecord, now: number): number {
  return Math.max(now, Date.parse(env.lastModified) + 1)
}

/**
 * Names are stored byte-exact (C-1.7), so text must survive UTF-8 storage unchanged on every dialect:
 * lone surrogates (not valid Unicode text) would come back as U+FFFD, and PostgreSQL cannot store NUL.
 */
function assertStorableText(input: EnvironmentInput): void {
  const bad: ErrorItem[] = []
  const check = (field: string, value: string | undefined) => {
    if (value !== undefined && (!value.isWellFormed() || value.includes('\u0000'))) {
      bad.push({ code: 'invalid_field', field, message: `${field} must be valid Unicode text without NUL characters.` })
    }
  }
  check('name', input.name)
  check('description', input.description)
  for (const [key, value] of Object.entries(input.apim ?? {})) check(`apim.${key}`, value)
  if (bad.length > 0) throw errors.validation(bad)
}
