import { describe, expect, it } from 'vitest';
import { type PolicySource, type RuleSource, type SubjectSource } from './compile.ts';
import { compilePolicies } from './policy-index.ts';
import { evaluatePolicy } from './evaluate.ts';
import type { DecisionInput, RequestAttributes } from './model.ts';
import type { AuthenticatedCaller, UserInfo } from '../identity.ts';

const policy = (name: string, subjects: SubjectSource[], rules: RuleSource[], namespace = 'airlock'): PolicySource =>
  ({ metadata: { namespace, name }, spec: { subjects, rules } });

const rule = (name: string, action: RuleSource['action'], match: NonNullable<RuleSource['match']>, message?: string): RuleSource =>
  ({ name, action, match, ...(message === undefined ? {} : { message }) });

const request = (overrides: Partial<RequestAttributes> = {}): RequestAttributes => ({
  resourceRequest: true, verb: 'get', apiGroup: '', resource: 'pods', subresource: '', namespace: 'payments', name: 'api-0', path: '/api/v1/namespaces/payments/pods/api-0',
  ...overrides,
});

const user = (username: string, groups: string[] = []): UserInfo => ({ username, groups: [...groups, 'system:authenticated'], extra: {} });

const oidcCaller = (username: string, claims: Record<string, unknown> = {}, groups: string[] = []): AuthenticatedCaller =>
  ({ user: user(username, groups), method: 'oidc', issuer: 'https://token.actions.githubusercontent.com', claims });

const input = (caller: AuthenticatedCaller, req = request(), effective: UserInfo = caller.user): DecisionInput =>
  ({ request: req, caller, effective });

const saCaller: AuthenticatedCaller = { user: user('system:serviceaccount:ci:deployer'), method: 'serviceaccount' };

const ci: SubjectSource = { claim: { issuer: 'https://token.actions.githubusercontent.com', name: 'repository', value: 'acme/payments' } };

const policies = compilePolicies([
  policy('ci-deploy', [ci], [
    rule('no-namespace-deletes', 'Deny', { verbs: ['delete'], resources: ['namespaces'] }, 'CI may not delete namespaces'),
    rule('deploy-payments', 'Allow', { verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'], apiGroups: ['', 'apps'], namespaces: ['payments'] }),
    rule('scale-needs-approval', 'RequireApproval', { verbs: ['update', 'patch'], apiGroups: ['apps'], resources: ['deployments/scale'] }),
  ]),
  policy('sre', [{ group: { name: 'sre' } }], [
    rule('everything', 'Allow', {}),
    rule('no-exec-in-prod', 'Deny', { verbs: ['create'], resources: ['pods/exec'], namespaces: ['prod'] }, 'no exec in prod'),
  ]),
  policy('robot', [{ serviceAccount: { namespace: 'ci', name: 'deployer' } }], [
    rule('read-only', 'Allow', { verbs: ['get', 'list', 'watch'] }),
  ]),
  policy('health', [{ group: { name: 'system:authenticated' } }], [
    rule('healthz', 'Allow', { nonResourceURLs: ['/healthz', '/version', '/openapi/*'] }),
  ]),
  policy('bob-denied', [{ user: { name: 'bob' } }], [
    rule('no-secrets', 'Deny', { resources: ['secrets'] }, 'bob may not touch secrets'),
  ]),
]);

describe('evaluatePolicy', () => {
  it.each([
    ['a CI job reads pods in its namespace', oidcCaller('repo:acme/payments', { repository: 'acme/payments' }), request(), 'Allow', 'deploy-payments'],
    ['a CI job deleting a namespace is denied with the rule message', oidcCaller('x', { repository: 'acme/payments' }), request({ verb: 'delete', resource: 'namespaces', namespace: 'payments', name: 'payments' }), 'Deny', 'no-namespace-deletes'],
    ['a CI job scaling a deployment needs an approval, over the Allow', oidcCaller('x', { repository: 'acme/payments' }), request({ verb: 'patch', apiGroup: 'apps', resource: 'deployments', subresource: 'scale' }), 'RequireApproval', 'scale-needs-approval'],
    ['a CI job of another repository matches nothing and gets the default', oidcCaller('x', { repository: 'acme/other' }), request(), 'Deny', undefined],
    ['a claim from another issuer does not match an issuer-bound subject', { ...oidcCaller('x', { repository: 'acme/payments' }), issuer: 'https://evil.example' }, request(), 'Deny', undefined],
    ['an SRE may do anything', oidcCaller('alice', {}, ['sre']), request({ verb: 'delete', resource: 'secrets' }), 'Allow', 'everything'],
    ['deny overrides allow regardless of order (exec in prod)', oidcCaller('alice', {}, ['sre']), request({ verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'prod' }), 'Deny', 'no-exec-in-prod'],
    ['exec elsewhere stays allowed', oidcCaller('alice', {}, ['sre']), request({ verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'dev' }), 'Allow', 'everything'],
    ['a ServiceAccount subject matches its username', saCaller, request({ verb: 'list', name: '' }), 'Allow', 'read-only'],
    ['a ServiceAccount cannot write with a read-only rule', saCaller, request({ verb: 'delete' }), 'Deny', undefined],
    ['a non-resource URL with a wildcard suffix', oidcCaller('anyone'), request({ resourceRequest: false, verb: 'get', path: '/openapi/v3/apis', resource: '', namespace: '', name: '' }), 'Allow', 'healthz'],
    ['a non-resource rule does not match resource requests', oidcCaller('anyone'), request(), 'Deny', undefined],
    ['a rule naming no resource or path also covers non-resource paths', oidcCaller('alice', {}, ['sre']), request({ resourceRequest: false, verb: 'get', path: '/metrics', resource: '', namespace: '', name: '' }), 'Allow', 'everything'],
  ] as const)('%s', (...[, caller, req, action, ruleName]) => {
    const decision = evaluatePolicy(policies, input(caller, req), 'Deny');
    expect(decision.action).toBe(action);
    expect(decision.matched?.rule).toBe(ruleName);
  });

  it('carries the rule message and names policy and rule', () => {
    const decision = evaluatePolicy(policies, input(oidcCaller('x', { repository: 'acme/payments' }), request({ verb: 'delete', resource: 'namespaces' })), 'Deny');
    expect(decision).toMatchObject({ message: 'CI may not delete namespaces', matched: { namespace: 'airlock', name: 'ci-deploy', rule: 'no-namespace-deletes' } });
  });

  it('with default Allow, an unmatched request is allowed for RBAC to decide', () => {
    const decision = evaluatePolicy(policies, input(oidcCaller('nobody')), 'Allow');
    expect(decision.action).toBe('Allow');
    expect(decision.matched).toBeUndefined();
  });

  it('a deny on the impersonated identity applies to the caller who impersonates it', () => {
    const alice = oidcCaller('alice', {}, ['sre']);
    const decision = evaluatePolicy(policies, input(alice, request({ resource: 'secrets' }), user('bob')), 'Deny');
    expect(decision).toMatchObject({ action: 'Deny', matched: { rule: 'no-secrets' } });
  });

  it('an allow for the impersonated identity does not let the caller through', () => {
    const mallory = oidcCaller('mallory');
    const decision = evaluatePolicy(policies, input(mallory, request(), user('x', ['sre'])), 'Deny');
    expect(decision.action).toBe('Deny');
    expect(decision.matched).toBeUndefined();
  });

  it('rejects a policy whose subject names two kinds, and keeps the others', () => {
    const compiled = compilePolicies([
      policy('bad', [{ user: { name: 'a' }, group: { name: 'b' } }], [rule('r', 'Allow', {})]),
      policy('good', [{ user: { name: 'a' } }], [rule('r', 'Allow', {})]),
    ]);
    expect(compiled.rejected).toEqual([{ policy: 'airlock/bad', problem: 'each subject names exactly one of user, group, serviceAccount, claim' }]);
    expect(evaluatePolicy(compiled, input(oidcCaller('a')), 'Deny').matched?.name).toBe('good');
  });

  it('treats a rule without match as matching every request of its subjects (the CRD allows it)', () => {
    const compiled = compilePolicies([{ metadata: { namespace: 'a', name: 'p' }, spec: { subjects: [{ user: { name: 'u' } }], rules: [{ name: 'all', action: 'Allow' }] } }]);
    expect(evaluatePolicy(compiled, input(oidcCaller('u'), request({ verb: 'delete', resource: 'secrets' })), 'Deny').matched?.rule).toBe('all');
    const version = request({ resourceRequest: false, verb: 'get', path: '/version', resource: '', namespace: '', name: '' });
    expect(evaluatePolicy(compiled, input(oidcCaller('u'), version), 'Deny').matched?.rule).toBe('all');
  });

  it('stays indexed: 10k rules for other subjects do not change the answer', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => policy(`p${i}`, [{ group: { name: `team-${i}` } }], [rule('r', 'Deny', { resources: ['pods'] })]));
    const compiled = compilePolicies([...many, policy('mine', [{ user: { name: 'me' } }], [rule('mine', 'Allow', { resources: ['pods'] })])]);
    expect(compiled.ruleCount).toBe(10_001);
    expect(evaluatePolicy(compiled, input(oidcCaller('me')), 'Deny').matched?.rule).toBe('mine');
  });
});

describe('evaluatePolicy: per-rule audit levels', () => {
  const levels = compilePolicies([
    policy('audit', [{ group: { name: 'ops' } }], [
      { ...rule('reads', 'Allow', { verbs: ['get', 'list'] }), auditLevel: 'Metadata' },
      { ...rule('prod', 'Allow', { namespaces: ['prod'] }), auditLevel: 'RequestResponse' },
      { ...rule('writes', 'Allow', { verbs: ['create', 'patch'] }), auditLevel: 'Request' },
      { ...rule('no-exec', 'Deny', { verbs: ['create'], resources: ['pods/exec'] }), auditLevel: 'RequestResponse' },
      rule('plain', 'Allow', { resources: ['leases'] }),
    ]),
  ]);
  const ops = oidcCaller('op', {}, ['ops']);

  it.each([
    ['a read matches one rule at Metadata', request({ namespace: 'dev' }), 'Metadata'],
    ['the strictest of every rule that lets the request through wins (a read in prod)', request({ namespace: 'prod' }), 'RequestResponse'],
    ['a server-side apply: patch and create rules both count', request({ verb: 'patch', namespace: 'dev', alsoVerbs: [{ verb: 'create', why: 'apply' }] }), 'Request'],
    ['a Deny rule names its own level', request({ verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'dev' }), 'RequestResponse'],
    ['a rule without a level leaves the gateway\'s', request({ verb: 'update', resource: 'leases', apiGroup: '', namespace: 'dev' }), undefined],
  ] as const)('%s', (_name, req, level) => {
    expect(evaluatePolicy(levels, input(ops, req), 'Deny').auditLevel).toBe(level);
  });

  it('enforces a rule whose auditLevel is not a level as Deny, naming the problem', () => {
    const broken = compilePolicies([policy('bad', [{ group: { name: 'ops' } }], [{ ...rule('quiet', 'Allow', {}), auditLevel: 'None' as 'Metadata' }])]);
    const decision = evaluatePolicy(broken, input(ops, request()), 'Allow');
    expect(decision.action).toBe('Deny');
    expect(decision.message).toContain('auditLevel "None" is not one of Metadata, Request, RequestResponse');
  });
});
