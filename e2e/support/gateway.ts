// The e2e tests' gateway: hack/local-gateway.ts on the control plane of this test run.
import { inject } from 'vitest';
import { startLocalGateway, type LocalGateway } from '../../hack/local-gateway.ts';

export { CI_CLIENT, OTHER_CI_CLIENT } from '../../hack/local-gateway.ts';
export type TestGateway = LocalGateway;

export async function startTestGateway(options: {
  name: string; policyNamespace: string; defaultAction?: 'Allow' | 'Deny'; auditWebhookUrl?: string; checkpointKeyFile?: string; namespace?: string; maxHeldApprovalsPerCaller?: number;
  auditLevel?: 'None' | 'Metadata' | 'Request' | 'RequestResponse'; auditMaxResponseBodyBytes?: number; limits?: Readonly<Record<string, unknown>>; discovery?: 'AllAuthenticated' | 'Policy';
  identity?: { forwardAs: 'Caller' | 'GatewayOnly'; prefix?: string }; serviceAccountAudiences?: readonly string[];
}): Promise<TestGateway> {
  const dir = inject('clusterDir');
  if (dir === '') throw new Error('gateway e2e tests need the local control plane (its CA signs the certificates)');
  return startLocalGateway({ ...options, cluster: { dir, kubeconfig: inject('kubeconfig'), kubectlPath: inject('kubectlPath') } });
}
