import { type Static, Type } from 'typebox'
import { Compile } from 'typebox/compile'
import { parseDatabaseUrl } from './storage/dialect.ts'

/**
 * Every setting, once: its flag, its environment variable, its default and its check. The CLI builds
 * its options and `--help` from this table, and `loadConfig` validates the merged result once, failing
 * fast with the name of the bad flag or variable. Nothing else reads `process.env`.
 */
export const ConfigSchema = Type.Object({
  databaseUrl: Type.String({ minLength: 1 }),
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  host: Type.String({ minLength: 1 }),
  publicUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?$' })),
  bootstrap: Type.Boolean(),
  bodyLimit: Type.Integer({ minimum: 1, maximum: 64 * 1024 * 1024 }),
  logLevel: Type.Union([
    Type.Literal('fatal'),
    Type.Literal('error'),
    Type.Literal('warn'),
    Type.Literal('info'),
    Type.Literal('debug'),
    Type.Literal('trace'),
    Type.Literal('silent'),
  ]),
  trustProxy: Type.Boolean(),
  tokenCacheMs: Type.Integer({ minimum: 0, maximum: 5000 }),
  poolSize: Type.Integer({ minimum: 1, maximum: 1000 }),
  redisUrl: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  rateLimitBurst: Type.Integer({ minimum: 0, maximum: 1_000_000_000 }),
  rateLimitRefill: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000_000 }),
})

export type Config = Static<typeof ConfigSchema>

type Kind = 'string' | 'integer' | 'number' | 'boolean'

export interface Setting {
  key: keyof Config
  flag: string
  env: readonly string[]
  kind: Kind
  default?: string | number | boolean
  help: string
  /** Only meaningful for `serve`; admin commands take just the database settings. */
  serveOnly: boolean
}

export const SETTINGS: readonly Setting[] = [
  { key: 'databaseUrl', flag: '--database-url <url>', env: ['IOENV_DATABASE_URL'], kind: 'string', default: 'sqlite:./data/ioenv.db', serveOnly: false, help: 'sqlite:PATH, sqlite::memory: (ephemeral) or postgres://…' },
  { key: 'port', flag: '--port <n>', env: ['IOENV_PORT', 'PORT'], kind: 'integer', default: 3000, serveOnly: true, help: 'TCP port to listen on (0 = any free port)' },
  { key: 'host', flag: '--host <addr>', env: ['IOENV_HOST', 'HOST'], kind: 'string', default: '127.0.0.1', serveOnly: true, help: 'address to listen on (0.0.0.0 for all interfaces)' },
  { key: 'publicUrl', flag: '--public-url <url>', env: ['IOENV_PUBLIC_URL'], kind: 'string', serveOnly: true, help: 'base URL for absolute links (Link, Location); default: the request\'s own scheme and host' },
  { key: 'bootstrap', flag: '--no-bootstrap', env: ['IOENV_BOOTSTRAP'], kind: 'boolean', default: true, serveOnly: true, help: 'do not create a first account (and print its token) on an empty database' },
  { key: 'bodyLimit', flag: '--body-limit <bytes>', env: ['IOENV_BODY_LIMIT'], kind: 'integer', default: 1048576, serveOnly: true, help: 'largest request body accepted, in bytes (413 above)' },
  { key: 'logLevel', flag: '--log-level <level>', env: ['IOENV_LOG_LEVEL', 'LOG_LEVEL'], kind: 'string', default: 'info', serveOnly: true, help: 'fatal, error, warn, info, debug, trace or silent' },
  { key: 'trustProxy', flag: '--trust-proxy', env: ['IOENV_TRUST_PROXY'], kind: 'boolean', default: false, serveOnly: true, help: 'honour X-Forwarded-Proto/-Host from a reverse proxy when building links' },
  { key: 'tokenCacheMs', flag: '--token-cache-ms <ms>', env: ['IOENV_TOKEN_CACHE_MS'], kind: 'integer', default: 2000, serveOnly: true, help: 'how long a token check is cached (at most 5000, C-5.4)' },
  { key: 'redisUrl', flag: '--redis-url <url>', env: ['IOENV_REDIS_URL'], kind: 'string', serveOnly: true, help: 'redis://… shared by all instances for the rate limit; default: limit per process' },
  { key: 'rateLimitBurst', flag: '--rate-limit-burst <n>', env: ['IOENV_RATE_LIMIT_BURST'], kind: 'integer', default: 1000, serveOnly: true, help: 'size of each account\'s token bucket: requests it may send at once (0 = no rate limit)' },
  { key: 'rateLimitRefill', flag: '--rate-limit-refill <n>', env: ['IOENV_RATE_LIMIT_REFILL'], kind: 'number', default: 300, serveOnly: true, help: 'tokens per second added to each account\'s bucket (decimals allowed)' },
  { key: 'poolSize', flag: '--pool-size <n>', env: ['IOENV_POOL_SIZE'], kind: 'integer', default: 10, serveOnly: false, help: 'PostgreSQL connections per process' },
]

const check = Compile(ConfigSchema)

export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

function convert(setting: Setting, raw: unknown, source: string): unknown {
  if (setting.kind === 'string' || typeof raw !== 'string') return raw
  if (setting.kind === 'integer') {
    if (!/^\s*\d+\s*$/.test(raw)) throw new ConfigError(`${source} must be a whole number, got ${JSON.stringify(raw)}`)
    return Number(raw)
  }
  if (setting.kind === 'number') {
    if (!/^\s*\d+(\.\d+)?\s*$/.test(raw)) throw new ConfigError(`${source} must be a number, got ${JSON.stringify(raw)}`)
    return Number(raw)
  }
  const v = raw.trim().toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(v)) return true
  if (['0', 'false', 'no', 'off'].includes(v)) return false
  throw new ConfigError(`${source} must be true or false, got ${JSON.stringify(raw)}`)
}

const flagName = (s: Setting) => s.flag.split(' ')[0]!

/**
 * Merges, in order of precedence: flags given on the command line, environment variables, defaults.
 * `flags` holds only the options the user actually passed.
 */
export function loadConfig(flags: Partial<Record<keyof Config, unknown>>, env: NodeJS.ProcessEnv): Config {
  const out: Record<string, unknown> = {}
  const sources: Record<string, string> = {}
  for (const s of SETTINGS) {
    let value: unknown
    let source = ''
    if (flags[s.key] !== undefined) {
      source = flagName(s)
      value = convert(s, flags[s.key], source)
    } else {
      const name = s.env.find((n) => env[n] !== undefined && env[n] !== '')
      if (name !== undefined) {
        source = name
        value = convert(s, env[name], name)
      } else if (s.default !== undefined) {
        source = `default of ${flagName(s)}`
        value = s.default
      }
    }
    if (value !== undefined) {
      out[s.key] = value
      sources[s.key] = source
    }
  }
  if (!check.Check(out)) {
    const first = [...check.Errors(out)][0]
    const key = first?.instancePath.replace(/^\//, '') ?? ''
    const setting = SETTINGS.find((s) => s.key === key)
    const source = sources[key] ?? (setting ? flagName(setting) : 'configuration')
    throw new ConfigError(`${source} is invalid (got ${JSON.stringify(out[key])}): expected ${setting?.help ?? first?.message ?? 'another value'}`)
  }
  try {
    parseDatabaseUrl(String(out.databaseUrl))
  } catch (err) {
    throw new ConfigError(`${sources.databaseUrl ?? '--database-url'} is invalid: ${err instanceof Error ? err.message : String(err)}`)
  }
  return out as Config
}
