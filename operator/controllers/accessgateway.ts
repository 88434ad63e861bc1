// The AccessGateway reconciler: builds every owned object from the spec (pure builders in
// operator/resources), applies them with server-side apply under one field manager, reads the
// Deployment the apply returned, and writes status once through the status subresource. It never
// writes the gateway's spec, labels or annotations. Namespaced children carry an owner reference
// and go with the gateway by garbage collection; the cluster-scoped RBAC cannot, so a gateway
// found gone has its ClusterRole and ClusterRoleBinding deleted here.
//
// The upstream token is minted and rotated here (credential.ts), the serving certificate issued
// and renewed (serving-tls.ts); the reconcile requeues itself for the earliest of their renewal
// times. Issuances and condition transitions are recorded as Events.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ACCESSGATEWAY_PLURAL, GROUP, VERSION, type AccessGateway } from '../../crds/types.gen.ts';
import { applyObject } from '../apply.ts';
import { gatewayEndpoint } from '../resources/gateway-endpoint.ts';
import { buildGatewayObjects, gatewayObjectList } from '../resources/gateway-objects.ts';
import { GATEWAY_CONDITIONS, GATEWAY_TERMINAL_REASONS } from '../resources/gateway-conditions.ts';
import { GATEWAY_CA_SECRET, gatewayNameProblem, gatewayResourceNames } from '../resources/gateway-names.ts';
import { buildGatewayClusterRole, buildGatewayClusterRoleBinding } from '../resources/gateway-rbac.ts';
import type { Deployment } from '../resources/k8s-types.ts';
import { selectorLabels } from '../resources/labels.ts';
import { isNotFound } from '../../core/runtime/api-errors.ts';
import { logEventFailure } from './event-failure.ts';
import type { Clock } from '../../core/runtime/clock.ts';
import type { ReconcileResult } from '../../core/runtime/controller.ts';
import { keyOf, parseKey, type ObjectRef } from '../../core/runtime/object-key.ts';
import { desiredHash, type AppliedMemo } from './applied-memo.ts';
import { conditionEvents, mergeConditions, type Condition, type ConditionEvent, type DesiredCondition } from './conditions.ts';
import { ensureCredential, type CredentialDeps, type TokenMinter } from './credential.ts';
import { deploymentFacts, gatewayConditions, type DeploymentLike, invalidSpecConditions, statusChanged, tlsStatus, type WrittenStatus } from './gateway-status.ts';
import { ensureServingTls, type TlsDeps, type TlsFacts } from './serving-tls.ts';

export const ACCESS_GATEWAY = { group: GROUP, version: VERSION, plural: ACCESSGATEWAY_PLURAL, kind: 'AccessGateway' } as const;

/** The status subresource write, as a structural slice of CustomObjectsApi plus its content type. */
export type StatusWriter = (ref: { namespace: string; name: string }, status: WrittenStatus) => Promise<unknown>;

export interface AccessGatewayDeps {
  /** PoliciesReady from the AccessPolicies the gateway selects (absent: Unknown). */
  readonly policiesReady?: (gateway: AccessGateway) => DesiredCondition;
  /** Records a Kubernetes Event on the gateway (condition transitions); failures are only logged. */
  readonly recordEvent?: (gateway: AccessGateway, event: ConditionEvent) => Promise<unknown>;
  /** Server-side apply, create and delete of any kind. */
  readonly objects: CredentialDeps['objects'] & TlsDeps['objects'] & { delete(spec: KubernetesObject): Promise<unknown> };
  /** Told each reconcile when the gateway's credential and certificates expire (for metrics); undefined dates when gone. */
  readonly observeExpiry?: (ref: ObjectRef, expiry: ExpiryFacts | undefined) => void;
  readonly mintToken: TokenMinter;
  readonly anchors?: NonNullable<CredentialDeps['anchors']>;
  readonly revokeAfterMs?: number;
  readonly writeStatus: StatusWriter;
  /** The informer cache's view of the gateway at `key`, undefined when it is gone. */
  readonly getGateway: (key: string) => AccessGateway | undefined;
  /** The informer cache's view of a gateway Deployment (its generation and status). */
  readonly getDeployment?: (ref: { namespace: string; name: string }) => DeploymentLike | undefined;
  /** What was applied last, so the same objects are not applied again (applied-memo.ts); absent: always apply. */
  readonly applied?: AppliedMemo;
  readonly clock: Clock;
  readonly log: Logger;
  readonly defaultImage: string;
}

export interface ExpiryFacts {
  readonly credential: Date;
  readonly serving?: Date | undefined;
  readonly ca?: Date | undefined;
}

export async function reconcileAccessGateway(key: string, deps: AccessGatewayDeps): Promise<ReconcileResult> {
  const gateway = deps.getGateway(key);
  if (gateway === undefined) {
    deps.applied?.forget(key);
    deps.observeExpiry?.(parseKey(key), undefined);
    await deleteClusterRbac(parseKey(key), deps);
    return {};
  }
  // Being deleted: garbage collection takes the children; the RBAC goes once the gateway is gone.
  if (gateway.metadata.deletionTimestamp !== undefined) return {};
  const problem = gatewayNameProblem(gateway.metadata.name ?? '');
  if (problem !== undefined) {
    await writeStatusIfChanged(gateway, { conditions: invalidSpecConditions(problem) }, deps);
    return {};
  }
  const now = new Date(deps.clock.now());
  // The certificate first: the Deployment mounts its Secret.
  const tls = await ensureServingTls(gateway, deps, now);
  await recordIssued(gateway, tls, deps);
  const deployment = await applyAll(gateway, deps, now);
  const credential = await ensureCredential(gateway, deps, now);
  if (credential.minted) deps.log.info({ key, expiresAt: credential.expiresAt.toISOString() }, 'minted the upstream token');
  deps.observeExpiry?.(parseKey(key), { credential: credential.expiresAt, serving: tls.notAfter, ca: tls.caNotAfter });
  const names = gatewayResourceNames(gateway);
  const facts = deploymentFacts(deployment);
  const written = await writeStatusIfChanged(gateway, {
    conditions: gatewayConditions(facts, tls, { secret: names.credentialSecret, ...credential }, deps.policiesReady?.(gateway)),
    endpoint: gatewayEndpoint(gateway),
    replicas: facts.replicas,
    readyReplicas: facts.readyReplicas,
    credential: { issuedAt: credential.issuedAt.toISOString(), expiresAt: credential.expiresAt.toISOString(), rotateAfter: credential.rotateAfter.toISOString() },
    tls: tlsStatus(tls),
  }, deps);
  if (written === 'gone') return {};
  return { requeueAfterMs: Math.max(1000, nextWake(credential, tls, now) - now.getTime()) };
}

/** How soon a user's TLS Secret with a problem is looked at again (the operator does not watch Secrets). */
export const TLS_PROBLEM_RECHECK_MS = 15_000;

/** The next rotation or renewal, or earlier to revoke an old token once its grace is over, or to recheck a user's Secret. */
function nextWake(credential: { rotateAfter: Date; nextRevocation?: Date | undefined }, tls: TlsFacts, now: Date): number {
  return Math.min(
    credential.rotateAfter.getTime(), credential.nextRevocation?.getTime() ?? Infinity,
    tls.renewAfter?.getTime() ?? tls.notAfter?.getTime() ?? Infinity, tls.caRenewAfter?.getTime() ?? Infinity,
    tls.problem === undefined ? Infinity : now.getTime() + TLS_PROBLEM_RECHECK_MS,
  );
}

/** An Event for each certificate this reconcile issued. */
async function recordIssued(gateway: AccessGateway, tls: TlsFacts, deps: AccessGatewayDeps): Promise<void> {
  const events: ConditionEvent[] = [];
  if (tls.issued?.ca !== undefined) {
    events.push({ type: 'Normal', reason: 'CAIssued', message: `Issued the namespace CA in Secret ${GATEWAY_CA_SECRET} (${tls.issued.ca}), valid until ${tls.caNotAfter?.toISOString() ?? '?'}.` });
  }
  if (tls.issued?.serving !== undefined) {
    events.push({ type: 'Normal', reason: 'CertificateIssued', message: `Issued the serving certificate in Secret ${tls.secret} (${tls.issued.serving}), valid until ${tls.notAfter?.toISOString() ?? '?'}.` });
    deps.log.info({ gateway: `${gateway.metadata.namespace ?? ''}/${gateway.metadata.name ?? ''}`, reason: tls.issued.serving, notAfter: tls.notAfter?.toISOString() }, 'issued the serving certificate');
  }
  for (const event of events) {
    await deps.recordEvent?.(gateway, event).catch((error: unknown) => { logEventFailure(deps.log, error, { reason: event.reason }); });
  }
}

/**
 * Applies every owned object in order; removes the PodDisruptionBudget when none is wanted. Returns
 * the Deployment as stored. Skipped when it would repeat the last apply (applied-memo.ts); the
 * Deployment then comes from the informer cache.
 */
async function applyAll(gateway: AccessGateway, deps: AccessGatewayDeps, now: Date): Promise<DeploymentLike | undefined> {
  const objects = buildGatewayObjects(gateway, { defaultImage: deps.defaultImage });
  const namespace = gateway.metadata.namespace ?? '';
  const key = keyOf({ namespace, name: gateway.metadata.name ?? '' });
  const hash = desiredHash(gatewayObjectList(objects));
  const cached = deps.getDeployment?.({ namespace, name: gatewayResourceNames(gateway).deployment });
  if (repeatsLastApply(deps, { key, hash, cached }, now)) return cached;
  let deployment: Deployment | undefined;
  for (const desired of gatewayObjectList(objects)) {
    const applied = await applyObject<KubernetesObject>(deps.objects, desired);
    if (desired === objects.deployment) deployment = applied as unknown as Deployment;
  }
  if (objects.podDisruptionBudget === undefined) {
    const name = gatewayResourceNames(gateway).podDisruptionBudget;
    await deleteIfPresent(deps, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name, namespace: gateway.metadata.namespace ?? '' } });
  }
  deps.applied?.remember(key, { hash, deploymentGeneration: deployment?.metadata?.generation }, now);
  return deployment;
}

/** Whether applying `hash` would repeat the last apply, with the cached Deployment as that apply left it. */
function repeatsLastApply(deps: AccessGatewayDeps, desired: { key: string; hash: string; cached: DeploymentLike | undefined }, now: Date): boolean {
  if (desired.cached === undefined || deps.applied === undefined) return false;
  return deps.applied.fresh(desired.key, { hash: desired.hash, deploymentGeneration: desired.cached.metadata?.generation }, now);
}

/** The cluster-scoped RBAC of a gateway that no longer exists, by the names its builders give. */
async function deleteClusterRbac(ref: ObjectRef, deps: AccessGatewayDeps): Promise<void> {
  const identity = { name: ref.name, namespace: ref.namespace ?? '' };
  for (const built of [buildGatewayClusterRoleBinding(identity), buildGatewayClusterRole(identity)]) {
    const removed = await deleteIfPresent(deps, built);
    if (removed) deps.log.info({ key: `${identity.namespace}/${identity.name}`, kind: built['kind'] }, 'deleted cluster RBAC of a deleted gateway');
  }
}

/** Deletes a plain JSON object (apiVersion, kind, metadata name/namespace); false when it was not there. */
async function deleteIfPresent(deps: AccessGatewayDeps, obj: object): Promise<boolean> {
  try {
    await deps.objects.delete(obj);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

interface StatusFacts {
  readonly conditions: readonly DesiredCondition[];
  readonly endpoint?: string;
  readonly replicas?: number;
  readonly readyReplicas?: number;
  readonly credential?: WrittenStatus['credential'];
  readonly tls?: WrittenStatus['tls'];
}

/** Ready=False for a reason time fixes (a rollout, pods starting): a step on the way, not a failure. */
const TERMINAL: ReadonlySet<string> = new Set(GATEWAY_TERMINAL_REASONS);
function rollingOut(condition: Condition): boolean {
  return condition.type === GATEWAY_CONDITIONS.ready && condition.status === 'False' && !TERMINAL.has(condition.reason);
}
/**
 * The one status write of a reconcile, skipped when it would change nothing. `gone`: the gateway
 * was deleted since the cache saw it (404); its delete event follows, nothing is left to report.
 */
function statusFrom(gateway: AccessGateway, facts: StatusFacts, now: Date): WrittenStatus {
  const generation = gateway.metadata.generation;
  return {
    observedGeneration: generation ?? 0,
    conditions: mergeConditions(gateway.status?.conditions, facts.conditions, { now, generation }),
    selector: Object.entries(selectorLabels(gateway)).map(([k, v]) => `${k}=${v}`).join(','),
    ...(facts.endpoint === undefined ? {} : { endpoint: facts.endpoint }),
    ...(facts.replicas === undefined ? {} : { replicas: facts.replicas }),
    ...(facts.readyReplicas === undefined ? {} : { readyReplicas: facts.readyReplicas }),
    ...(facts.credential === undefined ? {} : { credential: facts.credential }),
    ...(facts.tls === undefined ? {} : { tls: facts.tls }),
  };
}

async function writeStatusIfChanged(gateway: AccessGateway, facts: StatusFacts, deps: AccessGatewayDeps): Promise<'written' | 'unchanged' | 'gone'> {
  const next = statusFrom(gateway, facts, new Date(deps.clock.now()));
  if (!statusChanged(gateway, next)) return 'unchanged';
  try {
    await deps.writeStatus({ namespace: gateway.metadata.namespace ?? '', name: gateway.metadata.name ?? '' }, next);
  } catch (error) {
    if (isNotFound(error)) return 'gone';
    throw error;
  }
  // After the write: a failed write is retried, and its events come with the retry.
  for (const event of conditionEvents(gateway.status?.conditions, next.conditions, rollingOut)) {
    await deps.recordEvent?.(gateway, event).catch((error: unknown) => { logEventFailure(deps.log, error, { reason: event.reason }); });
  }
  return 'written';
}
