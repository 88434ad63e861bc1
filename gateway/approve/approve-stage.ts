// The approval stage: a request a RequireApproval rule holds becomes an ApprovalRequest (or finds
// the one already made for the same request by the same identities, under the same gateway and
// rule), then either waits for the decision (mode Wait: the connection stays open, the object is
// watched over a connection of its own) or is refused at once with the command that approves it
// (mode Reject: the same request succeeds on retry once approved). Before it uses any grant the
// gateway judges the stored decisions against the rule itself (approval-state.ts): the phase
// another writer set is never enough. An approved grant is consumed with optimistic concurrency,
// re-read and retried when another writer (the operator) changed the object in between, so it is
// used once, by the exact request it was granted for, across any number of gateway replicas.
import type { AuthenticatedCaller, UserInfo } from '../../core/identity.ts';
import type { MaskRule } from '../mask/json-masker.ts';
import type { ApprovalSettings, Decision, PolicyRef, RequestAttributes } from '../../core/policy/model.ts';
import type { ReadBody } from '../parse/request-body.ts';
import { approvalForbidden, entityTooLarge, tooManyRequests, type Status } from '../status.ts';
import { ApprovalApiError, type ApprovalApi } from './approval-api.ts';
import { approvalRequestName, attemptOf, bodyDigest, buildApprovalRequest, fingerprint, fingerprintLabel } from './approval-request.ts';
import { type ApprovalDecision, type ApprovalRequestObject } from '../../core/approval/approval-object.ts';
import { approvalState, type ApprovalState } from '../../core/approval/approval-state.ts';
import { bindingMismatch, judgementFor, type GrantExpectation } from './grant-binding.ts';
import type { HeldRequests } from './held-requests.ts';
import { describeBody, summarize } from './request-changes.ts';

export interface ApprovalContext {
  readonly request: RequestAttributes;
  readonly method: string;
  /** Path and query as sent. */
  readonly target: string;
  /** The Content-Type header as sent (part of what is approved: a merge patch is not a strategic one). */
  readonly contentType: string | undefined;
  readonly caller: AuthenticatedCaller;
  readonly effective: UserInfo;
  readonly decision: Decision;
  readonly body: ReadBody | undefined;
  readonly auditID: string;
  /** Aborted when the client goes away: a waiting request stops waiting. */
  readonly signal: AbortSignal;
}

type Ref = { readonly namespace: string; readonly name: string };

export type ApprovalOutcome =
  | { readonly ok: true; readonly approvalRequest: Ref; readonly warning?: string }
  | { readonly ok: false; readonly status: Status; readonly approvalRequest?: Ref };

export interface ApproveStageDeps {
  readonly api: ApprovalApi;
  readonly gateway: { readonly name: string; readonly namespace: string };
  /** The response's mask rules for this request: the ApprovalRequest shows the body masked the same way. */
  readonly maskRules: (request: RequestAttributes, decision: Decision) => readonly MaskRule[];
  /** The per-caller cap on requests held open (mode Wait). */
  readonly held: HeldRequests;
  readonly now?: () => Date;
}

/** Conflicting writes tolerated while consuming one grant (the operator writes phase and grant once or twice). */
export const MAX_CONSUME_CONFLICTS = 5;
/** Seconds a caller over the held-request cap is told to wait. */
const RETRY_HELD_AFTER_SECONDS = 10;

const NEWEST_FIRST = (a: ApprovalRequestObject, b: ApprovalRequestObject): number => Number(b.metadata.resourceVersion ?? 0) - Number(a.metadata.resourceVersion ?? 0);

/** One held request, as the stage works on it. */
interface Held {
  readonly ctx: ApprovalContext;
  readonly settings: ApprovalSettings;
  readonly expectation: GrantExpectation;
}

/** A grant that could not be used: why, as the state the object was last seen in. */
type Used = { readonly ok: true } | { readonly ok: false; readonly state: ApprovalState; readonly ar: ApprovalRequestObject };

class Stage {
  readonly deps: ApproveStageDeps;
  readonly now: () => Date;

  constructor(deps: ApproveStageDeps) {
    this.deps = deps;
    this.now = deps.now ?? (() => new Date());
  }

  ref(ar: ApprovalRequestObject): Ref {
    return { namespace: ar.metadata.namespace ?? this.deps.gateway.namespace, name: ar.metadata.name ?? '' };
  }

  /** Where the request stands, judged by the rule that holds it now, with this request's identities as the requester. */
  judge(ar: ApprovalRequestObject, held: Held): ApprovalState {
    const requester = { caller: held.ctx.caller.user.username, effective: held.ctx.effective.username };
    return approvalState(ar, this.now(), judgementFor(ar, held.settings, requester));
  }

  refusal(ar: ApprovalRequestObject, state: ApprovalState): ApprovalOutcome {
    const name = ar.metadata.name ?? '';
    const summary = ar.spec.request.summary;
    const command = `kubectl approve ${name} -n ${ar.metadata.namespace ?? this.deps.gateway.namespace}`;
    const message = state.state === 'denied'
      ? `denied by ${state.by}${state.reason === '' ? '' : `: ${state.reason}`} (ApprovalRequest ${name}: ${summary})`
      : state.state === 'expired'
        ? `the ${state.what === 'grant' ? 'approval' : 'approval request'} ${name} expired before it was used (${summary}); run the command again for a new request`
        : state.state === 'consumed'
          ? `the approval ${name} was already used (${summary}); run the command again for a new request`
          : `approval required (${summary}): ask an approver to run "${command}", then run the command again`;
    return { ok: false, status: approvalForbidden(message, ar.metadata.name), approvalRequest: this.ref(ar) };
  }

  /** Uses an approved grant: reusable grants stay, others are marked Consumed, re-read and retried on conflict. */
  async use(ar: ApprovalRequestObject, held: Held): Promise<Used> {
    if (held.settings.reusable === true && ar.spec.reusable === true) return { ok: true };
    let current = ar;
    for (let conflicts = 0; conflicts <= MAX_CONSUME_CONFLICTS; conflicts += 1) {
      try {
        await this.deps.api.consume(current, held.ctx.auditID, this.now());
        return { ok: true };
      } catch (error) {
        if (!(error instanceof ApprovalApiError && error.status === 409)) throw error;
      }
      // Someone wrote in between (the operator setting phase and grant, another replica consuming):
      // read again and judge again; only a grant still approved is tried once more.
      const { namespace, name } = this.ref(current);
      current = await this.deps.api.get(namespace, name);
      const state = this.judge(current, held);
      if (state.state !== 'approved') return { ok: false, state, ar: current };
    }
    return { ok: false, state: { state: 'pending' }, ar: current };
  }

  /** An existing request for this exact request under this rule: an approved one is used, a pending one reused. */
  async existing(held: Held): Promise<{ outcome?: ApprovalOutcome; pending?: ApprovalRequestObject; names: readonly string[] }> {
    const all = await this.deps.api.findByFingerprint(this.deps.gateway.namespace, fingerprintLabel(held.expectation.fingerprint));
    const names = all.map((ar) => ar.metadata.name ?? '');
    const found = all.filter((ar) => bindingMismatch(ar, held.expectation) === undefined).sort(NEWEST_FIRST);
    for (const ar of found) {
      const state = this.judge(ar, held);
      if (state.state === 'approved') {
        const used = await this.use(ar, held);
        if (used.ok) return { outcome: { ok: true, approvalRequest: this.ref(ar), warning: approvedWarning(ar, state.approvals) }, names };
        if (used.state.state === 'pending') return { pending: used.ar, names };
      }
      if (state.state === 'pending') return { pending: ar, names };
    }
    return { names };
  }

  async wait(ar: ApprovalRequestObject, held: Held): Promise<ApprovalOutcome> {
    const deadline = Date.parse(ar.spec.expiresAt) - this.now().getTime();
    const signal = AbortSignal.any([held.ctx.signal, AbortSignal.timeout(Math.max(1, deadline))]);
    const settled = await this.deps.api.watch(ar, (next) => this.judge(next, held).state !== 'pending', signal);
    const state = this.judge(settled, held);
    if (state.state === 'approved') {
      const used = await this.use(settled, held);
      if (used.ok) return { ok: true, approvalRequest: this.ref(settled), warning: approvedWarning(settled, state.approvals) };
      return this.refusal(used.ar, used.state);
    }
    if (state.state === 'pending') return this.refusal(settled, held.ctx.signal.aborted ? state : { state: 'expired', what: 'request' });
    return this.refusal(settled, state);
  }

  /**
   * Creates the request's ApprovalRequest under its derived name (the next attempt after those
   * `taken`). A conflict means another replica or a concurrent retry created it first: that one
   * is this request's, and is used instead of a second.
   */
  async create(held: Held, digest: string, policy: PolicyRef, taken: readonly string[]): Promise<ApprovalRequestObject> {
    const { ctx } = held;
    const naming = { verb: ctx.request.verb, resource: ctx.request.resource, fingerprint: held.expectation.fingerprint, policy };
    const first = approvalRequestName({ ...naming, attempt: 0 });
    const attempt = Math.max(-1, ...taken.map((n) => attemptOf(n, first) ?? -1)) + 1;
    const name = approvalRequestName({ ...naming, attempt });
    try {
      return await this.deps.api.create(this.build(held, { digest, policy, name }));
    } catch (error) {
      if (!(error instanceof ApprovalApiError && error.status === 409)) throw error;
      return this.deps.api.get(this.deps.gateway.namespace, name);
    }
  }

  build(held: Held, input: { digest: string; policy: PolicyRef; name: string }): Record<string, unknown> {
    const { ctx } = held;
    const { digest, policy, name } = input;
    const contentType = ctx.contentType ?? '';
    const body = ctx.body?.complete === true ? ctx.body.body : Buffer.alloc(0);
    const described = describeBody({ body, contentType, rules: this.deps.maskRules(ctx.request, ctx.decision) });
    return buildApprovalRequest({
      gateway: this.deps.gateway, request: ctx.request, caller: ctx.caller, effective: ctx.effective, policy, settings: held.settings,
      bodyDigest: digest, contentType, fingerprint: held.expectation.fingerprint, summary: summarize(ctx.request, described), described, now: this.now(), name,
    });
  }

  async approve(ctx: ApprovalContext): Promise<ApprovalOutcome> {
    const settings = ctx.decision.approval;
    const policy = ctx.decision.matched;
    if (settings === undefined || policy === undefined) {
      return { ok: false, status: approvalForbidden(`approval required by ${ctx.decision.reason}, but the rule names no approvers`, undefined) };
    }
    if (ctx.body !== undefined && !ctx.body.complete) {
      return { ok: false, status: entityTooLarge('the request body is too large to be held for approval') };
    }
    const { gateway } = this.deps;
    const digest = bodyDigest(ctx.body?.complete === true ? ctx.body.body : Buffer.alloc(0));
    const print = fingerprint({
      gateway: `${gateway.namespace}/${gateway.name}`, caller: ctx.caller.user, effective: ctx.effective,
      method: ctx.method, target: ctx.target, contentType: ctx.contentType ?? '', bodyDigest: digest,
    });
    const held: Held = { ctx, settings, expectation: { gateway: gateway.name, fingerprint: print, policy, settings } };
    const found = await this.existing(held);
    if (found.outcome !== undefined) return found.outcome;
    if ((settings.mode ?? 'Wait') === 'Reject') return this.refusal(found.pending ?? await this.create(held, digest, policy, found.names), { state: 'pending' });
    const release = this.deps.held.acquire(ctx.caller.user.username);
    if (release === undefined) {
      const message = `${ctx.caller.user.username} already has ${this.deps.held.max} requests held for approval at this gateway (approvals.maxHeldPerCaller); wait for a decision on one of them, then run the command again`;
      return { ok: false, status: tooManyRequests(RETRY_HELD_AFTER_SECONDS, message) };
    }
    try {
      return await this.wait(found.pending ?? await this.create(held, digest, policy, found.names), held);
    } finally {
      release();
    }
  }
}

export function createApproveStage(deps: ApproveStageDeps): (ctx: ApprovalContext) => Promise<ApprovalOutcome> {
  const stage = new Stage(deps);
  return (ctx) => stage.approve(ctx);
}

/**
 * What the caller is told when its held request finally runs (a `Warning` header, which kubectl
 * prints on stderr): who approved it, how long the decision took, and the ApprovalRequest.
 */
export function approvedWarning(ar: ApprovalRequestObject, approvals: readonly ApprovalDecision[]): string {
  const by = [...new Set(approvals.map((d) => d.by))].join(', ');
  const created = Date.parse(ar.metadata.creationTimestamp ?? '');
  const decided = Date.parse(approvals.at(-1)?.at ?? '');
  const after = Number.isFinite(created) && Number.isFinite(decided) ? ` after ${formatSeconds(Math.max(0, Math.round((decided - created) / 1000)))}` : '';
  return `approved by ${by}${after} (ApprovalRequest ${ar.metadata.name ?? ''} in ${ar.metadata.namespace ?? ''})`;
}

function formatSeconds(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 120 ? `${minutes}m${seconds % 60 === 0 ? '' : `${seconds % 60}s`}` : `${Math.floor(minutes / 60)}h${minutes % 60}m`;
}
