// Wires the AccessGateway controller to a cluster: informers on AccessGateways (all namespaces)
// and on the Deployments the operator manages (mapped to their owning gateway), the reconciler's
// API clients, and the work-queue metrics. One call per leadership term: a new term builds new
// informers, so nothing cached in an old term survives into the next.
import type { ExpiryObserver } from './expiry-metrics.ts';
import {
  CoreV1Api, CustomObjectsApi, type AuthenticationV1TokenRequest, KubernetesObjectApi, setHeaderOptions, PatchStrategy,
  type CoreV1Event, type KubeConfig, type KubernetesObject,
} from '@kubernetes/client-node';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { FIELD_MANAGER } from '../apply.ts';
import { ANCHOR_LABEL } from '../resources/gateway-credential.ts';
import { systemClock } from '../../core/runtime/clock.ts';
import { runController, type Controller, type ControllerInformer } from '../../core/runtime/controller.ts';
import { getByKey, objectKey, ownerKeys } from '../../core/runtime/object-key.ts';
import type { LogLimiter } from '../../core/runtime/log-limiter.ts';
import type { WorkQueueMetrics } from '../../core/runtime/work-queue.ts';
import { ACCESS_GATEWAY, reconcileAccessGateway, type StatusWriter } from './accessgateway.ts';
import { createAppliedMemo } from './applied-memo.ts';
import type { TokenMinter } from './credential.ts';
import { APPROVAL_REQUEST, reconcileApprovalRequest, slackMessage, type ApprovalMetrics } from './approvalrequest.ts';
import { ACCESS_POLICY, policiesReadyCondition, reconcileAccessPolicy } from './accesspolicy.ts';
import type { AccessPolicyStatus } from '../../crds/types.gen.ts';
import type { ApprovalRequestWithMeta, PhaseEvent } from './approval-phase.ts';
import {
  approvalInformer, deploymentFingerprint, deploymentInformer, gatewayFingerprint, gatewayInformer, gatewaySelectorInformer, policyInformer, policyVerdictFingerprint,
  type CachedDeployment, type CachedGateway,
} from './informers.ts';
import type { PolicyFacts, SelectorFacts } from './policy-facts.ts';
import { selects } from './policy-validation.ts';

export interface GatewayControllerOptions {
  /** Shared by the operator's controllers: an outage is logged a few times in all (runtime/log-limiter.ts). */
  readonly limiter?: LogLimiter;
  /** How long an old upstream token keeps working after a rotation (default 120 s). */
  readonly revokeAfterMs?: number;
  readonly kubeConfig: KubeConfig;
  readonly log: Logger;
  readonly defaultImage: string;
  readonly metrics?: WorkQueueMetrics;
  /** Told when each gateway's credential and certificates expire (expiry-metrics.ts). */
  readonly observeExpiry?: ExpiryObserver;
  /** Every cached object is reconciled again this often. Default 10 minutes. */
  readonly resyncMs?: number;
}

export const DEFAULT_RESYNC_MS = 10 * 60_000;

interface Kind { readonly group: string; readonly version: string; readonly plural: string }

/** Merge-patches the status of one kind's object under the operator's field manager. */
function statusWriter(custom: CustomObjectsApi, kind: Kind): (ref: { namespace: string; name: string }, status: object) => Promise<unknown> {
  return (ref, status) => custom.patchNamespacedCustomObjectStatus(
    { group: kind.group, version: kind.version, plural: kind.plural, namespace: ref.namespace, name: ref.name, body: { status }, fieldManager: FIELD_MANAGER },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** Time for the reconcilers, from the one clock the runtime uses. */
const now = (): Date => new Date(systemClock.now());

function tokenMinter(core: CoreV1Api): TokenMinter {
  return async (ref, request) => {
    // A plain JSON body of the same shape as the client-node model (its serializer walks fields by name).
    const body = request as unknown as AuthenticationV1TokenRequest;
    const answer = await core.createNamespacedServiceAccountToken({ namespace: ref.namespace, name: ref.serviceAccount, body });
    const token = answer.status?.token ?? '';
    const expiresAt = answer.status?.expirationTimestamp;
    if (token === '' || expiresAt === undefined) throw new Error(`TokenRequest for ${ref.namespace}/${ref.serviceAccount} answered without a token`);
    return { token, expiresAt: new Date(expiresAt) };
  };
}

/** Gateways reconciled at once: distinct keys only; a namespace's shared CA is safe under it (serving-tls.ts). */
const GATEWAY_CONCURRENCY = 2;
/** Policies reconciled at once: a reconcile is one status write, so throughput is the API server's latency × this. */
const POLICY_CONCURRENCY = 4;

const keysOf = (objects: readonly KubernetesObject[]): string[] => objects.flatMap((o) => objectKey(o) ?? []);

export function startGatewayController(options: GatewayControllerOptions): Controller {
  const kc = options.kubeConfig;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const gateways = gatewayInformer(kc);
  const deployments = deploymentInformer(kc);
  const policies = policyInformer(kc);
  const informers: ControllerInformer[] = [
    // Its own status writes come back as updates; only what the reconcile reads counts.
    { name: 'accessgateways', informer: gateways, fingerprint: (g) => gatewayFingerprint(g as CachedGateway) },
    // PoliciesReady reads which policies a gateway selects and whether each is accepted.
    { name: 'accesspolicies', informer: policies, mapToKeys: (p) => keysOf(gateways.list().filter((g) => selects(g, p as PolicyFacts))),
      fingerprint: (p) => policyVerdictFingerprint(p as PolicyFacts) },
    { name: 'deployments', informer: deployments, mapToKeys: ownerKeys({ apiVersion: `${ACCESS_GATEWAY.group}/${ACCESS_GATEWAY.version}`, kind: ACCESS_GATEWAY.kind }),
      fingerprint: (d) => deploymentFingerprint(d as CachedDeployment) },
  ];
  const log = options.log;
  const applied = createAppliedMemo(options.resyncMs ?? DEFAULT_RESYNC_MS);
  return runController({
    name: 'accessgateway',
    ...(options.limiter === undefined ? {} : { limiter: options.limiter }),
    informers,
    log,
    concurrency: GATEWAY_CONCURRENCY,
    resyncMs: options.resyncMs ?? DEFAULT_RESYNC_MS,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    reconcile: (key) => reconcileAccessGateway(key, {
      objects,
      writeStatus: statusWriter(custom, ACCESS_GATEWAY) satisfies StatusWriter,
      mintToken: tokenMinter(kc.makeApiClient(CoreV1Api)),
      anchors: {
        list: async (namespace, gateway) => (await objects.list('v1', 'Secret', namespace, undefined, undefined, undefined, undefined, `${ANCHOR_LABEL}=${gateway}`)).items,
        // List items carry no apiVersion/kind, which delete needs.
        delete: (anchor) => {
          const header: object = { apiVersion: 'v1', kind: 'Secret', metadata: { name: anchor.metadata?.name ?? '', namespace: anchor.metadata?.namespace ?? '' } };
          return objects.delete(header);
        },
      },
      ...(options.revokeAfterMs === undefined ? {} : { revokeAfterMs: options.revokeAfterMs }),
      recordEvent: eventRecorder(kc.makeApiClient(CoreV1Api), { apiVersion: `${ACCESS_GATEWAY.group}/${ACCESS_GATEWAY.version}`, kind: ACCESS_GATEWAY.kind }),
      ...(options.observeExpiry === undefined ? {} : { observeExpiry: options.observeExpiry }),
      policiesReady: (gw) => policiesReadyCondition(gw, policies.list()),
      getGateway: (k) => getByKey(gateways, k),
      getDeployment: (ref) => deployments.get(ref.name, ref.namespace),
      applied,
      clock: systemClock,
      log,
      defaultImage: options.defaultImage,
    }),
  });
}

export interface ApprovalControllerOptions {
  /** Shared by the operator's controllers: an outage is logged a few times in all (runtime/log-limiter.ts). */
  readonly limiter?: LogLimiter;
  readonly kubeConfig: KubeConfig;
  readonly log: Logger;
  readonly retentionMs: number;
  readonly webhookUrl?: string | undefined;
  readonly metrics?: WorkQueueMetrics;
  readonly approvalMetrics?: ApprovalMetrics;
  readonly resyncMs?: number;
  /** Only this namespace's requests (default: every namespace), e.g. for a test's own operator. */
  readonly namespace?: string;
}

/** Records core/v1 Events on objects of one kind, as the operator (`kubectl describe` shows them). */
interface EventTarget {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly uid?: string; readonly resourceVersion?: string } | undefined;
}

function eventRecorder(core: CoreV1Api, kind: { apiVersion: string; kind: string }): (object: EventTarget, event: { type: string; reason: string; message: string }) => Promise<unknown> {
  return (object, event) => {
    const at = now();
    const namespace = object.metadata?.namespace ?? '';
    // A plain JSON body of the same shape as the client-node model (its serializer walks fields by name).
    const body = {
      metadata: { generateName: `${object.metadata?.name ?? 'object'}.`, namespace },
      involvedObject: { ...kind, namespace, name: object.metadata?.name, uid: object.metadata?.uid, resourceVersion: object.metadata?.resourceVersion },
      reason: event.reason, message: event.message, type: event.type,
      source: { component: 'airlock-operator' }, reportingComponent: 'airlock-operator', reportingInstance: hostname(),
      firstTimestamp: at, lastTimestamp: at, count: 1,
    } as unknown as CoreV1Event;
    return core.createNamespacedEvent({ namespace, body });
  };
}

function slackNotifier(url: string): (ar: ApprovalRequestWithMeta, event: PhaseEvent) => Promise<unknown> {
  return async (ar, event) => {
    const answer = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(slackMessage(ar, event)), signal: AbortSignal.timeout(10_000) });
    if (!answer.ok) throw new Error(`the approval webhook answered HTTP ${answer.status}`);
  };
}

export function startApprovalController(options: ApprovalControllerOptions): Controller {
  const kc = options.kubeConfig;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const { group, version, plural } = APPROVAL_REQUEST;
  const requests = approvalInformer(kc, options.namespace);
  const log = options.log;
  return runController({
    name: 'approvalrequest',
    ...(options.limiter === undefined ? {} : { limiter: options.limiter }),
    informers: [{ name: 'approvalrequests', informer: requests }],
    log,
    resyncMs: options.resyncMs ?? DEFAULT_RESYNC_MS,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    reconcile: (key) => reconcileApprovalRequest(key, {
      get: (k) => getByKey(requests, k),
      all: () => requests.list(),
      writeStatus: statusWriter(custom, APPROVAL_REQUEST),
      liveVersion: async (ref) => ((await custom.getNamespacedCustomObject({ group, version, plural, namespace: ref.namespace, name: ref.name })) as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion,
      remove: (ref) => custom.deleteNamespacedCustomObject({ group, version, plural, namespace: ref.namespace, name: ref.name }),
      recordEvent: eventRecorder(kc.makeApiClient(CoreV1Api), { apiVersion: `${group}/${version}`, kind: APPROVAL_REQUEST.kind }),
      ...(options.webhookUrl === undefined ? {} : { notify: slackNotifier(options.webhookUrl) }),
      ...(options.approvalMetrics === undefined ? {} : { metrics: options.approvalMetrics }),
      now,
      retentionMs: options.retentionMs,
      log,
    }),
  });
}

export interface PolicyControllerOptions {
  /** Shared by the operator's controllers: an outage is logged a few times in all (runtime/log-limiter.ts). */
  readonly limiter?: LogLimiter;
  readonly kubeConfig: KubeConfig;
  readonly log: Logger;
  readonly metrics?: WorkQueueMetrics;
  readonly resyncMs?: number;
}

/** Validates AccessPolicies and records which gateways select them (status only). */
export function startPolicyController(options: PolicyControllerOptions): Controller {
  const kc = options.kubeConfig;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const policies = policyInformer(kc);
  const writePolicyStatus = statusWriter(custom, ACCESS_POLICY);
  const gateways = gatewaySelectorInformer(kc);
  const log = options.log;
  return runController({
    name: 'accesspolicy',
    ...(options.limiter === undefined ? {} : { limiter: options.limiter }),
    informers: [
      { name: 'accesspolicies', informer: policies },
      // A policy's status names the gateways that select it: only a gateway that starts or stops
      // selecting a policy changes it (the fingerprint is constant; event-keys.ts).
      { name: 'accessgateways', informer: gateways, mapToKeys: (g) => keysOf(policies.list().filter((p) => selects(g as SelectorFacts, p))), fingerprint: () => '' },
    ],
    log,
    concurrency: POLICY_CONCURRENCY,
    resyncMs: options.resyncMs ?? DEFAULT_RESYNC_MS,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    reconcile: (key) => reconcileAccessPolicy(key, {
      get: (k) => getByKey(policies, k),
      gateways: () => gateways.list(),
      // A merge patch keeps a field it does not name: null removes `gateways` once none selects the policy.
      writeStatus: (ref, status: AccessPolicyStatus) => writePolicyStatus(ref, { ...status, gateways: status.gateways ?? null }),
      recordEvent: eventRecorder(kc.makeApiClient(CoreV1Api), { apiVersion: `${ACCESS_POLICY.group}/${ACCESS_POLICY.version}`, kind: ACCESS_POLICY.kind }),
      now,
      log,
    }),
  });
}
