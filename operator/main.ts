// The operator process: reads its settings from the environment, runs the AccessGateway controller
// while it holds the leader-election Lease (or always, with AIRLOCK_LEADER_ELECTION=false), serves
// /healthz /readyz and /metrics, and on SIGTERM/SIGINT stops the controller and releases the Lease
// so a successor starts at once.
//
//   KUBECONFIG=... POD_NAMESPACE=airlock-system AIRLOCK_LEADER_ELECTION=false node operator/main.ts
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { startGatewayController } from './controllers/manager.ts';
import { close, healthServer, listen, metricsServer } from './controllers/probes.ts';
import { LEASE_NAME, readSettings, type OperatorSettings } from './controllers/settings.ts';
import { describeError } from './runtime/api-errors.ts';
import type { Controller } from './runtime/controller.ts';
import { startLeaderElection, type LeaderElector } from './runtime/leader-election.ts';
import { createWorkQueueMetrics } from './runtime/work-queue-metrics.ts';

interface Running {
  controller: Controller | undefined;
  elector: LeaderElector | undefined;
  shuttingDown: boolean;
}

function startLeading(settings: OperatorSettings, deps: { kc: KubeConfig; log: Logger; registry: Registry }): Controller {
  return startGatewayController({
    kubeConfig: deps.kc,
    log: deps.log,
    defaultImage: settings.gatewayImage,
    metrics: createWorkQueueMetrics(deps.registry)('accessgateway'),
  });
}

function elect(settings: OperatorSettings, deps: { kc: KubeConfig; log: Logger; registry: Registry }, running: Running): LeaderElector {
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
  const settings = readSettings(process.env);
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const running: Running = { controller: undefined, elector: undefined, shuttingDown: false };
  const deps = { kc, log, registry };
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
  pino({ name: 'airlock-operator' }).fatal({ error: describeError(error) }, 'operator failed to start');
  process.exit(1);
});
