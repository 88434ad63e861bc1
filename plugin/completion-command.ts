// `kubectl airlock completion bash|zsh|fish`: the shell script that completes the plugin
// (completion-scripts.ts); and the hidden `__complete WORDS…` the scripts and kubectl call.
import { listSessions } from '../core/recording/recordings.ts';
import { complete, formatCompletion, type Candidate, type CompletionSources } from './completion.ts';
import { completionScript, SHELLS, type Shell } from './completion-scripts.ts';
import { CliError, type CliIO, type Invocation, type Subcommand } from './subcommand.ts';

export const completionCommand: Subcommand = {
  name: 'completion',
  summary: 'Print the shell completion script for bash, zsh or fish',
  usage: 'bash|zsh|fish',
  help: [
    'bash:  source <(kubectl airlock completion bash)      (in ~/.bashrc to keep it)',
    'zsh:   source <(kubectl airlock completion zsh)       (after compinit)',
    'fish:  kubectl airlock completion fish | source',
    'It completes kubectl-airlock and kubectl-approve called by name. For `kubectl airlock <TAB>`,',
    'load kubectl\'s own completion and keep kubectl_complete-airlock (beside kubectl-airlock) on PATH.',
  ],
  options: {},
  run(invocation) {
    const shell = invocation.positionals[0];
    if (invocation.positionals.length !== 1 || !SHELLS.includes(shell as Shell)) {
      throw new CliError(`name one shell: ${invocation.prog} completion ${SHELLS.join('|')}`);
    }
    invocation.io.out(completionScript(shell as Shell));
    return Promise.resolve(0);
  },
};

/** The plugin's dynamic candidates: ApprovalRequests from the cluster, sessions from a directory. */
export function pluginSources(subcommands: readonly Subcommand[], connect: Invocation['connect']): CompletionSources {
  return {
    subcommands,
    approvalRequests: async (flags) => {
      const session = connect(flags);
      const items = await session.api.list(flags.allNamespaces ? undefined : session.namespace);
      return items.map((apr): Candidate => ({ value: apr.metadata.name ?? '', description: apr.spec.request.summary }));
    },
    sessions: async (dir) => (await listSessions(dir)).sessions.map((s): Candidate => ({ value: s.auditID.slice(0, 8), description: `${s.user}: ${s.command ?? s.subresource}` })),
  };
}

/** `__complete WORDS…`: the candidates for the last word, in Cobra's format; always exit 0. */
export async function runComplete(words: readonly string[], sources: CompletionSources, io: CliIO): Promise<number> {
  io.out(formatCompletion(await complete(words.length === 0 ? [''] : words, sources)));
  return 0;
}
