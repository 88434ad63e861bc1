// Builds every limit from the configuration, counting refusals in one metric: the composition
// root (gateway.ts) applies the connection limits to its server, watches bodies on each request,
// and hands the request limits to the pipeline's stages.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import type { GatewayLimits as LimitsConfig } from '../../core/config/gateway-config.ts';
import type { GatewayMetrics } from '../observe/metrics.ts';
import { createBodyBudget, type BodyBudget } from './body-budget.ts';
import { createBodyDeadlines } from './body-deadlines.ts';
import { createCallerSlots } from './caller-slots.ts';
import { guardConnections } from './connection-limits.ts';
import type { LimitName } from './limit-names.ts';
import { createRequestLimits, type RequestLimits } from './request-limits.ts';

export interface Limits {
  readonly requests: RequestLimits;
  /** The body budget, read by tests and the metric. */
  readonly bodyBuffer: Pick<BodyBudget, 'reservedBytes' | 'peakBytes'>;
  /** Puts the connection limits on the TLS server (built with connectionTimeouts). */
  guard(server: Server): void;
  /** Called for every request the server receives, before the pipeline. */
  received(req: IncomingMessage, res: ServerResponse): void;
  close(): void;
}

export function createGatewayLimits(config: LimitsConfig, metrics: Pick<GatewayMetrics, 'limitRefusals' | 'requestBodyBufferBytes'>): Limits {
  const refused = (limit: LimitName): void => { metrics.limitRefusals.inc({ limit }); };
  const budget = createBodyBudget(config.requestBodyBufferBytes, (bytes) => { metrics.requestBodyBufferBytes.set(bytes); });
  const deadlines = createBodyDeadlines({ totalMs: config.requestBodyTimeoutSeconds * 1000, idleMs: config.requestBodyIdleTimeoutSeconds * 1000, refused });
  const requests = createRequestLimits({
    maxRequestBodyBytes: config.maxRequestBodyBytes,
    bodyBufferWaitMs: config.requestBodyBufferWaitSeconds * 1000,
    slots: createCallerSlots({ request: config.perCaller.maxRequestsInflight, 'long-running': config.perCaller.maxLongRunningRequests }),
    budget,
    refused,
  });
  let answered: ((socket: IncomingMessage['socket']) => void) | undefined;
  return {
    requests,
    bodyBuffer: budget,
    guard(server) {
      answered = guardConnections(server, config, refused).answered;
    },
    received(req, res) {
      answered?.(req.socket);
      deadlines.watch(req, res);
    },
    close() { deadlines.close(); },
  };
}
