// Whether a status write would change anything a reader sees. The API server stores a custom
// resource as JSON and answers with object keys in its own (sorted) order, not the order the
// operator built them in, so comparing serialized text says "changed" on every reconcile and each
// reconcile became a write (issue 20). Values are compared structurally instead: object keys in any
// order, arrays in order. Conditions are compared as metav1.Condition sets, by type: status,
// reason, message and observedGeneration; lastTransitionTime is what mergeConditions keeps, never
// a reason to write.
import type { Condition } from './conditions.ts';

/** Deep equality of JSON values; object key order is irrelevant, an absent key equals `undefined`. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  for (const key of keys) if (!sameValue(left[key], right[key])) return false;
  return true;
}

type ComparedCondition = Pick<Condition, 'type' | 'status' | 'reason' | 'message' | 'observedGeneration'>;

/** The same condition types, each with the same status, reason, message and observedGeneration. */
export function sameConditions(a: readonly ComparedCondition[] | undefined, b: readonly ComparedCondition[] | undefined): boolean {
  const left = a ?? [];
  const right = new Map((b ?? []).map((c) => [c.type, c]));
  if (left.length !== right.size) return false;
  return left.every((c) => {
    const other = right.get(c.type);
    return other !== undefined && other.status === c.status && other.reason === c.reason && other.message === c.message
      && other.observedGeneration === c.observedGeneration;
  });
}
