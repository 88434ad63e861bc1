// Renders an AccessGateway into the gateway's configuration file: the one place where the API
// (crds/) meets the gateway's own config (core/config/). Pure; the reconciler stores the
// result in a ConfigMap whose checksum rolls the Deployment.
import { parseDuration } from '../../core/duration.ts';
import { labelSelectorString } from '../../core/gateway-names.ts';
import type { AccessGateway } from '../../crds/types.gen.ts';
import { upstreamCaSource } from './gateway-names.ts';

/** Where the operator mounts what the gateway reads, inside the gateway pod. */
export const GATEWAY_PATHS = {
  config: '/etc/airlock/config/gateway.yaml',
  configDir: '/etc/airlock/config',
  credentialDir: '/var/run/airlock/credential',
  tokenFile: '/var/run/airlock/credential/token',
  tlsDir: '/var/run/airlock/tls',
  upstreamCaDir: '/var/run/airlock/upstream-ca',
  webhookCaDir: '/var/run/airlock/webhook-ca',
} as const;

export const GATEWAY_PORTS = { https: 8443, health: 9090 } as const;



/** A duration the CRD's pattern already checked ("1s", "250ms", "1m30s") → milliseconds. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`${JSON.stringify(text)} is not a duration like 1m30s (the CRD's pattern should have refused it)`);
  return ms;
}

type Spec = AccessGateway['spec'];

function renderAuthentication(spec: Spec): Record<string, unknown> {
  return {
    oidc: (spec.authentication?.oidc ?? []).map((o) => ({ ...o })),
    serviceAccountTokens: {
      enabled: spec.authentication?.serviceAccountTokens?.enabled ?? true,
      audiences: spec.authentication?.serviceAccountTokens?.audiences ?? [],
    },
  };
}

/** Where the gateway audits when the AccessGateway names no sink: the CRD's default, kept equal by a test. */
export const DEFAULT_AUDIT_FILE = '/var/log/airlock/audit.log';

type AuditSink = NonNullable<NonNullable<Spec['audit']>['sinks']>[number];

/**
 * The audit sinks, with the CRD's defaults: the API server fills them in, and this covers an object
 * that never went through it (a test, a dry run from a file).
 */
export function auditSinks(spec: Spec): readonly AuditSink[] {
  return spec.audit?.sinks ?? [{ file: { path: DEFAULT_AUDIT_FILE } }];
}

/** The level, failure policy and response cap, with the CRD's defaults (the cap: the gateway's own). */
function auditSettings(spec: Spec): Record<string, unknown> {
  const audit = spec.audit;
  return {
    level: audit?.level ?? 'Metadata',
    failurePolicy: audit?.failurePolicy ?? 'FailClosed',
    ...(audit?.maxResponseBodyBytes === undefined ? {} : { maxResponseBodyBytes: audit.maxResponseBodyBytes }),
  };
}

function renderAudit(spec: Spec): Record<string, unknown> {
  const sinks = auditSinks(spec);
  const file = sinks.find((s) => s.file !== undefined)?.file;
  const webhook = sinks.find((s) => s.webhook !== undefined)?.webhook;
  return {
    ...auditSettings(spec),
    ...(file === undefined ? {} : { file: { path: file.path, maxSizeMB: file.maxSizeMB ?? 100, maxFiles: file.maxFiles ?? 10 } }),
    ...(webhook === undefined ? {} : { webhook: {
      url: webhook.url,
      ...(webhook.caSecretRef === undefined ? {} : { caFile: `${GATEWAY_PATHS.webhookCaDir}/ca.crt` }),
      batchSize: webhook.batchSize ?? 100,
      flushIntervalMs: durationMs(webhook.flushInterval ?? '1s'),
    } }),
  };
}

/**
 * spec.limits as the gateway's `limits` section: only what the AccessGateway sets, so the gateway's
 * own defaults (core/config/gateway-config.ts) stay the one home of every default.
 */
function renderLimits(spec: Spec): Record<string, unknown> | undefined {
  const limits = spec.limits;
  if (limits === undefined) return undefined;
  const seconds = (key: string, value: string | undefined): Record<string, number> => (value === undefined ? {} : { [key]: Math.ceil(durationMs(value) / 1000) });
  const number = (key: string, value: number | undefined): Record<string, number> => (value === undefined ? {} : { [key]: value });
  const perCaller = {
    ...number('maxRequestsInflight', limits.perCaller?.maxRequestsInflight),
    ...number('maxLongRunningRequests', limits.perCaller?.maxLongRunningRequests),
  };
  return {
    ...number('maxConnections', limits.maxConnections),
    ...number('maxConnectionsPerClientIP', limits.maxConnectionsPerClientIP),
    ...seconds('tlsHandshakeTimeoutSeconds', limits.tlsHandshakeTimeout),
    ...seconds('headersTimeoutSeconds', limits.headersTimeout),
    ...seconds('idleTimeoutSeconds', limits.idleTimeout),
    ...seconds('requestBodyTimeoutSeconds', limits.requestBodyTimeout),
    ...seconds('requestBodyIdleTimeoutSeconds', limits.requestBodyIdleTimeout),
    ...number('maxRequestBodyBytes', limits.maxRequestBodyBytes),
    ...number('requestBodyBufferBytes', limits.requestBodyBufferBytes),
    ...(Object.keys(perCaller).length === 0 ? {} : { perCaller }),
  };
}

export function renderGatewayConfig(gateway: AccessGateway, options: { upstreamServer: string }): Record<string, unknown> {
  const { spec } = gateway;
  return {
    name: gateway.metadata.name,
    namespace: gateway.metadata.namespace,
    listen: { address: '0.0.0.0', port: GATEWAY_PORTS.https, tlsCertFile: `${GATEWAY_PATHS.tlsDir}/tls.crt`, tlsKeyFile: `${GATEWAY_PATHS.tlsDir}/tls.key` },
    health: { address: '0.0.0.0', port: GATEWAY_PORTS.health },
    upstream: {
      server: spec.upstream?.server ?? options.upstreamServer,
      // Without a CA source (a remote server with a publicly trusted certificate), system roots.
      ...(upstreamCaSource(gateway) === undefined ? {} : { caFile: `${GATEWAY_PATHS.upstreamCaDir}/ca.crt` }),
      tokenFile: GATEWAY_PATHS.tokenFile,
    },
    authentication: renderAuthentication(spec),
    identity: {
      forwardAs: spec.identity?.forwardAs ?? 'Caller',
      ...(spec.identity?.prefix === undefined ? {} : { prefix: spec.identity.prefix }),
    },
    policy: {
      namespace: gateway.metadata.namespace,
      labelSelector: labelSelectorString(spec.policySelector),
      defaultAction: spec.defaultAction ?? 'Deny',
      discovery: spec.discovery ?? 'AllAuthenticated',
    },
    audit: renderAudit(spec),
    ...(spec.recording === undefined ? {} : { recording: { dir: spec.recording.path } }),
    ...(renderLimits(spec) === undefined ? {} : { limits: renderLimits(spec) }),
    shutdownGraceSeconds: 30,
  };
}
