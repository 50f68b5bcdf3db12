import { ObjectId } from 'bson'

/** A fresh 24-char lowercase hex ObjectId (C-1.7). */
export const newId = (): string => new ObjectId().toHexString()

const OBJECT_ID = /^[0-9a-fA-F]{24}$/

/** Normalizes a path id: ObjectIds are hex, so case does not matter; anything else is not an id. */
export const parseId = (raw: string): string | null => (OBJECT_ID.test(raw) ? raw.toLowerCase() : null)

/** ISO-8601 UTC with milliseconds and `Z` (C-1.7). */
export const iso = (ms: number): string => new Date(ms).toISOString()

export type Clock = () => number
export const systemClock: Clock = () => Date.now()
