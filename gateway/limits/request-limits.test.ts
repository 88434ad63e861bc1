// The request limits over real HTTP on loopback: bodies declared too large, chunked bodies that
// grow too large, the body budget under concurrent bodies, and the caller caps.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createBodyBudget, type BodyBudget } from './body-budget.ts';
import { createCallerSlots } from './caller-slots.ts';
import { LimitExceededError, type LimitName } from './limit-names.ts';
import { createRequestLimits, type RequestLimits } from './request-limits.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => { if (server === undefined) resolve(); else server.close(() => { resolve(); }); });
  server = undefined;
});

function limitsWith(budget: BodyBudget, refused: LimitName[] = [], waitMs = 0): RequestLimits {
  return createRequestLimits({
    maxRequestBodyBytes: 1000, bodyBufferWaitMs: waitMs, budget, refused: (l) => { refused.push(l); },
    slots: createCallerSlots({ request: 2, 'long-running': 1 }),
  });
}

/** Starts a server that hands each request to `handle`, and returns its port. */
async function serve(handle: (req: IncomingMessage) => void): Promise<number> {
  server = createServer((req, res) => { handle(req); req.on('end', () => { res.end(); }); });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Sends a body: with Content-Length unless `chunked`; resolves when the server answered. */
function send(port: number, body: Buffer, chunked = false): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', headers: chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': body.length } }, (res) => { res.resume(); res.on('end', resolve); });
    req.on('error', reject);
    req.end(body);
  });
}

describe('request limits', () => {
  it('refuses a body that declares more than the largest allowed size with 413, before reading it', () => {
    const refused: LimitName[] = [];
    const limits = limitsWith(createBodyBudget(10_000), refused);
    const admitted = limits.admit({ headers: { 'content-length': '1001' } } as unknown as IncomingMessage, { caller: 'alice', longRunning: false });
    expect(admitted).toMatchObject({ ok: false, limit: 'request-body-size', status: { code: 413, reason: 'RequestEntityTooLarge' } });
    expect(refused).toEqual(['request-body-size']);
  });

  it('holds a declared body within the budget, and frees its bytes when the request ends', async () => {
    const budget = createBodyBudget(10_000);
    const limits = limitsWith(budget);
    const results: { body: string; reserved: number; release: () => void }[] = [];
    const port = await serve((req) => {
      const admitted = limits.admit(req, { caller: 'alice', longRunning: false });
      if (!admitted.ok) throw new Error('refused');
      void limits.readBody(req).then((read) => {
        results.push({ body: read.complete ? read.body.toString() : '', reserved: budget.reservedBytes, release: admitted.release });
      });
    });
    await send(port, Buffer.from('{"kind":"ConfigMap"}'));
    expect(results[0]).toMatchObject({ body: '{"kind":"ConfigMap"}', reserved: 20 });
    results[0]?.release();
    expect(budget.reservedBytes).toBe(0);
  });

  it('reserves the largest allowed size for a chunked body, and refuses one that grows past it (413)', async () => {
    const budget = createBodyBudget(10_000);
    const refused: LimitName[] = [];
    const limits = limitsWith(budget, refused);
    const outcomes: unknown[] = [];
    const port = await serve((req) => {
      if (!limits.admit(req, { caller: 'alice', longRunning: false }).ok) throw new Error('refused');
      const reading = limits.readBody(req);
      outcomes.push(budget.reservedBytes);
      reading.then((read) => { outcomes.push(read.complete); }, (error: unknown) => { outcomes.push(error); });
    });
    await send(port, Buffer.alloc(500, 'a'), true);
    await send(port, Buffer.alloc(5000, 'a'), true);
    expect(outcomes[0]).toBe(1000);
    expect(outcomes[1]).toBe(true);
    const error = outcomes[3];
    expect(error).toBeInstanceOf(LimitExceededError);
    expect((error as LimitExceededError).status).toMatchObject({ code: 413 });
    expect(refused).toEqual(['request-body-size']);
  });

  it('refuses with 429 and Retry-After a body that finds no room in the budget in time, and never holds more than it', async () => {
    const budget = createBodyBudget(2500);
    const refused: LimitName[] = [];
    const limits = limitsWith(budget, refused, 200);
    const outcomes: unknown[] = [];
    const port = await serve((req) => {
      if (!limits.admit(req, { caller: `caller-${outcomes.length}`, longRunning: false }).ok) throw new Error('refused');
      // Nothing is released: every body stays held, as if its request were still in flight.
      limits.readBody(req).then(() => { outcomes.push('read'); }, (error: unknown) => { outcomes.push(error); req.resume(); });
    });
    await Promise.all([0, 1, 2].map(() => send(port, Buffer.alloc(1000, 'a'))));
    expect(outcomes.filter((o) => o === 'read')).toHaveLength(2);
    const error = outcomes.find((o) => o instanceof LimitExceededError);
    expect((error as LimitExceededError).status).toMatchObject({ code: 429, reason: 'TooManyRequests', details: { retryAfterSeconds: 1 } });
    expect(refused).toEqual(['request-body-buffer']);
    expect(budget.peakBytes).toBe(2000);
  });

  it('caps each caller\'s requests and long-running requests apart, and frees a slot at release', () => {
    const refused: LimitName[] = [];
    const limits = limitsWith(createBodyBudget(10_000), refused);
    const req = (): IncomingMessage => ({ headers: {} }) as unknown as IncomingMessage;
    const first = limits.admit(req(), { caller: 'alice', longRunning: false });
    limits.admit(req(), { caller: 'alice', longRunning: false });
    expect(limits.admit(req(), { caller: 'alice', longRunning: false })).toMatchObject({ ok: false, limit: 'caller-requests', status: { code: 429, details: { retryAfterSeconds: 1 } } });
    expect(limits.admit(req(), { caller: 'bob', longRunning: false }).ok).toBe(true);
    expect(limits.admit(req(), { caller: 'alice', longRunning: true }).ok).toBe(true);
    expect(limits.admit(req(), { caller: 'alice', longRunning: true })).toMatchObject({ ok: false, limit: 'caller-long-running' });
    if (first.ok) first.release();
    expect(limits.admit(req(), { caller: 'alice', longRunning: false }).ok).toBe(true);
    expect(refused).toEqual(['caller-requests', 'caller-long-running']);
  });

  it('will not read a body outside the budget (a request that was not admitted)', async () => {
    const limits = limitsWith(createBodyBudget(10_000));
    await expect(limits.readBody({ headers: {} } as unknown as IncomingMessage)).rejects.toThrow(/before admit/);
  });
});
