// Which stored ApprovalRequests may stand for a request: only one held by this gateway, for this
// exact request (fingerprint), under the rule that holds it now with the same approval settings.
// A grant given under another gateway's rule (other approvers), an older version of the rule
// (fewer approvals needed), or by a request someone else created with a matching label is not
// this request's grant, reusable or not.
import type { ApprovalSettings, PolicyRef } from '../../core/policy/model.ts';
import type { ApprovalRequestObject } from '../../core/approval/approval-object.ts';
import { parseDuration } from '../../core/duration.ts';
import type { Judgement } from '../../core/approval/approval-state.ts';

export interface GrantExpectation {
  /** The gateway's own name; its ApprovalRequests are listed from its namespace. */
  readonly gateway: string;
  readonly fingerprint: string;
  readonly policy: PolicyRef;
  readonly settings: ApprovalSettings;
}

const sameSet = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean => {
  const left = new Set(a ?? []);
  const right = new Set(b ?? []);
  return left.size === right.size && [...left].every((x) => right.has(x));
};

function samePolicy(stored: ApprovalRequestObject['spec']['policy'], policy: PolicyRef): boolean {
  return stored !== undefined && stored.name === policy.name && stored.rule === policy.rule && (stored.namespace ?? '') === policy.namespace;
}

/** Why the stored request is not this request's, or undefined when it is. */
export function bindingMismatch(ar: ApprovalRequestObject, expected: GrantExpectation): string | undefined {
  const { spec } = ar;
  const { settings, policy } = expected;
  if (spec.request.fingerprint !== expected.fingerprint) return 'another request (fingerprint)';
  if (spec.gateway !== expected.gateway) return `held by gateway ${spec.gateway ?? '(none)'}`;
  if (!samePolicy(spec.policy, policy)) return 'requested under another policy rule';
  if (!sameSet(spec.approvers.users, settings.approvers.users) || !sameSet(spec.approvers.groups, settings.approvers.groups)) return 'other approvers';
  if ((spec.minApprovals ?? 1) !== (settings.minApprovals ?? 1)) return 'another number of approvals';
  if ((spec.reusable ?? false) !== (settings.reusable ?? false)) return 'another reuse setting';
  return undefined;
}

/** The rule's settings as a judgement of this request (its grantTTL the shorter of the rule's and the request's). */
export function judgementFor(ar: ApprovalRequestObject, settings: ApprovalSettings, requester: Judgement['requester']): Judgement {
  const ruleMs = parseDuration(settings.grantTTL ?? '10m') ?? 600_000;
  const requestMs = parseDuration(ar.spec.grantTTL) ?? ruleMs;
  return {
    rule: { approvers: settings.approvers, minApprovals: settings.minApprovals ?? 1, grantMs: Math.min(ruleMs, requestMs) },
    requester,
  };
}
