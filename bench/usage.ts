// `--help` for every benchmark: how to run it, printed before it starts anything (a control plane,
// a gateway), so a reader can check the command without waiting minutes for the run.
export function printUsageOnHelp(usage: string): void {
  if (!process.argv.slice(2).some((a) => a === '--help' || a === '-h')) return;
  console.log(`usage: ${usage}`);
  process.exit(0);
}
