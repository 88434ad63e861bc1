// The mask plan of merged masks (policy/rule-mask.ts): several rules' fields and env patterns at once.
import { describe, expect, it } from 'vitest';
import { maskParsed } from './json-masker.ts';
import { maskRulesFor, tablesAllowed } from './mask-plan.ts';
import { compilePolicies } from '../../core/policy/policy-index.ts';
import { evaluatePolicy } from '../../core/policy/evaluate.ts';
import type { EffectiveMask, RequestAttributes } from '../../core/policy/model.ts';

const deployments: RequestAttributes = { resourceRequest: true, verb: 'get', apiGroup: 'apps', resource: 'deployments', subresource: '', namespace: 'ns', name: 'api', path: '/apis/apps/v1/namespaces/ns/deployments/api' };
const merged: EffectiveMask = { fields: ['.metadata.labels.team'], envNamePatterns: ['(?i)password', '^API_'], sessionPatterns: [], exempt: false };

describe('mask plan of merged masks', () => {
  it('masks the env values every pattern names, and each field', () => {
    const deployment = {
      metadata: { name: 'api', labels: { team: 'payments', tier: 'web' } },
      spec: { template: { spec: { containers: [{ name: 'api', env: [
        { name: 'DB_PASSWORD', value: 'p' }, { name: 'API_TOKEN', value: 't' }, { name: 'LOG_LEVEL', value: 'debug' },
      ] }] } } },
    };
    expect(maskParsed(deployment, maskRulesFor(deployments, merged))).toEqual({
      metadata: { name: 'api', labels: { team: '***MASKED***', tier: 'web' } },
      spec: { template: { spec: { containers: [{ name: 'api', env: [
        { name: 'DB_PASSWORD', value: '***MASKED***' }, { name: 'API_TOKEN', value: '***MASKED***' }, { name: 'LOG_LEVEL', value: 'debug' },
      ] }] } } },
    });
  });

  it('refuses Tables under an env pattern from any rule', () => {
    expect(tablesAllowed({ ...merged, fields: [] })).toBe(false);
    expect(tablesAllowed({ fields: [], envNamePatterns: [], exempt: false })).toBe(true);
  });

  it('builds the rules of one merged mask once', () => {
    const compiled = compilePolicies([{ metadata: { namespace: 'a', name: 'p' }, spec: { subjects: [{ user: { name: 'u' } }], rules: [
      { name: 'one', action: 'Allow', mask: { fields: ['.data.a'] } },
      { name: 'two', action: 'Allow', mask: { fields: ['.data.b'] } },
    ] } }]);
    const caller = { user: { username: 'u', groups: [], extra: {} }, method: 'oidc' as const };
    const request: RequestAttributes = { ...deployments, apiGroup: '', resource: 'configmaps' };
    const rules = (): unknown => maskRulesFor(request, evaluatePolicy(compiled, { request, caller, effective: caller.user }, 'Deny').mask);
    const first = rules();
    expect(rules()).toBe(first);
    expect(maskParsed({ data: { a: '1', b: '2', c: '3' } }, first as ReturnType<typeof maskRulesFor>)).toEqual({ data: { a: '***MASKED***', b: '***MASKED***', c: '3' } });
  });
});
