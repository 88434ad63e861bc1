// The compiled policies, kept up to date one policy at a time. A changed policy is compiled again
// and its rules are taken out of and put back into the index; the other policies are not touched.
// So a churn of every policy costs each change its own few rules, not a recompilation of all of
// them per change, and requests keep their latency while policies change (the informer delivers
// one event per changed policy).
import {
  bucket, compileRule, policyKey, resourceKeys, subjectIndexes, subjectProblem,
  type ClaimEntry, type CompiledPolicies, type CompiledRule, type PolicySource, type ResourceIndex,
} from './compile.ts';
import { MaskMerger } from './rule-mask.ts';

/** Where one policy's rules sit in the index, to take them out again. */
interface Placed {
  readonly source: PolicySource;
  readonly rules: readonly CompiledRule[];
  readonly lists: readonly { readonly list: CompiledRule[]; readonly rule: CompiledRule }[];
  readonly claims: readonly { readonly key: string; readonly entry: ClaimEntry }[];
  readonly rejected?: string;
}

export class PolicyIndex {
  readonly #users = new Map<string, ResourceIndex>();
  readonly #groups = new Map<string, ResourceIndex>();
  readonly #claims = new Map<string, ClaimEntry[]>();
  readonly #placed = new Map<string, Placed>();
  // Keyed by rule ids, which are never reused: entries of removed rules are never hit again, and
  // the merger bounds its own size.
  readonly #masks = new MaskMerger();
  #view: CompiledPolicies | undefined;

  /** Puts a policy in (or replaces it); an object already in is left as it is. */
  set(policy: PolicySource): void {
    const key = policyKey(policy);
    const placed = this.#placed.get(key);
    if (placed?.source === policy) return;
    if (placed !== undefined) this.#takeOut(placed);
    this.#placed.set(key, this.#putIn(policy));
    this.#view = undefined;
  }

  delete(key: string): void {
    const placed = this.#placed.get(key);
    if (placed === undefined) return;
    this.#takeOut(placed);
    this.#placed.delete(key);
    this.#view = undefined;
  }

  /** Makes the index hold exactly these policies (after a relist). */
  sync(policies: readonly PolicySource[]): void {
    const keys = new Set(policies.map(policyKey));
    for (const key of [...this.#placed.keys()]) if (!keys.has(key)) this.delete(key);
    for (const policy of policies) this.set(policy);
  }

  /** What evaluation reads; the maps are the live ones (evaluation is synchronous, changes are not made during one). */
  compiled(): CompiledPolicies {
    if (this.#view !== undefined) return this.#view;
    const placed = [...this.#placed.values()];
    this.#view = {
      users: this.#users, groups: this.#groups, claims: this.#claims, masks: this.#masks,
      ruleCount: placed.reduce((n, p) => n + p.rules.length, 0),
      rejected: placed.flatMap((p) => (p.rejected === undefined ? [] : [{ policy: policyKey(p.source), problem: p.rejected }])),
      broken: placed.flatMap((p) => p.rules.flatMap((r) => (r.problem === undefined ? [] : [{ policy: r.policyKey, rule: r.name, problem: r.problem }]))),
    };
    return this.#view;
  }

  #putIn(policy: PolicySource): Placed {
    const rejected = policy.spec.subjects.map(subjectProblem).find((p) => p !== undefined);
    if (rejected !== undefined) return { source: policy, rules: [], lists: [], claims: [], rejected };
    const rules = policy.spec.rules.map((rule, i) => ({ rule: compileRule(policy, rule, i), keys: resourceKeys(rule) }));
    const lists: { list: CompiledRule[]; rule: CompiledRule }[] = [];
    const claims: { key: string; entry: ClaimEntry }[] = [];
    for (const subject of policy.spec.subjects) {
      for (const placement of subjectIndexes({ users: this.#users, groups: this.#groups, claims: this.#claims }, subject)) {
        if (placement.claim !== undefined) claims.push(placement.claim);
        for (const { rule, keys } of rules) for (const key of keys) lists.push({ list: listIn(placement.index, key), rule });
      }
    }
    for (const { list, rule } of lists) list.push(rule);
    return { source: policy, rules: rules.map((r) => r.rule), lists, claims };
  }

  #takeOut(placed: Placed): void {
    for (const { list, rule } of placed.lists) {
      const at = list.indexOf(rule);
      if (at >= 0) list.splice(at, 1);
    }
    for (const { key, entry } of placed.claims) {
      const entries = this.#claims.get(key);
      if (entries === undefined) continue;
      const rest = entries.filter((e) => e !== entry);
      if (rest.length === 0) this.#claims.delete(key); else this.#claims.set(key, rest);
    }
  }
}

function listIn(index: ResourceIndex, key: string): CompiledRule[] {
  let list = index.get(key);
  if (list === undefined) { list = []; index.set(key, list); }
  return list;
}

/** The policies compiled once (tests, the operator's validation, benchmarks). */
export function compilePolicies(policies: readonly PolicySource[]): CompiledPolicies {
  const index = new PolicyIndex();
  index.sync(policies);
  return index.compiled();
}

/** A user or group bucket (ServiceAccounts are users). */
export { bucket };
