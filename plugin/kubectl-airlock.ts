// `kubectl airlock SUBCOMMAND`: the Airlock kubectl plugin (bin/kubectl-airlock runs this file on
// the project's Node). The dispatcher owns kubectl's global flags; each subcommand (listed in
// subcommands.ts) declares its own. Every failure is one line, "error: …", with what to do.
import { parseArgs } from 'node:util';
import { GLOBAL_FLAGS } from './global-flags.ts';
import { connectWithKubeconfig } from './kube-session.ts';
import { SUBCOMMANDS } from './subcommands.ts';
import { pluginSources, runComplete } from './completion-command.ts';
import { CliError, stringValue, type CliIO, type Invocation, type KubeFlags, type Subcommand } from './subcommand.ts';


const TAKES_VALUE = new Set(['--kubeconfig', '--context', '--namespace', '-n']);

export interface CliOptions {
  readonly argv: readonly string[];
  /** "kubectl airlock", as the user typed it. */
  readonly prog: string;
  readonly subcommands?: readonly Subcommand[];
  readonly io: CliIO;
  readonly connect?: Invocation['connect'];
  readonly now?: () => Date;
}

/** The index of the subcommand's name: the first word that is not a flag or a global flag's value. */
function commandIndex(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (TAKES_VALUE.has(arg)) i += 1;
    else if (!arg.startsWith('-')) return i;
  }
  return -1;
}

export function usage(prog: string, subcommands: readonly Subcommand[]): string {
  const width = Math.max(...subcommands.map((c) => c.name.length));
  return [
    `Decide Airlock ApprovalRequests as yourself; list, replay and verify recorded sessions and the audit trail.`,
    '',
    'Commands:',
    ...subcommands.map((c) => `  ${c.name.padEnd(width)}   ${c.summary}`),
    '',
    'Flags (as kubectl): -n/--namespace NS, -A/--all-namespaces, --context NAME, --kubeconfig FILE (else KUBECONFIG)',
    '',
    `Usage: ${prog} COMMAND [flags]; ${prog} COMMAND --help for more.`,
    '',
  ].join('\n');
}

function commandHelp(prog: string, command: Subcommand): string {
  return [`${command.summary}.`, '', ...command.help, '', `Usage: ${prog} ${command.name} ${command.usage} [-n NS] [--context NAME] [--kubeconfig FILE]`, ''].join('\n');
}

function kubeFlags(values: Invocation['values']): KubeFlags {
  const pick = (key: string): Record<string, string> => {
    const value = stringValue(values, key);
    return value === undefined ? {} : { [key]: value };
  };
  return { ...pick('kubeconfig'), ...pick('context'), ...pick('namespace'), allNamespaces: values['all-namespaces'] === true };
}

async function dispatch(options: CliOptions): Promise<number> {
  const subcommands = options.subcommands ?? SUBCOMMANDS;
  const at = commandIndex(options.argv);
  const name = at === -1 ? undefined : options.argv[at];
  const command = subcommands.find((c) => c.name === name || (c.aliases ?? []).includes(name ?? ''));
  if (command === undefined) {
    if (name === undefined) {
      options.io.out(usage(options.prog, subcommands));
      return options.argv.some((a) => a === '-h' || a === '--help') ? 0 : 1;
    }
    throw new CliError(`unknown command "${name}" for "${options.prog}"; commands: ${subcommands.map((c) => c.name).join(', ')}`);
  }
  const args = [...options.argv.slice(0, at), ...options.argv.slice(at + 1)];
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options: { ...GLOBAL_FLAGS, ...command.options }, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message;
    const unknown = /Unknown option '([^']+)'/.exec(message)?.[1];
    const what = unknown === undefined ? message.split('\n')[0] ?? '' : `unknown flag ${unknown}`;
    throw new CliError(`${what}; see ${options.prog} ${command.name} --help`);
  }
  if (parsed.values['help'] === true) {
    options.io.out(commandHelp(options.prog, command));
    return 0;
  }
  return command.run({
    prog: options.prog,
    positionals: parsed.positionals,
    values: parsed.values as Invocation['values'],
    flags: kubeFlags(parsed.values as Invocation['values']),
    io: options.io,
    now: options.now ?? (() => new Date()),
    connect: options.connect ?? connectWithKubeconfig,
  });
}

/** Runs the CLI and returns the exit code; never throws. */
export async function runCli(options: CliOptions): Promise<number> {
  try {
    // Shell completion (kubectl_complete-airlock, the completion scripts): hidden, never a failure.
    if (options.argv[0] === '__complete') {
      const sources = pluginSources(options.subcommands ?? SUBCOMMANDS, options.connect ?? connectWithKubeconfig);
      return await runComplete(options.argv.slice(1), sources, options.io);
    }
    return await dispatch(options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    options.io.err(`error: ${message.split('\n')[0] ?? ''}\n`);
    return 1;
  }
}

export const terminal: CliIO = {
  out: (text) => { process.stdout.write(text); },
  err: (text) => { process.stderr.write(text); },
};

if (import.meta.main) {
  process.exitCode = await runCli({ argv: process.argv.slice(2), prog: 'kubectl airlock', io: terminal });
}
