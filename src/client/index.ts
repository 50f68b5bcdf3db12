/**
 * A typed client for the integrator.io Environments API, and for ioenv, which implements it (issue 5).
 *
 * ```ts
 * import { IoenvClient, IoenvApiError } from 'ioenv/client'
 *
 * const client = new IoenvClient({ baseUrl: 'https://api.eu.integrator.io', token: process.env.IOENV_TOKEN! })
 * for await (const env of client.environments({ limit: 100 })) console.log(env._id, env.name)
 * ```
 *
 * One method per operation of the reference, the wire types from the same TypeBox schemas the server
 * validates with, `Link: <url>; rel="next"` followed exactly as given, 429s retried after `Retry-After`,
 * network failures of safe methods retried with a short backoff, and errors as typed exceptions.
 * It needs nothing but a WHATWG `fetch` (Node 18+'s global one by default) and `http-link-header`.
 */
import LinkHeader from 'http-link-header'
import type { Static } from 'typebox'
// Type-only: the client never loads server code at run time.
import type {
  EnvironmentRequest as EnvironmentRequestSchema,
  EnvironmentResponse as EnvironmentResponseSchema,
} from '../http/schemas.ts'

/** An environment as the API returns it (the reference `Response` schema). */
export type Environment = Static<typeof EnvironmentResponseSchema>

/**
 * The body of a create or a full replace (the reference `Request` schema): `name` is required;
 * `description` and `apim` (and each `apim` field) are optional, and `null` means "absent".
 * Read-only fields of a fetched `Environment` are ignored by the API, so one can be sent back as is.
 */
export type EnvironmentRequest = Static<typeof EnvironmentRequestSchema>

/** One entry of the API's error envelope `{"errors":[…]}`. */
export interface IoenvErrorItem {
  code: string
  message: string
  field?: string
  source?: string
}

export interface ListEnvironmentsParams {
  /** Page size, 1–1000 (the API's default is 1000). */
  limit?: number
  /** How many environments to skip (default 0). */
  skip?: number
}

/** One page of environments; `next` is the absolute URL of the following page, from the `Link` header. */
export interface EnvironmentPage {
  items: Environment[]
  next?: string
}

export interface IoenvClientOptions {
  /**
   * Base URL of the API, without the `/v1` path: `https://api.integrator.io`,
   * `https://api.eu.integrator.io`, or a self-hosted ioenv such as `http://127.0.0.1:3000`.
   * A path prefix (a reverse proxy's) is kept; a trailing `/` or `/v1` is tolerated.
   */
  baseUrl: string
  /** An API token, sent as `Authorization: Bearer <token>`. */
  token: string
  /** A `fetch` implementation (default: the global one). Handy for proxies, tests and instrumentation. */
  fetch?: typeof globalThis.fetch
  /**
   * How many times one call is retried (default 3): after a 429, for any method, waiting `Retry-After`
   * (a 429 means the request was not processed); after a network failure (fetch threw), for GET and
   * HEAD only, with a short exponential backoff. `0` turns retries off.
   */
  maxRetries?: number
  /** A 429 whose `Retry-After` is longer than this many seconds is not waited for but thrown (default 60). */
  maxRetryAfterSeconds?: number
  /** First backoff after a network failure in milliseconds, doubled each time (default 200). */
  retryDelayMs?: number
  /** `User-Agent` header (default `ioenv-client`). */
  userAgent?: string
  /**
   * Origins besides the base URL's that `next` links may point to (e.g. the `--public-url` of an
   * instance reached through another address). A link to any other origin is refused rather than
   * sent the token.
   */
  trustedOrigins?: string[]
}

/** Base class of everything the client throws on purpose. */
export class IoenvError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'IoenvError'
  }
}

/** The request never got an HTTP answer (DNS, refused or reset connection, TLS, …); `cause` has the detail. */
export class IoenvNetworkError extends IoenvError {
  readonly method: string
  readonly url: string
  /** How many times the request was sent. */
  readonly attempts: number
  constructor(method: string, url: string, attempts: number, cause: unknown) {
    const detail = cause instanceof Error ? describeCause(cause) : String(cause)
    super(`${method} ${url} failed: ${detail}`, { cause })
    this.name = 'IoenvNetworkError'
    this.method = method
    this.url = url
    this.attempts = attempts
  }
}

/**
 * The API answered with an error status. `errors` is the envelope's list (empty when the body was not
 * the envelope, e.g. an HTML page from a proxy: `body` then has the raw text).
 */
export class IoenvApiError extends IoenvError {
  readonly status: number
  readonly errors: IoenvErrorItem[]
  /** The response's `X-Request-Id`, to quote in a support request. */
  readonly requestId: string | undefined
  /** Seconds from `Retry-After` (429, 503), when present. */
  readonly retryAfter: number | undefined
  /** The raw response body. */
  readonly body: string
  readonly method: string
  readonly url: string

  constructor(init: {
    status: number
    errors: IoenvErrorItem[]
    message: string
    requestId: string | undefined
    retryAfter: number | undefined
    body: string
    method: string
    url: string
  }) {
    super(init.message)
    this.name = 'IoenvApiError'
    this.status = init.status
    this.errors = init.errors
    this.requestId = init.requestId
    this.retryAfter = init.retryAfter
    this.body = init.body
    this.method = init.method
    this.url = init.url
  }

  /** The codes of `errors`, e.g. `['not_found']`. */
  get codes(): string[] {
    return this.errors.map((e) => e.code)
  }
}

/**
 * 401: the token is missing, unknown, revoked or expired. `message` is the API's bare message
 * (`Unauthorized` or `Bearer Authentication Failed`); `errors` is empty (401 bodies have no envelope).
 */
export class IoenvAuthError extends IoenvApiError {
  constructor(init: ConstructorParameters<typeof IoenvApiError>[0]) {
    super(init)
    this.name = 'IoenvAuthError'
  }
}

/** A 2xx answer the client cannot read (not JSON, not the expected shape). */
export class IoenvResponseError extends IoenvError {
  readonly status: number
  readonly body: string
  constructor(message: string, status: number, body: string) {
    super(message)
    this.name = 'IoenvResponseError'
    this.status = status
    this.body = body
  }
}

interface RawResponse {
  status: number
  statusText: string
  headers: Headers
  text: string
  url: string
}

const SAFE_METHODS = new Set(['GET', 'HEAD'])

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

function describeCause(err: Error): string {
  // undici's "fetch failed" hides the useful part (ECONNREFUSED …) in `cause`.
  const cause = (err as { cause?: unknown }).cause
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code
    return `${err.message} (${typeof code === 'string' ? `${code}: ` : ''}${cause.message})`
  }
  return err.message
}

/** `Retry-After` as seconds: a whole number, or an HTTP date. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed)
  const date = Date.parse(trimmed)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, Math.ceil((date - Date.now()) / 1000))
}

function isErrorItem(value: unknown): value is IoenvErrorItem {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return typeof v.code === 'string' && typeof v.message === 'string'
}

function checkPageParam(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be a whole number from ${min} to ${max}; got ${String(value)}`)
  }
}

export class IoenvClient {
  /** The normalized base URL, without a trailing `/` or `/v1`. */
  readonly baseUrl: string
  readonly #token: string
  readonly #fetch: typeof globalThis.fetch
  readonly #maxRetries: number
  readonly #maxRetryAfterSeconds: number
  readonly #retryDelayMs: number
  readonly #userAgent: string
  readonly #origins: Set<string>

  constructor(options: IoenvClientOptions) {
    let url: URL
    try {
      url = new URL(options.baseUrl)
    } catch {
      throw new TypeError(`baseUrl must be an absolute http(s) URL; got ${JSON.stringify(options.baseUrl)}`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`baseUrl must be an http or https URL; got ${JSON.stringify(options.baseUrl)}`)
    }
    if (url.search !== '' || url.hash !== '') throw new TypeError('baseUrl must not have a query or a fragment')
    if (typeof options.token !== 'string' || options.token === '') throw new TypeError('token is required')
    const maxRetries = options.maxRetries ?? 3
    if (!Number.isSafeInteger(maxRetries) || maxRetries < 0) throw new RangeError('maxRetries must be a whole number ≥ 0')
    this.baseUrl = url.href.replace(/\/+$/, '').replace(/\/v1$/, '')
    this.#token = options.token
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis)
    this.#maxRetries = maxRetries
    this.#maxRetryAfterSeconds = options.maxRetryAfterSeconds ?? 60
    this.#retryDelayMs = options.retryDelayMs ?? 200
    this.#userAgent = options.userAgent ?? 'ioenv-client'
    this.#origins = new Set([url.origin, ...(options.trustedOrigins ?? []).map((o) => new URL(o).origin)])
  }

  /** `GET /v1/environments?limit=&skip=`: one page. A `204` (empty page) is `{ items: [] }`. */
  async listEnvironments(params: ListEnvironmentsParams = {}): Promise<EnvironmentPage> {
    checkPageParam('limit', params.limit, 1, 1000)
    checkPageParam('skip', params.skip, 0, Number.MAX_SAFE_INTEGER)
    const query = new URLSearchParams()
    if (params.limit !== undefined) query.set('limit', String(params.limit))
    if (params.skip !== undefined) query.set('skip', String(params.skip))
    const qs = query.toString()
    return this.listEnvironmentsAt(`${this.baseUrl}/v1/environments${qs === '' ? '' : `?${qs}`}`)
  }

  /** Fetches the page at `url`, typically the `next` of a previous page (used exactly as given). */
  async listEnvironmentsAt(url: string): Promise<EnvironmentPage> {
    // The token goes wherever the request goes: only to the API's own origin (or ones trusted).
    const origin = new URL(url, this.baseUrl).origin
    if (!this.#origins.has(origin)) {
      throw new IoenvError(`refusing to send the token to ${origin}: not the API's origin (add it to trustedOrigins if it is)`)
    }
    const res = await this.#send('GET', url)
    if (res.status === 204) return { items: [] }
    const items = this.#json(res)
    if (!Array.isArray(items)) throw new IoenvResponseError(`GET ${url}: expected a JSON array`, res.status, res.text)
    const next = nextLink(res.headers.get('link'), res.url || url)
    return next === undefined ? { items: items as Environment[] } : { items: items as Environment[], next }
  }

  /**
   * Every page from `params.skip` on, following `Link: <url>; rel="next"` until there is none.
   * `for await (const page of client.environmentPages({ limit: 100 }))`.
   */
  async *environmentPages(params: ListEnvironmentsParams = {}): AsyncGenerator<EnvironmentPage, void, undefined> {
    let page = await this.listEnvironments(params)
    const seen = new Set<string>()
    for (;;) {
      yield page
      if (page.next === undefined) return
      if (seen.has(page.next)) throw new IoenvError(`the API's next link repeats a page already read: ${page.next}`)
      seen.add(page.next)
      page = await this.listEnvironmentsAt(page.next)
    }
  }

  /** Every environment, page by page: `for await (const env of client.environments({ limit: 100 }))`. */
  async *environments(params: ListEnvironmentsParams = {}): AsyncGenerator<Environment, void, undefined> {
    for await (const page of this.environmentPages(params)) yield* page.items
  }

  /** `GET /v1/environments/{_id}`. */
  async getEnvironment(id: string): Promise<Environment> {
    const res = await this.#send('GET', this.#itemUrl(id))
    return this.#object(res)
  }

  /** `POST /v1/environments`: creates one and returns it in full (201). */
  async createEnvironment(body: EnvironmentRequest): Promise<Environment> {
    const res = await this.#send('POST', `${this.baseUrl}/v1/environments`, body)
    return this.#object(res)
  }

  /**
   * `PUT /v1/environments/{_id}`: a full replace of `name`, `description` and `apim`. An optional field
   * left out is removed. Returns the environment as stored.
   */
  async updateEnvironment(id: string, body: EnvironmentRequest): Promise<Environment> {
    const res = await this.#send('PUT', this.#itemUrl(id), body)
    return this.#object(res)
  }

  /** `PUT /v1/environments/{_id}/enable`: flips `enabled` (204). Read the environment to see the new state. */
  async toggleEnvironment(id: string): Promise<void> {
    await this.#send('PUT', `${this.#itemUrl(id)}/enable`)
  }

  #itemUrl(id: string): string {
    if (typeof id !== 'string' || id === '') throw new TypeError('an environment id is required')
    return `${this.baseUrl}/v1/environments/${encodeURIComponent(id)}`
  }

  #json(res: RawResponse): unknown {
    try {
      return JSON.parse(res.text)
    } catch {
      throw new IoenvResponseError(`${res.status} answer is not JSON: ${snippet(res.text)}`, res.status, res.text)
    }
  }

  #object(res: RawResponse): Environment {
    const value = this.#json(res)
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new IoenvResponseError(`${res.status} answer is not a JSON object: ${snippet(res.text)}`, res.status, res.text)
    }
    return value as Environment
  }

  /** Sends one call with its retries; returns a 2xx answer with its body read, or throws. */
  async #send(method: string, url: string, body?: unknown): Promise<RawResponse> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#token}`,
      accept: 'application/json',
      'user-agent': this.#userAgent,
    }
    let payload: string | undefined
    if (body !== undefined) {
      headers['content-type'] = 'application/json'
      payload = JSON.stringify(body)
    }
    const safe = SAFE_METHODS.has(method)
    for (let attempt = 0; ; attempt++) {
      let res: RawResponse
      try {
        const response = await this.#fetch(url, { method, headers, ...(payload === undefined ? {} : { body: payload }) })
        // Read inside the try: a connection reset mid-body is a network failure too.
        res = { status: response.status, statusText: response.statusText, headers: response.headers, text: await response.text(), url: response.url }
      } catch (err) {
        if ((err as { name?: unknown }).name === 'AbortError') throw err
        // Only safe methods: a POST or PUT that failed in flight may have been processed.
        if (safe && attempt < this.#maxRetries) {
          await sleep(this.#retryDelayMs * 2 ** attempt)
          continue
        }
        throw new IoenvNetworkError(method, url, attempt + 1, err)
      }
      if (res.status === 429 && attempt < this.#maxRetries) {
        // A 429 means the request was not processed, so any method can be sent again.
        const wait = parseRetryAfter(res.headers.get('retry-after'))
        if (wait === undefined || wait <= this.#maxRetryAfterSeconds) {
          await sleep(wait === undefined ? this.#retryDelayMs * 2 ** attempt : wait * 1000)
          continue
        }
      }
      if (res.status >= 200 && res.status < 300) return res
      throw errorOf(method, url, res)
    }
  }
}

function snippet(text: string): string {
  const s = text.replace(/\s+/g, ' ').trim()
  return s.length > 200 ? `${s.slice(0, 200)}…` : s === '' ? '(empty body)' : s
}

/** The `rel="next"` target of a Link header, resolved against the page's URL (RFC 8288 §3.2). */
function nextLink(header: string | null, base: string): string | undefined {
  if (header === null || header.trim() === '') return undefined
  let ref: LinkHeader.Reference | undefined
  try {
    ref = LinkHeader.parse(header).rel('next')[0]
  } catch {
    return undefined
  }
  if (ref === undefined) return undefined
  // An absolute target is used exactly as given; a relative one is resolved against the page's URL.
  if (URL.canParse(ref.uri)) return ref.uri
  return URL.canParse(ref.uri, base) ? new URL(ref.uri, base).href : undefined
}

function errorOf(method: string, url: string, res: RawResponse): IoenvApiError {
  let parsed: unknown
  try {
    parsed = JSON.parse(res.text)
  } catch {
    parsed = undefined
  }
  const common = {
    status: res.status,
    requestId: res.headers.get('x-request-id') ?? undefined,
    retryAfter: parseRetryAfter(res.headers.get('retry-after')),
    body: res.text,
    method,
    url,
  }
  const statusLine = `${res.status}${res.statusText ? ` ${res.statusText}` : ''}`
  if (res.status === 401) {
    const message =
      typeof parsed === 'object' && parsed !== null && typeof (parsed as { message?: unknown }).message === 'string'
        ? (parsed as { message: string }).message
        : res.statusText || 'Unauthorized'
    return new IoenvAuthError({ ...common, errors: [], message })
  }
  const list = typeof parsed === 'object' && parsed !== null ? (parsed as { errors?: unknown }).errors : undefined
  const items = Array.isArray(list) ? list.filter(isErrorItem) : []
  if (items.length > 0) {
    const errors = items.map((e) => {
      const item: IoenvErrorItem = { code: e.code, message: e.message }
      if (typeof e.field === 'string') item.field = e.field
      if (typeof e.source === 'string') item.source = e.source
      return item
    })
    return new IoenvApiError({ ...common, errors, message: errors.map((e) => e.message).join('; ') })
  }
  return new IoenvApiError({ ...common, errors: [], message: `${method} ${url} answered ${statusLine}: ${snippet(res.text)}` })
}
