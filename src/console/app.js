// The ioenv web console. Plain DOM: every piece of API data goes into the page as text (textContent,
// setAttribute), never as HTML, because environment names are arbitrary Unicode and may well
// contain markup.
import { Api, ApiProblem } from './api.js'

const TOKEN_KEY = 'ioenv.console.token'

/** @returns {any} */
const $ = (id) => {
  const el = document.getElementById(id)
  if (el === null) throw new Error(`console: #${id} is missing from the page`)
  return el
}

/**
 * Creates an element. `props`: `class`, `text`, `on<Event>` handlers, anything else is an attribute.
 * Children are nodes or strings (strings become text nodes).
 */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue
    if (key === 'class') el.className = value
    else if (key === 'text') el.textContent = value
    else if (key.startsWith('on')) el.addEventListener(key.slice(2).toLowerCase(), value)
    else el.setAttribute(key, value === true ? '' : String(value))
  }
  el.append(...children)
  return el
}

const ui = {
  session: $('session'),
  tokenHint: $('token-hint'),
  signOut: $('sign-out'),
  signInView: $('sign-in-view'),
  signInTitle: $('sign-in-title'),
  signInError: $('sign-in-error'),
  signInForm: $('sign-in-form'),
  signInSubmit: $('sign-in-submit'),
  token: $('token'),
  envView: $('environments-view'),
  envTitle: $('environments-title'),
  newEnv: $('new-environment'),
  refresh: $('refresh'),
  pageError: $('page-error'),
  pageErrorText: $('page-error-text'),
  pageErrorDismiss: $('page-error-dismiss'),
  status: $('status'),
  table: $('environments-table'),
  tableWrap: $('table-wrap'),
  tbody: $('environments-body'),
  count: $('count'),
  empty: $('empty'),
  envDialog: $('environment-dialog'),
  envDialogTitle: $('environment-dialog-title'),
  envForm: $('environment-form'),
  formError: $('form-error'),
  envCancel: $('environment-cancel'),
  envSubmit: $('environment-submit'),
  apimMore: $('apim-more'),
  confirmDialog: $('confirm-dialog'),
  confirmTitle: $('confirm-title'),
  confirmText: $('confirm-text'),
  confirmCancel: $('confirm-cancel'),
  confirmOk: $('confirm-ok'),
}

/** The form's fields, and which API `errors[].field` lands next to which. */
const FIELDS = {
  name: { input: $('env-name'), error: $('env-name-error') },
  description: { input: $('env-description'), error: $('env-description-error') },
  'apim.groupId': { input: $('env-group-id'), error: $('env-group-id-error') },
  'apim.environmentId': { input: $('env-apim-environment-id'), error: $('env-apim-environment-id-error') },
  'apim.environmentHRID': { input: $('env-apim-environment-hrid'), error: $('env-apim-environment-hrid-error') },
}
const APIM_KEYS = ['groupId', 'environmentId', 'environmentHRID']

const state = {
  /** @type {Api | undefined} */
  api: undefined,
  /** @type {any[]} */
  environments: [],
  /** The environment being edited (undefined: creating). */
  editing: undefined,
  /** The toggle waiting for confirmation. */
  toggling: undefined,
  busy: false,
}

/** Page size for the list; `/console?limit=N` (1–1000) shows the pagination at work on small accounts. */
const PAGE_SIZE = (() => {
  const n = Number(new URLSearchParams(location.search).get('limit'))
  return Number.isInteger(n) && n >= 1 && n <= 1000 ? n : 100
})()

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'long' })
function formatDate(iso) {
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? String(iso ?? '') : dateFormat.format(d)
}

// ---------------------------------------------------------------------------------------------------
// Messages

function showPageError(text) {
  announce('')
  ui.pageErrorText.textContent = text
  ui.pageError.hidden = false
}
function clearPageError() {
  ui.pageError.hidden = true
  ui.pageErrorText.textContent = ''
}
function announce(text) {
  ui.status.textContent = text
}

// ---------------------------------------------------------------------------------------------------
// Signing in and out

function showSignIn(errorText) {
  closeDialogs()
  state.api = undefined
  state.environments = []
  ui.tbody.replaceChildren()
  ui.session.hidden = true
  ui.envView.hidden = true
  ui.signInView.hidden = false
  ui.signInError.textContent = errorText ?? ''
  ui.signInError.hidden = errorText === undefined
  ui.token.value = ''
  ui.token.setAttribute('aria-invalid', String(errorText !== undefined))
  ui.token.focus()
}

function showEnvironments(token) {
  ui.signInView.hidden = true
  ui.envView.hidden = false
  ui.session.hidden = false
  ui.tokenHint.textContent = `Signed in with token …${token.slice(-4)}`
}

/** The token is refused (401): forget it and go back to the sign-in form with a message. */
function sessionEnded(problem) {
  sessionStorage.removeItem(TOKEN_KEY)
  const detail = problem.authMessage === 'Unauthorized' ? 'the server did not receive a token' : 'it is unknown, revoked or expired'
  showSignIn(`Your session ended: the token is no longer accepted (${detail}). Sign in again.`)
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY)
  clearPageError()
  announce('')
  showSignIn()
}

async function signIn(token, { restoring = false } = {}) {
  const api = new Api(token)
  let list
  try {
    list = await api.listAll(PAGE_SIZE)
  } catch (err) {
    const problem = asProblem(err)
    if (problem.status === 401 || problem.status === 403) {
      sessionStorage.removeItem(TOKEN_KEY)
      if (problem.status === 403) showSignIn(problem.message)
      else if (restoring) sessionEnded(problem)
      else showSignIn('That token was not accepted: it is unknown, revoked or expired. Check it and try again.')
      return
    }
    if (!restoring) {
      ui.signInError.textContent = problem.message
      ui.signInError.hidden = false
      ui.token.focus()
      return
    }
    // A stored token that could not be checked right now (rate limit, server down): keep it, say why.
    state.api = api
    showEnvironments(token)
    render([])
    showPageError(problem.message)
    return
  }
  sessionStorage.setItem(TOKEN_KEY, token)
  state.api = api
  clearPageError()
  showEnvironments(token)
  render(list)
  announce('Signed in.')
  if (!restoring) ui.envTitle.focus()
}

/** Anything thrown becomes an ApiProblem (a bug in the page is reported, not swallowed). */
function asProblem(err) {
  if (err instanceof ApiProblem) return err
  console.error(err)
  return new ApiProblem(-1, [], `Something went wrong in the console: ${err instanceof Error ? err.message : String(err)}`)
}

// ---------------------------------------------------------------------------------------------------
// The list

function countText(list) {
  const enabled = list.filter((e) => e.enabled === true).length
  return `${list.length} environment${list.length === 1 ? '' : 's'}, ${enabled} enabled`
}

function render(list) {
  state.environments = list
  const rows = list.map((env) => {
    const name = String(env.name ?? '')
    const description = typeof env.description === 'string' && env.description !== ''
      ? h('span', { class: 'description', text: env.description })
      : h('span', { class: 'muted', text: 'No description' })
    return h('tr', { 'data-id': env._id },
      h('th', { scope: 'row', class: 'cell-name', 'data-label': 'Name' }, h('span', { class: 'name', text: name })),
      h('td', { class: 'cell-description', 'data-label': 'Description' }, description),
      h('td', { class: 'cell-state', 'data-label': 'State' },
        h('span', { class: `badge ${env.enabled ? 'on' : 'off'}`, text: env.enabled ? 'Enabled' : 'Disabled' })),
      h('td', { class: 'cell-modified', 'data-label': 'Last modified' },
        h('time', { datetime: env.lastModified, title: env.lastModified, text: formatDate(env.lastModified) })),
      h('td', { class: 'cell-id', 'data-label': 'ID' }, h('code', { text: env._id })),
      h('td', { class: 'cell-actions', 'data-label': 'Actions' },
        h('div', { class: 'row-actions' },
          h('button', {
            type: 'button', class: 'button secondary small', 'data-action': 'edit', 'data-id': env._id,
            'aria-label': `Edit ${name}`, text: 'Edit',
          }),
          h('button', {
            type: 'button', class: `button small ${env.enabled ? 'danger-outline' : 'secondary'}`,
            'data-action': 'toggle', 'data-id': env._id,
            'aria-label': `${env.enabled ? 'Disable' : 'Enable'} ${name}`, text: env.enabled ? 'Disable' : 'Enable',
          }))),
    )
  })
  ui.tbody.replaceChildren(...rows)
  ui.tableWrap.hidden = list.length === 0
  ui.empty.hidden = list.length !== 0
  ui.count.textContent = list.length === 0 ? '' : `${countText(list)}.`
}

function findEnvironment(id) {
  return state.environments.find((e) => e._id === id)
}

function focusRowButton(id, action) {
  const button = [...ui.tbody.querySelectorAll('button')].find((b) => b.dataset.id === id && b.dataset.action === action)
  ;(button ?? ui.envTitle).focus()
}

async function reload({ quiet = false } = {}) {
  if (state.api === undefined) return
  ui.table.setAttribute('aria-busy', 'true')
  try {
    const list = await state.api.listAll(PAGE_SIZE)
    render(list)
    if (!quiet) announce(`List refreshed. ${countText(list)}.`)
    return true
  } catch (err) {
    const problem = asProblem(err)
    if (problem.status === 401) sessionEnded(problem)
    else showPageError(problem.message)
    return false
  } finally {
    ui.table.removeAttribute('aria-busy')
  }
}

// ---------------------------------------------------------------------------------------------------
// Create and edit

function clearFormErrors() {
  ui.formError.hidden = true
  ui.formError.textContent = ''
  for (const { input, error } of Object.values(FIELDS)) {
    input.removeAttribute('aria-invalid')
    error.hidden = true
    error.textContent = ''
  }
}

function openEnvironmentDialog(env) {
  state.editing = env
  clearFormErrors()
  ui.envForm.reset()
  ui.envDialogTitle.textContent = env === undefined ? 'New environment' : `Edit “${env.name}”`
  ui.envSubmit.textContent = env === undefined ? 'Create' : 'Save'
  if (env !== undefined) {
    FIELDS.name.input.value = env.name ?? ''
    FIELDS.description.input.value = env.description ?? ''
    for (const key of APIM_KEYS) FIELDS[`apim.${key}`].input.value = env.apim?.[key] ?? ''
  }
  ui.apimMore.open = Boolean(env?.apim?.environmentId || env?.apim?.environmentHRID)
  ui.envDialog.showModal()
  FIELDS.name.input.focus()
  if (env !== undefined) FIELDS.name.input.select()
}

/**
 * The body of a create, or of a replace. PUT is a full replace, so it carries every field the user
 * wants to keep: what the form shows is what the environment will hold. An empty optional field is
 * left out (removed), unless it was stored as an empty string and left alone.
 */
function formBody(original) {
  const keep = (value, before) => value !== '' || before === ''
  const body = { name: FIELDS.name.input.value }
  const description = FIELDS.description.input.value
  if (keep(description, original?.description)) body.description = description
  const apim = {}
  for (const key of APIM_KEYS) {
    const value = FIELDS[`apim.${key}`].input.value
    if (keep(value, original?.apim?.[key])) apim[key] = value
  }
  if (Object.keys(apim).length > 0) body.apim = apim
  return body
}

function showFormProblem(problem) {
  /** @type {HTMLElement | undefined} */
  let first
  const unplaced = []
  for (const item of problem.errors) {
    // Validation errors (422) that name a field of the form go next to it; the rest above the form.
    const field = problem.status === 422 && typeof item.field === 'string' ? FIELDS[item.field] : undefined
    if (field === undefined) {
      unplaced.push(item)
      continue
    }
    const message = String(item.message ?? 'This value is not valid.')
    field.error.textContent = field.error.textContent ? `${field.error.textContent} ${message}` : message
    field.error.hidden = false
    field.input.setAttribute('aria-invalid', 'true')
    if (field.input.id.startsWith('env-apim-')) ui.apimMore.open = true
    first ??= field.input
  }
  if (first === undefined || unplaced.length > 0) {
    ui.formError.textContent = first === undefined ? problem.message : unplaced.map((e) => e.message).join(' ')
    ui.formError.hidden = false
  }
  ;(first ?? ui.formError).focus()
}

async function submitEnvironment(event) {
  event.preventDefault()
  if (state.busy || state.api === undefined) return
  clearFormErrors()
  const original = state.editing
  if (FIELDS.name.input.value === '') {
    showFormProblem(new ApiProblem(422, [{ code: 'missing_required_field', field: 'name', message: 'Enter a name.' }], 'Enter a name.'))
    return
  }
  const body = formBody(original)
  state.busy = true
  ui.envSubmit.disabled = true
  ui.envForm.setAttribute('aria-busy', 'true')
  try {
    if (original === undefined) {
      const created = await state.api.create(body)
      render([...state.environments, created])
      ui.envDialog.close()
      announce(`Created “${created.name}”${created.enabled ? '' : ' (disabled: every environment license is in use)'}.`)
      focusRowButton(created._id, 'edit')
    } else {
      const saved = await state.api.replace(original._id, body, original.name)
      render(state.environments.map((e) => (e._id === saved._id ? saved : e)))
      ui.envDialog.close()
      announce(`Saved “${saved.name}”.`)
      focusRowButton(saved._id, 'edit')
    }
    clearPageError()
  } catch (err) {
    const problem = asProblem(err)
    if (problem.status === 401) {
      sessionEnded(problem)
    } else if (problem.status === 404 && original !== undefined) {
      ui.envDialog.close()
      await reload({ quiet: true })
      showPageError(problem.message)
    } else {
      showFormProblem(problem)
    }
  } finally {
    state.busy = false
    ui.envSubmit.disabled = false
    ui.envForm.removeAttribute('aria-busy')
  }
}

// ---------------------------------------------------------------------------------------------------
// Enable and disable

function openConfirm(env) {
  const enabling = env.enabled !== true
  state.toggling = { id: env._id, name: env.name, enabling }
  ui.confirmTitle.textContent = enabling ? 'Enable environment?' : 'Disable environment?'
  ui.confirmText.textContent = enabling
    ? `Enable “${env.name}”? An enabled environment uses one of the account’s environment licenses.`
    : `Disable “${env.name}”? It stays in the list, and you can enable it again at any time.`
  ui.confirmOk.textContent = enabling ? 'Enable' : 'Disable'
  ui.confirmOk.className = `button ${enabling ? 'primary' : 'danger'}`
  ui.confirmDialog.showModal()
  // Disabling is the one to think twice about: Enter on the first focus cancels it.
  ;(enabling ? ui.confirmOk : ui.confirmCancel).focus()
}

async function confirmToggle() {
  const pending = state.toggling
  if (state.busy || pending === undefined || state.api === undefined) return
  state.busy = true
  ui.confirmOk.disabled = true
  clearPageError()
  try {
    await state.api.toggle(pending.id, pending.name, pending.enabling)
    ui.confirmDialog.close()
    let updated
    try {
      updated = await state.api.get(pending.id)
    } catch {
      const env = findEnvironment(pending.id)
      updated = env === undefined ? undefined : { ...env, enabled: pending.enabling }
    }
    if (updated !== undefined) render(state.environments.map((e) => (e._id === pending.id ? updated : e)))
    announce(`“${pending.name}” is now ${pending.enabling ? 'enabled' : 'disabled'}.`)
    focusRowButton(pending.id, 'toggle')
  } catch (err) {
    const problem = asProblem(err)
    ui.confirmDialog.close()
    if (problem.status === 401) {
      sessionEnded(problem)
      return
    }
    if (problem.status === 404) await reload({ quiet: true })
    showPageError(problem.message)
    focusRowButton(pending.id, 'toggle')
  } finally {
    state.busy = false
    state.toggling = undefined
    ui.confirmOk.disabled = false
  }
}

function closeDialogs() {
  if (ui.envDialog.open) ui.envDialog.close()
  if (ui.confirmDialog.open) ui.confirmDialog.close()
}

// ---------------------------------------------------------------------------------------------------
// Wiring

ui.signInForm.addEventListener('submit', async (event) => {
  event.preventDefault()
  const token = ui.token.value.trim()
  if (token === '') {
    ui.signInError.textContent = 'Paste your API token first.'
    ui.signInError.hidden = false
    ui.token.setAttribute('aria-invalid', 'true')
    ui.token.focus()
    return
  }
  ui.signInSubmit.disabled = true
  ui.signInSubmit.textContent = 'Signing in…'
  try {
    await signIn(token)
  } finally {
    ui.signInSubmit.disabled = false
    ui.signInSubmit.textContent = 'Sign in'
  }
})
ui.signOut.addEventListener('click', signOut)
ui.newEnv.addEventListener('click', () => openEnvironmentDialog(undefined))
ui.refresh.addEventListener('click', async () => {
  clearPageError()
  await reload()
})
ui.pageErrorDismiss.addEventListener('click', () => {
  clearPageError()
  ui.envTitle.focus()
})
ui.tbody.addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('button[data-action]') : null
  if (button === null) return
  const env = findEnvironment(button.dataset.id)
  if (env === undefined) return
  clearPageError()
  if (button.dataset.action === 'edit') openEnvironmentDialog(env)
  else if (button.dataset.action === 'toggle') openConfirm(env)
})
ui.envForm.addEventListener('submit', submitEnvironment)
ui.envCancel.addEventListener('click', () => ui.envDialog.close())
ui.confirmCancel.addEventListener('click', () => ui.confirmDialog.close())
ui.confirmOk.addEventListener('click', confirmToggle)
// Escape closes a dialog (the browser's `cancel`); nothing pending survives it.
ui.confirmDialog.addEventListener('close', () => {
  if (!state.busy) state.toggling = undefined
})
ui.envDialog.addEventListener('close', () => {
  if (!state.busy) state.editing = undefined
})

const stored = sessionStorage.getItem(TOKEN_KEY)
if (stored) void signIn(stored, { restoring: true })
else showSignIn()
