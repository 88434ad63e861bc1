// What an AccessGateway's status says, computed from what the reconcile observed. Pure: the
// reconciler gathers the facts, this decides the conditions.
import type { AccessGateway, AccessGatewayStatus } from '../../crds/types.gen.ts';
import { GATEWAY_CONDITIONS } from '../resources/gateway-conditions.ts';
import type { DesiredCondition } from './conditions.ts';
import { sameConditions, sameValue } from './status-equality.ts';

export interface DeploymentFacts {
  readonly desired: number;
  readonly replicas: number;
  readonly readyReplicas: number;
  readonly updatedReplicas: number;
  /** The Deployment controller has seen the newest Deployment spec. */
  readonly observed: boolean;
}

/** The fields of a Deployment deploymentFacts reads: as the API answers it, or as the informer keeps it. */
export interface DeploymentLike {
  readonly metadata?: { readonly generation?: number | undefined } | undefined;
  readonly spec?: { readonly replicas?: number | undefined } | undefined;
  readonly status?: { readonly replicas?: number | undefined; readonly readyReplicas?: number | undefined; readonly updatedReplicas?: number | undefined; readonly observedGeneration?: number | undefined } | undefined;
}

export function deploymentFacts(deployment: DeploymentLike | undefined): DeploymentFacts {
  if (deployment === undefined) return { desired: 1, replicas: 0, readyReplicas: 0, updatedReplicas: 0, observed: false };
  const status = deployment.status;
  const generation = deployment.metadata?.generation;
  return {
    desired: deployment.spec?.replicas ?? 1,
    replicas: status?.replicas ?? 0,
    readyReplicas: status?.readyReplicas ?? 0,
    updatedReplicas: status?.updatedReplicas ?? 0,
    observed: generation !== undefined && (status?.observedGeneration ?? 0) >= generation,
  };
}

export function readyCondition(facts: DeploymentFacts): DesiredCondition {
  const type = GATEWAY_CONDITIONS.ready;
  if (!facts.observed) return { type, status: 'False', reason: 'RolloutPending', message: 'The Deployment controller has not yet seen the newest gateway Deployment.' };
  if (facts.updatedReplicas < facts.desired) {
    return { type, status: 'False', reason: 'RollingOut', message: `${facts.updatedReplicas} of ${facts.desired} gateway pods run the newest spec.` };
  }
  if (facts.readyReplicas < facts.desired) {
    return { type, status: 'False', reason: 'PodsNotReady', message: `${facts.readyReplicas} of ${facts.desired} gateway pods are ready.` };
  }
  return { type, status: 'True', reason: 'DeploymentReady', message: `${facts.readyReplicas} of ${facts.desired} gateway pods are ready.` };
}

/** The serving certificate's problem, if any (serving-tls.ts TlsFacts). */
export interface TlsProblem {
  readonly problem?: { readonly reason: string; readonly message: string } | undefined;
}

export interface CredentialFacts {
  readonly secret: string;
  readonly expiresAt: Date;
  readonly rotateAfter: Date;
}

export function gatewayConditions(facts: DeploymentFacts, tls: TlsProblem, credential: CredentialFacts, policies?: DesiredCondition): DesiredCondition[] {
  const degraded: DesiredCondition = tls.problem === undefined
    ? { type: GATEWAY_CONDITIONS.degraded, status: 'False', reason: 'AsExpected', message: 'Nothing needs attention.' }
    : { type: GATEWAY_CONDITIONS.degraded, status: 'True', reason: tls.problem.reason, message: tls.problem.message };
  return [
    readyCondition(facts),
    {
      type: GATEWAY_CONDITIONS.credentialsReady,
      status: 'True',
      reason: 'TokenIssued',
      message: `The upstream token in Secret ${credential.secret} expires at ${credential.expiresAt.toISOString()}; it is replaced after ${credential.rotateAfter.toISOString()}.`,
    },
    policies ?? { type: GATEWAY_CONDITIONS.policiesReady, status: 'Unknown', reason: 'NotEvaluated', message: 'The AccessPolicies this gateway selects have not been evaluated yet.' },
    degraded,
  ];
}

/** An InvalidSpec verdict: nothing is applied, Ready and Degraded say why. */
export function invalidSpecConditions(problem: string): DesiredCondition[] {
  return [
    { type: GATEWAY_CONDITIONS.ready, status: 'False', reason: 'InvalidSpec', message: problem },
    { type: GATEWAY_CONDITIONS.degraded, status: 'True', reason: 'InvalidSpec', message: problem },
  ];
}

/** The status fields this operator writes. */
export type WrittenStatus = Required<Pick<AccessGatewayStatus, 'observedGeneration' | 'conditions'>> & Pick<AccessGatewayStatus, 'endpoint' | 'replicas' | 'readyReplicas' | 'selector' | 'credential' | 'tls'>;

/** status.tls from what the TLS step found (dates as RFC 3339). */
export function tlsStatus(tls: { secret: string; notAfter?: Date | undefined; renewAfter?: Date | undefined; caNotAfter?: Date | undefined }): NonNullable<AccessGatewayStatus['tls']> {
  return {
    secretName: tls.secret,
    ...(tls.notAfter === undefined ? {} : { notAfter: tls.notAfter.toISOString() }),
    ...(tls.renewAfter === undefined ? {} : { renewAfter: tls.renewAfter.toISOString() }),
    ...(tls.caNotAfter === undefined ? {} : { caNotAfter: tls.caNotAfter.toISOString() }),
  };
}

/** Whether writing `next` would change anything a reader sees in the gateway's current status (status-equality.ts). */
export function statusChanged(gateway: AccessGateway, next: WrittenStatus): boolean {
  const current = new Map<string, unknown>(Object.entries(gateway.status ?? {}));
  return Object.entries(next).some(([field, value]) => (field === 'conditions'
    ? !sameConditions(gateway.status?.conditions, next.conditions)
    : !sameValue(current.get(field), value)));
}
