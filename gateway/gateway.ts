// The composition root: builds every stage from the configuration and wires them into the
// pipeline, the TLS server, the health server and graceful shutdown. Nothing else in the gateway
// constructs its own dependencies.
import { createServer as createHttpsServer, type Server } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { open } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../core/config/gateway-config.ts';
import { createLogger } from './observe/logger.ts';
import { createGatewayMetrics, type GatewayMetrics } from './observe/metrics.ts';
import { createHealthServer } from './observe/health-server.ts';
import { fileTokenSource } from './upstream/token-source.ts';
import { createUpstream } from './upstream/upstream-client.ts';
import { gatewayKubeConfig } from './upstream/kubeconfig.ts';
import { watchPolicies } from './decide/policy-store.ts';
import { createPipeline, type PipelineObserver } from './handler.ts';
import { buildStages } from './stages.ts';
import { createGatewayLimits, type Limits } from './limits/gateway-limits.ts';
import { connectionTimeouts } from './limits/connection-limits.ts';

export interface RunningGateway {
  readonly url: string;
  readonly healthUrl: string;
  readonly metrics: GatewayMetrics;
  /** Logs and counts an error that escaped everything (the process-level backstop in main.ts). */
  reportUnexpected(error: unknown, origin: 'unhandledRejection' | 'uncaughtException'): void;
  /** The request body buffer's use now and at its peak (limits.requestBodyBufferBytes). */
  readonly bodyBuffer: Limits['bodyBuffer'];
  /** Stops taking connections, lets requests in flight finish (up to the grace period), closes sinks. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Log to this file instead of stdout (tests). */
  readonly logFile?: string;
  readonly logger?: Logger;
}

/** The serving certificate's expiry, for the metric; undefined when it cannot be read as PEM. */
function certificateExpiry(cert: Buffer): number | undefined {
  try {
    return new X509Certificate(cert).validToDate.getTime() / 1000;
  } catch {
    return undefined;
  }
}

/** Reloads the serving certificate when its files change, without dropping connections. */
function watchServingCertificate(server: Server, config: GatewayConfig, deps: { log: Logger; metrics: GatewayMetrics; served: Buffer }): FSWatcher | undefined {
  let current = deps.served;
  const reload = (): void => {
    try {
      const cert = readFileSync(config.listen.tlsCertFile);
      // The directory sees several events per swap (the kubelet's ..data rename and friends).
      if (cert.equals(current)) return;
      server.setSecureContext({ cert, key: readFileSync(config.listen.tlsKeyFile) });
      current = cert;
      const expiry = certificateExpiry(cert);
      if (expiry !== undefined) deps.metrics.servingCertificateExpiry.set(expiry);
      deps.log.info({ notAfter: expiry === undefined ? undefined : new Date(expiry * 1000).toISOString() }, 'serving certificate reloaded');
    } catch (error) {
      deps.log.warn({ err: error }, 'serving certificate reload failed; keeping the previous one');
    }
  };
  try {
    return watch(dirname(config.listen.tlsCertFile), { persistent: false }, reload);
  } catch {
    return undefined;
  }
}

function listen(server: { listen(port: number, host: string, cb: () => void): unknown; once(e: 'error', cb: (e: Error) => void): unknown; address(): AddressInfo | string | null }, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

/** Metrics and logs for what the pipeline reports. */
function pipelineObserver(metrics: GatewayMetrics, log: Logger): PipelineObserver {
  return {
    finished: (e) => {
      metrics.requests.inc({ decision: e.decision, verb: e.verb, code: String(e.code) });
      if (!e.longRunning) metrics.requestDuration.observe({ decision: e.decision, verb: e.verb }, e.latencyMs / 1000);
      if (e.upstreamMs !== undefined && !e.longRunning) metrics.upstreamDuration.observe({ verb: e.verb }, e.upstreamMs / 1000);
      if (e.masked !== undefined && e.masked > 0) metrics.maskedValues.inc({ verb: e.verb }, e.masked);
    },
    session: (e) => { metrics.sessions.inc({ kind: e.kind, recording: e.recording }); },
    unexpected: (error) => {
      metrics.unexpectedErrors.inc({ origin: 'request' });
      log.error({ err: error }, 'unexpected error escaped the request pipeline; answered 500');
    },
  };
}

export async function startGateway(config: GatewayConfig, options: StartOptions = {}): Promise<RunningGateway> {
  const destination = options.logFile === undefined ? undefined : (await open(options.logFile, 'a')).createWriteStream();
  const log = options.logger ?? createLogger({ ...(destination === undefined ? {} : { destination }) }).child({ gateway: `${config.namespace}/${config.name}` });
  const metrics = createGatewayMetrics();
  const tokens = fileTokenSource(config.upstream.tokenFile, { onReload: () => { log.info('upstream credential reloaded'); } });
  const upstream = createUpstream({ server: config.upstream.server, ...(config.upstream.caFile === undefined ? {} : { caFile: config.upstream.caFile }), tokens });
  const policies = await watchPolicies({
    kubeConfig: gatewayKubeConfig({ server: config.upstream.server, tokenFile: config.upstream.tokenFile, ...(config.upstream.caFile === undefined ? {} : { caFile: config.upstream.caFile }) }),
    namespace: config.policy.namespace,
    labelSelector: config.policy.labelSelector,
    onCompiled: (compiled) => {
      metrics.policyRules.set(compiled.ruleCount);
      metrics.policyRejected.set(compiled.rejected.length);
      for (const r of compiled.rejected) log.warn({ policy: r.policy, problem: r.problem }, 'AccessPolicy not enforced');
      for (const b of compiled.broken) log.warn({ policy: b.policy, rule: b.rule, problem: b.problem }, 'AccessPolicy rule enforced as Deny: it does not compile');
    },
    log,
  });
  const limits = createGatewayLimits(config.limits, metrics);
  const stages = await buildStages({ config, upstream, policies, metrics, log, limits: limits.requests });
  const pipeline = createPipeline(stages, upstream, pipelineObserver(metrics, log));
  const servedCert = readFileSync(config.listen.tlsCertFile);
  // Handshakes, headers, bodies and idle connections are bounded (limits/); watches and exec
  // sessions, which have no body, live as long as the API server keeps them.
  const server = createHttpsServer({ cert: servedCert, key: readFileSync(config.listen.tlsKeyFile), ...connectionTimeouts(config.limits) });
  limits.guard(server);
  server.on('request', (req, res) => { limits.received(req, res); void pipeline.handleRequest(req, res); });
  // Upgraded sockets leave the server's connection tracking; keep them to end them at shutdown.
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req, socket, head: Buffer) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    void pipeline.handleUpgrade(req, socket, head);
  });
  server.on('secureConnection', (socket) => { socket.setNoDelay(true); });
  const servingExpiry = certificateExpiry(servedCert);
  if (servingExpiry !== undefined) metrics.servingCertificateExpiry.set(servingExpiry);
  const certWatcher = watchServingCertificate(server, config, { log, metrics, served: servedCert });
  let draining = false;
  const health = createHealthServer(metrics.registry, [
    { name: 'credential', check: () => { try { tokens.current(); return undefined; } catch (e) { return e instanceof Error ? e.message : 'unreadable'; } } },
    { name: 'policies', check: () => (policies.ready() ? undefined : 'AccessPolicies not synced yet') },
    { name: 'shutdown', check: () => (draining ? 'draining' : undefined) },
  ]);
  const port = await listen(server, config.listen.port, config.listen.address);
  const healthPort = await listen(health, config.health.port, config.health.address);
  const host = config.listen.address === '0.0.0.0' ? '127.0.0.1' : config.listen.address;
  log.info({ port, healthPort, upstream: config.upstream.server }, 'gateway listening');
  return {
    url: `https://${host}:${port}`,
    healthUrl: `http://${host}:${healthPort}`,
    metrics,
    reportUnexpected: (error, origin) => {
      metrics.unexpectedErrors.inc({ origin });
      log.error({ err: error, origin }, 'unexpected error outside any request; the gateway keeps serving');
    },
    bodyBuffer: limits.bodyBuffer,
    stop: async () => {
      draining = true;
      const closed = new Promise<void>((r) => server.close(() => { r(); }));
      server.closeIdleConnections();
      const grace = setTimeout(() => {
        server.closeAllConnections();
        for (const socket of upgraded) socket.destroy();
      }, config.shutdownGraceSeconds * 1000);
      await closed;
      clearTimeout(grace);
      await new Promise<void>((r) => health.close(() => { r(); }));
      certWatcher?.close();
      await policies.stop();
      await stages.close();
      limits.close();
      tokens.close();
      upstream.agent.destroy();
      log.info('gateway stopped');
      // Late log lines (a watch ending after the API server went away) must not hit a closed
      // stream: the file stream is left to close with the process.
    },
  };
}
