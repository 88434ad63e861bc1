import { describe, expect, it } from 'vitest';
import type { AccessGateway, AccessPolicy } from '../../crds/types.gen.ts';
import { selects, validatePolicy } from './policy-validation.ts';

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
    { name: 'a valid policy', rules: [allow, { ...allow, name: 'masked', mask: { fields: ['.data.*'], envNamePattern: '(?i)(password|token)' } }], problem: undefined },
    { name: 'a bad mask path', rules: [{ ...allow, name: 'bad-path', mask: { fields: ['data.*'] } }], problem: 'rule "bad-path": mask field path "data.*" is not of the form .a.b[*].c or .a[\'key\']' },
    { name: 'a bad env pattern', rules: [{ ...allow, name: 'bad-env', mask: { envNamePattern: '(unclosed' } }], problem: 'rule "bad-env": mask.envNamePattern:' },
    { name: 'a bad session pattern', rules: [{ ...allow, name: 'bad-session', mask: { sessionPatterns: ['AKIA[0-9A-Z]{16}', '(?i)[z-a]'] } }], problem: 'rule "bad-session": mask.sessionPatterns[1]:' },
    { name: 'approval without approvers', rules: [as<Rule>({ ...allow, name: 'held', action: 'RequireApproval', approval: { approvers: {} } })], problem: 'rule "held": RequireApproval needs approval.approvers' },
    { name: 'a bad duration', rules: [as<Rule>({ ...allow, name: 'slow', action: 'RequireApproval', approval: { approvers: { users: ['a'] }, timeout: '1d' } })], problem: 'rule "slow": approval.timeout "1d" is not a duration like 10m' },
  ])('$name', ({ rules, problem }) => {
    const verdict = validatePolicy(policy(rules));
    if (problem === undefined) expect(verdict).toEqual({ rules: rules.length });
    else expect(verdict.problem).toContain(problem);
  });

  it('rejects what the gateway compiler rejects (a subject naming two kinds)', () => {
    expect(validatePolicy(policy([allow], { subjects: [{ user: { name: 'a' }, group: { name: 'b' } }] })).problem).toContain('exactly one of user, group, serviceAccount, claim');
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
