// What kube-apiserver lets every authenticated caller read, through its system:discovery and
// system:public-info-viewer ClusterRoles: the API's shape and version, and health. kubectl needs
// them for every command (discovery, client-side validation from /openapi, server-side apply), so
// a gateway that refused them would break kubectl unless every policy listed them.
import type { RequestAttributes } from './model.ts';

export type DiscoveryAccess = 'AllAuthenticated' | 'Policy';

const EXACT = new Set(['/api', '/apis', '/openapi', '/version', '/version/', '/healthz', '/livez', '/readyz']);
const PREFIXES = ['/api/', '/apis/', '/openapi/'];

/** A read of a path those roles grant: a GET (verb get) of a non-resource URL the API server opens to all. */
export function isDiscoveryRead(request: RequestAttributes): boolean {
  if (request.resourceRequest || request.verb !== 'get') return false;
  return EXACT.has(request.path) || PREFIXES.some((p) => request.path.startsWith(p));
}

export const OPEN_DISCOVERY_REASON = 'discovery is open to every authenticated caller, as the API server opens it (policy.discovery: AllAuthenticated)';
