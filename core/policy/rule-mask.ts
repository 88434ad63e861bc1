// A rule's `mask`, checked when its policy compiles, and the merge of several rules' masks.
// Checking here, with the parsers the masker and the session recorder use, means no request can
// meet a path or pattern that does not compile (it would throw on every matching request); such a
// rule is enforced as Deny instead (compile.ts). Merges are cached by the set of rules, so a
// request that two rules let through gets the same mask object every time and the masker's plan
// for it (mask/mask-plan.ts, cached per mask object) is built once.
import { parseFieldPath } from './field-path.ts';
import { compileUserPattern } from './user-pattern.ts';
import type { EffectiveMask, MaskSettings } from './model.ts';

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The first problem of a rule's mask, naming the field, or undefined when every part compiles. */
export function maskProblem(mask: MaskSettings | undefined): string | undefined {
  for (const [i, field] of (mask?.fields ?? []).entries()) {
    try { parseFieldPath(field); } catch (error) { return `mask.fields[${i}]: ${message(error)}`; }
  }
  const patterns: [string, string][] = [
    ...(mask?.envNamePattern === undefined ? [] : [['mask.envNamePattern', mask.envNamePattern] as [string, string]]),
    ...(mask?.sessionPatterns ?? []).map((p, i): [string, string] => [`mask.sessionPatterns[${i}]`, p]),
  ];
  for (const [where, pattern] of patterns) {
    try { compileUserPattern(pattern); } catch (error) { return `${where}: ${message(error)}`; }
  }
  return undefined;
}

/** A rule's mask in the form decisions carry; undefined when the rule has none. Check it first (maskProblem). */
export function effectiveMask(mask: MaskSettings | undefined): EffectiveMask | undefined {
  if (mask === undefined) return undefined;
  return {
    fields: [...(mask.fields ?? [])],
    envNamePatterns: mask.envNamePattern === undefined || mask.envNamePattern === '' ? [] : [mask.envNamePattern],
    sessionPatterns: [...(mask.sessionPatterns ?? [])],
    exempt: mask.exempt === true,
  };
}

const union = (lists: readonly (readonly string[])[]): string[] => [...new Set(lists.flat())];

function merge(masks: readonly EffectiveMask[], exempt: boolean): EffectiveMask {
  return {
    fields: union(masks.map((m) => m.fields)),
    envNamePatterns: union(masks.map((m) => m.envNamePatterns)),
    sessionPatterns: union(masks.map((m) => m.sessionPatterns)),
    exempt,
  };
}

/** What a rule brings to a merge: its id (the cache key) and its mask. */
export interface MaskSource {
  readonly id: number;
  readonly mask: EffectiveMask | undefined;
}

/** Beyond this many cached rule sets a merge is still made, just not kept. */
const MAX_CACHED = 10_000;

/** One step of the cache: rule sets as paths of rule orders, ascending. */
interface CacheNode {
  readonly next: Map<number, CacheNode>;
  plain?: EffectiveMask;
  exempt?: EffectiveMask;
}

/**
 * Merges the masks of the rules that let one request through. Secret values are shown only when
 * every one of those rules says `exempt` (a rule without a mask does not), so a later rule cannot
 * unmask what an earlier, broader rule masks. The hot path allocates nothing once a set is cached.
 */
export class MaskMerger {
  readonly #root: CacheNode = { next: new Map() };
  readonly #orders: number[] = [];
  #size = 0;

  merged(rules: readonly MaskSource[]): EffectiveMask | undefined {
    const first = rules[0];
    if (rules.length === 1 && first !== undefined) return first.mask;
    let exempt = rules.length > 0;
    let only: EffectiveMask | undefined;
    const orders = this.#orders;
    orders.length = 0;
    for (const rule of rules) {
      if (rule.mask === undefined) { exempt = false; continue; }
      orders.push(rule.id);
      only = rule.mask;
      if (!rule.mask.exempt) exempt = false;
    }
    if (only === undefined) return undefined;
    // One rule with a mask, and the others do not change whether it exempts: nothing to merge.
    if (orders.length === 1 && only.exempt === exempt) return only;
    orders.sort(ascending);
    const node = this.#node(orders);
    if (node === undefined) return merge(masksOf(rules), exempt);
    return exempt ? (node.exempt ??= merge(masksOf(rules), true)) : (node.plain ??= merge(masksOf(rules), false));
  }

  /** The cache node of a rule set, created on first use; undefined when the cache is full. */
  #node(orders: readonly number[]): CacheNode | undefined {
    let node = this.#root;
    for (const order of orders) {
      let next = node.next.get(order);
      if (next === undefined) {
        if (this.#size >= MAX_CACHED) return undefined;
        next = { next: new Map() };
        node.next.set(order, next);
        this.#size += 1;
      }
      node = next;
    }
    return node;
  }
}

const ascending = (a: number, b: number): number => a - b;
const masksOf = (rules: readonly MaskSource[]): EffectiveMask[] => rules.flatMap((r) => (r.mask === undefined ? [] : [r.mask]));
