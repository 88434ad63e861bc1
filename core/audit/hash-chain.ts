// The hash chain that makes the audit trail tamper-evident, and the signed checkpoints in it.
//
// Every entry (record or checkpoint) carries `seq`, `prevHash` and
// `hash = sha256(prevHash + canonicalJson(entry without hash))` in hex. Changing, removing,
// inserting or reordering an entry breaks the link at that point. The chain continues across
// rotated files: the first entry of a new file carries the last hash of the previous one, and
// `seq` keeps counting, so a missing file is a visible gap.
//
// A plain hash chain needs no secret, so whoever can write the file can also rewrite its tail and
// recompute every hash after the change, and cutting entries off the end leaves a valid chain.
// Checkpoints answer both: every N entries or T seconds (and when a file is rotated or the sink is
// closed) the sink appends an `AuditCheckpoint` entry that seals the hash it follows, signed with
// an Ed25519 key the log's storage never sees. Entries before a signed checkpoint cannot be
// rewritten without the key. Truncation after the last checkpoint is still invisible inside the
// file: only an external anchor (the checkpoints shipped elsewhere, or a head {seq, hash} noted by
// someone else) can show it, which is why `verifyAuditFiles` reports the head it reached. Without
// a key, checkpoints are unsigned but still chained: they mark where files were sealed.
import { createHash, createPrivateKey, createPublicKey, hash, sign, verify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { canonicalHalves, canonicalJson } from './canonical-json.ts';
import { CheckpointKeyError } from './errors.ts';
import { AUDIT_API_VERSION, type ChainFields } from './record.ts';

export const GENESIS_HASH = '0'.repeat(64);

/** The last entry of a chain: what the next entry links to. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export const GENESIS: ChainHead = { seq: 0, hash: GENESIS_HASH };

/** A checkpoint: `prevHash` is the hash it seals (the entry before it), `seq` its own position. */
export interface AuditCheckpoint extends ChainFields {
  readonly kind: 'AuditCheckpoint';
  readonly apiVersion: typeof AUDIT_API_VERSION;
  readonly timestamp: string;
  /** sha256 of the signing key's public SPKI (DER), first 16 hex digits; absent when unsigned. */
  readonly keyId?: string;
  /** Ed25519 signature (base64) over the canonical JSON of the checkpoint without hash and signature. */
  readonly signature?: string;
}

/** sha256(prevHash + canonicalJson(entry without its `hash` member)), hex. */
export function entryHash(prevHash: string, entry: object): string {
  return sha256Hex(prevHash + canonicalJson(withoutMember(entry, 'hash')));
}

/** The content placed after `head`: next seq, linked to head's hash, hashed. */
export function appendToChain<T extends object>(head: ChainHead, content: T): Omit<T, keyof ChainFields> & ChainFields {
  const unhashed = { ...withoutMember(content, 'hash'), seq: head.seq + 1, prevHash: head.hash };
  return { ...unhashed, hash: entryHash(head.hash, unhashed) } as Omit<T, keyof ChainFields> & ChainFields;
}

export interface ChainedLine {
  readonly seq: number;
  readonly hash: string;
  /** The entry as canonical JSON, chain fields included, without the newline. */
  readonly line: string;
}

/**
 * The same entry as `appendToChain`, already serialised, with the content's members serialised
 * once for both the hash and the line (the file sink's hot path).
 */
export function chainedLine(head: ChainHead, content: object): ChainedLine {
  const seq = head.seq + 1;
  const { before, after } = canonicalHalves(content, { omit: CHAIN_MEMBERS, extra: { seq, prevHash: head.hash }, split: 'hash' });
  const hash = sha256Hex(`${head.hash}{${before}${before !== '' && after !== '' ? ',' : ''}${after}}`);
  const line = `{${before}${before === '' ? '' : ','}"hash":${JSON.stringify(hash)}${after === '' ? '' : ','}${after}}`;
  return { seq, hash, line };
}

const CHAIN_MEMBERS: ReadonlySet<string> = new Set(['seq', 'prevHash', 'hash']);

function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

function withoutMember(entry: object, member: string): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...entry };
  // Deleting from a fresh copy; the property may be absent.
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete
  delete copy[member];
  return copy;
}

export interface CheckpointSigner {
  readonly keyId: string;
  /** Returns the base64 Ed25519 signature of `payload`. */
  sign(payload: Buffer): string;
}

/** A signer from an Ed25519 private key in PEM (PKCS#8), e.g. `openssl genpkey -algorithm ed25519`. */
export function checkpointSignerFromPem(pem: string | Buffer, source = 'checkpoint key'): CheckpointSigner {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new CheckpointKeyError(source, 'not a PEM private key; create one with `openssl genpkey -algorithm ed25519`', error);
  }
  requireEd25519(key, source);
  const keyId = keyIdOf(createPublicKey(key));
  return { keyId, sign: (payload) => sign(null, payload, key).toString('base64') };
}

/** Reads the signing key from a PEM file (the gateway's `audit.checkpointKeyFile`). */
export async function loadCheckpointSigner(keyFile: string): Promise<CheckpointSigner> {
  let pem: Buffer;
  try {
    pem = await readFile(keyFile);
  } catch (error) {
    throw new CheckpointKeyError(keyFile, 'cannot read the checkpoint signing key file', error);
  }
  return checkpointSignerFromPem(pem, keyFile);
}

/** The verification key from a PEM public key (or a private key, whose public half is used). */
export function checkpointPublicKey(pem: string | Buffer, source = 'public key'): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new CheckpointKeyError(source, 'not a PEM public key; derive it with `openssl pkey -in KEY -pubout`', error);
  }
  requireEd25519(key, source);
  return key;
}

function requireEd25519(key: KeyObject, source: string): void {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new CheckpointKeyError(source, `checkpoints are signed with Ed25519, this key is ${key.asymmetricKeyType ?? 'symmetric'}`);
  }
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** The bytes a checkpoint's signature covers. */
export function checkpointSigningPayload(checkpoint: object): Buffer {
  return Buffer.from(canonicalJson(withoutMember(withoutMember(checkpoint, 'hash'), 'signature')));
}

/** The checkpoint that seals `head`, chained after it, signed when a signer is given. */
export function buildCheckpoint(head: ChainHead, options: { readonly timestamp: Date; readonly signer?: CheckpointSigner }): AuditCheckpoint {
  const unsigned: Omit<AuditCheckpoint, 'hash' | 'signature'> = {
    kind: 'AuditCheckpoint',
    apiVersion: AUDIT_API_VERSION,
    timestamp: options.timestamp.toISOString(),
    seq: head.seq + 1,
    prevHash: head.hash,
    ...(options.signer === undefined ? {} : { keyId: options.signer.keyId }),
  };
  const signed: Omit<AuditCheckpoint, 'hash'> = options.signer === undefined
    ? unsigned
    : { ...unsigned, signature: options.signer.sign(checkpointSigningPayload(unsigned)) };
  return { ...signed, hash: entryHash(head.hash, signed) };
}

export type SignatureCheck = 'valid' | 'unsigned' | 'invalid' | 'other-key';

/** Checks a checkpoint's signature against the verification key. */
export function checkCheckpointSignature(checkpoint: Record<string, unknown>, publicKey: KeyObject): SignatureCheck {
  const signature = checkpoint['signature'];
  if (typeof signature !== 'string') return 'unsigned';
  if (checkpoint['keyId'] !== keyIdOf(publicKey)) return 'other-key';
  const ok = verify(null, checkpointSigningPayload(checkpoint), publicKey, Buffer.from(signature, 'base64'));
  return ok ? 'valid' : 'invalid';
}
