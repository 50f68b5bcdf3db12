import type { Command } from 'commander'

/** `ioenv environments list|get|create|update|set|toggle` on the typed client (issue 5). */
export function addEnvironmentCommands(_program: Command): void {}
