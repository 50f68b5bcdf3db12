import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import SqliteDatabase from 'better-sqlite3'
import { api, startServer } from '../helpers/process.ts'

/** Sends raw bytes on a fresh connection and returns everything the server wrote back. */
function raw(url: string, data: string | Buffer, { end = true, waitMs = 3000 } = {}): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname)
    let out = ''
    const timer = setTimeout(() => {
      socket.destroy()
      resolve(out)
    }, waitMs)
    socket.on('data', (d) => (out += d.toString('latin1')))
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(out)
    })
    socket.on('error', () => {})
    socket.write(data)
    if (end) socket.end()
  })
}

test('e2e: hostile HTTP: broken requests change nothing and still get the envelope', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ioenv-hostile-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'ioenv.db')
  const server = await startServer(['--database-url', `sqlite:${file}`])
  t.after(() => server.stop('SIGKILL'))
  const token = server.token!
  const env = (await api(server.url, token, 'POST', '/v1/environments', { name: 'target' })).json()
  const enabled = async () => (await api(server.url, token, 'GET', `/v1/environments/${env._id}`)).json().enabled

  // A toggle whose chunked body is broken, or which is abandoned mid-body, does not flip (C-6.4).
  for (let i = 0; i < 5; i++) {
    await raw(server.url, `PUT /v1/environments/${env._id}/enable HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`)
    await raw(server.url, `PUT /v1/environments/${env._id}/enable HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: 1000\r\n\r\nabc`, { end: true, waitMs: 300 })
  }
  await new Promise((r) => setTimeout(r, 300))
  assert.equal(await enabled(), true, 'no broken toggle was applied')

  // Requests Node itself cannot parse get the envelope and the common headers (C-3.1, C-6.2).
  for (const [request, status, code] of [
    [`POST /v1/environments HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}`, 400, 'bad_request'],
    [`POST /v1/environments HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}`, 400, 'bad_request'],
    [`GET /v1/environments HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'request_header_fields_too_large'],
  ] as const) {
    const res = await raw(server.url, request)
    assert.match(res, new RegExp(`^HTTP/1.1 ${status} `), res.slice(0, 200))
    assert.match(res, /x-request-id: [0-9a-f-]{36}/i)
    assert.match(res, /cache-control: no-store/i)
    const body = JSON.parse(res.slice(res.indexOf('\r\n\r\n') + 4))
    assert.equal(body.errors[0].code, code)
  }

  // Two Authorization headers: refused, whichever comes first.
  const twice = await raw(server.url, `GET /v1/environments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nAuthorization: Bearer nope\r\nConnection: close\r\n\r\n`)
  assert.match(twice, /^HTTP\/1.1 401 /)
  assert.ok(twice.includes('{"message":"Bearer Authentication Failed"}'))

  // Another process holding SQLite's write lock delays writes, but reads and /health stay responsive,
  // and the write goes through once the lock is released.
  const blocker = new SqliteDatabase(file)
  blocker.pragma('busy_timeout = 5000')
  blocker.exec('BEGIN IMMEDIATE')
  const toggle = api(server.url, token, 'PUT', `/v1/environments/${env._id}/enable`)
  await new Promise((r) => setTimeout(r, 200))
  const started = Date.now()
  const health = await fetch(`${server.url}/health`)
  const list = await api(server.url, token, 'GET', '/v1/environments')
  assert.equal(health.status, 200)
  assert.equal(list.status, 200)
  assert.ok(Date.now() - started < 500, `reads answered in ${Date.now() - started} ms while a write waited`)
  await new Promise((r) => setTimeout(r, 1000))
  blocker.exec('COMMIT')
  blocker.close()
  assert.equal((await toggle).status, 204)
  assert.equal(await enabled(), false)
})

test('e2e: slow and idle clients are cut off, and others are served meanwhile', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ioenv-slow-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const server = await startServer(['--database-url', `sqlite:${path.join(dir, 'ioenv.db')}`])
  t.after(() => server.stop('SIGKILL'))
  const started = Date.now()
  // headers that never finish: 408 with the envelope after the 10 s headers timeout
  const slowHeaders = raw(server.url, `GET /v1/environments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.token}\r\n`, { end: false, waitMs: 20_000 })
  // a body that never finishes: cut off by the 30 s request timeout is too slow for a test; check instead
  // that 50 such connections do not stop anyone else
  const stalled = Array.from({ length: 50 }, () =>
    raw(server.url, `POST /v1/environments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"na`, { end: false, waitMs: 2000 }),
  )
  const t0 = Date.now()
  const ok = await api(server.url, server.token, 'GET', '/v1/environments')
  assert.equal(ok.status, 200)
  assert.ok(Date.now() - t0 < 1000, 'served promptly despite stalled clients')
  await Promise.all(stalled)
  const res = await slowHeaders
  const elapsed = Date.now() - started
  assert.match(res, /^HTTP\/1.1 408 /, res.slice(0, 100))
  assert.ok(res.includes('"code":"request_timeout"'))
  assert.ok(elapsed >= 9_000 && elapsed < 15_000, `cut off after ${elapsed} ms`)

  // an idle keep-alive connection is closed after 5 s
  const idle = await new Promise<number>((resolve) => {
    const { hostname, port } = new URL(server.url)
    const socket = net.connect(Number(port), hostname)
    let opened = 0
    socket.on('data', () => {
      if (opened === 0) opened = Date.now()
    })
    socket.on('close', () => resolve(Date.now() - opened))
    socket.on('error', () => {})
    socket.write(`GET /health HTTP/1.1\r\nHost: x\r\n\r\n`)
  })
  assert.ok(idle >= 4_000 && idle < 8_000, `idle connection closed after ${idle} ms`)
})
