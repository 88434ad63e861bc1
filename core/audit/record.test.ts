import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.ts';
import { buildAuditRecord, redactCredentials, REDACTED, toAuditAction, type AuditRecordInput } from './record.ts';
import { recordInput } from './test-fixtures.ts';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib3QifQ.c2lnbmF0dXJl';

describe('buildAuditRecord', () => {
  it('builds nothing at level None', () => {
    expect(buildAuditRecord(recordInput({ level: 'None' }))).toBeUndefined();
  });

  it('builds an audit.airlock.dev/v1 record with both identities, the decision and the timestamps', () => {
    const record = buildAuditRecord(recordInput({
      effective: { username: 'alice', uid: 'u-1', groups: ['dev'], extra: { scopes: ['a', 'b'] } },
      approvalRequest: { namespace: 'airlock', name: 'apr-1' },
    }));
    expect(record).toEqual({
      kind: 'AuditRecord',
      apiVersion: 'audit.airlock.dev/v1',
      auditID: '5f0c3a52-8c1e-4d0b-9b7e-1f2a3b4c5d6e',
      stage: 'ResponseComplete',
      level: 'Metadata',
      requestURI: '/api/v1/namespaces/team-a/configmaps/settings',
      verb: 'get',
      objectRef: { resource: 'configmaps', namespace: 'team-a', name: 'settings', apiVersion: 'v1' },
      sourceIPs: ['10.0.0.7'],
      userAgent: 'kubectl/v1.34.0',
      caller: { username: 'ci:github:org/repo', groups: ['ci', 'system:authenticated'], extra: {} },
      effective: { username: 'alice', uid: 'u-1', groups: ['dev'], extra: { scopes: ['a', 'b'] } },
      authentication: { method: 'oidc', issuer: 'https://token.actions.githubusercontent.com' },
      decision: { action: 'allow', policy: { namespace: 'airlock', name: 'ci' }, rule: 'read-config', reason: 'rule read-config allows' },
      approvalRequest: { namespace: 'airlock', name: 'apr-1' },
      responseStatus: { code: 200 },
      requestReceivedTimestamp: '2025-06-01T10:00:00.000Z',
      stageTimestamp: '2025-06-01T10:00:00.012Z',
      latencyMs: 12,
      gateway: { name: 'ci', namespace: 'airlock', replica: 'ci-gateway-7d9f-abcde' },
    });
  });

  it.each<[string, Partial<AuditRecordInput>, boolean]>([
    ['keeps the request body at level Request', { level: 'Request' }, true],
    ['drops the request body at level Metadata', { level: 'Metadata' }, false],
    ['never keeps the body of a Secret', { level: 'Request', objectRef: { resource: 'secrets', name: 's' } }, false],
    ['never keeps the body of a TokenReview', { level: 'Request', objectRef: { resource: 'tokenreviews', apiGroup: 'authentication.k8s.io' } }, false],
    ['never keeps the body of a ServiceAccount token request', { level: 'Request', objectRef: { resource: 'serviceaccounts', subresource: 'token', name: 'bot' } }, false],
    ['keeps the body of a ServiceAccount itself', { level: 'Request', objectRef: { resource: 'serviceaccounts', name: 'bot' } }, true],
  ])('%s', (_name, overrides, kept) => {
    const record = buildAuditRecord(recordInput({ requestObject: { kind: 'X', spec: { replicas: 2 } }, ...overrides }));
    expect(record?.requestObject !== undefined).toBe(kept);
  });

  it.each<[string, unknown, unknown]>([
    ['an authorization field', { authorization: 'Basic YWxhZGRpbjpvcGVu' }, { authorization: REDACTED }],
    ['a differently cased Authorization header in a nested map', { spec: { headers: { Authorization: 'x' } } }, { spec: { headers: { Authorization: REDACTED } } }],
    ['a token field (TokenReview-shaped)', { spec: { token: 'abc' } }, { spec: { token: REDACTED } }],
    ['a bearerToken field', { bearerToken: 'abc' }, { bearerToken: REDACTED }],
    ['a password inside a list', { users: [{ name: 'a', password: 'p' }] }, { users: [{ name: 'a', password: REDACTED }] }],
    ['a Bearer value under any name', { note: 'Bearer abc.def' }, { note: REDACTED }],
    ['a JWT-shaped value under any name', { data: { kubeconfig: TOKEN } }, { data: { kubeconfig: REDACTED } }],
    ['nothing when no field looks like a credential', { metadata: { name: 'tokens-dashboard' }, n: 1, ok: true, none: null }, { metadata: { name: 'tokens-dashboard' }, n: 1, ok: true, none: null }],
  ])('redacts %s in the request body', (_name, body, expected) => {
    expect(redactCredentials(body)).toEqual(expected);
    expect(buildAuditRecord(recordInput({ level: 'Request', requestObject: body }))?.requestObject).toEqual(expected);
  });

  it('copies only the fields it knows, so a header map passed along by mistake never reaches the record', () => {
    const withHeaders = {
      ...recordInput({ level: 'Request', requestObject: { spec: {} } }),
      headers: { authorization: `Bearer ${TOKEN}`, 'impersonate-user': 'admin' },
      rawHeaders: ['Authorization', `Bearer ${TOKEN}`],
      token: TOKEN,
    } as AuditRecordInput;
    const text = JSON.stringify(buildAuditRecord(withHeaders));
    expect(text).not.toContain(TOKEN);
    expect(text).not.toMatch(/authorization|impersonate-user|rawHeaders/i);
  });

  it('keeps an own __proto__ key of a parsed body as data, not as a prototype', () => {
    const body = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as unknown;
    const redacted = redactCredentials(body) as Record<string, unknown>;
    expect(Object.keys(redacted)).toEqual(['__proto__', 'a']);
    expect((redacted as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('omits empty objectRef fields and the objectRef of a non-resource request', () => {
    expect(buildAuditRecord(recordInput({ objectRef: { resource: 'pods', namespace: '', name: '', apiGroup: '' } }))?.objectRef).toEqual({ resource: 'pods' });
    // Absent members are undefined in the record and left out of what is written.
    const nonResource = buildAuditRecord(recordInput({ requestURI: '/version', objectRef: {} }));
    expect(nonResource?.objectRef).toBeUndefined();
    expect(JSON.parse(canonicalJson(nonResource))).not.toHaveProperty('objectRef');
  });

  it('reports every bad field at once', () => {
    expect(() => buildAuditRecord(recordInput({ auditID: '', requestReceived: new Date('x'), latencyMs: Number.NaN })))
      .toThrow(new TypeError('invalid audit record input: auditID is empty; requestReceived is not a valid date; latencyMs is not a finite number'));
  });

  it.each([['Allow', 'allow'], ['Deny', 'deny'], ['RequireApproval', 'require-approval']] as const)('maps the policy action %s to %s', (action, expected) => {
    expect(toAuditAction(action)).toBe(expected);
  });
});

describe('buildAuditRecord: level RequestResponse', () => {
  const responseBody = { bytes: 40, complete: true, contentType: 'application/json', sha256: 'ab'.repeat(32) };
  const responseObject = { kind: 'ConfigMap', data: { colour: 'teal', token: 'opaque' } };

  it('keeps the response body and its description, credential fields redacted, and the request body too', () => {
    const record = buildAuditRecord(recordInput({ level: 'RequestResponse', requestObject: { a: 1 }, responseObject, responseBody }));
    expect(record?.responseObject).toStrictEqual({ kind: 'ConfigMap', data: { colour: 'teal', token: REDACTED } });
    expect(record?.responseBody).toStrictEqual(responseBody);
    expect(record?.requestObject).toStrictEqual({ a: 1 });
  });

  it.each(['Metadata', 'Request'] as const)('keeps no response at level %s', (level) => {
    const record = buildAuditRecord(recordInput({ level, responseObject, responseBody }));
    expect(record).not.toHaveProperty('responseObject', expect.anything());
    expect(record?.responseBody).toBeUndefined();
  });

  it.each([
    ['secrets', undefined], ['serviceaccounts', 'token'], ['tokenreviews', undefined], ['Secrets', undefined],
  ])('never keeps the answer of %s %s, masked or not: only that it was not kept', (resource, subresource) => {
    const record = buildAuditRecord(recordInput({
      level: 'RequestResponse', objectRef: { resource, ...(subresource === undefined ? {} : { subresource }), name: 's' },
      responseObject: { kind: 'Secret', data: { password: 'c2VjcmV0' } }, responseBody: { ...responseBody, head: '{"data":{"password":"c2VjcmV0"' },
    }));
    expect(record?.responseObject).toBeUndefined();
    expect(record?.responseBody).toStrictEqual({ bytes: 0, complete: true, omitted: 'the body of this resource is never recorded (credentials)' });
    expect(canonicalJson(record)).not.toContain('c2VjcmV0');
  });

  it('redacts bearer tokens and JWTs inside a truncated body\'s text', () => {
    const head = `{"data":{"kubeconfig":"users: [{token: ${TOKEN}}]","h":"Authorization: Bearer abc.def-ghi"`;
    const record = buildAuditRecord(recordInput({ level: 'RequestResponse', responseBody: { ...responseBody, head, truncated: { atByte: 80, limitBytes: 80 } } }));
    expect(record?.responseBody?.head).toBe(`{"data":{"kubeconfig":"users: [{token: ${REDACTED}}]","h":"Authorization: ${REDACTED}"`);
  });
});
