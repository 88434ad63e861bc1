// Forwarding mechanics against a real TLS server on loopback standing in for the upstream: repeated
// headers stay repeated, responses stream chunk by chunk, upgrades of any protocol are relayed, a
// failed final audit cuts the response, and an unreachable upstream becomes a clean 503.
import { createServer as createHttpsServer, type Server } from 'node:https';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { mkdtemp, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePki, issueServingCertificate } from '../../hack/controlplane/pki.ts';
import { createUpstream, type Upstream } from '../upstream/upstream-client.ts';
import { forwardHttp, type ForwardOutcome } from './http-forward.ts';
import type { BodyRewriter } from './body-relay.ts';
import { forwardUpgrade } from './upgrade-forward.ts';

let upstreamServer: Server;
let upstream: Upstream;
let front: HttpServer;
let frontUrl = '';
let beforeEndResult: 'ok' | 'fail' = 'ok';
let streamEnded = false;
const seen: { headers: string[]; method: string }[] = [];
const held: ServerResponse[] = [];
let upstreamPort = 0;
let upstreamCa = '';
let bigWritten = 0;
const outcomes: ({ url: string } & ForwardOutcome)[] = [];

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-fwd-'));
  const pki = await ensurePki({ dir, servingIps: [] });
  const cert = await issueServingCertificate(pki, 'upstream', { ips: ['127.0.0.1'] });
  upstreamServer = createHttpsServer({ cert: await readFile(cert.cert), key: await readFile(cert.key) }, (req, res) => {
    seen.push({ headers: req.rawHeaders, method: req.method ?? '' });
    if (req.url === '/hold') {
      // A watch that stays open until the test lets it go.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"ADDED"}\n');
      held.push(res);
      return;
    }
    if (req.url === '/slow') {
      setTimeout(() => { if (!res.destroyed) res.writeHead(200).end('late'); }, 1500);
      return;
    }
    if (req.url === '/stream') {
      streamEnded = false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"ADDED"}\n');
      setTimeout(() => { res.write('{"type":"MODIFIED"}\n'); }, 200);
      setTimeout(() => { streamEnded = true; res.end(); }, 400);
      return;
    }
    if (req.url?.startsWith('/many') === true) {
      // The way the API server streams a large LIST: one small HTTP chunk per object (here in
      // two bursts, so the gateway sees two batches).
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 250; i++) res.write(`{"n":${i}}\n`);
      setTimeout(() => {
        for (let i = 250; i < 500; i++) res.write(`{"n":${i}}\n`);
        res.end();
      }, 50);
      return;
    }
    if (req.url === '/big') {
      // As much as the gateway will take: writes stop when the socket pushes back.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const piece = Buffer.alloc(256 * 1024, 'x');
      const pump = (): void => {
        while (bigWritten < 64 * 1024 * 1024) {
          bigWritten += piece.length;
          if (!res.write(piece)) { res.once('drain', pump); return; }
        }
        res.end();
      };
      pump();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'x-multi': ['a', 'b'] });
    res.end('hello');
  });
  upstreamServer.on('upgrade', (req: IncomingMessage, socket) => {
    seen.push({ headers: req.rawHeaders, method: req.method ?? '' });
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\nConnection: Upgrade\r\n\r\n');
    socket.on('data', (d: Buffer) => socket.write(Buffer.concat([Buffer.from('echo:'), d])));
  });
  await new Promise<void>((r) => upstreamServer.listen(0, '127.0.0.1', r));
  upstreamPort = (upstreamServer.address() as AddressInfo).port;
  upstreamCa = pki.caCert;
  const tokens = { current: () => 'gateway-token', loadedAt: Date.now(), close: () => undefined };
  upstream = createUpstream({ server: `https://127.0.0.1:${(upstreamServer.address() as AddressInfo).port}`, caFile: pki.caCert, tokens });
  front = createHttpServer((req, res) => {
    void forwardHttp({
      req, res, upstream, path: req.url ?? '/', longRunning: req.url === '/stream',
      headers: { 'impersonate-group': ['a', 'b, c'], authorization: 'Bearer gateway-token' },
      fail: (code, message) => { res.writeHead(code).end(message); },
      beforeEnd: () => (beforeEndResult === 'ok' ? Promise.resolve() : Promise.reject(new Error('audit down'))),
      ...(req.url === '/many?rewrite' ? { rewriter: failingRewriter() } : {}),
    }).then((outcome) => { outcomes.push({ url: req.url ?? '', ...outcome }); });
  });
  front.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    void forwardUpgrade({
      req, socket, head, upstream, path: req.url ?? '/',
      headers: { connection: 'Upgrade', upgrade: req.headers.upgrade ?? '', authorization: 'Bearer gateway-token' },
      fail: (code) => { socket.end(`HTTP/1.1 ${code} Unavailable\r\n\r\n`); },
    });
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
});

afterAll(() => {
  front.close();
  upstreamServer.closeAllConnections();
  upstreamServer.close();
});

describe('forwardHttp', () => {
  it('sends each impersonated group as its own header line, never comma-joined', async () => {
    const res = await fetch(`${frontUrl}/plain`);
    expect(await res.text()).toBe('hello');
    const raw = seen.at(-1)?.headers ?? [];
    const groups = raw.filter((_v, i) => i % 2 === 1 && raw[i - 1]?.toLowerCase() === 'impersonate-group');
    expect(groups).toEqual(['a', 'b, c']);
  });

  it('keeps repeated response headers', async () => {
    const res = await fetch(`${frontUrl}/plain`);
    expect(res.headers.get('x-multi')).toBe('a, b');
  });

  it('streams: the first event arrives before the upstream finishes', async () => {
    const res = await fetch(`${frontUrl}/stream`);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(streamEnded).toBe(false);
    expect(new TextDecoder().decode(first.value as Uint8Array)).toBe('{"type":"ADDED"}\n');
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value as Uint8Array);
    expect(rest).toBe('{"type":"MODIFIED"}\n');
    expect(streamEnded).toBe(true);
  });

  it('never lets long-running requests take the short requests\' connections', async () => {
    // A pool of 2: three watches held open, then a short request must still go through.
    const tokens = { current: () => 'gateway-token', loadedAt: Date.now(), close: () => undefined };
    const small = createUpstream({ server: `https://127.0.0.1:${upstreamPort}`, caFile: upstreamCa, tokens, maxSockets: 2 });
    const server = createHttpServer((req, res) => {
      void forwardHttp({
        req, res, upstream: small, path: req.url ?? '/', longRunning: req.url === '/hold', headers: { authorization: 'Bearer gateway-token' },
        fail: (code, message) => { res.writeHead(code).end(message); }, beforeEnd: () => Promise.resolve(),
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const watches = await Promise.all([1, 2, 3].map(async () => {
      const res = await fetch(`${base}/hold`);
      const reader = res.body!.getReader();
      await reader.read();
      return reader;
    }));
    expect(held).toHaveLength(3);
    expect(await (await fetch(`${base}/plain`)).text()).toBe('hello');
    for (const res of held.splice(0)) res.end();
    for (const reader of watches) await reader.cancel();
    server.close();
  });

  it('cuts the response instead of completing it when the final audit record fails', async () => {
    beforeEndResult = 'fail';
    try {
      await expect(fetch(`${frontUrl}/plain`).then((r) => r.text())).rejects.toThrow();
    } finally {
      beforeEndResult = 'ok';
    }
  });
});

/** Upper-cases what it is given, and fails on the second batch (a masking error mid-body). */
function failingRewriter(): BodyRewriter {
  let batches = 0;
  return {
    push: (chunk) => {
      batches += 1;
      if (batches > 1) throw new Error('bad JSON');
      return [Buffer.from(chunk.toString('latin1').toUpperCase(), 'latin1')];
    },
    end: () => [],
  };
}

/** A raw HTTP/1.1 GET; returns the body and how many chunks it came in. */
function rawChunkedGet(url: string): Promise<{ body: string; chunks: number }> {
  const { hostname, port, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => { socket.write(`GET ${pathname}${search} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`); });
    const parts: Buffer[] = [];
    socket.on('data', (d: Buffer) => parts.push(d));
    socket.on('error', reject);
    socket.on('end', () => {
      const raw = Buffer.concat(parts).toString('latin1');
      let at = raw.indexOf('\r\n\r\n') + 4;
      let body = '';
      let chunks = 0;
      for (;;) {
        const line = raw.indexOf('\r\n', at);
        const size = parseInt(raw.slice(at, line), 16);
        if (!(size > 0)) break;
        body += raw.slice(line + 2, line + 2 + size);
        chunks += 1;
        at = line + 2 + size + 2;
      }
      resolve({ body, chunks });
    });
  });
}

describe('forwardHttp, a client that leaves', () => {
  it('drops the upstream request and reports 499, not an upstream failure, when nothing was answered yet', async () => {
    const gone = new AbortController();
    const asked = fetch(`${frontUrl}/slow`, { signal: gone.signal }).catch((e: unknown) => e);
    await expect.poll(() => seen.filter((s) => s.method === 'GET').length > 0).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    gone.abort();
    await asked;
    await expect.poll(() => outcomes.find((o) => o.url === '/slow'), { timeout: 1000 }).toBeDefined();
    const outcome = outcomes.find((o) => o.url === '/slow');
    expect(outcome?.code).toBe(499);
    expect(outcome?.upstreamError).toBeUndefined();
  });
});

describe('forwardHttp, the body relay', () => {
  it('passes a body of many small upstream chunks on in a few large ones, byte for byte', async () => {
    const { body, chunks } = await rawChunkedGet(`${frontUrl}/many`);
    expect(body).toBe(Array.from({ length: 500 }, (_v, i) => `{"n":${i}}\n`).join(''));
    expect(chunks).toBeGreaterThanOrEqual(2);
    expect(chunks).toBeLessThan(20);
  });

  it('cuts the response when the rewriter fails, and never writes the rest unrewritten', async () => {
    const body = await rawChunkedGet(`${frontUrl}/many?rewrite`).then((r) => r.body, () => '');
    // Whatever arrived was rewritten; the response is cut short of the whole body.
    // (The first batch was held back behind the second, so here nothing arrives at all.)
    expect(body).not.toContain('{"n":');
    expect(body.length).toBeLessThan(Array.from({ length: 500 }, (_v, i) => `{"n":${i}}\n`).join('').length);
  });

  it('slows the upstream to a slow client instead of buffering the body', async () => {
    bigWritten = 0;
    const res = await fetch(`${frontUrl}/big`);
    const reader = res.body!.getReader();
    await reader.read();
    // The client reads nothing more; the upstream must soon be unable to write.
    await new Promise((r) => setTimeout(r, 700));
    const whilePaused = bigWritten;
    expect(whilePaused).toBeLessThan(32 * 1024 * 1024);
    let read = 0;
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) read += (chunk.value as Uint8Array).length;
    expect(bigWritten).toBe(64 * 1024 * 1024);
    expect(read).toBeGreaterThan(63 * 1024 * 1024);
  });
});

describe('forwardUpgrade', () => {
  it('relays a SPDY (POST) upgrade and joins the sockets', async () => {
    const port = (front.address() as AddressInfo).port;
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('POST /api/v1/namespaces/ns/pods/p/exec HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n');
      });
      let data = '';
      socket.on('data', (d: Buffer) => {
        data += d.toString();
        if (data.includes('\r\n\r\n') && !data.includes('echo:')) socket.write('ping');
        if (data.includes('echo:ping')) { socket.end(); resolve(data); }
      });
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 101 /);
    expect(reply).toContain('echo:ping');
    expect(seen.at(-1)?.method).toBe('POST');
  });
});

describe('an unreachable upstream', () => {
  it('answers 503 through the fail callback, and nothing hangs', async () => {
    const tokens = { current: () => 't', loadedAt: 0, close: () => undefined };
    const dead = createUpstream({ server: 'https://127.0.0.1:1', tokens });
    const server = createHttpServer((req, res) => {
      void forwardHttp({ req, res, upstream: dead, path: '/', longRunning: false, headers: {}, fail: (code, message) => { res.writeHead(code).end(message); } });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('the Kubernetes API server is unavailable');
    server.close();
  });
});

describe('upstreamTarget', () => {
  const up = { url: new URL('https://10.0.0.1:6443/prefix/') };
  it.each([
    ['/api/v1/pods?watch=1', '/prefix/api/v1/pods?watch=1'],
    ['/\\evil.example/api', '/prefix/\\evil.example/api'],
    ['/a/../b', '/prefix/a/../b'],
  ])('keeps the host and appends %s as a string', async (path, expected) => {
    const { upstreamTarget } = await import('../upstream/upstream-client.ts');
    expect(upstreamTarget(up, path)).toEqual({ protocol: 'https:', hostname: '10.0.0.1', port: '6443', path: expected });
  });

  it.each(['//evil.example/api', 'https://evil.example/api', 'api/v1'])('refuses the request target %s', async (path) => {
    const { upstreamTarget } = await import('../upstream/upstream-client.ts');
    expect(() => upstreamTarget(up, path)).toThrow('refusing to forward a request target that is not an absolute path');
  });
});
