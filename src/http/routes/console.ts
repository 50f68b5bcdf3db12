import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'

/**
 * Everything the console loads comes from this server: its own scripts and styles, and the API on the
 * same origin. No inline script or style, no framing, no plugins, no other origin.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

/**
 * Where the page's files are: `src/console/` next to this module when run from the sources (tsx),
 * or from the bundle in `dist/` (bin/ioenv.js), which sits beside `src/`.
 */
function findConsoleDir(): string | undefined {
  for (const relative of ['../../console/', '../src/console/']) {
    const dir = fileURLToPath(new URL(relative, import.meta.url))
    if (existsSync(path.join(dir, 'index.html')) && existsSync(path.join(dir, 'app.js'))) return dir
  }
  return undefined
}

/**
 * The web console (issue 5): a static page at /console (HTML, CSS and ES modules from src/console/,
 * no build step) that signs in with a token the user pastes and then calls the /v1 API from the
 * browser like any other client. So every route here is public (`access: 'public'`); the API calls
 * the page makes carry the token and go through the normal auth hook.
 */
export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  // Every route of this plugin, the static files included (@fastify/static takes no route config),
  // is public; the hook is encapsulated, so it touches no route outside this plugin.
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), access: 'public' }
  })
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('content-security-policy', CONSOLE_CSP)
    reply.header('referrer-policy', 'no-referrer')
    reply.header('x-frame-options', 'DENY')
    reply.header('cross-origin-opener-policy', 'same-origin')
  })

  const dir = findConsoleDir()
  if (dir === undefined) {
    app.log.warn('ioenv: the console files (src/console/) are missing; /console answers 404')
    app.get('/console', async (_request, reply) =>
      reply.code(404).type('text/plain; charset=utf-8').send('The web console is not installed with this copy of ioenv.\n'),
    )
    return
  }

  // The page itself at /console (and /console/: the router ignores trailing slashes). Its assets use
  // absolute /console/… URLs, so both spellings load them.
  const indexFile = path.join(dir, 'index.html')
  app.get('/console', async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(await readFile(indexFile)),
  )

  // The assets: only the files that exist at start are routes (no wildcard, so no path to resolve at
  // request time); anything else under /console/ is an unknown route like any other.
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/console/',
    wildcard: false,
    index: false,
    decorateReply: false,
    serveDotFiles: false,
    globIgnore: ['index.html'],
    // The app's `Cache-Control: no-store` stays: a console upgraded with the server never runs stale code.
    cacheControl: false,
  })
}
