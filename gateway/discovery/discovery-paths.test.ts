import { describe, expect, it } from 'vitest';
import { resolveRequestInfo } from '../parse/request-info.ts';
import { isDiscoveryRead } from '../../core/policy/discovery-paths.ts';
import type { RequestAttributes } from '../../core/policy/model.ts';

function attributes(method: string, url: string): RequestAttributes {
  const info = resolveRequestInfo(method, url);
  if (info instanceof Error) throw info;
  return {
    resourceRequest: info.isResourceRequest, verb: info.policyVerb, apiGroup: info.apiGroup, resource: info.resource,
    subresource: info.subresource, namespace: info.namespace, name: info.name, path: info.path,
  };
}

describe('isDiscoveryRead: what system:discovery and system:public-info-viewer grant every authenticated user', () => {
  it.each([
    ['GET', '/api'], ['GET', '/api/v1'], ['GET', '/apis'], ['GET', '/apis/apps'], ['GET', '/apis/apps/v1'],
    ['GET', '/openapi/v2'], ['GET', '/openapi/v3'], ['GET', '/openapi/v3/api/v1?hash=abc'], ['GET', '/version'],
    ['GET', '/healthz'], ['GET', '/livez'], ['GET', '/readyz'],
  ])('opens %s %s', (method, url) => {
    expect(isDiscoveryRead(attributes(method, url))).toBe(true);
  });

  it.each([
    ['a resource read', 'GET', '/api/v1/namespaces/a/secrets'],
    ['a write to a discovery path', 'POST', '/apis'],
    ['the metrics endpoint', 'GET', '/metrics'],
    ['debug endpoints', 'GET', '/debug/pprof/'],
    ['a look-alike path', 'GET', '/apisx'],
    ['the logs endpoint', 'GET', '/logs/'],
    ['a HEAD (its verb is head, which the discovery roles do not grant)', 'HEAD', '/version'],
  ])('keeps %s under policy', (_name, method, url) => {
    expect(isDiscoveryRead(attributes(method, url))).toBe(false);
  });
});
