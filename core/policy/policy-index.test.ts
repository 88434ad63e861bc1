// The incremental index answers every request exactly as a compilation of the same policies from
// scratch does, after any sequence of changes (a seeded random walk of adds, edits and deletes);
// and a change compiles only the policy that changed.
import { describe, expect, it } from 'vitest';
import type { PolicySource, RuleSource, SubjectSource } from './compile.ts';
import { compilePolicies, PolicyIndex } from './policy-index.ts';
import { evaluatePolicy } from './evaluate.ts';
import type { Action, DecisionInput, RequestAttributes } from './model.ts';
import { seededRandom } from '../test-random.ts';

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

const GROUPS = ['dev', 'ops', 'ci'];
const VERBS = ['get', 'list', 'create', 'delete', 'patch'];
const RESOURCES = ['configmaps', 'secrets', 'deployments', 'pods'];
const NAMESPACES = ['a', 'b', 'c'];
const ACTIONS: readonly Action[] = ['Allow', 'Allow', 'Deny', 'RequireApproval'];

function randomPolicy(random: () => number, name: string): PolicySource {
  const subjects: SubjectSource[] = [random() < 0.5 ? { group: { name: pick(random, GROUPS) } } : { claim: { name: 'repository', values: [pick(random, ['x', 'y'])] } }];
  const rules: RuleSource[] = Array.from({ length: 1 + Math.floor(random() * 4) }, (_, i) => {
    const action = pick(random, ACTIONS);
    return {
      name: `r${i}`, action,
      match: { verbs: [pick(random, VERBS)], resources: [pick(random, RESOURCES)], ...(random() < 0.5 ? { namespaces: [pick(random, NAMESPACES)] } : {}) },
      ...(action === 'RequireApproval' ? { approval: { approvers: { users: ['alice'] } } } : {}),
      ...(random() < 0.2 ? { mask: { fields: ['.data.k'] } } : {}),
    };
  });
  return { metadata: { namespace: 'p', name }, spec: { subjects, rules } };
}

function request(random: () => number): DecisionInput {
  const attributes: RequestAttributes = {
    resourceRequest: true, verb: pick(random, VERBS), apiGroup: '', resource: pick(random, RESOURCES), subresource: '',
    namespace: pick(random, NAMESPACES), name: 'n', path: '/',
  };
  return {
    request: attributes,
    caller: { user: { username: 'u', groups: [pick(random, GROUPS), 'system:authenticated'], extra: {} }, method: 'oidc', claims: { repository: pick(random, ['x', 'y']) } },
    effective: { username: 'u', groups: [], extra: {} },
  };
}

/** What a decision says, without the rule ids that differ between two compilations. */
function outcome(decision: ReturnType<typeof evaluatePolicy>): unknown {
  return { action: decision.action, matched: decision.matched, reason: decision.reason, fields: decision.mask?.fields, exempt: decision.mask?.exempt };
}

describe('PolicyIndex', () => {
  it.each([1, 2, 3])('decides as a fresh compilation after a random walk of changes (seed %i)', (seed) => {
    const random = seededRandom(seed);
    const index = new PolicyIndex();
    const live = new Map<string, PolicySource>();
    for (let step = 0; step < 300; step++) {
      const name = `p${Math.floor(random() * 20)}`;
      if (random() < 0.25) { live.delete(name); index.delete(`p/${name}`); } else {
        const policy = randomPolicy(random, name);
        live.set(name, policy);
        index.set(policy);
      }
      const fresh = compilePolicies([...live.values()]);
      const incremental = index.compiled();
      expect(incremental.ruleCount).toBe(fresh.ruleCount);
      for (let r = 0; r < 10; r++) {
        const input = request(random);
        expect(outcome(evaluatePolicy(incremental, input, 'Deny')), `step ${step}`).toEqual(outcome(evaluatePolicy(fresh, input, 'Deny')));
      }
    }
  });

  it('compiles only the policy that changed: the other policies keep their compiled rules', () => {
    const random = seededRandom(7);
    const policies = Array.from({ length: 5 }, (_, i) => randomPolicy(random, `p${i}`));
    const index = new PolicyIndex();
    index.sync(policies);
    const rulesOf = (): Map<string, unknown> => {
      const seen = new Map<string, unknown>();
      for (const idx of index.compiled().groups.values()) for (const list of idx.values()) for (const rule of list) seen.set(`${rule.policyKey}#${rule.ruleIndex}`, rule);
      for (const entries of index.compiled().claims.values()) for (const e of entries) for (const list of e.index.values()) for (const rule of list) seen.set(`${rule.policyKey}#${rule.ruleIndex}`, rule);
      return seen;
    };
    const before = rulesOf();
    const changed = randomPolicy(random, 'p2');
    index.sync(policies.map((p) => (p.metadata.name === 'p2' ? changed : p)));
    const after = rulesOf();
    for (const [key, rule] of after) if (!key.startsWith('p/p2#')) expect(rule, key).toBe(before.get(key));
    // Syncing the same objects again changes nothing.
    const view = index.compiled();
    index.sync(policies.map((p) => (p.metadata.name === 'p2' ? changed : p)));
    expect(index.compiled()).toBe(view);
  });
});
