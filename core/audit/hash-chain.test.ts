import { createHash, generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointKeyError } from './errors.ts';
import { canonicalJson } from './canonical-json.ts';
import { appendToChain, buildCheckpoint, chainedLine, checkCheckpointSignature, checkpointPublicKey, checkpointSignerFromPem, entryHash, GENESIS, GENESIS_HASH, keyIdOf, loadCheckpointSigner } from './hash-chain.ts';
import { sampleRecord, tempDir, writeEd25519Keys } from './test-fixtures.ts';

describe('the hash chain', () => {
  it('hashes sha256(prevHash + canonical JSON without hash), in hex', () => {
    const entry = { seq: 1, prevHash: GENESIS_HASH, b: 'x', a: 1, hash: 'ignored' };
    const expected = createHash('sha256').update(`${GENESIS_HASH}{"a":1,"b":"x","prevHash":"${GENESIS_HASH}","seq":1}`).digest('hex');
    expect(entryHash(GENESIS_HASH, entry)).toBe(expected);
  });

  it('links each entry to the one before it and counts seq from 1', () => {
    const first = appendToChain(GENESIS, sampleRecord(1));
    const second = appendToChain(first, sampleRecord(2));
    expect([first.seq, first.prevHash]).toEqual([1, GENESIS_HASH]);
    expect([second.seq, second.prevHash]).toEqual([2, first.hash]);
    expect(second.hash).toBe(entryHash(first.hash, second));
  });

  it.each<[string, object]>([
    ['a Metadata record', sampleRecord(1)],
    ['a record with a request body and undefined members', { ...sampleRecord(2, { level: 'Request', requestObject: { b: [1, undefined], a: 'x' } }), userAgent: undefined }],
    ['content carrying stale chain fields', { ...sampleRecord(3), seq: 99, prevHash: 'f'.repeat(64), hash: 'e'.repeat(64) }],
    ['content with one member before "hash"', { a: 1 }],
    ['content with members only after "hash"', { z: 'last', kind: 'x' }],
    ['empty content', {}],
  ])('serialises %s on the fast path exactly as canonicalJson(appendToChain(...)) does', (_name, content) => {
    const head = { seq: 9, hash: 'b'.repeat(64) };
    const expected = appendToChain(head, content);
    expect(chainedLine(head, content)).toEqual({ seq: 10, hash: expected.hash, line: canonicalJson(expected) });
  });

  it('re-chains content that already carries chain fields instead of trusting them', () => {
    const stale = { ...appendToChain(GENESIS, sampleRecord(1)), hash: 'f'.repeat(64), seq: 99 };
    const entry = appendToChain({ seq: 4, hash: 'a'.repeat(64) }, stale);
    expect(entry.seq).toBe(5);
    expect(entry.hash).toBe(entryHash('a'.repeat(64), entry));
  });
});

describe('checkpoints', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signer = checkpointSignerFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const head = { seq: 41, hash: 'c'.repeat(64) };
  const at = new Date('2025-06-01T10:00:00Z');

  it('seals the head it follows, is chained like a record and is signed with Ed25519', () => {
    const checkpoint = buildCheckpoint(head, { timestamp: at, signer });
    expect(checkpoint).toMatchObject({ kind: 'AuditCheckpoint', apiVersion: 'audit.airlock.dev/v1', seq: 42, prevHash: head.hash, timestamp: '2025-06-01T10:00:00.000Z', keyId: keyIdOf(publicKey) });
    expect(checkpoint.hash).toBe(entryHash(head.hash, checkpoint));
    expect(checkCheckpointSignature({ ...checkpoint }, publicKey)).toBe('valid');
  });

  it('is unsigned but still chained without a key', () => {
    const checkpoint = buildCheckpoint(head, { timestamp: at });
    expect(checkpoint).not.toHaveProperty('signature');
    expect(checkpoint).not.toHaveProperty('keyId');
    expect(checkpoint.hash).toBe(entryHash(head.hash, checkpoint));
    expect(checkCheckpointSignature({ ...checkpoint }, publicKey)).toBe('unsigned');
  });

  it.each<[string, Record<string, unknown>]>([
    ['the sealed hash', { prevHash: 'd'.repeat(64) }],
    ['its seq', { seq: 43 }],
    ['its timestamp', { timestamp: '2025-06-01T10:00:01.000Z' }],
  ])('fails its signature check when %s changes', (_name, change) => {
    const checkpoint = { ...buildCheckpoint(head, { timestamp: at, signer }), ...change };
    expect(checkCheckpointSignature(checkpoint, publicKey)).toBe('invalid');
  });

  it('names a checkpoint signed by another key', () => {
    const other = generateKeyPairSync('ed25519');
    expect(checkCheckpointSignature({ ...buildCheckpoint(head, { timestamp: at, signer }) }, other.publicKey)).toBe('other-key');
  });
});

describe('checkpoint keys', () => {
  it('loads an Ed25519 key from a PEM file and verifies with its public half', async () => {
    const keys = await writeEd25519Keys(await tempDir());
    const loaded = await loadCheckpointSigner(keys.privateKey);
    const publicKey = checkpointPublicKey(keys.publicKeyPem);
    expect(loaded.keyId).toBe(keyIdOf(publicKey));
    expect(checkCheckpointSignature({ ...buildCheckpoint(GENESIS, { timestamp: new Date(), signer: loaded }) }, publicKey)).toBe('valid');
  });

  it.each<[string, () => Promise<string>, RegExp]>([
    ['a missing file', async () => join(await tempDir(), 'absent.pem'), /cannot read the checkpoint signing key file/],
    ['a file that is not PEM', async () => { const p = join(await tempDir(), 'k.pem'); await writeFile(p, 'hello'); return p; }, /not a PEM private key; create one with `openssl genpkey -algorithm ed25519`/],
    ['an EC P-256 key', async () => {
      const p = join(await tempDir(), 'ec.pem');
      await writeFile(p, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
      return p;
    }, /checkpoints are signed with Ed25519, this key is ec/],
  ])('refuses %s with a CheckpointKeyError naming the file and the fix', async (_name, makePath, message) => {
    const path = await makePath();
    const error = await loadCheckpointSigner(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointKeyError);
    expect(error).toMatchObject({ code: 'invalid_checkpoint_key', source: path, message: expect.stringMatching(message) as unknown });
  });
});
