// Session recording through the gateway with real kubectl against kwok's exec: non-interactive
// exec over WebSocket and over SPDY, an interactive `exec -it` driven by a pseudo-terminal
// (script(1)), each recorded as asciicast linked to its audit record; `recording: Required`
// refuses when the recorder cannot write while an Optional session runs unrecorded; and
// `kubectl airlock sessions | replay | verify` read it all back and catch a changed recording.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFile, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { parseCast } from '../core/recording/asciicast.ts';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk } from './support/kubectl.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';

const APP_NS = 'rec-apps';
const POLICY_NS = 'rec-policies';
const run = promisify(execFile);

let gw: TestGateway;
let kubeconfig = '';

interface SessionRecord {
  auditID: string; stage: string; seq: number;
  objectRef?: { subresource?: string; name?: string };
  session?: { protocol?: string; exitCode?: number; recording?: { file: string; sha256: string }; recordingError?: string };
}

async function auditRecords(): Promise<SessionRecord[]> {
  const lines = (await readFile(gw.auditFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as SessionRecord & { kind: string });
  return lines.filter((r) => r.kind === 'AuditRecord');
}

async function sessionRecords(): Promise<SessionRecord[]> {
  return (await auditRecords()).filter((r) => r.stage === 'ResponseComplete' && r.objectRef?.subresource === 'exec');
}

const sessionCount = async (pod: string): Promise<number> => (await sessionRecords()).filter((r) => r.objectRef?.name === pod).length;

/**
 * The `nth` exec record of a pod (from 1), once written, and its recording's text. kubectl exits
 * when it has the exit status; the gateway writes the record when the connection has closed.
 */
async function nthSession(pod: string, nth: number): Promise<{ record: SessionRecord; output: string; input: string; cast: ReturnType<typeof parseCast> }> {
  await expect.poll(() => sessionCount(pod), { timeout: 20_000 }).toBeGreaterThanOrEqual(nth);
  const record = (await sessionRecords()).filter((r) => r.objectRef?.name === pod)[nth - 1];
  if (record?.session?.recording === undefined) throw new Error(`no recorded exec of ${pod} in the audit file`);
  const bytes = await readFile(join(gw.recordingDir, record.session.recording.file));
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(record.session.recording.sha256);
  const cast = parseCast(bytes.toString('utf8'));
  const text = (code: string): string => cast.events.filter((e) => e[1] === code).map((e) => e[2]).join('');
  return { record, output: text('o'), input: text('i'), cast };
}

const plugin = (args: readonly string[]): Promise<{ stdout: string; stderr: string; code: number }> =>
  run(process.execPath, ['plugin/kubectl-airlock.ts', ...args]).then(
    (r) => ({ stdout: r.stdout, stderr: r.stderr, code: 0 }),
    (e: unknown) => ({ stdout: (e as { stdout?: string }).stdout ?? '', stderr: (e as { stderr?: string }).stderr ?? '', code: (e as { code?: number }).code ?? -1 }),
  );

beforeAll(async () => {
  await installCrds();
  for (const ns of [POLICY_NS, APP_NS]) await kubectl(['create', 'namespace', ns]);
  await kubectlOk(['create', 'serviceaccount', 'deployer'], { namespace: APP_NS });
  await kubectlOk(['create', 'rolebinding', 'deployer-edit', '--clusterrole=edit', `--serviceaccount=${APP_NS}:deployer`], { namespace: APP_NS });
  await kubectlOk(['apply', '-f', '-'], { input: stringify({
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'sessions', namespace: POLICY_NS },
    spec: {
      subjects: [{ serviceAccount: { namespace: APP_NS, name: 'deployer' } }],
      rules: [
        {
          name: 'exec-shell-recorded', match: { verbs: ['create', 'get'], resources: ['pods/exec', 'pods/attach'], namespaces: [APP_NS], names: ['shell'] },
          action: 'Allow', recording: 'Required', mask: { sessionPatterns: ['sk-[a-z0-9]{8}'] },
        },
        { name: 'apps', match: { namespaces: [APP_NS] }, action: 'Allow' },
        { name: 'discovery', match: { nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/version'] }, action: 'Allow' },
      ],
    },
  }) });
  for (const pod of ['shell', 'free']) await kubectlOk(['run', pod, '--image=busybox', '--restart=Never', '--', 'sleep', '3600'], { namespace: APP_NS });
  for (const pod of ['shell', 'free']) await kubectlOk(['wait', '--for=condition=Ready', `pod/${pod}`, '--timeout=60s'], { namespace: APP_NS });
  gw = await startTestGateway({ name: 'rec', policyNamespace: POLICY_NS });
  const token = (await kubectlOk(['create', 'token', 'deployer', '--duration=1h'], { namespace: APP_NS })).trim();
  kubeconfig = await gw.kubeconfigFor(token, 'deployer');
}, 120_000);

afterAll(async () => {
  await gw.stop();
  await kubectl(['delete', 'namespace', POLICY_NS, APP_NS, '--wait=false']);
});

describe('session recording through the gateway', () => {
  it('records a non-interactive exec over WebSocket and over SPDY, each linked to its audit record', async () => {
    const ws = await kubectl(['exec', 'shell', '-n', APP_NS, '--', 'echo', 'hi over websocket'], { kubeconfig });
    expect(ws).toMatchObject({ code: 0, stdout: 'hi over websocket\n' });
    const overWs = await nthSession('shell', 1);
    expect(overWs.output).toBe('hi over websocket\n');
    expect(overWs.record.session).toMatchObject({ protocol: expect.stringMatching(/channel\.k8s\.io \(WebSocket\)/) as unknown, exitCode: 0 });
    expect(overWs.cast.header).toMatchObject({ command: "echo 'hi over websocket'", airlock: { auditID: overWs.record.auditID, user: `system:serviceaccount:${APP_NS}:deployer`, pod: 'shell', tty: false } });

    const spdy = await kubectl(['exec', 'shell', '-n', APP_NS, '--', 'echo', 'hi over spdy'], { kubeconfig, env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } });
    expect(spdy).toMatchObject({ code: 0, stdout: 'hi over spdy\n' });
    const overSpdy = await nthSession('shell', 2);
    expect(overSpdy.output).toBe('hi over spdy\n');
    expect(overSpdy.record.session?.protocol).toMatch(/channel\.k8s\.io \(SPDY\/3\.1\)/);
  });

  it('masks what the policy names in the recording, not in what the caller sees', async () => {
    const result = await kubectl(['exec', 'shell', '-n', APP_NS, '--', 'echo', 'the key is sk-abcd1234'], { kubeconfig });
    expect(result).toMatchObject({ code: 0, stdout: 'the key is sk-abcd1234\n' });
    const session = await nthSession('shell', 3);
    expect(session.output).toBe('the key is ***MASKED***\n');
    const bytes = await readFile(join(gw.recordingDir, session.record.session?.recording?.file ?? ''), 'utf8');
    expect(bytes).not.toContain('sk-abcd1234');
    expect(session.cast.header.command).toBe("echo 'the key is ***MASKED***'");
    // The audit trail masks the command line the same way (both records of the request).
    const audit = await readFile(gw.auditFile, 'utf8');
    expect(audit).toContain(session.record.auditID);
    expect(audit).not.toContain('sk-abcd1234');
  });

  it.each([
    { protocol: 'WebSocket', env: '', nth: 4 },
    { protocol: 'SPDY/3.1', env: 'KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false ', nth: 5 },
  ])('records an interactive exec -it over $protocol on a pseudo-terminal, and replays what the terminal showed', async ({ protocol, env, nth }) => {
    // A real terminal: tmux runs kubectl on a pseudo-terminal; keys are typed once the shell prompts.
    const kubectlPath = inject('kubectlPath');
    const tmux = (...args: string[]): Promise<string> => run('tmux', ['-L', 'airlock-e2e', ...args]).then((r) => r.stdout);
    const screen = (): Promise<string> => tmux('capture-pane', '-p', '-t', 'rec').catch(() => '');
    await tmux('new-session', '-d', '-s', 'rec', '-x', '100', '-y', '30', `env ${env}${kubectlPath} --kubeconfig ${kubeconfig} exec -it shell -n ${APP_NS} -- sh; sleep 30`);
    try {
      await expect.poll(screen, { timeout: 20_000 }).toMatch(/#\s*$/m);
      await tmux('send-keys', '-t', 'rec', 'echo interactive-$((6*7))', 'Enter');
      await expect.poll(screen, { timeout: 20_000 }).toContain('interactive-42');
      await tmux('send-keys', '-t', 'rec', 'exit', 'Enter');
    } finally {
      await tmux('kill-server').catch(() => undefined);
    }
    const session = await nthSession('shell', nth);
    expect(session.record.session?.protocol).toContain(`(${protocol})`);
    expect(session.input).toContain('echo interactive-$((6*7))');
    expect(session.output).toContain('interactive-42');
    expect(session.cast.header.airlock).toMatchObject({ tty: true, stdin: true });
    expect(session.cast.events.some((e) => e[1] === 'r' && /^\d+x\d+$/.test(e[2]))).toBe(true);
    const replay = await plugin(['replay', session.record.auditID, '--recordings', gw.recordingDir, '--speed', '1000']);
    expect(replay).toMatchObject({ code: 0, stdout: session.output });
  });

  it('records kubectl attach (kwok attaches to a CRI log file: a line written to it shows in the recording)', async () => {
    const line = `attached-${Date.now()}`;
    const child = execFile(inject('kubectlPath'), ['attach', 'shell', '-n', APP_NS, '--kubeconfig', kubeconfig]);
    let seen = '';
    child.stdout?.on('data', (chunk: Buffer) => { seen += chunk.toString(); });
    try {
      // Keep writing until the attached stream shows the line (attach follows the file from its end).
      await expect.poll(async () => {
        await appendFile(join(inject('clusterDir'), 'kwok', 'attach.log'), `${new Date().toISOString()} stdout F ${line}\n`);
        return seen;
      }, { timeout: 20_000, interval: 500 }).toContain(line);
    } finally {
      child.kill('SIGINT');
    }
    const attach = async (): Promise<SessionRecord | undefined> => (await auditRecords()).filter((r) => r.stage === 'ResponseComplete' && r.objectRef?.subresource === 'attach').at(-1);
    await expect.poll(attach, { timeout: 20_000 }).toBeDefined();
    const record = await attach();
    const cast = parseCast(await readFile(join(gw.recordingDir, record?.session?.recording?.file ?? 'none'), 'utf8'));
    expect(cast.header.airlock).toMatchObject({ subresource: 'attach', pod: 'shell' });
    expect(cast.events.filter((e) => e[1] === 'o').map((e) => e[2]).join('')).toContain(line);
  });

  it('refuses a session that must be recorded while the recorder cannot write, and runs an optional one unrecorded', async () => {
    const aside = `${gw.recordingDir}.aside`;
    await rename(gw.recordingDir, aside);
    await writeFile(gw.recordingDir, 'not a directory');
    try {
      const required = await kubectl(['exec', 'shell', '-n', APP_NS, '--', 'echo', 'must not run'], { kubeconfig });
      expect(required.code).not.toBe(0);
      expect(required.stdout).toBe('');
      expect(required.stderr).toContain('Session recording is required by rule "exec-shell-recorded" of AccessPolicy rec-policies/sessions');
      const optional = await kubectl(['exec', 'free', '-n', APP_NS, '--', 'echo', 'runs unrecorded'], { kubeconfig });
      expect(optional).toMatchObject({ code: 0, stdout: 'runs unrecorded\n' });
    } finally {
      await rm(gw.recordingDir);
      await rename(aside, gw.recordingDir);
    }
    await expect.poll(() => sessionCount('free'), { timeout: 20_000 }).toBe(1);
    const free = (await sessionRecords()).filter((r) => r.objectRef?.name === 'free').at(-1);
    expect(free?.session?.recording).toBeUndefined();
    expect(free?.session?.recordingError).toMatch(/cannot be written/);
    const metrics = await (await fetch(`${gw.healthUrl}/metrics`)).text();
    // kubectl falls back from WebSocket to SPDY when the upgrade fails: both attempts are refused.
    expect(metrics).toMatch(/^airlock_gateway_sessions_total\{kind="exec",recording="refused"\} 2$/m);
    expect(metrics).toMatch(/^airlock_gateway_sessions_total\{kind="exec",recording="unrecorded"\} 1$/m);
    expect(metrics).toMatch(/^airlock_gateway_sessions_total\{kind="exec",recording="recorded"\} [5-9]$/m);
  });

  it('lists, replays and verifies the sessions; a changed recording is named', async () => {
    const list = await plugin(['sessions', '--recordings', gw.recordingDir]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/SESSION\s+STARTED\s+USER\s+POD/);
    expect(list.stdout).toContain(`${APP_NS}/shell`);
    expect(list.stdout).toContain("echo 'hi over websocket'");

    const first = (await sessionRecords()).find((r) => r.session?.recording !== undefined);
    if (first?.session?.recording === undefined) throw new Error('no recorded session');
    const id = first.auditID.slice(0, 8);
    const replay = await plugin(['replay', id, '--recordings', gw.recordingDir, '--speed', '1000']);
    expect(replay).toMatchObject({ code: 0, stdout: 'hi over websocket\n' });
    const raw = await plugin(['replay', id, '--recordings', gw.recordingDir, '--raw']);
    expect(JSON.parse(raw.stdout.split('\n')[0] ?? '{}')).toMatchObject({ version: 2 });

    const verified = await plugin(['verify', '--audit', gw.auditFile, '--recordings', gw.recordingDir]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^ok: \d+ records, \d+ checkpoints, [5-9] recordings verified/);
    expect(verified.stderr).toBe('');

    // A recording no record names (as a gateway that stopped mid-session leaves one): still ok, but said.
    const cutOff = join(gw.recordingDir, '00000000-cut-off.cast');
    const header = (await readFile(join(gw.recordingDir, first.session.recording.file), 'utf8')).split('\n')[0] ?? '';
    await writeFile(cutOff, `${header}\n`);
    const withCutOff = await plugin(['verify', '--audit', gw.auditFile, '--recordings', gw.recordingDir]);
    expect(withCutOff.code).toBe(0);
    expect(withCutOff.stderr).toContain('warning: 00000000-cut-off.cast is named by no audit record given');
    await rm(cutOff);

    const file = join(gw.recordingDir, first.session.recording.file);
    await writeFile(file, (await readFile(file, 'utf8')).replace('hi over websocket', 'hi over webs0cket'));
    const broken = await plugin(['verify', '--audit', gw.auditFile, '--recordings', gw.recordingDir]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain(`BROKEN: recording of audit record seq ${first.seq} (${first.auditID})`);
    expect(broken.stdout).toContain(first.session.recording.file);
  });
});
