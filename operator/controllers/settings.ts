// The operator's settings from its environment (config/manager/manager.yaml sets them).

export interface ListenAddress {
  readonly host: string | undefined;
  readonly port: number;
}

export interface OperatorSettings {
  readonly podNamespace: string;
  readonly leaderElection: boolean;
  readonly healthAddress: ListenAddress;
  readonly metricsAddress: ListenAddress;
  readonly gatewayImage: string;
  /** Finished ApprovalRequests are removed this long after creation (AIRLOCK_APPROVAL_RETENTION, e.g. 168h). */
  readonly approvalRetentionMs: number;
  /** Optional Slack-compatible webhook told about new ApprovalRequests (AIRLOCK_APPROVAL_WEBHOOK_URL). */
  readonly approvalWebhookUrl: string | undefined;
  /** How long an old upstream token keeps working after a rotation (AIRLOCK_CREDENTIAL_REVOKE_AFTER, default 120s). */
  readonly credentialRevokeAfterMs: number;
}

export const DEFAULT_GATEWAY_IMAGE = 'airlock:dev';
export const LEASE_NAME = 'airlock-operator';

/** `:8081` (every interface), `127.0.0.1:0`, `[::1]:8080`. */
export function parseListenAddress(value: string, variable: string): ListenAddress {
  const colon = value.lastIndexOf(':');
  const port = Number(value.slice(colon + 1));
  if (colon === -1 || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new TypeError(`${variable} must be [host]:port, got ${JSON.stringify(value)}`);
  }
  const host = value.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? undefined : host, port };
}

function flag(value: string | undefined, variable: string, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new TypeError(`${variable} must be true or false, got ${JSON.stringify(value)}`);
}

function duration(value: string | undefined, variable: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const match = /^(\d+)(s|m|h)$/.exec(value);
  if (match === null) throw new TypeError(`${variable} must be a duration like 168h, 30m or 90s, got ${JSON.stringify(value)}`);
  return Number(match[1]) * (match[2] === 's' ? 1000 : match[2] === 'm' ? 60_000 : 3_600_000);
}

function webhookUrl(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) throw new TypeError(`AIRLOCK_APPROVAL_WEBHOOK_URL must be an http(s) URL, got ${JSON.stringify(value)}`);
  return value;
}

export function readSettings(env: Readonly<Record<string, string | undefined>>): OperatorSettings {
  const podNamespace = env['POD_NAMESPACE'] ?? '';
  const leaderElection = flag(env['AIRLOCK_LEADER_ELECTION'], 'AIRLOCK_LEADER_ELECTION', true);
  if (leaderElection && podNamespace === '') throw new TypeError('POD_NAMESPACE must be set when leader election is on (the Lease lives there)');
  return {
    podNamespace,
    leaderElection,
    healthAddress: parseListenAddress(env['AIRLOCK_HEALTH_ADDRESS'] ?? ':8081', 'AIRLOCK_HEALTH_ADDRESS'),
    metricsAddress: parseListenAddress(env['AIRLOCK_METRICS_ADDRESS'] ?? ':8080', 'AIRLOCK_METRICS_ADDRESS'),
    gatewayImage: env['AIRLOCK_GATEWAY_IMAGE'] ?? DEFAULT_GATEWAY_IMAGE,
    approvalRetentionMs: duration(env['AIRLOCK_APPROVAL_RETENTION'], 'AIRLOCK_APPROVAL_RETENTION', 7 * 24 * 3_600_000),
    credentialRevokeAfterMs: duration(env['AIRLOCK_CREDENTIAL_REVOKE_AFTER'], 'AIRLOCK_CREDENTIAL_REVOKE_AFTER', 120_000),
    approvalWebhookUrl: webhookUrl(env['AIRLOCK_APPROVAL_WEBHOOK_URL']),
  };
}
