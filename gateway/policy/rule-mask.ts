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

/** What a rule brings to a merge: its order (the cache key) and its mask. */
export interface MaskSource {
  readonly order: number;
  readonly mask: EffectiveMask | undefined;
}

/** Beyond this many distinct rule sets the merge is still made, just not kept. */
const MAX_CACHED = 10_000;

/**
 * Merges the masks of the rules that let one request through. Secret values are shown only when
 * every one of those rules says `exempt` (a rule without a mask does not), so a later rule cannot
 * unmask what an earlier, broader rule masks.
 */
export class MaskMerger {
  readonly #cache = new Map<string, EffectiveMask>();

  merged(rules: readonly MaskSource[]): EffectiveMask | undefined {
    const first = rules[0];
    if (rules.length === 1 && first !== undefined) return first.mask;
    let withMask = 0;
    let exempt = rules.length > 0;
    let only: MaskSource | undefined;
    for (const rule of rules) {
      if (rule.mask === undefined) { exempt = false; continue; }
      withMask += 1;
      only = rule;
      if (!rule.mask.exempt) exempt = false;
    }
    if (withMask === 0 || only?.mask === undefined) return undefined;
    // One rule with a mask that does not exempt: the others add nothing to it.
    if (withMask === 1 && only.mask.exempt === exempt) return only.mask;
    const key = `${rules.filter((r) => r.mask !== undefined).map((r) => r.order).sort((a, b) => a - b).join(',')}${exempt ? '!' : ''}`;
    let mask = this.#cache.get(key);
    if (mask === undefined) {
      mask = merge(rules.flatMap((r) => (r.mask === undefined ? [] : [r.mask])), exempt);
      if (this.#cache.size < MAX_CACHED) this.#cache.set(key, mask);
    }
    return mask;
  }
}
