/**
 * The one catalogue of error codes (C-3.1). Every non-401 error leaves the service as
 * `{"errors":[{code,message,field?}]}`; nothing builds that envelope by hand, it throws one of these.
 * 401s are different on purpose: upstream's auth middleware answers before the handler with a bare
 * `{"message": ...}` (C-2.3), so they are `AuthError`, not `ApiError`.
 */

export interface ErrorItem {
  code: string
  message: string
  field?: string
  source?: string
}

export class ApiError extends Error {
  readonly statusCode: number
  readonly errors: ErrorItem[]
  readonly headers: Record<string, string>

  constructor(statusCode: number, errors: ErrorItem[], headers: Record<string, string> = {}) {
    super(errors.map((e) => e.message).join('; '))
    this.name = 'ApiError'
    this.statusCode = statusCode
    this.errors = errors
    this.headers = headers
  }
}

export class AuthError extends Error {
  readonly statusCode = 401
  constructor(message: 'Unauthorized' | 'Bearer Authentication Failed') {
    super(message)
    this.name = 'AuthError'
  }
}

const one = (status: number, code: string, message: string, field?: string) =>
  new ApiError(status, [field === undefined ? { code, message } : { code, message, field }])

/** Code -> HTTP status, documented in the README's error table. */
export const ERROR_CODES = {
  invalid_json: 400,
  invalid_query_params: 400,
  bad_request: 400,
  production_cannot_be_disabled: 400,
  access_restricted: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  payload_too_large: 413,
  unsupported_media_type: 415,
  request_header_fields_too_large: 431,
  invalid_body: 422,
  missing_required_field: 422,
  invalid_field: 422,
  limit_exceeded: 422,
  license_limit_exceeded: 422,
  pending_invitations: 422,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export const errors = {
  unauthorized: () => new AuthError('Unauthorized'),
  authFailed: () => new AuthError('Bearer Authentication Failed'),
  accessRestricted: (message = 'Your token does not have access to this operation.') =>
    one(403, 'access_restricted', message),
  notFound: (what = 'Resource') => one(404, 'not_found', `${what} not found.`),
  routeNotFound: (method: string, path: string) =>
    one(404, 'not_found', `Route ${method} ${path} not found.`),
  methodNotAllowed: (method: string, allow: readonly string[]) =>
    new ApiError(
      405,
      [{ code: 'method_not_allowed', message: `Method ${method} is not allowed here. Allowed: ${allow.join(', ')}.` }],
      { allow: allow.join(', ') },
    ),
  invalidJson: (detail: string) => one(400, 'invalid_json', `The request body is not valid JSON: ${detail}`),
  badRequest: (message: string) => one(400, 'bad_request', message),
  invalidQueryParams: (items: Array<{ field: string; message: string }>) =>
    new ApiError(400, items.map((i) => ({ code: 'invalid_query_params', ...i }))),
  payloadTooLarge: (limit: number) =>
    one(413, 'payload_too_large', `Request body is larger than the limit of ${limit} bytes.`),
  unsupportedMediaType: (contentType: string) =>
    one(415, 'unsupported_media_type', `Content-Type ${JSON.stringify(contentType)} is not supported; send application/json.`),
  validation: (items: ErrorItem[]) => new ApiError(422, items),
  limitExceeded: (max: number) =>
    one(422, 'limit_exceeded', `The account already has the maximum of ${max} environments.`),
  licenseLimitExceeded: (licenses: number) =>
    one(422, 'license_limit_exceeded', `All ${licenses} environment licenses of the account are in use; disable another environment first.`),
  productionCannotBeDisabled: () =>
    one(400, 'production_cannot_be_disabled', 'The Production environment cannot be disabled.'),
  pendingInvitations: (count: number) =>
    one(422, 'pending_invitations', `The environment has ${count} pending user invitation${count === 1 ? '' : 's'}; accept or dismiss ${count === 1 ? 'it' : 'them'} before disabling the environment.`),
  rateLimited: (retryAfterSeconds: number) =>
    new ApiError(
      429,
      [{ code: 'rate_limited', message: `Too many requests. Retry after ${retryAfterSeconds} seconds.` }],
      { 'retry-after': String(retryAfterSeconds) },
    ),
  serviceUnavailable: (message = 'The service is temporarily unavailable; retry shortly.') =>
    new ApiError(503, [{ code: 'service_unavailable', message }], { 'retry-after': '1' }),
  internal: () => one(500, 'internal_error', 'Internal server error.'),
}

/** Errors of the operator interface (CLI): printed on stderr, non-zero exit. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}
