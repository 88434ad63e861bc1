// Generated from crds/*.yaml by crds/generate-types.ts; do not edit. Run `npm run generate`.
import type { V1ObjectMeta } from '@kubernetes/client-node';

export const GROUP = 'airlock.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = 'airlock.dev/v1alpha1';

export const ACCESSGATEWAY_PLURAL = 'accessgateways';
/**
 * The desired gateway. The operator never writes it.
 */
export interface AccessGatewaySpec {
  /**
   * Number of gateway pods. With more than one, a PodDisruptionBudget keeps one serving. Default 2.
   */
  replicas?: number;
  /**
   * Container image of the gateway. Defaults to the operator's own image, which contains both.
   */
  image?: string;
  /**
   * The Kubernetes API server the gateway forwards to. Default, the cluster the gateway runs in.
   */
  upstream?: {
    /**
     * HTTPS URL of the API server, e.g. https://kubernetes.default.svc. Empty means the cluster the gateway runs in.
     */
    server?: string;
    /**
     * A Secret in this namespace whose `ca.crt` key holds the CA bundle that signs the API server's certificate. Empty means the cluster's own CA.
     */
    caSecretRef?: {
      /**
       * Name of the Secret.
       */
      name: string;
    };
  };
  /**
   * How callers prove who they are. At least one method must be enabled.
   */
  authentication?: {
    /**
     * OpenID Connect issuers whose JWTs are accepted, configured like kube-apiserver's structured authentication (JWTAuthenticator).
     *
     * @maxItems 16
     */
    oidc?: {
      /**
       * The issuer; a token's `iss` claim must equal it exactly. Discovery is read from {issuerURL}/.well-known/openid-configuration unless discoveryURL is set. Example https://token.actions.githubusercontent.com.
       */
      issuerURL: string;
      /**
       * Where to read the discovery document when it is not served under the issuer URL.
       */
      discoveryURL?: string;
      /**
       * Accepted audiences; a token's `aud` must contain at least one.
       *
       * @minItems 1
       * @maxItems 16
       */
      audiences: [string, ...string[]];
      /**
       * Claim that holds the username. Default `sub`. With `email`, a present `email_verified` must be true.
       */
      usernameClaim?: string;
      /**
       * Prefix added to every username from this issuer, so its users cannot collide with cluster users (e.g. "github:"). Required; "" means none.
       */
      usernamePrefix: string;
      /**
       * Claim that holds the groups (a string or a list of strings). Empty means no groups from the token.
       */
      groupsClaim?: string;
      /**
       * Prefix added to every group from this issuer.
       */
      groupsPrefix?: string;
      /**
       * Claims a token must carry with exactly these values, e.g. repository_owner=acme.
       */
      requiredClaims?: {
        [k: string]: string | undefined;
      };
      /**
       * Signature algorithms accepted. Default [RS256]. `none` and HMAC are never accepted.
       *
       * @maxItems 9
       */
      algorithms?: ("RS256" | "RS384" | "RS512" | "ES256" | "ES384" | "ES512" | "PS256" | "PS384" | "PS512")[];
      /**
       * Claims kept with the identity so AccessPolicy `claim` subjects can match them, e.g. [repository, ref, job_workflow_ref, environment] for GitHub Actions.
       *
       * @maxItems 32
       */
      claimsForPolicy?: string[];
    }[];
    /**
     * Accept Kubernetes ServiceAccount tokens (and any token the cluster accepts), checked with a TokenReview.
     */
    serviceAccountTokens?: {
      /**
       * Whether ServiceAccount tokens are accepted. Default true.
       */
      enabled?: boolean;
      /**
       * Audiences the token must be valid for. Empty means the API server's own audience.
       *
       * @maxItems 16
       */
      audiences?: string[];
    };
  };
  /**
   * Which AccessPolicies this gateway enforces, by label. Empty selects every AccessPolicy in the gateway's namespace.
   */
  policySelector?: {
    /**
     * Labels an AccessPolicy must have, all of them.
     */
    matchLabels?: {
      [k: string]: string | undefined;
    };
    /**
     * Label requirements, all of which must hold.
     *
     * @maxItems 16
     */
    matchExpressions?: {
      /**
       * The label key.
       */
      key: string;
      /**
       * In, NotIn, Exists or DoesNotExist.
       */
      operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
      /**
       * Values for In and NotIn; empty for Exists and DoesNotExist.
       *
       * @maxItems 64
       */
      values?: string[];
    }[];
  };
  /**
   * What happens to a request no policy rule matches. Deny (the default) refuses it; Allow forwards it and lets Kubernetes RBAC decide.
   */
  defaultAction?: "Allow" | "Deny";
  /**
   * The audit trail every request writes, hash-chained so tampering is detectable, stored outside the cluster.
   */
  audit?: {
    /**
     * None writes nothing; Metadata (default) records who, what, the decision and the outcome; Request adds the request body, masked.
     */
    level?: "None" | "Metadata" | "Request";
    /**
     * FailClosed (default) refuses a request whose audit record cannot be written durably; FailOpen serves it and counts the failure.
     */
    failurePolicy?: "FailClosed" | "FailOpen";
    /**
     * Where records go. Each sink names exactly one of file or webhook.
     *
     * @maxItems 8
     */
    sinks?: {
      /**
       * JSON lines in a file on a volume, rotated by size.
       */
      file?: {
        /**
         * Absolute path of the log file inside the gateway pod.
         */
        path: string;
        /**
         * Rotate after this many megabytes. Default 100.
         */
        maxSizeMB?: number;
        /**
         * Rotated files kept. Default 10.
         */
        maxFiles?: number;
      };
      /**
       * Batches of records POSTed as JSON arrays to an HTTP endpoint, retried with backoff.
       */
      webhook?: {
        /**
         * The endpoint, e.g. https://audit.example.com/airlock.
         */
        url: string;
        /**
         * A Secret in this namespace whose `ca.crt` signs the endpoint's certificate.
         */
        caSecretRef?: {
          /**
           * Name of the Secret.
           */
          name: string;
        };
        /**
         * Records per request. Default 100.
         */
        batchSize?: number;
        /**
         * Longest wait before a partial batch is sent, as a duration. Default 1s.
         */
        flushInterval?: string;
      };
    }[];
  };
  /**
   * The gateway's own upstream credential, minted by the operator with the TokenRequest API and rotated before it expires.
   */
  credentials?: {
    /**
     * Lifetime of each token, as a duration (10m to 24h). Default 1h.
     */
    tokenTTL?: string;
    /**
     * Percentage of the lifetime after which a new token is issued (10 to 90). Default 80.
     */
    rotateAt?: number;
  };
  /**
   * The certificate the gateway serves to callers.
   */
  tls?: {
    /**
     * OperatorManaged (default) issues a certificate for the Service names from an operator-managed CA and rotates it; Secret uses secretName.
     */
    mode?: "OperatorManaged" | "Secret";
    /**
     * A kubernetes.io/tls Secret in this namespace (mode Secret).
     */
    secretName?: string;
  };
  /**
   * How the gateway is exposed.
   */
  service?: {
    /**
     * ClusterIP (default), NodePort or LoadBalancer.
     */
    type?: "ClusterIP" | "NodePort" | "LoadBalancer";
    /**
     * Port callers connect to. Default 443.
     */
    port?: number;
  };
}

/**
 * What the operator observed. Written only by the operator.
 */
export interface AccessGatewayStatus {
  /**
   * The spec generation this status describes.
   */
  observedGeneration?: number;
  /**
   * Ready (serving), CredentialsReady (a valid upstream token is mounted), PoliciesReady (selected policies accepted), Degraded (something needs a person).
   *
   * @maxItems 16
   *
   * Items: A condition in the standard Kubernetes shape.
   */
  conditions?: {
    /**
     * The aspect this condition describes, e.g. Ready.
     */
    type: string;
    /**
     * True, False or Unknown.
     */
    status: "True" | "False" | "Unknown";
    /**
     * The generation the condition was set for.
     */
    observedGeneration?: number;
    /**
     * When the status last changed.
     */
    lastTransitionTime: string;
    /**
     * A CamelCase reason a program can act on.
     */
    reason: string;
    /**
     * What a person should know.
     */
    message: string;
  }[];
  /**
   * The URL callers put in their kubeconfig.
   */
  endpoint?: string;
  /**
   * Gateway pods that exist.
   */
  replicas?: number;
  /**
   * Gateway pods ready to serve.
   */
  readyReplicas?: number;
  /**
   * Label selector of the gateway pods (for the scale subresource).
   */
  selector?: string;
  /**
   * The upstream credential currently mounted.
   */
  credential?: {
    /**
     * When the current token was issued.
     */
    issuedAt?: string;
    /**
     * When the current token expires.
     */
    expiresAt?: string;
    /**
     * When the operator will issue the next token.
     */
    rotateAfter?: string;
  };
}

export interface AccessGateway {
  apiVersion: 'airlock.dev/v1alpha1';
  kind: 'AccessGateway';
  metadata: V1ObjectMeta;
  spec: AccessGatewaySpec;
  status?: AccessGatewayStatus;
}

export const ACCESSPOLICY_PLURAL = 'accesspolicies';
/**
 * The policy. The operator never writes it.
 */
export interface AccessPolicySpec {
  /**
   * Who the rules apply to; each entry names exactly one of user, group, serviceAccount or claim. Deny and RequireApproval rules apply when either the caller or the identity it impersonates matches; Allow rules only when the caller matches.
   *
   * @minItems 1
   * @maxItems 64
   */
  subjects: [
    {
      /**
       * A user by exact username, as the gateway authenticated it (OIDC usernames carry their issuer's prefix).
       */
      user?: {
        /**
         * The username, e.g. "github:repo:acme/payments:ref:refs/heads/main" or "alice@example.com".
         */
        name: string;
      };
      /**
       * Everyone in a group (OIDC groups carry their issuer's groups prefix).
       */
      group?: {
        /**
         * The group, e.g. "sre" or "system:serviceaccounts:ci".
         */
        name: string;
      };
      /**
       * A Kubernetes ServiceAccount authenticated by its token.
       */
      serviceAccount?: {
        /**
         * Namespace of the ServiceAccount.
         */
        namespace: string;
        /**
         * Name of the ServiceAccount.
         */
        name: string;
      };
      /**
       * Callers whose OIDC token carries a claim with one of the values, e.g. GitHub Actions' repository claim. The claim must be listed in the issuer's claimsForPolicy.
       */
      claim?: {
        /**
         * Only tokens from this issuer URL match. Strongly recommended; empty matches every configured issuer.
         */
        issuer?: string;
        /**
         * The claim, e.g. repository, ref, job_workflow_ref, environment.
         */
        name: string;
        /**
         * The value the claim must have.
         */
        value?: string;
        /**
         * Values of which the claim must have one.
         *
         * @maxItems 64
         */
        values?: string[];
      };
    },
    ...{
      /**
       * A user by exact username, as the gateway authenticated it (OIDC usernames carry their issuer's prefix).
       */
      user?: {
        /**
         * The username, e.g. "github:repo:acme/payments:ref:refs/heads/main" or "alice@example.com".
         */
        name: string;
      };
      /**
       * Everyone in a group (OIDC groups carry their issuer's groups prefix).
       */
      group?: {
        /**
         * The group, e.g. "sre" or "system:serviceaccounts:ci".
         */
        name: string;
      };
      /**
       * A Kubernetes ServiceAccount authenticated by its token.
       */
      serviceAccount?: {
        /**
         * Namespace of the ServiceAccount.
         */
        namespace: string;
        /**
         * Name of the ServiceAccount.
         */
        name: string;
      };
      /**
       * Callers whose OIDC token carries a claim with one of the values, e.g. GitHub Actions' repository claim. The claim must be listed in the issuer's claimsForPolicy.
       */
      claim?: {
        /**
         * Only tokens from this issuer URL match. Strongly recommended; empty matches every configured issuer.
         */
        issuer?: string;
        /**
         * The claim, e.g. repository, ref, job_workflow_ref, environment.
         */
        name: string;
        /**
         * The value the claim must have.
         */
        value?: string;
        /**
         * Values of which the claim must have one.
         *
         * @maxItems 64
         */
        values?: string[];
      };
    }[]
  ];
  /**
   * Rules in order. Every matching rule counts; the strictest action wins (Deny, then RequireApproval, then Allow), and among equals the first rule is reported.
   *
   * @minItems 1
   * @maxItems 256
   */
  rules: [
    {
      /**
       * A name unique in this policy, shown in denials, approvals and audit records.
       */
      name: string;
      /**
       * Which requests the rule covers. An empty or absent list matches everything; "*" in a list matches everything.
       */
      match?: {
        /**
         * Kubernetes verbs. exec, attach and portforward are `create` on the subresource (also over WebSocket).
         *
         * @maxItems 16
         */
        verbs?: (
          | "*"
          | "get"
          | "list"
          | "watch"
          | "create"
          | "update"
          | "patch"
          | "delete"
          | "deletecollection"
          | "impersonate"
          | "proxy"
          | "approve"
          | "bind"
          | "escalate"
        )[];
        /**
         * API groups; "" is the core group.
         *
         * @maxItems 32
         */
        apiGroups?: string[];
        /**
         * Resources, optionally with a subresource ("pods/exec", "deployments/scale", "pods/*").
         *
         * @maxItems 32
         */
        resources?: string[];
        /**
         * Namespaces the request must target.
         *
         * @maxItems 64
         */
        namespaces?: string[];
        /**
         * Object names the request must target.
         *
         * @maxItems 64
         */
        names?: string[];
        /**
         * Non-resource paths such as /healthz or /version; a trailing * matches a prefix. A rule with nonResourceURLs matches only non-resource requests.
         *
         * @maxItems 32
         */
        nonResourceURLs?: string[];
      };
      /**
       * Allow forwards the request; Deny refuses it with `message`; RequireApproval holds it until approvers decide (see approval).
       */
      action: "Allow" | "Deny" | "RequireApproval";
      /**
       * Shown to the caller when this rule denies or holds a request, e.g. "CI may not delete namespaces; ask
       */
      message?: string;
      /**
       * Extra masking of response fields for requests this rule covers (Secret data is always masked unless exempt).
       */
      mask?: {
        /**
         * Field paths to mask, e.g. ".data.*" on ConfigMaps or ".spec.template.spec.containers[*].env[*].value".
         *
         * @maxItems 32
         */
        fields?: string[];
        /**
         * Mask container env values whose name matches this regular expression, e.g. "(?i)(password|token|secret|key)".
         */
        envNamePattern?: string;
        /**
         * Let these subjects see Secret values unmasked (e.g. a controller that needs them). Default false.
         */
        exempt?: boolean;
      };
      /**
       * Session recording for exec and attach. None; Optional (default; record when possible); Required (refuse a session that cannot be recorded).
       */
      recording?: "None" | "Optional" | "Required";
      /**
       * Who decides and how, for action RequireApproval.
       */
      approval?: {
        /**
         * Users and groups whose decision counts. Nobody decides their own request.
         */
        approvers: {
          /**
           * Usernames of approvers.
           *
           * @maxItems 64
           */
          users?: string[];
          /**
           * Groups whose members approve.
           *
           * @maxItems 32
           */
          groups?: string[];
        };
        /**
         * Approvals needed; any deny decides at once. Default 1.
         */
        minApprovals?: number;
        /**
         * Wait (default) holds the request open until a decision; Reject answers at once with what to run, and the same request succeeds on retry once approved.
         */
        mode?: "Wait" | "Reject";
        /**
         * How long a request waits for a decision before it expires, as a duration. Default 15m.
         */
        timeout?: string;
        /**
         * How long an approval stays usable, as a duration. Default 10m.
         */
        grantTTL?: string;
        /**
         * Whether one approval covers repeats of the same request within grantTTL. Default false (used once).
         */
        reusable?: boolean;
      };
    },
    ...{
      /**
       * A name unique in this policy, shown in denials, approvals and audit records.
       */
      name: string;
      /**
       * Which requests the rule covers. An empty or absent list matches everything; "*" in a list matches everything.
       */
      match?: {
        /**
         * Kubernetes verbs. exec, attach and portforward are `create` on the subresource (also over WebSocket).
         *
         * @maxItems 16
         */
        verbs?: (
          | "*"
          | "get"
          | "list"
          | "watch"
          | "create"
          | "update"
          | "patch"
          | "delete"
          | "deletecollection"
          | "impersonate"
          | "proxy"
          | "approve"
          | "bind"
          | "escalate"
        )[];
        /**
         * API groups; "" is the core group.
         *
         * @maxItems 32
         */
        apiGroups?: string[];
        /**
         * Resources, optionally with a subresource ("pods/exec", "deployments/scale", "pods/*").
         *
         * @maxItems 32
         */
        resources?: string[];
        /**
         * Namespaces the request must target.
         *
         * @maxItems 64
         */
        namespaces?: string[];
        /**
         * Object names the request must target.
         *
         * @maxItems 64
         */
        names?: string[];
        /**
         * Non-resource paths such as /healthz or /version; a trailing * matches a prefix. A rule with nonResourceURLs matches only non-resource requests.
         *
         * @maxItems 32
         */
        nonResourceURLs?: string[];
      };
      /**
       * Allow forwards the request; Deny refuses it with `message`; RequireApproval holds it until approvers decide (see approval).
       */
      action: "Allow" | "Deny" | "RequireApproval";
      /**
       * Shown to the caller when this rule denies or holds a request, e.g. "CI may not delete namespaces; ask
       */
      message?: string;
      /**
       * Extra masking of response fields for requests this rule covers (Secret data is always masked unless exempt).
       */
      mask?: {
        /**
         * Field paths to mask, e.g. ".data.*" on ConfigMaps or ".spec.template.spec.containers[*].env[*].value".
         *
         * @maxItems 32
         */
        fields?: string[];
        /**
         * Mask container env values whose name matches this regular expression, e.g. "(?i)(password|token|secret|key)".
         */
        envNamePattern?: string;
        /**
         * Let these subjects see Secret values unmasked (e.g. a controller that needs them). Default false.
         */
        exempt?: boolean;
      };
      /**
       * Session recording for exec and attach. None; Optional (default; record when possible); Required (refuse a session that cannot be recorded).
       */
      recording?: "None" | "Optional" | "Required";
      /**
       * Who decides and how, for action RequireApproval.
       */
      approval?: {
        /**
         * Users and groups whose decision counts. Nobody decides their own request.
         */
        approvers: {
          /**
           * Usernames of approvers.
           *
           * @maxItems 64
           */
          users?: string[];
          /**
           * Groups whose members approve.
           *
           * @maxItems 32
           */
          groups?: string[];
        };
        /**
         * Approvals needed; any deny decides at once. Default 1.
         */
        minApprovals?: number;
        /**
         * Wait (default) holds the request open until a decision; Reject answers at once with what to run, and the same request succeeds on retry once approved.
         */
        mode?: "Wait" | "Reject";
        /**
         * How long a request waits for a decision before it expires, as a duration. Default 15m.
         */
        timeout?: string;
        /**
         * How long an approval stays usable, as a duration. Default 10m.
         */
        grantTTL?: string;
        /**
         * Whether one approval covers repeats of the same request within grantTTL. Default false (used once).
         */
        reusable?: boolean;
      };
    }[]
  ];
}

/**
 * Whether the policy is enforced. Written only by the operator.
 */
export interface AccessPolicyStatus {
  /**
   * The spec generation this status describes.
   */
  observedGeneration?: number;
  /**
   * Accepted is True when every rule is valid and enforced; its message names the first bad rule otherwise.
   *
   * @maxItems 8
   *
   * Items: A condition in the standard Kubernetes shape.
   */
  conditions?: {
    /**
     * The aspect this condition describes, e.g. Accepted.
     */
    type: string;
    /**
     * True, False or Unknown.
     */
    status: "True" | "False" | "Unknown";
    /**
     * The generation the condition was set for.
     */
    observedGeneration?: number;
    /**
     * When the status last changed.
     */
    lastTransitionTime: string;
    /**
     * A CamelCase reason a program can act on.
     */
    reason: string;
    /**
     * What a person should know.
     */
    message: string;
  }[];
  /**
   * Number of rules.
   */
  ruleCount?: number;
  /**
   * AccessGateways (namespace/name) that enforce this policy.
   */
  selectedBy?: string[];
}

export interface AccessPolicy {
  apiVersion: 'airlock.dev/v1alpha1';
  kind: 'AccessPolicy';
  metadata: V1ObjectMeta;
  spec: AccessPolicySpec;
  status?: AccessPolicyStatus;
}

export const APPROVALREQUEST_PLURAL = 'approvalrequests';
/**
 * What is asked, by whom, under which rule. Immutable once created.
 */
export interface ApprovalRequestSpec {
  /**
   * Both identities of the request.
   */
  requester: {
    /**
     * The authenticated caller.
     */
    caller: {
      /**
       * Username as the gateway authenticated it.
       */
      username: string;
      /**
       * The caller's UID, if any.
       */
      uid?: string;
      /**
       * The caller's groups.
       *
       * @maxItems 256
       */
      groups?: string[];
      /**
       * How the caller authenticated (oidc, serviceaccount, token) and, for OIDC, the issuer.
       */
      authentication?: string;
    };
    /**
     * Whom the caller impersonates; absent when the caller acts as itself.
     */
    effective?: {
      /**
       * The impersonated username.
       */
      username: string;
      /**
       * The impersonated groups.
       *
       * @maxItems 256
       */
      groups?: string[];
    };
  };
  /**
   * The request that will be forwarded if approved.
   */
  request: {
    /**
     * Kubernetes verb, e.g. patch.
     */
    verb: string;
    /**
     * API group; "" is the core group.
     */
    apiGroup?: string;
    /**
     * API version, e.g. v1.
     */
    apiVersion?: string;
    /**
     * Resource, e.g. deployments.
     */
    resource: string;
    /**
     * Subresource, e.g. scale.
     */
    subresource?: string;
    /**
     * Target namespace; empty for cluster-scoped objects.
     */
    namespace?: string;
    /**
     * Target object name; empty for collections.
     */
    name?: string;
    /**
     * What will happen, for a person, e.g. "scale deployment prod/api from 3 to 0 replicas".
     */
    summary: string;
    /**
     * SHA-256 of the request body; a changed body needs a new approval.
     */
    bodyDigest: string;
    /**
     * SHA-256 over requester, verb, path and body digest; how the gateway recognises the same request.
     */
    fingerprint: string;
  };
  /**
   * The AccessPolicy rule that required the approval.
   */
  policy: {
    /**
     * Namespace of the AccessPolicy.
     */
    namespace?: string;
    /**
     * Name of the AccessPolicy.
     */
    name: string;
    /**
     * Name of the rule.
     */
    rule: string;
  };
  /**
   * Who may decide, copied from the rule when the request was made.
   */
  approvers: {
    /**
     * Approver usernames.
     *
     * @maxItems 64
     */
    users?: string[];
    /**
     * Approver groups.
     *
     * @maxItems 32
     */
    groups?: string[];
  };
  /**
   * Approvals needed; any deny decides. Default 1.
   */
  minApprovals?: number;
  /**
   * Wait (the gateway holds the request open) or Reject (the caller retries once approved).
   */
  mode?: "Wait" | "Reject";
  /**
   * The AccessGateway that created this request.
   */
  gateway?: string;
  /**
   * When a pending request expires.
   */
  expiresAt: string;
  /**
   * How long an approval stays usable, as a duration.
   */
  grantTTL?: string;
}

/**
 * Decisions and where the request stands. Reviewers append decisions; only Airlock moves phase.
 */
export interface ApprovalRequestStatus {
  /**
   * Pending, Approved, Denied, Expired or Consumed.
   */
  phase?: "Pending" | "Approved" | "Denied" | "Expired" | "Consumed";
  /**
   * Decisions in the order they were made; append-only.
   *
   * @maxItems 64
   */
  decisions?: {
    /**
     * Approve or Deny.
     */
    decision: "Approve" | "Deny";
    /**
     * Username of the reviewer; must be the user who wrote the decision.
     */
    by: string;
    /**
     * Why, in the reviewer's words; shown to the caller on a deny.
     */
    reason?: string;
    /**
     * When the decision was made.
     */
    at: string;
  }[];
  /**
   * When an approved request may be used.
   */
  grant?: {
    /**
     * Start of the window.
     */
    notBefore?: string;
    /**
     * End of the window.
     */
    notAfter?: string;
  };
  /**
   * The request that used the approval.
   */
  consumedBy?: {
    /**
     * Audit ID of the forwarded request.
     */
    auditID?: string;
    /**
     * When it was forwarded.
     */
    at?: string;
  };
  /**
   * The spec generation this status describes.
   */
  observedGeneration?: number;
  /**
   * Standard conditions, e.g. Approved, Denied.
   *
   * @maxItems 8
   *
   * Items: A condition in the standard Kubernetes shape.
   */
  conditions?: {
    /**
     * The aspect this condition describes.
     */
    type: string;
    /**
     * True, False or Unknown.
     */
    status: "True" | "False" | "Unknown";
    /**
     * The generation the condition was set for.
     */
    observedGeneration?: number;
    /**
     * When the status last changed.
     */
    lastTransitionTime: string;
    /**
     * A CamelCase reason a program can act on.
     */
    reason: string;
    /**
     * What a person should know.
     */
    message: string;
  }[];
}

export interface ApprovalRequest {
  apiVersion: 'airlock.dev/v1alpha1';
  kind: 'ApprovalRequest';
  metadata: V1ObjectMeta;
  spec: ApprovalRequestSpec;
  status?: ApprovalRequestStatus;
}
