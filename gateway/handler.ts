// The request pipeline, composed in one place: parse → authenticate → resolve identity → decide →
// audit (written before anything is forwarded) → forward → audit the outcome (durable before the response ends). Every stage is
// passed in, so this file reads like the diagram in the README and tests can swap any stage.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AuthenticatedCaller, UserInfo } from '../core/identity.ts';
import type { Decision, RequestAttributes } from '../core/policy/model.ts';
import { forwardHttp, type ForwardOutcome } from './forward/http-forward.ts';
import { forwardUpgrade, rawResponseHead, type UpgradeOutcome } from './forward/upgrade-forward.ts';
import type { Upstream } from './upstream/upstream-client.ts';
import type { ReadBody } from './parse/request-body.ts';
import type { ApprovalContext, ApprovalOutcome } from './approve/approve-stage.ts';
import { JsonMasker, type MaskRule } from './mask/json-masker.ts';
import { headersForMasking } from './mask/request-headers.ts';
import { tablesAllowed } from './mask/mask-plan.ts';
import { badRequest, notAcceptable, serviceUnavailable } from './status.ts';
import type { AuditSession } from '../core/audit/record.ts';
import type { CapturedResponse, ResponseCapture } from './audit/response-capture.ts';
import type { Capture, CaptureRequest, CaptureResult, CaptureStart } from './record/session-capture.ts';
import { commandLine, sessionTarget } from './record/session-target.ts';
import { portForwardTap, type PortForwardTap } from './record/port-forward-tap.ts';
import { upgradeKind, type UpgradeKind } from './parse/upgrade-target.ts';

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
  /** The response body as the caller received it (ResponseComplete at audit level RequestResponse). */
  readonly response?: CapturedResponse;
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
  /** The refusal of a body that must not be forwarded (a mask placeholder written back), or undefined. */
  checkBody(req: IncomingMessage, parsed: ParsedRequest, body: ReadBody | undefined): Answer | undefined;
  /** At audit level RequestResponse, what records the response body once its headers are known; undefined otherwise. */
  responseCapture(parsed: ParsedRequest, decision: Decision): ResponseCaptureFactory | undefined;
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

export type ResponseCaptureFactory = (response: IncomingMessage) => ResponseCapture;

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
  /** A failure that escaped every stage (a defect): answered with a 500, and counted. */
  unexpected?(error: unknown): void;
}

interface Admitted {
  readonly parsed: ParsedRequest;
  readonly caller: AuthenticatedCaller;
  readonly effective: UserInfo;
  readonly decision: Decision;
  readonly body?: ReadBody;
  readonly approvalRequest?: { readonly namespace: string; readonly name: string };
  /** Said to the caller with its answer (a `Warning` header kubectl prints), e.g. who approved it. */
  readonly warning?: string;
}

type Admission<P> =
  | { readonly ok: true; readonly admitted: Admitted; readonly prepared: P }
  | { readonly ok: false; readonly answer: Answer; readonly partial: Partial<Admitted> };

/** What a path (plain HTTP, or an upgrade) works out before anything is held or audited. */
type Prepare<P> = (decided: Omit<Admitted, 'approvalRequest'>) => { readonly ok: true; readonly prepared: P } | { readonly ok: false; readonly answer: Answer };

export interface Pipeline {
  handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void>;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
}

interface RequestContext {
  readonly auditID: string;
  readonly startedAt: Date;
  /** Aborted when the client leaves before its answer is complete (an approval wait listens). */
  readonly signal: AbortSignal;
  /** Runs `release` once the response or upgraded socket has closed (the caller's limits). */
  readonly onEnd: (release: () => void) => void;
}

/**
 * parse → authenticate → resolve identity → decide → read and check the body → prepare the
 * path's forwarding → (approve) → audit RequestReceived. Every failure on the way, expected or
 * not, becomes an answer here: nothing a stage throws escapes to the server.
 */
async function admit<P>(stages: PipelineStages, req: IncomingMessage, request: RequestContext, prepare: Prepare<P>): Promise<Admission<P>> {
  const { auditID, startedAt } = request;
  const partial: { -readonly [K in keyof Admitted]?: Admitted[K] } = {};
  const refused = (answer: Answer): Admission<P> => ({ ok: false, answer, partial });
  try {
    partial.parsed = stages.parse(req);
    partial.caller = await stages.authenticate(req);
    const limited = stages.admitCaller(partial.caller, partial.parsed, req);
    if (!limited.ok) return { ok: false, answer: limited.answer, partial };
    request.onEnd(limited.release);
    partial.effective = await stages.resolveIdentity(partial.caller, req);
    const decision = stages.decide(partial.parsed, partial.caller, partial.effective);
    if (decision === undefined) return refused(stages.answerFor({ kind: 'not-ready', what: 'policies are not synced yet' }));
    partial.decision = decision;
    if (decision.action === 'Deny') return refused(stages.answerFor({ kind: 'decision', decision, parsed: partial.parsed, effective: partial.effective }));
    const body = await stages.readBody(req, partial.parsed, decision);
    if (body !== undefined) partial.body = body;
    const bodyRefusal = stages.checkBody(req, partial.parsed, body);
    if (bodyRefusal !== undefined) return refused(bodyRefusal);
    const decided = { parsed: partial.parsed, caller: partial.caller, effective: partial.effective, decision, ...(body === undefined ? {} : { body }) };
    const preparation = prepare(decided);
    if (!preparation.ok) return refused(preparation.answer);
    let held: Pick<Admitted, 'approvalRequest' | 'warning'> = {};
    if (decision.action === 'RequireApproval') {
      const approval = await holdForApproval(stages, req, { ...decided, auditID, signal: request.signal });
      if (approval.approvalRequest !== undefined) partial.approvalRequest = approval.approvalRequest;
      if (!approval.ok) return refused({ code: approval.status.code, body: approval.status });
      held = { approvalRequest: approval.approvalRequest, ...(approval.warning === undefined ? {} : { warning: approval.warning }) };
    }
    const admitted: Admitted = { ...decided, ...held };
    // Nothing is forwarded that is not audited (FailClosed): a failed write refuses. The record is
    // written now and fsynced with the ResponseComplete record, before the response ends (ADR 0005).
    await stages.audit({ auditID, stage: 'RequestReceived', req, ...admitted, startedAt });
    return { ok: true, admitted, prepared: preparation.prepared };
  } catch (error) {
    return refused(stages.answerFor({ kind: 'error', error }));
  }
}

/** Holds a request a RequireApproval rule matched (approve/approve-stage.ts). */
function holdForApproval(stages: PipelineStages, req: IncomingMessage, held: Omit<Admitted, 'approvalRequest' | 'warning'> & { auditID: string; signal: AbortSignal }): Promise<ApprovalOutcome> {
  return stages.approve({
    request: held.parsed.attributes, method: req.method ?? 'GET', target: req.url ?? '/', contentType: req.headers['content-type'],
    caller: held.caller, effective: held.effective, decision: held.decision, body: held.body, auditID: held.auditID, signal: held.signal,
  });
}

/**
 * The abort reason when a client's connection closes. One shared value: `abort()` without a
 * reason builds a DOMException with a stack trace on every request.
 */
const CLIENT_GONE = Object.freeze(Object.assign(new Error('the client closed the connection'), { name: 'AbortError' }));

interface PreparedHttp { readonly headers: OutgoingHttpHeaders; readonly masker?: JsonMasker; readonly capture?: ResponseCaptureFactory }

/**
 * The upstream headers of a plain request and, when masking applies, its masker (or the 406). A
 * response recorded at level RequestResponse is asked for uncompressed, so the record can hold it.
 */
function prepareHttp(stages: PipelineStages, req: IncomingMessage, auditID: string): Prepare<PreparedHttp> {
  return ({ parsed, caller, effective, decision }) => {
    const headers = stages.upstreamHeaders(req, effective, { auditID, caller });
    const capture = stages.responseCapture(parsed, decision);
    if (capture !== undefined) delete headers['accept-encoding'];
    const recorded = capture === undefined ? {} : { capture };
    const rules = stages.maskRules(parsed, decision);
    if (rules.length === 0) return { ok: true, prepared: { headers, ...recorded } };
    const masked = headersForMasking(headers, { tables: tablesAllowed(decision.mask) });
    if (masked === undefined) {
      const status = notAcceptable('this response is masked, which needs JSON: ask for application/json (kubectl does); protobuf-only clients are refused');
      return { ok: false, answer: { code: status.code, body: status } };
    }
    return { ok: true, prepared: { headers: masked, masker: new JsonMasker(rules), ...recorded } };
  };
}

interface PreparedUpgrade { readonly kind: UpgradeKind; readonly headers: OutgoingHttpHeaders; readonly rules: readonly MaskRule[] }

/**
 * Only what the API server upgrades is upgraded (upgrade-target.ts). A watch over WebSocket is
 * relayed frame by frame without being read, so it is refused where masking or the audit level
 * RequestResponse applies: the same watch over HTTP (what kubectl sends) is masked and recorded.
 */
function prepareUpgrade(stages: PipelineStages, req: IncomingMessage, auditID: string): Prepare<PreparedUpgrade> {
  return ({ parsed, caller, effective, decision }) => {
    const kind = upgradeKind(parsed.attributes, req.headers.upgrade ?? '');
    const rules = stages.maskRules(parsed, decision);
    if (kind === 'watch' && rules.length > 0) {
      const status = notAcceptable('this watch is masked, which the gateway does only over HTTP: watch without upgrading to WebSocket (kubectl does)');
      return { ok: false, answer: { code: status.code, body: status } };
    }
    // Its frames would go by unread: an unrecorded way around the audit level.
    if (kind === 'watch' && stages.responseCapture(parsed, decision) !== undefined) {
      const status = notAcceptable('this watch is audited at level RequestResponse, which the gateway records only over HTTP: watch without upgrading to WebSocket (kubectl does)');
      return { ok: false, answer: { code: status.code, body: status } };
    }
    return { ok: true, prepared: { kind, headers: stages.upstreamHeaders(req, effective, { auditID, caller }), rules } };
  };
}

interface PipelineDeps {
  readonly stages: PipelineStages;
  readonly upstream: Upstream;
  readonly observer: PipelineObserver | undefined;
}

/** A refused request's metrics and ResponseComplete record (its answer is already written). */
async function recordRefusal(deps: PipelineDeps, req: IncomingMessage, refusal: { context: RequestContext; answer: Answer; partial: Partial<Admitted> }): Promise<void> {
  const { context: { auditID, startedAt }, answer, partial } = refusal;
  deps.observer?.finished({ decision: partial.decision?.action.toLowerCase() ?? 'refused', verb: partial.parsed?.attributes.verb ?? 'unknown', code: answer.code, latencyMs: Date.now() - startedAt.getTime(), longRunning: false });
  // A refused request was not forwarded, so a failed audit write loses nothing downstream; it
  // is still reported by the audit stage's own metrics and logs.
  await deps.stages.audit({ auditID, stage: 'ResponseComplete', req, ...partial, code: answer.code, startedAt, latencyMs: Date.now() - startedAt.getTime() }).catch(() => undefined);
}

async function serveRequest(deps: PipelineDeps, req: IncomingMessage, res: ServerResponse, context: RequestContext): Promise<void> {
  const { stages, upstream, observer } = deps;
  const { auditID, startedAt } = context;
  const admission = await admit(stages, req, context, prepareHttp(stages, req, auditID));
  if (!admission.ok) {
    writeAnswer(res, admission.answer, formFor(admission.partial.parsed, req, admission.answer));
    await recordRefusal(deps, req, { context, answer: admission.answer, partial: admission.partial });
    return;
  }
  const { parsed } = admission.admitted;
  const masking = admission.prepared;
  const outcome = await forwardAndRecord(stages, upstream, { req, res, auditID, startedAt, admitted: admission.admitted, masking });
  observer?.finished({
    decision: 'allow', verb: parsed.attributes.verb, code: outcome.code, latencyMs: Date.now() - startedAt.getTime(),
    upstreamMs: outcome.upstreamLatencyMs, longRunning: parsed.longRunning, masked: masking.masker?.masked ?? 0,
  });
}

/** The session's recording or tap; a failure to start it is a refusal like any other. */
async function startSession(stages: PipelineStages, req: IncomingMessage, admitted: Admitted, upgrade: { auditID: string; headers: OutgoingHttpHeaders }): Promise<PreparedSession> {
  try {
    return await prepareSession(stages, req, admitted, upgrade);
  } catch (error) {
    return { ok: false, answer: stages.answerFor({ kind: 'error', error }) };
  }
}

async function serveUpgrade(deps: PipelineDeps, req: IncomingMessage, upgraded: { socket: Duplex; head: Buffer }, context: RequestContext): Promise<void> {
  const { stages, observer } = deps;
  const { socket } = upgraded;
  const admission = await admit(stages, req, context, prepareUpgrade(stages, req, context.auditID));
  if (!admission.ok) {
    writeRawAnswer(socket, admission.answer, context.auditID);
    await recordRefusal(deps, req, { context, answer: admission.answer, partial: admission.partial });
    return;
  }
  const prepared = await startSession(stages, req, admission.admitted, { auditID: context.auditID, headers: admission.prepared.headers });
  if (!prepared.ok) {
    observer?.session?.({ kind: admission.admitted.parsed.attributes.subresource, recording: 'refused' });
    writeRawAnswer(socket, prepared.answer, context.auditID);
    await recordRefusal(deps, req, { context, answer: prepared.answer, partial: admission.admitted });
    return;
  }
  await relaySession(deps, req, { ...upgraded, context, admitted: admission.admitted, prepared, rules: admission.prepared.rules });
}

/** Relays an admitted, prepared upgrade and records how the session went. */
async function relaySession(deps: PipelineDeps, req: IncomingMessage, input: {
  socket: Duplex; head: Buffer; context: RequestContext; admitted: Admitted; prepared: Extract<PreparedSession, { ok: true }>; rules: readonly MaskRule[];
}): Promise<void> {
  const { stages, upstream, observer } = deps;
  const { socket, head, context: { auditID, startedAt }, admitted, prepared, rules } = input;
  const { parsed, caller, effective, decision } = admitted;
  const outcome = await forwardUpgrade({
    req, socket, head, upstream, path: req.url ?? '/', headers: prepared.headers, tap: prepared.capture?.tap ?? prepared.portForward?.tap,
    // An answer that is not a 101 (a refusal, or a proxied page) is a response like any other.
    ...(rules.length === 0 ? {} : { rewriter: () => new JsonMasker(rules) }),
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
}

/** The last line of defence: whatever escaped the stages still gets an answer, never a crash. */
function backstop(deps: PipelineDeps, error: unknown, connection: { answer: (a: Answer) => void; drop: () => void }): void {
  deps.observer?.unexpected?.(error);
  try {
    connection.answer(deps.stages.answerFor({ kind: 'error', error }));
  } catch {
    // Nothing more can be said to this client: close rather than leave it waiting.
    connection.drop();
  }
}

export function createPipeline(stages: PipelineStages, upstream: Upstream, observer?: PipelineObserver): Pipeline {
  const deps: PipelineDeps = { stages, upstream, observer };
  return {
    async handleRequest(req, res) {
      const auditID = randomUUID();
      res.setHeader('audit-id', auditID);
      const gone = new AbortController();
      res.once('close', () => { if (!res.writableFinished) gone.abort(CLIENT_GONE); });
      try {
        await serveRequest(deps, req, res, { auditID, startedAt: new Date(), signal: gone.signal, onEnd: (release) => { afterClose(res, release); } });
      } catch (error) {
        backstop(deps, error, { answer: (answer) => { writeAnswer(res, answer); }, drop: () => { res.destroy(); } });
      }
    },

    async handleUpgrade(req, socket, head) {
      const auditID = randomUUID();
      socket.on('error', () => socket.destroy());
      const gone = new AbortController();
      socket.once('close', () => { gone.abort(CLIENT_GONE); });
      try {
        await serveUpgrade(deps, req, { socket, head }, { auditID, startedAt: new Date(), signal: gone.signal, onEnd: (release) => { afterClose(socket, release); } });
      } catch (error) {
        backstop(deps, error, { answer: (answer) => { if (socket.writable) writeRawAnswer(socket, answer, auditID); else socket.destroy(); }, drop: () => { socket.destroy(); } });
      }
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
  req: IncomingMessage; res: ServerResponse; auditID: string; startedAt: Date; admitted: Admitted; masking: PreparedHttp;
}): Promise<ForwardOutcome> {
  const { req, res, auditID, startedAt, admitted, masking } = input;
  const { parsed, caller, effective, decision, body, approvalRequest } = admitted;
  let captured: ResponseCapture | undefined;
  const tapResponse = masking.capture === undefined ? undefined : tapFor(masking.capture, (capture) => { captured = capture; });
  const completion = (code: number, error?: string): AuditEvent => ({
    auditID, stage: 'ResponseComplete', req, parsed, caller, effective, decision, code, startedAt, latencyMs: Date.now() - startedAt.getTime(),
    ...(error === undefined ? {} : { error }), ...(approvalRequest === undefined ? {} : { approvalRequest }),
    ...(captured === undefined ? {} : { response: captured.result(error === undefined) }),
  });
  const progress = { recorded: false };
  const outcome = await forwardHttp({
    req, res, upstream, path: req.url ?? '/', longRunning: parsed.longRunning, ...(body === undefined ? {} : { body }),
    headers: masking.headers, ...(masking.masker === undefined ? {} : { rewriter: masking.masker }), ...(tapResponse === undefined ? {} : { tapResponse }),
    ...(admitted.warning === undefined ? {} : { warnings: [admitted.warning] }),
    fail: (code, message) => { writeAnswer(res, stages.answerFor({ kind: 'upstream', code, message })); },
    beforeEnd: async (code) => {
      progress.recorded = true;
      await stages.audit(completion(code));
    },
  });
  if (!progress.recorded) await stages.audit(completion(outcome.code, outcome.upstreamError ?? CLIENT_GONE.message)).catch(() => undefined);
  return outcome;
}

/** A tap that opens the response's capture when its headers arrive (and hands it over), then feeds it every byte. */
function tapFor(factory: ResponseCaptureFactory, opened: (capture: ResponseCapture) => void): (response: IncomingMessage) => (bytes: Buffer) => void {
  return (response) => {
    const capture = factory(response);
    opened(capture);
    return (bytes) => { capture.write(bytes); };
  };
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

/** For exec and attach, the session's recording (or the refusal when it must be recorded and cannot be); for port-forward, its tap. */
async function prepareSession(stages: PipelineStages, req: IncomingMessage, admitted: Admitted, upgrade: { auditID: string; headers: OutgoingHttpHeaders }): Promise<PreparedSession> {
  const { parsed, caller, effective, decision } = admitted;
  const { auditID, headers } = upgrade;
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

/**
 * How a refusal is written: a JSON `Status`, as the API server writes it, or its message as plain
 * text. kubectl's discovery client reads /api, /apis, /openapi and /version answers raw and prints a
 * refusal's reason only when it is text (a JSON one reads "Error from server (Forbidden):
 * unknown"), so a policy's 403 on a non-resource path is text for the clients that read it that
 * way: those that accept any type, or discovery and OpenAPI documents. Everything else is JSON.
 */
type AnswerForm = 'status' | 'text';

const RAW_READERS = /\*\/\*|apidiscovery|openapi/i;

function formFor(parsed: ParsedRequest | undefined, req: IncomingMessage, answer: Answer): AnswerForm {
  const rawReader = RAW_READERS.test(req.headers.accept ?? '');
  return parsed?.attributes.resourceRequest === false && answer.code === 403 && rawReader ? 'text' : 'status';
}

function writeAnswer(res: ServerResponse, answer: Answer, form: AnswerForm = 'status'): void {
  if (res.headersSent) { res.destroy(); return; }
  const message = (answer.body as { message?: unknown } | null)?.message;
  const text = form === 'text' && typeof message === 'string';
  const body = text ? `${message}\n` : JSON.stringify(answer.body);
  const retry = retryAfter(answer);
  res.writeHead(answer.code, {
    'content-type': text ? 'text/plain; charset=utf-8' : 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store',
    ...(retry === undefined ? {} : { 'retry-after': retry }),
  });
  res.end(body);
}

function writeRawAnswer(socket: Duplex, answer: Answer, auditID: string): void {
  const body = JSON.stringify(answer.body);
  const retry = retryAfter(answer);
  socket.end(rawResponseHead(answer.code, STATUS_CODES[answer.code] ?? 'Error', [
    'Content-Type', 'application/json', 'Content-Length', String(Buffer.byteLength(body)), 'Audit-Id', auditID, 'Connection', 'close',
    ...(retry === undefined ? [] : ['Retry-After', retry]),
  ]) + body);
}

/** A Status's `details.retryAfterSeconds` as the `Retry-After` header clients (client-go) honour. */
function retryAfter(answer: Answer): string | undefined {
  const seconds = (answer.body as { details?: { retryAfterSeconds?: unknown } } | null)?.details?.retryAfterSeconds;
  return typeof seconds === 'number' && seconds > 0 ? String(seconds) : undefined;
}
