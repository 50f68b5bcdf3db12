import { readFileSync } from 'node:fs'

/** ioenv's version, from package.json: next to src/ when run from source, or to dist/ when bundled. */
export const VERSION = (() => {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version: string }
      if (pkg.name === 'ioenv') return pkg.version
    } catch {
      // try the next location
    }
  }
  return 'unknown'
})()
