import { describe, expect, it } from 'vitest';
import { resolveRequestInfo } from './request-info.ts';
import { upgradeKind, UpgradeRefusedError } from './upgrade-target.ts';
import type { RequestAttributes } from '../../core/policy/model.ts';

function attributes(method: string, url: string): RequestAttributes {
  const info = resolveRequestInfo(method, url);
  if (info instanceof Error) throw info;
  return {
    resourceRequest: info.isResourceRequest, verb: info.policyVerb, apiGroup: info.apiGroup, resource: info.resource,
    subresource: info.subresource, namespace: info.namespace, name: info.name, path: info.path,
  };
}

describe('upgradeKind: what kube-apiserver upgrades, and nothing else', () => {
  it.each([
    ['exec over WebSocket (kubectl 1.30+)', ['GET', '/api/v1/namespaces/a/pods/p/exec?command=sh'] as const, 'websocket', 'session'],
    ['exec over SPDY (the fallback)', ['POST', '/api/v1/namespaces/a/pods/p/exec?command=sh'] as const, 'SPDY/3.1', 'session'],
    ['attach', ['POST', '/api/v1/namespaces/a/pods/p/attach'] as const, 'SPDY/3.1', 'session'],
    ['port-forward', ['GET', '/api/v1/namespaces/a/pods/p/portforward?ports=80'] as const, 'websocket', 'session'],
    ['a protocol list that includes one', ['GET', '/api/v1/namespaces/a/pods/p/exec'] as const, 'h2c, WebSocket', 'session'],
    ['a pod proxy (the pod decides)', ['GET', '/api/v1/namespaces/a/pods/p/proxy/ws'] as const, 'websocket', 'proxy'],
    ['a service proxy', ['GET', '/api/v1/namespaces/a/services/s:80/proxy/'] as const, 'anything', 'proxy'],
    ['the old /proxy/ path', ['GET', '/api/v1/proxy/namespaces/a/pods/p'] as const, 'websocket', 'proxy'],
    ['a watch over WebSocket', ['GET', '/api/v1/namespaces/a/configmaps?watch=true'] as const, 'websocket', 'watch'],
    ['the old /watch/ path', ['GET', '/api/v1/watch/namespaces/a/configmaps'] as const, 'websocket', 'watch'],
  ])('takes %s', (_name, request, protocol, kind) => {
    expect(upgradeKind(attributes(request[0], request[1]), protocol)).toBe(kind);
  });

  it.each([
    ['a Secret GET', ['GET', '/api/v1/namespaces/a/secrets/db'] as const, 'websocket', 'not-upgradable'],
    ['a Secret list', ['GET', '/api/v1/namespaces/a/secrets'] as const, 'websocket', 'not-upgradable'],
    ['a create', ['POST', '/api/v1/namespaces/a/configmaps'] as const, 'SPDY/3.1', 'not-upgradable'],
    ['a patch', ['PATCH', '/api/v1/namespaces/a/configmaps/c'] as const, 'websocket', 'not-upgradable'],
    ['a pod log (streamed over HTTP, never upgraded)', ['GET', '/api/v1/namespaces/a/pods/p/log?follow=true'] as const, 'websocket', 'not-upgradable'],
    ['a non-resource path', ['GET', '/version'] as const, 'websocket', 'not-upgradable'],
    ['exec over h2c', ['GET', '/api/v1/namespaces/a/pods/p/exec'] as const, 'h2c', 'unsupported-protocol'],
    ['a watch over SPDY', ['GET', '/api/v1/namespaces/a/secrets?watch=1'] as const, 'SPDY/3.1', 'unsupported-protocol'],
  ])('refuses %s', (_name, request, protocol, code) => {
    expect(() => upgradeKind(attributes(request[0], request[1]), protocol)).toThrow(expect.objectContaining({ code }) as UpgradeRefusedError);
  });
});
