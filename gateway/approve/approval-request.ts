// The ApprovalRequest a held request becomes: pure functions over the request, the identities and
// the rule. The gateway recognises a retry of the same request by its fingerprint, which covers
// everything that decides what the API server will do and as whom: the gateway, both whole
// identities (username, uid, groups, extra), method, path with query, content type and body
// digest. A changed body (scale to 0 instead of 3), another content type (a strategic-merge patch
// replayed as a merge patch), another DeleteOptions or one more impersonated group is a different
// request that needs its own approval.
import { createHash } from 'node:crypto';
import type { AuthenticatedCaller, UserInfo } from '../../core/identity.ts';
import type { ApprovalSettings, RequestAttributes } from '../../core/policy/model.ts';
import { GROUP, VERSION } from '../../crds/types.gen.ts';
import { parseDuration } from '../../core/duration.ts';
import { FINGERPRINT_LABEL, GATEWAY_LABEL } from '../../core/approval/approval-object.ts';
import type { DescribedBody } from './request-changes.ts';

const DEFAULT_TIMEOUT_MS = 15 * 60_000;

export function bodyDigest(body: Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

export interface FingerprintInput {
  /** namespace/name of the gateway that holds the request. */
  readonly gateway: string;
  readonly caller: UserInfo;
  readonly effective: UserInfo;
  readonly method: string;
  /** The request target as sent, path and query. */
  readonly target: string;
  /** The Content-Type header as sent ('' when absent). */
  readonly contentType: string;
  readonly bodyDigest: string;
}

/** A user as the API server sees it; extra keys sorted (an object's key order carries no meaning), lists as sent. */
function canonicalUser(user: UserInfo): unknown[] {
  const extra = Object.keys(user.extra).sort().map((key) => [key, [...(user.extra[key] ?? [])]]);
  return [user.username, user.uid ?? null, [...user.groups], extra];
}

export function fingerprint(input: FingerprintInput): string {
  const text = JSON.stringify([
    'v2', input.gateway, canonicalUser(input.caller), canonicalUser(input.effective),
    input.method.toUpperCase(), input.target, input.contentType.trim().toLowerCase(), input.bodyDigest,
  ]);
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** The label value for a fingerprint (labels hold 63 characters): a lookup key, checked against spec. */
export function fingerprintLabel(print: string): string {
  return print.replace(/^sha256:/, '').slice(0, 63);
}

/** Whether two users are the same identity to the API server (then the request is not impersonating). */
export function sameUser(a: UserInfo, b: UserInfo): boolean {
  return a === b || JSON.stringify(canonicalUser(a)) === JSON.stringify(canonicalUser(b));
}

export interface BuildInput {
  readonly gateway: { readonly name: string; readonly namespace: string };
  readonly request: RequestAttributes & { readonly apiVersion?: string };
  readonly caller: AuthenticatedCaller;
  readonly effective: UserInfo;
  readonly policy: { readonly namespace: string; readonly name: string; readonly rule: string };
  readonly settings: ApprovalSettings;
  readonly bodyDigest: string;
  readonly contentType: string;
  readonly fingerprint: string;
  readonly summary: string;
  readonly described: DescribedBody;
  readonly now: Date;
  /** The object's name (approvalRequestName): one per held request, whichever replica holds it. */
  readonly name: string;
}

/**
 * The name of the ApprovalRequest for a held request: derived from its fingerprint and rule, so
 * that every replica holding the same request at once creates the same object (the second create
 * conflicts and uses the first), plus an attempt number for the next request once an earlier one
 * is finished (used, denied, expired).
 */
export function approvalRequestName(input: { verb: string; resource: string; fingerprint: string; policy: BuildInput['policy']; attempt: number }): string {
  const binding = JSON.stringify([input.fingerprint, input.policy.namespace, input.policy.name, input.policy.rule]);
  const digest = createHash('sha256').update(binding).digest('hex').slice(0, 12);
  const prefix = `${input.verb}-${(input.resource || 'path').slice(0, 30)}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  return `${prefix}-${digest}-${input.attempt}`;
}

/** The attempt number of a name approvalRequestName made with the same fingerprint and rule, or undefined. */
export function attemptOf(name: string, sameRequest: string): number | undefined {
  const base = sameRequest.slice(0, sameRequest.lastIndexOf('-') + 1);
  if (!name.startsWith(base)) return undefined;
  const attempt = Number(name.slice(base.length));
  return Number.isInteger(attempt) && attempt >= 0 ? attempt : undefined;
}

function requestSpec(input: BuildInput): Record<string, unknown> {
  const r = input.request;
  const { changes, note } = input.described;
  const common = {
    summary: input.summary, bodyDigest: input.bodyDigest, fingerprint: input.fingerprint,
    // The fingerprint covers the header whole; the copy for people fits the CRD's 256 characters.
    ...(input.contentType === '' ? {} : { contentType: input.contentType.slice(0, 256) }),
    ...(changes.length === 0 ? {} : { changes: changes.map((c) => ({ ...c })) }),
    ...(note === undefined ? {} : { changesNote: note }),
  };
  return r.resourceRequest
    ? {
      verb: r.verb, apiGroup: r.apiGroup, ...(r.apiVersion === undefined ? {} : { apiVersion: r.apiVersion }), resource: r.resource,
      ...(r.subresource === '' ? {} : { subresource: r.subresource }), namespace: r.namespace, name: r.name, ...common,
    }
    : { verb: r.verb, path: r.path, ...common };
}

function recorded(user: UserInfo): Record<string, unknown> {
  const extra = Object.keys(user.extra);
  return {
    username: user.username, ...(user.uid === undefined ? {} : { uid: user.uid }), groups: [...user.groups],
    ...(extra.length === 0 ? {} : { extra: Object.fromEntries(extra.sort().map((k) => [k, [...(user.extra[k] ?? [])]])) }),
  };
}

const seconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The ApprovalRequest to create. */
export function buildApprovalRequest(input: BuildInput): Record<string, unknown> {
  const { settings, caller, effective } = input;
  const timeoutMs = parseDuration(settings.timeout) ?? DEFAULT_TIMEOUT_MS;
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'ApprovalRequest',
    metadata: {
      name: input.name,
      namespace: input.gateway.namespace,
      labels: { [GATEWAY_LABEL]: input.gateway.name, [FINGERPRINT_LABEL]: fingerprintLabel(input.fingerprint) },
    },
    spec: {
      requester: {
        caller: { ...recorded(caller.user), authentication: caller.method === 'oidc' ? `oidc ${caller.issuer ?? ''}`.trim() : caller.method },
        ...(sameUser(effective, caller.user) ? {} : { effective: recorded(effective) }),
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
      expiresAt: seconds(input.now.getTime() + timeoutMs),
      grantTTL: settings.grantTTL ?? '10m',
      reusable: settings.reusable ?? false,
    },
  };
}
