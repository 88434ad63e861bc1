// `kubectl airlock bypass [GATEWAY]`: every path around the AccessGateways of a namespace, for the
// subjects of the AccessPolicies each one enforces (operator/bypass/find-bypass.ts), read with the
// person's own credentials. Token Secrets are listed as metadata only, so no token value is ever
// fetched; the exit code is 0 with no finding and 3 with any, for scripts and CI.
import { AuthorizationV1Api, CoreV1Api, CustomObjectsApi, setHeaderOptions, type KubeConfig, type V1SubjectAccessReview } from '@kubernetes/client-node';
import { ACCESSGATEWAY_PLURAL, ACCESSPOLICY_PLURAL, GROUP, VERSION, type AccessGateway, type AccessPolicy } from '../../crds/types.gen.ts';
import { findBypass, type BypassFinding, type BypassSources } from '../bypass/find-bypass.ts';
import { labelSelectorString } from '../resources/gateway-config.ts';
import { gatewayServiceAccountName } from '../resources/gateway-rbac.ts';
import { apiFailure, loadKubeConfig, reaching } from './kube-session.ts';
import { CliError, type Invocation, type Subcommand } from './subcommand.ts';

const METADATA_ONLY = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';

function clusterSources(kc: KubeConfig): BypassSources {
  const core = kc.makeApiClient(CoreV1Api);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  return {
    async serviceAccount(namespace, name) {
      try {
        const sa = await core.readNamespacedServiceAccount({ namespace, name });
        return sa.automountServiceAccountToken === undefined ? {} : { automountServiceAccountToken: sa.automountServiceAccountToken };
      } catch (error) {
        if (apiFailure(error)?.code === 404) return undefined;
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

async function gatewaysAndPolicies(kc: KubeConfig, namespace: string, name: string | undefined): Promise<{ gateway: AccessGateway; policies: AccessPolicy[] }[]> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const gateways = name === undefined
    ? ((await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: ACCESSGATEWAY_PLURAL, namespace })) as { items?: AccessGateway[] }).items ?? []
    : [await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: ACCESSGATEWAY_PLURAL, namespace, name }) as AccessGateway];
  return Promise.all(gateways.map(async (gateway) => {
    const listed = await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: ACCESSPOLICY_PLURAL, namespace, labelSelector: labelSelectorString(gateway.spec.policySelector) }) as { items?: AccessPolicy[] };
    return { gateway, policies: listed.items ?? [] };
  }));
}

/** One block per finding: what, whose, why, and the fix on its own line to copy. */
export function formatFindings(gateway: string, findings: readonly BypassFinding[]): string {
  if (findings.length === 0) return `${gateway}: no path around the gateway found\n`;
  const lines = [`${gateway}: ${findings.length} path(s) around the gateway`];
  for (const f of findings) lines.push(`  ${f.kind}  ${f.subject}`, `    ${f.detail}`, `    fix: ${f.fix}`);
  return `${lines.join('\n')}\n`;
}

async function run(invocation: Invocation): Promise<number> {
  const { flags, io, positionals, prog } = invocation;
  if (positionals.length > 1) throw new CliError(`at most one gateway: ${prog} bypass [GATEWAY] -n NAMESPACE`);
  const kc = loadKubeConfig(flags);
  const namespace = flags.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const reach = reaching(kc.getCurrentCluster()?.server ?? '<no server>');
  try {
    const found = await reach(() => gatewaysAndPolicies(kc, namespace, positionals[0]));
    if (found.length === 0) { io.err(`No AccessGateways in ${namespace}.\n`); return 0; }
    const sources = clusterSources(kc);
    let total = 0;
    for (const { gateway, policies } of found) {
      const name = gateway.metadata.name ?? '';
      const findings = await reach(() => findBypass({
        namespace, name, serviceAccount: gatewayServiceAccountName({ namespace, name }),
        audiences: gateway.spec.authentication?.serviceAccountTokens?.audiences ?? [],
      }, policies, sources));
      total += findings.length;
      io.out(formatFindings(`${namespace}/${name}`, findings));
    }
    return total === 0 ? 0 : 3;
  } catch (error) {
    const failure = apiFailure(error);
    if (failure === undefined) throw error;
    throw new CliError(`${failure.message} (the report reads AccessGateways, AccessPolicies, ServiceAccounts, Pods, token Secrets' metadata and makes SubjectAccessReviews)`, { cause: error });
  }
}

export const bypassCommand: Subcommand = {
  name: 'bypass',
  summary: 'List every path around the gateways of a namespace (tokens, RBAC, the gateway credential), each with its fix',
  usage: '[GATEWAY] [-n NAMESPACE]',
  help: [
    'For the subjects of the AccessPolicies each AccessGateway enforces: ServiceAccounts whose tokens the API',
    'server accepts (automount on the account or a pod, legacy token Secrets), RBAC under their own names',
    '(SubjectAccessReview per verb, resource and namespace their Allow rules name), and a gateway credential',
    'that may do more than impersonate and review. Exit code 3 when anything is found.',
  ],
  options: {},
  run,
};
