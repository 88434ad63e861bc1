// The operator's settings from its environment (config/manager/manager.yaml sets them).
import { parseDuration } from '../../core/duration.ts';
import { editDistance } from '../../core/edit-distance.ts';

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
  /** How often each gateway's bypass report is refreshed (AIRLOCK_BYPASS_CHECK_INTERVAL, default 5m; 0s turns it off). */
  readonly bypassCheckIntervalMs: number;
}

export const DEFAULT_GATEWAY_IMAGE = 'airlock:dev';
export const LEASE_NAME = 'airlock-operator';

/** Every environment variable the operator reads, with its default and meaning (the README's table is checked against this list). */
export const SETTINGS: readonly { readonly name: string; readonly fallback: string; readonly meaning: string }[] = [
  { name: 'POD_NAMESPACE', fallback: '(required with leader election)', meaning: 'the operator\'s namespace, where its Lease lives (the Deployment sets it from the pod)' },
  { name: 'POD_NAME', fallback: 'the host name', meaning: 'its identity in the Lease (read by the leader election)' },
  { name: 'AIRLOCK_LEADER_ELECTION', fallback: 'true', meaning: 'run controllers only while holding the Lease `airlock-operator`' },
  { name: 'AIRLOCK_HEALTH_ADDRESS', fallback: ':8081', meaning: '`/healthz` and `/readyz`' },
  { name: 'AIRLOCK_METRICS_ADDRESS', fallback: ':8080', meaning: '`/metrics`' },
  { name: 'AIRLOCK_GATEWAY_IMAGE', fallback: DEFAULT_GATEWAY_IMAGE, meaning: 'the image of gateways whose AccessGateway names none' },
  { name: 'AIRLOCK_APPROVAL_RETENTION', fallback: '168h', meaning: 'how long finished ApprovalRequests are kept' },
  { name: 'AIRLOCK_CREDENTIAL_REVOKE_AFTER', fallback: '120s', meaning: 'how long a rotated-out upstream token keeps working' },
  { name: 'AIRLOCK_APPROVAL_WEBHOOK_URL', fallback: '(none)', meaning: 'a Slack-compatible webhook told about new ApprovalRequests' },
  { name: 'AIRLOCK_BYPASS_CHECK_INTERVAL', fallback: '5m', meaning: 'how often each AccessGateway\'s `NoBypass` condition (paths around the gateway) is refreshed; `0s` turns the check off' },
];

/** The operator's environment is wrong: every problem, each naming its variable. */
export class SettingsError extends Error {
  readonly code = 'invalid_settings';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`${problems.length} problem(s) in the operator's environment:\n  - ${problems.join('\n  - ')}`);
    this.name = 'SettingsError';
    this.problems = problems;
  }
}

/** Why a value does not parse ("must be …"). */
interface Problem { readonly problem: string }
const isProblem = (value: unknown): value is Problem => typeof value === 'object' && value !== null && 'problem' in value;

/** Reads values, collecting every problem instead of stopping at the first. */
class EnvReader {
  readonly problems: string[] = [];
  readonly #env: Readonly<Record<string, string | undefined>>;
  constructor(env: Readonly<Record<string, string | undefined>>) { this.#env = env; }

  value(variable: string): string | undefined {
    const value = this.#env[variable];
    return value === undefined || value === '' ? undefined : value;
  }

  read<T>(variable: string, fallback: T, parse: (value: string) => T | Problem): T {
    const value = this.value(variable);
    if (value === undefined) return fallback;
    const parsed = parse(value);
    if (isProblem(parsed)) { this.problems.push(`${variable} ${parsed.problem}, got ${JSON.stringify(value)}`); return fallback; }
    return parsed;
  }
}

/** `:8081` (every interface), `127.0.0.1:0`, `[::1]:8080`. */
export function parseListenAddress(value: string, variable: string): ListenAddress {
  const parsed = listenAddress(value);
  if (isProblem(parsed)) throw new TypeError(`${variable} ${parsed.problem}, got ${JSON.stringify(value)}`);
  return parsed;
}

function listenAddress(value: string): ListenAddress | Problem {
  const colon = value.lastIndexOf(':');
  const port = Number(value.slice(colon + 1));
  if (colon === -1 || !Number.isInteger(port) || port < 0 || port > 65_535) return { problem: 'must be [host]:port' };
  const host = value.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? undefined : host, port };
}

function flag(value: string): boolean | Problem {
  return value === 'true' ? true : value === 'false' ? false : { problem: 'must be true or false' };
}

function duration(value: string): number | Problem {
  return parseDuration(value) ?? { problem: 'must be a duration like 168h, 30m or 90s' };
}

function webhookUrl(value: string): string | undefined {
  return URL.canParse(value) && /^https?:$/.test(new URL(value).protocol) ? value : undefined;
}

/** AIRLOCK_ variables that look like a misspelt setting (a near miss of a known name). */
function misspelt(env: Readonly<Record<string, string | undefined>>): string[] {
  const known = SETTINGS.map((s) => s.name);
  return Object.keys(env).filter((k) => k.startsWith('AIRLOCK_') && !known.includes(k)).flatMap((k) => {
    const near = known.find((n) => editDistance(k, n) <= 2);
    return near === undefined ? [] : [`${k} is not a setting; did you mean ${near}?`];
  });
}

/** The settings, or a SettingsError listing every problem at once. */
export function readSettings(env: Readonly<Record<string, string | undefined>>): OperatorSettings {
  const r = new EnvReader(env);
  const podNamespace = r.value('POD_NAMESPACE') ?? '';
  const leaderElection = r.read('AIRLOCK_LEADER_ELECTION', true, flag);
  if (leaderElection && podNamespace === '') r.problems.push('POD_NAMESPACE must be set when leader election is on (the Lease lives there); or set AIRLOCK_LEADER_ELECTION=false');
  const webhook = r.value('AIRLOCK_APPROVAL_WEBHOOK_URL');
  if (webhook !== undefined && webhookUrl(webhook) === undefined) r.problems.push(`AIRLOCK_APPROVAL_WEBHOOK_URL must be an http(s) URL, got ${JSON.stringify(webhook)}`);
  const settings: OperatorSettings = {
    podNamespace,
    leaderElection,
    healthAddress: r.read('AIRLOCK_HEALTH_ADDRESS', { host: undefined, port: 8081 }, listenAddress),
    metricsAddress: r.read('AIRLOCK_METRICS_ADDRESS', { host: undefined, port: 8080 }, listenAddress),
    gatewayImage: r.value('AIRLOCK_GATEWAY_IMAGE') ?? DEFAULT_GATEWAY_IMAGE,
    approvalRetentionMs: r.read('AIRLOCK_APPROVAL_RETENTION', 7 * 24 * 3_600_000, duration),
    credentialRevokeAfterMs: r.read('AIRLOCK_CREDENTIAL_REVOKE_AFTER', 120_000, duration),
    bypassCheckIntervalMs: r.read('AIRLOCK_BYPASS_CHECK_INTERVAL', 5 * 60_000, duration),
    approvalWebhookUrl: webhook === undefined ? undefined : webhookUrl(webhook),
  };
  r.problems.push(...misspelt(env));
  if (r.problems.length > 0) throw new SettingsError(r.problems);
  return settings;
}
