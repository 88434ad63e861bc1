// One audit record per request stage, modelled on the apiserver's audit.k8s.io/v1 Event. The
// gateway builds it from what the pipeline established; the sinks add the chain fields (seq,
// prevHash, hash) when they append it.
//
// Masking is the caller's job: `requestObject` must already have policy-masked values replaced.
// `buildAuditRecord` is a second line of defence only: it copies named fields (never a header map
// or the whole request), redacts credential-shaped fields and values, and never keeps a request
// body for resources whose bodies are credentials (Secrets, TokenReviews, ServiceAccount tokens).

export const AUDIT_API_VERSION = 'audit.airlock.dev/v1';

export type AuditLevel = 'None' | 'Metadata' | 'Request' | 'RequestResponse';

const LEVEL_RANK: Record<AuditLevel, number> = { None: 0, Metadata: 1, Request: 2, RequestResponse: 3 };

/** The stricter of two levels (a rule's level never lowers the gateway's). */
export function stricterLevel(a: AuditLevel, b: AuditLevel | undefined): AuditLevel {
  return b !== undefined && LEVEL_RANK[b] > LEVEL_RANK[a] ? b : a;
}

/** Whether a record at this level carries the request body (Request and RequestResponse). */
export function recordsRequestBody(level: AuditLevel): boolean {
  return LEVEL_RANK[level] >= LEVEL_RANK.Request;
}

/**
 * RequestReceived: written (durably, under FailClosed) before the request is forwarded.
 * ResponseStarted: long-running requests (watch, exec, logs -f) once the response has begun.
 * ResponseComplete: the outcome. Panic: the gateway failed while handling the request.
 */
export type AuditStage = 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete' | 'Panic';

export interface AuditObjectRef {
  readonly resource?: string;
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly apiGroup?: string;
  readonly apiVersion?: string;
}

export interface AuditUser {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

export interface AuditAuthentication {
  readonly method: 'oidc' | 'serviceaccount' | 'token';
  readonly issuer?: string;
}

export type AuditAction = 'allow' | 'deny' | 'require-approval';

export interface AuditDecision {
  readonly action: AuditAction;
  /** Absent when the gateway's default action decided. */
  readonly policy?: { readonly namespace: string; readonly name: string };
  readonly rule?: string;
  readonly reason: string;
}

export interface AuditGateway {
  readonly name: string;
  readonly namespace: string;
  /** The pod (replica) that wrote the record: each replica keeps its own chain. */
  readonly replica: string;
}

/** The fields a sink adds when it appends a record to its hash chain (see hash-chain.ts). */
export interface ChainFields {
  /** Position in the chain, from 1, continuing across rotated files. */
  readonly seq: number;
  /** The hash of the entry before this one (64 zeros for the first entry of a chain). */
  readonly prevHash: string;
  /** sha256(prevHash + canonical JSON of this entry without `hash`), hex. */
  readonly hash: string;
}

/**
 * An upgraded connection (exec, attach, port-forward) once it ended: bytes each way, how long,
 * and for exec and attach the recording (its file and SHA-256, so the chain vouches for it).
 */
export interface AuditSession {
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly durationMs: number;
  /** The protocol the API server chose, e.g. "v5.channel.k8s.io (WebSocket)". */
  readonly protocol?: string;
  /** Port-forward: the ports asked for. */
  readonly ports?: readonly string[];
  readonly exitCode?: number;
  readonly recording?: { readonly file: string; readonly sha256: string; readonly bytes: number };
  /** Why the session was not (fully) recorded. */
  readonly recordingError?: string;
}

/**
 * What a ResponseComplete record at level RequestResponse says about the response body it carries
 * (or does not): its size and SHA-256 as the caller received it, where it was cut off at the
 * record's cap, and for a watch how many events of which types went by.
 */
export interface AuditResponseBody {
  readonly contentType?: string;
  /** Bytes the caller received (after masking). */
  readonly bytes: number;
  /** SHA-256 of every byte the caller received, hex; absent when the body is not recorded at all. */
  readonly sha256?: string;
  /** False when the response ended early (the client left, the upstream failed). */
  readonly complete: boolean;
  /** Why `responseObject` is absent (or, for a truncated JSON body, why it is `head` instead). */
  readonly omitted?: string;
  /** The body was over the cap: only its first `atByte` bytes (or events before `atEvent`) are recorded. */
  readonly truncated?: { readonly atByte: number; readonly limitBytes: number; readonly atEvent?: number };
  /** A truncated JSON body's first `truncated.atByte` bytes, as text (credential-shaped strings redacted). */
  readonly head?: string;
  /** A watch: every event the caller received (`count`), by type, and how many are in `responseObject`. */
  readonly events?: { readonly count: number; readonly recorded: number; readonly types: Readonly<Record<string, number>> };
}

/** A record as the gateway builds it, before a sink chains it. */
/** Optional members are `undefined` when absent (one shape for every record); serialised, they are left out. */
export interface UnchainedAuditRecord {
  readonly kind: 'AuditRecord';
  readonly apiVersion: typeof AUDIT_API_VERSION;
  /** Also sent upstream as the `Audit-ID` header, so the apiserver's audit log joins this one. */
  readonly auditID: string;
  readonly stage: AuditStage;
  readonly level: Exclude<AuditLevel, 'None'>;
  readonly requestURI: string;
  readonly verb: string;
  readonly objectRef?: AuditObjectRef | undefined;
  readonly sourceIPs: readonly string[];
  readonly userAgent?: string | undefined;
  /** Who authenticated. */
  readonly caller?: AuditUser | undefined;
  /** Whom the request acts as (the caller, or whom the caller impersonates). */
  readonly effective?: AuditUser | undefined;
  /** The names the API server was asked to act as, when they differ from `effective` (identity.forwardAs GatewayOnly). */
  readonly forwardedAs?: AuditUser | undefined;
  readonly authentication?: AuditAuthentication | undefined;
  readonly decision?: AuditDecision | undefined;
  readonly approvalRequest?: { readonly namespace: string; readonly name: string } | undefined;
  /** `message`: why a response did not complete (the client left, the upstream failed). */
  readonly responseStatus?: { readonly code: number; readonly reason?: string; readonly message?: string } | undefined;
  readonly session?: AuditSession | undefined;
  /** Only at levels Request and RequestResponse; already masked by the caller. */
  readonly requestObject?: unknown;
  /** Only at level RequestResponse, on ResponseComplete: the body as the caller received it (masked), or a watch's events. */
  readonly responseObject?: unknown;
  /** Only at level RequestResponse, on ResponseComplete: size, digest, truncation, events (see AuditResponseBody). */
  readonly responseBody?: AuditResponseBody | undefined;
  readonly requestReceivedTimestamp: string;
  readonly stageTimestamp: string;
  readonly latencyMs?: number | undefined;
  readonly gateway: AuditGateway;
}

/** A record as it is written: the content plus its place in the chain. */
export type AuditRecord = UnchainedAuditRecord & ChainFields;

/**
 * What `buildAuditRecord` is given: the record's own members (it copies them), plus the level (None
 * writes nothing) and the two timestamps as dates.
 */
export interface AuditRecordInput extends Pick<UnchainedAuditRecord,
  | 'stage' | 'auditID' | 'requestURI' | 'verb' | 'objectRef' | 'sourceIPs' | 'userAgent' | 'caller' | 'effective' | 'forwardedAs'
  | 'authentication' | 'decision' | 'approvalRequest' | 'responseStatus' | 'session' | 'requestObject' | 'responseObject' | 'responseBody' | 'latencyMs' | 'gateway'> {
  readonly level: AuditLevel;
  readonly requestReceived: Date;
  readonly stageTimestamp: Date;
}

export const REDACTED = '[REDACTED]';

/** Field names whose values are credentials wherever they appear in a request body. */
const CREDENTIAL_KEYS = new Set([
  'authorization', 'proxy-authorization', 'cookie', 'token', 'bearertoken', 'access_token', 'id_token',
  'refresh_token', 'client_secret', 'password',
]);
const BEARER_VALUE = /^\s*bearer\s/i;
const JWT_VALUE = /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*$/;

/** Resources whose request bodies are credentials: their records never carry a body. */
const BODY_NEVER_RECORDED = new Set(['secrets', 'tokenreviews', 'serviceaccounts/token', 'tokenrequests']);

/** Maps the policy engine's action to the record's spelling. */
export function toAuditAction(action: 'Allow' | 'Deny' | 'RequireApproval'): AuditAction {
  return action === 'Allow' ? 'allow' : action === 'Deny' ? 'deny' : 'require-approval';
}

/** Builds the record for one stage, or `undefined` at level None. Throws TypeError on bad input. */
export function buildAuditRecord(input: AuditRecordInput): UnchainedAuditRecord | undefined {
  if (input.level === 'None') return undefined;
  checkInput(input);
  const objectRef = input.objectRef === undefined ? undefined : compactObjectRef(input.objectRef);
  const credential = bodyIsCredential(objectRef);
  const keepBody = recordsRequestBody(input.level) && input.requestObject !== undefined && !credential;
  const response = input.level === 'RequestResponse' ? responseMembers(input, credential) : NO_RESPONSE;
  // One object shape for every record, members in sorted order (here and in the copies below):
  // the canonical form (canonical-json.ts) then needs no reordered copy, and absent members are
  // undefined, which serialising leaves out.
  return {
    apiVersion: AUDIT_API_VERSION,
    approvalRequest: input.approvalRequest === undefined ? undefined : { name: input.approvalRequest.name, namespace: input.approvalRequest.namespace },
    auditID: input.auditID,
    authentication: input.authentication === undefined ? undefined : copyAuthentication(input.authentication),
    caller: input.caller === undefined ? undefined : copyUser(input.caller),
    decision: input.decision === undefined ? undefined : copyDecision(input.decision),
    effective: input.effective === undefined ? undefined : copyUser(input.effective),
    forwardedAs: input.forwardedAs === undefined ? undefined : copyUser(input.forwardedAs),
    gateway: { name: input.gateway.name, namespace: input.gateway.namespace, replica: input.gateway.replica },
    kind: 'AuditRecord',
    latencyMs: input.latencyMs,
    level: input.level,
    objectRef,
    requestObject: keepBody ? redactCredentials(input.requestObject) : undefined,
    requestReceivedTimestamp: input.requestReceived.toISOString(),
    requestURI: input.requestURI,
    responseBody: response.responseBody,
    responseObject: response.responseObject,
    responseStatus: input.responseStatus === undefined ? undefined : copyStatus(input.responseStatus),
    session: input.session === undefined ? undefined : structuredClone(input.session),
    sourceIPs: [...input.sourceIPs],
    stage: input.stage,
    stageTimestamp: input.stageTimestamp.toISOString(),
    userAgent: input.userAgent,
    verb: input.verb,
  };
}

const NO_RESPONSE = { responseBody: undefined, responseObject: undefined } as const;

/** The credential resources' answers (a Secret, a token) are never recorded, masked or not: only that they were not. */
const CREDENTIAL_RESPONSE: AuditResponseBody = { bytes: 0, complete: true, omitted: 'the body of this resource is never recorded (credentials)' };

function responseMembers(input: AuditRecordInput, credential: boolean): { responseBody: AuditResponseBody | undefined; responseObject: unknown } {
  if (input.responseBody === undefined) return NO_RESPONSE;
  if (credential) return { responseBody: { ...CREDENTIAL_RESPONSE, complete: input.responseBody.complete }, responseObject: undefined };
  const { head } = input.responseBody;
  return {
    responseBody: { ...structuredClone(input.responseBody), ...(head === undefined ? {} : { head: redactCredentialText(head) }) },
    responseObject: input.responseObject === undefined ? undefined : redactCredentials(input.responseObject),
  };
}

function checkInput(input: AuditRecordInput): void {
  const problems: string[] = [];
  if (input.auditID === '') problems.push('auditID is empty');
  if (Number.isNaN(input.requestReceived.getTime())) problems.push('requestReceived is not a valid date');
  if (Number.isNaN(input.stageTimestamp.getTime())) problems.push('stageTimestamp is not a valid date');
  if (input.latencyMs !== undefined && !Number.isFinite(input.latencyMs)) problems.push('latencyMs is not a finite number');
  if (input.responseStatus !== undefined && !Number.isInteger(input.responseStatus.code)) problems.push('responseStatus.code is not an integer');
  if (problems.length > 0) throw new TypeError(`invalid audit record input: ${problems.join('; ')}`);
}

function compactObjectRef(ref: AuditObjectRef): AuditObjectRef | undefined {
  const out: Record<string, string> = {};
  for (const key of ['apiGroup', 'apiVersion', 'name', 'namespace', 'resource', 'subresource'] as const) {
    const value = ref[key];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function bodyIsCredential(ref: AuditObjectRef | undefined): boolean {
  if (ref?.resource === undefined) return false;
  const resource = ref.resource.toLowerCase();
  const withSub = ref.subresource === undefined ? resource : `${resource}/${ref.subresource.toLowerCase()}`;
  return BODY_NEVER_RECORDED.has(resource) || BODY_NEVER_RECORDED.has(withSub);
}

function copyUser(user: AuditUser): AuditUser {
  const extra: Record<string, string[]> = {};
  for (const key of Object.keys(user.extra).sort()) setOwn(extra, key, [...(user.extra[key] ?? [])]);
  return { extra, groups: [...user.groups], ...(user.uid === undefined ? {} : { uid: user.uid }), username: user.username };
}

function copyAuthentication(a: AuditAuthentication): AuditAuthentication {
  return { ...(a.issuer === undefined ? {} : { issuer: a.issuer }), method: a.method };
}

function copyDecision(d: AuditDecision): AuditDecision {
  return {
    action: d.action,
    ...(d.policy === undefined ? {} : { policy: { name: d.policy.name, namespace: d.policy.namespace } }),
    reason: d.reason,
    ...(d.rule === undefined ? {} : { rule: d.rule }),
  };
}

type AuditResponseStatus = NonNullable<UnchainedAuditRecord['responseStatus']>;

function copyStatus(s: AuditResponseStatus): AuditResponseStatus {
  return { code: s.code, ...(s.message === undefined ? {} : { message: s.message }), ...(s.reason === undefined ? {} : { reason: s.reason }) };
}

/**
 * A copy of a JSON value with credential-named fields and credential-shaped strings replaced by
 * `[REDACTED]`. Only plain JSON survives (what a parsed request body holds).
 */
export function redactCredentials(value: unknown): unknown {
  if (typeof value === 'string') return BEARER_VALUE.test(value) || JWT_VALUE.test(value) ? REDACTED : value;
  if (Array.isArray(value)) return value.map((item) => redactCredentials(item));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      setOwn(out, key, CREDENTIAL_KEYS.has(key.toLowerCase()) ? REDACTED : redactCredentials(item));
    }
    return out;
  }
  return value;
}

const BEARER_IN_TEXT = /bearer\s+[\w.~+/-]+=*/gi;
const JWT_IN_TEXT = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*/g;

/**
 * A body cut off mid-JSON cannot be walked like a value: credential-shaped substrings (a bearer
 * token, a JWT) are replaced wherever they appear in its text.
 */
export function redactCredentialText(text: string): string {
  return text.replace(BEARER_IN_TEXT, REDACTED).replace(JWT_IN_TEXT, REDACTED);
}

/** Defines an own property even for keys like `__proto__` that a parsed body may carry. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key !== '__proto__') target[key] = value;
  else Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
