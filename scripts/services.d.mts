export function freePort(): Promise<number>
export function startEmbeddedPostgres(options?: { fast?: boolean }): Promise<{
  url: string
  stop(): Promise<void>
  start(): Promise<void>
  dispose(): Promise<void>
}>
