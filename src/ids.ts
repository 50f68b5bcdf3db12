import { ObjectId } from 'bson'

/** A fresh 24-char lowercase hex ObjectId (C-1.7). */
export const newId = (): string => new ObjectId().toHexString()

const OBJECT_ID = /^[0-9a-fA-F]{24}$/

/** Normalizes a path id: ObjectIds are hex, so case does not matter; anything else is not an id. */
export const parseId = (raw: string): string | null => (OBJECT_ID.test(raw) ? raw.toLowerCase() : null)

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`)
const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`)
/** 9999-12-31T23:59:59.999Z: past it (or before 1970) toISOString's own format applies. */
const LAST_FOUR_DIGIT_YEAR_MS = 253402300799999

/**
 * ISO-8601 UTC with milliseconds and `Z` (C-1.7), exactly as `Date#toISOString` writes it, but
 * computed with integer arithmetic: a list of 100 environments formats 200 timestamps, and this is
 * about four times cheaper than a Date object per timestamp. Days to civil date is Howard Hinnant's
 * `civil_from_days` (http://howardhinnant.github.io/date_algorithms.html).
 */
export function iso(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > LAST_FOUR_DIGIT_YEAR_MS) return new Date(ms).toISOString()
  const days = Math.floor(ms / 86_400_000)
  let rest = ms - days * 86_400_000
  const hours = Math.floor(rest / 3_600_000)
  rest -= hours * 3_600_000
  const minutes = Math.floor(rest / 60_000)
  rest -= minutes * 60_000
  const seconds = Math.floor(rest / 1000)
  const millis = rest - seconds * 1000
  const z = days + 719_468
  const era = Math.floor(z / 146_097)
  const dayOfEra = z - era * 146_097
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365)
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100))
  const mp = Math.floor((5 * dayOfYear + 2) / 153)
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
  return `${year}-${pad2(month)}-${pad2(day)}T${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}.${pad3(millis)}Z`
}

export type Clock = () => number
export const systemClock: Clock = () => Date.now()
