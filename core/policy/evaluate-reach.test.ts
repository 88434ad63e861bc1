// What a decision covers beyond the request line: every verb the API server authorizes (a
// server-side apply or a PUT that creates is also `create`), restrictive rules that a request
// reaches without naming their namespaces or names, the masks of every rule that lets a request
// through, and rules that do not compile.
import { describe, expect, it } from 'vitest';
import { type PolicySource, type RuleSource } from './compile.ts';
import { compilePolicies } from './policy-index.ts';
import { evaluatePolicy } from './evaluate.ts';
import type { AlsoVerb, DecisionInput, RequestAttributes } from './model.ts';
import type { AuthenticatedCaller } from '../identity.ts';

const caller: AuthenticatedCaller = { user: { username: 'alice', groups: ['dev', 'system:authenticated'], extra: {} }, method: 'oidc', issuer: 'https://issuer.example' };

const policy = (name: string, rules: RuleSource[]): PolicySource =>
  ({ metadata: { namespace: 'airlock', name }, spec: { subjects: [{ group: { name: 'dev' } }], rules } });

const request = (overrides: Partial<RequestAttributes> = {}): RequestAttributes => ({
  resourceRequest: true, verb: 'get', apiGroup: '', resource: 'configmaps', subresource: '', namespace: 'dev', name: 'app', path: '/api/v1/namespaces/dev/configmaps/app',
  ...overrides,
});

const input = (req: RequestAttributes): DecisionInput => ({ request: req, caller, effective: caller.user });

const APPLY: AlsoVerb = { verb: 'create', why: 'a server-side apply creates the object when it does not exist' };
const PUT_CREATES: AlsoVerb = { verb: 'create', why: 'a PUT to this resource creates the object when it does not exist' };

describe('a decision covers every verb the API server authorizes', () => {
  const policies = compilePolicies([policy('verbs', [
    { name: 'edit-everything', action: 'Allow', match: { verbs: ['get', 'list', 'watch', 'update', 'patch', 'create'] } },
    { name: 'no-new-prod-db', action: 'Deny', match: { verbs: ['create'], resources: ['configmaps'], names: ['prod-db'] }, message: 'prod-db is managed by the platform team' },
    { name: 'roles-need-approval', action: 'RequireApproval', match: { verbs: ['create'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'] }, approval: { approvers: { users: ['bob'] } } },
  ])]);
  const patchOnly = compilePolicies([policy('patch-only', [{ name: 'patch', action: 'Allow', match: { verbs: ['get', 'patch', 'update'] } }])]);

  it.each([
    ['a server-side apply to a name a Deny-create rule forbids is denied', policies, request({ verb: 'patch', name: 'prod-db', alsoVerbs: [APPLY] }), 'Deny', 'no-new-prod-db'],
    ['a PUT that creates a Role is held for approval like a create', policies, request({ verb: 'update', apiGroup: 'rbac.authorization.k8s.io', resource: 'roles', name: 'admin', alsoVerbs: [PUT_CREATES] }), 'RequireApproval', 'roles-need-approval'],
    ['a server-side apply needs create allowed too (default Deny)', patchOnly, request({ verb: 'patch', alsoVerbs: [APPLY] }), 'Deny', undefined],
    ['a PUT that can create needs create allowed too (default Deny)', patchOnly, request({ verb: 'update', resource: 'endpoints', alsoVerbs: [PUT_CREATES] }), 'Deny', undefined],
  ] as const)('%s', (...[, compiled, req, action, rule]) => {
    const decision = evaluatePolicy(compiled, input(req), 'Deny');
    expect(decision.action).toBe(action);
    expect(decision.matched?.rule).toBe(rule);
  });

  it.each([
    ['a merge patch (it cannot create) is not judged as create', policies, request({ verb: 'patch', name: 'prod-db' }), 'edit-everything'],
    ['a server-side apply allowed on both verbs passes', policies, request({ verb: 'patch', name: 'web', alsoVerbs: [APPLY] }), 'edit-everything'],
    ['a plain update with patch-only rules passes', patchOnly, request({ verb: 'update' }), 'patch'],
  ] as const)('%s', (...[, compiled, req, rule]) => {
    const decision = evaluatePolicy(compiled, input(req), 'Deny');
    expect(decision.action).toBe('Allow');
    expect(decision.matched?.rule).toBe(rule);
  });

  it('says which verb refused and why the API server checks it', () => {
    const denied = evaluatePolicy(policies, input(request({ verb: 'patch', name: 'prod-db', alsoVerbs: [APPLY] })), 'Deny');
    expect(denied.message).toBe(`prod-db is managed by the platform team (on create: ${APPLY.why})`);
    const unallowed = evaluatePolicy(patchOnly, input(request({ verb: 'patch', alsoVerbs: [APPLY] })), 'Deny');
    expect(unallowed.reason).toBe(`no policy rule allows create, which the API server also authorizes for this request: ${APPLY.why}`);
  });

  it('with default Allow, an extra verb no rule names is allowed (RBAC decides)', () => {
    expect(evaluatePolicy(patchOnly, input(request({ verb: 'patch', alsoVerbs: [APPLY] })), 'Allow').action).toBe('Allow');
  });
});

describe('a restrictive rule scoped by namespaces governs requests that span them', () => {
  const policies = compilePolicies([policy('prod', [
    { name: 'read-all', action: 'Allow', match: { verbs: ['get', 'list', 'watch', 'delete', 'deletecollection'] } },
    { name: 'no-prod-configmaps', action: 'Deny', match: { verbs: ['get', 'list', 'watch', 'deletecollection'], resources: ['configmaps'], namespaces: ['prod'] } },
    { name: 'nothing-in-prod', action: 'Deny', match: { resources: ['*'], namespaces: ['prod'] } },
  ])]);

  it.each([
    ['a list of every namespace (GET /api/v1/configmaps)', request({ verb: 'list', namespace: '', name: '' }), 'Deny', 'no-prod-configmaps'],
    ['a watch of every namespace (?watch=1, /watch/ paths)', request({ verb: 'watch', namespace: '', name: '' }), 'Deny', 'no-prod-configmaps'],
    ['a deletecollection without a namespace', request({ verb: 'deletecollection', namespace: '', name: '' }), 'Deny', 'no-prod-configmaps'],
    ['a resource discovery does not know counts as namespaced (fail closed)', request({ verb: 'list', apiGroup: 'unknown.example', resource: 'things', namespace: '', name: '' }), 'Deny', 'nothing-in-prod'],
    ['a list of another resource across every namespace, by the Deny of everything in prod', request({ verb: 'list', resource: 'secrets', namespace: '', name: '' }), 'Deny', 'nothing-in-prod'],
  ] as const)('%s is governed', (...[, req, action, rule]) => {
    const decision = evaluatePolicy(policies, input(req), 'Deny');
    expect(decision.action).toBe(action);
    expect(decision.matched?.rule).toBe(rule);
  });

  it.each([
    ['a list in another namespace', request({ verb: 'list', namespace: 'dev', name: '' })],
    ['a list of nodes (cluster-scoped)', request({ verb: 'list', resource: 'nodes', namespace: '', name: '', clusterScoped: true })],
    ['a list of namespaces (cluster-scoped)', request({ verb: 'list', resource: 'namespaces', namespace: '', name: '', clusterScoped: true })],
    ['a watch of cluster roles (cluster-scoped)', request({ verb: 'watch', apiGroup: 'rbac.authorization.k8s.io', resource: 'clusterroles', namespace: '', name: '', clusterScoped: true })],
  ] as const)('%s is not over-matched', (...[, req]) => {
    expect(evaluatePolicy(policies, input(req), 'Deny')).toMatchObject({ action: 'Allow', matched: { rule: 'read-all' } });
  });

  it('holds an all-namespaces list that reaches a namespace a RequireApproval rule governs', () => {
    const held = compilePolicies([policy('held', [
      { name: 'read-all', action: 'Allow', match: { verbs: ['list'] } },
      { name: 'staging-secrets-held', action: 'RequireApproval', match: { resources: ['secrets'], namespaces: ['staging'] }, approval: { approvers: { users: ['bob'] } } },
    ])]);
    expect(evaluatePolicy(held, input(request({ verb: 'list', resource: 'secrets', namespace: '', name: '' })), 'Deny')).toMatchObject({ action: 'RequireApproval', matched: { rule: 'staging-secrets-held' } });
  });

  it('tells the caller how to scope the request', () => {
    const decision = evaluatePolicy(policies, input(request({ verb: 'list', namespace: '', name: '' })), 'Deny');
    expect(decision.message).toContain('namespace(s) prod');
    expect(decision.message).toContain('kubectl -n NAMESPACE');
  });

  it('an Allow rule scoped by namespaces does not allow a request spanning every namespace', () => {
    const scoped = compilePolicies([policy('dev-only', [{ name: 'dev', action: 'Allow', match: { namespaces: ['dev'] } }])]);
    expect(evaluatePolicy(scoped, input(request({ verb: 'list', name: '' })), 'Deny').action).toBe('Allow');
    expect(evaluatePolicy(scoped, input(request({ verb: 'list', namespace: '', name: '' })), 'Deny')).toEqual({ action: 'Deny', reason: 'no policy rule allows this request' });
  });
});

describe('a restrictive rule scoped by names governs requests without a single name', () => {
  const policies = compilePolicies([policy('names', [
    { name: 'edit-all', action: 'Allow', match: {} },
    { name: 'hands-off-prod-db', action: 'Deny', match: { resources: ['secrets'], names: ['prod-db'] } },
  ])]);
  const secrets = (overrides: Partial<RequestAttributes>): RequestAttributes => request({ resource: 'secrets', ...overrides });

  it.each([
    ['a list of the namespace', secrets({ verb: 'list', name: '' })],
    ['a watch of the namespace', secrets({ verb: 'watch', name: '' })],
    ['a deletecollection', secrets({ verb: 'deletecollection', name: '' })],
    ['a create (the name is in the body, which is not read before deciding)', secrets({ verb: 'create', name: '' })],
    ['a list narrowed to the name by a field selector', secrets({ verb: 'list', name: 'prod-db' })],
    ['a get of the name', secrets({ verb: 'get', name: 'prod-db' })],
  ] as const)('%s is denied', (...[, req]) => {
    expect(evaluatePolicy(policies, input(req), 'Deny')).toMatchObject({ action: 'Deny', matched: { rule: 'hands-off-prod-db' } });
  });

  it.each([
    ['a get of another name', secrets({ verb: 'get', name: 'web' })],
    ['a list narrowed to another name', secrets({ verb: 'list', name: 'web' })],
    ['a list of another resource', request({ verb: 'list', name: '' })],
  ] as const)('%s is allowed', (...[, req]) => {
    expect(evaluatePolicy(policies, input(req), 'Deny')).toMatchObject({ action: 'Allow', matched: { rule: 'edit-all' } });
  });

  it('tells the caller to name the object, and why a create is governed', () => {
    expect(evaluatePolicy(policies, input(secrets({ verb: 'list', name: '' })), 'Deny').message).toContain('--field-selector metadata.name=NAME');
    expect(evaluatePolicy(policies, input(secrets({ verb: 'create', name: '' })), 'Deny').message).toContain('a create names its object only in the body');
  });

  it('an Allow rule scoped by names does not allow a list or a create', () => {
    const named = compilePolicies([policy('named', [{ name: 'web-only', action: 'Allow', match: { names: ['web'] } }])]);
    expect(evaluatePolicy(named, input(request({ name: 'web' })), 'Deny').action).toBe('Allow');
    expect(evaluatePolicy(named, input(request({ verb: 'list', name: '' })), 'Deny').action).toBe('Deny');
    expect(evaluatePolicy(named, input(request({ verb: 'create', name: '' })), 'Deny').action).toBe('Deny');
  });
});

describe('the masks of every rule that lets a request through apply together', () => {
  const compiled = compilePolicies([policy('masks', [
    { name: 'read-all', action: 'Allow', match: { verbs: ['get', 'list'] } },
    { name: 'configmap-keys', action: 'Allow', match: { resources: ['configmaps'] }, mask: { fields: [".data['api-key']"], sessionPatterns: ['sk-[a-z]+'] } },
    { name: 'configmap-labels', action: 'Allow', match: { resources: ['configmaps'], namespaces: ['dev'] }, mask: { fields: ['.metadata.labels', ".data['api-key']"], envNamePattern: '(?i)token' } },
    { name: 'secrets-shown', action: 'Allow', match: { resources: ['secrets'], names: ['shown'] }, mask: { exempt: true } },
    { name: 'secrets-shown-too', action: 'Allow', match: { resources: ['secrets'], names: ['shown'], verbs: ['get'] }, mask: { exempt: true, fields: ['.data.extra'] } },
    { name: 'held-exec', action: 'RequireApproval', match: { resources: ['pods/exec'] }, approval: { approvers: { users: ['bob'] } } },
    { name: 'exec', action: 'Allow', match: { resources: ['pods/exec'], verbs: ['create'] }, mask: { sessionPatterns: ['AKIA[0-9A-Z]{16}'] }, recording: 'Required' },
    { name: 'exec-broad', action: 'Allow', match: { resources: ['pods/*'] }, recording: 'None' },
  ])]);

  it('an earlier broad Allow rule no longer drops a later rule\'s fields', () => {
    const decision = evaluatePolicy(compiled, input(request({ namespace: 'prod' })), 'Deny');
    expect(decision.matched?.rule).toBe('read-all');
    expect(decision.mask).toMatchObject({ fields: [".data['api-key']"], sessionPatterns: ['sk-[a-z]+'], exempt: false });
  });

  it('unions field paths and patterns of every matching rule', () => {
    const decision = evaluatePolicy(compiled, input(request()), 'Deny');
    expect(decision.mask).toEqual({ fields: [".data['api-key']", '.metadata.labels'], envNamePatterns: ['(?i)token'], sessionPatterns: ['sk-[a-z]+'], exempt: false });
  });

  it('gives the same mask object for the same rules, so the masker plans it once', () => {
    const first = evaluatePolicy(compiled, input(request()), 'Deny').mask;
    expect(first?.fields).toHaveLength(2);
    expect(evaluatePolicy(compiled, input(request({ name: 'other' })), 'Deny').mask).toBe(first);
  });

  it.each([
    ['a broad rule without exempt keeps Secret values masked', request({ resource: 'secrets', name: 'shown', verb: 'list' }), false],
    ['every matching rule exempts: values shown', request({ resource: 'secrets', name: 'shown', verb: 'watch' }), true],
  ] as const)('%s', (...[, req, exempt]) => {
    const decision = evaluatePolicy(compiled, input(req), 'Deny');
    expect(decision.action).toBe('Allow');
    expect(decision.mask?.exempt ?? false).toBe(exempt);
  });

  it('takes the fields of an exempt rule whatever the others say', () => {
    expect(evaluatePolicy(compiled, input(request({ resource: 'secrets', name: 'shown', verb: 'get' })), 'Deny').mask).toMatchObject({ fields: ['.data.extra'], exempt: false });
  });

  it('a held request carries the masks and the strictest recording of every rule that lets it through', () => {
    const decision = evaluatePolicy(compiled, input(request({ verb: 'create', resource: 'pods', subresource: 'exec', name: 'api-0' })), 'Deny');
    expect(decision).toMatchObject({ action: 'RequireApproval', matched: { rule: 'held-exec' }, recording: 'Required', mask: { sessionPatterns: ['AKIA[0-9A-Z]{16}'] } });
  });
});

describe('a rule that does not compile is enforced as Deny', () => {
  it.each([
    ['a mask field path', { fields: ['.data.ok', 'data.*'] }, 'mask.fields[1]: mask field path "data.*" is not of the form'],
    ['an env name pattern', { envNamePattern: '(unclosed' }, 'mask.envNamePattern:'],
    ['a session pattern', { sessionPatterns: ['ok', '[z-a]'] }, 'mask.sessionPatterns[1]:'],
  ] as const)('%s that does not compile denies what the rule matches, and says so', (...[, mask, problem]) => {
    const compiled = compilePolicies([policy('broken', [
      { name: 'masked-configmaps', action: 'Allow', match: { resources: ['configmaps'] }, mask },
      { name: 'pods', action: 'Allow', match: { resources: ['pods'] } },
    ])]);
    const decision = evaluatePolicy(compiled, input(request()), 'Allow');
    expect(decision).toMatchObject({ action: 'Deny', matched: { rule: 'masked-configmaps' } });
    expect(decision.message).toContain('rule "masked-configmaps" of AccessPolicy airlock/broken is enforced as Deny');
    expect(decision.message).toContain(problem);
    expect(decision.mask).toBeUndefined();
    expect(compiled.broken).toEqual([{ policy: 'airlock/broken', rule: 'masked-configmaps', problem: expect.stringContaining(problem) as unknown }]);
    // The rest of the policy is enforced as written.
    expect(evaluatePolicy(compiled, input(request({ resource: 'pods' })), 'Deny')).toMatchObject({ action: 'Allow', matched: { rule: 'pods' } });
  });
});
