// The audit trail's errors: a fixed set of codes with structured fields, so callers branch on
// `code`, never on message text.

export type AuditSinkErrorCode =
  /** The file could not be opened or created (missing directory, parent is a file, permissions). */
  | 'open_failed'
  /** A write, fsync or rotation failed; the record may or may not be on disk, but it was not acknowledged. */
  | 'write_failed'
  /** An existing file's first or last line is not a valid chained entry: the chain cannot continue safely. */
  | 'corrupt_file'
  /** The webhook queue is full (backpressure): the record was not accepted. */
  | 'queue_full'
  /** The webhook answered a status that retrying cannot fix (4xx other than 429, 3xx). */
  | 'delivery_rejected'
  /** The webhook kept failing (5xx, 429, network, timeout) through every attempt. */
  | 'retries_exhausted'
  /** The sink was closed before or while the record was handed to it. */
  | 'sink_closed';

export class AuditSinkError extends Error {
  readonly code: AuditSinkErrorCode;
  /** The sink's name as metrics and logs show it (`file`, `webhook`). */
  readonly sink: string;
  /** The HTTP status the webhook answered, when there was one. */
  readonly status?: number;
  constructor(code: AuditSinkErrorCode, sink: string, message: string, details: { cause?: unknown; status?: number } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'AuditSinkError';
    this.code = code;
    this.sink = sink;
    if (details.status !== undefined) this.status = details.status;
  }
}

export interface SinkFailure {
  readonly sink: string;
  readonly error: unknown;
}

/** An audit record could not be written to every sink while the failure policy is FailClosed. */
export class AuditWriteError extends Error {
  readonly code = 'audit_write_failed';
  readonly auditID: string;
  readonly failures: readonly SinkFailure[];
  constructor(auditID: string, failures: readonly SinkFailure[]) {
    super(`audit record ${auditID} was not written: ${failures.map((f) => `${f.sink}: ${describeError(f.error)}`).join('; ')}`);
    this.name = 'AuditWriteError';
    this.auditID = auditID;
    this.failures = failures;
  }
}

/** A signing key or verification key that cannot be used for checkpoints. */
export class CheckpointKeyError extends Error {
  readonly code = 'invalid_checkpoint_key';
  readonly source: string;
  constructor(source: string, problem: string, cause?: unknown) {
    super(`${source}: ${problem}`, cause === undefined ? undefined : { cause });
    this.name = 'CheckpointKeyError';
    this.source = source;
  }
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
