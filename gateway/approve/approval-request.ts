// The ApprovalRequest a held request becomes, and where one stands: pure functions over the
// request, the identities and the rule. The gateway recognises a retry of the same request by its
// fingerprint (both identities, verb, path with query, body digest), so a changed body (scale to 0
// instead of 3) is a different request that needs its own approval.
import { createHash } from 'node:crypto';
import type { AuthenticatedCaller, UserInfo } from '../authenticate/identity.ts';
import type { ApprovalSettings, RequestAttributes } from '../policy/model.ts';

export const APPROVAL_GROUP = 'airlock.dev';
export const APPROVAL_VERSION = 'v1alpha1';
export const FINGERPRINT_LABEL = 'airlock.dev/fingerprint';
export const GATEWAY_LABEL = 'airlock.dev/gateway';

const DEFAULT_TIMEOUT_MS = 15 * 60_000;
const DEFAULT_GRANT_MS = 10 * 60_000;

export interface ApprovalDecision {
  readonly decision: 'Approve' | 'Deny';
  readonly by: string;
  readonly reason?: string;
  readonly at: string;
}

/** The fields of an ApprovalRequest the gateway reads back. */
export interface ApprovalRequestObject {
  readonly metadata: { readonly name?: string; readonly namespace?: string; readonly resourceVersion?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly spec: {
    readonly requester: { readonly caller: { readonly username: string }; readonly effective?: { readonly username: string } };
    readonly request: { readonly fingerprint: string; readonly summary: string };
    readonly approvers: { readonly users?: readonly string[]; readonly groups?: readonly string[] };
    readonly minApprovals?: number;
    readonly mode?: 'Wait' | 'Reject';
    readonly expiresAt: string;
    readonly grantTTL?: string;
  };
  readonly status?: {
    readonly phase?: 'Pending' | 'Approved' | 'Denied' | 'Expired' | 'Consumed';
    readonly decisions?: readonly ApprovalDecision[];
    readonly grant?: { readonly notBefore?: string; readonly notAfter?: string };
    readonly consumedBy?: { readonly auditID?: string; readonly at?: string };
  };
}

/** "90s", "15m", "2h" (the CRD's pattern) to milliseconds; undefined for anything else. */
export function parseDuration(text: string | undefined): number | undefined {
  const match = text === undefined ? null : /^(\d+)(s|m|h)$/.exec(text);
  if (match === null) return undefined;
  const unit = match[2] === 's' ? 1000 : match[2] === 'm' ? 60_000 : 3_600_000;
  return Number(match[1]) * unit;
}

export function bodyDigest(body: Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

export interface FingerprintInput {
  readonly caller: string;
  readonly effective: string;
  readonly method: string;
  /** The request target as sent, path and query. */
  readonly target: string;
  readonly bodyDigest: string;
}

export function fingerprint(input: FingerprintInput): string {
  const text = JSON.stringify([input.caller, input.effective, input.method.toUpperCase(), input.target, input.bodyDigest]);
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** The label value for a fingerprint (labels hold 63 characters): a lookup key, checked against spec. */
export function fingerprintLabel(print: string): string {
  return print.replace(/^sha256:/, '').slice(0, 63);
}

const KIND_OF: Readonly<Record<string, string>> = {
  deployments: 'deployment', statefulsets: 'statefulset', replicasets: 'replicaset', daemonsets: 'daemonset',
  namespaces: 'namespace', pods: 'pod', services: 'service', secrets: 'secret', configmaps: 'configmap',
};

/** What will happen, for a person: "scale deployment prod/api to 0 replicas", "delete namespace payments". */
export function summarize(request: RequestAttributes, body: unknown): string {
  if (!request.resourceRequest) return `${request.verb} ${request.path}`;
  const kind = KIND_OF[request.resource] ?? request.resource;
  const target = request.namespace === '' ? request.name : `${request.namespace}/${request.name}`;
  const replicas = (body as { spec?: { replicas?: unknown } } | undefined)?.spec?.replicas;
  if (typeof replicas === 'number' && (request.subresource === 'scale' || request.verb === 'patch')) {
    return `scale ${kind} ${target} to ${replicas} replica${replicas === 1 ? '' : 's'}`;
  }
  const sub = request.subresource === '' ? '' : ` ${request.subresource}`;
  if (request.name === '') return `${request.verb} ${kind}${sub}${request.namespace === '' ? '' : ` in namespace ${request.namespace}`}`;
  return `${request.verb} ${kind}${sub} ${target}`;
}

export interface BuildInput {
  readonly gateway: { readonly name: string; readonly namespace: string };
  readonly request: RequestAttributes & { readonly apiVersion?: string };
  readonly caller: AuthenticatedCaller;
  readonly effective: UserInfo;
  readonly policy: { readonly namespace: string; readonly name: string; readonly rule: string };
  readonly settings: ApprovalSettings;
  readonly bodyDigest: string;
  readonly fingerprint: string;
  readonly summary: string;
  readonly now: Date;
}

function requestSpec(input: BuildInput): Record<string, unknown> {
  const r = input.request;
  return r.resourceRequest
    ? {
      verb: r.verb, apiGroup: r.apiGroup, ...(r.apiVersion === undefined ? {} : { apiVersion: r.apiVersion }), resource: r.resource,
      ...(r.subresource === '' ? {} : { subresource: r.subresource }), namespace: r.namespace, name: r.name,
      summary: input.summary, bodyDigest: input.bodyDigest, fingerprint: input.fingerprint,
    }
    : { verb: r.verb, path: r.path, summary: input.summary, bodyDigest: input.bodyDigest, fingerprint: input.fingerprint };
}

/** The ApprovalRequest to create (generateName: the API server names it). */
export function buildApprovalRequest(input: BuildInput): Record<string, unknown> {
  const { settings, caller, effective } = input;
  const timeoutMs = parseDuration(settings.timeout) ?? DEFAULT_TIMEOUT_MS;
  const impersonating = effective.username !== caller.user.username;
  return {
    apiVersion: `${APPROVAL_GROUP}/${APPROVAL_VERSION}`,
    kind: 'ApprovalRequest',
    metadata: {
      generateName: `${input.request.verb}-${(input.request.resource || 'path').slice(0, 30)}-`.toLowerCase().replace(/[^a-z0-9-]/g, '-'),
      namespace: input.gateway.namespace,
      labels: { [GATEWAY_LABEL]: input.gateway.name, [FINGERPRINT_LABEL]: fingerprintLabel(input.fingerprint) },
    },
    spec: {
      requester: {
        caller: {
          username: caller.user.username, ...(caller.user.uid === undefined ? {} : { uid: caller.user.uid }), groups: [...caller.user.groups],
          authentication: caller.method === 'oidc' ? `oidc ${caller.issuer ?? ''}`.trim() : caller.method,
        },
        ...(impersonating ? { effective: { username: effective.username, groups: [...effective.groups] } } : {}),
      },
      request: requestSpec(input),
      policy: { namespace: input.policy.namespace, name: input.policy.name, rule: input.policy.rule },
      approvers: {
        ...(settings.approvers.users === undefined ? {} : { users: [...settings.approvers.users] }),
        ...(settings.approvers.groups === undefined ? {} : { groups: [...settings.approvers.groups] }),
      },
      minApprovals: settings.minApprovals ?? 1,
      mode: settings.mode ?? 'Wait',
      gateway: input.gateway.name,
      expiresAt: new Date(input.now.getTime() + timeoutMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      grantTTL: settings.grantTTL ?? '10m',
    },
  };
}

export type ApprovalState =
  | { readonly state: 'pending' }
  | { readonly state: 'approved' }
  | { readonly state: 'denied'; readonly by: string; readonly reason: string }
  | { readonly state: 'expired'; readonly what: 'request' | 'grant' }
  | { readonly state: 'consumed' };

function isApprover(spec: ApprovalRequestObject['spec'], by: string): boolean {
  return spec.approvers.users?.includes(by) === true || (spec.approvers.groups?.length ?? 0) > 0;
}

/** When an approved grant stops being usable: status.grant if the operator set it, else last approval + grantTTL. */
function grantEnd(ar: ApprovalRequestObject, approvals: readonly ApprovalDecision[]): number | undefined {
  const notAfter = ar.status?.grant?.notAfter;
  if (notAfter !== undefined) return Date.parse(notAfter);
  const last = approvals.at(-1)?.at;
  return last === undefined ? undefined : Date.parse(last) + (parseDuration(ar.spec.grantTTL) ?? DEFAULT_GRANT_MS);
}

function enoughApprovals(ar: ApprovalRequestObject, approvals: readonly ApprovalDecision[]): boolean {
  return new Set(approvals.map((d) => d.by)).size >= (ar.spec.minApprovals ?? 1);
}

/**
 * Where a request stands, from its phase when the operator has set a final one, otherwise from the
 * decisions themselves (the admission policy guarantees each was written by a listed approver
 * under their own name), so the gateway does not wait for the operator to act on a decision.
 */
export function approvalState(ar: ApprovalRequestObject, now: Date): ApprovalState {
  const phase = ar.status?.phase;
  if (phase === 'Consumed') return { state: 'consumed' };
  const decisions = ar.status?.decisions ?? [];
  const deny = decisions.find((d) => d.decision === 'Deny');
  if (deny !== undefined) return { state: 'denied', by: deny.by, reason: deny.reason ?? '' };
  if (phase === 'Denied') return { state: 'denied', by: 'a reviewer', reason: '' };
  const approvals = decisions.filter((d) => d.decision === 'Approve' && isApprover(ar.spec, d.by));
  if (enoughApprovals(ar, approvals) || phase === 'Approved') {
    const end = grantEnd(ar, approvals);
    const over = phase === 'Expired' || (end !== undefined && end <= now.getTime());
    return over ? { state: 'expired', what: 'grant' } : { state: 'approved' };
  }
  if (phase === 'Expired' || Date.parse(ar.spec.expiresAt) <= now.getTime()) return { state: 'expired', what: 'request' };
  return { state: 'pending' };
}
