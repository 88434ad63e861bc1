import { describe, expect, it } from 'vitest';
import { RequestInfoError, resolveRequestInfo, type RequestInfo, type RequestInfoErrorCode } from './request-info.ts';

// Cases re-expressed from kube-apiserver's requestinfo tests (TestGetAPIRequestInfo,
// TestGetNonAPIRequestInfo, TestSelectorParsing), then the gateway's own.
type Expected = Partial<RequestInfo>;

const ns = (namespace: string, resource: string, name = '', subresource = ''): Expected =>
  ({ namespace, resource, name, subresource });

function resolved(method: string, url: string): RequestInfo {
  const info = resolveRequestInfo(method, url);
  if (info instanceof RequestInfoError) throw new Error(`unexpected ${info.code}: ${info.message}`);
  return info;
}

const resourceCases: readonly (readonly [string, string, string, Expected])[] = [
  ['listing namespaces is a list of the namespaces resource', 'GET', '/api/v1/namespaces', { verb: 'list', apiPrefix: 'api', apiVersion: 'v1', ...ns('', 'namespaces'), parts: ['namespaces'] }],
  ['getting a namespace names it and scopes to it', 'GET', '/api/v1/namespaces/other', { verb: 'get', ...ns('other', 'namespaces', 'other'), parts: ['namespaces', 'other'] }],
  ['listing pods in a namespace re-bases onto pods', 'GET', '/api/v1/namespaces/other/pods', { verb: 'list', ...ns('other', 'pods'), parts: ['pods'] }],
  ['getting a pod names it', 'GET', '/api/v1/namespaces/other/pods/foo', { verb: 'get', ...ns('other', 'pods', 'foo'), parts: ['pods', 'foo'] }],
  ['HEAD on a pod is a get', 'HEAD', '/api/v1/namespaces/other/pods/foo', { verb: 'get', ...ns('other', 'pods', 'foo') }],
  ['listing pods in all namespaces has no namespace', 'GET', '/api/v1/pods', { verb: 'list', ...ns('', 'pods'), parts: ['pods'] }],
  ['HEAD on a collection is a list', 'HEAD', '/api/v1/pods', { verb: 'list', ...ns('', 'pods') }],
  ['a server-side apply PATCH creating a namespace keeps the namespace (current apiserver)', 'PATCH', '/api/v1/namespaces/new-namespace', { verb: 'patch', ...ns('new-namespace', 'namespaces', 'new-namespace') }],
  ['the /proxy/ path verb names the object', 'GET', '/api/v1/proxy/namespaces/other/pods/foo', { verb: 'proxy', ...ns('other', 'pods', 'foo'), parts: ['pods', 'foo'] }],
  ['the /proxy/ path verb never has a subresource; the rest is opaque', 'GET', '/api/v1/proxy/namespaces/other/pods/foo/subpath/not/a/subresource', { verb: 'proxy', ...ns('other', 'pods', 'foo'), parts: ['pods', 'foo', 'subpath', 'not', 'a', 'subresource'] }],
  ['the /watch/ path verb across namespaces', 'GET', '/api/v1/watch/pods', { verb: 'watch', ...ns('', 'pods'), parts: ['pods'] }],
  ['the /watch/ path verb in a namespace', 'GET', '/api/v1/watch/namespaces/other/pods', { verb: 'watch', ...ns('other', 'pods') }],
  ['the /watch/ path verb may name one object', 'GET', '/api/v1/watch/namespaces/other/pods/foo', { verb: 'watch', ...ns('other', 'pods', 'foo') }],
  ['watch=true makes a list a watch', 'GET', '/api/v1/pods?watch=true', { verb: 'watch', ...ns('', 'pods') }],
  ['watch=false keeps a list', 'GET', '/api/v1/pods?watch=false', { verb: 'list' }],
  ['watch=1 makes a list a watch', 'GET', '/api/v1/namespaces/other/pods?watch=1', { verb: 'watch', ...ns('other', 'pods') }],
  ['watch=0 keeps a list', 'GET', '/api/v1/namespaces/other/pods?watch=0', { verb: 'list' }],
  ['an empty watch value is a watch (only "0" and "false" are false)', 'GET', '/api/v1/pods?watch=', { verb: 'watch' }],
  ['a bare watch parameter is a watch', 'GET', '/api/v1/pods?watch', { verb: 'watch' }],
  ['watch=FALSE is compared without case', 'GET', '/api/v1/pods?watch=FALSE', { verb: 'list' }],
  ['watch=yes is a watch', 'GET', '/api/v1/pods?watch=yes', { verb: 'watch' }],
  ['only the first watch value counts', 'GET', '/api/v1/pods?watch=false&watch=true', { verb: 'list' }],
  ['watch on a named get stays a get', 'GET', '/api/v1/namespaces/ns/pods/foo?watch=true', { verb: 'get', name: 'foo' }],
  ['status is a subresource of a pod', 'GET', '/api/v1/namespaces/other/pods/foo/status', { verb: 'get', ...ns('other', 'pods', 'foo', 'status'), parts: ['pods', 'foo', 'status'] }],
  ['proxy is a subresource when not the path verb, the tail is opaque', 'GET', '/api/v1/namespaces/other/pods/foo/proxy/subpath', { verb: 'get', ...ns('other', 'pods', 'foo', 'proxy'), parts: ['pods', 'foo', 'proxy', 'subpath'] }],
  ['finalize is a namespace subresource', 'PUT', '/api/v1/namespaces/other/finalize', { verb: 'update', ...ns('other', 'namespaces', 'other', 'finalize'), parts: ['namespaces', 'other', 'finalize'] }],
  ['status after a namespace name is a namespace subresource', 'PUT', '/api/v1/namespaces/other/status', { verb: 'update', ...ns('other', 'namespaces', 'other', 'status') }],
  ['anything after a namespace subresource is opaque', 'GET', '/api/v1/namespaces/other/status/extra', { ...ns('other', 'namespaces', 'other', 'status'), parts: ['namespaces', 'other', 'status', 'extra'] }],
  ['PATCH is patch', 'PATCH', '/api/v1/namespaces/other/pods/foo', { verb: 'patch', name: 'foo' }],
  ['DELETE with a name is delete', 'DELETE', '/api/v1/namespaces/other/pods/foo', { verb: 'delete', name: 'foo' }],
  ['POST is create', 'POST', '/api/v1/namespaces/other/pods', { verb: 'create', ...ns('other', 'pods') }],
  ['PUT is update', 'PUT', '/api/v1/namespaces/other/pods/foo', { verb: 'update', name: 'foo' }],
  ['DELETE without a name on a cluster resource is deletecollection', 'DELETE', '/api/v1/nodes', { verb: 'deletecollection', ...ns('', 'nodes') }],
  ['DELETE on namespaces is deletecollection', 'DELETE', '/api/v1/namespaces', { verb: 'deletecollection', ...ns('', 'namespaces') }],
  ['DELETE on pods in a namespace is deletecollection', 'DELETE', '/api/v1/namespaces/other/pods', { verb: 'deletecollection', ...ns('other', 'pods') }],
  ['DELETE in a named group is deletecollection', 'DELETE', '/apis/extensions/v1/namespaces/other/pods', { verb: 'deletecollection', apiPrefix: 'apis', apiGroup: 'extensions', apiVersion: 'v1', ...ns('other', 'pods') }],
  ['the API group comes after /apis', 'POST', '/apis/extensions/v1/namespaces/other/pods', { verb: 'create', apiGroup: 'extensions', apiVersion: 'v1' }],
  ['the API version comes after the group', 'POST', '/apis/extensions/v1beta3/namespaces/other/pods', { apiGroup: 'extensions', apiVersion: 'v1beta3' }],
  ['three segments under /api are a resource request', 'GET', '/api/version/resource', { isResourceRequest: true, apiVersion: 'version', resource: 'resource', verb: 'list' }],
  ['a grouped path with name and subresource', 'GET', '/apis/group/version/resource/name/subresource', { resource: 'resource', name: 'name', subresource: 'subresource' }],
  ['an ungrouped path with name and subresource', 'GET', '/api/version/resource/name/subresource', { resource: 'resource', name: 'name', subresource: 'subresource' }],
  ['a group list', 'GET', '/apis/batch/v1/job', { verb: 'list', apiGroup: 'batch', resource: 'job' }],
  ['a group get', 'GET', '/apis/batch/v1/job/foo', { verb: 'get', resource: 'job', name: 'foo' }],
  ['a group subresource (scale)', 'GET', '/apis/batch/v1/job/foo/scale', { resource: 'job', name: 'foo', subresource: 'scale' }],
  ['a trailing slash does not add a segment', 'GET', '/api/v1/namespaces/ns/pods/', { verb: 'list', ...ns('ns', 'pods'), path: '/api/v1/namespaces/ns/pods/' }],
  ['a name is percent-decoded exactly once', 'GET', '/api/v1/namespaces/ns/configmaps/a%2540b', { name: 'a%40b', path: '/api/v1/namespaces/ns/configmaps/a%40b' }],
  ['an encoded colon in a name is decoded', 'GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Aaggregate-to-view', { name: 'system:aggregate-to-view' }],
  ['a path "+" is literal, not a space', 'GET', '/api/v1/namespaces/ns/configmaps/a+b', { name: 'a+b' }],
];

const selectorCases: readonly (readonly [string, string, string, Expected])[] = [
  ['no selector: a list with nothing captured', 'GET', '/apis/group/version/resource', { verb: 'list', name: '', fieldSelector: '', labelSelector: '' }],
  ['a metadata.name field selector names the listed object', 'GET', '/apis/group/version/resource?fieldSelector=metadata.name=name1', { verb: 'list', name: 'name1', fieldSelector: 'metadata.name=name1' }],
  ['a metadata.name field selector names the watched object (kubectl get x -w)', 'GET', '/apis/group/version/resource?watch=true&fieldSelector=metadata.name=name1', { verb: 'watch', name: 'name1', fieldSelector: 'metadata.name=name1' }],
  ['other selectors are captured but name nothing', 'GET', '/apis/group/version/resource?fieldSelector=foo=bar&labelSelector=baz=qux', { verb: 'list', name: '', fieldSelector: 'foo=bar', labelSelector: 'baz=qux' }],
  ['an unparsable field selector names nothing but is still captured', 'GET', '/apis/group/version/resource?fieldSelector=metadata.name=name1,foo', { verb: 'list', name: '', fieldSelector: 'metadata.name=name1,foo' }],
  ['an unparsable field selector keeps watch=true', 'GET', '/apis/group/version/resource?fieldSelector=metadata.name=name1,foo&watch=true', { verb: 'watch', name: '' }],
  ['an unparsable field selector keeps watch=false', 'GET', '/apis/group/version/resource?fieldSelector=metadata.name=name1,foo&watch=false', { verb: 'list', name: '' }],
  ['selectors on deletecollection are captured', 'DELETE', '/apis/group/version/resource?fieldSelector=foo=bar&labelSelector=baz=qux', { verb: 'deletecollection', fieldSelector: 'foo=bar', labelSelector: 'baz=qux' }],
  ['deletecollection takes no name from a field selector', 'DELETE', '/apis/group/version/resource?fieldSelector=metadata.name=a', { verb: 'deletecollection', name: '' }],
  ['repeated selectors: the first of each counts', 'GET', '/apis/group/version/resource?fieldSelector=metadata.name=foo&fieldSelector=metadata.name=bar&labelSelector=foo=bar&labelSelector=foo=baz', { verb: 'list', name: 'foo', fieldSelector: 'metadata.name=foo', labelSelector: 'foo=bar' }],
  ['selectors on a named get are not captured', 'GET', '/apis/group/version/resource/name?fieldSelector=foo=bar&labelSelector=foo=bar', { verb: 'get', name: 'name', fieldSelector: '', labelSelector: '' }],
  ['selectors on the old /watch/ collection path are not captured', 'GET', '/apis/group/version/watch/resource?fieldSelector=metadata.name=foo&labelSelector=foo=bar', { verb: 'watch', name: '', fieldSelector: '', labelSelector: '' }],
  ['selectors on the old /watch/ item path are not captured', 'GET', '/apis/group/version/watch/resource/name?fieldSelector=metadata.name=foo&labelSelector=foo=bar', { verb: 'watch', name: 'name', fieldSelector: '' }],
  ['"==" names the object like "="', 'GET', '/api/v1/pods?fieldSelector=metadata.name%3D%3Da', { name: 'a' }],
  ['"!=" names nothing', 'GET', '/api/v1/pods?fieldSelector=metadata.name!%3Da', { name: '' }],
  ['any conjunct on metadata.name names the object', 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1,metadata.name%3Da', { name: 'a' }],
  ['of two metadata.name terms the byte-wise smallest wins', 'GET', '/api/v1/pods?fieldSelector=metadata.name%3Db,metadata.name%3Da', { name: 'a' }],
  ['a field-selector name that is not a path segment names nothing', 'GET', '/api/v1/pods?fieldSelector=metadata.name%3Da%2Fb', { name: '', fieldSelector: 'metadata.name=a/b' }],
  ['a field-selector name ".." names nothing', 'GET', '/api/v1/pods?fieldSelector=metadata.name%3D..', { name: '' }],
  ['an escaped comma stays in the name', 'GET', '/api/v1/pods?fieldSelector=metadata.name%3Da%5C%2Cb', { name: 'a,b' }],
  ['a "+" in the query is a space', 'GET', '/api/v1/pods?labelSelector=tier+in+(web)', { labelSelector: 'tier in (web)' }],
  ['an undecodable limit drops the name (the apiserver then refuses the list)', 'GET', '/api/v1/pods?fieldSelector=metadata.name%3Da&limit=ten', { verb: 'list', name: '' }],
  ['an empty timeoutSeconds fails to decode too', 'GET', '/api/v1/pods?watch=1&fieldSelector=metadata.name%3Da&timeoutSeconds=', { verb: 'watch', name: '' }],
  ['watch=falſe is false when options decode (strings.EqualFold folds ſ to s)', 'GET', '/api/v1/pods?watch=fal%C5%BFe', { verb: 'list' }],
  ['watch=falſe is true when options fail to decode (strings.ToLower keeps ſ)', 'GET', '/api/v1/pods?watch=fal%C5%BFe&limit=x', { verb: 'watch' }],
];

const streamCases: readonly (readonly [string, string, string, Expected])[] = [
  ['exec over a WebSocket GET is create for policy', 'GET', '/api/v1/namespaces/ns/pods/p/exec?command=sh&stdin=true&tty=true', { verb: 'get', policyVerb: 'create', subresource: 'exec', isLongRunning: true }],
  ['exec over a SPDY POST is create', 'POST', '/api/v1/namespaces/ns/pods/p/exec?command=sh', { verb: 'create', policyVerb: 'create', subresource: 'exec', isLongRunning: true }],
  ['attach over a WebSocket GET is create for policy', 'GET', '/api/v1/namespaces/ns/pods/p/attach?stdout=true', { verb: 'get', policyVerb: 'create', isLongRunning: true }],
  ['port-forward over a WebSocket GET is create for policy', 'GET', '/api/v1/namespaces/ns/pods/p/portforward?ports=8080', { verb: 'get', policyVerb: 'create', isLongRunning: true }],
  ['logs stay a get, and stream', 'GET', '/api/v1/namespaces/ns/pods/p/log?follow=true', { verb: 'get', policyVerb: 'get', subresource: 'log', isLongRunning: true }],
  ['a service proxy subresource streams', 'GET', '/api/v1/namespaces/ns/services/s/proxy/metrics', { policyVerb: 'get', subresource: 'proxy', isLongRunning: true }],
  ['the proxy path verb streams', 'GET', '/api/v1/proxy/nodes/n1/metrics', { verb: 'proxy', isLongRunning: true }],
  ['a watch streams', 'GET', '/api/v1/pods?watch=1', { verb: 'watch', isLongRunning: true }],
  ['a list does not stream', 'GET', '/api/v1/pods', { verb: 'list', isLongRunning: false }],
  ['a status read does not stream', 'GET', '/api/v1/namespaces/ns/pods/p/status', { isLongRunning: false }],
];

const nonResourceCases: readonly (readonly [string, string, string])[] = [
  ['the root', 'GET', '/'],
  ['/api alone', 'GET', '/api'],
  ['/api/version', 'GET', '/api/v1'],
  ['/api/version with a trailing slash', 'GET', '/api/v1/'],
  ['/apis alone', 'GET', '/apis'],
  ['a group', 'GET', '/apis/apps'],
  ['a group version', 'GET', '/apis/extensions/v1beta1'],
  ['a group version with a trailing slash', 'GET', '/apis/extensions/v1beta1/'],
  ['a path under another prefix', 'GET', '/not-api/version/resource'],
  ['a path under a bad prefix', 'GET', '/badprefix/version/resource'],
  ['three segments under /apis (a missing group)', 'GET', '/apis/version/resource'],
  ['health', 'GET', '/healthz'],
  ['liveness with a check', 'GET', '/livez/ping'],
  ['readiness', 'GET', '/readyz?verbose'],
  ['the version', 'GET', '/version'],
  ['metrics', 'GET', '/metrics'],
  ['OpenAPI v2', 'GET', '/openapi/v2'],
  ['OpenAPI v3 for a group', 'GET', '/openapi/v3/apis/apps/v1'],
];

describe('resolveRequestInfo', () => {
  it.each(resourceCases)('resource request: %s', (_name, method, url, expected) => {
    expect(resolved(method, url)).toMatchObject({ isResourceRequest: true, ...expected });
  });

  it.each(selectorCases)('selectors: %s', (_name, method, url, expected) => {
    expect(resolved(method, url)).toMatchObject({ isResourceRequest: true, ...expected });
  });

  it.each(streamCases)('streams: %s', (_name, method, url, expected) => {
    expect(resolved(method, url)).toMatchObject(expected);
  });

  it.each(nonResourceCases)('non-resource request: %s', (_name, method, url) => {
    const info = resolved(method, url);
    expect(info).toMatchObject({ isResourceRequest: false, verb: 'get', policyVerb: 'get', resource: '', name: '', isLongRunning: false });
    expect(info.path).toBe(url.split('?')[0]);
  });

  it.each([
    ['a non-resource verb is the lower-case method', 'POST', '/healthz', { verb: 'post', isLongRunning: false }],
    ['a non-resource request may use any method', 'OPTIONS', '/openapi/v2', { verb: 'options', isLongRunning: false }],
    ['a profiler request streams', 'GET', '/debug/pprof/profile?seconds=30', { verb: 'get', isLongRunning: true }],
  ] as const)('%s', (_name, method, url, expected) => {
    expect(resolved(method, url)).toMatchObject({ isResourceRequest: false, ...expected });
  });

  it('returns every field, with empty strings where the apiserver has none', () => {
    expect(resolved('GET', '/apis/apps/v1/namespaces/prod/deployments/web/scale')).toEqual({
      isResourceRequest: true, path: '/apis/apps/v1/namespaces/prod/deployments/web/scale', verb: 'get', policyVerb: 'get',
      apiPrefix: 'apis', apiGroup: 'apps', apiVersion: 'v1', namespace: 'prod', resource: 'deployments', subresource: 'scale',
      name: 'web', parts: ['deployments', 'web', 'scale'], fieldSelector: '', labelSelector: '', isLongRunning: false,
    });
  });
});

interface Refusal { readonly code: RequestInfoErrorCode; readonly message: string; readonly segment: number | undefined }

const refused: readonly (readonly [string, string, string, Refusal])[] = [
  ['a method outside the verb table on a resource', 'OPTIONS', '/api/v1/pods', { code: 'unsupported-method', message: 'method OPTIONS is not supported for resource requests', segment: undefined }],
  ['CONNECT on a resource', 'CONNECT', '/api/v1/namespaces/ns/pods/p', { code: 'unsupported-method', message: 'method CONNECT is not supported for resource requests', segment: undefined }],
  ['a lower-case method (Go compares methods exactly)', 'get', '/api/v1/pods', { code: 'unsupported-method', message: 'method get is not supported for resource requests', segment: undefined }],
  ['a method named like an object property', 'constructor', '/api/v1/pods', { code: 'unsupported-method', message: 'method constructor is not supported for resource requests', segment: undefined }],
  ['/watch/ with nothing after it', 'GET', '/api/v1/watch', { code: 'missing-resource', message: '"watch" in the path must be followed by a resource', segment: undefined }],
  ['/proxy/ with nothing after it', 'GET', '/apis/g/v1/proxy/', { code: 'missing-resource', message: '"proxy" in the path must be followed by a resource', segment: undefined }],
  ['an encoded slash in a name', 'GET', '/api/v1/namespaces/ns/pods/a%2Fb', { code: 'encoded-slash', message: 'path segment 6 contains an encoded "/" (%2F)', segment: 6 }],
  ['a lower-case encoded slash', 'GET', '/api/v1/namespaces/a%2fpods', { code: 'encoded-slash', message: 'path segment 4 contains an encoded "/" (%2F)', segment: 4 }],
  ['a ".." segment', 'GET', '/api/v1/namespaces/ns/services/s/proxy/../../../secrets', { code: 'dot-segment', message: 'path segment 8 is "." or ".."', segment: 8 }],
  ['an encoded ".." segment (WHATWG URL would resolve it)', 'GET', '/api/v1/namespaces/ns/pods/%2e%2E/x', { code: 'dot-segment', message: 'path segment 6 is "." or ".."', segment: 6 }],
  ['a half-encoded ".." segment', 'GET', '/api/v1/namespaces/ns/pods/.%2e', { code: 'dot-segment', message: 'path segment 6 is "." or ".."', segment: 6 }],
  ['a "." segment', 'GET', '/api/./v1/pods', { code: 'dot-segment', message: 'path segment 2 is "." or ".."', segment: 2 }],
  ['a protocol-relative target (WHATWG URL would read a host)', 'GET', '//evil.example/api/v1/pods', { code: 'empty-segment', message: 'path segment 1 is empty', segment: 1 }],
  ['an empty segment in the middle', 'GET', '/api//v1/pods', { code: 'empty-segment', message: 'path segment 2 is empty', segment: 2 }],
  ['two trailing slashes', 'GET', '/api/v1/pods//', { code: 'empty-segment', message: 'path segment 4 is empty', segment: 4 }],
  ['an encoded NUL', 'GET', '/api/v1/namespaces/ns/pods/a%00', { code: 'control-character', message: 'path segment 6 contains a control character', segment: 6 }],
  ['an encoded newline', 'GET', '/api/v1/pods%0a', { code: 'control-character', message: 'path segment 3 contains a control character', segment: 3 }],
  ['an encoded DEL', 'GET', '/healthz%7F', { code: 'control-character', message: 'path segment 1 contains a control character', segment: 1 }],
  ['a broken escape', 'GET', '/api/v1/pods/%zz', { code: 'bad-percent-encoding', message: 'path segment 4 is not valid percent-encoded UTF-8', segment: 4 }],
  ['a truncated escape', 'GET', '/api/v1/pods/a%2', { code: 'bad-percent-encoding', message: 'path segment 4 is not valid percent-encoded UTF-8', segment: 4 }],
  ['an encoded byte that is not UTF-8', 'GET', '/api/v1/pods/%FF', { code: 'bad-percent-encoding', message: 'path segment 4 is not valid percent-encoded UTF-8', segment: 4 }],
  ['a truncated UTF-8 sequence', 'GET', '/api/v1/pods/%C3', { code: 'bad-percent-encoding', message: 'path segment 4 is not valid percent-encoded UTF-8', segment: 4 }],
  ['a raw backslash (WHATWG URL reads it as a slash)', 'GET', '/\\evil.example/api', { code: 'invalid-character', message: 'the request target contains a character that must be percent-encoded', segment: undefined }],
  ['a raw non-ASCII character', 'GET', '/api/v1/namespaces/ns/pods/café', { code: 'invalid-character', message: 'the request target contains a character that must be percent-encoded', segment: undefined }],
  ['a raw space', 'GET', '/api/v1/pods/a b', { code: 'invalid-character', message: 'the request target contains a character that must be percent-encoded', segment: undefined }],
  ['a raw control character', 'GET', '/api/v1/pods\u0000', { code: 'invalid-character', message: 'the request target contains a character that must be percent-encoded', segment: undefined }],
  ['a fragment', 'GET', '/api/v1/pods#x', { code: 'invalid-character', message: 'the request target contains a character that must be percent-encoded', segment: undefined }],
  ['an absolute-form target', 'GET', 'http://evil.example/api/v1/pods', { code: 'not-origin-form', message: 'the request target must be a path beginning with "/"', segment: undefined }],
  ['the asterisk form', 'OPTIONS', '*', { code: 'not-origin-form', message: 'the request target must be a path beginning with "/"', segment: undefined }],
  ['an empty target', 'GET', '', { code: 'not-origin-form', message: 'the request target must be a path beginning with "/"', segment: undefined }],
  ['a ";" in the query (Go drops such pairs silently)', 'GET', '/api/v1/pods?watch=true;x', { code: 'malformed-query', message: 'the query string contains ";"; use "&" between parameters', segment: undefined }],
  ['a broken escape in the query', 'GET', '/api/v1/pods?labelSelector=%zz', { code: 'malformed-query', message: 'the query string is not valid percent-encoded UTF-8', segment: undefined }],
  ['a non-UTF-8 byte in the query', 'GET', '/api/v1/pods?fieldSelector=metadata.name%3D%FF', { code: 'malformed-query', message: 'the query string is not valid percent-encoded UTF-8', segment: undefined }],
];

describe('resolveRequestInfo refuses what it will not interpret', () => {
  it.each(refused)('%s', (_name, method, url, expected) => {
    const error = resolveRequestInfo(method, url);
    expect(error).toBeInstanceOf(RequestInfoError);
    expect(error).toMatchObject({ name: 'RequestInfoError', ...expected });
  });
});

describe('what the gateway decides on is what the forwarder sends', () => {
  const accepted = [...resourceCases, ...selectorCases, ...streamCases, ...nonResourceCases];
  it.each(accepted.map((c) => [c[0], c[1], c[2]] as const))('%s', (_name, method, url) => {
    // forwardHttp builds new URL(req.url, upstream): the host must stay and the path must decode
    // to the one policy saw.
    const forwarded = new URL(url, 'https://upstream.test:6443');
    expect(forwarded.host).toBe('upstream.test:6443');
    expect(forwarded.pathname.split('/').map(decodeURIComponent).join('/')).toBe(resolved(method, url).path);
  });
});
