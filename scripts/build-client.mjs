#!/usr/bin/env node
// Builds `ioenv/client` for other projects: one ESM file (dist/client/index.js, http-link-header left
// as a dependency) and its type declarations (dist/types/). Runs on `npm ci`/`npm install` (prepare).
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { buildSync } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
buildSync({
  entryPoints: [`${root}src/client/index.ts`],
  outfile: `${root}dist/client/index.js`,
  bundle: true,
  external: ['http-link-header'],
  platform: 'neutral',
  format: 'esm',
  target: 'es2022',
  logLevel: 'error',
})
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
execFileSync(process.execPath, [tsc, '-p', `${root}tsconfig.client.json`], { stdio: 'inherit' })
