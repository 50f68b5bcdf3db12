import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import http from 'node:http'
import { IoenvAuthError, IoenvClient } from '../../src/client/index.ts'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const BIN = fileURLToPath(new URL('../../bin/ioenv.js', import.meta.url))

export interface ServerProcess {
  url: string
  /** The first-run token printed by `serve`, if it printed one. */
  token?: string
  proc: ChildProcess
  output(): string
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** Starts `ioenv serve` as a real process on a free port and waits until it listens. */
export async function startServer(args: string[], env: Record<string, string> = {}): Promise<ServerProcess> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--log-level', 'warn', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 20_000)
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        proc.stdout!.off('data', onData)
        resolve(m[1]!)
      }
    }
    proc.stdout!.on('data', onData)
    proc.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code}:\n${out}`))
    })
  })
  const token = /^\s{4}(ioe_\S+)$/m.exec(out)?.[1]
  return {
    url,
    ...(token === undefined ? {} : { token }),
    proc,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode
      proc.kill(signal)
      const [code] = (await once(proc, 'exit')) as [number | null]
      return code
    },
  }
}

export interface CliResult {
  status: number | null
  stdout: string
  stderr: string
  json<T = any>(): T
}

/** Runs an `ioenv` admin command to completion. */
export function ioenv(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) }
}

/**
 * One HTTP request on its own connection (no keep-alive): tests also block the event loop in
 * spawnSync, and a pooled socket the server closed meanwhile would fail the next request.
 */
export function api(base: string, token: string | undefined, method: string, path: string, body?: unknown) {
  const headers: Record<string, string> = {}
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
  if (payload !== undefined) {
    headers['content-type'] = 'application/json'
    headers['content-length'] = String(payload.length)
  }
  return new Promise<{ status: number; headers: Headers; text: string; json(): any }>((resolve, reject) => {
    const req = http.request(new URL(path, base), { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        const h = new Headers()
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v)
        resolve({ status: res.statusCode ?? 0, headers: h, text, json: () => JSON.parse(text) })
      })
    })
    req.on('error', reject)
    req.end(payload)
  })
}

/**
 * Waits until the server honours a token just made by the admin command (C-5.4). Through the client:
 * spawnSync blocks this process's event loop, so a kept-alive socket may have been closed by the
 * server unnoticed, and the client retries such a failed GET where a bare fetch would throw.
 */
export async function tokenWorks(url: string, token: string): Promise<void> {
  const client = new IoenvClient({ baseUrl: url, token })
  const start = Date.now()
  for (;;) {
    try {
      await client.listEnvironments({ limit: 1 })
      return
    } catch (err) {
      if (!(err instanceof IoenvAuthError) || Date.now() - start > 5000) throw err
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}
