import type { Compilable, CompiledQuery } from 'kysely'

/**
 * A query written with Kysely's builder but built and compiled once: each call only puts its
 * arguments in the parameter list. Building and compiling a query costs more CPU than SQLite takes to
 * run it (each builder step copies a frozen tree, then the compiler walks it), so the queries of the
 * request paths are kept this way; the SQL and its shape are exactly what the builder makes.
 *
 * The builder is called once with placeholder objects in place of the arguments; every placeholder
 * must come out as a bound parameter (never inlined), which is checked here, once.
 */
class Slot {
  constructor(readonly index: number) {}
}

export function prepared<A extends unknown[], R>(build: (...args: A) => Compilable<R>): (...args: A) => CompiledQuery<R> {
  const slots = Array.from({ length: build.length }, (_, i) => new Slot(i))
  const compiled = build(...(slots as unknown as A)).compile()
  const template = compiled.parameters
  const seen = new Set(template.filter((p): p is Slot => p instanceof Slot).map((p) => p.index))
  if (seen.size !== slots.length) throw new Error(`prepared query does not bind all ${slots.length} arguments: ${compiled.sql}`)
  return (...args: A) => ({
    ...compiled,
    parameters: template.map((p) => (p instanceof Slot ? args[p.index] : p)),
  })
}
