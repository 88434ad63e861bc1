// Audit records as JSON lines in a local file, hash-chained, fsynced before `write` resolves.
//
// Group commit: writes that arrive while a batch is being written wait for the next batch, which
// is appended with one write and made durable with one fdatasync. Each caller still learns only
// after its own bytes are on disk, and the disk sees one sync per batch rather than per record.
// One drain loop owns the file, so the chain (seq, prevHash) is extended in arrival order however
// many callers write at once.
//
// Rotation is by size: before the file would exceed `maxSizeBytes` the sink appends a sealing
// checkpoint, renames the file to `<path>.<first seq>` (see file-layout.ts) and starts a new one
// that continues the chain. At most `maxFiles` files are kept, the active one included; the
// oldest rotated files are deleted. A file can exceed the limit by one checkpoint line, or hold a
// single record larger than the limit.
//
// After a failed write or fsync the file's state is unknown (some bytes may have landed), so the
// sink rejects the batch and, on the next write, reopens and reads the chain head back from disk.
import { writeSync } from 'node:fs';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AuditSinkError, describeError } from '../../core/audit/errors.ts';
import { listRotatedFiles, rotatedFileName } from '../../core/audit/file-layout.ts';
import { recoverChain, type RecoveredChain } from './file-recovery.ts';
import { canonicalJson } from '../../core/audit/canonical-json.ts';
import { buildCheckpoint, chainedLine, loadCheckpointSigner, type ChainedLine, type ChainHead, type CheckpointSigner } from '../../core/audit/hash-chain.ts';
import type { UnchainedAuditRecord } from '../../core/audit/record.ts';
import type { AuditSink, WriteOptions } from './sink.ts';

export interface FileSinkOptions {
  /** The active file, e.g. /var/log/airlock/audit.log. Its directory must exist. */
  readonly path: string;
  readonly maxSizeBytes: number;
  /** Files kept, the active one included (1: rotated files are deleted at once). */
  readonly maxFiles: number;
  readonly checkpoint?: {
    /** Append a checkpoint after this many records (default 1000). */
    readonly everyRecords?: number;
    /** ... or once this long has passed since the last one and records followed it (default 10 s). */
    readonly intervalMs?: number;
    /** Ed25519 private key (PEM) that signs checkpoints; without it they are unsigned. */
    readonly keyFile?: string;
  };
  /** Metrics and log name (default `file`). */
  readonly name?: string;
  readonly now?: () => Date;
  /** A checkpoint the interval timer wrote failed; no request was waiting for it. */
  readonly onBackgroundError?: (error: AuditSinkError) => void;
}

export interface FileSinkStats {
  readonly records: number;
  readonly checkpoints: number;
  /** fdatasync rounds: fewer than records when group commit batched them or writes did not wait. */
  readonly syncs: number;
  readonly rotations: number;
}

interface Pending {
  /** undefined: a checkpoint request. */
  readonly record: UnchainedAuditRecord | undefined;
  /** Wait for fdatasync (false: resolved once written). */
  readonly sync: boolean;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** What the chain looks like at the end of the bytes synced so far (or being assembled). */
interface ChainState {
  head: ChainHead;
  sinceCheckpoint: number;
  lastCheckpointAt: number;
  activeFirstSeq: number | undefined;
  size: number;
}

/** Lines assembled for one write + fdatasync, and the callers waiting for them. */
interface Segment {
  text: string;
  bytes: number;
  records: number;
  checkpoints: number;
  readonly waiting: Pending[];
}

function emptySegment(): Segment {
  return { text: '', bytes: 0, records: 0, checkpoints: 0, waiting: [] };
}

const MAX_BATCH = 4096;

/**
 * Opens (or creates) the active file and reads the chain head back from disk. Throws TypeError on
 * bad options, CheckpointKeyError on an unusable key, AuditSinkError when the file cannot be
 * opened or its ends are not valid entries: the gateway should not start without its audit trail.
 */
export function openFileSink(options: FileSinkOptions): Promise<FileSink> {
  return FileSink.open(options);
}

interface Settings {
  readonly path: string;
  readonly maxSizeBytes: number;
  readonly maxFiles: number;
  readonly everyRecords: number;
  readonly intervalMs: number;
  readonly name: string;
  readonly now: () => Date;
  readonly onBackgroundError: (error: AuditSinkError) => void;
}

function settingsFrom(options: FileSinkOptions): Settings {
  const problems: string[] = [];
  const positive = (value: number | undefined, field: string, fallback: number): number => {
    const v = value ?? fallback;
    if (!Number.isSafeInteger(v) || v < 1) problems.push(`${field} must be a positive integer, got ${String(value)}`);
    return v;
  };
  const settings: Settings = {
    path: options.path,
    maxSizeBytes: positive(options.maxSizeBytes, 'maxSizeBytes', 0),
    maxFiles: positive(options.maxFiles, 'maxFiles', 0),
    everyRecords: positive(options.checkpoint?.everyRecords, 'checkpoint.everyRecords', 1000),
    intervalMs: positive(options.checkpoint?.intervalMs, 'checkpoint.intervalMs', 10_000),
    name: options.name ?? 'file',
    now: options.now ?? (() => new Date()),
    onBackgroundError: options.onBackgroundError ?? (() => undefined),
  };
  if (options.path === '') problems.push('path is empty');
  if (problems.length > 0) throw new TypeError(`file audit sink: ${problems.join('; ')}`);
  return settings;
}

export class FileSink implements AuditSink {
  readonly name: string;
  readonly #settings: Settings;
  readonly #signer: CheckpointSigner | undefined;
  #handle: FileHandle | undefined;
  #state: ChainState | undefined;
  #needsReopen = true;
  #recovery: RecoveredChain | undefined;
  readonly #queue: Pending[] = [];
  #unsettled = 0;
  #draining = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #stats = { records: 0, checkpoints: 0, syncs: 0, rotations: 0 };

  static async open(options: FileSinkOptions): Promise<FileSink> {
    const settings = settingsFrom(options);
    const signer = options.checkpoint?.keyFile === undefined ? undefined : await loadCheckpointSigner(options.checkpoint.keyFile);
    const sink = new FileSink(settings, signer);
    await sink.#reopen();
    sink.#scheduleCheckpoint();
    return sink;
  }

  /** Use `openFileSink`. */
  private constructor(settings: Settings, signer: CheckpointSigner | undefined) {
    this.name = settings.name;
    this.#settings = settings;
    this.#signer = signer;
  }

  /** How the chain head was found at the last (re)open. */
  get recovery(): RecoveredChain | undefined {
    return this.#recovery;
  }

  stats(): FileSinkStats {
    return { ...this.#stats };
  }

  queueDepth(): number {
    return this.#unsettled;
  }

  /**
   * Resolves once the record's line is fsynced (or, with `sync: false`, written to the file; a
   * batch of such writes only is not fsynced, the next synced batch covers it); rejects with an
   * AuditSinkError otherwise.
   */
  write(record: UnchainedAuditRecord, options: WriteOptions = {}): Promise<void> {
    return this.#enqueue(record, options.sync ?? true);
  }

  /** Appends a checkpoint now if any record followed the last one. */
  checkpoint(): Promise<void> {
    return this.#enqueue(undefined, true);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    const final = this.checkpoint();
    this.#closed = true;
    clearTimeout(this.#timer);
    try {
      await final;
    } finally {
      await this.#releaseHandle();
    }
  }

  /** Reads the chain head back from disk and opens the active file for appending. */
  async #reopen(): Promise<void> {
    await this.#releaseHandle();
    const { path, name } = this.#settings;
    const recovery = await recoverChain(path, name);
    const existed = await stat(path).then(() => true, () => false);
    try {
      this.#handle = await open(path, 'a', 0o600);
      if (!existed) await syncDirectory(path);
    } catch (error) {
      await this.#releaseHandle();
      throw new AuditSinkError('open_failed', name, `cannot open ${path} for appending: ${describeError(error)}`, { cause: error });
    }
    this.#recovery = recovery;
    this.#state = {
      head: recovery.head,
      // A head that is a record (a crash before the closing checkpoint) is sealed soon.
      sinceCheckpoint: recovery.headKind === 'AuditRecord' ? 1 : 0,
      lastCheckpointAt: this.#settings.now().getTime(),
      activeFirstSeq: recovery.activeFirstSeq,
      size: recovery.activeSize,
    };
    this.#needsReopen = false;
  }

  #enqueue(record: UnchainedAuditRecord | undefined, sync: boolean): Promise<void> {
    if (this.#closed) return Promise.reject(new AuditSinkError('sink_closed', this.name, 'the file audit sink is closed'));
    this.#unsettled += 1;
    const settled = (): void => { this.#unsettled -= 1; };
    const done = new Promise<void>((resolve, reject) => { this.#queue.push({ record, sync, resolve, reject }); });
    if (!this.#draining) void this.#drain();
    return done.finally(settled);
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#queue.length > 0) await this.#commit(this.#queue.splice(0, MAX_BATCH));
    } finally {
      this.#draining = false;
    }
    this.#scheduleCheckpoint();
  }

  /** Appends one batch; never throws: every caller in the batch is resolved or rejected. */
  async #commit(batch: readonly Pending[]): Promise<void> {
    try {
      if (this.#needsReopen || this.#state === undefined) await this.#reopen();
      const state = this.#state;
      if (state === undefined) throw new Error('no chain state after reopen');
      const next: ChainState = { ...state };
      let segment = emptySegment();
      for (const item of batch) {
        if (item.record === undefined) {
          if (next.sinceCheckpoint > 0) this.#appendCheckpoint(next, segment);
        } else {
          let entry = chainedLine(next.head, item.record);
          if (this.#wouldOverflow(next, segment, entry)) {
            segment = await this.#rotate(next, segment);
            // The sealing checkpoint moved the head: chain the record after it.
            entry = chainedLine(next.head, item.record);
          }
          this.#appendRecord(next, segment, entry);
          if (next.sinceCheckpoint >= this.#settings.everyRecords) this.#appendCheckpoint(next, segment);
        }
        segment.waiting.push(item);
      }
      if (this.#checkpointDue(next)) this.#appendCheckpoint(next, segment);
      await this.#flush(next, segment);
    } catch (error) {
      this.#needsReopen = true;
      const failure = error instanceof AuditSinkError ? error
        : new AuditSinkError('write_failed', this.name, `cannot write to ${this.#settings.path}: ${describeError(error)}`, { cause: error });
      // Callers already resolved by an earlier segment of this batch are unaffected.
      for (const item of batch) item.reject(failure);
    }
  }

  #wouldOverflow(next: ChainState, segment: Segment, entry: ChainedLine): boolean {
    const used = next.size + segment.bytes;
    return used > 0 && used + Buffer.byteLength(entry.line) + 1 > this.#settings.maxSizeBytes;
  }

  #appendRecord(next: ChainState, segment: Segment, entry: ChainedLine): void {
    const line = `${entry.line}\n`;
    if (next.size + segment.bytes === 0) next.activeFirstSeq = entry.seq;
    next.head = { seq: entry.seq, hash: entry.hash };
    next.sinceCheckpoint += 1;
    segment.text += line;
    segment.bytes += Buffer.byteLength(line);
    segment.records += 1;
  }

  #appendCheckpoint(next: ChainState, segment: Segment): void {
    const now = this.#settings.now();
    const checkpoint = buildCheckpoint(next.head, { timestamp: now, ...(this.#signer === undefined ? {} : { signer: this.#signer }) });
    const line = `${canonicalJson(checkpoint)}\n`;
    if (next.size + segment.bytes === 0) next.activeFirstSeq = checkpoint.seq;
    next.head = { seq: checkpoint.seq, hash: checkpoint.hash };
    next.sinceCheckpoint = 0;
    next.lastCheckpointAt = now.getTime();
    segment.text += line;
    segment.bytes += Buffer.byteLength(line);
    segment.checkpoints += 1;
  }

  #checkpointDue(next: ChainState): boolean {
    return next.sinceCheckpoint > 0 && this.#settings.now().getTime() - next.lastCheckpointAt >= this.#settings.intervalMs;
  }

  /**
   * Writes the segment, fdatasyncs unless no caller in it waits for that (`sync: false` only), then
   * resolves its callers and commits the chain state. One fdatasync covers every earlier write.
   */
  async #flush(next: ChainState, segment: Segment, forceSync = false): Promise<void> {
    const handle = this.#handle;
    if (handle === undefined) throw new Error('the file is not open');
    if (segment.bytes > 0) {
      writeAll(handle, Buffer.from(segment.text, 'utf8'));
      if (forceSync || segment.waiting.some((item) => item.sync)) {
        await handle.datasync();
        this.#stats.syncs += 1;
      }
      this.#stats.records += segment.records;
      this.#stats.checkpoints += segment.checkpoints;
    }
    next.size += segment.bytes;
    this.#state = { ...next };
    for (const item of segment.waiting) item.resolve();
  }

  /** Seals and syncs the current file, renames it, and starts a new one; returns a fresh segment. */
  async #rotate(next: ChainState, segment: Segment): Promise<Segment> {
    this.#appendCheckpoint(next, segment);
    await this.#flush(next, segment, true);
    const { path, maxFiles } = this.#settings;
    const firstSeq = next.activeFirstSeq ?? next.head.seq;
    const target = rotatedFileName(path, firstSeq);
    if (await stat(target).then(() => true, () => false)) throw new Error(`${target} already exists; refusing to overwrite it`);
    await this.#releaseHandle();
    await rename(path, target);
    this.#handle = await open(path, 'a', 0o600);
    await syncDirectory(path);
    this.#stats.rotations += 1;
    next.size = 0;
    next.activeFirstSeq = undefined;
    this.#state = { ...next };
    const rotated = await listRotatedFiles(path);
    for (const old of rotated.slice(0, Math.max(0, rotated.length - (maxFiles - 1)))) await unlink(old.path);
    return emptySegment();
  }

  #scheduleCheckpoint(): void {
    const state = this.#state;
    if (this.#closed || this.#timer !== undefined || state === undefined || state.sinceCheckpoint === 0) return;
    // At most one interval: a wall clock stepped back (NTP) would otherwise ask for a wait as long
    // as the step, and past 24.8 days Node fires such a timer at once, with a warning.
    const due = state.lastCheckpointAt + this.#settings.intervalMs - this.#settings.now().getTime();
    const wait = Math.min(this.#settings.intervalMs, Math.max(0, due));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.checkpoint().catch((error: unknown) => {
        if (error instanceof AuditSinkError) this.#settings.onBackgroundError(error);
      });
    }, wait);
    this.#timer.unref();
  }

  async #releaseHandle(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Appends on the event loop's thread: a batch of records into the page cache takes microseconds,
 * less than handing it to the thread pool and back (two thread wake-ups per write, which at low
 * concurrency cost more than the write: BENCHMARKS.md). Only fdatasync, which waits for the disk,
 * goes to the thread pool.
 */
function writeAll(handle: FileHandle, data: Buffer): void {
  let offset = 0;
  while (offset < data.length) {
    const bytesWritten = writeSync(handle.fd, data, offset, data.length - offset);
    if (bytesWritten === 0) throw new Error('the disk accepted no bytes');
    offset += bytesWritten;
  }
}

/** Makes a created or renamed directory entry durable, not only the file's bytes. */
async function syncDirectory(path: string): Promise<void> {
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
