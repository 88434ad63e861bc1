// The session readers under attack, over the wire: a caller allowed to exec or port-forward sends
// bytes meant to make the gateway's recorder hold or inflate without bound (docs/adr/0008, section
// 3). These are the audit's 2,000,000 empty WebSocket continuation frames, and a SPDY header block
// of compressed zeros. The gateway runs in this process, so its memory is this process's. The
// sessions must end or run on unrecorded, as the recording mode says. Memory may not grow by more
// than BOUND: the readers keep at most 1 MiB of a header block and no buffer for an empty frame,
// and the relay's socket buffers are a few hundred KiB. The old readers grew by +450 MiB (flood)
// and by twice the bomb's size (bomb).
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { connect, type TLSSocket } from 'node:tls';
import { constants, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { SPDY3_HEADER_DICTIONARY } from '../gateway/record/spdy-dictionary.ts';
import { wsFrame } from '../gateway/record/test-wire.ts';
import { OPCODE, WebSocketReader } from '../gateway/record/websocket-frames.ts';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk } from './support/kubectl.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';

const suffix = randomBytes(3).toString('hex');
const APP_NS = `rec-attack-apps-${suffix}`;
const POLICY_NS = `rec-attack-policies-${suffix}`;
const MiB = 1024 * 1024;
const BOUND = 32 * MiB;

let gw: TestGateway;
let token = '';
let kubeconfig = '';

interface SessionRecord {
  stage: string; kind: string;
  objectRef?: { subresource?: string; name?: string };
  session?: { recording?: { file: string }; recordingError?: string; ports?: string[] };
}

async function sessions(subresource: string, pod: string): Promise<SessionRecord[]> {
  const lines = (await readFile(gw.auditFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as SessionRecord);
  return lines.filter((r) => r.kind === 'AuditRecord' && r.stage === 'ResponseComplete' && r.objectRef?.subresource === subresource && r.objectRef.name === pod);
}

interface Upgraded { readonly socket: TLSSocket; readonly status: number; readonly closed: Promise<void>; readonly received: () => Buffer }

/** Opens an upgrade through the gateway on a raw TLS socket, as a client of our own making would. */
async function upgrade(path: string, headers: Readonly<Record<string, string>>): Promise<Upgraded> {
  const url = new URL(gw.url);
  const socket = connect({ host: url.hostname, port: Number(url.port), ca: await readFile(gw.caFile), servername: 'localhost' });
  const closed = new Promise<void>((resolve) => { socket.once('close', () => { resolve(); }); });
  socket.on('error', () => undefined);
  let data = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => { data = Buffer.concat([data, chunk]); });
  await new Promise<void>((resolve) => { socket.once('secureConnect', () => { resolve(); }); });
  const lines = Object.entries({ Host: url.host, Authorization: `Bearer ${token}`, Connection: 'Upgrade', ...headers }).map(([k, v]) => `${k}: ${v}`);
  socket.write(`GET ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
  await expect.poll(() => data.indexOf('\r\n\r\n'), { timeout: 15_000 }).toBeGreaterThan(0);
  const end = data.indexOf('\r\n\r\n') + 4;
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(data.subarray(0, end).toString())?.[1]);
  return { socket, status, closed, received: () => data.subarray(end) };
}

/** Writes `bytes` in 64 KiB pieces, waiting for each to drain, so this side's buffers stay small. */
async function send(socket: TLSSocket, bytes: Buffer): Promise<void> {
  for (let offset = 0; offset < bytes.length; offset += 65_536) {
    if (socket.destroyed) return;
    if (!socket.write(bytes.subarray(offset, offset + 65_536))) {
      await new Promise<void>((resolve) => { socket.once('drain', resolve); socket.once('close', resolve); });
    }
  }
}

/** The process's peak resident memory (VmHWM) since it was last reset, in bytes. */
const peakRss = async (): Promise<number> => 1024 * Number(/VmHWM:\s+(\d+)/.exec(await readFile('/proc/self/status', 'utf8'))?.[1]);

/**
 * How far the process's resident memory peaked during `attack` above where it was before. The
 * peak is reset first (Linux: 5 into /proc/self/clear_refs), so that an earlier peak of this
 * process does not count; getrusage's maxRSS cannot be reset. The peak catches what a reader
 * allocates and frees within one chunk, which sampling between chunks would miss.
 */
async function peakGrowth(attack: () => Promise<void>): Promise<number> {
  await writeFile('/proc/self/clear_refs', '5');
  const before = process.memoryUsage().rss;
  expect(await peakRss()).toBeLessThan(before + MiB);
  await attack();
  return (await peakRss()) - before;
}

const execPath = (pod: string): string => `/api/v1/namespaces/${APP_NS}/pods/${pod}/exec?command=cat&stdin=true&stdout=true&stderr=true`;
const websocketExec = { Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), 'Sec-WebSocket-Protocol': 'v5.channel.k8s.io' };

/** The audit's flood: a stdin message begun, then 2,000,000 empty continuation frames (11.4 MiB). */
function flood(): Buffer {
  const empty = wsFrame(OPCODE.continuation, Buffer.alloc(0), { fin: false, masked: true });
  return Buffer.concat([wsFrame(OPCODE.binary, Buffer.from([0]), { fin: false, masked: true }), ...Array<Buffer>(2_000_000).fill(empty)]);
}

/** A SYN_STREAM whose header block (one header, `x`, of NULs) inflates to `bytes`: 64 MiB from 64 KiB. */
function bombFrame(bytes: number): Buffer {
  const plain = Buffer.alloc(bytes);
  plain.writeUInt32BE(1, 0);
  plain.writeUInt32BE(1, 4);
  plain.write('x', 8);
  plain.writeUInt32BE(bytes - 13, 9);
  const block = deflateSync(plain, { dictionary: SPDY3_HEADER_DICTIONARY, finishFlush: constants.Z_SYNC_FLUSH });
  const head = Buffer.alloc(18);
  head.writeUInt32BE(0x80030001, 0);
  head.writeUInt32BE(10 + block.length, 4);
  head.writeUInt32BE(1, 8);
  return Buffer.concat([head, block]);
}

beforeAll(async () => {
  await installCrds();
  for (const ns of [POLICY_NS, APP_NS]) await kubectlOk(['create', 'namespace', ns]);
  await kubectlOk(['create', 'serviceaccount', 'attacker'], { namespace: APP_NS });
  await kubectlOk(['create', 'rolebinding', 'attacker-edit', '--clusterrole=edit', `--serviceaccount=${APP_NS}:attacker`], { namespace: APP_NS });
  await kubectlOk(['apply', '-f', '-'], { input: stringify({
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'sessions', namespace: POLICY_NS },
    spec: {
      subjects: [{ serviceAccount: { namespace: APP_NS, name: 'attacker' } }],
      rules: [
        { name: 'strict-recorded', match: { verbs: ['create', 'get'], resources: ['pods/exec'], namespaces: [APP_NS], names: ['strict'] }, action: 'Allow', recording: 'Required' },
        { name: 'apps', match: { namespaces: [APP_NS] }, action: 'Allow' },
        { name: 'discovery', match: { nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/version'] }, action: 'Allow' },
      ],
    },
  }) });
  for (const pod of ['strict', 'free']) await kubectlOk(['run', pod, '--image=busybox', '--restart=Never', '--', 'sleep', '3600'], { namespace: APP_NS });
  for (const pod of ['strict', 'free']) await kubectlOk(['wait', '--for=condition=Ready', `pod/${pod}`, '--timeout=60s'], { namespace: APP_NS });
  gw = await startTestGateway({ name: 'rec-attack', policyNamespace: POLICY_NS });
  token = (await kubectlOk(['create', 'token', 'attacker', '--duration=1h'], { namespace: APP_NS })).trim();
  kubeconfig = await gw.kubeconfigFor(token, 'attacker');
}, 120_000);

afterAll(async () => {
  await gw.stop();
  await kubectl(['delete', 'namespace', POLICY_NS, APP_NS, '--wait=false']);
});

describe('session readers under attack, through a running gateway', () => {
  // First: a test's peak is measured against the memory the process holds before it, and memory
  // an earlier attack made the old readers take (freed, but kept by the allocator) would hide it.
  it('a SPDY port-forward whose header block inflates to 64 MiB is ended, memory bounded', async () => {
    const session = await upgrade(`/api/v1/namespaces/${APP_NS}/pods/free/portforward`, { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'portforward.k8s.io' });
    expect(session.status).toBe(101);
    const bomb = bombFrame(64 * MiB);
    const growth = await peakGrowth(() => send(session.socket, bomb));
    expect(growth).toBeLessThan(BOUND);
    await session.closed;
    await expect.poll(async () => (await sessions('portforward', 'free')).length, { timeout: 20_000 }).toBe(1);
  });

  it('an Optional exec flooded with empty continuation frames runs on unrecorded, and memory stays bounded', async () => {
    const bytes = flood();
    const session = await upgrade(execPath('free'), websocketExec);
    expect(session.status).toBe(101);
    const growth = await peakGrowth(() => send(session.socket, bytes));
    expect(growth).toBeLessThan(BOUND);
    // The session still runs: the message ends, and what is typed next comes back from cat.
    await send(session.socket, Buffer.concat([
      wsFrame(OPCODE.continuation, Buffer.alloc(0), { masked: true }),
      wsFrame(OPCODE.binary, Buffer.from('\u0000after the flood\n'), { masked: true }),
    ]));
    await expect.poll(() => Buffer.concat(new WebSocketReader().push(session.received()).map((m) => m.payload)).toString(), { timeout: 15_000 })
      .toContain('after the flood');
    session.socket.end();
    await expect.poll(async () => (await sessions('exec', 'free')).at(-1)?.session?.recordingError, { timeout: 20_000 })
      .toMatch(/could not be read: a WebSocket message in more than 16384 fragments/);
  });

  it('a Required exec flooded with empty continuation frames is ended by the gateway', async () => {
    const bytes = flood();
    const session = await upgrade(execPath('strict'), websocketExec);
    expect(session.status).toBe(101);
    const growth = await peakGrowth(() => send(session.socket, bytes));
    expect(growth).toBeLessThan(BOUND);
    await session.closed;
    await expect.poll(async () => (await sessions('exec', 'strict')).at(-1)?.session?.recordingError, { timeout: 20_000 })
      .toMatch(/a WebSocket message in more than 16384 fragments/);
  });

  it('a SPDY exec whose header block inflates to 64 MiB is not inflated past 1 MiB; the record says why', async () => {
    const bomb = bombFrame(64 * MiB);
    for (const pod of ['free', 'strict']) {
      const session = await upgrade(execPath(pod), { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' });
      expect(session.status).toBe(101);
      const growth = await peakGrowth(() => send(session.socket, bomb));
      expect(growth).toBeLessThan(BOUND);
      session.socket.end();
      await session.closed;
      await expect.poll(async () => (await sessions('exec', pod)).at(-1)?.session?.recordingError, { timeout: 20_000 })
        .toMatch(/a SPDY header block inflates to more than 1048576 bytes/);
    }
  });

  it('still serves and records afterwards', async () => {
    const before = (await sessions('exec', 'strict')).length;
    const result = await kubectl(['exec', 'strict', '-n', APP_NS, '--', 'echo', 'still here'], { kubeconfig });
    expect(result).toMatchObject({ code: 0, stdout: 'still here\n' });
    await expect.poll(async () => (await sessions('exec', 'strict')).length, { timeout: 20_000 }).toBe(before + 1);
    const record = (await sessions('exec', 'strict')).at(-1);
    expect(record?.session?.recording?.file).toBeDefined();
    expect(record?.session?.recordingError).toBeUndefined();
  });
});
