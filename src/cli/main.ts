import { existsSync } from 'node:fs'
import path from 'node:path'
import { Command, Option } from 'commander'
import ms from 'ms'
import { type Config, ConfigError, SETTINGS, type Setting, loadConfig } from '../config.ts'
import { createAccount, createInvitation, resolveInvitation } from '../domain/admin.ts'
import { createToken } from '../domain/tokens.ts'
import type { AccessLevel, EnvironmentRecord, TokenScope } from '../domain/types.ts'
import { ApiError, UsageError, errors } from '../errors.ts'
import { closeOnSignals, startServer } from '../server.ts'
import { VERSION } from '../version.ts'
import { addEnvironmentCommands } from './environments.ts'
import { parseDatabaseUrl } from '../storage/dialect.ts'
import { KyselyStore } from '../storage/kysely-store.ts'

/**
 * The `ioenv` operator command (C-5). `serve` runs the API; every admin command works on the same
 * database selection and prints JSON on stdout, errors on stderr with a non-zero exit.
 */

const envHelp = (s: Setting) => `${s.help} [env: ${s.env.join(', ')}]${s.default === undefined || s.kind === 'boolean' ? '' : ` (default: ${String(s.default)})`}`

function addSettings(cmd: Command, serve: boolean): Command {
  for (const s of SETTINGS) {
    if (s.serveOnly && !serve) continue
    cmd.addOption(new Option(s.flag, envHelp(s)))
  }
  return cmd
}

/** Only what the user typed: commander fills in nothing, so env variables and defaults apply after. */
function flagsOf(cmd: Command): Partial<Record<keyof Config, unknown>> {
  const opts = cmd.opts()
  const flags: Partial<Record<keyof Config, unknown>> = {}
  for (const s of SETTINGS) {
    const v = opts[s.key]
    if (v === undefined) continue
    if (s.key === 'bootstrap') {
      if (v === false) flags.bootstrap = 'false'
    } else if (s.key === 'trustProxy') {
      flags.trustProxy = 'true'
    } else flags[s.key] = v
  }
  return flags
}

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)

const wireEnvironment = ({ accountId: _a, isProduction: _p, ...wire }: EnvironmentRecord) => wire

async function withStore<T>(cmd: Command, fn: (store: KyselyStore) => Promise<T>): Promise<void> {
  const config = loadConfig(flagsOf(cmd), process.env)
  const target = parseDatabaseUrl(config.databaseUrl)
  if (target.dialect === 'sqlite' && target.file === ':memory:') {
    process.stderr.write('ioenv: warning: sqlite::memory: is a fresh empty database for this command only\n')
  } else if (target.dialect === 'sqlite' && !existsSync(target.file)) {
    // Most likely a different working directory than the server's: say so rather than act on a new file.
    process.stderr.write(`ioenv: note: ${path.resolve(target.file)} did not exist; created a new, empty database there\n`)
  }
  const store = await KyselyStore.open(target, { poolSize: 2 })
  try {
    print(await fn(store))
  } finally {
    await store.close()
  }
}

function positiveInt(name: string) {
  return (raw: string): number => {
    if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new UsageError(`${name} must be a whole number of at least 1`)
    return Number(raw)
  }
}

function duration(raw: string): number {
  const value = /^\d+$/.test(raw) ? Number(raw) * 1000 : (ms as (s: string) => number | undefined)(raw)
  if (value === undefined || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--expires-in must be a duration such as 3600 (seconds), 90m, 12h or 30d; got ${JSON.stringify(raw)}`)
  }
  return value
}

export function buildCli(): Command {
  const program = new Command('ioenv')
    .description('A self-hostable integrator.io Environments API: the server and its operator commands.')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride()

  addSettings(
    program.command('serve').description('run the API (first start on an empty database prints a token)'),
    true,
  ).action(async (_opts, cmd: Command) => {
    const server = await startServer(loadConfig(flagsOf(cmd), process.env))
    closeOnSignals(server)
  })

  addEnvironmentCommands(program)

  const accounts = program.command('accounts').description('manage accounts (tenants)')
  addSettings(
    accounts
      .command('create')
      .description('create an account, its Production environment and a Production full-access token')
      .requiredOption('--name <name>', 'account name')
      .option('--max-environments <n>', 'most environments, Production included (default 100)', positiveInt('--max-environments'))
      .option('--licenses <n>', 'most environments enabled at once (default unlimited)', positiveInt('--licenses')),
    false,
  ).action(async (opts: { name: string; maxEnvironments?: number; licenses?: number }, cmd: Command) =>
    withStore(cmd, async (store) => {
      const created = await createAccount(store, {
        name: opts.name,
        ...(opts.maxEnvironments === undefined ? {} : { maxEnvironments: opts.maxEnvironments }),
        ...(opts.licenses === undefined ? {} : { licenses: opts.licenses }),
      })
      if (created === undefined) throw new Error('account was not created')
      return { account: created.account, environment: wireEnvironment(created.environment), token: created.token }
    }),
  )

  addSettings(accounts.command('list').description('list all accounts (to find an id)'), false).action(
    async (_opts, cmd: Command) => withStore(cmd, (store) => store.listAccounts()),
  )

  const tokens = program.command('tokens').description('manage API tokens')
  addSettings(
    tokens
      .command('create')
      .description('create a token; its secret is printed once')
      .requiredOption('--account <id>', 'account id')
      .option('--environment <id>', 'environment the token belongs to (default: Production)')
      .addOption(new Option('--scope <scope>', 'full or custom').choices(['full', 'custom']).default('full'))
      .option('--expires-in <duration>', 'lifetime: seconds, or 90m, 12h, 30d', duration)
      .option('--name <name>', 'a label for the token'),
    false,
  ).action(
    async (
      opts: { account: string; environment?: string; scope: TokenScope; expiresIn?: number; name?: string },
      cmd: Command,
    ) =>
      withStore(cmd, async (store) => {
        const created = await createToken(store, opts.account, {
          scope: opts.scope,
          ...(opts.environment === undefined ? {} : { environmentId: opts.environment }),
          ...(opts.expiresIn === undefined ? {} : { expiresInMs: opts.expiresIn }),
          ...(opts.name === undefined ? {} : { name: opts.name }),
        })
        const { token, _id, ...rest } = created
        return { _id, token, ...rest }
      }),
  )
  addSettings(tokens.command('revoke').description('revoke a token').argument('<id>', 'token id'), false).action(
    async (id: string, _opts, cmd: Command) =>
      withStore(cmd, async (store) => {
        const revoked = await store.revokeToken(id, Date.now())
        if (revoked === undefined) throw errors.notFound('Token')
        return revoked
      }),
  )
  addSettings(
    tokens.command('list').description("list an account's tokens (never their secrets)").requiredOption('--account <id>', 'account id'),
    false,
  ).action(async (opts: { account: string }, cmd: Command) =>
    withStore(cmd, async (store) => {
      if ((await store.getAccount(opts.account)) === undefined) throw errors.notFound('Account')
      return store.listTokens(opts.account)
    }),
  )

  const invitations = program.command('invitations').description('manage user invitations to environments')
  addSettings(
    invitations
      .command('create')
      .description('invite a user to an environment (pending until accepted or dismissed)')
      .requiredOption('--environment <id>', 'environment id')
      .requiredOption('--email <email>', 'invitee email')
      .addOption(new Option('--access-level <level>', 'administer, manage or monitor').choices(['administer', 'manage', 'monitor']).default('monitor')),
    false,
  ).action(async (opts: { environment: string; email: string; accessLevel: AccessLevel }, cmd: Command) =>
    withStore(cmd, async (store) => {
      if (!/^[^\s@]+@[^\s@]+$/.test(opts.email)) throw new UsageError(`--email ${JSON.stringify(opts.email)} is not an email address`)
      return createInvitation(store, { environmentId: opts.environment, email: opts.email, accessLevel: opts.accessLevel })
    }),
  )
  for (const [verb, state] of [
    ['accept', 'accepted'],
    ['dismiss', 'dismissed'],
  ] as const) {
    addSettings(invitations.command(verb).description(`mark an invitation ${state}`).argument('<id>', 'invitation id'), false).action(
      async (id: string, _opts, cmd: Command) => withStore(cmd, (store) => resolveInvitation(store, id, state)),
    )
  }
  addSettings(
    invitations.command('list').description("list an environment's invitations").requiredOption('--environment <id>', 'environment id'),
    false,
  ).action(async (opts: { environment: string }, cmd: Command) =>
    withStore(cmd, async (store) => {
      const accountId = await store.findEnvironmentAccount(opts.environment)
      if (accountId === undefined) throw errors.notFound('Environment')
      return store.listInvitations(accountId, opts.environment)
    }),
  )
  return program
}

export async function main(argv: string[]): Promise<void> {
  const program = buildCli()
  try {
    await program.parseAsync(argv)
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string }
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
      // commander has already printed help, the version or the usage error
      process.exitCode = e.exitCode === 0 ? 0 : 2
      return
    }
    const message =
      err instanceof ApiError || err instanceof UsageError || err instanceof ConfigError
        ? err.message
        : err instanceof Error
          ? err.message
          : String(err)
    process.stderr.write(`ioenv: ${message}\n`)
    // Errors may carry their own exit code (the environment verbs tell 4xx from 5xx that way).
    process.exitCode =
      typeof e.exitCode === 'number' ? e.exitCode : err instanceof UsageError || err instanceof ConfigError ? 2 : 1
  }
}

await main(process.argv)
