// The file sink against real files in temporary directories: durable group commit, the chain
// across concurrent callers, rotation, recovery after a crash, and failures that must reject.
import { appendFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditSinkError } from '../../core/audit/errors.ts';
import { listRotatedFiles } from '../../core/audit/file-layout.ts';
import { openFileSink, type FileSink, type FileSinkOptions } from './file-sink.ts';
import { canonicalJson } from '../../core/audit/canonical-json.ts';
import { GENESIS_HASH } from '../../core/audit/hash-chain.ts';
import { readEntries, sampleRecord, tempDir, writeEd25519Keys } from '../../core/audit/test-fixtures.ts';
import { verifyAuditFiles } from '../../core/audit/verify.ts';

const opened: FileSink[] = [];
async function open(options: Partial<FileSinkOptions> & { path: string }): Promise<FileSink> {
  const sink = await openFileSink({ maxSizeBytes: 10 * 1024 * 1024, maxFiles: 5, ...options });
  opened.push(sink);
  return sink;
}
afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((s) => s.close()));
});

/** Every file of the sink, oldest first, as the verifier wants them. */
async function chainFiles(path: string): Promise<string[]> {
  return [...(await listRotatedFiles(path)).map((f) => f.path), path];
}

async function writeMany(sink: FileSink, from: number, count: number): Promise<void> {
  await Promise.all(Array.from({ length: count }, (_, i) => sink.write(sampleRecord(from + i))));
}

describe('file sink: writing', () => {
  it('appends one canonical JSON line per record, chained from genesis', async () => {
    const path = join(await tempDir(), 'audit.log');
    const sink = await open({ path });
    for (let i = 0; i < 3; i += 1) await sink.write(sampleRecord(i));
    const lines = (await readFile(path, 'utf8')).split('\n');
    expect(lines.at(-1)).toBe('');
    const entries = lines.slice(0, -1).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries.map((e) => [e['seq'], e['auditID']])).toEqual([[1, 'audit-0'], [2, 'audit-1'], [3, 'audit-2']]);
    expect(entries[0]?.['prevHash']).toBe(GENESIS_HASH);
    expect(entries[1]?.['prevHash']).toBe(entries[0]?.['hash']);
    expect(lines.slice(0, -1)).toEqual(entries.map((e) => canonicalJson(e)));
    expect(await verifyAuditFiles([path])).toMatchObject({ ok: true, records: 3, checkpoints: 0 });
  });

  it('keeps one valid chain when a thousand callers write at once, in the order they called, with far fewer fsyncs', async () => {
    const path = join(await tempDir(), 'audit.log');
    const sink = await open({ path });
    await writeMany(sink, 0, 1000);
    const entries = await readEntries(path);
    expect(entries.filter((e) => e['kind'] === 'AuditRecord').map((e) => e['auditID'])).toEqual(Array.from({ length: 1000 }, (_, i) => `audit-${i}`));
    expect(await verifyAuditFiles([path])).toMatchObject({ ok: true, records: 1000, checkpoints: 1 });
    expect(sink.stats().syncs).toBeLessThan(100);
    expect(sink.queueDepth()).toBe(0);
  });

  it('writes a sync: false record without an fdatasync of its own; the next synced write covers it', async () => {
    const path = join(await tempDir(), 'audit.log');
    const sink = await open({ path });
    await sink.write(sampleRecord(0), { sync: false });
    // Written (a crash of the gateway keeps it), in the chain, but not yet fsynced.
    expect((await readEntries(path)).map((e) => e['auditID'])).toEqual(['audit-0']);
    expect(sink.stats()).toMatchObject({ records: 1, syncs: 0 });
    await sink.write(sampleRecord(1));
    expect(sink.stats()).toMatchObject({ records: 2, syncs: 1 });
    // Mixed in one batch, the synced caller makes the batch fsync.
    await Promise.all([sink.write(sampleRecord(2), { sync: false }), sink.write(sampleRecord(3))]);
    expect(sink.stats().syncs).toBe(2);
    expect(await verifyAuditFiles([path])).toMatchObject({ ok: true, records: 4 });
  });

  it('resolves each write only after its bytes are in the file', async () => {
    const path = join(await tempDir(), 'audit.log');
    const sink = await open({ path });
    const writes = Array.from({ length: 50 }, (_, i) => sink.write(sampleRecord(i)).then(async () => {
      const text = await readFile(path, 'utf8');
      return text.includes(`"auditID":"audit-${i}"`);
    }));
    expect(await Promise.all(writes)).toEqual(Array.from({ length: 50 }, () => true));
  });

  it('refuses bad options all at once', async () => {
    await expect(openFileSink({ path: '', maxSizeBytes: 0, maxFiles: 1.5, checkpoint: { everyRecords: -1 } })).rejects.toThrow(new TypeError(
      'file audit sink: maxSizeBytes must be a positive integer, got 0; maxFiles must be a positive integer, got 1.5; '
      + 'checkpoint.everyRecords must be a positive integer, got -1; path is empty',
    ));
  });

  it('rejects writes after close, and closing twice is harmless', async () => {
    const sink = await openFileSink({ path: join(await tempDir(), 'audit.log'), maxSizeBytes: 1024, maxFiles: 1 });
    await sink.close();
    await sink.close();
    await expect(sink.write(sampleRecord())).rejects.toMatchObject({ code: 'sink_closed', sink: 'file' });
  });
});

describe('file sink: rotation', () => {
  it('renames full files after their first seq and keeps the chain verifiable across them', async () => {
    const path = join(await tempDir(), 'audit.log');
    const sink = await open({ path, maxSizeBytes: 4000, maxFiles: 100 });
    for (let i = 0; i < 20; i += 1) await sink.write(sampleRecord(i));
    await writeMany(sink, 20, 20);
    await sink.close();
    const rotated = await listRotatedFiles(path);
    expect(rotated.length).toBeGreaterThan(5);
    expect(rotated[0]?.path).toBe(`${path}.0000000000000001`);
    let previousLast: Record<string, unknown> | undefined;
    for (const file of await chainFiles(path)) {
      const entries = await readEntries(file);
      const first = entries[0];
      if (previousLast !== undefined) expect(first?.['prevHash']).toBe(previousLast['hash']);
      if (file !== path) {
        expect(entries.at(-1)?.['kind']).toBe('AuditCheckpoint');
        expect(first?.['seq']).toBe(rotated.find((r) => r.path === file)?.firstSeq);
        expect((await stat(file)).size).toBeLessThanOrEqual(4000 + 400);
      }
      previousLast = entries.at(-1);
    }
    expect(await verifyAuditFiles(await chainFiles(path))).toMatchObject({ ok: true, records: 40, sealed: true });
  });

  it('keeps at most maxFiles files, deleting the oldest, and what remains still verifies', async () => {
    const dir = await tempDir();
    const path = join(dir, 'audit.log');
    const sink = await open({ path, maxSizeBytes: 3000, maxFiles: 3 });
    for (let i = 0; i < 30; i += 1) await sink.write(sampleRecord(i));
    expect((await readdir(dir)).sort()).toHaveLength(3);
    const result = await verifyAuditFiles(await chainFiles(path));
    expect(result).toMatchObject({ ok: true });
    expect(result.ok && result.records).toBeLessThan(30);
  });
});

describe('file sink: recovery', () => {
  it('continues the chain after a crash (the old sink never closed)', async () => {
    const path = join(await tempDir(), 'audit.log');
    const crashed = await open({ path });
    await writeMany(crashed, 0, 5);
    const reopened = await open({ path });
    expect(reopened.recovery).toMatchObject({ head: { seq: 5 }, headKind: 'AuditRecord', discardedBytes: 0, from: path });
    await writeMany(reopened, 5, 5);
    await reopened.close();
    const entries = await readEntries(path);
    expect(entries.filter((e) => e['kind'] === 'AuditRecord').map((e) => e['auditID'])).toEqual(Array.from({ length: 10 }, (_, i) => `audit-${i}`));
    expect(await verifyAuditFiles([path])).toMatchObject({ ok: true, records: 10, sealed: true });
  });

  it('continues after a clean close, following its sealing checkpoint', async () => {
    const path = join(await tempDir(), 'audit.log');
    const first = await open({ path });
    await writeMany(first, 0, 3);
    await first.close();
    const second = await open({ path });
    expect(second.recovery).toMatchObject({ head: { seq: 4 }, headKind: 'AuditCheckpoint' });
    await second.write(sampleRecord(3));
    expect(await verifyAuditFiles([path])).toMatchObject({ ok: true, records: 4, checkpoints: 1 });
  });

  it('cuts a half-written last line (never acknowledged) and reports how many bytes it cut', async () => {
    const path = join(await tempDir(), 'audit.log');
    const first = await open({ path });
    await writeMany(first, 0, 3);
    const torn = '{"apiVersion":"audit.airlock.dev/v1","auditID":"audit-';
    await appendFile(path, torn);
    const second = await open({ path });
    expect(second.recovery).toMatchObject({ head: { seq: 3 }, discardedBytes: Buffer.byteLength(torn) });
    await second.write(sampleRecord(3));
    expect(await verifyAuditFiles([path])).toMatchObject({ ok: true, records: 4 });
  });

  it('continues from the newest rotated file when the active file is missing (a crash right after rotating)', async () => {
    const path = join(await tempDir(), 'audit.log');
    const first = await open({ path, maxSizeBytes: 3000, maxFiles: 50 });
    for (let i = 0; i < 10; i += 1) await first.write(sampleRecord(i));
    await first.close();
    const rotated = await listRotatedFiles(path);
    await rename(path, `${path}.aside`);
    const lastRotated = await readEntries(rotated.at(-1)?.path ?? '');
    const second = await open({ path, maxSizeBytes: 3000, maxFiles: 50 });
    expect(second.recovery).toMatchObject({ from: rotated.at(-1)?.path, head: { seq: lastRotated.at(-1)?.['seq'] } });
    await second.write(sampleRecord(99));
    expect(await verifyAuditFiles(await chainFiles(path))).toMatchObject({ ok: true });
  });

  it.each<[string, (line: string) => string]>([
    ['edited', (line) => line.replace('"verb":"get"', '"verb":"put"')],
    ['not JSON', () => 'garbage'],
  ])('refuses to open when the last complete line is %s, naming the file and what to do', async (_name, spoil) => {
    const path = join(await tempDir(), 'audit.log');
    const first = await open({ path });
    await writeMany(first, 0, 3);
    const lines = (await readFile(path, 'utf8')).split('\n');
    lines[2] = spoil(lines[2] ?? '');
    await writeFile(path, lines.join('\n'));
    const error = await openFileSink({ path, maxSizeBytes: 1 << 20, maxFiles: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuditSinkError);
    expect(error).toMatchObject({ code: 'corrupt_file', message: expect.stringContaining(`${path}: its last line is not a valid audit entry`) as unknown });
    expect((error as Error).message).toContain('move the file aside');
  });
});

describe('file sink: failures reject, never drop', () => {
  it('refuses to open a file whose parent is a file', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'not-a-dir'), '');
    await expect(openFileSink({ path: join(dir, 'not-a-dir', 'audit.log'), maxSizeBytes: 1024, maxFiles: 1 }))
      .rejects.toMatchObject({ name: 'AuditSinkError', code: 'open_failed', sink: 'file' });
  });

  it('rejects every write while the disk is full (/dev/full)', async () => {
    const sink = await open({ path: '/dev/full', name: 'full-disk' });
    const results = await Promise.allSettled([sink.write(sampleRecord(1)), sink.write(sampleRecord(2))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await expect(sink.write(sampleRecord(3))).rejects.toMatchObject({ code: 'write_failed', sink: 'full-disk', message: expect.stringMatching(/ENOSPC/) as unknown });
    expect(sink.queueDepth()).toBe(0);
  });

  it('rejects when the directory is replaced by a file, and carries on with a valid chain once it is back', async () => {
    const root = await tempDir();
    const dir = join(root, 'audit');
    await mkdir(dir);
    const path = join(dir, 'audit.log');
    const sink = await open({ path, maxSizeBytes: 2500, maxFiles: 50 });
    await sink.write(sampleRecord(0));
    await sink.write(sampleRecord(1));
    await rename(dir, `${dir}.moved`);
    await writeFile(dir, 'in the way');
    // The open file still accepts bytes; the rotation that is now due cannot happen.
    const failures = await Promise.allSettled([2, 3, 4, 5].map((i) => sink.write(sampleRecord(i))));
    expect(failures.some((r) => r.status === 'rejected' && (r.reason as AuditSinkError).code === 'write_failed')).toBe(true);
    await rm(dir);
    await rename(`${dir}.moved`, dir);
    await sink.write(sampleRecord(6));
    await sink.close();
    expect(await verifyAuditFiles(await chainFiles(path))).toMatchObject({ ok: true });
    const ids = (await Promise.all((await chainFiles(path)).map((f) => readEntries(f)))).flat().map((e) => e['auditID']);
    expect(ids).toContain('audit-6');
  });
});

describe('file sink: checkpoints', () => {
  it('appends a checkpoint every N records and when closed', async () => {
    const path = join(await tempDir(), 'audit.log');
    const sink = await open({ path, checkpoint: { everyRecords: 10 } });
    await writeMany(sink, 0, 25);
    await sink.close();
    const kinds = (await readEntries(path)).map((e) => e['kind'] === 'AuditCheckpoint' ? 'C' : 'r').join('');
    expect(kinds).toBe(`${'r'.repeat(10)}C${'r'.repeat(10)}C${'r'.repeat(5)}C`);
    expect(await verifyAuditFiles([path])).toMatchObject({ ok: true, records: 25, checkpoints: 3 });
  });

  it('appends a checkpoint with the next write once the interval has passed (clock passed in)', async () => {
    const path = join(await tempDir(), 'audit.log');
    let now = Date.parse('2025-06-01T10:00:00Z');
    const sink = await open({ path, checkpoint: { intervalMs: 60_000 }, now: () => new Date(now) });
    await sink.write(sampleRecord(0));
    now += 30_000;
    await sink.write(sampleRecord(1));
    now += 31_000;
    await sink.write(sampleRecord(2));
    const entries = await readEntries(path);
    expect(entries.map((e) => e['kind'])).toEqual(['AuditRecord', 'AuditRecord', 'AuditRecord', 'AuditCheckpoint']);
    expect(entries[3]?.['timestamp']).toBe('2025-06-01T10:01:01.000Z');
  });

  it('writes a due checkpoint on its own when no record follows', async () => {
    const path = join(await tempDir(), 'audit.log');
    const sink = await open({ path, checkpoint: { intervalMs: 30 } });
    await sink.write(sampleRecord(0));
    await expect.poll(async () => (await readEntries(path)).map((e) => e['kind']), { timeout: 2000 }).toEqual(['AuditRecord', 'AuditCheckpoint']);
  });

  it('waits at most one interval for the next checkpoint when the wall clock stepped back 60 days', async () => {
    const path = join(await tempDir(), 'audit.log');
    let now = Date.parse('2025-06-01T10:00:00Z');
    const warnings: string[] = [];
    const onWarning = (w: Error): void => { warnings.push(w.name); };
    process.on('warning', onWarning);
    try {
      const sink = await open({ path, checkpoint: { intervalMs: 100 }, now: () => new Date(now) });
      now -= 60 * 86_400_000;
      await sink.write(sampleRecord(0));
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(warnings).not.toContain('TimeoutOverflowWarning');
      expect((await readEntries(path)).map((e) => e['kind'])).toEqual(['AuditRecord']);
      await expect.poll(async () => (await readEntries(path)).map((e) => e['kind']), { timeout: 2000 }).toEqual(['AuditRecord', 'AuditCheckpoint']);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('seals the unsealed tail a crashed sink left behind, without waiting for a new record', async () => {
    const path = join(await tempDir(), 'audit.log');
    const crashed = await open({ path });
    await writeMany(crashed, 0, 2);
    await open({ path, checkpoint: { intervalMs: 30 } });
    await expect.poll(async () => (await readEntries(path)).map((e) => e['kind']), { timeout: 2000 }).toEqual(['AuditRecord', 'AuditRecord', 'AuditCheckpoint']);
  });

  it('signs checkpoints with the key file, and they verify with the public key', async () => {
    const dir = await tempDir();
    const keys = await writeEd25519Keys(dir);
    const path = join(dir, 'audit.log');
    const sink = await open({ path, checkpoint: { everyRecords: 4, keyFile: keys.privateKey } });
    await writeMany(sink, 0, 10);
    await sink.close();
    const checkpoints = (await readEntries(path)).filter((e) => e['kind'] === 'AuditCheckpoint');
    expect(checkpoints).toHaveLength(3);
    for (const c of checkpoints) expect(c['signature']).toEqual(expect.any(String));
    expect(await verifyAuditFiles([path], { publicKeyPem: keys.publicKeyPem })).toMatchObject({ ok: true, records: 10, checkpoints: 3 });
  });

  it('does not start with an unusable key file', async () => {
    const dir = await tempDir();
    await expect(openFileSink({ path: join(dir, 'audit.log'), maxSizeBytes: 1024, maxFiles: 1, checkpoint: { keyFile: join(dir, 'absent.key') } }))
      .rejects.toMatchObject({ code: 'invalid_checkpoint_key' });
    expect(existsSync(join(dir, 'audit.log'))).toBe(false);
  });
});
