// The audit trail as the gateway uses it: one `record` call writes to every configured sink.
//
// FailClosed (the default): `record` resolves only when every sink has the record (fsynced, or
// acknowledged by the webhook) and rejects with AuditWriteError otherwise; the pipeline then
// refuses the request, so nothing is forwarded without its audit record. With a webhook sink this
// means a request waits for its batch: keep `flushIntervalMs` short when requests wait on it.
// FailOpen: `record` resolves as soon as the sinks have accepted the record; failures are counted
// and logged when they happen, and the request goes on.
import { AuditWriteError, describeError, type SinkFailure } from '../../core/audit/errors.ts';
import type { UnchainedAuditRecord } from '../../core/audit/record.ts';
import type { AuditSink, WriteOptions } from './sink.ts';

export type FailurePolicy = 'FailClosed' | 'FailOpen';

/** What the gateway's metrics see; it adapts these to its Prometheus registry. */
export interface AuditMetrics {
  recordWritten(sink: string): void;
  recordFailed(sink: string): void;
  queueDepth(sink: string, depth: number): void;
}

/** The part of a pino logger the audit log uses. */
export interface AuditLogger {
  error(fields: Record<string, unknown>, message: string): void;
}

export interface AuditLogOptions {
  readonly sinks: readonly AuditSink[];
  readonly failurePolicy?: FailurePolicy;
  readonly metrics?: AuditMetrics;
  readonly logger?: AuditLogger;
}

export interface AuditLog {
  readonly failurePolicy: FailurePolicy;
  /** See the failure policies above. Rejects only with AuditWriteError, only under FailClosed. */
  record(record: UnchainedAuditRecord, options?: WriteOptions): Promise<void>;
  /** Waits for records in flight, then closes every sink (flushing the webhook, sealing the file). */
  close(): Promise<void>;
}

const NO_METRICS: AuditMetrics = { recordWritten: () => undefined, recordFailed: () => undefined, queueDepth: () => undefined };

/** Throws TypeError without sinks or with two sinks of the same name. */
export function createAuditLog(options: AuditLogOptions): AuditLog {
  const { sinks, metrics = NO_METRICS, logger } = options;
  const failurePolicy = options.failurePolicy ?? 'FailClosed';
  const names = sinks.map((s) => s.name);
  if (sinks.length === 0) throw new TypeError('audit log: at least one sink is required (set the level to None to write no records)');
  if (new Set(names).size !== names.length) throw new TypeError(`audit log: sink names must be unique, got ${names.join(', ')}`);
  const inFlight = new Set<Promise<unknown>>();

  function writeTo(sink: AuditSink, record: UnchainedAuditRecord, options: WriteOptions): Promise<SinkFailure | undefined> {
    let written: Promise<void>;
    try {
      written = sink.write(record, options);
    } catch (error) {
      written = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    metrics.queueDepth(sink.name, sink.queueDepth());
    return written.then(
      () => { metrics.recordWritten(sink.name); return undefined; },
      (error: unknown) => { metrics.recordFailed(sink.name); return { sink: sink.name, error }; },
    ).finally(() => { metrics.queueDepth(sink.name, sink.queueDepth()); });
  }

  function writeAll(record: UnchainedAuditRecord, options: WriteOptions): Promise<SinkFailure[]> {
    return Promise.all(sinks.map((sink) => writeTo(sink, record, options)))
      .then((results) => results.filter((r): r is SinkFailure => r !== undefined));
  }

  function logFailures(auditID: string, failures: readonly SinkFailure[]): void {
    for (const failure of failures) {
      const code = (failure.error as { code?: unknown } | undefined)?.code;
      logger?.error({ sink: failure.sink, auditID, code, err: describeError(failure.error) },
        'audit record not written; the request went on (audit failurePolicy FailOpen)');
    }
  }

  return {
    failurePolicy,
    async record(record, options = {}) {
      const failures = writeAll(record, options);
      if (failurePolicy === 'FailOpen') {
        const logged = failures.then((f) => { logFailures(record.auditID, f); });
        inFlight.add(logged);
        void logged.finally(() => inFlight.delete(logged));
        return;
      }
      const failed = await failures;
      if (failed.length > 0) throw new AuditWriteError(record.auditID, failed);
    },
    async close() {
      await Promise.all(inFlight);
      await Promise.allSettled(sinks.map((sink) => sink.close()));
    },
  };
}
