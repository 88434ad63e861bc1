// What of the caller's request headers may travel upstream. The gateway forwards with its own
// credential and its own Impersonate-* headers, so anything from the caller that the API server
// (or a front proxy in front of it) would read as a credential or an identity is removed, along
// with hop-by-hop headers. Upgrades are reported separately so the upgrade path can re-add exactly
// `Connection: Upgrade` and `Upgrade`.

/** The Sec-WebSocket-Protocol entry kube-apiserver accepts as a bearer token (websocket/protocol.go). */
export const BEARER_PROTOCOL_PREFIX = 'base64url.bearer.authorization.k8s.io.';

const REMOVED = new Set([
  'authorization', 'proxy-authorization', 'cookie', 'forwarded', 'x-real-ip',
  // Connection-specific (RFC 9110 §7.6.1); Host names this hop's server, not the API server.
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host',
]);
// Impersonate-* (user, group, uid, extra, and any future variant); X-Remote-* (front-proxy
// identity, if the gateway ever authenticates with a front-proxy certificate); X-Forwarded-*
// (the API server takes the client address for its audit log from X-Forwarded-For).
const REMOVED_PREFIXES = ['impersonate-', 'x-remote-', 'x-forwarded-'];

export interface SanitizeOptions {
  /** Re-add `Connection: Upgrade` and the caller's `Upgrade` when it asked for an upgrade. */
  readonly keepUpgrade?: boolean;
}

export interface SanitizedHeaders {
  /** Flat `[name, value, …]` list, as `rawHeaders`, in the caller's order. */
  readonly headers: string[];
  /** The caller's `Upgrade` value when its `Connection` header asked for an upgrade. */
  readonly upgrade: string | undefined;
  /** Lower-case names of what was removed (never values: they may be credentials). */
  readonly removed: readonly string[];
}

const listTokens = (value: string): string[] => value.split(',').map((t) => t.trim()).filter((t) => t !== '');

/** The caller's subprotocols minus any bearer-token entry; `undefined` when none remain. */
function withoutBearerProtocol(value: string): { kept: string | undefined; stripped: boolean } {
  const prefix = BEARER_PROTOCOL_PREFIX.toLowerCase();
  const all = listTokens(value);
  // Case-insensitive on purpose: anything shaped like a token entry stays out of upstream logs.
  const kept = all.filter((p) => !p.toLowerCase().startsWith(prefix));
  if (kept.length === all.length) return { kept: value, stripped: false };
  return { kept: kept.length === 0 ? undefined : kept.join(', '), stripped: true };
}

function upgradeRequested(rawHeaders: readonly string[]): { connectionOptions: Set<string>; upgrade: string | undefined } {
  const connectionOptions = new Set<string>();
  const upgrades: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    const value = rawHeaders[i + 1] ?? '';
    if (name === 'connection') for (const t of listTokens(value)) connectionOptions.add(t.toLowerCase());
    if (name === 'upgrade' && value.trim() !== '') upgrades.push(value.trim());
  }
  const upgrade = connectionOptions.has('upgrade') && upgrades.length > 0 ? upgrades.join(', ') : undefined;
  return { connectionOptions, upgrade };
}

/** The caller's headers (Node's `req.rawHeaders`) minus every credential, identity and hop header. */
export function sanitizeClientHeaders(rawHeaders: readonly string[], options: SanitizeOptions = {}): SanitizedHeaders {
  const { connectionOptions, upgrade } = upgradeRequested(rawHeaders);
  const headers: string[] = [];
  const removed = new Set<string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    const lower = name.toLowerCase();
    const value = rawHeaders[i + 1] ?? '';
    if (REMOVED.has(lower) || connectionOptions.has(lower) || REMOVED_PREFIXES.some((p) => lower.startsWith(p))) {
      removed.add(lower);
      continue;
    }
    if (lower === 'sec-websocket-protocol') {
      const { kept, stripped } = withoutBearerProtocol(value);
      if (stripped) removed.add(lower);
      if (kept !== undefined) headers.push(name, kept);
      continue;
    }
    headers.push(name, value);
  }
  if (options.keepUpgrade === true && upgrade !== undefined) headers.push('Connection', 'Upgrade', 'Upgrade', upgrade);
  return { headers, upgrade, removed: [...removed] };
}

export type BearerTokenErrorCode =
  | 'multiple-authorization'
  | 'unsupported-scheme'
  | 'empty-token'
  | 'malformed-token'
  | 'multiple-protocol-tokens'
  | 'bad-protocol-token'
  | 'missing-subprotocol'
  | 'conflicting-tokens';

/** A credential the gateway will not try; the caller answers 401 without saying why (logs do). */
export class BearerTokenError extends Error {
  readonly code: BearerTokenErrorCode;

  constructor(code: BearerTokenErrorCode, message: string) {
    super(message);
    this.name = 'BearerTokenError';
    this.code = code;
  }
}

type DistinctHeaders = Readonly<Record<string, readonly string[] | undefined>>;

/** Every line of header `name` (lowercase), whatever the case of the keys it is given. */
function linesOf(headers: DistinctHeaders, name: string): string[] {
  const lines: string[] = [];
  for (const key of Object.keys(headers)) {
    const values = headers[key];
    if (values !== undefined && key.length === name.length && key.toLowerCase() === name) lines.push(...values);
  }
  return lines;
}

/** RFC 6750 b64token: what JWTs and ServiceAccount tokens are made of. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

function fromAuthorization(lines: readonly string[]): string | undefined {
  if (lines.length === 0) return undefined;
  // Node's req.headers keeps one of two Authorization lines silently; which one the API server
  // or a policy would see is not worth guessing.
  if (lines.length > 1) throw new BearerTokenError('multiple-authorization', 'more than one Authorization header');
  const value = (lines[0] ?? '').trim();
  const space = value.indexOf(' ');
  const scheme = space < 0 ? value : value.slice(0, space);
  if (value !== '' && scheme.toLowerCase() !== 'bearer') throw new BearerTokenError('unsupported-scheme', 'the Authorization scheme must be Bearer');
  const token = space < 0 ? '' : value.slice(space + 1);
  if (token === '') throw new BearerTokenError('empty-token', 'the bearer token is empty');
  if (!B64TOKEN.test(token)) throw new BearerTokenError('malformed-token', 'the bearer token has characters a token cannot have');
  return token;
}

/** The API server reads the protocol entry only on WebSocket requests (wsstream.IsWebSocketRequest). */
function isWebSocketRequest(headers: DistinctHeaders): boolean {
  const [upgrade] = linesOf(headers, 'upgrade');
  return upgrade?.trim().toLowerCase() === 'websocket' && linesOf(headers, 'connection').some((c) => c.toLowerCase().includes('upgrade'));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeProtocolToken(encoded: string): string {
  // base64url without padding, as Go's RawURLEncoding; Node's decoder would skip junk instead.
  if (!/^[A-Za-z0-9_-]*$/.test(encoded) || encoded.length % 4 === 1) {
    throw new BearerTokenError('bad-protocol-token', 'the WebSocket bearer token is not unpadded base64url');
  }
  let token: string;
  try {
    token = utf8.decode(Buffer.from(encoded, 'base64url'));
  } catch {
    throw new BearerTokenError('bad-protocol-token', 'the WebSocket bearer token is not UTF-8');
  }
  if (token === '') throw new BearerTokenError('empty-token', 'the bearer token is empty');
  return token;
}

function fromWebSocketProtocol(headers: DistinctHeaders): string | undefined {
  if (!isWebSocketRequest(headers)) return undefined;
  const protocols = linesOf(headers, 'sec-websocket-protocol').flatMap(listTokens);
  const tokens = protocols.filter((p) => p.startsWith(BEARER_PROTOCOL_PREFIX));
  if (tokens.length === 0) return undefined;
  if (tokens.length > 1) throw new BearerTokenError('multiple-protocol-tokens', 'more than one bearer token subprotocol');
  // The API server needs another subprotocol to echo back once it has removed the token.
  if (protocols.length === 1) throw new BearerTokenError('missing-subprotocol', 'a bearer token subprotocol needs another subprotocol beside it');
  return decodeProtocolToken((tokens[0] ?? '').slice(BEARER_PROTOCOL_PREFIX.length));
}

/**
 * The caller's bearer token from a single `Authorization: Bearer …` header, or, on a WebSocket
 * request, from the `base64url.bearer.authorization.k8s.io.…` subprotocol; `undefined` when there
 * is neither. Takes Node's `req.headersDistinct` (names matched without case).
 */
export function extractBearerToken(headers: DistinctHeaders): string | undefined {
  const fromHeader = fromAuthorization(linesOf(headers, 'authorization'));
  const fromProtocol = fromWebSocketProtocol(headers);
  if (fromHeader !== undefined && fromProtocol !== undefined && fromHeader !== fromProtocol) {
    throw new BearerTokenError('conflicting-tokens', 'the Authorization header and the WebSocket subprotocol carry different tokens');
  }
  return fromHeader ?? fromProtocol;
}
