import { describe, expect, it } from 'vitest';
import type { AccessGateway, AccessPolicy } from '../../crds/types.gen.ts';
import { selects, validatePolicy } from './policy-validation.ts';
import { acceptedCondition } from './accesspolicy.ts';

type Rule = AccessPolicy['spec']['rules'][number];
/** Plain JSON shaped like the API's objects (the generated types name client-node's V1ObjectMeta class). */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- a typed view of plain JSON, on purpose
const as = <T>(json: unknown): T => json as T;
const policy = (rules: Rule[], extra: { labels?: Record<string, string>; namespace?: string; subjects?: AccessPolicy['spec']['subjects'] } = {}): AccessPolicy => as<AccessPolicy>({
  apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy',
  metadata: { name: 'p', namespace: extra.namespace ?? 'airlock-system', ...(extra.labels === undefined ? {} : { labels: extra.labels }) },
  spec: { subjects: extra.subjects ?? [{ group: { name: 'ci' } }], rules },
});
const allow: Rule = { name: 'read', match: { verbs: ['get'] }, action: 'Allow' };

describe('validatePolicy', () => {
  it.each([
    { name: 'a valid policy', rules: [allow, { ...allow, name: 'masked', mask: { fields: ['.data.*'], envNamePattern: '(?i)(password|token)' } }], problem: undefined, effect: undefined },
    { name: 'a bad mask path', rules: [{ ...allow, name: 'bad-path', mask: { fields: ['data.*'] } }], problem: 'rule "bad-path": mask.fields[0]: mask field path "data.*" is not of the form .a.b[*].c or .a[\'key\']', effect: 'the gateways enforce rule "bad-path" as Deny (fail closed) until it is fixed' },
    { name: 'a bad env pattern', rules: [{ ...allow, name: 'bad-env', mask: { envNamePattern: '(unclosed' } }], problem: 'rule "bad-env": mask.envNamePattern:', effect: 'the gateways enforce rule "bad-env" as Deny (fail closed) until it is fixed' },
    { name: 'a bad session pattern', rules: [{ ...allow, name: 'bad-session', mask: { sessionPatterns: ['AKIA[0-9A-Z]{16}', '(?i)[z-a]'] } }], problem: 'rule "bad-session": mask.sessionPatterns[1]:', effect: 'the gateways enforce rule "bad-session" as Deny (fail closed) until it is fixed' },
    { name: 'approval without approvers', rules: [as<Rule>({ ...allow, name: 'held', action: 'RequireApproval', approval: { approvers: {} } })], problem: 'rule "held": RequireApproval needs approval.approvers', effect: 'the gateways cannot apply this rule as written until it is fixed' },
    { name: 'a bad duration', rules: [as<Rule>({ ...allow, name: 'slow', action: 'RequireApproval', approval: { approvers: { users: ['a'] }, timeout: '1d' } })], problem: 'rule "slow": approval.timeout "1d" is not a duration like 10m', effect: 'the gateways cannot apply this rule as written until it is fixed' },
  ])('$name', ({ rules, problem, effect }) => {
    const verdict = validatePolicy(policy(rules));
    if (problem === undefined) expect(verdict).toEqual({ rules: rules.length });
    else expect(verdict.problem).toContain(problem);
    expect(verdict.effect).toBe(effect);
  });

  it('rejects what the gateway compiler rejects (a subject naming two kinds): no rule is enforced', () => {
    const verdict = validatePolicy(policy([allow], { subjects: [{ user: { name: 'a' }, group: { name: 'b' } }] }));
    expect(verdict.problem).toContain('exactly one of user, group, serviceAccount, claim');
    expect(verdict).toMatchObject({ effect: 'the gateways enforce none of this policy until it is fixed', rules: 0 });
  });

  it('counts a rule that does not compile as enforced: the gateways enforce it, as Deny', () => {
    expect(validatePolicy(policy([allow, { ...allow, name: 'bad', mask: { fields: ['x'] } }])).rules).toBe(2);
  });
});

describe('acceptedCondition', () => {
  it('says a rule that does not compile is enforced as Deny', () => {
    expect(acceptedCondition(policy([{ ...allow, name: 'bad-path', mask: { fields: ['.data[0]'] } }]))).toEqual({
      type: 'Accepted', status: 'False', reason: 'InvalidRule',
      message: 'rule "bad-path": mask.fields[0]: mask field path ".data[0]" is not of the form .a.b[*].c or .a[\'key\']; the gateways enforce rule "bad-path" as Deny (fail closed) until it is fixed.',
    });
  });
});

describe('selects', () => {
  const gateway = (selector?: AccessGateway['spec']['policySelector']): AccessGateway => as<AccessGateway>({
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessGateway', metadata: { name: 'g', namespace: 'airlock-system' },
    spec: { authentication: { serviceAccountTokens: { enabled: true } }, ...(selector === undefined ? {} : { policySelector: selector }) },
  });
  it.each([
    { name: 'no selector, same namespace', gw: gateway(), p: policy([allow]), expected: true },
    { name: 'another namespace', gw: gateway(), p: policy([allow], { namespace: 'other' }), expected: false },
    { name: 'matchLabels hit', gw: gateway({ matchLabels: { team: 'ci' } }), p: policy([allow], { labels: { team: 'ci' } }), expected: true },
    { name: 'matchLabels miss', gw: gateway({ matchLabels: { team: 'ci' } }), p: policy([allow], { labels: { team: 'web' } }), expected: false },
    { name: 'In', gw: gateway({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['prod', 'stage'] }] }), p: policy([allow], { labels: { tier: 'prod' } }), expected: true },
    { name: 'NotIn', gw: gateway({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['prod'] }] }), p: policy([allow], { labels: { tier: 'prod' } }), expected: false },
    { name: 'Exists', gw: gateway({ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }), p: policy([allow]), expected: false },
    { name: 'DoesNotExist', gw: gateway({ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }), p: policy([allow]), expected: true },
  ])('$name: $expected', ({ gw, p, expected }) => {
    expect(selects(gw, p)).toBe(expected);
  });
});
