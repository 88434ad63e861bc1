// What the policy engine decides on: the request's attributes and both identities.
import type { AuthenticatedCaller, UserInfo } from '../identity.ts';

export type Action = 'Allow' | 'Deny' | 'RequireApproval';

export interface RequestAttributes {
  readonly resourceRequest: boolean;
  /** Policy verb (exec over a WebSocket GET is `create`, as for a SPDY POST). */
  readonly verb: string;
  readonly apiGroup: string;
  readonly resource: string;
  readonly subresource: string;
  readonly namespace: string;
  readonly name: string;
  readonly path: string;
  /**
   * Further verbs the API server authorizes for this request, each with why: a server-side apply
   * or a PUT that can create its object is also checked as `create`. Absent: none.
   */
  readonly alsoVerbs?: readonly AlsoVerb[];
  /**
   * True only when the API server's discovery says the resource is cluster-scoped. Absent or false:
   * namespaced (an unknown resource counts as namespaced: fail closed), so a request on it without a
   * namespace (a list or watch across all namespaces) reaches every namespace.
   */
  readonly clusterScoped?: boolean;
}

export interface AlsoVerb {
  readonly verb: string;
  /** Why the API server also authorizes this verb, for the refusal and the audit record. */
  readonly why: string;
}

export interface DecisionInput {
  readonly request: RequestAttributes;
  readonly caller: AuthenticatedCaller;
  /** The identity the request acts as: the caller, or whom the caller impersonates. */
  readonly effective: UserInfo;
}

export interface PolicyRef {
  readonly namespace: string;
  readonly name: string;
  readonly rule: string;
}

/** A RequireApproval rule's settings, as written in the AccessPolicy. */
export interface ApprovalSettings {
  readonly approvers: { readonly users?: readonly string[]; readonly groups?: readonly string[] };
  readonly minApprovals?: number;
  readonly mode?: 'Wait' | 'Reject';
  /** Durations as written, e.g. "15m". */
  readonly timeout?: string;
  readonly grantTTL?: string;
  readonly reusable?: boolean;
}

/** A rule's `mask` settings as written: extra field paths, and whether Secret values are shown unmasked. */
export interface MaskSettings {
  readonly fields?: readonly string[];
  readonly envNamePattern?: string;
  /** Replaced in recorded session output and input. */
  readonly sessionPatterns?: readonly string[];
  readonly exempt?: boolean;
}

/**
 * The masks a request is answered under: the `mask` of every rule that let it through, merged
 * (field paths and patterns unioned; Secret values shown only when every one of those rules says
 * `exempt`). Every path and pattern in it was checked when the policies compiled.
 */
export interface EffectiveMask {
  readonly fields: readonly string[];
  readonly envNamePatterns: readonly string[];
  readonly sessionPatterns: readonly string[];
  readonly exempt: boolean;
}

/** The audit level a rule asks for the requests it matches (AccessPolicy rule `auditLevel`); it only ever raises the gateway's. */
export type RuleAuditLevel = 'Metadata' | 'Request' | 'RequestResponse';

/** Session recording for exec and attach (AccessPolicy rule `recording`). */
export type RecordingMode = 'None' | 'Optional' | 'Required';

export interface Decision {
  readonly action: Action;
  /** The strictest recording mode of the rules that let the request through, if one sets it (Optional otherwise). */
  readonly recording?: RecordingMode;
  /** The strictest audit level of the matching rules that set one (the deciding rule, and every rule that let the request through). */
  readonly auditLevel?: RuleAuditLevel;
  /** The merged masks of the rules that let the request through, if any of them has one. */
  readonly mask?: EffectiveMask;
  /** Present when action is RequireApproval. */
  readonly approval?: ApprovalSettings;
  /** The rule that decided; absent when the gateway's default action decided. */
  readonly matched?: PolicyRef;
  readonly message?: string;
  readonly reason: string;
}
