import { type Command, InvalidArgumentError, Option } from 'commander'
import {
  type Environment,
  type EnvironmentRequest,
  IoenvApiError,
  IoenvAuthError,
  IoenvClient,
  IoenvNetworkError,
  IoenvResponseError,
} from '../client/index.ts'
import { UsageError } from '../errors.ts'

/**
 * `ioenv environments list|get|create|update|set|toggle`: the API's five operations from a shell,
 * through the typed client (issue 5). They talk HTTP to a running server (ours or integrator.io), not
 * to a database, so they need a base URL and a token rather than `--database-url`.
 */

/** Exit codes of the environment verbs; documented in `--help` and the README. */
export const EXIT = {
  ok: 0,
  /** Anything unexpected, e.g. a 2xx answer that is not JSON (wrong --base-url?). */
  failure: 1,
  /** Bad usage: unknown flag, missing --token, bad value, stdin not JSON. Nothing was sent. */
  usage: 2,
  /** The API refused the request: a 4xx other than 401, 403 and 429 (404, 400, 422, …). */
  rejected: 3,
  /** 401 (token missing, unknown, revoked or expired) or 403 (the token may not do this). */
  auth: 4,
  /** Temporary, worth retrying later: 5xx, 429 still rate limited after the retries, network failure. */
  unavailable: 5,
} as const

/** An error carrying the exit code; `main()` prints `ioenv: <message>` and exits with `exitCode`. */
export class CliExit extends Error {
  readonly exitCode: number
  constructor(message: string, exitCode: number) {
    super(message)
    this.name = 'CliExit'
    this.exitCode = exitCode
  }
}

const DEFAULT_BASE_URL = 'http://127.0.0.1:3000'

const EXIT_HELP = `
Connection:
  --base-url / IOENV_BASE_URL   the API's base URL, without /v1 (default ${DEFAULT_BASE_URL});
                                e.g. https://api.integrator.io or https://api.eu.integrator.io
  --token / IOENV_TOKEN         an API token (required); prefer the variable, flags show up in \`ps\`

Exit codes:
  0  success
  1  unexpected failure (e.g. an answer that is not the API's; check --base-url)
  2  bad usage (unknown flag, missing token, bad value, stdin not JSON); nothing was sent
  3  the API refused the request: 4xx other than 401/403/429 (404 not found, 400, 422 validation, …)
  4  authentication or permission: 401 (bad, revoked or expired token) or 403 (access_restricted)
  5  temporary, retry later: 5xx, still 429 after retries, server unreachable or network failure

Errors go to stderr with the API's codes and messages (and its X-Request-Id). 429 answers are retried
after Retry-After (3 times); network failures of reads are retried with a short backoff.`

const MUTABLE_FIELDS = ['name', 'description', 'apim.environmentId', 'apim.environmentHRID', 'apim.groupId'] as const
type MutableField = (typeof MUTABLE_FIELDS)[number]
const READ_ONLY_FIELDS = ['_id', '_envUserId', 'enabled', 'createdAt', 'lastModified', 'deletedAt', '_integrationId', '_connectorId']

interface ConnectionOpts {
  baseUrl: string
  token?: string
  json?: boolean
}

function withConnection(cmd: Command): Command {
  return cmd
    .addOption(new Option('--base-url <url>', 'API base URL, without /v1').env('IOENV_BASE_URL').default(DEFAULT_BASE_URL))
    .addOption(new Option('--token <token>', 'API token (required; prefer IOENV_TOKEN)').env('IOENV_TOKEN'))
    .option('--json', 'print JSON instead of a table, for scripts')
    .addHelpText('after', EXIT_HELP)
}

function clientOf(opts: ConnectionOpts): IoenvClient {
  if (opts.token === undefined || opts.token === '') {
    throw new UsageError('a token is required: set IOENV_TOKEN or pass --token')
  }
  try {
    return new IoenvClient({ baseUrl: opts.baseUrl, token: opts.token, userAgent: 'ioenv-cli' })
  } catch (err) {
    throw new UsageError(`--base-url: ${err instanceof Error ? err.message : String(err)}`)
  }
}

function intArg(name: string, min: number, max: number) {
  return (raw: string): number => {
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`)
    }
    return Number(raw)
  }
}

/** Turns what the client threw into the message and exit code the user sees. */
function toCliExit(err: unknown, baseUrl: string): unknown {
  if (err instanceof IoenvAuthError) {
    return new CliExit(`${err.status} ${err.message}: check the token (--token or IOENV_TOKEN)${requestIdOf(err)}`, EXIT.auth)
  }
  if (err instanceof IoenvApiError) {
    const lines =
      err.errors.length > 0
        ? err.errors.map((e) => `  ${e.code}${e.field === undefined ? '' : ` (${e.field})`}: ${clean(e.message)}`)
        : [`  ${clean(err.message)}`]
    const head = `the API answered ${err.status}${requestIdOf(err)}:`
    const hint =
      err.status === 403
        ? ['  (reading needs a full-access token of the account; changes need one of its Production environment)']
        : err.status === 429
          ? [`  (still rate limited after retries${err.retryAfter === undefined ? '' : `; retry after ${err.retryAfter} s`})`]
          : []
    const code =
      err.status === 403 ? EXIT.auth : err.status === 429 || err.status >= 500 ? EXIT.unavailable : err.status >= 400 ? EXIT.rejected : EXIT.failure
    return new CliExit([head, ...lines, ...hint].join('\n'), code)
  }
  if (err instanceof IoenvNetworkError) {
    return new CliExit(`cannot reach the API at ${baseUrl}: ${err.message}`, EXIT.unavailable)
  }
  if (err instanceof IoenvResponseError) {
    return new CliExit(`unexpected answer from ${baseUrl} (is --base-url the API?): ${err.message}`, EXIT.failure)
  }
  return err
}

const requestIdOf = (err: IoenvApiError) => (err.requestId === undefined ? '' : ` (request id ${err.requestId})`)

/** Runs a verb, mapping client errors to exit codes. */
function run<A extends unknown[]>(fn: (...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    const cmd = args[args.length - 1] as Command
    try {
      await fn(...args)
    } catch (err) {
      throw toCliExit(err, (cmd.opts() as ConnectionOpts).baseUrl)
    }
  }
}

// --- output -----------------------------------------------------------------------------------

/** Control characters (newlines, ESC …) in names could break the table or drive the terminal. */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** stdout that stops quietly when the reader goes away (`| head`) and respects back-pressure. */
class Output {
  closed = false
  constructor() {
    process.stdout.on('error', () => {
      this.closed = true
    })
  }

  async write(text: string): Promise<void> {
    if (this.closed) return
    if (process.stdout.write(text)) return
    await new Promise<void>((resolve) => {
      const done = () => {
        process.stdout.off('drain', done)
        process.stdout.off('error', done)
        resolve()
      }
      process.stdout.once('drain', done)
      process.stdout.once('error', done)
    })
  }
}

const printJson = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)

const TABLE_HEADER = `${'ID'.padEnd(24)}  ${'ENABLED'.padEnd(7)}  ${'LAST MODIFIED'.padEnd(24)}  NAME\n`
const tableRow = (e: Environment) =>
  `${clean(e._id).padEnd(24)}  ${(e.enabled ? 'yes' : 'no').padEnd(7)}  ${clean(e.lastModified).padEnd(24)}  ${clean(e.name)}\n`

const DETAIL_ORDER = ['_id', 'name', 'description', 'enabled', 'apim', '_envUserId', 'createdAt', 'lastModified']

/** One environment as `key  value` lines, `apim` flattened to `apim.groupId` etc. */
function detail(e: Environment): string {
  const rows: Array<[string, string]> = []
  const rank = (k: string) => (DETAIL_ORDER.indexOf(k) < 0 ? DETAIL_ORDER.length : DETAIL_ORDER.indexOf(k))
  const entries = Object.entries(e).sort(([a], [b]) => rank(a) - rank(b))
  for (const [key, value] of entries) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) rows.push([`${key}.${k}`, text(v)])
    } else rows.push([key, key === 'enabled' ? (value ? 'yes' : 'no') : text(value)])
  }
  const width = Math.max(...rows.map(([k]) => k.length))
  return rows.map(([k, v]) => `${clean(k).padEnd(width)}  ${v}\n`).join('')
}

const text = (v: unknown) => clean(typeof v === 'string' ? v : JSON.stringify(v) ?? '')

function show(e: Environment, opts: ConnectionOpts): void {
  if (opts.json) printJson(e)
  else process.stdout.write(detail(e))
}

// --- input ------------------------------------------------------------------------------------

async function readStdinJson(what: string): Promise<unknown> {
  if (process.stdin.isTTY) {
    throw new UsageError(`${what} reads a JSON body on stdin; pipe one in, e.g. echo '{"name":"dev"}' | ioenv environments …`)
  }
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  const raw = Buffer.concat(chunks).toString('utf8')
  if (raw.trim() === '') throw new UsageError(`${what}: stdin is empty; expected a JSON body`)
  try {
    return JSON.parse(raw)
  } catch (err) {
    throw new UsageError(`${what}: stdin is not valid JSON: ${err instanceof Error ? err.message : String(err)}`)
  }
}

function parseAssignment(raw: string): [MutableField, string] {
  const eq = raw.indexOf('=')
  const key = eq < 0 ? raw : raw.slice(0, eq)
  if (eq < 0 || !(MUTABLE_FIELDS as readonly string[]).includes(key)) {
    throw new UsageError(`${JSON.stringify(raw)} is not FIELD=VALUE with FIELD one of ${MUTABLE_FIELDS.join(', ')}`)
  }
  return [key as MutableField, raw.slice(eq + 1)]
}

/** The body for a full replace: the environment as read, minus its read-only fields, with the changes. */
export function mergeChanges(current: Environment, sets: Array<[MutableField, string]>, unsets: MutableField[]): EnvironmentRequest {
  const body: Record<string, unknown> = { ...current }
  for (const key of READ_ONLY_FIELDS) delete body[key]
  const apim: Record<string, unknown> = { ...(current.apim ?? {}) }
  for (const field of unsets) {
    if (field === 'name') throw new UsageError('name cannot be unset: every environment has one')
    if (field.startsWith('apim.')) delete apim[field.slice(5)]
    else delete body[field]
  }
  for (const [field, value] of sets) {
    if (field.startsWith('apim.')) apim[field.slice(5)] = value
    else body[field] = value
  }
  if (Object.keys(apim).length > 0) body.apim = apim
  else delete body.apim
  return body as EnvironmentRequest
}

// --- the verbs --------------------------------------------------------------------------------

interface ListOpts extends ConnectionOpts {
  limit: number
  skip?: number
  ndjson?: boolean
  quiet?: boolean
}

async function list(opts: ListOpts): Promise<void> {
  const client = clientOf(opts)
  const out = new Output()
  const mode = opts.ndjson ? 'ndjson' : opts.json ? 'json' : 'table'
  let pages = 0
  let count = 0
  for await (const page of client.environmentPages({ limit: opts.limit, ...(opts.skip === undefined ? {} : { skip: opts.skip }) })) {
    if (pages === 0) {
      if (mode === 'json') await out.write('[')
      if (mode === 'table') await out.write(TABLE_HEADER)
    }
    pages++
    let chunk = ''
    for (const env of page.items) {
      if (mode === 'table') chunk += tableRow(env)
      else if (mode === 'ndjson') chunk += `${JSON.stringify(env)}\n`
      else chunk += `${count === 0 ? '\n' : ',\n'}${JSON.stringify(env)}`
      count++
    }
    await out.write(chunk)
    if (out.closed) return
    if (!opts.quiet && (pages > 1 || page.next !== undefined)) {
      process.stderr.write(`ioenv: page ${pages} (${count} environment${count === 1 ? '' : 's'})${page.next === undefined ? ', done' : ''}\n`)
    }
  }
  if (mode === 'json') await out.write(count === 0 ? ']\n' : '\n]\n')
}

interface CreateOpts extends ConnectionOpts {
  name?: string
  description?: string
  apimGroupId?: string
  apimEnvironmentId?: string
  apimEnvironmentHrid?: string
}

async function create(source: string | undefined, opts: CreateOpts): Promise<void> {
  let body: EnvironmentRequest
  const fromFlags = [opts.name, opts.description, opts.apimGroupId, opts.apimEnvironmentId, opts.apimEnvironmentHrid].some((v) => v !== undefined)
  if (source !== undefined) {
    if (source !== '-') throw new UsageError(`create takes "-" (a JSON body on stdin) or flags; got ${JSON.stringify(source)}`)
    if (fromFlags) throw new UsageError('create: give either "-" (a JSON body on stdin) or --name and the other flags, not both')
    const client = clientOf(opts)
    body = (await readStdinJson('create -')) as EnvironmentRequest
    return show(await client.createEnvironment(body), opts)
  }
  if (opts.name === undefined) throw new UsageError('create: --name is required (or "-" to read a JSON body on stdin)')
  const client = clientOf(opts)
  body = { name: opts.name }
  if (opts.description !== undefined) body.description = opts.description
  const apim: Record<string, string> = {}
  if (opts.apimEnvironmentId !== undefined) apim.environmentId = opts.apimEnvironmentId
  if (opts.apimEnvironmentHrid !== undefined) apim.environmentHRID = opts.apimEnvironmentHrid
  if (opts.apimGroupId !== undefined) apim.groupId = opts.apimGroupId
  if (Object.keys(apim).length > 0) body.apim = apim
  show(await client.createEnvironment(body), opts)
}

async function update(id: string, source: string | undefined, opts: ConnectionOpts): Promise<void> {
  if (source !== undefined && source !== '-') throw new UsageError(`update reads its body on stdin; the only argument after the id is "-", got ${JSON.stringify(source)}`)
  const client = clientOf(opts)
  const body = (await readStdinJson('update')) as EnvironmentRequest
  show(await client.updateEnvironment(id, body), opts)
}

interface SetOpts extends ConnectionOpts {
  unset: string[]
}

async function set(id: string, assignments: string[], opts: SetOpts): Promise<void> {
  const sets = assignments.map(parseAssignment)
  const unsets = opts.unset.map((f) => {
    if (!(MUTABLE_FIELDS as readonly string[]).includes(f)) throw new UsageError(`--unset ${JSON.stringify(f)}: FIELD is one of ${MUTABLE_FIELDS.join(', ')}`)
    return f as MutableField
  })
  if (sets.length === 0 && unsets.length === 0) throw new UsageError('set: nothing to change; give FIELD=VALUE and/or --unset FIELD')
  const client = clientOf(opts)
  const current = await client.getEnvironment(id)
  show(await client.updateEnvironment(id, mergeChanges(current, sets, unsets)), opts)
}

async function toggle(id: string, opts: ConnectionOpts): Promise<void> {
  const client = clientOf(opts)
  await client.toggleEnvironment(id)
  let after: Environment
  try {
    after = await client.getEnvironment(id)
  } catch (err) {
    // The toggle itself succeeded: say so and exit 0 rather than report a failure.
    const reason = err instanceof Error ? err.message : String(err)
    process.stderr.write(`ioenv: toggled ${id}, but could not read its new state: ${reason}\n`)
    return
  }
  if (opts.json) printJson(after)
  else process.stdout.write(`${clean(after._id)} (${clean(after.name)}) is now ${after.enabled ? 'enabled' : 'disabled'}\n`)
}

export function addEnvironmentCommands(program: Command): void {
  const envs = program
    .command('environments')
    .alias('envs')
    .description('list, read, create, replace and toggle environments through the API (needs a token)')
    .addHelpText('after', EXIT_HELP)

  withConnection(
    envs
      .command('list')
      .description('list every environment, page by page (follows the Link header); rows are printed as pages arrive')
      .option('--limit <n>', 'page size, 1-1000', intArg('--limit', 1, 1000), 100)
      .option('--skip <n>', 'start after this many environments', intArg('--skip', 0, Number.MAX_SAFE_INTEGER))
      .option('--ndjson', 'print one JSON object per line (newline-delimited JSON)')
      .option('-q, --quiet', 'no "page N (M environments)" progress on stderr'),
  )
    .addHelpText(
      'after',
      `
Output: a table (ID, ENABLED, LAST MODIFIED, NAME) by default; with --json one JSON array, written as
pages arrive (it is complete, and valid, only when the exit code is 0); with --ndjson one environment
per line. When the listing spans several pages, "page N (M environments)" goes to stderr after each.`,
    )
    .action(run(async (opts: ListOpts) => list(opts)))

  withConnection(envs.command('get').description('show one environment').argument('<id>', 'environment id')).action(
    run(async (id: string, opts: ConnectionOpts) => show(await clientOf(opts).getEnvironment(id), opts)),
  )

  withConnection(
    envs
      .command('create')
      .description('create an environment from flags, or from a JSON body on stdin with "-"')
      .argument('[-]', '"-" reads the JSON body ({"name", "description"?, "apim"?}) from stdin')
      .option('--name <name>', 'name (required unless "-")')
      .option('--description <text>', 'description')
      .option('--apim-group-id <id>', 'apim.groupId')
      .option('--apim-environment-id <id>', 'apim.environmentId')
      .option('--apim-environment-hrid <hrid>', 'apim.environmentHRID'),
  ).action(run(async (source: string | undefined, opts: CreateOpts) => create(source, opts)))

  withConnection(
    envs
      .command('update')
      .description('replace an environment with the full JSON body read from stdin (fields left out are removed)')
      .argument('<id>', 'environment id')
      .argument('[-]', 'stdin (the default)'),
  )
    .addHelpText(
      'after',
      `
A full replace (PUT): description and apim are removed unless the body has them. Read-only fields
(_id, enabled, createdAt, …) in the body are ignored, so the output of \`get --json\` can be edited
and piped back:  ioenv environments get ID --json | jq '.name = "qa"' | ioenv environments update ID`,
    )
    .action(run(async (id: string, source: string | undefined, opts: ConnectionOpts) => update(id, source, opts)))

  withConnection(
    envs
      .command('set')
      .description('change named fields: reads the environment, applies FIELD=VALUE, writes it back')
      .argument('<id>', 'environment id')
      .argument('[FIELD=VALUE...]', `fields to set: ${MUTABLE_FIELDS.join(', ')}`)
      .option('--unset <field>', 'remove an optional field (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[]),
  )
    .addHelpText(
      'after',
      `
Example:  ioenv environments set ID name=QA "description=for testers" apim.groupId=g1 --unset apim.environmentId

This is a read-modify-write (GET, merge, PUT) and the API has no conditional update: a change someone
else makes to the same environment between the GET and the PUT is overwritten. Fields this command
does not change are sent back as read.`,
    )
    .action(run(async (id: string, assignments: string[], opts: SetOpts) => set(id, assignments, opts)))

  withConnection(
    envs
      .command('toggle')
      .description('flip enabled/disabled, then show the new state (read right after)')
      .argument('<id>', 'environment id'),
  ).action(run(async (id: string, opts: ConnectionOpts) => toggle(id, opts)))
}
