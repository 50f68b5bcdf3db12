import type { FastifyInstance } from 'fastify'

/** The web console at /console (issue 5). Public: it signs in with a token the user pastes. */
export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  app.get('/console', { config: { access: 'public' } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send('<!doctype html><title>ioenv console</title><p>Coming soon.</p>'),
  )
}
