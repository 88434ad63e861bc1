// `kubectl approve [NAME] [--deny] [--reason TEXT]`: the short form of `kubectl airlock approve`
// (krew publishes the plugin as `airlock`; this one is installed next to it by npm).
import { runCli, terminal } from './kubectl-airlock.ts';

if (import.meta.main) {
  const argv = process.argv.slice(2);
  // `kubectl approve --help` describes approve, not the whole plugin.
  process.exitCode = await runCli({ argv: ['approve', ...argv], prog: 'kubectl airlock', io: terminal });
}
