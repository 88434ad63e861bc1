// Checks audit files end to end and names the first entry where the chain breaks.
//
// Files are given oldest first (`audit.log.* audit.log` in a shell lists them so) and checked as
// one chain: seq must count up by one across files and each entry must link to the hash before
// it. Every line must be exactly the canonical JSON of its entry, so a change to any byte is
// caught, including ones that leave the parsed values alone. With a public key, every checkpoint
// must carry a valid signature by that key.
//
// A chain may start after seq 1 (older files deleted by rotation). A rotated file's name says
// where it starts, and a file that starts elsewhere was cut at its start. What no file can show
// is entries cut from the end of the newest file; compare the reported head with an anchor kept
// elsewhere (see hash-chain.ts).
import { createReadStream } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { firstSeqFromName } from './file-layout.ts';
import { canonicalJson } from './canonical-json.ts';
import { checkCheckpointSignature, checkpointPublicKey, entryHash, GENESIS_HASH, keyIdOf, type ChainHead } from './hash-chain.ts';

export interface VerifyOptions {
  /** Ed25519 public key (PEM) that must have signed every checkpoint. */
  readonly publicKeyPem?: string | Buffer;
}

export interface VerifyOk {
  readonly ok: true;
  readonly records: number;
  readonly checkpoints: number;
  /** The last entry: compare it with an external anchor to detect a cut-off end. */
  readonly head?: ChainHead;
  /** The last entry is a checkpoint (the file was closed or rotated cleanly). */
  readonly sealed: boolean;
}

export interface VerifyBroken {
  readonly ok: false;
  readonly file: string;
  /** 1-based line number in `file`. */
  readonly line: number;
  /** The seq the chain expected at that line (undefined when nothing before it told). */
  readonly seq?: number;
  readonly reason: string;
}

export type VerifyResult = VerifyOk | VerifyBroken;

const HEX64 = /^[0-9a-f]{64}$/;

/** Throws CheckpointKeyError on an unusable key and the fs error when a file cannot be read. */
export async function verifyAuditFiles(paths: readonly string[], options: VerifyOptions = {}): Promise<VerifyResult> {
  const key = options.publicKeyPem === undefined ? undefined : checkpointPublicKey(options.publicKeyPem);
  const chain = new ChainVerifier(key);
  for (const file of paths) {
    chain.startFile(file);
    let lineNo = 0;
    for await (const { line, complete } of readLines(file)) {
      lineNo += 1;
      const reason = complete ? chain.check(line) : 'incomplete last line (a write cut short, or bytes removed)';
      if (reason !== undefined) return { ok: false, file, line: lineNo, ...chain.seqForReport(), reason };
    }
  }
  return chain.result();
}

class ChainVerifier {
  readonly #key: KeyObject | undefined;
  #expectedSeq: number | undefined;
  #prevHash: string | undefined;
  #fileFirstSeq: number | undefined;
  #atFileStart = true;
  #claimedSeq: number | undefined;
  #records = 0;
  #checkpoints = 0;
  #sealed = false;

  constructor(key: KeyObject | undefined) {
    this.#key = key;
  }

  startFile(file: string): void {
    this.#fileFirstSeq = firstSeqFromName(file);
    this.#atFileStart = true;
  }

  /** The seq the broken line should have had, or failing that the one it claims. */
  seqForReport(): { seq?: number } {
    const seq = this.#expectedSeq ?? (this.#atFileStart ? this.#fileFirstSeq : undefined) ?? this.#claimedSeq;
    return seq === undefined ? {} : { seq };
  }

  result(): VerifyOk {
    const head = this.#expectedSeq === undefined || this.#prevHash === undefined
      ? undefined : { seq: this.#expectedSeq - 1, hash: this.#prevHash };
    return { ok: true, records: this.#records, checkpoints: this.#checkpoints, ...(head === undefined ? {} : { head }), sealed: this.#sealed };
  }

  /** Returns why the line breaks the chain, or undefined and moves the chain on. */
  check(line: Buffer): string | undefined {
    this.#claimedSeq = undefined;
    if (line.length === 0) return 'empty line';
    let entry: unknown;
    try {
      entry = JSON.parse(line.toString('utf8'));
    } catch (error) {
      return `bad JSON (${(error as Error).message})`;
    }
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return 'not a JSON object';
    const e = entry as Record<string, unknown>;
    this.#claimedSeq = typeof e['seq'] === 'number' ? e['seq'] : undefined;
    const reason = checkShape(e) ?? this.#checkPosition(e) ?? checkContent(e, line) ?? this.#checkSignature(e);
    if (reason !== undefined) return reason;
    this.#expectedSeq = (e['seq'] as number) + 1;
    this.#prevHash = e['hash'] as string;
    this.#atFileStart = false;
    this.#sealed = e['kind'] === 'AuditCheckpoint';
    if (this.#sealed) this.#checkpoints += 1;
    else this.#records += 1;
    return undefined;
  }

  #checkPosition(e: Record<string, unknown>): string | undefined {
    const seq = e['seq'] as number;
    const prevHash = e['prevHash'] as string;
    if (this.#atFileStart && this.#fileFirstSeq !== undefined && seq !== this.#fileFirstSeq) {
      return `the file's name says it starts at seq ${this.#fileFirstSeq}, but its first entry is seq ${seq} (entries missing at its start, or the file was renamed)`;
    }
    if (this.#expectedSeq === undefined) {
      if (seq === 1 && prevHash !== GENESIS_HASH) return 'the first entry of a chain (seq 1) must have prevHash 0000…';
      return undefined;
    }
    if (seq > this.#expectedSeq) return `seq gap: expected ${this.#expectedSeq}, found ${seq} (entries deleted or reordered)`;
    if (seq < this.#expectedSeq) return `seq out of order: expected ${this.#expectedSeq}, found ${seq} (entries inserted, duplicated or reordered)`;
    if (prevHash !== this.#prevHash) return 'prevHash does not match the hash of the entry before it';
    return undefined;
  }

  #checkSignature(e: Record<string, unknown>): string | undefined {
    if (e['kind'] !== 'AuditCheckpoint' || this.#key === undefined) return undefined;
    switch (checkCheckpointSignature(e, this.#key)) {
      case 'valid': return undefined;
      case 'unsigned': return 'checkpoint is not signed, but a public key was given';
      case 'other-key': return `checkpoint is signed by key ${String(e['keyId'])}, not by the given key ${keyIdOf(this.#key)}`;
      case 'invalid': return 'bad checkpoint signature';
    }
  }
}

function checkShape(e: Record<string, unknown>): string | undefined {
  const { kind, seq, prevHash, hash } = e;
  if (kind !== 'AuditRecord' && kind !== 'AuditCheckpoint') return kind === undefined ? 'no kind' : `unknown kind ${JSON.stringify(kind)}`;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return 'seq is missing or not a positive integer';
  if (typeof prevHash !== 'string' || !HEX64.test(prevHash)) return 'prevHash is missing or not 64 hex digits';
  if (typeof hash !== 'string' || !HEX64.test(hash)) return 'hash is missing or not 64 hex digits';
  return undefined;
}

function checkContent(e: Record<string, unknown>, line: Buffer): string | undefined {
  if (entryHash(e['prevHash'] as string, e) !== e['hash']) return 'hash does not match the entry\'s content';
  if (!Buffer.from(canonicalJson(e), 'utf8').equals(line)) return 'not in canonical form (bytes changed that do not change the parsed values)';
  return undefined;
}

/** Lines split on \n only (a stray \r is content, so it is caught); `complete` is false for a last line without \n. */
async function* readLines(file: string): AsyncGenerator<{ line: Buffer; complete: boolean }> {
  let carry = Buffer.alloc(0);
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    let data = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
    let newline = data.indexOf(0x0a);
    while (newline >= 0) {
      yield { line: data.subarray(0, newline), complete: true };
      data = data.subarray(newline + 1);
      newline = data.indexOf(0x0a);
    }
    carry = Buffer.from(data);
  }
  if (carry.length > 0) yield { line: carry, complete: false };
}
