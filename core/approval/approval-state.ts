// Where an ApprovalRequest stands, judged from its stored decisions against an approval rule: the
// one place the gateway (before it uses any grant) and the operator (before it writes phase and
// grant) decide whether people approved. `phase: Approved` alone never approves anything: only
// approvals by listed approvers (a listed user, or a member of a listed group as admission
// recorded it in the decision), never by the requester (caller or impersonated user), enough of
// them, and no deny. Times an approver writes (`at`) are not trusted to stretch anything: a
// decision dated ahead of the reader's clock, or after the request expired, does not count, and
// the grant window is the intersection of [the approving decision's `at`, + grantTTL] with the
// window the operator wrote from its own clock when it observed the approval.
import { DEFAULT_GRANT_MS, type ApprovalDecision, type ApprovalRequestObject } from './approval-object.ts';
import { parseDuration } from '../duration.ts';

/** How far ahead of the reader's clock a decision's `at` (or a grant's notBefore) may be and still count. */
export const MAX_CLOCK_SKEW_MS = 30_000;

/** The approval settings a request is judged by: the rule's, which the gateway checks equal the request's own. */
export interface ApprovalRule {
  readonly approvers: { readonly users?: readonly string[]; readonly groups?: readonly string[] };
  readonly minApprovals: number;
  readonly grantMs: number;
}

/** Who asked; neither may approve. */
export interface Requester {
  readonly caller: string;
  readonly effective?: string | undefined;
}

export interface Judgement {
  readonly rule: ApprovalRule;
  readonly requester: Requester;
}

export interface GrantWindow {
  readonly notBefore: number;
  readonly notAfter: number;
}

export type ApprovalState =
  | { readonly state: 'pending' }
  | { readonly state: 'approved'; readonly approvals: readonly ApprovalDecision[]; readonly window: GrantWindow }
  | { readonly state: 'denied'; readonly by: string; readonly reason: string }
  | { readonly state: 'expired'; readonly what: 'request' | 'grant' }
  | { readonly state: 'consumed' };

/** The request's own approval settings, as the gateway wrote them when it held the request. */
export function judgementOf(spec: ApprovalRequestObject['spec']): Judgement {
  return {
    rule: { approvers: spec.approvers, minApprovals: spec.minApprovals ?? 1, grantMs: parseDuration(spec.grantTTL) ?? DEFAULT_GRANT_MS },
    requester: { caller: spec.requester.caller.username, effective: spec.requester.effective?.username },
  };
}

export type NotCounted = 'not an approval' | 'by the requester' | 'not a listed approver' | 'dated ahead of the clock' | 'dated after the request expired';

/** Why a decision does not count as an approval of this request, or undefined when it does. */
export function whyNotCounted(decision: ApprovalDecision, judged: Judgement & { readonly expiresAt: string }, now: Date): NotCounted | undefined {
  const { rule, requester } = judged;
  if (decision.decision !== 'Approve') return 'not an approval';
  if (decision.by === requester.caller || decision.by === requester.effective) return 'by the requester';
  const listed = rule.approvers.users?.includes(decision.by) === true
    || (decision.groups ?? []).some((g) => rule.approvers.groups?.includes(g) === true);
  if (!listed) return 'not a listed approver';
  const at = Date.parse(decision.at);
  if (!Number.isFinite(at) || at > now.getTime() + MAX_CLOCK_SKEW_MS) return 'dated ahead of the clock';
  if (at > Date.parse(judged.expiresAt) + MAX_CLOCK_SKEW_MS) return 'dated after the request expired';
  return undefined;
}

/** The approvals that count, one per reviewer, in the order they were made. */
export function countedApprovals(ar: ApprovalRequestObject, judged: Judgement, now: Date): ApprovalDecision[] {
  const seen = new Set<string>();
  const counted: ApprovalDecision[] = [];
  for (const d of ar.status?.decisions ?? []) {
    if (seen.has(d.by) || whyNotCounted(d, { ...judged, expiresAt: ar.spec.expiresAt }, now) !== undefined) continue;
    seen.add(d.by);
    counted.push(d);
  }
  return counted;
}

/**
 * The grant window: from the decision that completed the approval, for grantTTL, within the window
 * the operator observed (when it has written one). Each writer can only shorten it.
 */
export function grantWindow(quorum: ApprovalDecision, grant: NonNullable<ApprovalRequestObject['status']>['grant'], grantMs: number): GrantWindow {
  const at = Date.parse(quorum.at);
  let window = { notBefore: at, notAfter: at + grantMs };
  if (grant?.notBefore !== undefined || grant?.notAfter !== undefined) {
    // A grant with a missing or unreadable end is no window at all: fail closed.
    const observedStart = Date.parse(grant.notBefore ?? '');
    const observedEnd = Date.parse(grant.notAfter ?? '');
    const start = Number.isFinite(observedStart) ? observedStart : Number.POSITIVE_INFINITY;
    window = { notBefore: Math.max(window.notBefore, start), notAfter: Math.min(window.notAfter, start + grantMs, Number.isFinite(observedEnd) ? observedEnd : 0) };
  }
  return window;
}

function approvedState(ar: ApprovalRequestObject, approvals: readonly ApprovalDecision[], judged: Judgement, now: Date): ApprovalState {
  const quorum = approvals[judged.rule.minApprovals - 1] ?? approvals.at(-1);
  if (quorum === undefined || ar.status?.phase === 'Expired') return { state: 'expired', what: 'grant' };
  const window = grantWindow(quorum, ar.status?.grant, judged.rule.grantMs);
  const t = now.getTime();
  if (window.notAfter <= window.notBefore || t >= window.notAfter) return { state: 'expired', what: 'grant' };
  // Not yet valid (beyond clock skew): keep waiting rather than use it early.
  if (t < window.notBefore - MAX_CLOCK_SKEW_MS) return { state: 'pending' };
  return { state: 'approved', approvals, window };
}

/**
 * Where a request stands at `now`, judged by `judged` (by default its own settings). A final phase
 * the operator or gateway set (Consumed, Denied, Expired) is believed, since each only refuses; an
 * Approved phase is not: the decisions must approve.
 */
export function approvalState(ar: ApprovalRequestObject, now: Date, judged: Judgement = judgementOf(ar.spec)): ApprovalState {
  const phase = ar.status?.phase;
  if (phase === 'Consumed') return { state: 'consumed' };
  const decisions = ar.status?.decisions ?? [];
  const deny = decisions.find((d) => d.decision === 'Deny');
  if (deny !== undefined) return { state: 'denied', by: deny.by, reason: deny.reason ?? '' };
  if (phase === 'Denied') return { state: 'denied', by: 'a reviewer', reason: '' };
  const approvals = countedApprovals(ar, judged, now);
  if (approvals.length >= judged.rule.minApprovals) return approvedState(ar, approvals, judged, now);
  if (phase === 'Expired' || Date.parse(ar.spec.expiresAt) <= now.getTime()) return { state: 'expired', what: 'request' };
  return { state: 'pending' };
}
