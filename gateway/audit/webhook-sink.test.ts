// The webhook sink against a real HTTP(S) receiver on 127.0.0.1 that answers as each test scripts.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensurePki, issueServingCertificate } from '../../hack/controlplane/pki.ts';
import { AuditSinkError } from '../../core/audit/errors.ts';
import { sampleRecord, tempDir, writeEd25519Keys } from '../../core/audit/test-fixtures.ts';
import { canonicalJson } from '../../core/audit/canonical-json.ts';
import { loadCheckpointSigner } from '../../core/audit/hash-chain.ts';
import { verifyAuditFiles } from '../../core/audit/verify.ts';
import { join } from 'node:path';
import { createWebhookSink, type WebhookSink, type WebhookSinkOptions } from './webhook-sink.ts';

/** What the receiver does with one POST: answer a status, hang until released, or cut the connection. */
type Answer = number | 'hang' | 'cut';

interface Receiver {
  url: string;
  /** auditIDs (or entry kinds, for checkpoints) of every POST received, in order, retries included. */
  posts: string[][];
  /** Every entry of every accepted POST, as received. */
  entries: string[];
  /** Answers for the next POSTs, in order; 200 once they run out. */
  script: Answer[];
  /** Ends every hanging POST with 200. */
  release(): void;
  server: Server;
}

let receiver: Receiver;
const sinks: WebhookSink[] = [];

function handle(target: Receiver, hanging: ServerResponse[]) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const batch = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { auditID?: string; kind: string }[];
      target.posts.push(batch.map((r) => r.auditID ?? r.kind));
      const answer = target.script.shift() ?? 200;
      if (answer === 200) target.entries.push(...batch.map((r) => JSON.stringify(r)));
      if (answer === 'hang') hanging.push(res);
      else if (answer === 'cut') req.socket.destroy();
      else res.writeHead(answer).end();
    });
  };
}

async function startReceiver(makeServer: (listener: ReturnType<typeof handle>) => Server, scheme = 'http'): Promise<Receiver> {
  const hanging: ServerResponse[] = [];
  const target = { posts: [], entries: [], script: [], url: '', release: () => { for (const r of hanging.splice(0)) r.writeHead(200).end(); } } as unknown as Receiver;
  target.server = makeServer(handle(target, hanging));
  await new Promise<void>((resolve) => target.server.listen(0, '127.0.0.1', resolve));
  target.url = `${scheme}://127.0.0.1:${(target.server.address() as AddressInfo).port}/audit`;
  return target;
}

function sink(options: Partial<WebhookSinkOptions> = {}): WebhookSink {
  const s = createWebhookSink({ url: receiver.url, flushIntervalMs: 20, retry: { initialDelayMs: 5, maxDelayMs: 20 }, ...options });
  sinks.push(s);
  return s;
}

beforeEach(async () => {
  receiver = await startReceiver((listener) => createServer(listener));
});
afterEach(async () => {
  receiver.release();
  await Promise.allSettled(sinks.splice(0).map((s) => s.close()));
  receiver.server.closeAllConnections();
  await new Promise((resolve) => receiver.server.close(resolve));
});

describe('webhook sink', () => {
  it('POSTs full batches at once and the rest after the flush interval, in order', async () => {
    const s = sink({ batchSize: 3, flushIntervalMs: 50 });
    const writes = Array.from({ length: 7 }, (_, i) => s.write(sampleRecord(i)));
    await Promise.all(writes);
    expect(receiver.posts).toEqual([['audit-0', 'audit-1', 'audit-2'], ['audit-3', 'audit-4', 'audit-5'], ['audit-6']]);
  });

  it('sends a lone record once the flush interval has passed', async () => {
    const s = sink({ batchSize: 100, flushIntervalMs: 30 });
    const started = Date.now();
    await s.write(sampleRecord(1));
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(receiver.posts).toEqual([['audit-1']]);
  });

  it('resolves a write only when the receiver acknowledges its batch', async () => {
    receiver.script = ['hang'];
    const s = sink({ batchSize: 1 });
    let acknowledged = false;
    const write = s.write(sampleRecord(1)).then(() => { acknowledged = true; });
    await expect.poll(() => receiver.posts.length).toBe(1);
    expect(acknowledged).toBe(false);
    receiver.release();
    await write;
    expect(acknowledged).toBe(true);
  });

  it.each<[string, Answer[]]>([
    ['a 503', [503]],
    ['a 500 then a 502', [500, 502]],
    ['a 429', [429]],
    ['a cut connection', ['cut']],
  ])('retries the same batch after %s and then succeeds', async (_name, failures) => {
    receiver.script = [...failures];
    const s = sink({ batchSize: 2 });
    await Promise.all([s.write(sampleRecord(1)), s.write(sampleRecord(2))]);
    expect(receiver.posts).toEqual(Array.from({ length: failures.length + 1 }, () => ['audit-1', 'audit-2']));
  });

  it.each([400, 401, 403, 404, 413])('does not retry a %i and rejects the batch with the status', async (status) => {
    receiver.script = [status];
    const s = sink({ batchSize: 1 });
    const error = await s.write(sampleRecord(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuditSinkError);
    expect(error).toMatchObject({ code: 'delivery_rejected', sink: 'webhook', status, message: expect.stringContaining(`with HTTP ${status}; this is not retried`) as unknown });
    expect(receiver.posts).toHaveLength(1);
    await s.write(sampleRecord(2));
  });

  it('gives up after maxAttempts and says what the last failure was', async () => {
    receiver.script = [503, 503, 503, 503];
    const s = sink({ batchSize: 1, retry: { maxAttempts: 3, initialDelayMs: 5, maxDelayMs: 10 } });
    await expect(s.write(sampleRecord(1))).rejects.toMatchObject({
      code: 'retries_exhausted', status: 503, message: expect.stringMatching(/did not accept a batch of 1 record\(s\) in 3 attempt\(s\) \(last: HTTP 503\)$/) as unknown,
    });
    expect(receiver.posts).toHaveLength(3);
  });

  it('rejects at once when the queue is full (backpressure) and accepts again once the receiver catches up', async () => {
    receiver.script = ['hang'];
    const s = sink({ batchSize: 2, maxQueue: 3 });
    const accepted = [1, 2, 3].map((i) => s.write(sampleRecord(i)));
    await expect.poll(() => receiver.posts.length).toBe(1);
    expect(s.queueDepth()).toBe(3);
    const refused = await s.write(sampleRecord(4)).catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: 'AuditSinkError', code: 'queue_full', message: expect.stringContaining('(3 records not yet acknowledged by http://127.0.0.1:') as unknown });
    receiver.release();
    await Promise.all(accepted);
    await s.write(sampleRecord(5));
    expect(receiver.posts.flat()).toEqual(['audit-1', 'audit-2', 'audit-3', 'audit-5']);
  });

  it('bounds the queue by bytes too: large (RequestResponse) records are refused before they pile up in memory', async () => {
    receiver.script = ['hang'];
    const big = (i: number): ReturnType<typeof sampleRecord> => sampleRecord(i, { level: 'RequestResponse', responseObject: { blob: 'x'.repeat(40_000) }, responseBody: { bytes: 40_000, complete: true } });
    const s = sink({ batchSize: 1, maxQueue: 1000, maxQueueBytes: 100_000 });
    const accepted = [1, 2].map((i) => s.write(big(i)));
    await expect.poll(() => receiver.posts.length).toBe(1);
    const refused = await s.write(big(3)).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'queue_full', message: expect.stringContaining('bytes') as unknown });
    // A small record still fits.
    const small = s.write(sampleRecord(4));
    receiver.release();
    await Promise.all([...accepted, small]);
    expect(receiver.posts.flat()).toEqual(['audit-1', 'audit-2', 'audit-4']);
  });

  it('keeps each POST near maxBatchBytes however many records a batch may hold', async () => {
    const s = sink({ batchSize: 100, flushIntervalMs: 10, maxBatchBytes: 100_000 });
    const big = (i: number): ReturnType<typeof sampleRecord> => sampleRecord(i, { level: 'RequestResponse', responseObject: { blob: 'x'.repeat(40_000) }, responseBody: { bytes: 40_000, complete: true } });
    await Promise.all([1, 2, 3, 4, 5].map((i) => s.write(big(i))));
    expect(receiver.posts).toEqual([['audit-1', 'audit-2'], ['audit-3', 'audit-4'], ['audit-5']]);
  });

  it('flushes everything on close, then rejects writes', async () => {
    const s = sink({ batchSize: 100, flushIntervalMs: 60_000 });
    const writes = [1, 2, 3].map((i) => s.write(sampleRecord(i)));
    await s.close();
    await Promise.all(writes);
    // Closing seals the chain with a checkpoint.
    expect(receiver.posts).toEqual([['audit-1', 'audit-2', 'audit-3', 'AuditCheckpoint']]);
    await expect(s.write(sampleRecord(4))).rejects.toMatchObject({ code: 'sink_closed' });
  });

  it('sends a hash chain the receiver can verify as a file, with signed checkpoints', async () => {
    const keys = await writeEd25519Keys(await tempDir());
    const s = sink({ batchSize: 7, checkpointEvery: 10, signer: await loadCheckpointSigner(keys.privateKey) });
    await Promise.all(Array.from({ length: 25 }, (_, i) => s.write(sampleRecord(i))));
    await s.close();
    const kinds = receiver.posts.flat();
    expect(kinds.filter((k) => k === 'AuditCheckpoint')).toHaveLength(3); // after 10, after 20, on close
    const file = join(await tempDir(), 'received.log');
    await writeFile(file, receiver.entries.map((e) => canonicalJson(JSON.parse(e))).join('\n') + '\n');
    expect(await verifyAuditFiles([file], { publicKeyPem: keys.publicKeyPem })).toMatchObject({ ok: true, records: 25, checkpoints: 3 });
    // A batch that never arrived is a break in the receiver's chain, named by the verifier.
    const gap = receiver.entries.filter((_, i) => i !== 3);
    await writeFile(file, gap.map((e) => canonicalJson(JSON.parse(e))).join('\n') + '\n');
    expect(await verifyAuditFiles([file])).toMatchObject({ ok: false });
  });

  it('refuses bad options all at once', () => {
    expect(() => createWebhookSink({ url: 'ftp://x', batchSize: 0, maxQueue: -1 })).toThrow(new TypeError(
      'webhook audit sink: url must be http: or https:, got ftp:; batchSize must be a positive integer, got 0; maxQueue must be a positive integer, got -1',
    ));
  });
});

describe('webhook sink over https', () => {
  it('trusts the receiver through the CA it is given, and refuses it without', async () => {
    const pkiDir = await tempDir('airlock-audit-pki-');
    const pki = await ensurePki({ dir: pkiDir, servingIps: [] });
    const cert = await issueServingCertificate(pki, 'audit-receiver', { ips: ['127.0.0.1'] });
    const tls = { cert: await readFile(cert.cert), key: await readFile(cert.key) };
    const secure = await startReceiver((listener) => createHttpsServer(tls, listener), 'https');
    try {
      const trusted = createWebhookSink({ url: secure.url, batchSize: 1, ca: await readFile(pki.caCert) });
      await trusted.write(sampleRecord(1));
      await trusted.close();
      const untrusted = createWebhookSink({ url: secure.url, batchSize: 1, retry: { maxAttempts: 1 } });
      await expect(untrusted.write(sampleRecord(2))).rejects.toMatchObject({ code: 'retries_exhausted', message: expect.stringMatching(/certificate/) as unknown });
      await untrusted.close();
      // The trusted sink's closing checkpoint arrived; nothing from the untrusted one.
      expect(secure.posts).toEqual([['audit-1'], ['AuditCheckpoint']]);
    } finally {
      secure.server.closeAllConnections();
      await new Promise((resolve) => secure.server.close(resolve));
    }
  });
});
