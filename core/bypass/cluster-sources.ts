// The cluster side of the bypass report: what find-bypass.ts reads, from the API server. Token
// Secrets are listed as metadata only (PartialObjectMetadataList), so no token value is fetched.
import { AuthorizationV1Api, CoreV1Api, CustomObjectsApi, setHeaderOptions, type KubeConfig, type V1SubjectAccessReview } from '@kubernetes/client-node';
import { ACCESSGATEWAY_PLURAL, ACCESSPOLICY_PLURAL, GROUP, VERSION, type AccessGateway, type AccessPolicy } from '../../crds/types.gen.ts';
import { gatewayServiceAccountName, labelSelectorString } from '../gateway-names.ts';
import type { BypassSources, GatewayUnderReview } from './find-bypass.ts';

function notFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 404;
}

/** What findBypass needs to know of a gateway. */
export function gatewayUnderReview(gateway: AccessGateway): GatewayUnderReview {
  const namespace = gateway.metadata.namespace ?? '';
  const name = gateway.metadata.name ?? '';
  return { namespace, name, serviceAccount: gatewayServiceAccountName({ namespace, name }), audiences: gateway.spec.authentication?.serviceAccountTokens?.audiences ?? [] };
}

const METADATA_ONLY = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';

/** The sources of findBypass, read with `kc`'s credentials (the person's in the plugin, the operator's in the operator). */
export function clusterSources(kc: KubeConfig): BypassSources {
  const core = kc.makeApiClient(CoreV1Api);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  return {
    async serviceAccount(namespace, name) {
      try {
        const sa = await core.readNamespacedServiceAccount({ namespace, name });
        return sa.automountServiceAccountToken === undefined ? {} : { automountServiceAccountToken: sa.automountServiceAccountToken };
      } catch (error) {
        if (notFound(error)) return undefined;
        throw error;
      }
    },
    async pods(namespace) {
      const list = await core.listNamespacedPod({ namespace });
      return list.items.map((p) => ({
        name: p.metadata?.name ?? '', serviceAccountName: p.spec?.serviceAccountName ?? 'default',
        ...(p.spec?.automountServiceAccountToken === undefined ? {} : { automountServiceAccountToken: p.spec.automountServiceAccountToken }),
      }));
    },
    async tokenSecrets(namespace) {
      const list = await core.listNamespacedSecret({ namespace, fieldSelector: 'type=kubernetes.io/service-account-token' }, setHeaderOptions('Accept', METADATA_ONLY));
      // An empty PartialObjectMetadataList arrives with `items: null`.
      const items = (list.items as typeof list.items | null) ?? [];
      return items.map((s) => ({ name: s.metadata?.name ?? '', serviceAccountName: s.metadata?.annotations?.['kubernetes.io/service-account.name'] ?? '' }));
    },
    async allowed(who, a) {
      // A plain JSON body of the model's shape (its serializer walks fields by name).
      const review: object = {
        apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
        spec: { ...(who.user === undefined ? {} : { user: who.user }), groups: [...who.groups], resourceAttributes: { verb: a.verb, group: a.group, resource: a.resource, namespace: a.namespace } },
      };
      const answer = await authz.createSubjectAccessReview({ body: review as V1SubjectAccessReview });
      return answer.status?.allowed === true;
    },
  };
}

/** The AccessGateways of a namespace (or the one named) and the AccessPolicies each selects, rules included. */
export async function gatewaysAndPolicies(kc: KubeConfig, namespace: string, name: string | undefined): Promise<{ gateway: AccessGateway; policies: AccessPolicy[] }[]> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const gateways = name === undefined
    ? ((await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: ACCESSGATEWAY_PLURAL, namespace })) as { items?: AccessGateway[] }).items ?? []
    : [await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: ACCESSGATEWAY_PLURAL, namespace, name }) as AccessGateway];
  return Promise.all(gateways.map(async (gateway) => ({ gateway, policies: await selectedPolicies(kc, gateway) })));
}

/** The AccessPolicies `gateway` selects, rules included (the operator's informer keeps no rules). */
export async function selectedPolicies(kc: KubeConfig, gateway: AccessGateway): Promise<AccessPolicy[]> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const listed = await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: ACCESSPOLICY_PLURAL, namespace: gateway.metadata.namespace ?? '', labelSelector: labelSelectorString(gateway.spec.policySelector) }) as { items?: AccessPolicy[] };
  return listed.items ?? [];
}
