// A real gateway for e2e tests: its own ServiceAccount with the RBAC the operator would give it, a
// TokenRequest token as its upstream credential, a serving certificate from the local CA, a real
// OIDC issuer, and the gateway itself started in-process on loopback.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { stringify } from 'yaml';
import { issueServingCertificate, pkiPaths, writeKubeconfig } from '../../hack/controlplane/index.ts';
import { buildGatewayClusterRole, buildGatewayClusterRoleBinding, gatewayServiceAccountName } from '../../operator/resources/gateway-rbac.ts';
import { startGateway, type RunningGateway } from '../../gateway/gateway.ts';
import { parseGatewayConfig } from '../../gateway/config/gateway-config.ts';
import { kubectlOk, testCluster } from './kubectl.ts';
import { startOidcIssuer, type CiIdentity, type OidcIssuer } from './oidc-issuer.ts';

export interface TestGateway {
  readonly url: string;
  readonly healthUrl: string;
  readonly caFile: string;
  readonly auditFile: string;
  readonly dir: string;
  readonly oidc: OidcIssuer;
  readonly running: RunningGateway;
  /** A kubeconfig that points kubectl at the gateway with this bearer token. */
  kubeconfigFor(token: string, name?: string): Promise<string>;
  stop(): Promise<void>;
}

export const CI_CLIENT: CiIdentity = {
  clientId: 'github-actions',
  secret: 'e2e-client-secret-e2e-client-secret',
  claims: { repository: 'acme/payments', ref: 'refs/heads/main', job_workflow_ref: 'acme/payments/.github/workflows/deploy.yml@refs/heads/main' },
};
export const OTHER_CI_CLIENT: CiIdentity = {
  clientId: 'other-repo',
  secret: 'e2e-client-secret-e2e-client-secret',
  claims: { repository: 'acme/other', ref: 'refs/heads/main' },
};

export interface TestGatewayOptions {
  readonly name: string;
  readonly defaultAction?: 'Allow' | 'Deny';
  readonly policyNamespace: string;
  readonly extraConfig?: Record<string, unknown>;
}

export async function startTestGateway(options: TestGatewayOptions): Promise<TestGateway> {
  const clusterDir = inject('clusterDir');
  if (clusterDir === '') throw new Error('gateway e2e tests need the local control plane (its CA signs the certificates)');
  const dir = await mkdtemp(join(tmpdir(), `airlock-gw-${options.name}-`));
  const pki = pkiPaths(join(clusterDir, 'pki'));
  const identity = { name: options.name, namespace: 'airlock-system' };
  await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'airlock-system' } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: gatewayServiceAccountName(identity), namespace: 'airlock-system' } },
    buildGatewayClusterRole(identity),
    buildGatewayClusterRoleBinding(identity),
  ] }) });
  const token = (await kubectlOk(['create', 'token', gatewayServiceAccountName(identity), '-n', 'airlock-system', '--duration=1h'])).trim();
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, token, { mode: 0o600 });
  const serving = await issueServingCertificate(pki, `gateway-${options.name}`, { dns: ['localhost'], ips: ['127.0.0.1'] });
  const oidcTls = await issueServingCertificate(pki, 'oidc-issuer', { dns: ['localhost'], ips: ['127.0.0.1'] });
  const oidc = await startOidcIssuer({
    tls: { cert: await readFile(oidcTls.cert), key: await readFile(oidcTls.key), ca: await readFile(pki.caCert) },
    clients: [CI_CLIENT, OTHER_CI_CLIENT],
  });
  const server = (await readFile(testCluster().kubeconfig, 'utf8')).match(/server: (\S+)/)?.[1] ?? '';
  const auditFile = join(dir, 'audit', 'audit.log');
  const config = parseGatewayConfig({
    name: options.name,
    namespace: 'airlock-system',
    listen: { address: '127.0.0.1', port: 0, tlsCertFile: serving.cert, tlsKeyFile: serving.key },
    health: { address: '127.0.0.1', port: 0 },
    upstream: { server, caFile: pki.caCert, tokenFile },
    authentication: {
      oidc: [{
        issuerURL: oidc.issuer, audiences: [oidc.audience], usernameClaim: 'sub', usernamePrefix: 'oidc:', caFile: pki.caCert,
        claimsForPolicy: ['repository', 'ref', 'job_workflow_ref'],
      }],
      serviceAccountTokens: { enabled: true },
    },
    policy: { namespace: options.policyNamespace, defaultAction: options.defaultAction ?? 'Deny' },
    audit: { level: 'Request', failurePolicy: 'FailClosed', file: { path: auditFile, maxSizeMB: 50, maxFiles: 3 } },
    shutdownGraceSeconds: 1,
    ...options.extraConfig,
  }, 'e2e gateway config');
  await writeFile(join(dir, 'gateway.yaml'), stringify(config));
  const running = await startGateway(config, { logFile: join(dir, 'gateway.log') });
  return {
    url: running.url,
    healthUrl: running.healthUrl,
    caFile: pki.caCert,
    auditFile,
    dir,
    oidc,
    running,
    kubeconfigFor: async (bearer, name = 'caller') => writeKubeconfig(join(dir, `kubeconfig-${name}`), {
      server: running.url, caCertFile: pki.caCert, user: name, token: bearer,
    }),
    stop: async () => {
      await running.stop();
      await oidc.stop();
    },
  };
}
