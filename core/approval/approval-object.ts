// An ApprovalRequest as the gateway and the operator read it back, and the labels and defaults
// both rely on. The gateway builds and consumes them (gateway/approve/), the operator moves their
// phase (operator/controllers/approval-phase.ts); the schema is crds/airlock.dev_approvalrequests.yaml.

export const FINGERPRINT_LABEL = 'airlock.dev/fingerprint';
export const GATEWAY_LABEL = 'airlock.dev/gateway';

export const DEFAULT_GRANT_MS = 10 * 60_000;

export interface ApprovalDecision {
  readonly decision: 'Approve' | 'Deny';
  readonly by: string;
  /** The approver groups the reviewer decided as; admission checks the reviewer is in each. */
  readonly groups?: readonly string[];
  readonly reason?: string;
  readonly at: string;
}

export interface RecordedIdentity {
  readonly username: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

/** The fields of an ApprovalRequest the gateway and the operator read back. */
export interface ApprovalRequestObject {
  readonly metadata: { readonly name?: string; readonly namespace?: string; readonly resourceVersion?: string; readonly creationTimestamp?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly spec: {
    readonly requester: { readonly caller: RecordedIdentity; readonly effective?: RecordedIdentity };
    readonly request: { readonly fingerprint: string; readonly summary: string; readonly changes?: readonly RequestChange[] };
    readonly policy?: { readonly namespace?: string; readonly name: string; readonly rule: string };
    readonly approvers: { readonly users?: readonly string[]; readonly groups?: readonly string[] };
    readonly minApprovals?: number;
    readonly mode?: 'Wait' | 'Reject';
    readonly gateway?: string;
    readonly reusable?: boolean;
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

export interface RequestChange {
  /** Field path, e.g. `.spec.template.spec.containers[0].image`. */
  readonly path: string;
  /** The JSON patch operation, for JSON patches. */
  readonly op?: string;
  /** The new value as JSON text (masked; cut at MAX_VALUE_CHARS); absent for a JSON patch remove. */
  readonly value?: string;
  /** Where a JSON patch move or copy takes its value from. */
  readonly from?: string;
}
