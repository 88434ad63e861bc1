// Builds the pipeline's stages from the configuration: the adapters between the request
// pipeline (handler.ts) and the modules that do the work. Each stage is a few lines here; the
// logic lives in the module it names.
import { startCapture } from './record/session-capture.ts';
import { maskCommandInUri } from './record/session-target.ts';
import { compileUserPattern } from '../core/policy/user-pattern.ts';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../core/config/gateway-config.ts';
import type { Answer, AuditEvent, ParsedRequest, PipelineStages, Refusal, ResponseCaptureFactory } from './handler.ts';
import type { GatewayMetrics } from './observe/metrics.ts';
import type { PolicyStore } from './decide/policy-store.ts';
import type { Decision, DecisionInput, RequestAttributes } from '../core/policy/model.ts';
import { evaluatePolicy } from '../core/policy/evaluate.ts';
import type { CompiledPolicies } from '../core/policy/compile.ts';
import { isDiscoveryRead, OPEN_DISCOVERY_REASON } from '../core/policy/discovery-paths.ts';
import { defaultDenyReason, explainDefaultDeny } from './decide/default-deny.ts';
import { resolveRequestInfo } from './parse/request-info.ts';
import { requestAttributes } from './parse/request-attributes.ts';
import { createApiCatalog, type ApiCatalog, type RefreshingApiCatalog } from './discovery/api-catalog.ts';
import { extractBearerToken, sanitizeClientHeaders } from './parse/strip-client-headers.ts';
import { forwardingProblem, ImpersonationHeaderError, impersonationHeadersFor, readImpersonationRequest } from './authenticate/impersonation-headers.ts';
import { resolveEffectiveIdentity, subjectAccessReviewer } from './authenticate/resolve-identity.ts';
import { entityTooLarge, forbidden, gatewayTimeout, invalid, serviceUnavailable, type Status } from './status.ts';
import { answerForError } from './error-answers.ts';
import { findPlaceholders, placeholderMessage } from './mask/placeholder-write.ts';
import { createAuthenticator } from './authenticate/authenticator-chain.ts';
import { createOidcAuthenticator } from './authenticate/oidc.ts';
import { createTokenReviewAuthenticator } from './authenticate/token-review.ts';
import { AuthenticationError, type AuthenticatedCaller, type ImpersonationTarget, type UserInfo } from '../core/identity.ts';
import { forwardedIdentity, reservedNameProblem, type IdentityForwarding } from '../core/forwarded-identity.ts';
import { EXTRA_AUDIT_ID, EXTRA_CALLER, EXTRA_GATEWAY, forwardableExtras } from '../core/forwarded-extras.ts';
import type { Upstream } from './upstream/upstream-client.ts';
import type { AuditLog } from './audit/audit-log.ts';
import { openAuditLog } from './audit-setup.ts';
import { buildAuditRecord, recordsRequestBody, stricterLevel, toAuditAction, type AuditDecision, type AuditLevel, type AuditObjectRef, type AuditResponseBody } from '../core/audit/record.ts';
import { createResponseCapture } from './audit/response-capture.ts';
import { bodyForAudit, declaredBodyLength, decodeProtobuf, DEFAULT_BODY_LIMIT_BYTES, hasRequestBody, type ReadBody } from './parse/request-body.ts';
import type { RequestLimits } from './limits/request-limits.ts';
import { createApproveStage } from './approve/approve-stage.ts';
import { maskRulesFor } from './mask/mask-plan.ts';
import { maskParsed } from './mask/json-masker.ts';
import { createApprovalApi } from './approve/approval-api.ts';
import { createHeldRequests } from './approve/held-requests.ts';
import { parse as parseYaml } from 'yaml';

export interface StageDependencies {
  readonly config: GatewayConfig;
  readonly upstream: Upstream;
  readonly policies: PolicyStore;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  readonly limits: RequestLimits;
}

export interface GatewayStages extends PipelineStages {
  close(): Promise<void>;
}


function distinct(req: IncomingMessage): Readonly<Record<string, readonly string[] | undefined>> {
  return req.headersDistinct;
}

/** A body of unknown size (any method; an upgrade's bytes after its headers are no body). */
function chunked(req: IncomingMessage): boolean {
  return declaredBodyLength(req) === undefined && req.headers.upgrade === undefined;
}

function parse(req: IncomingMessage, catalog: ApiCatalog): ParsedRequest {
  const info = resolveRequestInfo(req.method ?? '', req.url ?? '');
  if (info instanceof Error) throw info;
  // The Content-Type says whether a PATCH is a server-side apply (which can create).
  return { longRunning: info.isLongRunning, attributes: requestAttributes(info, req.headers['content-type'], catalog) };
}

/** Discovery as the gateway sees it; the first read is waited for briefly (until then unknown resources are judged strictly). */
async function openApiCatalog(upstream: Upstream, log: Logger): Promise<RefreshingApiCatalog> {
  const catalog = createApiCatalog({
    fetchJson: (path, accept) => upstream.getJson(path, accept),
    onError: (error) => { log.warn({ err: error }, 'API discovery read failed; unknown resources are judged strictly (namespaced, PUT may create)'); },
  });
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => { timer = setTimeout(resolve, 5_000); });
  await Promise.race([catalog.refresh().catch((error: unknown) => { log.warn({ err: error }, 'API discovery not read at start'); }), waited]);
  clearTimeout(timer);
  return catalog;
}

function sourceIPs(req: IncomingMessage): string[] {
  return req.socket.remoteAddress === undefined ? [] : [req.socket.remoteAddress];
}

export function answerFor(refusal: Refusal, log: Logger): Answer {
  const status = statusOf(refusal, log);
  return { code: status.code, body: status };
}

function statusOf(refusal: Refusal, log: Logger): Status {
  switch (refusal.kind) {
    case 'decision': {
      const { decision, parsed, effective } = refusal;
      const why = decision.action === 'RequireApproval'
        ? `approval required by ${decision.reason}${decision.message === undefined ? '' : `: ${decision.message}`}`
        : decision.message ?? decision.reason;
      return forbidden(effective.username, parsed.attributes, `denied by Airlock: ${why}`);
    }
    case 'not-ready': return serviceUnavailable(`the gateway is not ready: ${refusal.what}`);
    case 'upstream': return refusal.code === 504 ? gatewayTimeout(refusal.message) : serviceUnavailable(refusal.message, refusal.code);
    case 'error': return statusForStageError(refusal.error, log);
  }
}

function statusForStageError(error: unknown, log: Logger): Status {
  const answer = answerForError(error);
  const fields = answer.level === 'warn' || answer.level === 'error' ? { ...answer.fields, err: error } : answer.fields;
  log[answer.level](fields ?? {}, answer.log);
  return answer.status;
}

const WRITES = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The policy's decision; with open discovery, a discovery read no rule restricts is allowed, as
 * the API server's system:discovery role allows it (Deny and RequireApproval rules still apply).
 */
function decide(policies: CompiledPolicies, settings: GatewayConfig['policy'], input: DecisionInput): Decision {
  const open = settings.discovery === 'AllAuthenticated' && isDiscoveryRead(input.request);
  const decision = evaluatePolicy(policies, input, open ? 'Allow' : settings.defaultAction);
  return open && decision.action === 'Allow' && decision.matched === undefined ? { ...decision, reason: OPEN_DISCOVERY_REASON } : decision;
}

/**
 * A write's body is refused before it goes anywhere when it would store a mask placeholder
 * (mask/placeholder-write.ts) or is too large for the gateway to tell.
 */
function checkBody(req: IncomingMessage, parsed: ParsedRequest, body: ReadBody | undefined): Answer | undefined {
  if (body === undefined || !parsed.attributes.resourceRequest) return undefined;
  const { resource, name, apiGroup } = parsed.attributes;
  if (!body.complete) {
    const status = entityTooLarge(`the gateway reads write bodies up to ${DEFAULT_BODY_LIMIT_BYTES} bytes (the API server's own limit) to check them, and this one is larger`);
    return { code: status.code, body: status };
  }
  const found = findPlaceholders(body.body, req.headers['content-type'], parseYaml);
  if (!found.found) return undefined;
  const status = invalid(
    { kind: found.kind ?? resource, name: name === '' ? found.name ?? '' : name, group: apiGroup },
    found.fields.map((f) => ({ field: f.field, message: placeholderMessage(f.value) })),
  );
  return { code: status.code, body: status };
}

function upstreamHeaders(req: IncomingMessage, effective: UserInfo, context: { auditID: string; caller: AuthenticatedCaller; gateway: string; token: string; forwarding: IdentityForwarding }): OutgoingHttpHeaders {
  const upgrade = req.headers.upgrade !== undefined;
  const { headers } = sanitizeClientHeaders(req.rawHeaders, { keepUpgrade: upgrade });
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = (headers[i] ?? '').toLowerCase();
    const value = headers[i + 1] ?? '';
    const existing = out[name];
    out[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  const extra: Record<string, readonly string[]> = {
    ...forwardableExtras(effective.extra),
    [EXTRA_AUDIT_ID]: [context.auditID],
    [EXTRA_GATEWAY]: [context.gateway],
    ...(effective.username === context.caller.user.username ? {} : { [EXTRA_CALLER]: [context.caller.user.username] }),
  };
  // Written into `out` (no spread of a header object per request): the gateway's values replace any
  // the caller sent under the same (lower-case) name, as the spread they replace did.
  const impersonation = impersonationHeadersFor(forwardedIdentity({ ...effective, extra }, context.forwarding));
  for (const name of Object.keys(impersonation)) out[name] = impersonation[name] as string | string[];
  out['authorization'] = `Bearer ${context.token}`;
  out['audit-id'] = context.auditID;
  out['x-forwarded-for'] = sourceIPs(req).join(', ');
  return out;
}

/** The impersonation a caller asks for; under gateway-only names, never a name only the gateway gives. */
function impersonationRequest(req: IncomingMessage, forwarding: IdentityForwarding): ImpersonationTarget | undefined {
  const target = readImpersonationRequest(distinct(req));
  const problem = target === undefined ? undefined : reservedNameProblem({ ...target, username: target.user }, forwarding);
  if (problem !== undefined) throw new ImpersonationHeaderError('invalid-value', `impersonation refused: ${problem}`);
  return target;
}

function auditDecision(decision: Decision | undefined): AuditDecision | undefined {
  if (decision === undefined) return undefined;
  const matched = decision.matched;
  return matched === undefined
    ? { action: toAuditAction(decision.action), reason: decision.reason }
    : { action: toAuditAction(decision.action), reason: decision.reason, policy: { namespace: matched.namespace, name: matched.name }, rule: matched.rule };
}

function auditObjectRef(attributes: RequestAttributes | undefined): AuditObjectRef | undefined {
  if (attributes?.resourceRequest !== true) return undefined;
  const { resource, subresource, namespace, name, apiGroup } = attributes;
  return { resource, subresource, namespace, name, apiGroup };
}

/** The request body as audited: parsed, then masked by the same rules as the response would be. */
function auditBody(event: AuditEvent, body: ReadBody): unknown {
  const parsed = bodyForAudit(body, event.req.headers['content-type'], parseYaml);
  if (event.parsed === undefined) return parsed;
  return maskParsed(parsed, maskRulesFor(event.parsed.attributes, event.decision?.mask));
}

/** The request URI as audited: exec's command arguments pass through the rule's session masks. */
function auditedUri(event: AuditEvent): string {
  const uri = event.req.url ?? '';
  const patterns = event.decision?.mask?.sessionPatterns ?? [];
  // Only exec carries a command: every other request of the rule skips compiling its patterns.
  if (patterns.length === 0 || !uri.includes('command=')) return uri;
  try {
    return maskCommandInUri(uri, patterns.map((p) => compileUserPattern(p)));
  } catch {
    // A pattern the operator would have refused: mask every argument rather than none.
    return maskCommandInUri(uri, [/[\s\S]+/]);
  }
}

/**
 * The level a request is audited at: the gateway's, raised by the strictest rule that matched it.
 * At None the trail is off (no sink is open), whatever a rule says.
 */
function auditLevelFor(config: GatewayConfig, decision: Decision | undefined): AuditLevel {
  const base = config.audit.level;
  return base === 'None' ? base : stricterLevel(base, decision?.auditLevel);
}

/** An upgraded connection's bytes are relayed, never read: a RequestResponse record says so. */
const UPGRADE_NOT_RECORDED = 'an upgraded connection (WebSocket, SPDY) is relayed, not read: its bytes are not recorded';

function auditResponse(event: AuditEvent, level: AuditLevel): { responseObject?: unknown; responseBody?: AuditResponseBody } {
  if (level !== 'RequestResponse' || event.stage !== 'ResponseComplete') return {};
  if (event.response !== undefined) return event.response;
  return event.session === undefined ? {} : { responseBody: { bytes: event.session.bytesOut, complete: true, omitted: UPGRADE_NOT_RECORDED } };
}

/** At level RequestResponse, the capture of a response body (audit/response-capture.ts). */
function responseCapture(config: GatewayConfig, parsed: ParsedRequest, decision: Decision): ResponseCaptureFactory | undefined {
  if (auditLevelFor(config, decision) !== 'RequestResponse') return undefined;
  const watch = parsed.attributes.verb === 'watch';
  return (response) => createResponseCapture({
    limitBytes: config.audit.maxResponseBodyBytes, contentType: response.headers['content-type'], contentEncoding: response.headers['content-encoding'],
    watch, decodeProtobuf,
  });
}

function auditStage(audit: AuditLog, config: GatewayConfig): (event: AuditEvent) => Promise<void> {
  const gateway = { name: config.name, namespace: config.namespace, replica: hostname() };
  return async (event) => {
    const level = auditLevelFor(config, event.decision);
    // One object literal, absent members undefined (buildAuditRecord copies what it keeps): this
    // runs twice per request.
    const { caller, effective } = event;
    const attributes = event.parsed?.attributes;
    const record = buildAuditRecord({
      level,
      stage: event.stage,
      auditID: event.auditID,
      requestURI: auditedUri(event),
      verb: attributes?.verb ?? (event.req.method ?? '').toLowerCase(),
      objectRef: auditObjectRef(attributes),
      sourceIPs: sourceIPs(event.req),
      userAgent: event.req.headers['user-agent'],
      caller: caller?.user,
      effective,
      forwardedAs: effective === undefined || config.identity.forwardAs === 'Caller' ? undefined : forwardedIdentity(effective, config.identity),
      authentication: caller === undefined ? undefined : caller.issuer === undefined ? { method: caller.method } : { method: caller.method, issuer: caller.issuer },
      decision: auditDecision(event.decision),
      approvalRequest: event.approvalRequest,
      responseStatus: event.code === undefined ? undefined : event.error === undefined ? { code: event.code } : { code: event.code, message: event.error },
      session: event.session,
      requestObject: event.body === undefined || !recordsRequestBody(level) ? undefined : auditBody(event, event.body),
      ...auditResponse(event, level),
      requestReceived: event.startedAt,
      stageTimestamp: new Date(),
      latencyMs: event.latencyMs,
      gateway,
    });
    // RequestReceived is written before forwarding (a failed write refuses the request) without
    // waiting for its own fsync: the ResponseComplete record's fsync, before the response ends,
    // makes both durable (docs/adr/0005-audit-durability.md).
    if (record !== undefined) await audit.record(record, { sync: event.stage !== 'RequestReceived' });
  };
}

export async function buildStages(deps: StageDependencies): Promise<GatewayStages> {
  const { config, upstream, policies, metrics, log, limits } = deps;
  const oidc = config.authentication.oidc.map((o) => createOidcAuthenticator(o, {
    onIssuerProblem: (issuer, error) => { log.warn({ issuer, err: error }, 'OIDC issuer problem'); },
  }));
  for (const o of oidc) void o.warmUp();
  const tokenReview = config.authentication.serviceAccountTokens.enabled
    ? createTokenReviewAuthenticator({
      review: (review) => upstream.postJson('/apis/authentication.k8s.io/v1/tokenreviews', review),
      audiences: config.authentication.serviceAccountTokens.audiences,
    })
    : undefined;
  const authenticator = createAuthenticator({ oidc, ...(tokenReview === undefined ? {} : { tokenReview }) });
  const reviewer = subjectAccessReviewer((path, body) => upstream.postJson(path, body));
  const audit = await openAuditLog(config.audit, { log, metrics });
  const catalog = await openApiCatalog(upstream, log);
  const denyReason = defaultDenyReason(config);
  return {
    parse: (req) => parse(req, catalog),
    authenticate: async (req) => {
      const token = extractBearerToken(distinct(req)) ?? '';
      try {
        const caller = await authenticator.authenticate(token);
        const problem = forwardingProblem(caller.user) ?? reservedNameProblem(caller.user, config.identity);
        if (problem !== undefined) throw new AuthenticationError('unforwardable_identity', problem);
        metrics.authentications.inc({ method: caller.method, result: 'success' });
        return caller;
      } catch (error) {
        metrics.authentications.inc({ method: 'unknown', result: error instanceof AuthenticationError ? error.code : 'error' });
        throw error;
      }
    },
    admitCaller: (caller, parsed, req) => {
      const admitted = limits.admit(req, { caller: caller.user.username, longRunning: parsed.longRunning });
      if (admitted.ok) return admitted;
      log.info({ limit: admitted.limit, user: caller.user.username }, 'request refused by a limit');
      return { ok: false, answer: { code: admitted.status.code, body: admitted.status } };
    },
    resolveIdentity: (caller, req) => resolveEffectiveIdentity(caller.user, impersonationRequest(req, config.identity), reviewer, config.identity),
    decide: (parsed, caller, effective) => (policies.ready() ? explainDefaultDeny(decide(policies.current(), config.policy, { request: parsed.attributes, caller, effective }), denyReason) : undefined),
    // Writes are checked before forwarding (checkBody); the audit level Request and approvals (the
    // body digest) need the body too, and a chunked body is held so that its size is counted
    // against the limit; anything else streams. Held bodies are read within the body budget
    // (limits/request-limits.ts).
    readBody: (req, parsed, decision) => (((recordsRequestBody(auditLevelFor(config, decision)) || decision.action === 'RequireApproval'
      || (parsed.attributes.resourceRequest && WRITES.has(req.method ?? ''))) && hasRequestBody(req)) || chunked(req)
      ? limits.readBody(req)
      : Promise.resolve(undefined)),
    checkBody,
    responseCapture: (parsed, decision) => responseCapture(config, parsed, decision),
    maskRules: (parsed, decision) => maskRulesFor(parsed.attributes, decision.mask),
    approve: createApproveStage({
      api: createApprovalApi(upstream), gateway: { name: config.name, namespace: config.namespace },
      maskRules: (request, decision) => maskRulesFor(request, decision.mask), held: createHeldRequests(config.approvals.maxHeldPerCaller),
    }),
    audit: auditStage(audit, config),
    upstreamHeaders: (req, effective, context) => upstreamHeaders(req, effective, {
      ...context, gateway: `${config.namespace}/${config.name}`, token: upstream.tokens.current(), forwarding: config.identity,
    }),
    startCapture: (request) => startCapture({ ...request, dir: config.recording?.dir, metadata: { ...request.metadata, gateway: `${config.namespace}/${config.name}` } }),
    answerFor: (refusal) => answerFor(refusal, log),
    close: () => { catalog.stop(); return audit.close(); },
  };
}
