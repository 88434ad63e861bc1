// What the policy engine decides on: the request's attributes and both identities.
import type { AuthenticatedCaller, UserInfo } from '../authenticate/identity.ts';

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

/** A rule's `mask` settings: extra field paths, and whether Secret values are shown unmasked. */
export interface MaskSettings {
  readonly fields?: readonly string[];
  readonly envNamePattern?: string;
  /** Replaced in recorded session output and input. */
  readonly sessionPatterns?: readonly string[];
  readonly exempt?: boolean;
}

/** Session recording for exec and attach (AccessPolicy rule `recording`). */
export type RecordingMode = 'None' | 'Optional' | 'Required';

export interface Decision {
  readonly action: Action;
  /** The deciding rule's recording mode, if it sets one (Optional otherwise). */
  readonly recording?: RecordingMode;
  /** The deciding rule's mask settings, if it has any. */
  readonly mask?: MaskSettings;
  /** Present when action is RequireApproval. */
  readonly approval?: ApprovalSettings;
  /** The rule that decided; absent when the gateway's default action decided. */
  readonly matched?: PolicyRef;
  readonly message?: string;
  readonly reason: string;
}
