// The limits a hostile client meets, attacked over the wire against a running gateway on the real
// control plane: slow TLS handshakes, slow headers, trickled and stalled bodies, idle keep-alive
// connections, too many connections, too many requests from one caller, and many large bodies at
// audit level Request. Every timeout is configured short (1 to 3 s) and checked with wide margins
// (a cut must come within 15 s; the defaults are 10 to 65 s), so a loaded machine does not make
// these flaky; no assertion is about speed. A watch is kept open past every timeout to show that
// long-running requests are not cut.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk } from './support/kubectl.ts';
import { CI_CLIENT, OTHER_CI_CLIENT, startTestGateway, type TestGateway } from './support/gateway.ts';

const suffix = randomBytes(3).toString('hex');
const POLICY_NS = `airlock-limits-${suffix}`;
const APP_NS = `limits-app-${suffix}`;
const CUT_WITHIN_MS = 15_000;

let ca: Buffer;
let tokenA = '';
let tokenB = '';

beforeAll(async () => {
  await installCrds();
  for (const ns of [POLICY_NS, APP_NS]) await kubectlOk(['create', 'namespace', ns]);
  // RBAC for both CI identities in the app namespace (the gateways allow by default: RBAC decides).
  await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [CI_CLIENT, OTHER_CI_CLIENT].map((c) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: `edit-${c.clientId}`, namespace: APP_NS },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: `oidc:${c.clientId}` }],
  })) }) });
}, 120_000);

afterAll(async () => {
  await kubectl(['delete', 'namespace', POLICY_NS, APP_NS, '--wait=false']);
});

async function gateway(name: string, options: { limits: Record<string, unknown>; auditLevel?: 'Metadata' | 'Request' }): Promise<TestGateway> {
  const gw = await startTestGateway({ name: `${name}-${suffix}`, policyNamespace: POLICY_NS, defaultAction: 'Allow', ...options });
  ca = await readFile(gw.caFile);
  tokenA = await gw.oidc.token(CI_CLIENT.clientId);
  tokenB = await gw.oidc.token(OTHER_CI_CLIENT.clientId);
  return gw;
}

/** A raw connection to the gateway, to send exactly the bytes an attacker would. */
interface Raw {
  readonly socket: Socket;
  /** Everything received so far. */
  text(): string;
  /** Whether the gateway closed the connection within `ms`. */
  closedWithin(ms: number): Promise<boolean>;
  /** Resolves once the received text matches, or rejects after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<void>;
  readonly closed: () => boolean;
}

function wrap(socket: Socket): Raw {
  let text = '';
  let closed = false;
  const listeners = new Set<() => void>();
  const notify = (): void => { for (const l of listeners) l(); };
  socket.on('data', (d: Buffer) => { text += d.toString('latin1'); notify(); });
  socket.on('error', () => undefined);
  socket.on('close', () => { closed = true; notify(); });
  const until = (done: () => boolean, ms: number): Promise<boolean> => new Promise((resolve) => {
    if (done()) { resolve(true); return; }
    const check = (): void => { if (done()) { finish(true); } };
    const timer = setTimeout(() => { finish(false); }, ms);
    const finish = (result: boolean): void => { clearTimeout(timer); listeners.delete(check); resolve(result); };
    listeners.add(check);
  });
  return {
    socket,
    text: () => text,
    closed: () => closed,
    closedWithin: (ms) => until(() => closed, ms),
    waitFor: async (pattern, ms = CUT_WITHIN_MS) => {
      if (!await until(() => pattern.test(text), ms)) throw new Error(`not received within ${ms} ms: ${pattern}; got ${JSON.stringify(text.slice(0, 400))}`);
    },
  };
}

/** A TLS connection, resolved once the handshake is done (or undefined if the gateway closed it first). */
function openTls(gw: TestGateway, localAddress = '127.0.0.1'): Promise<Raw | undefined> {
  const url = new URL(gw.url);
  return new Promise((resolve) => {
    const socket = connectTls({ socket: connectTcp({ host: url.hostname, port: Number(url.port), localAddress }), host: url.hostname, ca });
    socket.once('secureConnect', () => { resolve(wrap(socket)); });
    socket.once('error', () => { resolve(undefined); });
    socket.once('close', () => { resolve(undefined); });
  });
}

function openTcp(gw: TestGateway): Promise<Raw> {
  const url = new URL(gw.url);
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host: url.hostname, port: Number(url.port) }, () => { resolve(wrap(socket)); });
    socket.once('error', reject);
  });
}

function head(method: string, path: string, token: string, extra: Record<string, string | number> = {}): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: gateway', `Authorization: Bearer ${token}`, ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`)];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

interface Answer { readonly status: number; readonly headers: Record<string, string | string[] | undefined>; readonly body: string }

/** One request over its own connection. */
function call(gw: TestGateway, token: string, options: { method?: string; path: string; body?: string; headers?: Record<string, string> }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(options.path, gw.url);
    const req = request(url, {
      method: options.method ?? 'GET', ca, agent: false,
      headers: { authorization: `Bearer ${token}`, ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body }); });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The gateway's refusal counter for one limit, read from its /metrics endpoint. */
async function refusals(gw: TestGateway, limit: string): Promise<number> {
  const text = await (await fetch(`${gw.healthUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`airlock_gateway_limit_refusals_total{limit="${limit}"}`));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

const configMap = (name: string, size = 10): string => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v: 'x'.repeat(size) } });

async function configMapExists(name: string): Promise<boolean> {
  return (await kubectl(['get', 'configmap', name, '-n', APP_NS])).code === 0;
}

describe('timeouts: handshakes, headers, bodies and idle connections are bounded; watches are not cut', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await gateway('limits-time', { limits: {
      tlsHandshakeTimeoutSeconds: 1, headersTimeoutSeconds: 1, idleTimeoutSeconds: 1, requestBodyTimeoutSeconds: 3, requestBodyIdleTimeoutSeconds: 1,
    } });
  }, 120_000);
  afterAll(async () => { await gw.stop(); });

  it('closes a TLS handshake that never finishes (a ClientHello trickled a byte at a time)', async () => {
    const raw = await openTcp(gw);
    // The first bytes of a TLS 1.2+ ClientHello record; the rest never comes in time.
    const hello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);
    let sent = 0;
    const trickle = setInterval(() => { if (!raw.closed() && sent < hello.length) raw.socket.write(hello.subarray(sent, ++sent)); }, 300);
    try {
      expect(await raw.closedWithin(CUT_WITHIN_MS)).toBe(true);
    } finally {
      clearInterval(trickle);
    }
    expect(await refusals(gw, 'tls-handshake-timeout')).toBeGreaterThanOrEqual(1);
  });

  it('closes a connection whose headers trickle in (slowloris), answering 408', async () => {
    const raw = await openTls(gw);
    if (raw === undefined) throw new Error('no connection');
    raw.socket.write(`GET /api/v1/namespaces/${APP_NS}/configmaps HTTP/1.1\r\nHost: gateway\r\n`);
    const trickle = setInterval(() => { if (!raw.closed()) raw.socket.write(`X-Slow-${Date.now()}: a\r\n`); }, 200);
    try {
      expect(await raw.closedWithin(CUT_WITHIN_MS)).toBe(true);
    } finally {
      clearInterval(trickle);
    }
    expect(raw.text()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a connection that sends nothing after its handshake', async () => {
    const raw = await openTls(gw);
    expect(await raw?.closedWithin(CUT_WITHIN_MS)).toBe(true);
    expect(await refusals(gw, 'headers-timeout')).toBeGreaterThanOrEqual(2);
  });

  it('cuts a body that keeps trickling past the body deadline with a 408 Status; nothing is created', async () => {
    const raw = await openTls(gw);
    if (raw === undefined) throw new Error('no connection');
    const body = configMap('trickled');
    raw.socket.write(head('POST', `/api/v1/namespaces/${APP_NS}/configmaps`, tokenA, { 'Content-Type': 'application/json', 'Content-Length': body.length }));
    // A byte every 300 ms: never idle for a second, but never done within three.
    let sent = 0;
    const trickle = setInterval(() => { if (!raw.closed() && sent < body.length - 1) raw.socket.write(body.slice(sent, ++sent)); }, 300);
    try {
      expect(await raw.closedWithin(CUT_WITHIN_MS)).toBe(true);
    } finally {
      clearInterval(trickle);
    }
    expect(raw.text()).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(raw.text().split('\r\n\r\n')[1] ?? '')).toMatchObject({ kind: 'Status', code: 408, reason: 'Timeout', message: expect.stringContaining('limits.requestBodyTimeoutSeconds') as unknown });
    expect(await configMapExists('trickled')).toBe(false);
    expect(await refusals(gw, 'request-body-timeout')).toBe(1);
  });

  it('cuts a body that stops halfway after the idle gap', async () => {
    const raw = await openTls(gw);
    if (raw === undefined) throw new Error('no connection');
    const body = configMap('stalled');
    raw.socket.write(head('POST', `/api/v1/namespaces/${APP_NS}/configmaps`, tokenA, { 'Content-Type': 'application/json', 'Content-Length': body.length }) + body.slice(0, 20));
    expect(await raw.closedWithin(CUT_WITHIN_MS)).toBe(true);
    expect(raw.text()).toMatch(/^HTTP\/1\.1 408 /);
    expect(raw.text()).toContain('limits.requestBodyIdleTimeoutSeconds');
    expect(await configMapExists('stalled')).toBe(false);
  });

  it('cuts an unauthenticated body that trickles on after its 401 (the gateway would otherwise drain it forever)', async () => {
    const raw = await openTls(gw);
    if (raw === undefined) throw new Error('no connection');
    raw.socket.write(head('POST', `/api/v1/namespaces/${APP_NS}/configmaps`, 'not-a-token', { 'Content-Length': 1_000_000 }));
    const trickle = setInterval(() => { if (!raw.closed()) raw.socket.write('x'); }, 300);
    try {
      await raw.waitFor(/^HTTP\/1\.1 401 /);
      expect(await raw.closedWithin(CUT_WITHIN_MS)).toBe(true);
    } finally {
      clearInterval(trickle);
    }
  });

  it('closes a keep-alive connection left idle after its answer', async () => {
    const raw = await openTls(gw);
    if (raw === undefined) throw new Error('no connection');
    raw.socket.write(head('GET', '/version', tokenA));
    await raw.waitFor(/^HTTP\/1\.1 200 /);
    expect(await raw.closedWithin(CUT_WITHIN_MS)).toBe(true);
  });

  it('keeps a watch open past every timeout (on a connection that served a request first) and delivers its events', async () => {
    const raw = await openTls(gw);
    if (raw === undefined) throw new Error('no connection');
    const cutsBefore = await refusals(gw, 'request-body-idle-timeout') + await refusals(gw, 'request-body-timeout') + await refusals(gw, 'headers-timeout');
    raw.socket.write(head('GET', '/version', tokenA));
    await raw.waitFor(/"gitVersion"/);
    raw.socket.write(head('GET', `/api/v1/namespaces/${APP_NS}/configmaps?watch=true&allowWatchBookmarks=false`, tokenA));
    await raw.waitFor(/HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 200 /);
    // Six seconds: twice the longest configured timeout (3 s), with no byte in either direction.
    expect(await raw.closedWithin(6_000)).toBe(false);
    await kubectlOk(['create', 'configmap', 'after-the-timeouts', '-n', APP_NS, '--from-literal=k=v']);
    await raw.waitFor(/"name":"after-the-timeouts"/);
    expect(raw.closed()).toBe(false);
    const cutsAfter = await refusals(gw, 'request-body-idle-timeout') + await refusals(gw, 'request-body-timeout') + await refusals(gw, 'headers-timeout');
    expect(cutsAfter).toBe(cutsBefore);
    raw.socket.destroy();
  });
});

describe('long-running sessions are not cut by the timeouts', () => {
  let gw: TestGateway;
  let kubeconfig = '';
  beforeAll(async () => {
    gw = await gateway('limits-exec', { limits: { headersTimeoutSeconds: 1, idleTimeoutSeconds: 1, requestBodyTimeoutSeconds: 2, requestBodyIdleTimeoutSeconds: 1 } });
    kubeconfig = await gw.kubeconfigFor(tokenA, 'ci');
    await kubectlOk(['run', 'quiet', '--image=busybox', '--restart=Never', '--', 'sleep', '3600'], { namespace: APP_NS });
    await kubectlOk(['wait', '--for=condition=Ready', 'pod/quiet', '--timeout=60s'], { namespace: APP_NS });
  }, 120_000);
  afterAll(async () => { await gw.stop(); });

  it.each([
    ['WebSocket', {}],
    ['SPDY', { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' }],
  ])('keeps a silent kubectl exec over %s open past every timeout', async (_protocol, env) => {
    // Five silent seconds: more than twice each configured timeout.
    const result = await kubectl(['exec', 'quiet', '-n', APP_NS, '--', 'sh', '-c', 'sleep 5; echo still here'], { kubeconfig, env });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('still here');
    expect(result.code).toBe(0);
  });
});

describe('connection caps: over a cap a connection is closed at accept; open ones keep working', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await gateway('limits-conn', { limits: { maxConnections: 4, maxConnectionsPerClientIP: 2 } });
  }, 120_000);
  afterAll(async () => { await gw.stop(); });

  it('refuses a third connection from one address and a fifth in all, while the others are served', async () => {
    const first = await openTls(gw, '127.0.0.1');
    const second = await openTls(gw, '127.0.0.1');
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(await openTls(gw, '127.0.0.1')).toBeUndefined();
    const third = await openTls(gw, '127.0.0.2');
    const fourth = await openTls(gw, '127.0.0.3');
    expect(third).toBeDefined();
    expect(fourth).toBeDefined();
    expect(await openTls(gw, '127.0.0.4')).toBeUndefined();
    // Connections already open are still served, on each address.
    for (const raw of [first, second, third, fourth]) {
      raw?.socket.write(head('GET', '/version', tokenA));
      await raw?.waitFor(/^HTTP\/1\.1 200 [\s\S]*"gitVersion"/);
    }
    expect(await refusals(gw, 'connections-per-ip')).toBe(1);
    expect(await refusals(gw, 'connections')).toBe(1);
    // A closed connection frees its place.
    first?.socket.destroy();
    await first?.closedWithin(5_000);
    let again: Raw | undefined;
    for (let i = 0; i < 50 && again === undefined; i += 1) {
      again = await openTls(gw, '127.0.0.1');
      if (again === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(again).toBeDefined();
    for (const raw of [second, third, fourth, again]) raw?.socket.destroy();
  });
});

/** Polls the gateway's audit file until `count` RequestReceived records have a URI containing `marker`. */
/** A watch of the app namespace as `token`, retried while the caller's earlier watches are still being released (429). */
async function openWatch(gw: TestGateway, token: string): Promise<Raw> {
  for (let i = 0; i < 50; i += 1) {
    const raw = await openTls(gw);
    if (raw === undefined) throw new Error('no connection');
    raw.socket.write(head('GET', `/api/v1/namespaces/${APP_NS}/configmaps?watch=true`, token));
    await raw.waitFor(/^HTTP\/1\.1 \d+ /);
    if (/^HTTP\/1\.1 200 /.test(raw.text())) return raw;
    raw.socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the watch was refused for five seconds');
}

describe('per-caller caps: 429 with Retry-After for the caller over its cap, others served', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await gateway('limits-caller', { auditLevel: 'Metadata', limits: { perCaller: { maxRequestsInflight: 2, maxLongRunningRequests: 2 } } });
  }, 120_000);
  afterAll(async () => { await gw.stop(); });

  it('refuses a caller\'s third request in flight, serves another caller, and serves the first again once one ends', async () => {
    const held: { raw: Raw; rest: string }[] = [];
    for (const name of ['held-1', 'held-2']) {
      const raw = await openTls(gw);
      if (raw === undefined) throw new Error('no connection');
      const body = configMap(name);
      // Headers and half a body: the request is admitted and stays in flight while the gateway
      // reads the rest (every write body is read whole before forwarding, for the mask-placeholder
      // check, within the body budget).
      raw.socket.write(head('POST', `/api/v1/namespaces/${APP_NS}/configmaps?fieldManager=${name}`, tokenA, { 'Content-Type': 'application/json', 'Content-Length': body.length }) + body.slice(0, 20));
      held.push({ raw, rest: body.slice(20) });
    }
    const expected = held.reduce((sum, h) => sum + 20 + h.rest.length, 0);
    await expect.poll(() => gw.running.bodyBuffer.reservedBytes, { timeout: 15_000, interval: 100 }).toBe(expected);

    const refused = await call(gw, tokenA, { path: `/api/v1/namespaces/${APP_NS}/configmaps` });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.body)).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', code: 429, details: { retryAfterSeconds: 1 }, message: expect.stringContaining('limits.perCaller.maxRequestsInflight') as unknown });
    expect((await call(gw, tokenB, { path: `/api/v1/namespaces/${APP_NS}/configmaps` })).status).toBe(200);

    // Its watches are counted apart: the caller at its request cap can still watch.
    const watch = await openTls(gw);
    watch?.socket.write(head('GET', `/api/v1/namespaces/${APP_NS}/configmaps?watch=true`, tokenA));
    await watch?.waitFor(/^HTTP\/1\.1 200 /);

    const first = held[0];
    first?.raw.socket.write(first.rest);
    await first?.raw.waitFor(/^HTTP\/1\.1 201 /);
    expect((await call(gw, tokenA, { path: `/api/v1/namespaces/${APP_NS}/configmaps` })).status).toBe(200);
    expect(await refusals(gw, 'caller-requests')).toBe(1);
    for (const h of held) h.raw.socket.destroy();
    watch?.socket.destroy();
  });

  it('refuses a caller\'s third long-running request, an exec upgrade included, with 429 and Retry-After', async () => {
    // The previous test's watch may take a moment to be seen closed and free its slot.
    const watches = [await openWatch(gw, tokenA), await openWatch(gw, tokenA)];
    const third = await call(gw, tokenA, { path: `/api/v1/namespaces/${APP_NS}/configmaps?watch=true` });
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toBe('1');
    expect(third.body).toContain('limits.perCaller.maxLongRunningRequests');

    const upgrade = await openTls(gw);
    upgrade?.socket.write(head('GET', `/api/v1/namespaces/${APP_NS}/pods/nope/exec?command=ls&stdout=true`, tokenA, {
      Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': 13, 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), 'Sec-WebSocket-Protocol': 'v5.channel.k8s.io',
    }));
    await upgrade?.waitFor(/^HTTP\/1\.1 429 Too Many Requests\r\n[\s\S]*Retry-After: 1\r\n[\s\S]*"TooManyRequests"/i);
    // Ordinary requests of the same caller are still served, and so are the other caller's watches.
    expect((await call(gw, tokenA, { path: `/api/v1/namespaces/${APP_NS}/configmaps` })).status).toBe(200);
    const other = await openTls(gw);
    other?.socket.write(head('GET', `/api/v1/namespaces/${APP_NS}/configmaps?watch=true`, tokenB));
    await other?.waitFor(/^HTTP\/1\.1 200 /);
    // A watch that ends frees its slot.
    watches[0]?.socket.destroy();
    const again = await openWatch(gw, tokenA);
    expect(await refusals(gw, 'caller-long-running')).toBeGreaterThanOrEqual(2);
    for (const raw of [...watches, other, upgrade, again]) raw?.socket.destroy();
  });
});

describe('bodies: a size cap at every audit level and a memory budget for bodies held whole', () => {
  const MiB = 1024 * 1024;
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await gateway('limits-body', { auditLevel: 'Request', limits: {
      maxRequestBodyBytes: MiB, requestBodyBufferBytes: 3 * MiB, requestBodyBufferWaitSeconds: 2, requestBodyTimeoutSeconds: 60, requestBodyIdleTimeoutSeconds: 60,
    } });
  }, 120_000);
  afterAll(async () => { await gw.stop(); });

  it('holds at most its budget of concurrent large bodies at audit level Request, refuses the rest with 429, and serves the held ones', async () => {
    const size = 900 * 1024;
    const clients: { raw: Raw; body: string; name: string }[] = [];
    for (let i = 0; i < 8; i += 1) {
      const raw = await openTls(gw);
      if (raw === undefined) throw new Error('no connection');
      const name = `large-${i}`;
      const body = configMap(name, size);
      raw.socket.write(head('POST', `/api/v1/namespaces/${APP_NS}/configmaps`, tokenA, { 'Content-Type': 'application/json', 'Content-Length': body.length }) + body.slice(0, 1024));
      clients.push({ raw, body, name });
    }
    // Three fit in 3 MiB; the other five wait two seconds for room that does not come.
    for (let i = 0; i < 300 && clients.filter((c) => /^HTTP\/1\.1 429 /.test(c.raw.text())).length < 5; i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    const refused = clients.filter((c) => /^HTTP\/1\.1 429 /.test(c.raw.text()));
    const holding = clients.filter((c) => !refused.includes(c));
    expect(refused).toHaveLength(5);
    for (const c of refused) {
      expect(c.raw.text()).toMatch(/retry-after: 1\r\n/i);
      expect(c.raw.text()).toContain('limits.requestBodyBufferBytes');
    }
    expect(gw.running.bodyBuffer.reservedBytes).toBe(holding.reduce((n, c) => n + c.body.length, 0));
    const metrics = await (await fetch(`${gw.healthUrl}/metrics`)).text();
    expect(metrics).toContain(`airlock_gateway_request_body_buffer_bytes ${gw.running.bodyBuffer.reservedBytes}`);

    for (const c of holding) c.raw.socket.write(c.body.slice(1024));
    for (const c of holding) await c.raw.waitFor(/^HTTP\/1\.1 201 /, 30_000);
    for (const c of holding) expect(await configMapExists(c.name)).toBe(true);
    for (const c of refused) expect(await configMapExists(c.name)).toBe(false);
    expect(gw.running.bodyBuffer.peakBytes).toBeLessThanOrEqual(3 * MiB);
    expect(gw.running.bodyBuffer.peakBytes).toBeGreaterThanOrEqual(3 * size);
    for (let i = 0; i < 50 && gw.running.bodyBuffer.reservedBytes > 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(gw.running.bodyBuffer.reservedBytes).toBe(0);
    expect(await refusals(gw, 'request-body-buffer')).toBe(5);
    for (const c of clients) c.raw.socket.destroy();
  });

  it('refuses with 413 a body that declares more than the cap, before reading it', async () => {
    const answer = await new Promise<Raw>((resolve, reject) => {
      void openTls(gw).then((raw) => {
        if (raw === undefined) { reject(new Error('no connection')); return; }
        raw.socket.write(head('POST', `/api/v1/namespaces/${APP_NS}/configmaps`, tokenA, { 'Content-Type': 'application/json', 'Content-Length': 2 * MiB }));
        resolve(raw);
      });
    });
    await answer.waitFor(/^HTTP\/1\.1 413 [\s\S]*"RequestEntityTooLarge"/);
    expect(answer.text()).toContain('limits.maxRequestBodyBytes');
    answer.socket.destroy();
  });

  it('refuses with 413 a chunked body that grows past the cap (its size is counted as it arrives)', async () => {
    const body = configMap('chunked-large', Math.floor(1.5 * MiB));
    const answer = await call(gw, tokenA, { method: 'POST', path: `/api/v1/namespaces/${APP_NS}/configmaps`, body, headers: { 'transfer-encoding': 'chunked' } }).catch((error: unknown) => error);
    // The gateway may answer before the client has sent everything; either way nothing is created.
    if (!(answer instanceof Error)) {
      expect((answer as Answer).status).toBe(413);
    }
    expect(await configMapExists('chunked-large')).toBe(false);
    expect(await refusals(gw, 'request-body-size')).toBeGreaterThanOrEqual(1);
  });
});

describe('body size cap at audit level Metadata (writes held within the budget for the placeholder check)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await gateway('limits-meta', { auditLevel: 'Metadata', limits: { maxRequestBodyBytes: 64 * 1024, requestBodyBufferBytes: 1024 * 1024 } });
  }, 120_000);
  afterAll(async () => { await gw.stop(); });

  it('refuses a declared body over the cap with 413 and forwards one under it', async () => {
    const over = await call(gw, tokenA, { method: 'POST', path: `/api/v1/namespaces/${APP_NS}/configmaps`, body: configMap('meta-over', 70 * 1024) });
    expect(over.status).toBe(413);
    expect(JSON.parse(over.body)).toMatchObject({ kind: 'Status', reason: 'RequestEntityTooLarge', code: 413 });
    expect(await configMapExists('meta-over')).toBe(false);
    const under = await call(gw, tokenA, { method: 'POST', path: `/api/v1/namespaces/${APP_NS}/configmaps`, body: configMap('meta-under', 60 * 1024) });
    expect(under.status).toBe(201);
    // A write body is held whole (for the mask-placeholder check), within the budget: exactly its
    // declared size was reserved, never the refused one's.
    expect(gw.running.bodyBuffer.peakBytes).toBe(Buffer.byteLength(configMap('meta-under', 60 * 1024)));
  });

  it.each(['POST', 'DELETE'])('refuses a chunked %s body over the cap with 413 (a body of unknown size is counted as it arrives)', async (method) => {
    const name = `chunked-${method.toLowerCase()}`;
    await kubectlOk(['create', 'configmap', name, '-n', APP_NS]);
    const path = method === 'POST' ? `/api/v1/namespaces/${APP_NS}/configmaps` : `/api/v1/namespaces/${APP_NS}/configmaps/${name}`;
    const body = method === 'POST' ? configMap(`${name}-new`, 70 * 1024) : JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', padding: 'x'.repeat(70 * 1024) });
    const answer = await call(gw, tokenA, { method, path, body, headers: { 'transfer-encoding': 'chunked' } });
    expect(answer.status).toBe(413);
    expect(answer.body).toContain('limits.maxRequestBodyBytes');
    expect(await configMapExists(name)).toBe(true);
    expect(await configMapExists(`${name}-new`)).toBe(false);
  });
});
