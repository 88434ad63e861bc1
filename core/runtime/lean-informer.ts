// Informers that cache only what the controllers read. client-node's informer keeps every object
// whole: managedFields (a second copy of the object's shape per field manager), kubectl's
// last-applied-configuration annotation (a third copy, as a string), and every spec and status
// field. At 1,000 AccessPolicies of 10 rules, cached twice, that was most of the operator's
// memory (issue 20). Here every listed and watched object goes through a `transform` first, and
// the cache holds its result: the informer's contract (events, get, list) is unchanged.
import { setTimeout as delay } from 'node:timers/promises';
import { KubeConfig, ListWatch, Watch, type Informer, type KubernetesListObject, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';

/** Keeps the object's useful part; must keep metadata name, namespace and resourceVersion. */
export type Transform<T extends KubernetesObject> = (obj: KubernetesObject) => T;

export interface LeanInformerOptions<T extends KubernetesObject> {
  readonly kubeConfig: KubeConfig;
  /** The collection's watch path, e.g. `/apis/airlock.dev/v1alpha1/accesspolicies`. */
  readonly path: string;
  /** Lists the collection (the same objects as the path, with the same selector). */
  readonly list: () => Promise<KubernetesListObject<KubernetesObject>>;
  readonly transform: Transform<T>;
  readonly labelSelector?: string;
}

export type LeanInformer<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

/** A watch whose object events carry transformed objects (ERROR and BOOKMARK pass as they are). */
class TransformingWatch<T extends KubernetesObject> extends Watch {
  private readonly transform: Transform<T>;
  constructor(config: KubeConfig, transform: Transform<T>) {
    super(config);
    this.transform = transform;
  }

  override watch(...[path, query, callback, done]: Parameters<Watch['watch']>): ReturnType<Watch['watch']> {
    return super.watch(path, query, (phase: string, obj: KubernetesObject, raw?: unknown) => {
      callback(phase, phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED' ? this.transform(obj) : obj, raw);
    }, done);
  }
}

export function makeLeanInformer<T extends KubernetesObject>(options: LeanInformerOptions<T>): LeanInformer<T> {
  const list = async (): Promise<KubernetesListObject<T>> => {
    const listed = await options.list();
    return { ...listed, items: listed.items.map(options.transform) };
  };
  // A watch the API server ended cleanly (as it does when shutting down) is opened again after
  // client-node's own delay, which doubles to 30 s while no event arrives; capped, so a restarted
  // API server is watched again within a second (informer-runner.ts handles the failures).
  const delayFn = (ms: number): Promise<void> => delay(Math.min(ms, WATCH_REOPEN_MAX_MS));
  return new ListWatch<T>(options.path, new TransformingWatch(options.kubeConfig, options.transform), list, false, options.labelSelector, undefined, { delayFn });
}

export const WATCH_REOPEN_MAX_MS = 1000;

/** kubectl's copy of the last applied object: as big as the object, and read by nobody here. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** The metadata fields kept: what the operator reads. Never managedFields, never kubectl's last-applied copy. */
const KEPT = ['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'labels', 'ownerReferences', 'deletionTimestamp', 'creationTimestamp'] as const;

/**
 * The object's metadata with only the fields the operator reads (annotations too with `keep`,
 * minus kubectl's last-applied copy). Typed as what it was given: every field dropped is optional
 * in every metadata type.
 */
export function leanMetadata<M extends object>(metadata: M | undefined, keep: { readonly annotations?: boolean } = {}): M {
  const m = (metadata ?? {}) as Partial<Record<string, unknown>> & { annotations?: Record<string, string> };
  const fields: Record<string, unknown> = Object.fromEntries(KEPT.map((k) => [k, m[k]]));
  if (keep.annotations === true && m.annotations !== undefined) {
    fields['annotations'] = Object.fromEntries(Object.entries(m.annotations).filter(([k]) => k !== LAST_APPLIED));
  }
  // Absent stays absent (the generated types are exactOptionalPropertyTypes-strict).
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as M;
}
