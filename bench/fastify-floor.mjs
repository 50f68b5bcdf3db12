// The Fastify floor of `npm run bench`: Fastify configured as ioenv configures it for a request (pino
// logger at warn with a request id per request, a route with a params schema and a response schema)
// answering the ceiling's fixed environment without authentication, database or hooks. ioenv cannot
// be cheaper than this per request; the bench prints it next to the ceiling to show where the
// difference between the ceiling and ioenv goes.
import Fastify from 'fastify'

const environment = {
  _id: '6650b3a0c2f1e4a7b8d9e0f1',
  name: 'Production',
  description: 'The benchmark ceiling answers this fixed environment.',
  _envUserId: '6650b3a0c2f1e4a7b8d9e0f2',
  enabled: true,
  createdAt: '2026-03-01T09:15:02.118Z',
  lastModified: '2026-03-01T09:15:02.118Z',
}
const text = { type: 'string' }
const app = Fastify({ logger: { level: 'warn' } })
app.get(
  '/v1/environments/:_id',
  {
    schema: {
      params: { type: 'object', properties: { _id: text } },
      response: {
        200: {
          type: 'object',
          properties: {
            _id: text,
            name: text,
            description: text,
            _envUserId: text,
            enabled: { type: 'boolean' },
            createdAt: { type: 'string', format: 'date-time' },
            lastModified: { type: 'string', format: 'date-time' },
          },
        },
      },
    },
  },
  async () => environment,
)
await app.listen({ port: 0, host: '127.0.0.1' })
process.stdout.write(`fastify floor listening on http://127.0.0.1:${app.server.address().port}\n`)
process.once('SIGTERM', () => app.close().then(() => process.exit(0)))
