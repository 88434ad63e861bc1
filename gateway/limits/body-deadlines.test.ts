// Body deadlines over real HTTP on loopback, with the clock in the test's hands: the bytes are
// real, only "now" is moved, so no assertion depends on how fast this machine is.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createBodyDeadlines, type BodyDeadlines } from './body-deadlines.ts';
import type { LimitName } from './limit-names.ts';

let server: Server | undefined;
let deadlines: BodyDeadlines | undefined;
afterEach(async () => {
  deadlines?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => { if (server === undefined) resolve(); else server.close(() => { resolve(); }); });
  server = undefined;
});

interface Harness {
  readonly client: Socket;
  /** Everything the client received. */
  readonly received: () => string;
  readonly closed: Promise<void>;
  readonly refused: LimitName[];
  /** Bytes of body the server has seen so far. */
  readonly bodyBytes: () => number;
  advance(ms: number): void;
  /** Resolves once the server has seen at least `n` body bytes. */
  seen(n: number): Promise<void>;
}

/** A server whose handler reads the body (as the gateway does once authenticated) unless `read` is false. */
async function harness(options: { read?: boolean; answerFirst?: boolean; head: string }): Promise<Harness> {
  let clock = 1_000_000;
  const refused: LimitName[] = [];
  const tracker = createBodyDeadlines({ totalMs: 10_000, idleMs: 2_000, refused: (l) => { refused.push(l); }, now: () => clock });
  deadlines = tracker;
  let bodyBytes = 0;
  const waiters: (() => void)[] = [];
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    tracker.watch(req, res);
    if (options.answerFirst === true) res.writeHead(401).end('{}');
    if (options.read !== false) {
      req.on('data', (chunk: Buffer) => { bodyBytes += chunk.length; for (const w of waiters.splice(0)) w(); });
    }
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  let text = '';
  client.on('data', (d: Buffer) => { text += d.toString(); });
  const closed = new Promise<void>((resolve) => client.on('close', () => { resolve(); }));
  client.write(options.head);
  const seen = async (n: number): Promise<void> => {
    while (bodyBytes < n) await new Promise<void>((resolve) => { waiters.push(resolve); });
  };
  return {
    client, received: () => text, closed, refused, bodyBytes: () => bodyBytes, seen,
    advance: (ms) => { clock += ms; tracker.check(); },
  };
}

const POST = (length: number): string => `POST /api/v1/namespaces/x/configmaps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

describe('body deadlines', () => {
  it('cuts a body that stops arriving with a 408 Status after the idle gap, and closes the connection', async () => {
    const h = await harness({ head: `${POST(100)}{"kind":` });
    await h.seen(8);
    h.advance(1_000);
    expect(h.refused).toEqual([]);
    h.advance(1_001);
    await h.closed;
    expect(h.refused).toEqual(['request-body-idle-timeout']);
    expect(h.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(h.received()).toMatch(/connection: close/i);
    expect(JSON.parse(h.received().split('\r\n\r\n')[1] ?? '')).toMatchObject({ kind: 'Status', code: 408, reason: 'Timeout' });
  });

  it('does not cut a body that keeps arriving, until its total deadline', async () => {
    const h = await harness({ head: `${POST(100)}{` });
    await h.seen(1);
    for (let i = 2; i <= 6; i += 1) {
      h.advance(1_500);
      h.client.write('x');
      await h.seen(i);
      h.advance(0);
    }
    expect(h.refused).toEqual([]);
    h.advance(2_600);
    await h.closed;
    expect(h.refused).toEqual(['request-body-timeout']);
    expect(h.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('does not count a pause the gateway causes (bytes it has not read yet) as the client\'s', async () => {
    const h = await harness({ read: false, head: `${POST(100)}{"kind":` });
    await new Promise((resolve) => setTimeout(resolve, 100));
    h.advance(5_000);
    expect(h.refused).toEqual([]);
    h.advance(5_000);
    await h.closed;
    expect(h.refused).toEqual(['request-body-timeout']);
  });

  it('only closes a connection whose response already started (no status line in the middle of it)', async () => {
    const h = await harness({ answerFirst: true, head: `${POST(100)}{` });
    await h.seen(1);
    h.advance(2_001);
    await h.closed;
    expect(h.refused).toEqual(['request-body-idle-timeout']);
    expect(h.received()).toMatch(/^HTTP\/1\.1 401 /);
    expect(h.received()).not.toContain('408');
  });

  it('leaves a finished body alone', async () => {
    const h = await harness({ head: `${POST(2)}{}` });
    await h.seen(2);
    // The parser marks the request complete just after it hands over the last bytes.
    await new Promise((resolve) => setImmediate(resolve));
    h.advance(60_000);
    expect(h.refused).toEqual([]);
    expect(deadlines?.watching).toBe(0);
    expect(h.client.destroyed).toBe(false);
  });

  it.each([
    ['a GET (a watch, logs -f)', 'GET /api/v1/pods?watch=true HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['an empty body', 'POST /api/v1/namespaces HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n'],
  ])('does not watch %s, which has no body to wait for', async (_name, head) => {
    const h = await harness({ head });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(deadlines?.watching).toBe(0);
    h.advance(3_600_000);
    expect(h.refused).toEqual([]);
  });
});
