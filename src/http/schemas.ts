import { type Static, Type } from 'typebox'

/**
 * Wire schemas: the single source for request validation, response serialization and (later) the
 * OpenAPI document. Names and shapes follow the reference's `Request`, `Response` and `Error`.
 */

export const NAME_MAX = 256
export const DESCRIPTION_MAX = 10_000

// `null` is accepted for optional fields and means "absent" (a decision of ours, see README): it lets a
// body with `"description": null` from another tool through a full replace without a 422.
const OptionalText = (max?: number) =>
  Type.Optional(Type.Union([Type.String(max === undefined ? {} : { maxLength: max }), Type.Null()]))

export const ApimSchema = Type.Object(
  {
    environmentId: OptionalText(),
    environmentHRID: OptionalText(),
    groupId: OptionalText(),
  },
  { description: 'API Management (APIM) metadata for this environment.' },
)

export const EnvironmentRequest = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: NAME_MAX, pattern: '\\S' }),
    description: OptionalText(DESCRIPTION_MAX),
    apim: Type.Optional(Type.Union([ApimSchema, Type.Null()])),
  },
  { description: 'Fields that can be sent when creating or updating a environment' },
)
export type EnvironmentRequestBody = Static<typeof EnvironmentRequest>

const ObjectIdString = Type.String({ pattern: '^[0-9a-f]{24}$' })
const Timestamp = Type.String({ format: 'date-time' })

export const EnvironmentResponse = Type.Object(
  {
    _id: ObjectIdString,
    name: Type.String(),
    description: Type.Optional(Type.String()),
    apim: Type.Optional(
      Type.Object({
        environmentId: Type.Optional(Type.String()),
        environmentHRID: Type.Optional(Type.String()),
        groupId: Type.Optional(Type.String()),
      }),
    ),
    _envUserId: ObjectIdString,
    enabled: Type.Boolean(),
    createdAt: Timestamp,
    lastModified: Timestamp,
    deletedAt: Type.Optional(Timestamp),
    _integrationId: Type.Optional(ObjectIdString),
    _connectorId: Type.Optional(ObjectIdString),
  },
  { description: 'Complete environment object as returned by the API' },
)

export const ErrorEnvelope = Type.Object({
  errors: Type.Array(
    Type.Object({
      code: Type.String(),
      message: Type.String(),
      field: Type.Optional(Type.String()),
      source: Type.Optional(Type.String()),
    }),
    { minItems: 1 },
  ),
})

export const UnauthorizedBody = Type.Object({ message: Type.String() })

/** `limit` 1–1000 and `skip` ≥ 0 as decimal digits (C-4.1); checked as strings so "1e3" or "5.0" fail. */
export const ListQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^0*([1-9][0-9]{0,2}|1000)$', description: 'Page size, 1–1000 (default 1000).' })),
  skip: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'Number of environments to skip (default 0).' })),
})

export const IdParams = Type.Object({ _id: Type.String({ description: 'Environment id.' }) })
