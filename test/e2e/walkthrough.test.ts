import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { ROOT, startServer } from '../helpers/process.ts'

/** examples/walkthrough.sh, run exactly as the README tells a new user, against a real server. */
test('examples/walkthrough.sh passes against a running server, twice on the same database', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ioenv-walk-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const db = `sqlite:${path.join(dir, 'ioenv.db')}`
  const server = await startServer(['--database-url', db])
  t.after(() => server.stop('SIGKILL'))
  for (let run = 1; run <= 2; run++) {
    const r = spawnSync('bash', ['examples/walkthrough.sh'], {
      cwd: ROOT,
      env: { ...process.env, IOENV_URL: server.url, IOENV_DATABASE_URL: db },
      encoding: 'utf8',
      timeout: 120_000,
    })
    assert.equal(r.status, 0, `run ${run}:\n${r.stdout}\n${r.stderr}`)
    assert.match(r.stdout, /walkthrough: all \d+ checks passed/)
  }
})
