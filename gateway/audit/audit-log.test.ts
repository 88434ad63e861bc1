// The composition the gateway uses, with real sinks: a file in a temp dir, a receiver on 127.0.0.1,
// /dev/full for a disk that refuses bytes. Metrics and the logger are passed in.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog, type AuditMetrics } from './audit-log.ts';
import { AuditWriteError } from '../../core/audit/errors.ts';
import { openFileSink } from './file-sink.ts';
import { buildAuditRecord, type AuditRecordInput } from '../../core/audit/record.ts';
import type { AuditSink } from './sink.ts';
import { recordInput, sampleRecord, tempDir } from '../../core/audit/test-fixtures.ts';
import { verifyAuditFiles } from '../../core/audit/verify.ts';
import { createWebhookSink } from './webhook-sink.ts';

let server: Server;
let url = '';
let nextStatus = 200;
const received: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { auditID: string }[]).map((r) => r.auditID));
      res.writeHead(nextStatus).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/audit`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function recordingMetrics(): AuditMetrics & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    recordWritten: (sink) => calls.push(`written ${sink}`),
    recordFailed: (sink) => calls.push(`failed ${sink}`),
    queueDepth: (sink, n) => calls.push(`depth ${sink} ${n}`),
  };
}

/** A real pino logger whose JSON lines the test reads back. */
function capturedLogger(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  let text = '';
  const stream = new Writable({ write(chunk: Buffer, _enc, done) { text += chunk.toString(); done(); } });
  return { logger: pino({ level: 'info' }, stream), lines: () => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

async function fileSink(name = 'file'): Promise<{ sink: AuditSink; path: string }> {
  const path = join(await tempDir(), 'audit.log');
  return { sink: await openFileSink({ path, maxSizeBytes: 1 << 20, maxFiles: 2, name }), path };
}

async function fullDisk(): Promise<AuditSink> {
  return openFileSink({ path: '/dev/full', maxSizeBytes: 1 << 20, maxFiles: 1 });
}

describe('audit log', () => {
  it('writes each record to every sink and counts it per sink', async () => {
    const { sink, path } = await fileSink();
    const metrics = recordingMetrics();
    const log = createAuditLog({ sinks: [sink, createWebhookSink({ url, batchSize: 1 })], metrics });
    received.length = 0;
    await log.record(sampleRecord(1));
    await log.close();
    // The webhook got the record, then the checkpoint that seals its chain on close.
    expect(received).toEqual(['audit-1', undefined]);
    expect(await verifyAuditFiles([path])).toMatchObject({ ok: true, records: 1 });
    expect(metrics.calls).toEqual(expect.arrayContaining(['written file', 'written webhook', 'depth webhook 1', 'depth webhook 0']));
    expect(metrics.calls.filter((c) => c.startsWith('failed'))).toEqual([]);
  });

  it('keeps the file chain valid under many concurrent records', async () => {
    const { sink, path } = await fileSink();
    const log = createAuditLog({ sinks: [sink] });
    await Promise.all(Array.from({ length: 300 }, (_, i) => log.record(sampleRecord(i))));
    await log.close();
    expect(await verifyAuditFiles([path])).toMatchObject({ ok: true, records: 300 });
  });

  it.each<[string, () => Promise<AuditSink[]>, string, string]>([
    ['the disk is full', async () => [await fullDisk()], 'file', 'write_failed'],
    ['the webhook refuses the batch', () => { nextStatus = 400; return Promise.resolve([createWebhookSink({ url, batchSize: 1 })]); }, 'webhook', 'delivery_rejected'],
    ['one of two sinks fails', async () => [(await fileSink('local')).sink, await fullDisk()], 'file', 'write_failed'],
  ])('FailClosed (the default) rejects with AuditWriteError when %s', async (_name, makeSinks, failedSink, code) => {
    const metrics = recordingMetrics();
    const log = createAuditLog({ sinks: await makeSinks(), metrics });
    const error = await log.record(sampleRecord(7)).catch((e: unknown) => e);
    nextStatus = 200;
    expect(error).toBeInstanceOf(AuditWriteError);
    expect(error).toMatchObject({ code: 'audit_write_failed', auditID: 'audit-7', failures: [{ sink: failedSink, error: { code } }] });
    expect((error as Error).message).toMatch(new RegExp(`^audit record audit-7 was not written: ${failedSink}: `));
    expect(metrics.calls).toContain(`failed ${failedSink}`);
    await log.close();
  });

  it('FailOpen resolves, then counts and logs the failure without the record', async () => {
    const metrics = recordingMetrics();
    const { logger, lines } = capturedLogger();
    const log = createAuditLog({ sinks: [await fullDisk()], failurePolicy: 'FailOpen', metrics, logger });
    await expect(log.record(sampleRecord(3, { userAgent: 'secret-agent' }))).resolves.toBeUndefined();
    await log.close();
    expect(metrics.calls).toContain('failed file');
    const logged = lines();
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 50, sink: 'file', auditID: 'audit-3', code: 'write_failed', msg: 'audit record not written; the request went on (audit failurePolicy FailOpen)' });
    expect(JSON.stringify(logged)).not.toContain('secret-agent');
  });

  it('refuses to be built without sinks or with two sinks of one name', async () => {
    expect(() => createAuditLog({ sinks: [] })).toThrow('audit log: at least one sink is required (set the level to None to write no records)');
    const { sink } = await fileSink();
    expect(() => createAuditLog({ sinks: [sink, sink] })).toThrow('audit log: sink names must be unique, got file, file');
    await sink.close();
  });

  it('never writes a bearer token, even when the caller hands over headers and a token-bearing body', async () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.sig';
    const { sink, path } = await fileSink();
    const log = createAuditLog({ sinks: [sink] });
    const input = {
      ...recordInput({ level: 'Request', objectRef: { resource: 'configmaps', name: 'c' }, requestObject: { data: { auth: `Bearer ${token}`, token } } }),
      headers: { authorization: `Bearer ${token}` },
    } as AuditRecordInput;
    const record = buildAuditRecord(input);
    if (record === undefined) throw new Error('expected a record');
    await log.record(record);
    await log.close();
    const text = await readFile(path, 'utf8');
    expect(text).not.toContain(token);
    expect(text).toContain('"requestObject":{"data":{"auth":"[REDACTED]","token":"[REDACTED]"}}');
  });
});
