// The session-recording scene of the demo: the CI identity runs a command in a pod through the
// gateway; the policy requires the session to be recorded and masks an API key in the recording;
// `kubectl airlock sessions`, `replay` and `verify` read it back. Called by hack/demo-gateway.ts.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, type ControlPlane } from './controlplane/index.ts';
import type { LocalGateway } from './local-gateway.ts';

const run = promisify(execFile);
const bold = (s: string): string => `\u001b[1m${s}\u001b[0m`;

/** The AccessPolicy rule the scene needs (added to the demo policy, before the broader Allow). */
export const EXEC_RECORDED = {
  name: 'exec-recorded',
  match: { verbs: ['create', 'get'], resources: ['pods/exec', 'pods/attach'], namespaces: ['payments'] },
  action: 'Allow',
  recording: 'Required',
  mask: { sessionPatterns: ['sk-live-[a-z0-9]+'] },
};

interface Scene {
  readonly cp: ControlPlane;
  readonly gw: LocalGateway;
  readonly ci: string;
}

const indent = (text: string): string => text.trimEnd().split('\n').map((l) => `  ${l}`).join('\n');

async function show(label: string, file: string, args: readonly string[], env: Record<string, string> = {}): Promise<string> {
  console.log(bold(`$ ${label}`));
  const out = await run(file, [...args], { env: { ...process.env, ...env } }).then((r) => r.stdout + r.stderr, (e: unknown) => {
    const failed = e as { stdout?: string; stderr?: string };
    return `${failed.stdout ?? ''}${failed.stderr ?? ''}`;
  });
  console.log(indent(out));
  return out;
}

async function recordedCount(gw: LocalGateway): Promise<number> {
  const text = await readFile(gw.auditFile, 'utf8');
  return text.split('\n').filter((line) => line.includes('"recording":{"file"')).length;
}

export async function sessionScene({ cp, gw, ci }: Scene): Promise<void> {
  const admin = { KUBECONFIG: cp.kubeconfig };
  await run(cp.kubectlPath, ['run', 'shell', '-n', 'payments', '--image=busybox', '--restart=Never', '--', 'sleep', '1d'], { env: { ...process.env, ...admin } }).catch(() => undefined);
  await run(cp.kubectlPath, ['wait', '--for=condition=Ready', 'pod/shell', '-n', 'payments', '--timeout=60s'], { env: { ...process.env, ...admin } });
  console.log(`\n${bold('Every exec is recorded')} (rule exec-recorded: recording Required, API keys masked in the recording)`);
  const before = await recordedCount(gw);
  await show("kubectl exec shell -n payments -- sh -c 'echo deploying 1.2.3; echo using key sk-live-4f9a2c'", cp.kubectlPath,
    ['exec', 'shell', '-n', 'payments', '--', 'sh', '-c', 'echo deploying 1.2.3; echo using key sk-live-4f9a2c'], { KUBECONFIG: ci });
  for (let i = 0; i < 100 && (await recordedCount(gw)) === before; i++) await new Promise((r) => setTimeout(r, 50));
  const plugin = join(repoRoot, 'plugin', 'kubectl-airlock.ts');
  const list = await show(`kubectl airlock sessions --recordings ${gw.recordingDir}`, process.execPath, [plugin, 'sessions', '--recordings', gw.recordingDir]);
  const id = list.trim().split('\n').at(-1)?.split(/\s+/)[0] ?? '';
  await show(`kubectl airlock replay ${id} --recordings ${gw.recordingDir}`, process.execPath, [plugin, 'replay', id, '--recordings', gw.recordingDir]);
  await show(`kubectl airlock verify --audit ${gw.auditFile} --recordings ${gw.recordingDir}`, process.execPath, [plugin, 'verify', '--audit', gw.auditFile, '--recordings', gw.recordingDir]);
}
