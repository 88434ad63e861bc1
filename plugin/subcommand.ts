// What a `kubectl airlock` subcommand is. Each subcommand lives in its own file and is listed once
// in subcommands.ts; the dispatcher (kubectl-airlock.ts) parses the flags it declares together
// with kubectl's global flags and hands it an Invocation.
import type { ParseArgsOptionsConfig } from 'node:util';
import type { KubeSession } from './kube-session.ts';

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
}

/** kubectl's flags every subcommand honours, as kubectl plugins should. */
export interface KubeFlags {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly namespace?: string;
  readonly allNamespaces: boolean;
}

export interface Invocation {
  /** How the user called us, for usage and hints: "kubectl airlock" or "kubectl approve". */
  readonly prog: string;
  readonly positionals: readonly string[];
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly flags: KubeFlags;
  readonly io: CliIO;
  readonly now: () => Date;
  /** Connects with the user's kubeconfig, context and namespace (lazily: --help needs no cluster). */
  readonly connect: (flags: KubeFlags) => KubeSession;
}

export interface Subcommand {
  readonly name: string;
  readonly aliases?: readonly string[];
  /** One line for the command list. */
  readonly summary: string;
  /** Arguments after the command name, e.g. "NAME [--reason TEXT]". */
  readonly usage: string;
  /** Lines of help after the usage line. */
  readonly help: readonly string[];
  readonly options: ParseArgsOptionsConfig;
  /** What its first argument names, for shell completion (completion.ts). */
  readonly completes?: 'approvalrequest' | 'session';
  run(invocation: Invocation): Promise<number>;
}

/** A failure the user can fix: printed as one line, "error: …", with exit code 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

export function stringValue(values: Invocation['values'], key: string): string | undefined {
  const value = values[key];
  return typeof value === 'string' ? value : undefined;
}
