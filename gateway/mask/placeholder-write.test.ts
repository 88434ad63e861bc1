import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { findPlaceholders } from './placeholder-write.ts';
import { LAST_APPLIED, MASKED_BASE64, MASKED_TEXT } from './mask-plan.ts';

const check = (body: unknown, contentType: string): ReturnType<typeof findPlaceholders> =>
  findPlaceholders(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), contentType, parseYaml);

const maskedSecret = {
  apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', annotations: { [LAST_APPLIED]: MASKED_TEXT } },
  data: { password: MASKED_BASE64, user: 'YWRtaW4=' },
};

describe('findPlaceholders: a write that would store what the gateway showed masked', () => {
  it('finds every placeholder of a Secret read back through the gateway (kubectl replace)', () => {
    expect(check(maskedSecret, 'application/json')).toEqual({
      found: true, kind: 'Secret', name: 'db',
      fields: [
        { field: `metadata.annotations[${LAST_APPLIED}]`, value: MASKED_TEXT },
        { field: 'data.password', value: MASKED_BASE64 },
      ],
    });
  });

  it.each([
    ['YAML (kubectl apply --server-side, application/apply-patch+yaml)', `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  token: "${MASKED_TEXT}"\n`, 'application/apply-patch+yaml', 'stringData.token'],
    ['a merge patch', JSON.stringify({ data: { password: MASKED_BASE64 } }), 'application/merge-patch+json', 'data.password'],
    ['a strategic merge patch of a container env value', JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'TOKEN', value: MASKED_TEXT }] }] } } } }), 'application/strategic-merge-patch+json', 'spec.template.spec.containers[0].env[0].value'],
    ['a JSON patch, named by its target', JSON.stringify([{ op: 'replace', path: '/data/pass~1word', value: MASKED_BASE64 }]), 'application/json-patch+json', 'data[pass/word]'],
    ['a JSON patch adding a whole map', JSON.stringify([{ op: 'add', path: '/data', value: { k: MASKED_BASE64 } }]), 'application/json-patch+json', 'data.k'],
    ['a content type with parameters', JSON.stringify({ data: { a: MASKED_TEXT } }), 'application/json; charset=utf-8', 'data.a'],
  ])('finds it in %s', (_name, body, type, field) => {
    const result = check(body, type);
    expect(result.found).toBe(true);
    expect(result.found && result.fields.map((f) => f.field)).toEqual([field]);
  });

  it.each([
    ['protobuf with the placeholder bytes anywhere', Buffer.concat([Buffer.from('k8s\u0000'), Buffer.from(MASKED_BASE64)]), 'application/vnd.kubernetes.protobuf'],
    ['JSON that does not parse', Buffer.from(`{"data":{"a":"${MASKED_TEXT}"`), 'application/json'],
    ['no content type at all', Buffer.from(MASKED_TEXT), ''],
  ])('refuses %s, since the field cannot be told', (_name, body, type) => {
    expect(findPlaceholders(body, type, parseYaml)).toEqual({ found: true, fields: [{ field: '(body)', value: MASKED_TEXT }] });
  });

  it.each([
    ['a real Secret', { kind: 'Secret', data: { password: 'aHVudGVyMg==' } }, 'application/json'],
    ['the placeholder inside a longer value', { data: { note: `was ${MASKED_TEXT} before` } }, 'application/json'],
    ['the placeholder as a key, not a value', { data: { [MASKED_TEXT]: 'eA==' } }, 'application/json'],
    ['protobuf without the placeholder', Buffer.from('k8s\u0000\u000a\u0002v1'), 'application/vnd.kubernetes.protobuf'],
  ])('lets %s through', (_name, body, type) => {
    expect(findPlaceholders(Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body)), type, parseYaml)).toEqual({ found: false });
  });
});
