// The web console (issue 5) driven in a real Chromium (playwright-core) against a real `ioenv serve`
// process on a real port, with its own SQLite file. Screenshots land in test/artifacts/.
//
// Chromium comes from the machine (/usr/bin/chromium, or IOENV_CHROMIUM); CI installs it. When it is
// missing these tests FAIL, they never skip: a console nobody tested is not a console we ship.
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core'
import { api, ioenv, ROOT, type ServerProcess, startServer } from '../helpers/process.ts'

const CHROMIUM = process.env.IOENV_CHROMIUM ?? '/usr/bin/chromium'
const ARTIFACTS = path.join(ROOT, 'test', 'artifacts')
const XSS_NAME = '<img src=x onerror=alert(1)> <script>alert(2)</script> “Ünïcødé” 🚀'

interface Env {
  _id: string
  name: string
  description?: string
  enabled: boolean
  apim?: { groupId?: string; environmentId?: string; environmentHRID?: string }
}

let dir: string
let db: string
let server: ServerProcess
let token: string
let browser: Browser
const contexts: BrowserContext[] = []
/** Everything that went wrong inside any page: uncaught errors, CSP refusals, alert() calls, foreign requests. */
const pageProblems: string[] = []

/** Waits until `check` returns true (or a truthy value), polling; fails with `what` otherwise. */
async function until<T>(check: () => Promise<T> | T, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function newPage(viewport = { width: 1280, height: 800 }): Promise<Page> {
  const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'UTC', colorScheme: 'light' })
  contexts.push(context)
  const page = await context.newPage()
  const origin = new URL(server.url).origin
  page.on('pageerror', (err) => pageProblems.push(`page error: ${err.message}`))
  page.on('console', (msg) => {
    // Chromium logs every non-2xx fetch as "Failed to load resource"; those are the API's answers.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) pageProblems.push(`console: ${msg.text()}`)
  })
  page.on('dialog', (dialog) => {
    pageProblems.push(`a ${dialog.type()}() ran: ${dialog.message()}`)
    void dialog.dismiss()
  })
  page.on('request', (request) => {
    const url = request.url()
    if (!url.startsWith('data:') && !url.startsWith(origin + '/') && !url.startsWith('http://127.0.0.1:')) pageProblems.push(`foreign request: ${url}`)
  })
  return page
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `console-${name}.png`), fullPage: true })
}

async function signIn(page: Page, secret: string, base = server.url, query = ''): Promise<void> {
  await page.goto(`${base}/console${query}`)
  await page.getByLabel('API token').fill(secret)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: 'Environments', level: 1 }).waitFor()
}

const rowOf = (page: Page, id: string): Locator => page.locator(`#environments-body tr[data-id="${id}"]`)
const rowNamed = (page: Page, name: string): Locator =>
  page.locator('#environments-body tr', { has: page.getByRole('rowheader', { name, exact: true }) })

async function list(secret = token): Promise<Env[]> {
  const r = await api(server.url, secret, 'GET', '/v1/environments')
  return r.status === 204 ? [] : (r.json() as Env[])
}
async function byName(name: string, secret = token): Promise<Env> {
  const env = (await list(secret)).find((e) => e.name === name)
  assert.ok(env, `environment ${JSON.stringify(name)} exists`)
  return env
}
async function getEnv(id: string, secret = token): Promise<Env> {
  const r = await api(server.url, secret, 'GET', `/v1/environments/${id}`)
  assert.equal(r.status, 200)
  return r.json() as Env
}

/** Clicks the row's toggle, checks the confirmation, confirms. */
async function toggleVia(page: Page, id: string, verb: 'Disable' | 'Enable'): Promise<void> {
  await rowOf(page, id).getByRole('button', { name: new RegExp(`^${verb} `) }).click()
  const dialog = page.getByRole('dialog', { name: `${verb} environment?` })
  await dialog.waitFor()
  await dialog.getByRole('button', { name: verb, exact: true }).click()
  await dialog.waitFor({ state: 'hidden' })
}

const activeElement = (page: Page) =>
  page.evaluate<{ id: string; label: string | null; text: string; outline: string }>(
    `(() => { const a = document.activeElement; return { id: a.id, label: a.getAttribute('aria-label'), text: (a.textContent || '').trim(), outline: getComputedStyle(a).outlineStyle } })()`,
  )

it('Chromium is installed for the browser tests', () => {
  assert.ok(existsSync(CHROMIUM), `Chromium is missing at ${CHROMIUM}: install it (apt-get install -y chromium) or set IOENV_CHROMIUM`)
})

describe('web console in Chromium', { timeout: 180_000 }, () => {
  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is missing at ${CHROMIUM}, so the web console cannot be tested. ` +
          'Install it (Debian: apt-get install -y chromium; .ci/run does this) or point IOENV_CHROMIUM at a Chromium binary.',
      )
    }
    mkdirSync(ARTIFACTS, { recursive: true })
    dir = mkdtempSync(path.join(tmpdir(), 'ioenv-console-'))
    db = `sqlite:${path.join(dir, 'ioenv.db')}`
    // No token cache: a revoked token is refused on the very next request.
    server = await startServer(['--database-url', db, '--token-cache-ms', '0'])
    assert.ok(server.token, 'the first start printed a token')
    token = server.token
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    })
  })

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {})
    await browser?.close().catch(() => {})
    await server?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('is served without a token, with a strict Content-Security-Policy and no inline script', async () => {
    for (const p of ['/console', '/console/', '/console/app.js', '/console/api.js', '/console/console.css']) {
      const r = await api(server.url, undefined, 'GET', p)
      assert.equal(r.status, 200, p)
      const csp = r.headers.get('content-security-policy') ?? ''
      assert.match(csp, /default-src 'self'/, p)
      assert.match(csp, /script-src 'self'(;|$)/, p)
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, p)
    }
    const html = (await api(server.url, undefined, 'GET', '/console')).text
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'every <script> has a src')
    assert.doesNotMatch(html, /\son[a-z]+=|style=/i, 'no inline handlers or styles')
    assert.doesNotMatch(html, /https?:\/\//, 'nothing from another origin')
    assert.match((await api(server.url, undefined, 'GET', '/console/app.js')).headers.get('content-type') ?? '', /javascript/)
    // Only the page's own files are public: anything else under /console/ is an unknown route.
    assert.equal((await api(server.url, undefined, 'GET', '/console/nope.js')).status, 401)
    assert.equal((await api(server.url, undefined, 'POST', '/console', {})).status, 401)
  })

  it('sign-in: a bad token shows an error; the Production token shows the table; reloading keeps the session', async () => {
    const page = await newPage()
    const response = await page.goto(`${server.url}/console`)
    assert.match(response?.headers()['content-security-policy'] ?? '', /default-src 'self'/)
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    assert.equal((await activeElement(page)).id, 'token', 'the token field has the focus')

    await page.getByLabel('API token').fill('ioe_' + 'x'.repeat(43))
    await page.getByRole('button', { name: 'Sign in' }).click()
    const error = page.locator('#sign-in-error')
    await error.waitFor()
    assert.match(await error.textContent() ?? '', /not accepted/)
    assert.equal(await page.evaluate<string | null>(`sessionStorage.getItem('ioenv.console.token')`), null)
    await shot(page, '01-sign-in-bad-token')

    await page.getByLabel('API token').fill(token)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Environments', level: 1 }).waitFor()
    await rowNamed(page, 'Production').waitFor()
    assert.equal(await page.locator('#environments-body tr').count(), 1)
    assert.equal(await rowNamed(page, 'Production').locator('.badge').textContent(), 'Enabled')
    const [production] = await list()
    assert.equal(await rowNamed(page, 'Production').locator('code').textContent(), production!._id)
    // The token lives in sessionStorage only.
    assert.equal(await page.evaluate<string | null>(`sessionStorage.getItem('ioenv.console.token')`), token)
    assert.equal(await page.evaluate<number>('localStorage.length'), 0)
    assert.equal(await page.evaluate<string>('document.cookie'), '')

    await page.reload()
    await rowNamed(page, 'Production').waitFor()
    assert.equal(await page.locator('#sign-in-view').isVisible(), false)
  })

  it('create: shows validation errors next to the field, then creates with description and APIM group id', async () => {
    const page = await newPage()
    await signIn(page, token)
    await page.getByRole('button', { name: 'New environment' }).click()
    const dialog = page.getByRole('dialog', { name: 'New environment' })
    await dialog.waitFor()

    // Blank names are refused by the API (422, field "name"); the message sits under the field.
    await dialog.getByLabel('Name').fill('   ')
    await dialog.getByRole('button', { name: 'Create' }).click()
    const nameError = page.locator('#env-name-error')
    await nameError.waitFor()
    assert.ok((await nameError.textContent())!.length > 0)
    assert.equal(await dialog.getByLabel('Name').getAttribute('aria-invalid'), 'true')
    assert.equal((await activeElement(page)).id, 'env-name', 'focus goes to the field in error')
    await shot(page, '02-create-validation')

    await dialog.getByLabel('Name').fill('dev')
    await dialog.getByLabel('Description').fill('for developers')
    await dialog.getByLabel('APIM group id').fill('grp-1')
    await dialog.getByRole('button', { name: 'Create' }).click()
    await dialog.waitFor({ state: 'hidden' })
    const row = rowNamed(page, 'dev')
    await row.waitFor()
    assert.equal(await row.locator('.description').textContent(), 'for developers')
    assert.equal(await row.locator('.badge').textContent(), 'Enabled')
    assert.match(await page.locator('#status').textContent() ?? '', /Created “dev”/)
    const dev = await byName('dev')
    assert.equal(dev.description, 'for developers')
    assert.deepEqual(dev.apim, { groupId: 'grp-1' })
    await shot(page, '03-created')
  })

  it('rename and edit: a full replace that keeps every field the user did not change', async () => {
    const dev = await byName('dev')
    // A field the form shows under "More APIM fields", set by another client.
    const put = await api(server.url, token, 'PUT', `/v1/environments/${dev._id}`, {
      name: 'dev', description: 'for developers', apim: { groupId: 'grp-1', environmentId: 'apim-env-7' },
    })
    assert.equal(put.status, 200)

    const page = await newPage()
    await signIn(page, token)
    await rowOf(page, dev._id).getByRole('button', { name: 'Edit dev', exact: true }).click()
    const dialog = page.getByRole('dialog', { name: 'Edit “dev”' })
    await dialog.waitFor()
    assert.equal(await dialog.getByLabel('Name').inputValue(), 'dev')
    assert.equal(await dialog.getByLabel('Description').inputValue(), 'for developers')
    assert.equal(await dialog.getByLabel('APIM group id').inputValue(), 'grp-1')
    assert.equal(await dialog.getByLabel('APIM environment id').inputValue(), 'apim-env-7')
    await shot(page, '04-edit-dialog')

    // Escape closes the dialog and changes nothing.
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })

    await rowOf(page, dev._id).getByRole('button', { name: 'Edit dev', exact: true }).click()
    await dialog.waitFor()
    await dialog.getByLabel('Name').fill('dev (renamed)')
    await dialog.getByRole('button', { name: 'Save' }).click()
    await page.getByRole('dialog').waitFor({ state: 'hidden' })
    await rowNamed(page, 'dev (renamed)').waitFor()
    assert.equal(await rowOf(page, dev._id).getByRole('rowheader').textContent(), 'dev (renamed)')
    const after = await getEnv(dev._id)
    assert.equal(after.name, 'dev (renamed)')
    assert.equal(after.description, 'for developers')
    assert.deepEqual(after.apim, { groupId: 'grp-1', environmentId: 'apim-env-7' })
    assert.equal((await activeElement(page)).label, 'Edit dev (renamed)', 'focus returns to the row')

    // Clearing the description in the form removes it (PUT is a full replace).
    await rowOf(page, dev._id).getByRole('button', { name: 'Edit dev (renamed)', exact: true }).click()
    await page.getByRole('dialog').getByLabel('Description').fill('')
    await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click()
    await page.getByRole('dialog').waitFor({ state: 'hidden' })
    await until(async () => (await getEnv(dev._id)).description === undefined, 'the description to be removed')
    assert.equal(await rowOf(page, dev._id).locator('.muted').textContent(), 'No description')
    assert.deepEqual((await getEnv(dev._id)).apim, { groupId: 'grp-1', environmentId: 'apim-env-7' })
  })

  it('toggle off and on, each after a confirmation (Cancel and Escape change nothing)', async () => {
    const dev = await byName('dev (renamed)')
    const page = await newPage()
    await signIn(page, token)
    const row = rowOf(page, dev._id)

    await row.getByRole('button', { name: 'Disable dev (renamed)' }).click()
    const confirm = page.getByRole('dialog', { name: 'Disable environment?' })
    await confirm.waitFor()
    assert.match(await confirm.textContent() ?? '', /Disable “dev \(renamed\)”\?/)
    assert.equal((await activeElement(page)).text, 'Cancel', 'disabling starts on Cancel')
    await shot(page, '05-confirm-disable')
    await confirm.getByRole('button', { name: 'Cancel' }).click()
    await confirm.waitFor({ state: 'hidden' })
    await row.getByRole('button', { name: 'Disable dev (renamed)' }).click()
    await confirm.waitFor()
    await page.keyboard.press('Escape')
    await confirm.waitFor({ state: 'hidden' })
    assert.equal((await getEnv(dev._id)).enabled, true, 'Cancel and Escape did not toggle')

    await toggleVia(page, dev._id, 'Disable')
    await until(async () => (await row.locator('.badge').textContent()) === 'Disabled', 'the row to say Disabled')
    assert.equal((await getEnv(dev._id)).enabled, false)
    assert.match(await page.locator('#status').textContent() ?? '', /is now disabled/)
    await shot(page, '06-disabled')

    await toggleVia(page, dev._id, 'Enable')
    await until(async () => (await row.locator('.badge').textContent()) === 'Enabled', 'the row to say Enabled')
    assert.equal((await getEnv(dev._id)).enabled, true)
  })

  it('Production: the refusal is said in plain words', async () => {
    const [production] = await list()
    const page = await newPage()
    await signIn(page, token)
    await toggleVia(page, production!._id, 'Disable')
    const banner = page.locator('#page-error')
    await banner.waitFor()
    assert.match(await banner.textContent() ?? '', /Production can’t be disabled/)
    assert.equal((await getEnv(production!._id)).enabled, true)
    assert.equal(await rowOf(page, production!._id).locator('.badge').textContent(), 'Enabled')
    await shot(page, '07-production-refused')
  })

  it('pending invitations block disabling until they are dismissed', async () => {
    const dev = await byName('dev (renamed)')
    const created = ioenv(['invitations', 'create', '--environment', dev._id, '--email', 'a@b.c', '--database-url', db])
    assert.equal(created.status, 0, created.stderr)
    const invitation = created.json<{ _id: string }>()

    const page = await newPage()
    await signIn(page, token)
    await toggleVia(page, dev._id, 'Disable')
    const banner = page.locator('#page-error')
    await banner.waitFor()
    const text = await banner.textContent() ?? ''
    assert.match(text, /pending user invitations/)
    assert.match(text, /accepted or dismissed/)
    assert.equal((await getEnv(dev._id)).enabled, true)
    await shot(page, '08-pending-invitations')

    const dismissed = ioenv(['invitations', 'dismiss', invitation._id, '--database-url', db])
    assert.equal(dismissed.status, 0, dismissed.stderr)
    await toggleVia(page, dev._id, 'Disable')
    await until(async () => (await rowOf(page, dev._id).locator('.badge').textContent()) === 'Disabled', 'the row to say Disabled')
    assert.equal(await banner.isVisible(), false, 'the old error is gone')
    assert.equal((await getEnv(dev._id)).enabled, false)
  })

  it('a name holding markup is shown as text, never run', async () => {
    const page = await newPage()
    await signIn(page, token)
    await page.getByRole('button', { name: 'New environment' }).click()
    const dialog = page.getByRole('dialog', { name: 'New environment' })
    await dialog.getByLabel('Name').fill(XSS_NAME)
    await dialog.getByLabel('Description').fill('<b>bold?</b>\nsecond line')
    await dialog.getByRole('button', { name: 'Create' }).click()
    await dialog.waitFor({ state: 'hidden' })
    const env = await byName(XSS_NAME)
    const row = rowOf(page, env._id)
    await row.waitFor()
    assert.equal(await row.getByRole('rowheader').textContent(), XSS_NAME)
    assert.equal(await row.locator('.description').textContent(), '<b>bold?</b>\nsecond line')
    assert.equal(await page.locator('#environments-body img, #environments-body script, #environments-body b').count(), 0)
    assert.equal(await row.getByRole('button', { name: `Edit ${XSS_NAME}`, exact: true }).count(), 1)

    // Also in the dialogs, and after a reload from the API.
    await row.getByRole('button', { name: `Disable ${XSS_NAME}`, exact: true }).click()
    const confirm = page.getByRole('dialog', { name: 'Disable environment?' })
    assert.match(await confirm.locator('#confirm-text').textContent() ?? '', /<img src=x onerror=alert\(1\)>/)
    await confirm.getByRole('button', { name: 'Cancel' }).click()
    await page.reload()
    await row.waitFor()
    assert.equal(await row.getByRole('rowheader').textContent(), XSS_NAME)
    assert.equal(await page.locator('img, main script, dialog script').count(), 0)
    await shot(page, '09-markup-as-text')
    assert.deepEqual(pageProblems.filter((p) => /alert|confirm|prompt/.test(p)), [])
  })

  it('keyboard only: Tab to "New environment", Enter, type, Tab, Enter creates it', async () => {
    const page = await newPage()
    await signIn(page, token)
    await page.reload()
    await rowNamed(page, 'Production').waitFor()

    let focused = await activeElement(page)
    for (let i = 0; i < 20 && focused.text !== 'New environment'; i++) {
      await page.keyboard.press('Tab')
      focused = await activeElement(page)
    }
    assert.equal(focused.text, 'New environment', 'Tab reaches the button')
    assert.notEqual(focused.outline, 'none', 'the focus is visible')

    // Escape closes the dialog and gives the focus back.
    await page.keyboard.press('Enter')
    await page.getByRole('dialog', { name: 'New environment' }).waitFor()
    await page.keyboard.press('Escape')
    await page.getByRole('dialog').waitFor({ state: 'hidden' })
    assert.equal((await activeElement(page)).text, 'New environment')

    await page.keyboard.press('Enter')
    await page.getByRole('dialog', { name: 'New environment' }).waitFor()
    assert.equal((await activeElement(page)).id, 'env-name')
    await page.keyboard.type('typed by keyboard')
    await page.keyboard.press('Tab')
    assert.equal((await activeElement(page)).id, 'env-description')
    await page.keyboard.type('no mouse')
    await page.keyboard.press('Tab')
    assert.equal((await activeElement(page)).id, 'env-group-id')
    await page.keyboard.type('kbd')
    await shot(page, '10-keyboard-form')
    await page.keyboard.press('Enter')
    await page.getByRole('dialog').waitFor({ state: 'hidden' })
    await rowNamed(page, 'typed by keyboard').waitFor()
    const env = await byName('typed by keyboard')
    assert.equal(env.description, 'no mouse')
    assert.deepEqual(env.apim, { groupId: 'kbd' })
    focused = await activeElement(page)
    assert.equal(focused.label, 'Edit typed by keyboard', 'focus lands on the new row')
    assert.notEqual(focused.outline, 'none')

    // The row's toggle is one Tab away, and its confirmation works from the keyboard too.
    await page.keyboard.press('Tab')
    assert.equal((await activeElement(page)).label, 'Disable typed by keyboard')
    await page.keyboard.press('Enter')
    await page.getByRole('dialog', { name: 'Disable environment?' }).waitFor()
    await page.keyboard.press('Tab') // Cancel -> Disable
    assert.equal((await activeElement(page)).text, 'Disable')
    await page.keyboard.press('Enter')
    await until(async () => (await getEnv(env._id)).enabled === false, 'the keyboard toggle')
    await shot(page, '11-keyboard-done')
  })

  it('license limit and a token that cannot change environments, in plain words; a revoked token signs out', async () => {
    const acct = ioenv(['accounts', 'create', '--name', 'Small', '--licenses', '2', '--database-url', db])
    assert.equal(acct.status, 0, acct.stderr)
    const small = acct.json<{ account: { _id: string }; token: string }>()
    const a = (await api(server.url, small.token, 'POST', '/v1/environments', { name: 'uses the last license' })).json() as Env
    const b = (await api(server.url, small.token, 'POST', '/v1/environments', { name: 'no license left' })).json() as Env
    assert.equal(a.enabled, true)
    assert.equal(b.enabled, false)

    const page = await newPage()
    await signIn(page, small.token)
    await toggleVia(page, b._id, 'Enable')
    const banner = page.locator('#page-error')
    await banner.waitFor()
    assert.match(await banner.textContent() ?? '', /every environment license of the account is in use/)
    await shot(page, '12-license-limit')

    // A full token of a non-Production environment reads, but may not change anything (403).
    const made = ioenv(['tokens', 'create', '--account', small.account._id, '--environment', a._id, '--database-url', db])
    assert.equal(made.status, 0, made.stderr)
    const reader = made.json<{ _id: string; token: string }>()
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    assert.equal(await page.evaluate<string | null>(`sessionStorage.getItem('ioenv.console.token')`), null)
    await page.getByLabel('API token').fill(reader.token)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await rowOf(page, a._id).waitFor()
    await page.getByRole('button', { name: 'New environment' }).click()
    const dialog = page.getByRole('dialog', { name: 'New environment' })
    await dialog.getByLabel('Name').fill('not allowed')
    await dialog.getByRole('button', { name: 'Create' }).click()
    const formError = page.locator('#form-error')
    await formError.waitFor()
    assert.match(await formError.textContent() ?? '', /Only a full-access token of the Production environment/)
    await shot(page, '13-forbidden')
    await page.keyboard.press('Escape')
    assert.equal((await list(small.token)).length, 3, 'nothing was created')

    // Revoked while signed in: the next call sends the user back to sign in, with a message.
    const revoked = ioenv(['tokens', 'revoke', reader._id, '--database-url', db])
    assert.equal(revoked.status, 0, revoked.stderr)
    await page.getByRole('button', { name: 'Refresh' }).click()
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    assert.match(await page.locator('#sign-in-error').textContent() ?? '', /session ended/i)
    assert.equal(await page.evaluate<string | null>(`sessionStorage.getItem('ioenv.console.token')`), null)
    assert.equal(await page.locator('#environments-body tr').count(), 0, 'no data left on the page')
    await shot(page, '14-session-ended')
  })

  it('follows Link rel="next" to load every page of environments', async () => {
    const all = await list()
    assert.ok(all.length >= 4)
    const page = await newPage()
    const seen: string[] = []
    page.on('request', (r) => {
      if (r.url().includes('/v1/environments?')) seen.push(new URL(r.url()).search)
    })
    await signIn(page, token, server.url, '?limit=2')
    await until(async () => (await page.locator('#environments-body tr').count()) === all.length, 'every environment')
    assert.deepEqual(await page.locator('#environments-body tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id'))), all.map((e) => e._id))
    assert.equal(seen.length, Math.ceil(all.length / 2), `one request per page: ${seen.join(' ')}`)
    assert.ok(seen.includes('?limit=2&skip=2'))
  })

  it('rate limited: says how long to wait', async () => {
    const limited = await startServer(['--database-url', db, '--no-bootstrap', '--rate-limit-burst', '2', '--rate-limit-refill', '0.01'])
    try {
      const page = await newPage()
      await signIn(page, token, limited.url) // 1 request
      await page.getByRole('button', { name: 'Refresh' }).click() // 2
      await until(async () => /List refreshed/.test((await page.locator('#status').textContent()) ?? ''), 'the refresh')
      await page.getByRole('button', { name: 'Refresh' }).click() // 3: refused
      const banner = page.locator('#page-error')
      await banner.waitFor()
      assert.match(await banner.textContent() ?? '', /rate limit is used up\. Retry after \d+ seconds\./)
      await shot(page, '15-rate-limited')
    } finally {
      await limited.stop()
    }
  })

  it('phone-sized screen (375x740): cards, no horizontal overflow, dialogs fit', async () => {
    const page = await newPage({ width: 375, height: 740 })
    await page.goto(`${server.url}/console`)
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    await shot(page, '16-phone-sign-in')
    await signIn(page, token)
    await rowNamed(page, 'Production').waitFor()
    const widths = await page.evaluate<{ doc: number; body: number; client: number }>(
      '({ doc: document.documentElement.scrollWidth, body: document.body.scrollWidth, client: document.documentElement.clientWidth })',
    )
    assert.ok(widths.doc <= 375 && widths.body <= widths.client, `no horizontal overflow: ${JSON.stringify(widths)}`)
    // Every row is a card whose buttons are inside the screen.
    for (const button of await page.locator('#environments-body button').all()) {
      const box = await button.boundingBox()
      assert.ok(box && box.x >= 0 && box.x + box.width <= 375, `button inside the screen: ${JSON.stringify(box)}`)
      assert.ok(box.height >= 32, 'buttons are big enough to tap')
    }
    const head = await page.locator('#environments-table thead').boundingBox()
    assert.ok(head === null || head.width <= 1, 'the column headers are only for screen readers on the phone')
    await shot(page, '17-phone-list')

    const dev = await byName('dev (renamed)')
    await rowOf(page, dev._id).getByRole('button', { name: 'Edit dev (renamed)', exact: true }).click()
    const dialog = page.getByRole('dialog')
    await dialog.waitFor()
    const box = await dialog.boundingBox()
    assert.ok(box && box.x >= 0 && box.x + box.width <= 375, `the dialog fits: ${JSON.stringify(box)}`)
    await shot(page, '18-phone-edit')
    await page.keyboard.press('Escape')
  })

  it('no page error, no CSP refusal, no foreign request, no alert anywhere', () => {
    assert.deepEqual(pageProblems, [])
  })
})
