// What the audit log writes to. A sink resolves `write` only once the record is as safe as the
// sink can make it (fsynced, or acknowledged by the receiver) and rejects with an AuditSinkError
// otherwise; it never drops a record silently.
import type { UnchainedAuditRecord } from '../../core/audit/record.ts';

export interface WriteOptions {
  /**
   * true (the default): resolve once the record is durable (fsynced). false: resolve once the
   * record is written (in the page cache: it survives a crash of the gateway, not of the machine);
   * the next synced write makes it durable. Sinks without such a distinction ignore it.
   */
  readonly sync?: boolean;
}

export interface AuditSink {
  /** Low-cardinality name for metrics and logs: `file`, `webhook`. */
  readonly name: string;
  write(record: UnchainedAuditRecord, options?: WriteOptions): Promise<void>;
  /** Records accepted and not yet settled. */
  queueDepth(): number;
  /** Writes or sends everything accepted so far, then releases the sink; later writes reject. */
  close(): Promise<void>;
}
