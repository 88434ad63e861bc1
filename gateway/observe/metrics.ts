// The gateway's Prometheus metrics, on a registry of its own (tests make as many as they like).
// Labels stay low-cardinality: never a user, namespace, object name or token subject.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, exponentialBuckets } from 'prom-client';

export interface GatewayMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'decision' | 'verb' | 'code'>;
  readonly requestDuration: Histogram<'decision' | 'verb'>;
  readonly upstreamDuration: Histogram<'verb'>;
  readonly authentications: Counter<'method' | 'result'>;
  /** Failures no stage mapped to an answer (defects): request-level ones were answered 500. */
  readonly unexpectedErrors: Counter<'origin'>;
  readonly auditRecords: Counter<'sink' | 'result'>;
  readonly auditQueueDepth: Gauge<'sink'>;
  readonly credentialExpiry: Gauge;
  readonly servingCertificateExpiry: Gauge;
  readonly sessions: Counter;
  readonly maskedValues: Counter<'verb'>;
  readonly policyRules: Gauge;
  readonly policyRejected: Gauge;
  readonly inflight: Gauge<'kind'>;
  readonly limitRefusals: Counter<'limit'>;
  readonly requestBodyBufferBytes: Gauge;
}

export function createGatewayMetrics(options: { defaultMetrics?: boolean } = {}): GatewayMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'airlock_gateway_' });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({ name: 'airlock_gateway_requests_total', help: 'Requests by policy decision, verb and response code.', labelNames: ['decision', 'verb', 'code'], registers }),
    requestDuration: new Histogram({
      name: 'airlock_gateway_request_duration_seconds', help: 'Time from request to response complete (long-running requests excluded).',
      labelNames: ['decision', 'verb'], buckets: exponentialBuckets(0.0005, 2, 16), registers,
    }),
    upstreamDuration: new Histogram({
      name: 'airlock_gateway_upstream_duration_seconds', help: 'Time the API server took to start answering.',
      labelNames: ['verb'], buckets: exponentialBuckets(0.0005, 2, 16), registers,
    }),
    authentications: new Counter({ name: 'airlock_gateway_authentications_total', help: 'Authentication attempts by method and result.', labelNames: ['method', 'result'], registers }),
    unexpectedErrors: new Counter({
      name: 'airlock_gateway_unexpected_errors_total', help: 'Errors that escaped every stage, by origin (request, unhandledRejection, uncaughtException); each is a defect.',
      labelNames: ['origin'], registers,
    }),
    auditRecords: new Counter({ name: 'airlock_gateway_audit_records_total', help: 'Audit records by sink and result (written, failed).', labelNames: ['sink', 'result'], registers }),
    auditQueueDepth: new Gauge({ name: 'airlock_gateway_audit_queue_depth', help: 'Audit records waiting for a sink.', labelNames: ['sink'], registers }),
    credentialExpiry: new Gauge({ name: 'airlock_gateway_credential_expiry_timestamp_seconds', help: 'When the upstream credential expires (Unix time), from its exp claim.', registers }),
    sessions: new Counter({
      name: 'airlock_gateway_sessions_total',
      help: 'exec, attach and port-forward sessions by kind and recording (recorded, unrecorded: recording failed or unavailable, refused: Required and not possible, not-required).',
      labelNames: ['kind', 'recording'], registers,
    }),
    maskedValues: new Counter({ name: 'airlock_gateway_masked_values_total', help: 'String values replaced by a mask marker in responses (Secret values, policy field paths), by verb.', labelNames: ['verb'], registers }),
    servingCertificateExpiry: new Gauge({ name: 'airlock_gateway_serving_certificate_expiry_timestamp_seconds', help: 'When the certificate the gateway serves expires (Unix time), read at start and at each reload.', registers }),
    policyRules: new Gauge({ name: 'airlock_gateway_policy_rules', help: 'Compiled AccessPolicy rules in effect.', registers }),
    policyRejected: new Gauge({ name: 'airlock_gateway_policy_rejected', help: 'Selected AccessPolicies that could not be compiled.', registers }),
    inflight: new Gauge({ name: 'airlock_gateway_inflight_requests', help: 'Requests in flight by kind (request, long-running, upgrade).', labelNames: ['kind'], registers }),
    limitRefusals: new Counter({
      name: 'airlock_gateway_limit_refusals_total',
      help: 'Connections and requests refused or cut by a limit (gateway/limits/limit-names.ts), by limit.',
      labelNames: ['limit'], registers,
    }),
    requestBodyBufferBytes: new Gauge({
      name: 'airlock_gateway_request_body_buffer_bytes',
      help: 'Bytes reserved for request bodies held in memory (audit level Request, approvals, chunked bodies); at most limits.requestBodyBufferBytes.',
      registers,
    }),
  };
}
