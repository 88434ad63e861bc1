// The approval stage: a request a RequireApproval rule holds becomes an ApprovalRequest (or finds
// the one already made for the same request by the same identities), then either waits for the
// decision (mode Wait: the connection stays open, the object is watched) or is refused at once with
// the command that approves it (mode Reject: the same request succeeds on retry once approved).
// An approved grant is consumed with optimistic concurrency before the request goes on, so it is
// used once, by the exact request it was granted for, across any number of gateway replicas.
import type { AuthenticatedCaller, UserInfo } from '../authenticate/identity.ts';
import type { Decision, RequestAttributes } from '../policy/model.ts';
import type { ReadBody } from '../request-body.ts';
import { approvalForbidden, entityTooLarge, type Status } from '../status.ts';
import { ApprovalApiError, type ApprovalApi } from './approval-api.ts';
import {
  approvalState, bodyDigest, buildApprovalRequest, fingerprint, fingerprintLabel, summarize,
  type ApprovalRequestObject, type ApprovalState,
} from './approval-request.ts';

export interface ApprovalContext {
  readonly request: RequestAttributes;
  readonly method: string;
  /** Path and query as sent. */
  readonly target: string;
  readonly caller: AuthenticatedCaller;
  readonly effective: UserInfo;
  readonly decision: Decision;
  readonly body: ReadBody | undefined;
  /** The parsed body, for the summary (undefined when not JSON). */
  readonly parsedBody: unknown;
  readonly auditID: string;
  /** Aborted when the client goes away: a waiting request stops waiting. */
  readonly signal: AbortSignal;
}

export type ApprovalOutcome =
  | { readonly ok: true; readonly approvalRequest: { readonly namespace: string; readonly name: string } }
  | { readonly ok: false; readonly status: Status; readonly approvalRequest?: { readonly namespace: string; readonly name: string } };

export interface ApproveStageDeps {
  readonly api: ApprovalApi;
  readonly gateway: { readonly name: string; readonly namespace: string };
  readonly now?: () => Date;
}

const NEWEST_FIRST = (a: ApprovalRequestObject, b: ApprovalRequestObject): number => Number(b.metadata.resourceVersion ?? 0) - Number(a.metadata.resourceVersion ?? 0);

export function createApproveStage(deps: ApproveStageDeps): (ctx: ApprovalContext) => Promise<ApprovalOutcome> {
  const now = deps.now ?? (() => new Date());
  const ref = (ar: ApprovalRequestObject): { namespace: string; name: string } => ({ namespace: ar.metadata.namespace ?? deps.gateway.namespace, name: ar.metadata.name ?? '' });
  const command = (ar: ApprovalRequestObject): string => `kubectl approve ${ar.metadata.name ?? ''} -n ${ar.metadata.namespace ?? deps.gateway.namespace}`;

  /** Consumes the grant (reusable grants are not consumed); undefined if another writer used it first. */
  async function consume(ar: ApprovalRequestObject, ctx: ApprovalContext): Promise<ApprovalOutcome | undefined> {
    if (ctx.decision.approval?.reusable === true) return { ok: true, approvalRequest: ref(ar) };
    try {
      await deps.api.consume(ar, ctx.auditID, now());
      return { ok: true, approvalRequest: ref(ar) };
    } catch (error) {
      if (error instanceof ApprovalApiError && error.status === 409) return undefined;
      throw error;
    }
  }

  function refusal(ar: ApprovalRequestObject, state: ApprovalState): ApprovalOutcome {
    const summary = ar.spec.request.summary;
    const message = state.state === 'denied'
      ? `denied by ${state.by}${state.reason === '' ? '' : `: ${state.reason}`} (ApprovalRequest ${ar.metadata.name ?? ''}: ${summary})`
      : state.state === 'expired'
        ? `the ${state.what === 'grant' ? 'approval' : 'approval request'} ${ar.metadata.name ?? ''} expired before it was used (${summary}); run the command again for a new request`
        : state.state === 'consumed'
          ? `the approval ${ar.metadata.name ?? ''} was already used (${summary}); run the command again for a new request`
          : `approval required (${summary}): ask an approver to run "${command(ar)}", then run the command again`;
    return { ok: false, status: approvalForbidden(message, ar.metadata.name), approvalRequest: ref(ar) };
  }

  /** An existing, usable request for this fingerprint: approved (consumed here) or still pending. */
  async function existing(print: string, ctx: ApprovalContext): Promise<{ outcome?: ApprovalOutcome; pending?: ApprovalRequestObject }> {
    const found = (await deps.api.findByFingerprint(deps.gateway.namespace, fingerprintLabel(print)))
      .filter((ar) => ar.spec.request.fingerprint === print && ar.spec.requester.caller.username === ctx.caller.user.username)
      .sort(NEWEST_FIRST);
    for (const ar of found) {
      const state = approvalState(ar, now());
      if (state.state === 'approved') {
        const used = await consume(ar, ctx);
        if (used !== undefined) return { outcome: used };
      }
      if (state.state === 'pending') return { pending: ar };
    }
    return {};
  }

  async function wait(ar: ApprovalRequestObject, ctx: ApprovalContext): Promise<ApprovalOutcome> {
    const deadline = Date.parse(ar.spec.expiresAt) - now().getTime();
    const timer = AbortSignal.timeout(Math.max(1, deadline));
    const signal = AbortSignal.any([ctx.signal, timer]);
    const settled = await deps.api.watch(ar, (next) => approvalState(next, now()).state !== 'pending', signal);
    const state = approvalState(settled, now());
    if (state.state === 'approved') {
      const used = await consume(settled, ctx);
      if (used !== undefined) return used;
      return refusal(settled, { state: 'consumed' });
    }
    if (state.state === 'pending') {
      return refusal(settled, ctx.signal.aborted ? state : { state: 'expired', what: 'request' });
    }
    return refusal(settled, state);
  }

  return async (ctx) => {
    const settings = ctx.decision.approval;
    const matched = ctx.decision.matched;
    if (settings === undefined || matched === undefined) {
      return { ok: false, status: approvalForbidden(`approval required by ${ctx.decision.reason}, but the rule names no approvers`, undefined) };
    }
    if (ctx.body !== undefined && !ctx.body.complete) {
      return { ok: false, status: entityTooLarge('the request body is too large to be held for approval') };
    }
    const digest = bodyDigest(ctx.body?.complete === true ? ctx.body.body : Buffer.alloc(0));
    const print = fingerprint({ caller: ctx.caller.user.username, effective: ctx.effective.username, method: ctx.method, target: ctx.target, bodyDigest: digest });
    const found = await existing(print, ctx);
    if (found.outcome !== undefined) return found.outcome;
    const ar = found.pending ?? await deps.api.create(buildApprovalRequest({
      gateway: deps.gateway, request: ctx.request, caller: ctx.caller, effective: ctx.effective, policy: matched, settings,
      bodyDigest: digest, fingerprint: print, summary: summarize(ctx.request, ctx.parsedBody), now: now(),
    }));
    if ((settings.mode ?? 'Wait') === 'Reject') return refusal(ar, { state: 'pending' });
    return wait(ar, ctx);
  };
}
