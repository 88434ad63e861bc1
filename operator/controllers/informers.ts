// The informers the controllers run on, each caching only what its controller reads
// (runtime/lean-informer.ts), and the fingerprints that say which of their updates matter to whom
// (runtime/event-keys.ts). One home, so the caches and what the reconciles read stay in step.
import { AppsV1Api, CustomObjectsApi, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { AccessGateway } from '../../crds/types.gen.ts';
import { LABELS, MANAGED_BY } from '../resources/labels.ts';
import { leanMetadata, makeLeanInformer, type LeanInformer } from '../../core/runtime/lean-informer.ts';
import { ACCESS_GATEWAY } from './accessgateway.ts';
import { ACCESS_POLICY } from './accesspolicy.ts';
import { APPROVAL_REQUEST } from './approvalrequest.ts';
import type { ApprovalRequestWithMeta } from './approval-phase.ts';
import { policyFacts, selectorFacts, type PolicyFacts, type SelectorFacts } from './policy-facts.ts';

export type CachedGateway = AccessGateway;
export type CachedApproval = ApprovalRequestWithMeta & KubernetesObject;

/** What the operator keeps of a gateway Deployment: its owner, generation, replicas and rollout status. */
export interface CachedDeployment extends KubernetesObject {
  readonly spec: { readonly replicas: number | undefined };
  readonly status: { readonly replicas: number | undefined; readonly readyReplicas: number | undefined; readonly updatedReplicas: number | undefined; readonly observedGeneration: number | undefined };
}
interface DeploymentFields { readonly metadata?: KubernetesObject['metadata']; readonly spec?: { readonly replicas?: number }; readonly status?: Partial<CachedDeployment['status']> }

type Kind = { readonly group: string; readonly version: string; readonly plural: string };
type Listed = Promise<KubernetesListObject<KubernetesObject>>;

function customInformer<T extends KubernetesObject>(kc: KubeConfig, kind: Kind, transform: (obj: KubernetesObject) => T, namespace?: string): LeanInformer<T> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const { group, version, plural } = kind;
  return makeLeanInformer({
    kubeConfig: kc,
    path: namespace === undefined ? `/apis/${group}/${version}/${plural}` : `/apis/${group}/${version}/namespaces/${namespace}/${plural}`,
    list: () => (namespace === undefined
      ? custom.listClusterCustomObject({ group, version, plural })
      : custom.listNamespacedCustomObject({ group, version, plural, namespace })) as Listed,
    transform,
  });
}

/** AccessPolicies as facts: metadata, status, and the compiler's verdict (never the rules). */
export const policyInformer = (kc: KubeConfig): LeanInformer<PolicyFacts> => customInformer(kc, ACCESS_POLICY, policyFacts);

/** Whole AccessGateways (the reconcile builds everything from them), without managedFields. */
export const gatewayInformer = (kc: KubeConfig): LeanInformer<CachedGateway> => customInformer(kc, ACCESS_GATEWAY,
  (obj) => ({ ...(obj as AccessGateway), metadata: leanMetadata((obj as AccessGateway).metadata, { annotations: true }) }));

/** AccessGateways as the AccessPolicy controller needs them: name and policySelector. */
export const gatewaySelectorInformer = (kc: KubeConfig): LeanInformer<SelectorFacts> => customInformer(kc, ACCESS_GATEWAY, selectorFacts);

export const approvalInformer = (kc: KubeConfig, namespace?: string): LeanInformer<CachedApproval> => customInformer(kc, APPROVAL_REQUEST,
  (obj) => ({ ...(obj as CachedApproval), metadata: leanMetadata((obj as CachedApproval).metadata, { annotations: true }) }), namespace);

/** The gateway Deployments the operator manages: what deploymentFacts reads and the owner. */
export function deploymentInformer(kc: KubeConfig): LeanInformer<CachedDeployment> {
  const apps = kc.makeApiClient(AppsV1Api);
  const managed = `${LABELS.managedBy}=${MANAGED_BY}`;
  return makeLeanInformer({
    kubeConfig: kc, path: '/apis/apps/v1/deployments', labelSelector: managed,
    list: () => apps.listDeploymentForAllNamespaces({ labelSelector: managed }) as Listed,
    transform: (obj): CachedDeployment => {
      const d = obj as DeploymentFields;
      const status = d.status ?? {};
      return {
        apiVersion: 'apps/v1', kind: 'Deployment',
        metadata: leanMetadata(d.metadata),
        spec: { replicas: d.spec?.replicas },
        status: { replicas: status.replicas, readyReplicas: status.readyReplicas, updatedReplicas: status.updatedReplicas, observedGeneration: status.observedGeneration },
      };
    },
  });
}

/** What an AccessGateway's own reconcile reads of it: not its status, which only we write. */
export function gatewayFingerprint(g: CachedGateway): string {
  const m = g.metadata;
  return JSON.stringify([m.generation, m.labels, m.annotations, m.deletionTimestamp, m.uid]);
}

/** What a gateway's PoliciesReady reads of a policy it selects: whether the policy is accepted. */
export const policyVerdictFingerprint = (p: PolicyFacts): string => (p.verdict.problem === undefined ? 'accepted' : 'rejected');

/** What a gateway's status reads of its Deployment (the cache keeps nothing else). */
export const deploymentFingerprint = (d: CachedDeployment): string => JSON.stringify([d.metadata?.generation, d.spec.replicas, d.status]);
