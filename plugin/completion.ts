// Shell completion for the plugin, in Cobra's `__complete` protocol, so one implementation serves
// every shell: kubectl itself (since 1.26 it runs `kubectl_complete-airlock WORDS…` for
// `kubectl airlock <TAB>` and reads this format), and the bash, zsh and fish scripts of
// `kubectl airlock completion SHELL` (completion-scripts.ts) for the launchers called directly.
// The format: one candidate per line (`value<TAB>description`), then `:DIRECTIVE`.
import type { ParseArgsOptionsConfig } from 'node:util';
import { GLOBAL_FLAGS } from './global-flags.ts';
import type { KubeFlags, Subcommand } from './subcommand.ts';

/** Cobra's ShellCompDirective bits the scripts and kubectl understand. */
export const DIRECTIVE = { default: 0, error: 1, noSpace: 2, noFileComp: 4, filterDirs: 16 } as const;

export interface Candidate {
  readonly value: string;
  readonly description?: string;
}

export interface Completion {
  readonly candidates: readonly Candidate[];
  readonly directive: number;
}

/** Where dynamic candidates come from (passed in: tests give fixed ones, the CLI asks the cluster). */
export interface CompletionSources {
  readonly subcommands: readonly Subcommand[];
  /** ApprovalRequests the user can see with these flags (namespace, context, kubeconfig). */
  approvalRequests(flags: KubeFlags): Promise<readonly Candidate[]>;
  /** Recorded sessions in a recordings directory. */
  sessions(dir: string): Promise<readonly Candidate[]>;
}

/** Flags whose value is a path: the shell completes files (or directories) there. */
const PATH_VALUES: Readonly<Record<string, number>> = {
  kubeconfig: DIRECTIVE.default, audit: DIRECTIVE.default, 'public-key': DIRECTIVE.default, recordings: DIRECTIVE.filterDirs,
};

interface Parsed {
  readonly command: Subcommand | undefined;
  readonly positionals: number;
  readonly values: Map<string, string | true>;
  /** The option whose value the word being completed is, if it is one. */
  readonly awaitingValueOf: string | undefined;
}

function optionsOf(command: Subcommand | undefined): ParseArgsOptionsConfig {
  return { ...GLOBAL_FLAGS, ...(command?.options ?? {}) };
}

/** The long name of `--name`, `-n` (a short alias) or undefined. */
function optionName(word: string, options: ParseArgsOptionsConfig): string | undefined {
  if (word.startsWith('--')) return word.slice(2).split('=')[0];
  if (word.startsWith('-') && word.length === 2) return Object.entries(options).find(([, o]) => o.short === word.slice(1))?.[0];
  return undefined;
}

/** Reads the words before the one being completed as the dispatcher would. */
function parseWords(words: readonly string[], subcommands: readonly Subcommand[]): Parsed {
  let command: Subcommand | undefined;
  let positionals = 0;
  let awaiting: string | undefined;
  const values = new Map<string, string | true>();
  for (const word of words) {
    if (awaiting !== undefined) { values.set(awaiting, word); awaiting = undefined; continue; }
    const options = optionsOf(command);
    const name = optionName(word, options);
    if (name !== undefined) {
      const takesValue = options[name]?.type === 'string' && !word.includes('=');
      if (takesValue) awaiting = name; else values.set(name, word.includes('=') ? word.slice(word.indexOf('=') + 1) : true);
    } else if (command === undefined) {
      command = subcommands.find((c) => c.name === word || (c.aliases ?? []).includes(word));
    } else {
      positionals += 1;
    }
  }
  return { command, positionals, values, awaitingValueOf: awaiting };
}

function kubeFlagsOf(values: Parsed['values']): KubeFlags {
  const text = (key: string): Record<string, string> => { const v = values.get(key); return typeof v === 'string' ? { [key]: v } : {}; };
  return { ...text('kubeconfig'), ...text('context'), ...text('namespace'), allNamespaces: values.get('all-namespaces') === true };
}

function flagCandidates(command: Subcommand | undefined): Candidate[] {
  return Object.entries(optionsOf(command)).flatMap(([name, o]) => [
    { value: `--${name}` },
    ...(o.short === undefined ? [] : [{ value: `-${o.short}` }]),
  ]);
}

async function argumentCandidates(parsed: Parsed, sources: CompletionSources): Promise<readonly Candidate[]> {
  const { command } = parsed;
  if (command === undefined) return sources.subcommands.map((c) => ({ value: c.name, description: c.summary }));
  if (parsed.positionals > 0 || command.completes === undefined) return [];
  if (command.completes === 'approvalrequest') return sources.approvalRequests(kubeFlagsOf(parsed.values));
  const dir = parsed.values.get('recordings');
  const fromEnv = process.env['AIRLOCK_RECORDINGS'];
  const recordings = typeof dir === 'string' ? dir : fromEnv;
  return recordings === undefined || recordings === '' ? [] : sources.sessions(recordings);
}

/**
 * Candidates for the last of `words` (the words after the program name; the last is what the user
 * has typed of the word being completed, possibly empty). Never throws: a lookup that fails (no
 * cluster, no permission) completes nothing rather than printing an error into the prompt.
 */
export async function complete(words: readonly string[], sources: CompletionSources): Promise<Completion> {
  const current = words.at(-1) ?? '';
  const parsed = parseWords(words.slice(0, -1), sources.subcommands);
  const matching = (candidates: readonly Candidate[]): Candidate[] => candidates.filter((c) => c.value.startsWith(current));
  if (parsed.awaitingValueOf !== undefined) {
    const pathDirective = PATH_VALUES[parsed.awaitingValueOf];
    return { candidates: [], directive: pathDirective ?? DIRECTIVE.noFileComp };
  }
  if (current.startsWith('-')) return { candidates: matching(flagCandidates(parsed.command)), directive: DIRECTIVE.noFileComp };
  const found = await argumentCandidates(parsed, sources).catch(() => []);
  return { candidates: matching(found), directive: DIRECTIVE.noFileComp };
}

/** The protocol's text: candidates, then `:DIRECTIVE`. Tabs and newlines never reach a value. */
export function formatCompletion(completion: Completion): string {
  const clean = (text: string): string => text.replace(/[\t\n\r]+/g, ' ');
  const lines = completion.candidates.map((c) => (c.description === undefined ? clean(c.value) : `${clean(c.value)}\t${clean(c.description)}`));
  return `${[...lines, `:${completion.directive}`].join('\n')}\n`;
}
