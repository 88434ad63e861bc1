// What an AccessGateway's status says, computed from what the reconcile observed. Pure: the
// reconciler gathers the facts, this decides the conditions.
import type { AccessGateway, AccessGatewayStatus } from '../../crds/types.gen.ts';
import type { Deployment } from '../resources/k8s-types.ts';
import { GATEWAY_CONDITIONS } from '../resources/gateway-conditions.ts';
import type { DesiredCondition } from './conditions.ts';

export interface DeploymentFacts {
  readonly desired: number;
  readonly replicas: number;
  readonly readyReplicas: number;
  readonly updatedReplicas: number;
  /** The Deployment controller has seen the newest Deployment spec. */
  readonly observed: boolean;
}

export function deploymentFacts(deployment: Deployment | undefined): DeploymentFacts {
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

/** What this operator cannot do yet, said plainly in status rather than hidden. */
export interface Pending {
  /** The serving certificate Secret the operator would issue but cannot (no X.509 issuer yet). */
  readonly tlsSecret: string | undefined;
}

export interface CredentialFacts {
  readonly secret: string;
  readonly expiresAt: Date;
  readonly rotateAfter: Date;
}

export function gatewayConditions(facts: DeploymentFacts, pending: Pending, credential: CredentialFacts, policies?: DesiredCondition): DesiredCondition[] {
  const degraded: DesiredCondition = pending.tlsSecret === undefined
    ? { type: GATEWAY_CONDITIONS.degraded, status: 'False', reason: 'AsExpected', message: 'Nothing needs attention.' }
    : {
        type: GATEWAY_CONDITIONS.degraded,
        status: 'True',
        reason: 'TLSNotImplemented',
        message: `This operator cannot issue serving certificates yet: create the kubernetes.io/tls Secret ${pending.tlsSecret} yourself, or set spec.tls.mode: Secret.`,
      };
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

/** The status fields this operator writes (others, e.g. credential, are left alone). */
export type WrittenStatus = Required<Pick<AccessGatewayStatus, 'observedGeneration' | 'conditions'>> & Pick<AccessGatewayStatus, 'endpoint' | 'replicas' | 'readyReplicas' | 'selector' | 'credential'>;

/** Whether writing `next` would change anything in the gateway's current status. */
export function statusChanged(gateway: AccessGateway, next: WrittenStatus): boolean {
  const current = new Map<string, unknown>(Object.entries(gateway.status ?? {}));
  return Object.entries(next).some(([field, value]) => JSON.stringify(current.get(field)) !== JSON.stringify(value));
}
