// The request pipeline, composed in one place: parse → authenticate → resolve identity → decide →
// audit (written before anything is forwarded) → forward → audit the outcome (durable before the response ends). Every stage is
// passed in, so this file reads like the diagram in the README and tests can swap any stage.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AuthenticatedCaller, UserInfo } from './authenticate/identity.ts';
import type { Decision, RequestAttributes } from './policy/model.ts';
import { forwardHttp, type ForwardOutcome } from './forward/http-forward.ts';
import { forwardUpgrade, rawResponseHead, type UpgradeOutcome } from './forward/upgrade-forward.ts';
import type { Upstream } from './upstream/upstream-client.ts';
import type { ReadBody } from './request-body.ts';
import type { ApprovalContext, ApprovalOutcome } from './approve/approve-stage.ts';
import { JsonMasker, type MaskRule } from './mask/json-masker.ts';
import { headersForMasking } from './mask/request-headers.ts';
import { tablesAllowed } from './mask/mask-plan.ts';
import { badRequest, notAcceptable, serviceUnavailable } from './status.ts';
import type { AuditSession } from './audit/record.ts';
import type { Capture, CaptureRequest, CaptureResult, CaptureStart } from './record/session-capture.ts';
import { commandLine, sessionTarget } from './record/session-target.ts';
import { portForwardTap, type PortForwardTap } from './record/port-forward-tap.ts';

/** A parsed request: policy attributes plus what forwarding needs to know. */
export interface ParsedRequest {
  readonly attributes: RequestAttributes;
  readonly longRunning: boolean;
}

/** A Kubernetes `Status` (or any JSON) answer with its HTTP code. */
export interface Answer {
  readonly code: number;
  readonly body: unknown;
}

export interface AuditEvent {
  readonly auditID: string;
  readonly stage: 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete';
  readonly req: IncomingMessage;
  readonly parsed?: ParsedRequest;
  readonly caller?: AuthenticatedCaller;
  readonly effective?: UserInfo;
  readonly decision?: Decision;
  readonly code?: number;
  readonly error?: string;
  readonly startedAt: Date;
  readonly latencyMs?: number;
  /** An upgraded connection that ended (exec, attach, port-forward), with its recording. */
  readonly session?: AuditSession;
  /** The request body as read before forwarding (RequestReceived at audit level Request). */
  readonly body?: ReadBody;
  /** The ApprovalRequest that held the request (its grant was consumed, or it refused). */
  readonly approvalRequest?: { readonly namespace: string; readonly name: string };
}

export interface PipelineStages {
  /** Throws a typed error the `answerFor` stage maps to 400. */
  parse(req: IncomingMessage): ParsedRequest;
  authenticate(req: IncomingMessage): Promise<AuthenticatedCaller>;
  /** The caller's limits (limits/request-limits.ts): a refusal (413, 429), or what to release when the request ends. */
  admitCaller(caller: AuthenticatedCaller, parsed: ParsedRequest, req: IncomingMessage): { readonly ok: true; readonly release: () => void } | { readonly ok: false; readonly answer: Answer };
  resolveIdentity(caller: AuthenticatedCaller, req: IncomingMessage): Promise<UserInfo>;
  /** undefined while policies are not synced: the gateway then refuses (fail closed). */
  decide(parsed: ParsedRequest, caller: AuthenticatedCaller, effective: UserInfo): Decision | undefined;
  /** Reads the body when a stage needs it before forwarding; undefined: it is streamed instead. */
  readBody(req: IncomingMessage, parsed: ParsedRequest, decision: Decision): Promise<ReadBody | undefined>;
  /** What to mask in the response ([]: nothing, the body is piped untouched). */
  maskRules(parsed: ParsedRequest, decision: Decision): readonly MaskRule[];
  /** For RequireApproval: waits for, or refuses pending, a human decision (approve/approve-stage.ts). */
  approve(context: ApprovalContext): Promise<ApprovalOutcome>;
  /** Resolves once the record is durable (FailClosed) or accepted (FailOpen); rejects to refuse. */
  audit(event: AuditEvent): Promise<void>;
  upstreamHeaders(req: IncomingMessage, effective: UserInfo, context: { auditID: string; caller: AuthenticatedCaller }): OutgoingHttpHeaders;
  /** Opens the recording of an exec or attach session (record/session-capture.ts), or refuses it. */
  startCapture(request: Omit<CaptureRequest, 'dir'>): Promise<CaptureStart>;
  /** Maps a failed stage or a refusal to the answer the client gets. */
  answerFor(problem: Refusal): Answer;
}

/** Why a request was not forwarded. */
export type Refusal =
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'decision'; readonly decision: Decision; readonly parsed: ParsedRequest; readonly effective: UserInfo }
  | { readonly kind: 'not-ready'; readonly what: string }
  | { readonly kind: 'upstream'; readonly code: 502 | 503 | 504; readonly message: string };

export interface PipelineObserver {
  /** `masked`: string values the masker replaced in the response. */
  finished(event: { decision: string; verb: string; code: number; latencyMs: number; upstreamMs?: number; longRunning: boolean; masked?: number }): void;
  /** An exec, attach or port-forward that ended, or was refused for want of a recording. */
  session?(event: { kind: string; recording: 'recorded' | 'unrecorded' | 'refused' | 'not-required' }): void;
}

interface Admitted {
  readonly parsed: ParsedRequest;
  readonly caller: AuthenticatedCaller;
  readonly effective: UserInfo;
  readonly decision: Decision;
  readonly body?: ReadBody;
  readonly approvalRequest?: { readonly namespace: string; readonly name: string };
}

type Admission = { readonly ok: true; readonly admitted: Admitted } | { readonly ok: false; readonly answer: Answer; readonly partial: Partial<Admitted> };

export interface Pipeline {
  handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void>;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
}

/** parse → authenticate → resolve identity → decide → (approve) → audit RequestReceived. */
async function admit(stages: PipelineStages, req: IncomingMessage, request: { auditID: string; startedAt: Date; signal: AbortSignal; onEnd: (release: () => void) => void }): Promise<Admission> {
  const { auditID, startedAt } = request;
  const partial: { -readonly [K in keyof Admitted]?: Admitted[K] } = {};
  try {
    partial.parsed = stages.parse(req);
    partial.caller = await stages.authenticate(req);
    const limited = stages.admitCaller(partial.caller, partial.parsed, req);
    if (!limited.ok) return { ok: false, answer: limited.answer, partial };
    request.onEnd(limited.release);
    partial.effective = await stages.resolveIdentity(partial.caller, req);
    const decision = stages.decide(partial.parsed, partial.caller, partial.effective);
    if (decision === undefined) return { ok: false, answer: stages.answerFor({ kind: 'not-ready', what: 'policies are not synced yet' }), partial };
    partial.decision = decision;
    if (decision.action === 'Deny') {
      return { ok: false, answer: stages.answerFor({ kind: 'decision', decision, parsed: partial.parsed, effective: partial.effective }), partial };
    }
    const body = await stages.readBody(req, partial.parsed, decision);
    let approvalRequest: Admitted['approvalRequest'];
    if (decision.action === 'RequireApproval') {
      const approval = await stages.approve({
        request: partial.parsed.attributes, method: req.method ?? 'GET', target: req.url ?? '/', caller: partial.caller, effective: partial.effective,
        decision, body, parsedBody: parsedJson(body), auditID, signal: request.signal,
      });
      if (!approval.ok) return { ok: false, answer: { code: approval.status.code, body: approval.status }, partial: { ...partial, ...(approval.approvalRequest === undefined ? {} : { approvalRequest: approval.approvalRequest }) } };
      approvalRequest = approval.approvalRequest;
    }
    const admitted: Admitted = {
      parsed: partial.parsed, caller: partial.caller, effective: partial.effective, decision,
      ...(body === undefined ? {} : { body }), ...(approvalRequest === undefined ? {} : { approvalRequest }),
    };
    // Nothing is forwarded that is not audited (FailClosed): a failed write refuses. The record is
    // written now and fsynced with the ResponseComplete record, before the response ends (ADR 0005).
    await stages.audit({ auditID, stage: 'RequestReceived', req, ...admitted, startedAt });
    return { ok: true, admitted };
  } catch (error) {
    return { ok: false, answer: stages.answerFor({ kind: 'error', error }), partial };
  }
}

/**
 * The abort reason when a client's connection closes. One shared value: `abort()` without a
 * reason builds a DOMException with a stack trace on every request.
 */
const CLIENT_GONE = Object.freeze(Object.assign(new Error('the client closed the connection'), { name: 'AbortError' }));

export function createPipeline(stages: PipelineStages, upstream: Upstream, observer?: PipelineObserver): Pipeline {
  async function refuse(req: IncomingMessage, refusal: { auditID: string; startedAt: Date; answer: Answer; partial: Partial<Admitted> }): Promise<void> {
    const { auditID, startedAt, answer, partial } = refusal;
    observer?.finished({ decision: partial.decision?.action.toLowerCase() ?? 'refused', verb: partial.parsed?.attributes.verb ?? 'unknown', code: answer.code, latencyMs: Date.now() - startedAt.getTime(), longRunning: false });
    // A refused request was not forwarded, so a failed audit write loses nothing downstream; it
    // is still reported by the audit stage's own metrics and logs.
    await stages.audit({ auditID, stage: 'ResponseComplete', req, ...partial, code: answer.code, startedAt, latencyMs: Date.now() - startedAt.getTime() }).catch(() => undefined);
  }

  return {
    async handleRequest(req, res) {
      const auditID = randomUUID();
      const startedAt = new Date();
      res.setHeader('audit-id', auditID);
      const gone = new AbortController();
      // Only a client that left before its answer was complete aborts (an approval wait listens).
      res.once('close', () => { if (!res.writableFinished) gone.abort(CLIENT_GONE); });
      const admission = await admit(stages, req, { auditID, startedAt, signal: gone.signal, onEnd: (release) => { afterClose(res, release); } });
      if (!admission.ok) {
        writeAnswer(res, admission.answer);
        await refuse(req, { auditID, startedAt, answer: admission.answer, partial: admission.partial });
        return;
      }
      const { parsed, caller, effective, decision } = admission.admitted;
      const masking = prepareMasking(stages.maskRules(parsed, decision), stages.upstreamHeaders(req, effective, { auditID, caller }), tablesAllowed(decision.mask));
      if ('refused' in masking) {
        writeAnswer(res, masking.refused);
        await refuse(req, { auditID, startedAt, answer: masking.refused, partial: admission.admitted });
        return;
      }
      const outcome = await forwardAndRecord(stages, upstream, { req, res, auditID, startedAt, admitted: admission.admitted, masking });
      observer?.finished({
        decision: 'allow', verb: parsed.attributes.verb, code: outcome.code, latencyMs: Date.now() - startedAt.getTime(),
        upstreamMs: outcome.upstreamLatencyMs, longRunning: parsed.longRunning, masked: masking.masker?.masked ?? 0,
      });
    },

    async handleUpgrade(req, socket, head) {
      const auditID = randomUUID();
      const startedAt = new Date();
      socket.on('error', () => socket.destroy());
      const gone = new AbortController();
      socket.once('close', () => { gone.abort(CLIENT_GONE); });
      const admission = await admit(stages, req, { auditID, startedAt, signal: gone.signal, onEnd: (release) => { afterClose(socket, release); } });
      if (!admission.ok) {
        writeRawAnswer(socket, admission.answer, auditID);
        await refuse(req, { auditID, startedAt, answer: admission.answer, partial: admission.partial });
        return;
      }
      const { parsed, caller, effective, decision } = admission.admitted;
      const prepared = await prepareSession(stages, req, admission.admitted, auditID);
      if (!prepared.ok) {
        observer?.session?.({ kind: parsed.attributes.subresource, recording: 'refused' });
        writeRawAnswer(socket, prepared.answer, auditID);
        await refuse(req, { auditID, startedAt, answer: prepared.answer, partial: admission.admitted });
        return;
      }
      const outcome = await forwardUpgrade({
        req, socket, head, upstream, path: req.url ?? '/', headers: prepared.headers, tap: prepared.capture?.tap ?? prepared.portForward?.tap,
        fail: (code, message) => { writeRawAnswer(socket, stages.answerFor({ kind: 'upstream', code, message }), auditID); },
      });
      const session = auditSession(outcome, prepared, await prepared.capture?.finish());
      observer?.session?.({ kind: parsed.attributes.subresource, recording: sessionOutcome(session, prepared) });
      await stages.audit({
        auditID, stage: 'ResponseComplete', req, parsed, caller, effective, decision, code: outcome.code, startedAt,
        latencyMs: Date.now() - startedAt.getTime(), session,
        ...(outcome.upstreamError === undefined ? {} : { error: outcome.upstreamError }),
      }).catch(() => undefined);
      observer?.finished({ decision: 'allow', verb: parsed.attributes.verb, code: outcome.code, latencyMs: outcome.durationMs, longRunning: true });
    },
  };
}

/**
 * Forwards an admitted request and records its ResponseComplete: durable before the response's
 * last byte when it reaches its end (a failed write cuts the response), or afterwards, with why,
 * when it never does (the client left, e.g. a watch ended with ^C, or the upstream failed); nothing
 * is then left to refuse, so a failed write is only counted and logged by the audit stage.
 */
async function forwardAndRecord(stages: PipelineStages, upstream: Upstream, input: {
  req: IncomingMessage; res: ServerResponse; auditID: string; startedAt: Date; admitted: Admitted; masking: { headers: OutgoingHttpHeaders; masker?: JsonMasker };
}): Promise<ForwardOutcome> {
  const { req, res, auditID, startedAt, admitted, masking } = input;
  const { parsed, caller, effective, decision, body, approvalRequest } = admitted;
  const completion = (code: number, error?: string): AuditEvent => ({
    auditID, stage: 'ResponseComplete', req, parsed, caller, effective, decision, code, startedAt, latencyMs: Date.now() - startedAt.getTime(),
    ...(error === undefined ? {} : { error }), ...(approvalRequest === undefined ? {} : { approvalRequest }),
  });
  const progress = { recorded: false };
  const outcome = await forwardHttp({
    req, res, upstream, path: req.url ?? '/', longRunning: parsed.longRunning, ...(body === undefined ? {} : { body }),
    headers: masking.headers, ...(masking.masker === undefined ? {} : { rewriter: masking.masker }),
    fail: (code, message) => { writeAnswer(res, stages.answerFor({ kind: 'upstream', code, message })); },
    beforeEnd: async (code) => {
      progress.recorded = true;
      await stages.audit(completion(code));
    },
  });
  if (!progress.recorded) await stages.audit(completion(outcome.code, outcome.upstreamError ?? CLIENT_GONE.message)).catch(() => undefined);
  return outcome;
}

/** The `session` of the ResponseComplete record: traffic, ports, and the recording's outcome. */
function auditSession(outcome: UpgradeOutcome, prepared: Extract<PreparedSession, { ok: true }>, captured: CaptureResult | undefined): AuditSession {
  return {
    bytesIn: outcome.bytesIn, bytesOut: outcome.bytesOut, durationMs: Math.round(outcome.durationMs),
    ...(prepared.portForward === undefined ? {} : { ports: prepared.portForward.ports() }),
    ...(prepared.recordingError === undefined ? {} : { recordingError: prepared.recordingError }),
    ...captured,
  };
}

/** How a session's recording went, for the sessions metric. */
function sessionOutcome(session: AuditSession, prepared: { readonly capture?: Capture | undefined; readonly recordingError?: string | undefined }): 'recorded' | 'unrecorded' | 'not-required' {
  if (session.recording !== undefined && session.recordingError === undefined) return 'recorded';
  return prepared.capture === undefined && prepared.recordingError === undefined ? 'not-required' : 'unrecorded';
}

type PreparedSession =
  | { readonly ok: true; readonly headers: OutgoingHttpHeaders; readonly capture?: Capture | undefined; readonly recordingError?: string | undefined; readonly portForward?: PortForwardTap }
  | { readonly ok: false; readonly answer: Answer };

/** The upstream headers of an upgrade and, for exec and attach, its recording (or the refusal when it must be recorded and cannot be). */
async function prepareSession(stages: PipelineStages, req: IncomingMessage, admitted: Admitted, auditID: string): Promise<PreparedSession> {
  const { parsed, caller, effective, decision } = admitted;
  const headers = stages.upstreamHeaders(req, effective, { auditID, caller });
  const target = sessionTarget(parsed.attributes, req.url ?? '/');
  if (target.kind === 'portforward') return { ok: true, headers, portForward: portForwardTap(target.ports) };
  if (target.kind === 'other') return { ok: true, headers };
  const impersonating = effective.username !== caller.user.username;
  const start = await stages.startCapture({
    mode: decision.recording ?? 'Optional',
    rule: decision.matched === undefined ? 'this gateway' : `rule "${decision.matched.rule}" of AccessPolicy ${decision.matched.namespace}/${decision.matched.name}`,
    metadata: {
      auditID, user: caller.user.username, ...(impersonating ? { effectiveUser: effective.username } : {}),
      namespace: parsed.attributes.namespace, pod: parsed.attributes.name, ...(target.container === undefined ? {} : { container: target.container }),
      subresource: target.kind, tty: target.tty, stdin: target.stdin,
    },
    command: target.command.length === 0 ? undefined : commandLine(target.command),
    maskPatterns: decision.mask?.sessionPatterns,
    headers,
  });
  if (!start.ok) return { ok: false, answer: { code: start.code, body: start.code === 503 ? serviceUnavailable(start.message) : badRequest(start.message) } };
  return { ok: true, headers: start.headers, capture: start.capture, recordingError: start.recordingError };
}

/** Runs `release` once the response or upgraded socket has closed (at once if it already has). */
function afterClose(stream: { readonly destroyed: boolean; once(event: 'close', listener: () => void): unknown }, release: () => void): void {
  if (stream.destroyed) release();
  else stream.once('close', release);
}

/** A Status's retry delay, sent as `Retry-After` too (as the API server's response writers do). */
function retryAfter(answer: Answer): string | undefined {
  const seconds = (answer.body as { details?: { retryAfterSeconds?: unknown } } | null)?.details?.retryAfterSeconds;
  return typeof seconds === 'number' && seconds > 0 ? String(seconds) : undefined;
}

function writeAnswer(res: ServerResponse, answer: Answer): void {
  if (res.headersSent) { res.destroy(); return; }
  const body = JSON.stringify(answer.body);
  const retry = retryAfter(answer);
  res.writeHead(answer.code, {
    'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...(retry === undefined ? {} : { 'retry-after': retry }),
  });
  res.end(body);
}

const REASON_PHRASES: Readonly<Record<number, string>> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 413: 'Content Too Large', 429: 'Too Many Requests', 503: 'Service Unavailable' };

function writeRawAnswer(socket: Duplex, answer: Answer, auditID: string): void {
  const body = JSON.stringify(answer.body);
  const retry = retryAfter(answer);
  socket.end(rawResponseHead(answer.code, REASON_PHRASES[answer.code] ?? 'Error', [
    'Content-Type', 'application/json', 'Content-Length', String(Buffer.byteLength(body)), 'Audit-Id', auditID, 'Connection', 'close',
    ...(retry === undefined ? [] : ['Retry-After', retry]),
  ]) + body);
}

/** The body as JSON, for the approval summary; undefined when absent or not JSON. */
function parsedJson(body: ReadBody | undefined): unknown {
  if (body?.complete !== true || body.body.length === 0) return undefined;
  try {
    return JSON.parse(body.body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** The upstream headers and the response's masker when masking applies, or the 406 refusal. */
function prepareMasking(rules: readonly MaskRule[], headers: OutgoingHttpHeaders, tables: boolean): { headers: OutgoingHttpHeaders; masker?: JsonMasker } | { refused: Answer } {
  if (rules.length === 0) return { headers };
  const masked = headersForMasking(headers, { tables });
  if (masked === undefined) {
    const status = notAcceptable('this response is masked, which needs JSON: ask for application/json (kubectl does); protobuf-only clients are refused');
    return { refused: { code: status.code, body: status } };
  }
  return { headers: masked, masker: new JsonMasker(rules) };
}
