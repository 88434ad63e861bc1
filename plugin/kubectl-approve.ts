// `kubectl approve [NAME] [--deny] [--reason TEXT]`: the short form of `kubectl airlock approve`
// (krew publishes the plugin as `airlock`; this one is installed next to it by npm).
import { runCli, terminal } from './kubectl-airlock.ts';

if (import.meta.main) {
  const argv = process.argv.slice(2);
  // `kubectl approve --help` describes approve, not the whole plugin; completion completes approve's words.
  const forwarded = argv[0] === '__complete' ? ['__complete', 'approve', ...argv.slice(1)] : ['approve', ...argv];
  process.exitCode = await runCli({ argv: forwarded, prog: 'kubectl airlock', io: terminal });
}
