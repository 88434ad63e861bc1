// The kube-apiserver RequestInfo resolver (apiserver pkg/endpoints/request/requestinfo.go),
// re-expressed for the gateway: policy must decide on the same verb, resource, namespace and name
// the API server's own authorizer will see, or a rule could be dodged by spelling a request
// differently. Where the gateway is stricter (unsafe paths, unknown methods) it refuses with a
// typed error instead of guessing.
import { parseRequestTarget, RequestInfoError, type RequestTarget } from './request-target.ts';
import { readListOptions } from './list-options.ts';

export { RequestInfoError, type RequestInfoErrorCode } from './request-target.ts';

export interface RequestInfo {
  readonly isResourceRequest: boolean;
  /** The decoded path. */
  readonly path: string;
  /** The API server's verb; for a non-resource request, the lower-case HTTP method. */
  readonly verb: string;
  /** The verb policy decides on: exec, attach and port-forward are `create` however they arrive. */
  readonly policyVerb: string;
  readonly apiPrefix: string;
  readonly apiGroup: string;
  readonly apiVersion: string;
  readonly namespace: string;
  readonly resource: string;
  readonly subresource: string;
  readonly name: string;
  /** Path parts from the resource on: resource, name, subresource, then anything opaque. */
  readonly parts: readonly string[];
  /** Raw selectors, kept only for list, watch and deletecollection as the API server does. */
  readonly fieldSelector: string;
  readonly labelSelector: string;
  /** Streams without a request timeout (apiserver BasicLongRunningRequestCheck). */
  readonly isLongRunning: boolean;
}

const METHOD_VERBS: ReadonlyMap<string, string> = new Map([
  ['POST', 'create'], ['GET', 'get'], ['HEAD', 'get'], ['PUT', 'update'], ['PATCH', 'patch'], ['DELETE', 'delete'],
]);
const PATH_VERBS = new Set(['watch', 'proxy']);
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
const SELECTOR_VERBS = new Set(['list', 'watch', 'deletecollection']);
const LONG_RUNNING_VERBS = new Set(['watch', 'proxy']);
const LONG_RUNNING_SUBRESOURCES = new Set(['attach', 'exec', 'proxy', 'log', 'portforward']);
// kubectl reaches these with a SPDY POST (create) or a WebSocket GET (get); since Kubernetes 1.35
// the API server also demands create for the GET, and policy must not be weaker than that.
const STREAM_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);

const EMPTY = {
  apiPrefix: '', apiGroup: '', apiVersion: '', namespace: '', resource: '', subresource: '', name: '',
  parts: [], fieldSelector: '', labelSelector: '',
} as const;

function nonResource(method: string, path: string): RequestInfo {
  const verb = method.toLowerCase();
  return {
    ...EMPTY, isResourceRequest: false, path, verb, policyVerb: verb,
    isLongRunning: LONG_RUNNING_VERBS.has(verb) || path.startsWith('/debug/pprof/'),
  };
}

interface Located {
  readonly verb: string;
  readonly verbViaPath: boolean;
  readonly namespace: string;
  readonly parts: readonly string[];
}

/** From the first part after the version: a verb in the path, then `namespaces/{ns}` re-basing. */
function locate(method: string, afterVersion: readonly string[]): Located | RequestInfoError {
  let rest = afterVersion;
  let verb = METHOD_VERBS.get(method) ?? '';
  const verbViaPath = PATH_VERBS.has(rest[0] ?? '');
  if (verbViaPath) {
    if (rest.length < 2) {
      return new RequestInfoError('missing-resource', `"${rest[0] ?? ''}" in the path must be followed by a resource`);
    }
    verb = rest[0] ?? '';
    rest = rest.slice(1);
  } else if (verb === '') {
    return new RequestInfoError('unsupported-method', `method ${method} is not supported for resource requests`);
  }
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1] ?? '';
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2] ?? '')) rest = rest.slice(2);
  }
  return { verb, verbViaPath, namespace, parts: rest };
}

/** What the path alone leaves open: a nameless get is a list or a watch, a nameless delete a collection. */
function settleVerb(located: Located, query: RequestTarget['query']): { verb: string; name: string } {
  const name = located.parts[1] ?? '';
  if (name === '' && located.verb === 'get') return readListOptions(query);
  if (name === '' && located.verb === 'delete') return { verb: 'deletecollection', name };
  return { verb: located.verb, name };
}

function resourceInfo(method: string, target: RequestTarget): RequestInfo | RequestInfoError {
  const [apiPrefix = '', ...afterPrefix] = target.segments;
  const grouped = apiPrefix === 'apis';
  const apiGroup = grouped ? afterPrefix[0] ?? '' : '';
  const [apiVersion = '', ...afterVersion] = grouped ? afterPrefix.slice(1) : afterPrefix;
  const located = locate(method, afterVersion);
  if (located instanceof RequestInfoError) return located;
  const { namespace, parts } = located;
  const { verb, name } = settleVerb(located, target.query);
  const subresource = parts.length >= 3 && verb !== 'proxy' ? parts[2] ?? '' : '';
  // Selectors given on the old /watch/ paths are not honoured by the API server, so not kept.
  const selectors = !located.verbViaPath && SELECTOR_VERBS.has(verb);
  const first = (key: string): string => (selectors ? target.query.get(key)?.[0] ?? '' : '');
  return {
    isResourceRequest: true, path: target.path, verb,
    policyVerb: verb === 'get' && STREAM_SUBRESOURCES.has(subresource) ? 'create' : verb,
    apiPrefix, apiGroup, apiVersion, namespace, resource: parts[0] ?? '', subresource, name, parts,
    fieldSelector: first('fieldSelector'), labelSelector: first('labelSelector'),
    isLongRunning: LONG_RUNNING_VERBS.has(verb) || LONG_RUNNING_SUBRESOURCES.has(subresource),
  };
}

/**
 * Resolves what a request does, as kube-apiserver would: `/api/{v}/…` with at least three
 * segments or `/apis/{g}/{v}/…` with at least four is a resource request, anything else is not.
 * Returns (does not throw) a `RequestInfoError` for a request the gateway will not interpret.
 */
export function resolveRequestInfo(method: string, rawUrl: string): RequestInfo | RequestInfoError {
  const target = parseRequestTarget(rawUrl);
  if (target instanceof RequestInfoError) return target;
  const [prefix] = target.segments;
  const minimum = prefix === 'api' ? 3 : prefix === 'apis' ? 4 : Infinity;
  if (target.segments.length < minimum) return nonResource(method, target.path);
  return resourceInfo(method, target);
}
