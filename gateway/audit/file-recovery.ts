// Finding where the chain stands when the file sink (re)opens: the last entry of the active file,
// or, when that file is empty or missing (a crash right after a rotation), the last entry of the
// newest rotated file. Only the two ends of a file are read, so opening stays fast however large
// the file is; `verifyAuditFiles` is what checks the whole chain.
//
// A last line without its newline is a write that crashed half way. Its record was never
// acknowledged (acknowledgement waits for fsync), so the request it describes was refused under
// FailClosed; the partial bytes are cut so the chain can continue, and the count is reported.
import { open, type FileHandle } from 'node:fs/promises';
import { AuditSinkError } from '../../core/audit/errors.ts';
import { listRotatedFiles } from '../../core/audit/file-layout.ts';
import { entryHash, GENESIS, type ChainHead } from '../../core/audit/hash-chain.ts';

export type EntryKind = 'AuditRecord' | 'AuditCheckpoint';

export interface RecoveredChain {
  readonly head: ChainHead;
  /** The kind of the entry at the head; undefined at genesis. */
  readonly headKind?: EntryKind;
  /** The seq of the active file's first entry; undefined while it is empty. */
  readonly activeFirstSeq?: number;
  /** The active file's size after any incomplete last line was cut. */
  readonly activeSize: number;
  /** Bytes of an incomplete last line cut from the active file. */
  readonly discardedBytes: number;
  /** The file the head was read from; undefined at genesis. */
  readonly from?: string;
}

interface FileEnds {
  readonly size: number;
  readonly discardedBytes: number;
  readonly firstLine?: string;
  readonly lastLine?: string;
}

const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

export async function recoverChain(activePath: string, sink: string): Promise<RecoveredChain> {
  const active = await readFileEnds(activePath, { cutIncompleteLine: true, sink });
  if (active.lastLine !== undefined && active.firstLine !== undefined) {
    const last = parseEntry(active.lastLine, { file: activePath, which: 'last', sink });
    const first = parseEntry(active.firstLine, { file: activePath, which: 'first', sink });
    return {
      head: { seq: last.seq, hash: last.hash }, headKind: last.kind, activeFirstSeq: first.seq,
      activeSize: active.size, discardedBytes: active.discardedBytes, from: activePath,
    };
  }
  const newest = (await listRotatedFiles(activePath)).at(-1);
  if (newest === undefined) return { head: GENESIS, activeSize: active.size, discardedBytes: active.discardedBytes };
  const rotated = await readFileEnds(newest.path, { cutIncompleteLine: false, sink });
  if (rotated.lastLine === undefined) {
    throw new AuditSinkError('corrupt_file', sink, `${newest.path}: a rotated audit file is empty; move it aside and keep it for investigation`);
  }
  const last = parseEntry(rotated.lastLine, { file: newest.path, which: 'last', sink });
  return { head: { seq: last.seq, hash: last.hash }, headKind: last.kind, activeSize: active.size, discardedBytes: active.discardedBytes, from: newest.path };
}

interface ParsedEntry {
  readonly kind: EntryKind;
  readonly seq: number;
  readonly hash: string;
}

function parseEntry(line: string, where: { file: string; which: 'first' | 'last'; sink: string }): ParsedEntry {
  const corrupt = (why: string): AuditSinkError => new AuditSinkError('corrupt_file', where.sink,
    `${where.file}: its ${where.which} line is not a valid audit entry (${why}); move the file aside `
    + '(the sink then continues from the previous file) and keep it for investigation');
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    throw corrupt('bad JSON');
  }
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw corrupt('not an object');
  const { kind, seq, prevHash, hash } = entry as Record<string, unknown>;
  if (kind !== 'AuditRecord' && kind !== 'AuditCheckpoint') throw corrupt('unknown kind');
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) throw corrupt('no valid seq');
  if (typeof prevHash !== 'string' || typeof hash !== 'string') throw corrupt('no prevHash or hash');
  if (entryHash(prevHash, entry) !== hash) throw corrupt('its hash does not match its content');
  return { kind, seq, hash };
}

async function readFileEnds(path: string, options: { cutIncompleteLine: boolean; sink: string }): Promise<FileEnds> {
  let handle: FileHandle;
  try {
    handle = await open(path, options.cutIncompleteLine ? 'r+' : 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { size: 0, discardedBytes: 0 };
    throw new AuditSinkError('open_failed', options.sink, `cannot open ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    let size = (await handle.stat()).size;
    let discardedBytes = 0;
    if (size > 0 && (await readRange(handle, size - 1, size))[0] !== NEWLINE) {
      if (!options.cutIncompleteLine) throw new AuditSinkError('corrupt_file', options.sink, `${path}: a rotated audit file ends in an incomplete line`);
      const keep = (await lastNewlineBefore(handle, size)) + 1;
      await handle.truncate(keep);
      await handle.sync();
      discardedBytes = size - keep;
      size = keep;
    }
    if (size === 0) return { size, discardedBytes };
    const lastStart = (await lastNewlineBefore(handle, size - 1)) + 1;
    const lastLine = (await readRange(handle, lastStart, size - 1)).toString('utf8');
    const firstLine = (await readRange(handle, 0, await firstNewline(handle, size))).toString('utf8');
    return { size, discardedBytes, firstLine, lastLine };
  } finally {
    await handle.close();
  }
}

/** The position of the last newline before `end`, or -1. */
async function lastNewlineBefore(handle: FileHandle, end: number): Promise<number> {
  let pos = end;
  while (pos > 0) {
    const start = Math.max(0, pos - CHUNK);
    const index = (await readRange(handle, start, pos)).lastIndexOf(NEWLINE);
    if (index >= 0) return start + index;
    pos = start;
  }
  return -1;
}

/** The position of the first newline (the file is known to end with one). */
async function firstNewline(handle: FileHandle, size: number): Promise<number> {
  for (let start = 0; start < size; start += CHUNK) {
    const index = (await readRange(handle, start, Math.min(size, start + CHUNK))).indexOf(NEWLINE);
    if (index >= 0) return start + index;
  }
  return size;
}

async function readRange(handle: FileHandle, start: number, end: number): Promise<Buffer> {
  const buffer = Buffer.alloc(end - start);
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, start + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}
