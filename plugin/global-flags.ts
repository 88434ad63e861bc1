// kubectl's flags that every `kubectl airlock` subcommand takes, as kubectl plugins should; one
// list for the dispatcher (kubectl-airlock.ts) and shell completion (completion.ts).
import type { ParseArgsOptionsConfig } from 'node:util';

export const GLOBAL_FLAGS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;
