// What the AccessGateway reconcile last applied, so a reconcile that would apply the same objects
// again does not. Each reconcile used to server-side apply all eight owned objects (and delete an
// absent PodDisruptionBudget): writes that change nothing, and at 30 gateways reconciled for
// every policy change they were most of the operator's requests (issue 20). An apply is skipped
// when the desired objects hash the same as the last apply, the Deployment (which the operator
// watches) still has the generation that apply left, and that apply is younger than `refreshMs`:
// objects the operator does not watch (Services, RBAC, the ConfigMap) are re-applied at least that
// often, so drift nobody announced is still repaired, as the resync always did.
import { createHash } from 'node:crypto';

export interface AppliedState {
  /** desiredHash() of the objects applied. */
  readonly hash: string;
  /** The Deployment's metadata.generation after the apply (undefined: none). */
  readonly deploymentGeneration: number | undefined;
}

export interface AppliedMemo {
  /** Whether applying `state.hash` again would repeat the last apply of `key`, with the Deployment as it left it. */
  fresh(key: string, state: AppliedState, now: Date): boolean;
  remember(key: string, state: AppliedState, now: Date): void;
  forget(key: string): void;
}

export function createAppliedMemo(refreshMs: number): AppliedMemo {
  const applied = new Map<string, AppliedState & { readonly at: number }>();
  return {
    fresh(key, state, now) {
      const last = applied.get(key);
      return last !== undefined && last.hash === state.hash && last.deploymentGeneration === state.deploymentGeneration
        && now.getTime() - last.at < refreshMs;
    },
    remember(key, state, now) { applied.set(key, { ...state, at: now.getTime() }); },
    forget(key) { applied.delete(key); },
  };
}

/** A digest of the objects to apply, in order (the builders are deterministic). */
export function desiredHash(objects: readonly object[]): string {
  return createHash('sha256').update(JSON.stringify(objects)).digest('base64url');
}
