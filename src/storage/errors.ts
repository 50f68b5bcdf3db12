/**
 * Database errors that mean "try again shortly" rather than "this request is wrong" or "a bug":
 * the server is down, restarting, refusing connections, out of connections, or (SQLite) still
 * locked by another process after busy_timeout. The HTTP layer answers them 503 (see README).
 */
const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '57014', // query_canceled (statement_timeout)
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
])

const RETRYABLE_MESSAGES = /Query read timeout|Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly|the database system is (starting up|shutting down)/i

export function isUnavailableError(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false
  const e = err as { code?: unknown; message?: unknown; errors?: unknown }
  if (typeof e.code === 'string' && (RETRYABLE_CODES.has(e.code) || e.code.startsWith('08'))) return true
  if (typeof e.message === 'string' && RETRYABLE_MESSAGES.test(e.message)) return true
  // net's AggregateError (IPv4 and IPv6 both refused)
  return Array.isArray(e.errors) && e.errors.some(isUnavailableError)
}
