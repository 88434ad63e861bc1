// Opens the audit sinks the configuration names and composes them into the gateway's audit log,
// reporting to its metrics and log.
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../core/config/gateway-config.ts';
import type { GatewayMetrics } from './observe/metrics.ts';
import { createAuditLog, type AuditLog } from './audit/audit-log.ts';
import { openFileSink } from './audit/file-sink.ts';
import { createWebhookSink } from './audit/webhook-sink.ts';
import { loadCheckpointSigner } from '../core/audit/hash-chain.ts';
import type { AuditSink } from './audit/sink.ts';

/** A log that accepts nothing, for audit level None (no record is ever built). */
const NO_AUDIT: AuditLog = { failurePolicy: 'FailOpen', record: () => Promise.resolve(), close: () => Promise.resolve() };

export async function openAuditLog(audit: GatewayConfig['audit'], deps: { log: Logger; metrics: GatewayMetrics }): Promise<AuditLog> {
  if (audit.level === 'None') return NO_AUDIT;
  const sinks: AuditSink[] = [];
  if (audit.file !== undefined) {
    await mkdir(dirname(audit.file.path), { recursive: true });
    sinks.push(await openFileSink({
      path: audit.file.path,
      maxSizeBytes: audit.file.maxSizeMB * 1024 * 1024,
      maxFiles: audit.file.maxFiles,
      ...(audit.checkpointKeyFile === undefined ? {} : { checkpoint: { keyFile: audit.checkpointKeyFile } }),
      onBackgroundError: (error) => { deps.log.error({ err: error }, 'audit checkpoint failed'); },
    }));
  }
  if (audit.webhook !== undefined) {
    sinks.push(createWebhookSink({
      url: audit.webhook.url,
      batchSize: audit.webhook.batchSize,
      flushIntervalMs: audit.webhook.flushIntervalMs,
      ...(audit.webhook.caFile === undefined ? {} : { ca: await readFile(audit.webhook.caFile) }),
      ...(audit.checkpointKeyFile === undefined ? {} : { signer: await loadCheckpointSigner(audit.checkpointKeyFile) }),
    }));
  }
  const { metrics } = deps;
  return createAuditLog({
    sinks,
    failurePolicy: audit.failurePolicy,
    logger: deps.log,
    metrics: {
      recordWritten: (sink) => { metrics.auditRecords.inc({ sink, result: 'written' }); },
      recordFailed: (sink) => { metrics.auditRecords.inc({ sink, result: 'failed' }); },
      queueDepth: (sink, depth) => { metrics.auditQueueDepth.set({ sink }, depth); },
    },
  });
}
