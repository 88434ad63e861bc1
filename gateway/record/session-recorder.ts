// One session's recording file: opened before the session is forwarded (so a sink that cannot be
// written is known before anything runs), written as events arrive, made durable and hashed at the
// end. The file is `<dir>/<auditID>.cast`; its SHA-256 goes into the session's audit record, which
// is itself in the audit hash chain, so a changed recording no longer matches the trail.
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { castEventLine, castHeaderLine, exitCodeOf, resizeText, StreamText, type CastEvent, type SessionMetadata } from '../../core/recording/asciicast.ts';
import { LineMasker } from './line-masker.ts';
import type { SessionEvent } from './session-events.ts';

const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;

export interface RecordingSummary {
  /** The file name inside the recordings directory. */
  readonly file: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly events: number;
  readonly exitCode?: number;
  readonly protocol?: string;
  readonly durationMs: number;
}

export interface SessionRecorderOptions {
  readonly dir: string;
  readonly metadata: SessionMetadata;
  readonly command?: string;
  /** Policy masks for output and input (rule mask.sessionPatterns). */
  readonly maskPatterns?: readonly RegExp[];
  /** Bytes that may wait for the disk before the recording fails (default 64 MiB). */
  readonly maxPendingBytes?: number;
  /** Milliseconds clock (tests pass their own). */
  readonly now?: () => number;
}

export class SessionRecorder {
  private readonly hash = createHash('sha256');
  private readonly text = new StreamText();
  private masker = new LineMasker([]);
  /** Events are written in time order, even when a masked line was held back. */
  private lastT = 0;
  private readonly started: number;
  private readonly now: () => number;
  private queue: Promise<void> = Promise.resolve();
  /** Written to the queue, not yet to the file: bounded, so a stalled disk cannot grow memory without end. */
  private pendingBytes = 0;
  private maxPendingBytes = DEFAULT_MAX_PENDING_BYTES;
  private bytes = 0;
  private events = 0;
  private errorStream = '';
  private failure: Error | undefined;
  private protocol: string | undefined;

  private readonly handle: FileHandle;
  readonly file: string;

  private constructor(handle: FileHandle, file: string, now: () => number) {
    this.handle = handle;
    this.file = file;
    this.now = now;
    this.started = now();
  }

  /** Creates the file (never overwriting one) and writes the header; rejects when the sink cannot be written. */
  static async open(options: SessionRecorderOptions): Promise<SessionRecorder> {
    const file = `${options.metadata.auditID}.cast`;
    const handle = await open(join(options.dir, file), 'wx', 0o600);
    const recorder = new SessionRecorder(handle, file, options.now ?? Date.now);
    recorder.masker = new LineMasker(options.maskPatterns ?? []);
    recorder.maxPendingBytes = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    const command = options.command === undefined ? undefined : recorder.masker.mask(options.command);
    recorder.write(castHeaderLine({
      version: 2, width: 80, height: 24, timestamp: Math.floor(recorder.started / 1000),
      ...(command === undefined ? {} : { command }),
      title: `${options.metadata.subresource} ${options.metadata.namespace}/${options.metadata.pod} by ${options.metadata.user}`,
      airlock: options.metadata,
    }));
    await recorder.queue;
    if (recorder.failure !== undefined) throw recorder.failure;
    return recorder;
  }

  /** The first write error, if any (the session must end when recording is required). */
  get failed(): Error | undefined {
    return this.failure;
  }

  setProtocol(protocol: string): void {
    this.protocol = protocol;
  }

  /** Records session events as they pass. */
  record(events: readonly SessionEvent[]): void {
    const t = (this.now() - this.started) / 1000;
    for (const event of events) {
      if (event.kind !== 'data') continue;
      const cast = this.castEvent(t, event.stream, event.data);
      if (cast !== undefined) this.writeEvent(cast);
    }
  }

  private writeEvent(event: CastEvent): void {
    this.lastT = Math.max(this.lastT, event[0]);
    this.write(castEventLine([this.lastT, event[1], event[2]]));
  }

  /** Output or input text through the policy masks (which may hold it until its line ends). */
  private textEvent(t: number, code: 'o' | 'i', text: string): CastEvent | undefined {
    const ready = text === '' ? undefined : this.masker.push(code, t, text);
    return ready === undefined || ready.text === '' ? undefined : [ready.t, code, ready.text];
  }

  private castEvent(t: number, stream: string, data: Buffer): CastEvent | undefined {
    switch (stream) {
      case 'stdout':
      case 'stderr':
        return this.textEvent(t, 'o', this.text.text(stream, data));
      case 'stdin':
        return this.textEvent(t, 'i', this.text.text(stream, data));
      case 'resize': {
        const size = resizeText(data.toString('utf8'));
        return size === undefined ? undefined : [t, 'r', size];
      }
      case 'error':
        this.errorStream += data.toString('utf8');
        return undefined;
      default:
        return undefined;
    }
  }

  private write(line: string): void {
    if (this.failure !== undefined) return;
    const bytes = Buffer.from(line, 'utf8');
    if (this.pendingBytes + bytes.length > this.maxPendingBytes) {
      this.failure = new Error(`the recording fell more than ${this.maxPendingBytes} bytes behind the session (the disk is too slow or stalled)`);
      return;
    }
    this.hash.update(bytes);
    this.bytes += bytes.length;
    this.events += 1;
    this.pendingBytes += bytes.length;
    this.queue = this.queue.then(async () => {
      if (this.failure !== undefined) return;
      await this.handle.write(bytes);
      this.pendingBytes -= bytes.length;
    }).catch((error: unknown) => { this.failure ??= error instanceof Error ? error : new Error(String(error)); });
  }

  /** Ends the recording: the exit marker, fsync, close. Rejects if any write failed. */
  async close(): Promise<RecordingSummary> {
    const exitCode = this.errorStream === '' ? undefined : exitCodeOf(this.errorStream);
    const durationMs = this.now() - this.started;
    for (const [code, held] of this.masker.flush()) this.writeEvent([held.t, code === 'i' ? 'i' : 'o', held.text]);
    this.writeEvent([durationMs / 1000, 'm', exitCode === undefined ? 'session ended' : `exit ${exitCode}`]);
    await this.queue;
    try {
      if (this.failure === undefined) await this.handle.datasync();
    } finally {
      await this.handle.close();
    }
    if (this.failure !== undefined) throw this.failure;
    return {
      file: this.file, sha256: this.hash.digest('hex'), bytes: this.bytes, events: this.events - 1, durationMs,
      ...(exitCode === undefined ? {} : { exitCode }), ...(this.protocol === undefined ? {} : { protocol: this.protocol }),
    };
  }
}
