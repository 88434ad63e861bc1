// The operator process: reads its settings from the environment, runs the AccessGateway controller
// while it holds the leader-election Lease (or always, with AIRLOCK_LEADER_ELECTION=false), serves
// /healthz /readyz and /metrics, and on SIGTERM/SIGINT stops the controller and releases the Lease
// so a successor starts at once.
//
//   KUBECONFIG=... POD_NAMESPACE=airlock-system AIRLOCK_LEADER_ELECTION=false node operator/main.ts
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { PooledKubeConfig } from '../core/runtime/pooled-kube-config.ts';
import { pino, type Logger } from 'pino';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { startApprovalController, startGatewayController, startPolicyController } from './controllers/manager.ts';
import type { ApprovalMetrics } from './controllers/approvalrequest.ts';
import { expiryMetrics, type ExpiryObserver } from './controllers/expiry-metrics.ts';
import { close, healthServer, listen, metricsServer } from './controllers/probes.ts';
import { LEASE_NAME, readSettings, SettingsError, type OperatorSettings } from './controllers/settings.ts';
import { describeError } from '../core/runtime/api-errors.ts';
import type { Controller } from '../core/runtime/controller.ts';
import { startLeaderElection, type LeaderElector } from '../core/runtime/leader-election.ts';
import { createWorkQueueMetrics } from '../core/runtime/work-queue-metrics.ts';
import { systemClock } from '../core/runtime/clock.ts';
import { createLogLimiter, type LogLimiter } from '../core/runtime/log-limiter.ts';

interface Deps {
  readonly kc: KubeConfig;
  readonly log: Logger;
  readonly registry: Registry;
  readonly approvals: ApprovalMetrics;
  readonly expiry: ExpiryObserver;
}

interface Running {
  controller: Controller | undefined;
  elector: LeaderElector | undefined;
  shuttingDown: boolean;
}

function approvalMetrics(registry: Registry): ApprovalMetrics {
  const pending = new Gauge({ name: 'airlock_operator_approval_requests_pending', help: 'ApprovalRequests waiting for a decision.', registers: [registry] });
  const decided = new Histogram({
    name: 'airlock_operator_approval_decision_seconds', help: 'Time from an ApprovalRequest\'s creation to the decision that settled it.',
    buckets: [10, 30, 60, 120, 300, 600, 1800, 3600, 14_400], registers: [registry],
  });
  return { pending: (n) => { pending.set(n); }, decided: (s) => { decided.observe(s); } };
}

/** The controllers as one, for the leader's term (the first one's queue is the one exposed). */
function together(limiter: LogLimiter, first: Controller, ...rest: Controller[]): Controller {
  const all = [first, ...rest];
  return {
    hasSynced: () => all.every((c) => c.hasSynced()),
    waitForSync: async () => (await Promise.all(all.map((c) => c.waitForSync()))).every(Boolean),
    queue: first.queue,
    stop: async (timeoutMs) => {
      const stopped = (await Promise.all(all.map((c) => c.stop(timeoutMs)))).every(Boolean);
      limiter.stop();
      return stopped;
    },
  };
}

function startLeading(settings: OperatorSettings, deps: Deps): Controller {
  const queueMetrics = createWorkQueueMetrics(deps.registry);
  // One for the three controllers: an API server outage is a few lines in all.
  const limiter = createLogLimiter({ clock: systemClock });
  const gateways = startGatewayController({
    limiter,
    kubeConfig: deps.kc,
    log: deps.log,
    defaultImage: settings.gatewayImage,
    revokeAfterMs: settings.credentialRevokeAfterMs,
    metrics: queueMetrics('accessgateway'),
    observeExpiry: deps.expiry,
  });
  const approvals = startApprovalController({
    limiter,
    kubeConfig: deps.kc,
    log: deps.log,
    retentionMs: settings.approvalRetentionMs,
    webhookUrl: settings.approvalWebhookUrl,
    metrics: queueMetrics('approvalrequest'),
    approvalMetrics: deps.approvals,
  });
  const policies = startPolicyController({ limiter, kubeConfig: deps.kc, log: deps.log, metrics: queueMetrics('accesspolicy') });
  return together(limiter, gateways, approvals, policies);
}

function elect(settings: OperatorSettings, deps: Deps, running: Running): LeaderElector {
  return startLeaderElection({
    api: deps.kc.makeApiClient(CoordinationV1Api),
    lease: { namespace: settings.podNamespace, name: LEASE_NAME },
    log: deps.log,
    onStartedLeading: () => { running.controller = startLeading(settings, deps); },
    onStoppedLeading: async () => {
      await running.controller?.stop();
      running.controller = undefined;
      if (!running.shuttingDown) {
        // Leadership lost without being asked to stop: exit so a fresh process (new caches, new
        // elector) stands again, as client-go recommends.
        deps.log.error('lost leadership; exiting');
        process.exit(1);
      }
    },
  });
}

async function main(): Promise<void> {
  const log = pino({ name: 'airlock-operator' });
  let settings: OperatorSettings;
  try {
    settings = readSettings(process.env);
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    process.stderr.write(`airlock-operator: ${error.message}\n`);
    process.exit(2);
  }
  // One connection pool for every API call (client-node opens a TLS connection per call otherwise).
  const kc = new PooledKubeConfig();
  kc.loadFromDefault();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const running: Running = { controller: undefined, elector: undefined, shuttingDown: false };
  const deps: Deps = { kc, log, registry, approvals: approvalMetrics(registry), expiry: expiryMetrics(registry) };
  const health = healthServer({
    healthy: () => true,
    ready: () => !running.shuttingDown && (running.controller === undefined ? running.elector !== undefined : running.controller.hasSynced()),
  });
  const metrics = metricsServer(registry);
  const ports = { health: await listen(health, settings.healthAddress), metrics: await listen(metrics, settings.metricsAddress) };
  log.info({ ...ports, leaderElection: settings.leaderElection, namespace: settings.podNamespace }, 'operator started');
  if (settings.leaderElection) running.elector = elect(settings, deps, running);
  else running.controller = startLeading(settings, deps);

  const shutdown = async (signal: string): Promise<void> => {
    if (running.shuttingDown) return;
    running.shuttingDown = true;
    log.info({ signal }, 'shutting down');
    if (running.elector !== undefined) await running.elector.release();
    else await running.controller?.stop();
    await Promise.all([close(health), close(metrics)]);
    log.info('stopped');
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => { void shutdown(signal); });
}

main().catch((error: unknown) => {
  pino({ name: 'airlock-operator' }).fatal({ err: describeError(error) }, 'operator failed to start');
  process.exit(1);
});
