// Where an ApprovalRequest should stand, as a pure function of the object and the time: its phase
// and grant window from the reviewers' decisions, judged by the request's own approval settings
// (core/approval/approval-state.ts; the admission policy vouches for who wrote each decision),
// expiry of pending requests and of unused grants, and removal after the retention period. The
// grant window starts when the operator observes the approval, on its own clock: the `at` a
// reviewer writes can end it sooner, never start or stretch it later. The reconciler writes the
// result and emits the events; nothing here touches the API.
import type { ApprovalDecision, ApprovalRequestObject } from '../../core/approval/approval-object.ts';
import { approvalState, type GrantWindow } from '../../core/approval/approval-state.ts';

export type Phase = 'Pending' | 'Approved' | 'Denied' | 'Expired' | 'Consumed';

export interface PhaseEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: 'Requested' | 'Approved' | 'Denied' | 'Expired';
  readonly message: string;
}

export interface PhasePlan {
  /** The status fields to merge, when they change (decisions are never written). */
  readonly status?: { readonly phase: Phase; readonly grant?: { readonly notBefore: string; readonly notAfter: string } };
  readonly events: readonly PhaseEvent[];
  /** Retention is over: delete the object. */
  readonly remove: boolean;
  /** When the plan next changes by itself (expiry, end of a grant, end of retention). */
  readonly requeueAfterMs?: number;
  /** For the time-to-decision metric: seconds from creation to the deciding decision. */
  readonly decidedAfterSeconds?: number;
}

export interface ApprovalRequestWithMeta extends ApprovalRequestObject {
  readonly metadata: ApprovalRequestObject['metadata'] & { readonly creationTimestamp?: string | Date };
}

const TERMINAL: ReadonlySet<string> = new Set(['Denied', 'Expired', 'Consumed']);
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function describe(ar: ApprovalRequestObject): string {
  const who = ar.spec.requester.effective === undefined
    ? ar.spec.requester.caller.username
    : `${ar.spec.requester.caller.username} (as ${ar.spec.requester.effective.username})`;
  return `${who}: ${ar.spec.request.summary}`;
}

function createdMs(ar: ApprovalRequestWithMeta): number {
  const created = ar.metadata.creationTimestamp;
  return created === undefined ? Number.NaN : new Date(created).getTime();
}

interface OpenContext {
  readonly ar: ApprovalRequestWithMeta;
  readonly now: Date;
  readonly phase: Phase | undefined;
  /** "Requested", once, when the request is first seen. */
  readonly requested: readonly PhaseEvent[];
}

/** Seconds from creation to when the operator saw the decision (its own clock, not a reviewer's `at`). */
function decidedAfter(ar: ApprovalRequestWithMeta, observed: Date): { decidedAfterSeconds?: number } {
  return { decidedAfterSeconds: (observed.getTime() - createdMs(ar)) / 1000 };
}

function approvedPlan({ ar, now, phase, requested }: OpenContext, approved: { approvals: readonly ApprovalDecision[]; window: GrantWindow }): PhasePlan {
  const approval = approved.approvals.at(-1);
  // First observed now: the window starts now and ends no later than grantTTL from now (or
  // sooner, when the decision's own time says so). Once written, the window stays as written.
  const grantMs = approved.window.notAfter - approved.window.notBefore;
  const window = phase === 'Approved' ? approved.window : { notBefore: now.getTime(), notAfter: Math.min(approved.window.notAfter, now.getTime() + grantMs) };
  const requeueAfterMs = Math.max(1000, window.notAfter - now.getTime());
  if (phase === 'Approved') return { events: [], remove: false, requeueAfterMs };
  const reason = approval?.reason === undefined || approval.reason === '' ? '' : `: ${approval.reason}`;
  return {
    status: { phase: 'Approved', grant: { notBefore: iso(window.notBefore), notAfter: iso(window.notAfter) } },
    events: [...requested, { type: 'Normal', reason: 'Approved', message: `approved by ${approval?.by ?? 'a reviewer'}${reason} (${describe(ar)})` }],
    remove: false, requeueAfterMs, ...decidedAfter(ar, now),
  };
}

/** The plan for a request that is still open (no phase yet, Pending or Approved). */
function openPlan(ar: ApprovalRequestWithMeta, now: Date): PhasePlan {
  const phase = ar.status?.phase;
  const name = ar.metadata.name ?? '';
  const requested: PhaseEvent[] = phase === undefined
    ? [{ type: 'Normal', reason: 'Requested', message: `${describe(ar)}; approve with: kubectl approve ${name} -n ${ar.metadata.namespace ?? ''}` }]
    : [];
  const state = approvalState(ar, now);
  switch (state.state) {
    case 'pending':
      return { ...(phase === 'Pending' ? {} : { status: { phase: 'Pending' } }), events: requested, remove: false, requeueAfterMs: Math.max(1000, Date.parse(ar.spec.expiresAt) - now.getTime()) };
    case 'approved':
      return approvedPlan({ ar, now, phase, requested }, state);
    case 'denied':
      return {
        status: { phase: 'Denied' },
        events: [...requested, { type: 'Warning', reason: 'Denied', message: `denied by ${state.by}${state.reason === '' ? '' : `: ${state.reason}`} (${describe(ar)})` }],
        remove: false, ...decidedAfter(ar, now),
      };
    case 'expired':
      return {
        status: { phase: 'Expired' },
        events: [...requested, { type: 'Warning', reason: 'Expired', message: state.what === 'grant' ? `the approval was not used in time (${describe(ar)})` : `no decision in time (${describe(ar)})` }],
        remove: false,
      };
    case 'consumed':
      return { events: requested, remove: false };
  }
}

/**
 * The plan for one ApprovalRequest at `now`. Final phases (Denied, Expired, Consumed) are kept for
 * `retentionMs` after creation, then removed.
 */
export function planApprovalRequest(ar: ApprovalRequestWithMeta, now: Date, retentionMs: number): PhasePlan {
  const phase = ar.status?.phase;
  if (phase !== undefined && TERMINAL.has(phase)) {
    const left = createdMs(ar) + retentionMs - now.getTime();
    return left <= 0 ? { events: [], remove: true } : { events: [], remove: false, requeueAfterMs: left };
  }
  return openPlan(ar, now);
}
