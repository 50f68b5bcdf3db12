import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { buildApp } from './app.ts'
import type { Config } from './config.ts'
import { type CreatedAccount, createAccount } from './domain/admin.ts'
import { createLimiter } from './http/rate-limit.ts'
import { parseDatabaseUrl } from './storage/dialect.ts'
import { VERSION } from './version.ts'
import { KyselyStore } from './storage/kysely-store.ts'

export interface RunningServer {
  app: FastifyInstance
  store: KyselyStore
  url: string
  bootstrap?: CreatedAccount
  close(): Promise<void>
}

/** Opens the store (running migrations), bootstraps an empty database (C-5.2), listens. */
export async function startServer(config: Config, out: NodeJS.WritableStream = process.stdout): Promise<RunningServer> {
  const store = await KyselyStore.open(parseDatabaseUrl(config.databaseUrl), { poolSize: config.poolSize })
  let bootstrap: CreatedAccount | undefined
  let redis: Redis | undefined
  try {
    if (config.redisUrl !== undefined) redis = await connectRedis(config.redisUrl)
    const limiter = createLimiter({
      burst: config.rateLimitBurst,
      refill: config.rateLimitRefill,
      ...(redis === undefined ? {} : { redis }),
    })
    const app = await buildApp({ store, config, limiter, version: VERSION })
    await app.listen({ port: config.port, host: config.host, listenTextResolver: () => 'listening' })
    const address = app.server.address()
    const port = typeof address === 'object' && address !== null ? address.port : config.port
    const host = config.host.includes(':') ? `[${config.host}]` : config.host
    const anyInterface = host === '0.0.0.0' || host === '[::]'
    const url = `http://${anyInterface ? '127.0.0.1' : host}:${port}`
    // Bootstrap only once the port is ours: a token printed by a start that then failed to listen
    // would be lost, and the account with it (C-5.2).
    if (config.bootstrap) {
      bootstrap = await createAccount(store, { name: 'Default account' }, { ifDatabaseEmpty: true })
      if (bootstrap !== undefined) out.write(bootstrapBanner(bootstrap, url))
    }
    out.write(
      `ioenv listening on ${url}${anyInterface ? ` (all interfaces, ${host}:${port})` : ''} (database ${describe(config.databaseUrl)})\n`,
    )

    let closing: Promise<void> | undefined
    const close = () =>
      (closing ??= (async () => {
        await app.close() // stops accepting, lets in-flight requests finish
        await store.close()
        redis?.disconnect()
      })())
    return { app, store, url, ...(bootstrap === undefined ? {} : { bootstrap }), close }
  } catch (err) {
    await store.close()
    redis?.disconnect()
    throw err
  }
}

/**
 * Commands fail at once while Redis is unreachable (no offline queue), so requests get a clear 503
 * instead of hanging; ioredis keeps reconnecting in the background and service resumes by itself.
 */
async function connectRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5000 })
  redis.on('error', () => {}) // reported per request as 503; reconnection is automatic
  try {
    await redis.connect()
  } catch (err) {
    redis.disconnect()
    throw new Error(`cannot reach Redis at ${url.replace(/\/\/[^@]*@/, '//***@')}: ${err instanceof Error ? err.message : String(err)}`)
  }
  return redis
}

function describe(databaseUrl: string): string {
  // Never print a password that may sit in a PostgreSQL URL.
  return databaseUrl.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')
}

function bootstrapBanner(b: CreatedAccount, url: string): string {
  return [
    '',
    `ioenv: the database was empty, so it now holds account "${b.account.name}" (${b.account._id})`,
    `with its Production environment (${b.environment._id}).`,
    'Its Production full-access token is shown this once; keep it somewhere safe:',
    '',
    `    ${b.token}`,
    '',
    `Try: curl -H "Authorization: Bearer <the token>" ${url}/v1/environments`,
    '',
    '',
  ].join('\n')
}

/** Graceful shutdown on SIGTERM/SIGINT: finish in-flight requests, close the pool, exit 0. */
export function closeOnSignals(server: RunningServer): void {
  const onSignal = (signal: NodeJS.Signals) => {
    server.app.log.info({ signal }, 'shutting down')
    server
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        server.app.log.error({ err }, 'shutdown failed')
        process.exit(1)
      })
  }
  process.once('SIGTERM', onSignal)
  process.once('SIGINT', onSignal)
}
