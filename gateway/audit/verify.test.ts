// Tampering with real audit files written by the file sink, and the verifier naming the first
// broken entry.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CheckpointKeyError } from '../../core/audit/errors.ts';
import { listRotatedFiles } from '../../core/audit/file-layout.ts';
import { openFileSink } from './file-sink.ts';
import { canonicalJson } from '../../core/audit/canonical-json.ts';
import { appendToChain, type ChainHead } from '../../core/audit/hash-chain.ts';
import { sampleRecord, tempDir, writeEd25519Keys, type KeyFiles } from '../../core/audit/test-fixtures.ts';
import { verifyAuditFiles, type VerifyResult } from '../../core/audit/verify.ts';

let dir = '';
let keys: KeyFiles;
let otherKeys: KeyFiles;
/** 6 records, a signed checkpoint after every 3: r r r C r r r C */
let lines: string[] = [];

beforeAll(async () => {
  dir = await tempDir('airlock-verify-');
  keys = await writeEd25519Keys(dir);
  otherKeys = await writeEd25519Keys(dir, 'other');
  const path = join(dir, 'audit.log');
  const sink = await openFileSink({ path, maxSizeBytes: 1 << 20, maxFiles: 2, checkpoint: { everyRecords: 3, keyFile: keys.privateKey } });
  for (let i = 0; i < 6; i += 1) await sink.write(sampleRecord(i));
  await sink.close();
  lines = (await readFile(path, 'utf8')).split('\n').slice(0, -1);
});

let counter = 0;
/** Writes `content` lines (with the final newline) to a fresh file and verifies it. */
async function verifyLines(content: readonly string[], withKey = true): Promise<VerifyResult> {
  counter += 1;
  const file = join(dir, `case-${counter}.log`);
  await writeFile(file, content.map((l) => `${l}\n`).join(''));
  return verifyAuditFiles([file], withKey ? { publicKeyPem: keys.publicKeyPem } : {});
}

function broken(line: number, seq: number, reason: RegExp): unknown {
  return { ok: false, file: expect.stringMatching(/case-\d+\.log$/) as unknown, line, seq, reason: expect.stringMatching(reason) as unknown };
}

/** Replaces the first `from` in the line with `to` (the same length: one changed byte). */
function changeByte(from: string, to: string): (line: string) => string {
  return (line) => {
    if (!line.includes(from) || from.length !== to.length) throw new Error(`bad test row: ${from} -> ${to}`);
    return line.replace(from, to);
  };
}

/** Rebuilds the chain from `entries` as someone without the signing key could. */
function rechain(entries: readonly Record<string, unknown>[]): string[] {
  let head: ChainHead = { seq: 0, hash: '0'.repeat(64) };
  return entries.map((e) => {
    const next = appendToChain(head, e);
    head = next;
    return canonicalJson(next);
  });
}

describe('verifyAuditFiles', () => {
  it('accepts an untouched file and reports its counts and head', async () => {
    const result = await verifyLines(lines);
    const last = JSON.parse(lines.at(-1) ?? '') as { hash: string };
    expect(result).toEqual({ ok: true, records: 6, checkpoints: 2, head: { seq: 8, hash: last.hash }, sealed: true });
  });

  it.each<[string, number, (line: string) => string, RegExp]>([
    ['the verb of the first record', 1, changeByte('"verb":"get"', '"verb":"gat"'), /^hash does not match/],
    ['the username of a middle record', 5, changeByte('"username":"ci:', '"username":"cj:'), /^hash does not match/],
    ['the response code of the last record', 7, changeByte('"code":200', '"code":201'), /^hash does not match/],
    ['the latency of a record', 2, changeByte('"latencyMs":12', '"latencyMs":13'), /^hash does not match/],
    ['a member name', 3, changeByte('"verb":', '"verx":'), /^hash does not match/],
    ['a digit of the stored hash', 6, (l) => l.replace(/"hash":"(.)/, (_m, c: string) => `"hash":"${c === 'a' ? 'b' : 'a'}`), /^hash does not match/],
    ['a digit of prevHash', 5, (l) => l.replace(/"prevHash":"(.)/, (_m, c: string) => `"prevHash":"${c === 'a' ? 'b' : 'a'}`), /^prevHash does not match/],
    ['the seq of a middle record', 5, changeByte('"seq":5', '"seq":6'), /^seq gap: expected 5, found 6/],
    ['the timestamp of a checkpoint', 4, changeByte('"timestamp":"20', '"timestamp":"21'), /^hash does not match/],
    ['a space added where a byte was', 2, changeByte('"verb":"get"', '"verb": get"'), /^bad JSON/],
  ])('names the record when one byte of %s changes (line %i)', async (_name, lineNo, change, reason) => {
    const tampered = lines.map((l, i) => (i === lineNo - 1 ? change(l) : l));
    expect(await verifyLines(tampered)).toEqual(broken(lineNo, lineNo, reason));
  });

  it.each([[5, 'a record'], [8, 'a checkpoint']])('catches a change to any single byte of line %i (%s), at that line', async (lineNo) => {
    const original = Buffer.from(`${lines.join('\n')}\n`);
    const start = lines.slice(0, lineNo - 1).reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    const end = start + Buffer.byteLength(lines[lineNo - 1] ?? '') + 1;
    const missed: number[] = [];
    for (let pos = start; pos < end; pos += 1) {
      const copy = Buffer.from(original);
      copy[pos] = (copy[pos] ?? 0) ^ 0x01;
      counter += 1;
      const file = join(dir, `byte-${counter}.log`);
      await writeFile(file, copy);
      const result = await verifyAuditFiles([file], { publicKeyPem: keys.publicKeyPem });
      if (result.ok || result.line !== lineNo) missed.push(pos - start);
    }
    expect(missed).toEqual([]);
  });

  it('catches a deleted record as a seq gap at the line after it', async () => {
    expect(await verifyLines([...lines.slice(0, 4), ...lines.slice(5)])).toEqual(broken(5, 5, /^seq gap: expected 5, found 6/));
  });

  it('catches reordered records', async () => {
    const swapped = [lines[0], lines[2], lines[1], ...lines.slice(3)] as string[];
    expect(await verifyLines(swapped)).toEqual(broken(2, 2, /^seq gap: expected 2, found 3/));
  });

  it('catches a copied record inserted into the file', async () => {
    const inserted = [...lines.slice(0, 2), lines[1], ...lines.slice(2)] as string[];
    expect(await verifyLines(inserted)).toEqual(broken(3, 3, /^seq out of order: expected 3, found 2/));
  });

  it('catches a forged record chained in by someone without the key, at the record it displaced', async () => {
    const head = JSON.parse(lines[1] ?? '') as ChainHead;
    const forged = canonicalJson(appendToChain(head, sampleRecord(99, { verb: 'delete' })));
    expect(await verifyLines([...lines.slice(0, 2), forged, ...lines.slice(2)])).toEqual(broken(4, 4, /^seq out of order: expected 4, found 3/));
  });

  it('catches a deleted record whose chain was recomputed only at the next signed checkpoint', async () => {
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const rewritten = rechain([...entries.slice(0, 4), ...entries.slice(5)]);
    expect(await verifyLines(rewritten, false)).toMatchObject({ ok: true, records: 5 });
    expect(await verifyLines(rewritten)).toEqual(broken(7, 7, /^bad checkpoint signature/));
  });

  it('refuses a checkpoint whose signature was stripped when a public key is given', async () => {
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const stripped = entries.map((e) => {
      if (e['kind'] !== 'AuditCheckpoint') return e;
      const { signature: _s, keyId: _k, ...rest } = e;
      return rest;
    });
    expect(await verifyLines(rechain(stripped), false)).toMatchObject({ ok: true });
    expect(await verifyLines(rechain(stripped))).toEqual(broken(4, 4, /^checkpoint is not signed, but a public key was given/));
  });

  it('names the key when checkpoints were signed by another one', async () => {
    const file = join(dir, 'other-key.log');
    await writeFile(file, lines.map((l) => `${l}\n`).join(''));
    expect(await verifyAuditFiles([file], { publicKeyPem: otherKeys.publicKeyPem }))
      .toMatchObject({ ok: false, line: 4, reason: expect.stringMatching(/^checkpoint is signed by key [0-9a-f]{16}, not by the given key [0-9a-f]{16}$/) as unknown });
  });

  it.each<[string, string[], RegExp, number]>([
    ['an incomplete last line', ['__TORN__'], /^incomplete last line/, 9],
    ['an empty line', [''], /^empty line/, 9],
    ['whitespace that leaves the values alone', ['__SPACED__'], /^not in canonical form/, 9],
    ['an unknown kind', ['{"kind":"Other"}'], /^unknown kind "Other"/, 9],
  ])('catches %s', async (_name, extra, reason, lineNo) => {
    const head = JSON.parse(lines.at(-1) ?? '') as ChainHead;
    const next = canonicalJson(appendToChain(head, sampleRecord(7)));
    const added = extra.map((l) => (l === '__SPACED__' ? next.replace('"verb":', '"verb": ') : l === '__TORN__' ? next.slice(0, 40) : l));
    counter += 1;
    const file = join(dir, `case-${counter}.log`);
    const torn = extra[0] === '__TORN__';
    await writeFile(file, [...lines, ...added].join('\n') + (torn ? '' : '\n'));
    expect(await verifyAuditFiles([file])).toMatchObject({ ok: false, line: lineNo, seq: 9, reason: expect.stringMatching(reason) as unknown });
  });

  it('accepts a file cut after a checkpoint, and reports the head it reached so an anchor kept elsewhere can tell', async () => {
    const result = await verifyLines(lines.slice(0, 4));
    expect(result).toMatchObject({ ok: true, records: 3, head: { seq: 4 }, sealed: true });
    expect(await verifyLines(lines.slice(0, 6))).toMatchObject({ ok: true, head: { seq: 6 }, sealed: false });
  });

  it('refuses a public key that is not Ed25519', async () => {
    await expect(verifyAuditFiles([], { publicKeyPem: 'not a key' })).rejects.toBeInstanceOf(CheckpointKeyError);
  });
});

describe('verifyAuditFiles across rotated files', () => {
  let files: string[] = [];

  beforeAll(async () => {
    const rotationDir = await tempDir('airlock-verify-rotation-');
    const path = join(rotationDir, 'audit.log');
    const sink = await openFileSink({ path, maxSizeBytes: 3000, maxFiles: 100, checkpoint: { keyFile: keys.privateKey } });
    for (let i = 0; i < 12; i += 1) await sink.write(sampleRecord(i));
    await sink.write(sampleRecord(12));
    files = [...(await listRotatedFiles(path)).map((f) => f.path), path];
  });

  it('checks the chain as one across files given oldest first', async () => {
    expect(files.length).toBeGreaterThan(3);
    expect(await verifyAuditFiles(files, { publicKeyPem: keys.publicKeyPem })).toMatchObject({ ok: true, records: 13 });
  });

  it('accepts a chain whose oldest files were deleted by rotation', async () => {
    expect(await verifyAuditFiles(files.slice(2))).toMatchObject({ ok: true });
  });

  it('catches a missing file in the middle as a seq gap at the start of the next one', async () => {
    const result = await verifyAuditFiles([files[0], ...files.slice(2)] as string[]);
    expect(result).toMatchObject({ ok: false, file: files[2], line: 1, reason: expect.stringMatching(/^seq gap/) as unknown });
  });

  it('catches files given newest first', async () => {
    const result = await verifyAuditFiles([files[1], files[0]] as string[]);
    expect(result).toMatchObject({ ok: false, file: files[0], line: 1, seq: expect.any(Number) as unknown, reason: expect.stringMatching(/^seq out of order/) as unknown });
  });

  it('catches entries cut from the start of a rotated file by its name', async () => {
    const oldest = files[0] ?? '';
    const cut = `${join(dir, 'copy')}.0000000000000001`;
    await writeFile(cut, (await readFile(oldest, 'utf8')).split('\n').slice(1).join('\n'));
    expect(await verifyAuditFiles([cut])).toMatchObject({
      ok: false, line: 1, seq: 1, reason: "the file's name says it starts at seq 1, but its first entry is seq 2 (entries missing at its start, or the file was renamed)",
    });
  });
});
