import { describe, expect, it } from 'vitest';
import type { RequestAttributes } from '../../core/policy/model.ts';
import { maskRulesFor, MASKED_BASE64, MASKED_TEXT } from '../mask/mask-plan.ts';
import { describeBody, MAX_CHANGES, summarize, type DescribedBody } from './request-changes.ts';

const attrs = (over: Partial<RequestAttributes> = {}): RequestAttributes => ({
  resourceRequest: true, verb: 'patch', apiGroup: 'apps', resource: 'deployments', subresource: '', namespace: 'prod', name: 'api', path: '/apis/apps/v1/namespaces/prod/deployments/api', ...over,
});
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const describe_ = (body: Buffer, contentType: string, request = attrs()): DescribedBody => describeBody({ body, contentType, rules: maskRulesFor(request, undefined) });
const secrets = attrs({ apiGroup: '', resource: 'secrets', name: 'db' });

describe('describeBody', () => {
  it.each<[string, Buffer, string, DescribedBody]>([
    ['no body', Buffer.alloc(0), '', { changes: [] }],
    ['a strategic-merge patch of replicas and image', json({ spec: { replicas: 3, template: { spec: { containers: [{ name: 'api', image: 'evil.example/backdoor:1' }] } } } }), 'application/strategic-merge-patch+json', {
      changes: [
        { path: '.spec.replicas', value: '3' },
        { path: '.spec.template.spec.containers[0].name', value: '"api"' },
        { path: '.spec.template.spec.containers[0].image', value: '"evil.example/backdoor:1"' },
      ],
    }],
    ['a merge patch that removes a field', json({ metadata: { labels: { tier: null } } }), 'application/merge-patch+json', { changes: [{ path: '.metadata.labels.tier', value: 'null' }] }],
    ['keys that need brackets', json({ metadata: { annotations: { 'example.com/owner': 'x', "it's": 'y' } } }), 'application/merge-patch+json', {
      changes: [{ path: ".metadata.annotations['example.com/owner']", value: '"x"' }, { path: '.metadata.annotations["it\'s"]', value: '"y"' }],
    }],
    ['an empty object', json({ spec: { template: {} } }), 'application/json', { changes: [{ path: '.spec.template', value: '{}' }] }],
    ['a JSON patch', json([{ op: 'replace', path: '/spec/replicas', value: 2 }, { op: 'remove', path: '/metadata/labels/a~1b' }, { op: 'copy', from: '/spec/x', path: '/spec/y' }]), 'application/json-patch+json', {
      changes: [{ path: '.spec.replicas', op: 'replace', value: '2' }, { path: ".metadata.labels['a/b']", op: 'remove' }, { path: '.spec.y', op: 'copy', from: '.spec.x' }],
    }],
    ['an apply patch in YAML', Buffer.from('apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 4\n'), 'application/apply-patch+yaml', {
      changes: [{ path: '.apiVersion', value: '"apps/v1"' }, { path: '.kind', value: '"Deployment"' }, { path: '.spec.replicas', value: '4' }],
    }],
    ['DeleteOptions', json({ dryRun: ['All'], propagationPolicy: 'Orphan' }), 'application/json', {
      changes: [{ path: '.dryRun[0]', value: '"All"' }, { path: '.propagationPolicy', value: '"Orphan"' }],
    }],
  ])('%s', (_what, body, contentType, expected) => {
    expect(describe_(body, contentType)).toEqual(expected);
  });

  it.each<[string, Buffer, string, RegExp]>([
    ['protobuf', Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x01]), 'application/vnd.kubernetes.protobuf', /^the body is application\/vnd\.kubernetes\.protobuf \(5 bytes\), which Airlock cannot show field by field/],
    ['invalid JSON', Buffer.from('{"spec":'), 'application/merge-patch+json', /^the body \(8 bytes\) is not valid application\/merge-patch\+json/],
  ])('names a body it cannot show: %s', (_what, body, contentType, note) => {
    const described = describe_(body, contentType);
    expect(described.changes).toEqual([]);
    expect(described.note).toMatch(note);
  });

  it('masks Secret values as responses are masked, in merge and JSON patches alike', () => {
    expect(describe_(json({ data: { password: 'aHVudGVyMg==' }, stringData: { token: 'hunter2' } }), 'application/merge-patch+json', secrets).changes).toEqual([
      { path: '.data.password', value: JSON.stringify(MASKED_BASE64) }, { path: '.stringData.token', value: JSON.stringify(MASKED_TEXT) },
    ]);
    const ops = describe_(json([{ op: 'add', path: '/data/password', value: 'aHVudGVyMg==' }, { op: 'replace', path: '/data', value: { k: 'c2VjcmV0' } }]), 'application/json-patch+json', secrets);
    expect(ops.changes).toEqual([
      { path: '.data.password', op: 'add', value: JSON.stringify(MASKED_BASE64) }, { path: '.data', op: 'replace', value: JSON.stringify({ k: MASKED_BASE64 }) },
    ]);
    expect(JSON.stringify(ops)).not.toContain('c2VjcmV0');
  });

  it('masks a policy\'s field paths and env values (an env entry whose name is not in the op counts as matching)', () => {
    const rules = maskRulesFor(attrs(), { envNamePattern: '*_TOKEN', fields: ['.spec.template.metadata.annotations.secret'] });
    const body = json([{ op: 'replace', path: '/spec/template/spec/containers/0/env/1/value', value: 'hunter2' }]);
    expect(describeBody({ body, contentType: 'application/json-patch+json', rules }).changes[0]?.value).toBe(JSON.stringify(MASKED_TEXT));
    const merge = describeBody({ body: json({ spec: { template: { metadata: { annotations: { secret: 's3' } } } } }), contentType: 'application/json', rules });
    expect(merge.changes).toEqual([{ path: '.spec.template.metadata.annotations.secret', value: JSON.stringify(MASKED_TEXT) }]);
  });

  it('lists at most MAX_CHANGES fields and says how many more there are', () => {
    const data = Object.fromEntries(Array.from({ length: MAX_CHANGES + 6 }, (_, i) => [`k${i}`, 'v']));
    const described = describe_(json({ data }), 'application/merge-patch+json', attrs({ apiGroup: '', resource: 'configmaps' }));
    expect(described.changes).toHaveLength(MAX_CHANGES);
    expect(described.note).toBe('6 more fields are not listed');
  });

  it('keeps paths and the summary within the CRD\'s limits, whatever keys a caller sends', () => {
    const key = 'k'.repeat(5000);
    const described = describe_(json({ metadata: { labels: { [key]: 'v' } } }), 'application/merge-patch+json');
    expect(described.changes[0]?.path.length).toBe(1024);
    expect(summarize(attrs(), described).length).toBeLessThanOrEqual(1024);
  });

  it('cuts long values and says how long they were', () => {
    const value = describe_(json({ spec: { command: 'x'.repeat(1000) } }), 'application/json').changes[0]?.value ?? '';
    expect(value).toMatch(/^"x{255}… \(1002 characters\)$/);
  });
});

describe('summarize', () => {
  const summary = (request: RequestAttributes, body: unknown, contentType = 'application/merge-patch+json'): string =>
    summarize(request, describe_(body === undefined ? Buffer.alloc(0) : json(body), contentType, request));
  it.each<[string, RequestAttributes, unknown, string]>([
    ['a replicas-only patch', attrs(), { spec: { replicas: 0 } }, 'scale deployment prod/api to 0 replicas'],
    ['a scale to one through the subresource', attrs({ subresource: 'scale', verb: 'update' }), { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'api' }, spec: { replicas: 1 } }, 'scale deployment prod/api to 1 replica'],
    ['a scale patch', attrs({ subresource: 'scale' }), { spec: { replicas: 5 } }, 'scale deployment prod/api to 5 replicas'],
    ['replicas and an image', attrs(), { spec: { replicas: 3, template: { spec: { containers: [{ name: 'api', image: 'evil.example/backdoor:1' }] } } } },
      'patch deployment prod/api: .spec.replicas, .spec.template.spec.containers[0].name, .spec.template.spec.containers[0].image'],
    ['replicas and a label', attrs(), { metadata: { labels: { a: 'b' } }, spec: { replicas: 3 } }, 'patch deployment prod/api: .metadata.labels.a, .spec.replicas'],
    ['a full update with replicas', attrs({ verb: 'update' }), { spec: { replicas: 3 } }, 'update deployment prod/api'],
    ['a namespace delete', attrs({ verb: 'delete', apiGroup: '', resource: 'namespaces', namespace: '', name: 'payments' }), undefined, 'delete namespace payments'],
    ['an exec', attrs({ verb: 'create', apiGroup: '', resource: 'pods', subresource: 'exec', name: 'web-0' }), undefined, 'create pod exec prod/web-0'],
    ['a collection delete', attrs({ verb: 'deletecollection', apiGroup: '', resource: 'secrets', name: '' }), undefined, 'deletecollection secret in namespace prod'],
    ['a custom resource', attrs({ verb: 'delete', apiGroup: 'db.example', resource: 'clusters', name: 'main' }), undefined, 'delete clusters prod/main'],
    ['a non-resource path', attrs({ resourceRequest: false, verb: 'post', path: '/logs/x' }), undefined, 'post /logs/x'],
  ])('%s: %s', (_what, request, body, expected) => {
    expect(summary(request, body)).toBe(expected);
  });

  it('reads a JSON patch of replicas alone as a scale, and one with more as its paths', () => {
    expect(summary(attrs(), [{ op: 'replace', path: '/spec/replicas', value: 2 }], 'application/json-patch+json')).toBe('scale deployment prod/api to 2 replicas');
    expect(summary(attrs(), [{ op: 'replace', path: '/spec/replicas', value: 2 }, { op: 'add', path: '/spec/paused', value: true }], 'application/json-patch+json'))
      .toBe('patch deployment prod/api: .spec.replicas, .spec.paused');
  });

  it('never reads a body it cannot show as a scale', () => {
    const protobuf = describeBody({ body: Buffer.from([1, 2, 3]), contentType: 'application/vnd.kubernetes.protobuf', rules: [] });
    expect(summarize(attrs({ subresource: 'scale', verb: 'update' }), protobuf)).toBe('update deployment scale prod/api');
    expect(summarize(attrs(), protobuf)).toBe('patch deployment prod/api (body not shown: see changesNote)');
  });

  it('fits the CRD\'s 1024 characters however many fields change', () => {
    const data = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`a-rather-long-key-name-number-${i}`, 'v']));
    const text = summary(attrs({ apiGroup: '', resource: 'configmaps' }), { data });
    expect(text.length).toBeLessThanOrEqual(1024);
    expect(text).toMatch(/ and \d+ more$/);
  });
});
