// An in-memory informer for unit tests, with client-node's contract: `start` lists (here: marks the
// cache complete) and resolves; a failure fires `error` and leaves it stopped; callbacks run
// synchronously as objects change.
import type { ErrorCallback, Informer, KubernetesObject, ObjectCache, ObjectCallback } from '@kubernetes/client-node';

type ObjectVerb = 'add' | 'update' | 'delete';

export interface FakeInformer<T extends KubernetesObject> extends Informer<T>, ObjectCache<T> {
  /** Stores `obj` (add or update by namespace/name) and fires the matching event. */
  apply(obj: T): void;
  /** Removes the object and fires `delete`. */
  remove(namespace: string | undefined, name: string): void;
  /** Fires `error` as client-node does when its watch fails; the informer is then stopped. */
  fail(error: unknown): void;
  /** Errors the next `count` starts will fail with (one each). */
  failNextStarts(count: number, error: unknown): void;
  /** Every start fails with `error` until called with undefined (an API server that is away). */
  failStarts(error: unknown): void;
  readonly starts: number;
  readonly running: boolean;
}

export function createFakeInformer<T extends KubernetesObject>(initial: readonly T[] = []): FakeInformer<T> {
  const objects = new Map<string, T>();
  const callbacks = { add: [] as ObjectCallback<T>[], update: [] as ObjectCallback<T>[], delete: [] as ObjectCallback<T>[], error: [] as ErrorCallback[] };
  const id = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`;
  const idOf = (obj: T): string => id(obj.metadata?.namespace, obj.metadata?.name ?? '');
  let failures: unknown[] = [];
  let failingWith: unknown;
  let starts = 0;
  let running = false;
  const fire = (verb: ObjectVerb, obj: T): void => { for (const cb of callbacks[verb]) cb(obj); };
  const fail = (error: unknown): void => {
    running = false;
    for (const cb of callbacks.error) cb(error);
  };
  const on = (verb: string, cb: ObjectCallback<T> | ErrorCallback): void => {
    if (verb === 'change') { for (const v of ['add', 'update', 'delete'] as const) callbacks[v].push(cb); return; }
    if (verb === 'add' || verb === 'update' || verb === 'delete' || verb === 'error') callbacks[verb].push(cb);
  };
  const off = (verb: string, cb: ObjectCallback<T> | ErrorCallback): void => {
    if (verb === 'add' || verb === 'update' || verb === 'delete' || verb === 'error') callbacks[verb] = callbacks[verb].filter((x) => x !== cb);
  };
  return {
    on, off,
    start() {
      starts += 1;
      const failure = failures.shift() ?? failingWith;
      if (failure !== undefined) { fail(failure); return Promise.resolve(); }
      running = true;
      for (const obj of initial) if (!objects.has(idOf(obj))) { objects.set(idOf(obj), obj); fire('add', obj); }
      return Promise.resolve();
    },
    stop() { running = false; return Promise.resolve(); },
    get: (name, namespace) => objects.get(id(namespace, name)),
    list: (namespace) => [...objects.values()].filter((o) => namespace === undefined || o.metadata?.namespace === namespace),
    apply(obj) {
      const existed = objects.has(idOf(obj));
      objects.set(idOf(obj), obj);
      fire(existed ? 'update' : 'add', obj);
    },
    remove(namespace, name) {
      const obj = objects.get(id(namespace, name));
      if (obj === undefined) return;
      objects.delete(id(namespace, name));
      fire('delete', obj);
    },
    fail,
    failNextStarts(count, error) { failures = [...failures, ...Array.from({ length: count }, () => error)]; },
    failStarts(error) { failingWith = error; },
    get starts() { return starts; },
    get running() { return running; },
  };
}
