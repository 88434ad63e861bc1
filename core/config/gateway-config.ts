// The gateway's configuration: one YAML file (the operator renders it from an AccessGateway; a
// person can write it by hand to run the gateway against any cluster). Validated at start with
// every error reported at once, each naming its field and the fix.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { DiscoveryAccess } from '../policy/discovery-paths.ts';
import { unknownKeys } from './known-keys.ts';
import { defaultGatewayOnlyPrefix, gatewayOnlyPrefixProblem, type IdentityForwarding } from '../forwarded-identity.ts';

export type DefaultAction = 'Allow' | 'Deny';
export type AuditLevel = 'None' | 'Metadata' | 'Request' | 'RequestResponse';
export type FailurePolicy = 'FailClosed' | 'FailOpen';

/** The default and largest cap on the response body one audit record keeps (level RequestResponse). */
export const DEFAULT_MAX_RESPONSE_BODY_BYTES = 65_536;
export const MAX_RESPONSE_BODY_BYTES = 4_194_304;

export interface OidcIssuerConfig {
  readonly issuerURL: string;
  readonly discoveryURL?: string;
  readonly audiences: readonly string[];
  readonly usernameClaim: string;
  readonly usernamePrefix: string;
  readonly groupsClaim?: string;
  readonly groupsPrefix: string;
  readonly requiredClaims: Readonly<Record<string, string>>;
  readonly algorithms: readonly string[];
  readonly claimsForPolicy: readonly string[];
  readonly caFile?: string;
  /** Tests only: allow an http:// issuer. */
  readonly allowInsecureHttp: boolean;
}

export interface GatewayConfig {
  readonly name: string;
  readonly namespace: string;
  readonly listen: { readonly address: string; readonly port: number; readonly tlsCertFile: string; readonly tlsKeyFile: string };
  readonly health: { readonly address: string; readonly port: number };
  readonly upstream: { readonly server: string; readonly caFile?: string; readonly tokenFile: string };
  readonly authentication: {
    readonly oidc: readonly OidcIssuerConfig[];
    readonly serviceAccountTokens: { readonly enabled: boolean; readonly audiences: readonly string[] };
  };
  /** The names identities are forwarded under (forwarded-identity.ts). */
  readonly identity: IdentityForwarding;
  readonly policy: {
    /** Namespace to read AccessPolicies from; '' means all namespaces. */
    readonly namespace: string;
    /** Kubernetes label selector syntax, e.g. "airlock.dev/gateway=ci,tier in (prod)"; '' selects all. */
    readonly labelSelector: string;
    readonly defaultAction: DefaultAction;
    /** AllAuthenticated: discovery, /openapi, /version and health pass for every authenticated caller, as the API server opens them; Policy: rules decide. */
    readonly discovery: DiscoveryAccess;
  };
  readonly audit: {
    readonly level: AuditLevel;
    readonly failurePolicy: FailurePolicy;
    /** At level RequestResponse, the most bytes of one response body a record keeps (the rest is counted and hashed). */
    readonly maxResponseBodyBytes: number;
    readonly file?: { readonly path: string; readonly maxSizeMB: number; readonly maxFiles: number };
    readonly webhook?: { readonly url: string; readonly caFile?: string; readonly batchSize: number; readonly flushIntervalMs: number };
    readonly checkpointKeyFile?: string;
  };
  /** Where exec and attach sessions are recorded (asciicast files named <auditID>.cast); absent: not recorded. */
  readonly recording?: { readonly dir: string };
  /** Requests one caller may have held open for approval (mode Wait) at once; more get 429. */
  readonly approvals: { readonly maxHeldPerCaller: number };
  readonly limits: GatewayLimits;
  readonly shutdownGraceSeconds: number;
}

/**
 * What a hostile or broken client meets (gateway/limits/): every bound on connections, time and
 * memory the gateway holds for a caller. The defaults are safe for a gateway pod with 512 MiB.
 */
export interface GatewayLimits {
  /** Open connections (TLS handshakes, keep-alive, watches and exec sessions alike); more are closed at accept. */
  readonly maxConnections: number;
  /** Open connections from one client address (an IPv6 /64 counts as one); 0: no cap. */
  readonly maxConnectionsPerClientIP: number;
  readonly tlsHandshakeTimeoutSeconds: number;
  /** From the connection (or a request's first byte) to the end of its headers. */
  readonly headersTimeoutSeconds: number;
  /** How long a keep-alive connection may wait for its next request. */
  readonly idleTimeoutSeconds: number;
  /** From the end of the headers to the last byte of the body. */
  readonly requestBodyTimeoutSeconds: number;
  /** The longest pause between two pieces of a body. */
  readonly requestBodyIdleTimeoutSeconds: number;
  /** The largest request body: more is refused with 413 (the API server's own limit is 3 MiB). */
  readonly maxRequestBodyBytes: number;
  /** Bytes of request bodies the gateway may hold in memory at once, across all requests. */
  readonly requestBodyBufferBytes: number;
  /** How long a body waits for room in that buffer before the request is refused with 429. */
  readonly requestBodyBufferWaitSeconds: number;
  /** Per authenticated caller (by username); over a cap the answer is 429 with Retry-After. */
  readonly perCaller: { readonly maxRequestsInflight: number; readonly maxLongRunningRequests: number };
}

export class ConfigError extends Error {
  readonly code = 'invalid_config';
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(`${source}: ${problems.length} problem(s):\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Raw = Record<string, unknown>;

/** Reads fields with defaults and collects every problem instead of stopping at the first. */
class Reader {
  readonly problems: string[] = [];

  object(raw: unknown, path: string): Raw {
    if (raw === undefined || raw === null) return {};
    if (typeof raw !== 'object' || Array.isArray(raw)) { this.problems.push(`${path}: must be an object`); return {}; }
    return raw as Raw;
  }

  string(raw: Raw, key: string, path: string, fallback?: string): string {
    const value = raw[key];
    if (value === undefined || value === '') {
      if (fallback === undefined) { this.problems.push(`${path}.${key}: required`); return ''; }
      return fallback;
    }
    if (typeof value !== 'string') { this.problems.push(`${path}.${key}: must be a string`); return ''; }
    return value;
  }

  optionalString(raw: Raw, key: string, path: string): string | undefined {
    return raw[key] === undefined ? undefined : this.string(raw, key, path);
  }

  number(raw: Raw, key: string, path: string, bounds: { fallback: number; min: number; max: number }): number {
    const value = raw[key] ?? bounds.fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < bounds.min || value > bounds.max) {
      this.problems.push(`${path}.${key}: must be an integer from ${bounds.min} to ${bounds.max}`);
      return bounds.fallback;
    }
    return value;
  }

  boolean(raw: Raw, key: string, path: string, fallback: boolean): boolean {
    const value = raw[key] ?? fallback;
    if (typeof value !== 'boolean') { this.problems.push(`${path}.${key}: must be true or false`); return fallback; }
    return value;
  }

  oneOf<T extends string>(raw: Raw, key: string, path: string, choice: { allowed: readonly T[]; fallback: T }): T {
    const value = raw[key] ?? choice.fallback;
    if (typeof value !== 'string' || !(choice.allowed as readonly string[]).includes(value)) {
      this.problems.push(`${path}.${key}: must be one of ${choice.allowed.join(', ')}`);
      return choice.fallback;
    }
    return value as T;
  }

  strings(raw: Raw, key: string, path: string): string[] {
    const value = raw[key] ?? [];
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
      this.problems.push(`${path}.${key}: must be a list of strings`);
      return [];
    }
    return value as string[];
  }

  stringMap(raw: Raw, key: string, path: string): Record<string, string> {
    const value = this.object(raw[key], `${path}.${key}`);
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string') this.problems.push(`${path}.${key}.${k}: must be a string`);
    }
    return value as Record<string, string>;
  }

  url(raw: Raw, key: string, path: string, schemes: readonly string[]): string {
    const value = this.string(raw, key, path);
    if (value === '') return value;
    try {
      const url = new URL(value);
      if (!schemes.includes(url.protocol)) this.problems.push(`${path}.${key}: must use ${schemes.join(' or ')}`);
    } catch {
      this.problems.push(`${path}.${key}: "${value}" is not a URL`);
    }
    return value;
  }
}

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512'];

function readOidc(r: Reader, raw: unknown, index: number): OidcIssuerConfig {
  const path = `authentication.oidc[${index}]`;
  const o = r.object(raw, path);
  const allowInsecureHttp = r.boolean(o, 'allowInsecureHttp', path, false);
  const algorithms = r.strings(o, 'algorithms', path);
  for (const alg of algorithms) {
    if (!ALGORITHMS.includes(alg)) r.problems.push(`${path}.algorithms: "${alg}" is not allowed; use ${ALGORITHMS.join(', ')}`);
  }
  if (o['usernamePrefix'] === undefined) {
    r.problems.push(`${path}.usernamePrefix: required (use "" for none) so OIDC users cannot collide with cluster users`);
  }
  const audiences = r.strings(o, 'audiences', path);
  if (audiences.length === 0) r.problems.push(`${path}.audiences: at least one audience is required`);
  const groupsClaim = r.optionalString(o, 'groupsClaim', path);
  const discoveryURL = r.optionalString(o, 'discoveryURL', path);
  const caFile = r.optionalString(o, 'caFile', path);
  return {
    issuerURL: r.url(o, 'issuerURL', path, allowInsecureHttp ? ['https:', 'http:'] : ['https:']),
    ...(discoveryURL === undefined ? {} : { discoveryURL }),
    audiences,
    usernameClaim: r.string(o, 'usernameClaim', path, 'sub'),
    usernamePrefix: typeof o['usernamePrefix'] === 'string' ? o['usernamePrefix'] : '',
    ...(groupsClaim === undefined ? {} : { groupsClaim }),
    groupsPrefix: typeof o['groupsPrefix'] === 'string' ? o['groupsPrefix'] : '',
    requiredClaims: r.stringMap(o, 'requiredClaims', path),
    algorithms: algorithms.length === 0 ? ['RS256'] : algorithms,
    claimsForPolicy: r.strings(o, 'claimsForPolicy', path),
    ...(caFile === undefined ? {} : { caFile }),
    allowInsecureHttp,
  };
}

function readRecording(r: Reader, raw: Raw): Pick<GatewayConfig, 'recording'> {
  if (raw['recording'] === undefined) return {};
  const recording = r.object(raw['recording'], 'recording');
  const dir = r.string(recording, 'dir', 'recording');
  if (dir !== '' && !dir.startsWith('/')) r.problems.push('recording.dir: must be an absolute path');
  return { recording: { dir } };
}

function readAudit(r: Reader, raw: Raw): GatewayConfig['audit'] {
  const a = r.object(raw['audit'], 'audit');
  const file = a['file'] === undefined ? undefined : r.object(a['file'], 'audit.file');
  const webhook = a['webhook'] === undefined ? undefined : r.object(a['webhook'], 'audit.webhook');
  const level = r.oneOf(a, 'level', 'audit', { allowed: ['None', 'Metadata', 'Request', 'RequestResponse'] as const, fallback: 'Metadata' });
  if (level !== 'None' && file === undefined && webhook === undefined) {
    r.problems.push('audit: at least one sink (audit.file or audit.webhook) is required unless audit.level is None');
  }
  const checkpointKeyFile = r.optionalString(a, 'checkpointKeyFile', 'audit');
  const webhookCa = webhook === undefined ? undefined : r.optionalString(webhook, 'caFile', 'audit.webhook');
  return {
    level,
    failurePolicy: r.oneOf(a, 'failurePolicy', 'audit', { allowed: ['FailClosed', 'FailOpen'] as const, fallback: 'FailClosed' }),
    maxResponseBodyBytes: r.number(a, 'maxResponseBodyBytes', 'audit', { fallback: DEFAULT_MAX_RESPONSE_BODY_BYTES, min: 1024, max: MAX_RESPONSE_BODY_BYTES }),
    ...(file === undefined ? {} : { file: {
      path: r.string(file, 'path', 'audit.file'),
      maxSizeMB: r.number(file, 'maxSizeMB', 'audit.file', { fallback: 100, min: 1, max: 100_000 }),
      maxFiles: r.number(file, 'maxFiles', 'audit.file', { fallback: 10, min: 1, max: 10_000 }),
    } }),
    ...(webhook === undefined ? {} : { webhook: {
      url: r.url(webhook, 'url', 'audit.webhook', ['https:', 'http:']),
      ...(webhookCa === undefined ? {} : { caFile: webhookCa }),
      batchSize: r.number(webhook, 'batchSize', 'audit.webhook', { fallback: 100, min: 1, max: 10_000 }),
      flushIntervalMs: r.number(webhook, 'flushIntervalMs', 'audit.webhook', { fallback: 1000, min: 10, max: 600_000 }),
    } }),
    ...(checkpointKeyFile === undefined ? {} : { checkpointKeyFile }),
  };
}

const MiB = 1024 * 1024;

function readLimits(r: Reader, raw: Raw): GatewayLimits {
  const l = r.object(raw['limits'], 'limits');
  const perCaller = r.object(l['perCaller'], 'limits.perCaller');
  const seconds = (key: string, fallback: number, max = 3600): number => r.number(l, key, 'limits', { fallback, min: 1, max });
  const limits: GatewayLimits = {
    maxConnections: r.number(l, 'maxConnections', 'limits', { fallback: 2048, min: 1, max: 1_000_000 }),
    maxConnectionsPerClientIP: r.number(l, 'maxConnectionsPerClientIP', 'limits', { fallback: 512, min: 0, max: 1_000_000 }),
    tlsHandshakeTimeoutSeconds: seconds('tlsHandshakeTimeoutSeconds', 10, 600),
    headersTimeoutSeconds: seconds('headersTimeoutSeconds', 30, 600),
    idleTimeoutSeconds: seconds('idleTimeoutSeconds', 65),
    requestBodyTimeoutSeconds: seconds('requestBodyTimeoutSeconds', 60),
    requestBodyIdleTimeoutSeconds: seconds('requestBodyIdleTimeoutSeconds', 30),
    maxRequestBodyBytes: r.number(l, 'maxRequestBodyBytes', 'limits', { fallback: 3 * MiB, min: 1024, max: 1024 * MiB }),
    requestBodyBufferBytes: r.number(l, 'requestBodyBufferBytes', 'limits', { fallback: 32 * MiB, min: 1024, max: 16 * 1024 * MiB }),
    requestBodyBufferWaitSeconds: r.number(l, 'requestBodyBufferWaitSeconds', 'limits', { fallback: 3, min: 0, max: 60 }),
    perCaller: {
      maxRequestsInflight: r.number(perCaller, 'maxRequestsInflight', 'limits.perCaller', { fallback: 64, min: 1, max: 1_000_000 }),
      maxLongRunningRequests: r.number(perCaller, 'maxLongRunningRequests', 'limits.perCaller', { fallback: 256, min: 1, max: 1_000_000 }),
    },
  };
  if (limits.requestBodyBufferBytes < limits.maxRequestBodyBytes) {
    r.problems.push('limits.requestBodyBufferBytes: must be at least limits.maxRequestBodyBytes, or a body of the largest allowed size could never be held');
  }
  return limits;
}

/** `identity`: Caller (the default) or GatewayOnly, whose prefix defaults to the gateway's own. */
function readIdentity(r: Reader, root: Raw, gateway: { namespace: string; name: string }): IdentityForwarding {
  const identity = r.object(root['identity'], 'identity');
  const forwardAs = r.oneOf(identity, 'forwardAs', 'identity', { allowed: ['Caller', 'GatewayOnly'] as const, fallback: 'Caller' });
  const prefix = r.optionalString(identity, 'prefix', 'identity') ?? defaultGatewayOnlyPrefix(gateway);
  const problem = gatewayOnlyPrefixProblem(prefix);
  if (problem !== undefined) r.problems.push(`identity.prefix: ${problem}`);
  return { forwardAs, prefix };
}

export function parseGatewayConfig(raw: unknown, source = 'gateway config'): GatewayConfig {
  const r = new Reader();
  const root = r.object(raw, '(root)');
  const listen = r.object(root['listen'], 'listen');
  const health = r.object(root['health'], 'health');
  const upstream = r.object(root['upstream'], 'upstream');
  const authn = r.object(root['authentication'], 'authentication');
  const sa = r.object(authn['serviceAccountTokens'], 'authentication.serviceAccountTokens');
  const policy = r.object(root['policy'], 'policy');
  const oidcRaw = authn['oidc'] ?? [];
  if (!Array.isArray(oidcRaw)) r.problems.push('authentication.oidc: must be a list');
  const upstreamCa = r.optionalString(upstream, 'caFile', 'upstream');
  const config: GatewayConfig = {
    name: r.string(root, 'name', '(root)'),
    namespace: r.string(root, 'namespace', '(root)', 'default'),
    listen: {
      address: r.string(listen, 'address', 'listen', '0.0.0.0'),
      port: r.number(listen, 'port', 'listen', { fallback: 8443, min: 0, max: 65_535 }),
      tlsCertFile: r.string(listen, 'tlsCertFile', 'listen'),
      tlsKeyFile: r.string(listen, 'tlsKeyFile', 'listen'),
    },
    health: {
      address: r.string(health, 'address', 'health', '0.0.0.0'),
      port: r.number(health, 'port', 'health', { fallback: 9090, min: 0, max: 65_535 }),
    },
    upstream: {
      server: r.url(upstream, 'server', 'upstream', ['https:']),
      ...(upstreamCa === undefined ? {} : { caFile: upstreamCa }),
      tokenFile: r.string(upstream, 'tokenFile', 'upstream'),
    },
    authentication: {
      oidc: Array.isArray(oidcRaw) ? oidcRaw.map((o, i) => readOidc(r, o, i)) : [],
      serviceAccountTokens: {
        enabled: r.boolean(sa, 'enabled', 'authentication.serviceAccountTokens', true),
        audiences: r.strings(sa, 'audiences', 'authentication.serviceAccountTokens'),
      },
    },
    identity: readIdentity(r, root, { namespace: typeof root['namespace'] === 'string' ? root['namespace'] : 'default', name: typeof root['name'] === 'string' ? root['name'] : '' }),
    policy: {
      namespace: typeof policy['namespace'] === 'string' ? policy['namespace'] : '',
      labelSelector: r.string(policy, 'labelSelector', 'policy', ''),
      defaultAction: r.oneOf(policy, 'defaultAction', 'policy', { allowed: ['Allow', 'Deny'] as const, fallback: 'Deny' }),
      discovery: r.oneOf(policy, 'discovery', 'policy', { allowed: ['AllAuthenticated', 'Policy'] as const, fallback: 'AllAuthenticated' }),
    },
    audit: readAudit(r, root),
    ...readRecording(r, root),
    approvals: { maxHeldPerCaller: r.number(r.object(root['approvals'], 'approvals'), 'maxHeldPerCaller', 'approvals', { fallback: 8, min: 1, max: 10_000 }) },
    limits: readLimits(r, root),
    shutdownGraceSeconds: r.number(root, 'shutdownGraceSeconds', '(root)', { fallback: 30, min: 0, max: 3600 }),
  };
  r.problems.push(...unknownKeys(root));
  if (config.authentication.oidc.length === 0 && !config.authentication.serviceAccountTokens.enabled) {
    r.problems.push('authentication: no way to authenticate callers; configure authentication.oidc or enable serviceAccountTokens');
  }
  if (r.problems.length > 0) throw new ConfigError(source, r.problems);
  return config;
}

export async function loadGatewayConfig(path: string): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'}); pass --config with the path of a gateway config`]);
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw new ConfigError(path, [`not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] ?? '' : ''}`]);
  }
  return parseGatewayConfig(raw, path);
}
