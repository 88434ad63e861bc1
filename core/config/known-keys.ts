// Every key the gateway's configuration has, as a tree: the one list the parser checks a file
// against (an unknown key is a problem, with the closest known key suggested, so `listen.prot: 0`
// is not silently a default port) and the README's table is checked against.
import { editDistance } from '../edit-distance.ts';

/** A key with a value (`true`), an object of keys, a list of such objects (`[tree]`), or a free map (`'map'`). */
export type KeyTree = { readonly [key: string]: true | 'map' | KeyTree | readonly [KeyTree] };

export const GATEWAY_CONFIG_KEYS: KeyTree = {
  name: true,
  namespace: true,
  listen: { address: true, port: true, tlsCertFile: true, tlsKeyFile: true },
  health: { address: true, port: true },
  upstream: { server: true, caFile: true, tokenFile: true },
  authentication: {
    oidc: [{
      issuerURL: true, discoveryURL: true, audiences: true, usernameClaim: true, usernamePrefix: true, groupsClaim: true,
      groupsPrefix: true, requiredClaims: 'map', algorithms: true, claimsForPolicy: true, caFile: true, allowInsecureHttp: true,
    }],
    serviceAccountTokens: { enabled: true, audiences: true },
  },
  identity: { forwardAs: true, prefix: true },
  policy: { namespace: true, labelSelector: true, defaultAction: true, discovery: true },
  audit: {
    level: true, failurePolicy: true, maxResponseBodyBytes: true,
    file: { path: true, maxSizeMB: true, maxFiles: true },
    webhook: { url: true, caFile: true, batchSize: true, flushIntervalMs: true },
    checkpointKeyFile: true,
  },
  recording: { dir: true },
  approvals: { maxHeldPerCaller: true },
  limits: {
    maxConnections: true, maxConnectionsPerClientIP: true, tlsHandshakeTimeoutSeconds: true, headersTimeoutSeconds: true,
    idleTimeoutSeconds: true, requestBodyTimeoutSeconds: true, requestBodyIdleTimeoutSeconds: true, maxRequestBodyBytes: true,
    requestBodyBufferBytes: true, requestBodyBufferWaitSeconds: true,
    perCaller: { maxRequestsInflight: true, maxLongRunningRequests: true },
  },
  shutdownGraceSeconds: true,
};

/** The documented key paths (`authentication.oidc[].issuerURL`), leaves only. */
export function keyPaths(tree: KeyTree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, node]) => {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (node === true || node === 'map') return [path];
    if (Array.isArray(node)) return keyPaths((node as readonly [KeyTree])[0], `${path}[]`);
    return keyPaths(node as KeyTree, path);
  });
}

function suggestion(key: string, known: readonly string[]): string {
  const ranked = known.map((k) => ({ k, d: editDistance(key, k, { ignoreCase: true }) })).sort((x, y) => x.d - y.d);
  const best = ranked[0];
  return best !== undefined && best.d <= Math.max(2, Math.floor(key.length / 3)) ? `; did you mean "${best.k}"?` : `; known keys here: ${known.join(', ')}`;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** A problem for every key of `raw` the tree does not have (wrong types are the parser's to report). */
export function unknownKeys(raw: unknown, tree: KeyTree = GATEWAY_CONFIG_KEYS, prefix = ''): string[] {
  if (!isObject(raw)) return [];
  const known = Object.keys(tree);
  return Object.entries(raw).flatMap(([key, value]) => {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const node = tree[key];
    if (node === undefined) return [`${path}: unknown key${suggestion(key, known)}`];
    if (node === true || node === 'map') return [];
    if (Array.isArray(node)) {
      return Array.isArray(value) ? value.flatMap((item, i) => unknownKeys(item, (node as readonly [KeyTree])[0], `${path}[${i}]`)) : [];
    }
    return unknownKeys(value, node as KeyTree, path);
  });
}
