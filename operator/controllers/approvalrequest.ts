// The ApprovalRequest controller: one reconcile function that moves phase and the grant window from
// the reviewers' decisions and the time (approval-phase.ts decides; this file applies), tells people
// through Kubernetes Events (and an optional Slack-compatible webhook), and removes finished
// requests after the retention period. It writes only status (never the decisions) and deletes.
import type { Logger } from 'pino';
import type { ReconcileResult } from '../../core/runtime/controller.ts';
import { parseKey } from '../../core/runtime/object-key.ts';
import { httpStatusOf, isNotFound } from '../../core/runtime/api-errors.ts';
import { logEventFailure } from './event-failure.ts';
import { planApprovalRequest, type ApprovalRequestWithMeta, type PhaseEvent, type PhasePlan } from './approval-phase.ts';
import { APPROVALREQUEST_PLURAL, GROUP, VERSION } from '../../crds/types.gen.ts';

export const APPROVAL_REQUEST = { group: GROUP, version: VERSION, plural: APPROVALREQUEST_PLURAL, kind: 'ApprovalRequest' } as const;

export interface ObjectRef {
  readonly namespace: string;
  readonly name: string;
}

export interface ApprovalMetrics {
  pending(count: number): void;
  decided(seconds: number): void;
}

export interface ApprovalReconcileDeps {
  readonly get: (key: string) => ApprovalRequestWithMeta | undefined;
  /** Every cached request, for the pending gauge. */
  readonly all: () => readonly ApprovalRequestWithMeta[];
  readonly writeStatus: (ref: ObjectRef, status: NonNullable<PhasePlan['status']>) => Promise<unknown>;
  /** The live object's resourceVersion (a GET, not the cache), to tell a stale view from a real refusal. */
  readonly liveVersion?: (ref: ObjectRef) => Promise<string | undefined>;
  readonly remove: (ref: ObjectRef) => Promise<unknown>;
  readonly recordEvent: (ar: ApprovalRequestWithMeta, event: PhaseEvent) => Promise<unknown>;
  /** Optional: tells approvers elsewhere (e.g. Slack); failures are logged, never retried forever. */
  readonly notify?: (ar: ApprovalRequestWithMeta, event: PhaseEvent) => Promise<unknown>;
  readonly metrics?: ApprovalMetrics;
  readonly now: () => Date;
  readonly retentionMs: number;
  readonly log: Logger;
}

function countPending(all: readonly ApprovalRequestWithMeta[]): number {
  return all.filter((ar) => ar.status?.phase === undefined || ar.status.phase === 'Pending').length;
}

/** A refused write (409, or admission's 422) of an object that has changed since the cache saw it. */
async function movedOn(error: unknown, ar: ApprovalRequestWithMeta, target: ObjectRef, deps: ApprovalReconcileDeps): Promise<boolean> {
  const status = httpStatusOf(error);
  if ((status !== 409 && status !== 422) || deps.liveVersion === undefined) return false;
  const live = await deps.liveVersion(target).catch(() => undefined);
  return live !== undefined && live !== ar.metadata.resourceVersion;
}

export async function reconcileApprovalRequest(key: string, deps: ApprovalReconcileDeps): Promise<ReconcileResult> {
  const ar = deps.get(key);
  deps.metrics?.pending(countPending(deps.all()));
  if (ar === undefined) return {};
  const ref = parseKey(key);
  const target = { namespace: ref.namespace ?? '', name: ref.name };
  const plan = planApprovalRequest(ar, deps.now(), deps.retentionMs);
  if (plan.remove) {
    await deps.remove(target).catch((error: unknown) => { if (!isNotFound(error)) throw error; });
    deps.log.info({ approvalRequest: key }, 'removed a finished ApprovalRequest after its retention period');
    return {};
  }
  if (plan.status !== undefined) {
    try {
      await deps.writeStatus(target, plan.status);
    } catch (error) {
      if (!await movedOn(error, ar, target, deps)) throw error;
      // Expected: a gateway consumed the grant (or a reviewer decided) after the cache was read,
      // and admission refused a phase move from the stale view. The change's event brings the
      // object back here with the current view.
      deps.log.debug({ approvalRequest: key }, 'ApprovalRequest changed since it was read; reconciling again on its event');
      return {};
    }
  }
  // Events after the status write: a failed write is retried, and its events come with the retry.
  for (const event of plan.events) {
    await deps.recordEvent(ar, event).catch((error: unknown) => { logEventFailure(deps.log, error, { approvalRequest: key }); });
    if (deps.notify !== undefined && event.reason === 'Requested') {
      await deps.notify(ar, event).catch((error: unknown) => { deps.log.warn({ err: error, approvalRequest: key }, 'approval notification webhook failed'); });
    }
  }
  if (plan.decidedAfterSeconds !== undefined && Number.isFinite(plan.decidedAfterSeconds)) deps.metrics?.decided(plan.decidedAfterSeconds);
  return plan.requeueAfterMs === undefined ? {} : { requeueAfterMs: plan.requeueAfterMs };
}

/** A Slack-compatible incoming-webhook body: `{"text": ...}`. */
export function slackMessage(ar: ApprovalRequestWithMeta, event: PhaseEvent): { text: string } {
  return { text: `Airlock approval needed in ${ar.metadata.namespace ?? ''}: ${event.message}` };
}
