// What the operator keeps of an AccessPolicy: its metadata, its status, and the verdict of the
// gateway's own compiler on its rules, computed once when the informer receives it. The rules
// themselves are not kept: no reconcile reads them again, and 1,000 policies of 10 rules, cached
// by two controllers with their managedFields and kubectl's last-applied copy, were most of the
// operator's memory (issue 20). And of an AccessGateway, for the AccessPolicy controller: which
// policies it selects.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { AccessGateway, AccessPolicy, AccessPolicyStatus } from '../../crds/types.gen.ts';
import { leanMetadata } from '../../core/runtime/lean-informer.ts';
import { validatePolicy, type PolicyVerdict } from './policy-validation.ts';

export interface PolicyFacts extends KubernetesObject {
  readonly metadata: AccessPolicy['metadata'];
  readonly status?: AccessPolicyStatus;
  readonly verdict: PolicyVerdict;
}

/** The informer transform for AccessPolicies (also what tests build their fixtures with). */
export function policyFacts(obj: KubernetesObject): PolicyFacts {
  const policy = obj as AccessPolicy;
  return {
    apiVersion: policy.apiVersion, kind: policy.kind,
    metadata: leanMetadata(policy.metadata),
    ...(policy.status === undefined ? {} : { status: policy.status }),
    verdict: verdictOf(policy),
  };
}

function verdictOf(policy: AccessPolicy): PolicyVerdict {
  try {
    return validatePolicy(policy);
  } catch {
    // The CRD schema makes this unreachable; should it happen, the gateways refuse the policy too.
    return { problem: 'the policy could not be read', effect: 'the gateways enforce none of this policy until it is fixed', rules: 0 };
  }
}

/** An AccessGateway as the AccessPolicy controller sees it: who it is and what it selects. */
export interface SelectorFacts extends KubernetesObject {
  readonly metadata: AccessGateway['metadata'];
  readonly spec: Pick<AccessGateway['spec'], 'policySelector'>;
}

export function selectorFacts(obj: KubernetesObject): SelectorFacts {
  const gateway = obj as AccessGateway;
  const selector = gateway.spec.policySelector;
  return { apiVersion: gateway.apiVersion, kind: gateway.kind, metadata: leanMetadata(gateway.metadata), spec: selector === undefined ? {} : { policySelector: selector } };
}
