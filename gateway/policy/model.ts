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

export interface Decision {
  readonly action: Action;
  /** The rule that decided; absent when the gateway's default action decided. */
  readonly matched?: PolicyRef;
  readonly message?: string;
  readonly reason: string;
}
