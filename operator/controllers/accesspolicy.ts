// The AccessPolicy controller: one reconcile function that validates a policy the way the gateway
// will enforce it (policy-validation.ts) and writes status once: `Accepted` (its message names the
// bad rule), the number of rules enforced, and which AccessGateways select it. Status is its only
// write; condition changes become Events.
import type { Logger } from 'pino';
import { ACCESSPOLICY_PLURAL, GROUP, VERSION, type AccessGateway, type AccessPolicy, type AccessPolicyStatus } from '../../crds/types.gen.ts';
import type { ReconcileResult } from '../../core/runtime/controller.ts';
import { isNotFound } from '../../core/runtime/api-errors.ts';
import { logEventFailure } from './event-failure.ts';
import { parseKey } from '../../core/runtime/object-key.ts';
import { conditionEvents, mergeConditions, type ConditionEvent, type DesiredCondition } from './conditions.ts';
import type { PolicyFacts } from './policy-facts.ts';
import { selects, validatePolicy, type PolicyVerdict, type Selecting } from './policy-validation.ts';
import { sameConditions, sameValue } from './status-equality.ts';

export const ACCESS_POLICY = { group: GROUP, version: VERSION, plural: ACCESSPOLICY_PLURAL, kind: 'AccessPolicy' } as const;

/** A gateway as the policy reconcile reads it: its name and what it selects. */
export type PolicyGateway = Selecting & { readonly metadata: { readonly name?: string | undefined } };

export interface PolicyReconcileDeps {
  readonly get: (key: string) => PolicyFacts | undefined;
  readonly gateways: () => readonly PolicyGateway[];
  readonly writeStatus: (ref: { namespace: string; name: string }, status: AccessPolicyStatus) => Promise<unknown>;
  readonly recordEvent?: (policy: PolicyFacts, event: ConditionEvent) => Promise<unknown>;
  readonly now: () => Date;
  readonly log: Logger;
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/**
 * Accepted: whether every rule is valid. The message also says who enforces the policy, since a
 * valid policy no gateway selects does nothing (`selectedBy` is the gateways' `namespace/name`).
 */
export function acceptedCondition(policy: AccessPolicy, selectedBy: readonly string[] = []): DesiredCondition {
  return conditionFor(validatePolicy(policy), policy.metadata.namespace, selectedBy);
}

function conditionFor(verdict: PolicyVerdict, namespace: string | undefined, selectedBy: readonly string[]): DesiredCondition {
  if (verdict.problem !== undefined) {
    return { type: 'Accepted', status: 'False', reason: 'InvalidRule', message: `${verdict.problem}; ${verdict.effect ?? 'fix it'}.` };
  }
  const rules = plural(verdict.rules, 'rule', 'rules');
  const names = selectedBy.map((ref) => ref.slice(ref.indexOf('/') + 1));
  const message = names.length === 0
    ? `${rules} valid, but no AccessGateway in ${namespace ?? 'this namespace'} selects this policy yet, so none enforces it (a gateway's spec.policySelector must match the policy's labels).`
    : `${rules} valid, enforced by ${names.length === 1 ? 'AccessGateway' : 'AccessGateways'} ${names.join(', ')}.`;
  return { type: 'Accepted', status: 'True', reason: 'Valid', message };
}

/** Whether writing `b` would change what a reader sees in `a` (status-equality.ts). */
export function sameStatus(a: AccessPolicyStatus | undefined, b: AccessPolicyStatus): boolean {
  if (a === undefined) return false;
  return a.observedGeneration === b.observedGeneration && a.ruleCount === b.ruleCount && a.gateways === b.gateways
    && sameValue(a.selectedBy, b.selectedBy) && sameConditions(a.conditions, b.conditions);
}

export async function reconcileAccessPolicy(key: string, deps: PolicyReconcileDeps): Promise<ReconcileResult> {
  const policy = deps.get(key);
  if (policy === undefined) return {};
  const selectedBy = deps.gateways().filter((g) => selects(g, policy)).map((g) => `${g.metadata.namespace ?? ''}/${g.metadata.name ?? ''}`).sort();
  const verdict = policy.verdict;
  const accepted = conditionFor(verdict, policy.metadata.namespace, selectedBy);
  const generation = policy.metadata.generation;
  const next: AccessPolicyStatus = {
    observedGeneration: generation ?? 0,
    conditions: mergeConditions(policy.status?.conditions, [accepted], { now: deps.now(), generation }),
    ruleCount: verdict.rules,
    selectedBy,
    ...(selectedBy.length === 0 ? {} : { gateways: selectedBy.map((ref) => ref.slice(ref.indexOf('/') + 1)).join(',') }),
  };
  if (sameStatus(policy.status, next)) return {};
  const ref = parseKey(key);
  try {
    await deps.writeStatus({ namespace: ref.namespace ?? '', name: ref.name }, next);
  } catch (error) {
    // Deleted since the cache saw it (a policy deleted right after creation): its delete event
    // follows, and there is nothing left to report on.
    if (isNotFound(error)) return {};
    throw error;
  }
  // A policy accepted as it is created is no news (its status says so, and 1,000 new policies
  // were 1,000 Events, half the writes of applying them; issue 20): Events are for a rejection
  // and for changes.
  const created = policy.status?.conditions === undefined || policy.status.conditions.length === 0;
  for (const event of conditionEvents(policy.status?.conditions, next.conditions ?? []).filter((e) => !(created && e.type === 'Normal'))) {
    await deps.recordEvent?.(policy, event).catch((error: unknown) => { logEventFailure(deps.log, error, { policy: key }); });
  }
  return {};
}

/** The gateway's PoliciesReady condition from the policies it selects (their verdicts, computed once per policy change). */
export function policiesReadyCondition(gateway: AccessGateway, policies: readonly PolicyFacts[]): DesiredCondition {
  const selected = policies.filter((p) => selects(gateway, p));
  const rejected = selected.filter((p) => p.verdict.problem !== undefined).map((p) => p.metadata.name ?? '').sort();
  if (rejected.length > 0) {
    return { type: 'PoliciesReady', status: 'False', reason: 'PolicyRejected', message: `${rejected.length} of ${selected.length} selected AccessPolicies are not accepted (${rejected.join(', ')}); see their Accepted condition.` };
  }
  if (selected.length === 0) {
    return { type: 'PoliciesReady', status: 'True', reason: 'NoneSelected', message: `No AccessPolicy in ${gateway.metadata.namespace ?? 'this namespace'} matches spec.policySelector: every request gets the default action (${gateway.spec.defaultAction ?? 'Deny'}).` };
  }
  return { type: 'PoliciesReady', status: 'True', reason: 'AllAccepted', message: `${plural(selected.length, 'AccessPolicy', 'AccessPolicies')} selected, ${selected.length === 1 ? 'accepted' : 'all accepted'}.` };
}
