// The AccessPolicy controller: one reconcile function that validates a policy the way the gateway
// will enforce it (policy-validation.ts) and writes status once: `Accepted` (its message names the
// bad rule), the number of rules enforced, and which AccessGateways select it. Status is its only
// write; condition changes become Events.
import type { Logger } from 'pino';
import type { AccessGateway, AccessPolicy, AccessPolicyStatus } from '../../crds/types.gen.ts';
import type { ReconcileResult } from '../runtime/controller.ts';
import { parseKey } from '../runtime/object-key.ts';
import { conditionEvents, mergeConditions, type ConditionEvent, type DesiredCondition } from './conditions.ts';
import { selects, validatePolicy, type PolicyVerdict } from './policy-validation.ts';

export const ACCESS_POLICY = { group: 'airlock.dev', version: 'v1alpha1', plural: 'accesspolicies', kind: 'AccessPolicy' } as const;

export interface PolicyReconcileDeps {
  readonly get: (key: string) => AccessPolicy | undefined;
  readonly gateways: () => readonly AccessGateway[];
  readonly writeStatus: (ref: { namespace: string; name: string }, status: AccessPolicyStatus) => Promise<unknown>;
  readonly recordEvent?: (policy: AccessPolicy, event: ConditionEvent) => Promise<unknown>;
  readonly now: () => Date;
  readonly log: Logger;
}

export function acceptedCondition(policy: AccessPolicy): DesiredCondition {
  return conditionFor(validatePolicy(policy));
}

function conditionFor(verdict: PolicyVerdict): DesiredCondition {
  return verdict.problem === undefined
    ? { type: 'Accepted', status: 'True', reason: 'Valid', message: `${verdict.rules} rule(s) enforced by the gateways that select this policy.` }
    : { type: 'Accepted', status: 'False', reason: 'InvalidRule', message: `${verdict.problem}; ${verdict.effect ?? 'fix it'}.` };
}

function sameStatus(a: AccessPolicyStatus | undefined, b: AccessPolicyStatus): boolean {
  return JSON.stringify({ o: a?.observedGeneration, c: a?.conditions, r: a?.ruleCount, s: a?.selectedBy })
    === JSON.stringify({ o: b.observedGeneration, c: b.conditions, r: b.ruleCount, s: b.selectedBy });
}

export async function reconcileAccessPolicy(key: string, deps: PolicyReconcileDeps): Promise<ReconcileResult> {
  const policy = deps.get(key);
  if (policy === undefined) return {};
  const verdict = validatePolicy(policy);
  const accepted = conditionFor(verdict);
  const generation = policy.metadata.generation;
  const next: AccessPolicyStatus = {
    observedGeneration: generation ?? 0,
    conditions: mergeConditions(policy.status?.conditions, [accepted], { now: deps.now(), generation }),
    ruleCount: verdict.rules,
    selectedBy: deps.gateways().filter((g) => selects(g, policy)).map((g) => `${g.metadata.namespace ?? ''}/${g.metadata.name ?? ''}`).sort(),
  };
  if (sameStatus(policy.status, next)) return {};
  const ref = parseKey(key);
  await deps.writeStatus({ namespace: ref.namespace ?? '', name: ref.name }, next);
  for (const event of conditionEvents(policy.status?.conditions, next.conditions ?? [])) {
    await deps.recordEvent?.(policy, event).catch((error: unknown) => { deps.log.warn({ err: error, policy: key }, 'could not record an event'); });
  }
  return {};
}

/** The gateway's PoliciesReady condition from the policies it selects. */
export function policiesReadyCondition(gateway: AccessGateway, policies: readonly AccessPolicy[]): DesiredCondition {
  const selected = policies.filter((p) => selects(gateway, p));
  const rejected = selected.filter((p) => acceptedCondition(p).status === 'False').map((p) => p.metadata.name ?? '').sort();
  if (rejected.length > 0) {
    return { type: 'PoliciesReady', status: 'False', reason: 'PolicyRejected', message: `${rejected.length} of ${selected.length} selected AccessPolicies are not accepted (${rejected.join(', ')}); see their Accepted condition.` };
  }
  return { type: 'PoliciesReady', status: 'True', reason: 'AllAccepted', message: `${selected.length} AccessPolicy(ies) selected, all accepted.` };
}
