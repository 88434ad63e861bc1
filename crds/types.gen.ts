// Generated from crds/*.yaml by crds/generate-types.ts; do not edit. Run `npm run generate`.
import type { V1ListMeta, V1ObjectMeta } from '@kubernetes/client-node';

export const GROUP = 'airlock.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = 'airlock.dev/v1alpha1';

export const ACCESSGATEWAY_PLURAL = 'accessgateways';
/**
 * The desired gateway. The operator never writes it. Every field has a default, so an empty spec ({}) is a working gateway: ServiceAccount tokens, deny by default, audit to a file.
 */
export interface AccessGatewaySpec {
  /**
   * Number of gateway pods (1 to 50). With more than one, a PodDisruptionBudget keeps one serving. Default 2.
   */
  replicas?: number;
  /**
   * Container image of the gateway, e.g. ghcr.io/acme/airlock:0.1.0. Empty means the operator's own image, which contains both.
   */
  image?: string;
  /**
   * The Kubernetes API server the gateway forwards to. Absent means the cluster the gateway runs in (kubernetes.default.svc with the ServiceAccount CA).
   */
  upstream?: {
    /**
     * HTTPS URL of the API server, e.g. https://api.prod.example.com:6443. Absent means the cluster the gateway runs in.
     */
    server?: string;
    /**
     * A Secret in this namespace whose `ca.crt` key holds the CA bundle that signs the server's certificate. Needs server; absent means the system trust store.
     */
    caSecretRef?: {
      /**
       * Name of the Secret, e.g. prod-apiserver-ca.
       */
      name: string;
    };
  };
  /**
   * How callers prove who they are. At least one method must stay enabled; absent means ServiceAccount tokens only.
   */
  authentication?: {
    /**
     * OpenID Connect issuers whose JWTs are accepted, configured like kube-apiserver's structured authentication (JWTAuthenticator), one entry per issuer URL. Example, GitHub Actions: issuerURL https://token.actions.githubusercontent.com, audiences [https://airlock.example.com], usernamePrefix "github:".
     *
     * @maxItems 16
     */
    oidc?: {
      /**
       * The issuer; a token's `iss` claim must equal it exactly. Discovery is read from {issuerURL}/.well-known/openid-configuration unless discoveryURL is set. Must be https, e.g. https://token.actions.githubusercontent.com.
       */
      issuerURL: string;
      /**
       * Where to read the discovery document when it is not served under the issuer URL (e.g. an in-cluster address of the issuer). The document's issuer must still equal issuerURL.
       */
      discoveryURL?: string;
      /**
       * Accepted audiences; a token's `aud` must contain at least one, e.g. [https://airlock.example.com].
       *
       * @minItems 1
       * @maxItems 16
       */
      audiences: string[];
      /**
       * Claim that holds the username. Default `sub`. With `email`, a present `email_verified` must be true.
       */
      usernameClaim?: string;
      /**
       * Prefix added to every username from this issuer, so its users cannot collide with cluster users, e.g. "github:". Required, so the choice is explicit; "" means none.
       */
      usernamePrefix: string;
      /**
       * Claim that holds the groups (a string or a list of strings), e.g. groups. Absent means the token gives no groups.
       */
      groupsClaim?: string;
      /**
       * Prefix added to every group from this issuer, e.g. "github:". Absent means none.
       */
      groupsPrefix?: string;
      /**
       * Claims a token must carry with exactly these values, e.g. {repository_owner: acme} so that only one organisation's workflows get in.
       */
      requiredClaims?: {
        [k: string]: string | undefined;
      };
      /**
       * Signature algorithms accepted. Default [RS256]. `none` and HMAC algorithms are never accepted.
       *
       * @minItems 1
       * @maxItems 9
       */
      algorithms?: ("RS256" | "RS384" | "RS512" | "ES256" | "ES384" | "ES512" | "PS256" | "PS384" | "PS512")[];
      /**
       * Claims kept with the identity so AccessPolicy `claim` subjects can match them, e.g. [repository, ref, job_workflow_ref, environment] for GitHub Actions. Other claims are dropped after authentication.
       *
       * @maxItems 32
       */
      claimsForPolicy?: string[];
    }[];
    /**
     * Accept Kubernetes ServiceAccount tokens (and any other token the cluster accepts), checked with a TokenReview.
     */
    serviceAccountTokens?: {
      /**
       * Whether ServiceAccount tokens are accepted. Default true.
       */
      enabled?: boolean;
      /**
       * Audiences a token must be valid for, e.g. [airlock]. Empty means the API server's own audience. Set, workloads call the gateway with a projected token or `kubectl create token SA --audience AUDIENCE`, which the API server refuses when sent to it directly, and a token for any other audience (a pod's automounted one) is refused with the command to use instead.
       *
       * @maxItems 16
       */
      audiences?: string[];
    };
  };
  /**
   * Which AccessPolicies in the gateway's namespace this gateway enforces, by label, e.g. matchLabels {airlock.dev/gateway: ci-gateway}. Absent or empty selects every AccessPolicy in the namespace.
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
       * The label key, e.g. airlock.dev/team.
       */
      key: string;
      /**
       * In, NotIn, Exists or DoesNotExist.
       */
      operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
      /**
       * Values for In and NotIn (at least one); must be empty for Exists and DoesNotExist.
       *
       * @maxItems 64
       */
      values?: string[];
    }[];
  };
  /**
   * The names the gateway asks the API server to act as. Caller (the default) forwards the caller's own username and groups, so RBAC bound to them works through the gateway and equally without it (a ServiceAccount's automounted token sent straight to the API server). GatewayOnly forwards every username, group and uid behind prefix, a name the API server never gives by itself: RBAC bound to those names (e.g. User airlock:platform:ci-gateway:system:serviceaccount:ci:deployer) is honoured only for requests through this gateway. Policies match the caller's true identity either way.
   */
  identity?: {
    /**
     * Caller (default) or GatewayOnly.
     */
    forwardAs?: "Caller" | "GatewayOnly";
    /**
     * The prefix of GatewayOnly names. Absent means airlock:<namespace>:<name>: (this gateway's own). Must end with ":" and must not start with "system:"; callers and impersonation requests whose names already start with it are refused.
     */
    prefix?: string;
  };
  /**
   * What happens to a request no policy rule matches. Deny (the default) refuses it; Allow forwards it and lets Kubernetes RBAC decide.
   */
  defaultAction?: "Allow" | "Deny";
  /**
   * Who may read the API's discovery documents (/api, /apis), /openapi, /version and the health endpoints, which kubectl needs for every command. AllAuthenticated (the default) lets every authenticated caller read them unless a Deny or RequireApproval rule matches, as the API server's own system:discovery role does; Policy leaves them to the rules, like any other path.
   */
  discovery?: "AllAuthenticated" | "Policy";
  /**
   * The audit trail every request writes, hash-chained so tampering is detectable. Default: level Metadata, FailClosed, to the file /var/log/airlock/audit.log in the pod (an emptyDir, lost with the pod); add a webhook sink to keep the trail outside the cluster. Level None turns it off; any other level needs a sink.
   */
  audit?: {
    /**
     * None writes nothing; Metadata (default) records who, what, the decision and the outcome; Request adds the request body, masked; RequestResponse also the response body as the caller received it, masked, up to maxResponseBodyBytes. An AccessPolicy rule's auditLevel raises it for the requests it matches.
     */
    level?: "None" | "Metadata" | "Request" | "RequestResponse";
    /**
     * At level RequestResponse, the most bytes of one response body (or of one watch's events) a record keeps, 1024 to 4194304; the rest is counted and hashed, and the record says where it was cut. Default 65536.
     */
    maxResponseBodyBytes?: number;
    /**
     * FailClosed (default) refuses a request whose audit record cannot be written durably; FailOpen serves it and counts the failure.
     */
    failurePolicy?: "FailClosed" | "FailOpen";
    /**
     * Where records go, at most one file and one webhook. Each sink names exactly one of file or webhook. Default, one file sink at /var/log/airlock/audit.log.
     *
     * @maxItems 2
     */
    sinks?: {
      /**
       * JSON lines in a file on a volume, rotated by size.
       */
      file?: {
        /**
         * Absolute path of the log file inside the gateway pod, e.g. /var/log/airlock/audit.log.
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
         * The endpoint, e.g. https://audit.example.com/airlock. Use https outside the cluster network.
         */
        url: string;
        /**
         * A Secret in this namespace whose `ca.crt` key signs the endpoint's certificate. Absent means the system trust store.
         */
        caSecretRef?: {
          /**
           * Name of the Secret, e.g. audit-collector-ca.
           */
          name: string;
        };
        /**
         * Records per request (1 to 10000). Default 100.
         */
        batchSize?: number;
        /**
         * Longest wait before a partial batch is sent, as a duration such as 500ms or 2s (at most 1m). Default 1s.
         */
        flushInterval?: string;
      };
    }[];
  };
  /**
   * Where exec and attach sessions are recorded (asciicast v2, one file per session, named by the request's audit id and hashed into its audit record). Absent, sessions are not recorded and a policy rule with recording Required refuses them.
   */
  recording?: {
    /**
     * Directory in the gateway container, e.g. /var/log/airlock/sessions.
     */
    path: string;
    /**
     * A PersistentVolumeClaim mounted at path, so recordings outlive the pod (e.g. a ReadWriteMany volume shipped off the cluster). Absent, an emptyDir, which dies with the pod.
     */
    claimName?: string;
  };
  /**
   * Bounds a hostile or broken client meets: connections, timeouts, body sizes, memory for bodies, requests in flight per caller. Each field absent keeps the gateway's default (the README's "Gateway configuration" table). Watches, logs and exec sessions carry no body and are never cut by these timeouts; they live as long as the API server keeps them.
   */
  limits?: {
    /**
     * Open connections per gateway pod (watches and exec sessions included); more are closed at accept. Default 2048.
     */
    maxConnections?: number;
    /**
     * Open connections per pod from one client address (an IPv6 /64 counts as one). 0 turns the cap off, e.g. behind a load balancer that hides client addresses. Default 512.
     */
    maxConnectionsPerClientIP?: number;
    /**
     * How long a TLS handshake may take, e.g. 10s (1s to 10m). Default 10s.
     */
    tlsHandshakeTimeout?: string;
    /**
     * How long a request's headers may take to arrive, e.g. 30s (1s to 10m); then 408 and the connection is closed. Default 30s.
     */
    headersTimeout?: string;
    /**
     * How long a keep-alive connection may wait for its next request, e.g. 65s (1s to 1h); keep it above the idle timeout of a load balancer in front. Default 65s.
     */
    idleTimeout?: string;
    /**
     * How long a request body may take to arrive whole after its headers, e.g. 60s (1s to 1h); then 408. Default 60s.
     */
    requestBodyTimeout?: string;
    /**
     * The longest pause within a request body, e.g. 30s (1s to 1h); then 408. Default 30s.
     */
    requestBodyIdleTimeout?: string;
    /**
     * The largest request body in bytes, at every audit level; larger is refused with 413 (1024 to 1073741824). Default 3145728 (3 MiB, the API server's own limit).
     */
    maxRequestBodyBytes?: number;
    /**
     * Bytes of request bodies a pod holds in memory at once (audit level Request, approvals, bodies without Content-Length); a body that finds no room within 3s is refused with 429. At least maxRequestBodyBytes. Default 33554432 (32 MiB).
     */
    requestBodyBufferBytes?: number;
    /**
     * Requests in flight per authenticated caller (by username, before impersonation); over a cap the answer is 429 with Retry-After.
     */
    perCaller?: {
      /**
       * Ordinary requests in flight per caller (1 to 1000000). Default 64.
       */
      maxRequestsInflight?: number;
      /**
       * Watches, logs, exec, attach, port-forward and proxy requests in flight per caller, counted apart from the others (1 to 1000000). Default 256.
       */
      maxLongRunningRequests?: number;
    };
  };
  /**
   * The gateway's own upstream credential, minted by the operator with the TokenRequest API and rotated before it expires. Callers never see it.
   */
  credentials?: {
    /**
     * Lifetime of each token, as a duration from 10m to 24h, e.g. 30m or 1h30m. Default 1h.
     */
    tokenTTL?: string;
    /**
     * Percentage of the token's lifetime after which a new token is issued (10 to 90). Default 80, so a 1h token is replaced after 48m.
     */
    rotateAt?: number;
  };
  /**
   * The certificate the gateway serves to callers.
   */
  tls?: {
    /**
     * OperatorManaged (default) issues a certificate for the Service names from an operator-managed CA and rotates it; Secret serves the one in secretName (e.g. from cert-manager).
     */
    mode?: "OperatorManaged" | "Secret";
    /**
     * A kubernetes.io/tls Secret in this namespace, e.g. ci-gateway-tls. Required with mode Secret, ignored otherwise.
     */
    secretName?: string;
  };
  /**
   * How the gateway is exposed inside or outside the cluster.
   */
  service?: {
    /**
     * ClusterIP (default), NodePort or LoadBalancer.
     */
    type?: "ClusterIP" | "NodePort" | "LoadBalancer";
    /**
     * Port callers connect to (1 to 65535). Default 443.
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
   * Ready (serving requests), CredentialsReady (a valid upstream token is mounted), PoliciesReady (every selected policy is accepted), Degraded (something needs a person; the message says what).
   *
   * @maxItems 16
   *
   * Items: A condition in the standard Kubernetes shape (metav1.Condition).
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
     * A CamelCase reason a program can act on, e.g. TokenExpired.
     */
    reason: string;
    /**
     * What a person should know.
     */
    message: string;
  }[];
  /**
   * The URL callers put in their kubeconfig, e.g. https://ci-gateway.airlock-system.svc:443.
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
   * Label selector of the gateway pods, for the scale subresource.
   */
  selector?: string;
  /**
   * The upstream credential currently mounted (never the token itself).
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
  /**
   * The serving certificate the gateway presents.
   */
  tls?: {
    /**
     * The kubernetes.io/tls Secret the gateway serves from (ca.crt in it is the bundle callers trust, in mode OperatorManaged).
     */
    secretName?: string;
    /**
     * When the serving certificate expires.
     */
    notAfter?: string;
    /**
     * When the operator will issue the next serving certificate (mode OperatorManaged).
     */
    renewAfter?: string;
    /**
     * When the namespace CA (Secret airlock-gateway-ca) expires (mode OperatorManaged).
     */
    caNotAfter?: string;
  };
}

/** airlock.dev/v1alpha1 AccessGateway (`kubectl explain accessgateway`). */
export interface AccessGateway {
  apiVersion: 'airlock.dev/v1alpha1';
  kind: 'AccessGateway';
  metadata: V1ObjectMeta;
  spec: AccessGatewaySpec;
  status?: AccessGatewayStatus;
}

export interface AccessGatewayList {
  apiVersion: 'airlock.dev/v1alpha1';
  kind: 'AccessGatewayList';
  metadata: V1ListMeta;
  items: AccessGateway[];
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
  subjects: {
    /**
     * A user by exact username, as the gateway authenticated it (OIDC usernames carry their issuer's usernamePrefix).
     */
    user?: {
      /**
       * The username, e.g. "github:repo:acme/payments:ref:refs/heads/main" or "alice@example.com".
       */
      name: string;
    };
    /**
     * Everyone in a group (OIDC groups carry their issuer's groupsPrefix).
     */
    group?: {
      /**
       * The group, e.g. "sre" or "system:serviceaccounts:ci".
       */
      name: string;
    };
    /**
     * A Kubernetes ServiceAccount authenticated by its token (username system:serviceaccount:<namespace>:<name>).
     */
    serviceAccount?: {
      /**
       * Namespace of the ServiceAccount, e.g. ci.
       */
      namespace: string;
      /**
       * Name of the ServiceAccount, e.g. deployer.
       */
      name: string;
    };
    /**
     * Callers whose OIDC token carries a claim with the value (or one of the values), e.g. GitHub Actions' repository claim. The issuer must list the claim in its claimsForPolicy.
     */
    claim?: {
      /**
       * Only tokens from this issuer URL match, e.g. https://token.actions.githubusercontent.com. Strongly recommended; absent matches every configured issuer.
       */
      issuer?: string;
      /**
       * The claim, e.g. repository, ref, job_workflow_ref, environment.
       */
      name: string;
      /**
       * The value the claim must have, e.g. acme/payments.
       */
      value?: string;
      /**
       * Values of which the claim must have one, e.g. [refs/heads/main, refs/heads/release].
       *
       * @minItems 1
       * @maxItems 64
       */
      values?: string[];
    };
  }[];
  /**
   * Rules in order. Every matching rule counts; the strictest action wins (Deny, then RequireApproval, then Allow), and among equals the first rule is reported. Names are unique within the policy.
   *
   * @minItems 1
   * @maxItems 256
   */
  rules: {
    /**
     * A DNS label unique in this policy, shown in denials, approvals and audit records, e.g. deny-namespace-deletes.
     */
    name: string;
    /**
     * Which requests the rule covers. An absent field or empty list matches everything, and so does "*" in a list; the fields must all match.
     */
    match?: {
      /**
       * Kubernetes verbs, e.g. [get, list, watch]. exec, attach and portforward are `create` on the subresource (also over WebSocket). A request is judged on every verb the API server authorizes for it, the strictest outcome winning - a server-side apply is `patch` and `create`, as is a PUT to a kind that creates on update (Roles, RoleBindings, Services, Leases...).
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
       * API groups, e.g. ["", apps]; "" is the core group.
       *
       * @maxItems 32
       */
      apiGroups?: string[];
      /**
       * Resources (plural, lower case), optionally with a subresource, e.g. [pods/exec, deployments/scale, "pods/*"].
       *
       * @maxItems 32
       */
      resources?: string[];
      /**
       * Namespaces the request must target, e.g. [payments]. A cluster-scoped request never matches a rule that lists namespaces. A Deny or RequireApproval rule also governs a request without a namespace on a namespaced resource (a list, watch or deletecollection across all namespaces), which reaches these namespaces; an Allow rule never allows one.
       *
       * @maxItems 64
       */
      namespaces?: string[];
      /**
       * Object names the request must target, e.g. [api]. A Deny or RequireApproval rule also governs a request that names no single object (a list, watch or deletecollection without a metadata.name field selector, and every create, whose name is in the body); an Allow rule never allows one.
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
     * Shown to the caller when this rule denies or holds a request, e.g. "CI may not delete namespaces; ask #platform".
     */
    message?: string;
    /**
     * Extra masking of response fields for requests this rule covers. The masks of every Allow and RequireApproval rule that matches a request apply together. Secret data is always masked unless exempt. With fields or envNamePattern set, list and get answers come without server-side Table columns (kubectl prints NAME and AGE), since a printer column could show a masked field.
     */
    mask?: {
      /**
       * Field paths to mask, e.g. [".data.*"] on ConfigMaps or [".spec.template.spec.containers[*].env[*].value"]. Strings are replaced by ***MASKED***; a path that names an object or array masks every string inside it.
       *
       * @maxItems 32
       */
      fields?: string[];
      /**
       * Mask container env values whose name matches this regular expression, e.g. "(?i)(password|token|secret|key)".
       */
      envNamePattern?: string;
      /**
       * Regular expressions whose matches are replaced with ***MASKED*** in recorded exec and attach sessions (output and input), e.g. ["AKIA[0-9A-Z]{16}", "(?i)password=\\S+"]. Matched line by line, so a recording holds a line until it ends (or 4 KiB).
       *
       * @maxItems 16
       */
      sessionPatterns?: string[];
      /**
       * Let these subjects see Secret values unmasked (e.g. a controller that needs them), when every rule that lets the request through says so. Default false.
       */
      exempt?: boolean;
    };
    /**
     * Session recording for exec and attach. None; Optional (the default; record when the recorder is available); Required (refuse a session that cannot be recorded). The strictest mode of the rules that let a session through applies.
     */
    recording?: "None" | "Optional" | "Required";
    /**
     * The audit level of the requests this rule matches, like a rule of the API server's audit policy. Metadata records who, what, the decision and the outcome; Request adds the request body, masked; RequestResponse also the response body as the caller received it (masked, up to the gateway's audit.maxResponseBodyBytes; a watch's events up to it, then a count by type). The strictest level of the matching rules applies, and only ever raises the gateway's own level (a policy cannot lower or turn off the audit). Secret and token bodies are never recorded. Absent, the gateway's level.
     */
    auditLevel?: "Metadata" | "Request" | "RequestResponse";
    /**
     * Who decides and how. Required with action RequireApproval, not allowed otherwise.
     */
    approval?: {
      /**
       * Users and groups whose decision counts (at least one). Nobody decides their own request.
       */
      approvers: {
        /**
         * Usernames of approvers, e.g. [alice@example.com].
         *
         * @maxItems 64
         */
        users?: string[];
        /**
         * Groups whose members approve, e.g. [sre].
         *
         * @maxItems 32
         */
        groups?: string[];
      };
      /**
       * Approvals needed (1 to 10); any deny decides at once. Default 1.
       */
      minApprovals?: number;
      /**
       * Wait (default) holds the request open until a decision; Reject answers at once with the command to approve, and the same request succeeds on retry once approved.
       */
      mode?: "Wait" | "Reject";
      /**
       * How long a request waits for a decision before it expires, as a duration from 10s to 24h, e.g. 15m. Default 15m.
       */
      timeout?: string;
      /**
       * How long an approval stays usable after it is given, as a duration from 10s to 24h. Default 10m.
       */
      grantTTL?: string;
      /**
       * Whether one approval covers repeats of the same request within grantTTL. Default false (used once).
       */
      reusable?: boolean;
    };
  }[];
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
   * Accepted is True when every rule is valid and enforced; otherwise its message names the first bad rule.
   *
   * @maxItems 8
   *
   * Items: A condition in the standard Kubernetes shape (metav1.Condition).
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
     * A CamelCase reason a program can act on, e.g. InvalidRule.
     */
    reason: string;
    /**
     * What a person should know.
     */
    message: string;
  }[];
  /**
   * Number of rules enforced.
   */
  ruleCount?: number;
  /**
   * AccessGateways (namespace/name) whose policySelector matches this policy; they enforce it while it is Accepted.
   *
   * @maxItems 256
   */
  selectedBy?: string[];
  /**
   * The names in selectedBy, comma-separated, for `kubectl get` (a policy is read by the gateways of its own namespace); absent when none selects it.
   */
  gateways?: string;
}

/** airlock.dev/v1alpha1 AccessPolicy (`kubectl explain accesspolicy`). */
export interface AccessPolicy {
  apiVersion: 'airlock.dev/v1alpha1';
  kind: 'AccessPolicy';
  metadata: V1ObjectMeta;
  spec: AccessPolicySpec;
  status?: AccessPolicyStatus;
}

export interface AccessPolicyList {
  apiVersion: 'airlock.dev/v1alpha1';
  kind: 'AccessPolicyList';
  metadata: V1ListMeta;
  items: AccessPolicy[];
}

export const APPROVALREQUEST_PLURAL = 'approvalrequests';
/**
 * What is asked, by whom, under which rule. Written by the gateway once; immutable.
 */
export interface ApprovalRequestSpec {
  /**
   * Both identities of the request, so that the approval is used only by the caller it was granted to.
   */
  requester: {
    /**
     * The authenticated caller, as the gateway saw it.
     */
    caller: {
      /**
       * Username as the gateway authenticated it, e.g. "github:repo:acme/payments:ref:refs/heads/main".
       */
      username: string;
      /**
       * The caller's UID, if the authenticator gave one.
       */
      uid?: string;
      /**
       * The caller's groups, e.g. [system:authenticated].
       *
       * @maxItems 256
       */
      groups?: string[];
      /**
       * Extra attributes of the caller (as in Kubernetes UserInfo), e.g. the OIDC claims kept for policy.
       */
      extra?: {
        /**
         * @maxItems 32
         */
        [k: string]: string[] | undefined;
      };
      /**
       * How the caller authenticated, e.g. "oidc https://token.actions.githubusercontent.com" or "serviceaccount".
       */
      authentication?: string;
    };
    /**
     * Whom the caller impersonates (the whole identity the API server will see); absent when the caller acts as itself.
     */
    effective?: {
      /**
       * The impersonated username, e.g. deployer.
       */
      username: string;
      /**
       * The impersonated UID, if one was asked for (Impersonate-Uid).
       */
      uid?: string;
      /**
       * The impersonated groups, e.g. [deployers, system:authenticated]; one more group is another request.
       *
       * @maxItems 256
       */
      groups?: string[];
      /**
       * Impersonated extra attributes (Impersonate-Extra-*).
       */
      extra?: {
        /**
         * @maxItems 32
         */
        [k: string]: string[] | undefined;
      };
    };
  };
  /**
   * The request that will be forwarded if approved. It names a resource (with verb, apiGroup, resource, namespace, name) or a non-resource path.
   */
  request: {
    /**
     * Kubernetes verb, e.g. patch.
     */
    verb: string;
    /**
     * API group, e.g. apps; "" is the core group.
     */
    apiGroup?: string;
    /**
     * API version, e.g. v1.
     */
    apiVersion?: string;
    /**
     * Resource, e.g. deployments. Absent for a non-resource request.
     */
    resource?: string;
    /**
     * Subresource, e.g. scale or exec.
     */
    subresource?: string;
    /**
     * Target namespace, e.g. prod; empty for cluster-scoped objects.
     */
    namespace?: string;
    /**
     * Target object name, e.g. api; empty for collections.
     */
    name?: string;
    /**
     * The path of a non-resource request, e.g. /metrics. Absent for a resource request.
     */
    path?: string;
    /**
     * What will happen, for a person, e.g. "scale deployment prod/api from 3 to 0 replicas".
     */
    summary: string;
    /**
     * The Content-Type the request was sent with, e.g. application/strategic-merge-patch+json; the same body as another patch type is another request.
     */
    contentType?: string;
    /**
     * What the request body sets, field by field, for the approver: a patch's fields (null: removed) or JSON patch operations, the fields of an object to create or update (the whole object, not a diff), a DELETE's options. Values are JSON text, masked by the same rules as responses (a Secret value reads as the mask marker). At most 64; changesNote says what is left out.
     *
     * @maxItems 64
     */
    changes?: {
      /**
       * Field path, e.g. .spec.template.spec.containers[0].image.
       */
      path: string;
      /**
       * The JSON patch operation (add, remove, replace, move, copy, test), for a JSON patch.
       */
      op?: string;
      /**
       * The new value as JSON, e.g. "\"evil.example/backdoor:1\"" or 3; long values are cut. Absent for a remove.
       */
      value?: string;
      /**
       * Where a JSON patch move or copy takes its value from.
       */
      from?: string;
    }[];
    /**
     * What changes does not show, e.g. "12 more fields are not listed" or that the body is protobuf and cannot be shown field by field.
     */
    changesNote?: string;
    /**
     * SHA-256 of the request body (of the empty body when there is none), e.g. "sha256:e3b0…"; a changed body needs a new approval.
     */
    bodyDigest: string;
    /**
     * SHA-256 over the gateway, both whole identities (username, uid, groups, extra), method, path with query, content type and body digest, e.g. "sha256:0a1b…"; how the gateway recognises the same request on retry.
     */
    fingerprint: string;
  };
  /**
   * The AccessPolicy rule that required the approval.
   */
  policy: {
    /**
     * Namespace of the AccessPolicy, e.g. airlock-system.
     */
    namespace?: string;
    /**
     * Name of the AccessPolicy, e.g. payments-ci.
     */
    name: string;
    /**
     * Name of the rule, e.g. scale-prod-needs-approval.
     */
    rule: string;
  };
  /**
   * Who may decide (at least one user or group), copied from the rule when the request was made.
   */
  approvers: {
    /**
     * Approver usernames, e.g. [alice@example.com].
     *
     * @maxItems 64
     */
    users?: string[];
    /**
     * Approver groups, e.g. [sre].
     *
     * @maxItems 32
     */
    groups?: string[];
  };
  /**
   * Approvals needed (1 to 10); any deny decides at once. Default 1.
   */
  minApprovals?: number;
  /**
   * Wait (default; the gateway holds the request open) or Reject (the caller retries once approved).
   */
  mode?: "Wait" | "Reject";
  /**
   * Name of the AccessGateway (in this namespace) that created this request, e.g. ci-gateway.
   */
  gateway?: string;
  /**
   * When a pending request expires (RFC 3339), e.g. 2030-01-01T00:15:00Z.
   */
  expiresAt: string;
  /**
   * How long an approval stays usable once given, as a duration. Default 10m. The window starts when the operator observes the approval (status.grant), never later than the approving decision allows.
   */
  grantTTL?: string;
  /**
   * Whether one approval covers repeats of this exact request within grantTTL (copied from the rule); false means used once.
   */
  reusable?: boolean;
}

/**
 * Decisions and where the request stands. Reviewers append decisions; only the gateway and the operator move phase. Phase only moves forward: Pending to Approved, Denied or Expired; Approved to Consumed or Expired.
 */
export interface ApprovalRequestStatus {
  /**
   * Pending, Approved, Denied, Expired or Consumed.
   */
  phase?: "Pending" | "Approved" | "Denied" | "Expired" | "Consumed";
  /**
   * Decisions in the order they were made; append-only, one per reviewer.
   *
   * @maxItems 64
   */
  decisions?: {
    /**
     * Approve or Deny.
     */
    decision: "Approve" | "Deny";
    /**
     * Username of the reviewer; must be the user who wrote the decision (an admission policy checks it).
     */
    by: string;
    /**
     * The approver groups (of spec.approvers.groups) the reviewer decides as, e.g. [sre]; needed when the reviewer is not a listed user. The admission policy checks the reviewer is in each, as the API server authenticated them, so the gateway can verify the approval from the decision alone.
     *
     * @maxItems 32
     */
    groups?: string[];
    /**
     * Why, in the reviewer's words; shown to the caller on a deny.
     */
    reason?: string;
    /**
     * When the decision was made, by the reviewer's clock. It never starts or stretches the grant; a decision dated ahead of the reader's clock (beyond 30s of skew) does not count.
     */
    at: string;
  }[];
  /**
   * When an approved request may be used, written by the operator from its own clock when it observes the approval.
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
   * The forwarded request that used the approval.
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
   * Standard conditions, e.g. Approved, Denied, Expired.
   *
   * @maxItems 8
   *
   * Items: A condition in the standard Kubernetes shape (metav1.Condition).
   */
  conditions?: {
    /**
     * The aspect this condition describes, e.g. Approved.
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
     * A CamelCase reason a program can act on, e.g. ApprovedBySre.
     */
    reason: string;
    /**
     * What a person should know.
     */
    message: string;
  }[];
}

/** airlock.dev/v1alpha1 ApprovalRequest (`kubectl explain approvalrequest`). */
export interface ApprovalRequest {
  apiVersion: 'airlock.dev/v1alpha1';
  kind: 'ApprovalRequest';
  metadata: V1ObjectMeta;
  spec: ApprovalRequestSpec;
  status?: ApprovalRequestStatus;
}

export interface ApprovalRequestList {
  apiVersion: 'airlock.dev/v1alpha1';
  kind: 'ApprovalRequestList';
  metadata: V1ListMeta;
  items: ApprovalRequest[];
}
