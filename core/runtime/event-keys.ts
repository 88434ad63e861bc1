// Which keys one informer event queues. An event names an object; the keys are the object's own
// (the controller's kind) or, through `mapToKeys`, other objects whose reconcile reads it (the
// gateways that select a policy). At scale most events change nothing those reconciles read: the
// operator's own status write on a policy is an update, and every gateway selecting the policy
// would reconcile again for it (issue 20: one new policy cost 1,423 requests). So for an update:
// - keys the object stopped or started mapping to are always queued (the selection changed);
// - keys it maps to before and after are queued only when its `fingerprint` (what those
//   reconciles read of it) changed.
// The object before the update is the one this module saw last (the informer passes only the new
// one); it is the same reference the cache held, so remembering it costs no copy.
import type { KubernetesObject } from '@kubernetes/client-node';
import { objectKey } from './object-key.ts';

export type EventVerb = 'add' | 'update' | 'delete';

export interface KeyMapping<T extends KubernetesObject> {
  /** Keys to reconcile for this object (default: its own key). */
  mapToKeys?(obj: T): readonly string[];
  /** What the mapped keys' reconciles read of the object (default: everything, every update counts). */
  fingerprint?(obj: T): string;
}

const ownKey = (obj: KubernetesObject): readonly string[] => {
  const key = objectKey(obj);
  return key === undefined ? [] : [key];
};

/** Returns the keys each event queues, remembering the last version of each object to compare with. */
export function eventKeys<T extends KubernetesObject>(mapping: KeyMapping<T>): (verb: EventVerb, obj: T) => readonly string[] {
  const map = (obj: T): readonly string[] => mapping.mapToKeys?.(obj) ?? ownKey(obj);
  if (mapping.mapToKeys === undefined && mapping.fingerprint === undefined) return (_verb, obj) => map(obj);
  const last = new Map<string, T>();
  return (verb, obj) => {
    const id = objectKey(obj) ?? '';
    const before = last.get(id);
    if (verb === 'delete') {
      last.delete(id);
      return union(map(obj), before === undefined ? [] : map(before));
    }
    last.set(id, obj);
    if (before === undefined) return map(obj);
    const now = map(obj);
    const was = map(before);
    const changed = mapping.fingerprint === undefined || mapping.fingerprint(before) !== mapping.fingerprint(obj);
    return changed ? union(now, was) : symmetricDifference(now, was);
  };
}

function union(a: readonly string[], b: readonly string[]): readonly string[] {
  if (b.length === 0) return a;
  return [...new Set([...a, ...b])];
}

function symmetricDifference(a: readonly string[], b: readonly string[]): readonly string[] {
  const left = new Set(a);
  const right = new Set(b);
  return [...a.filter((k) => !right.has(k)), ...b.filter((k) => !left.has(k))];
}
