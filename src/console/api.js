// The console's API client: same-origin fetch with the bearer token, Link pagination, and the API's
// errors turned into plain words. No DOM here.

/** A failed call: `status` (0 when the server could not be reached), the API's `errors[]`, and `text` in plain words. */
export class ApiProblem extends Error {
  /**
   * @param {number} status
   * @param {Array<{code?: string, message?: string, field?: string}>} errors
   * @param {string} text
   * @param {{retryAfter?: number, authMessage?: string}} [extra]
   */
  constructor(status, errors, text, extra = {}) {
    super(text)
    this.name = 'ApiProblem'
    this.status = status
    this.errors = errors
    this.retryAfter = extra.retryAfter
    this.authMessage = extra.authMessage
  }

  /** The first error code, if any. */
  get code() {
    return this.errors[0]?.code
  }
}

/** `Link: <url>; rel="next"` → the URL, or undefined (RFC 8288; rel may be unquoted or a list). */
export function nextLink(header) {
  if (!header) return undefined
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part)
    if (!m) continue
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(m[2])
    const rels = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/)
    if (rels.includes('next')) return m[1]
  }
  return undefined
}

/**
 * The path and query of a `next` link, resolved against this page. The API writes absolute URLs (with
 * its public base URL when one is configured), but the console always talks to the origin it was
 * loaded from, so only the path and query are kept.
 */
export function sameOriginPath(link, base) {
  const url = new URL(link, base)
  return url.pathname + url.search
}

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`

/** Plain words for a failed call, given what was being done (`action`: 'list' | 'create' | 'update' | 'toggle'). */
export function describeProblem(status, errors, { action, retryAfter, name, enabling } = {}) {
  const code = errors[0]?.code
  const apiMessages = errors.map((e) => e.message).filter(Boolean).join(' ')
  const quoted = name === undefined ? 'This environment' : `“${name}”`
  switch (true) {
    case status === 0:
      return 'The server could not be reached. Check your connection and try again.'
    case status === 401:
      return 'Your token was not accepted: it is unknown, revoked or expired. Sign in again with a valid token.'
    case status === 403:
      return action === 'list'
        ? 'This token can’t read the environments of the account: that needs a full-access token.'
        : 'This token can’t change environments. Only a full-access token of the Production environment can create, edit, enable or disable them. Sign in with such a token to make changes.'
    case code === 'production_cannot_be_disabled':
      return 'Production can’t be disabled. It is the account’s main environment and always stays enabled.'
    case code === 'pending_invitations':
      return `${quoted} can’t be disabled while it has pending user invitations. Those invitations must be accepted or dismissed first; then try again.`
    case code === 'license_limit_exceeded':
      return `${quoted} can’t be enabled: every environment license of the account is in use. Disable another environment first, or ask for more licenses.`
    case code === 'limit_exceeded':
      return `The account already has the most environments it may have, so no new one can be created. ${apiMessages}`.trim()
    case status === 429: {
      const wait = retryAfter === undefined ? 'a moment' : plural(retryAfter, 'second')
      return `Too many requests: the account’s rate limit is used up. Retry after ${wait}.`
    }
    case status === 404:
      return action === 'list'
        ? 'The environments could not be found on this server.'
        : `${quoted} no longer exists. The list has been refreshed.`
    case status === 503:
      return 'The service is briefly unavailable. Try again in a moment.'
    case status >= 500:
      return `The server failed to complete the request (HTTP ${status}). Try again; if it keeps failing, check the server’s log.`
    case status === 422 || status === 400:
      return apiMessages || `The request was refused (HTTP ${status}).`
    default:
      return `${enabling === undefined ? 'The request' : enabling ? 'Enabling' : 'Disabling'} failed (HTTP ${status}). ${apiMessages}`.trim()
  }
}

async function readJson(response) {
  const text = await response.text()
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Retry-After in whole seconds (the API sends seconds; an HTTP date is turned into seconds from now). */
function retryAfterSeconds(value) {
  if (value === null) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim())
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000))
}

export class Api {
  /** @param {string} token @param {string} [base] the page's URL (same origin) */
  constructor(token, base = location.href) {
    this.token = token
    this.base = base
  }

  /** One call; resolves with the Response, or throws an ApiProblem with plain words. */
  async request(method, path, { body, action, name, enabling } = {}) {
    const headers = { authorization: `Bearer ${this.token}`, accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    let response
    try {
      response = await fetch(new URL(path, this.base), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
        cache: 'no-store',
        redirect: 'error',
      })
    } catch {
      throw new ApiProblem(0, [], describeProblem(0, [], { action }))
    }
    if (response.ok) return response
    const json = await readJson(response)
    // 401s are a bare {"message"}; every other error is {"errors": [...]}.
    const errors = Array.isArray(json?.errors) ? json.errors.filter((e) => e && typeof e === 'object') : []
    const retryAfter = retryAfterSeconds(response.headers.get('retry-after'))
    const text = describeProblem(response.status, errors, { action, retryAfter, name, enabling })
    throw new ApiProblem(response.status, errors, text, {
      retryAfter,
      authMessage: typeof json?.message === 'string' ? json.message : undefined,
    })
  }

  /** Every environment, following `Link: rel="next"` until the last page. */
  async listAll(pageSize = 100) {
    const all = []
    let path = `/v1/environments?limit=${pageSize}&skip=0`
    for (let pages = 0; path !== undefined && pages < 10_000; pages++) {
      const response = await this.request('GET', path, { action: 'list' })
      if (response.status === 204) break
      const page = await readJson(response)
      if (!Array.isArray(page)) throw new ApiProblem(response.status, [], 'The server sent a list the console cannot read.')
      all.push(...page)
      const next = nextLink(response.headers.get('link'))
      path = next === undefined ? undefined : sameOriginPath(next, this.base)
    }
    return all
  }

  async get(id) {
    const response = await this.request('GET', `/v1/environments/${encodeURIComponent(id)}`, { action: 'get' })
    return readJson(response)
  }

  async create(body) {
    const response = await this.request('POST', '/v1/environments', { body, action: 'create' })
    return readJson(response)
  }

  async replace(id, body, name) {
    const response = await this.request('PUT', `/v1/environments/${encodeURIComponent(id)}`, { body, action: 'update', name })
    return readJson(response)
  }

  async toggle(id, name, enabling) {
    await this.request('PUT', `/v1/environments/${encodeURIComponent(id)}/enable`, { action: 'toggle', name, enabling })
  }
}
