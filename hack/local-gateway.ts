// A gateway on the local control plane, set up the way the operator would set it up: its own
// ServiceAccount with the gateway RBAC, a TokenRequest token as its upstream credential, a serving
// certificate from the local CA, a real OIDC issuer, and the gateway itself in-process on loopback.
// Used by the e2e tests, the demo and the benchmarks.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { issueServingCertificate, pkiPaths } from './controlplane/pki.ts';
import { writeKubeconfig } from './controlplane/kubeconfig.ts';
import { startOidcIssuer, type CiIdentity, type OidcIssuer } from './oidc-issuer.ts';
import { buildGatewayClusterRole, buildGatewayClusterRoleBinding } from '../operator/resources/gateway-rbac.ts';
import { gatewayServiceAccountName } from '../core/gateway-names.ts';
import { startGateway, type RunningGateway } from '../gateway/gateway.ts';
import { parseGatewayConfig } from '../core/config/gateway-config.ts';

export interface LocalCluster {
  /** Directory of the local control plane (its pki/ signs the certificates). */
  readonly dir: string;
  readonly kubeconfig: string;
  readonly kubectlPath: string;
}

export interface LocalGateway {
  readonly url: string;
  readonly healthUrl: string;
  readonly caFile: string;
  readonly auditFile: string;
  readonly recordingDir: string;
  readonly dir: string;
  readonly oidc: OidcIssuer;
  readonly running: RunningGateway;
  /** A kubeconfig that points kubectl at the gateway with this bearer token. */
  kubeconfigFor(token: string, name?: string): Promise<string>;
  stop(): Promise<void>;
}

export const CI_CLIENT: CiIdentity = {
  clientId: 'github-actions',
  secret: 'local-client-secret-local-client-secret',
  claims: { repository: 'acme/payments', ref: 'refs/heads/main', job_workflow_ref: 'acme/payments/.github/workflows/deploy.yml@refs/heads/main' },
};
export const OTHER_CI_CLIENT: CiIdentity = {
  clientId: 'other-repo',
  secret: 'local-client-secret-local-client-secret',
  claims: { repository: 'acme/other', ref: 'refs/heads/main' },
};

export interface LocalGatewayOptions {
  readonly cluster: LocalCluster;
  readonly name: string;
  readonly policyNamespace: string;
  readonly defaultAction?: 'Allow' | 'Deny';
  /** policy.discovery (default AllAuthenticated). */
  readonly discovery?: 'AllAuthenticated' | 'Policy';
  readonly auditLevel?: 'None' | 'Metadata' | 'Request' | 'RequestResponse';
  /** audit.maxResponseBodyBytes (the gateway's default otherwise). */
  readonly auditMaxResponseBodyBytes?: number;
  readonly logFile?: string;
  /** Also send the audit trail to this receiver (audit.webhook), e.g. http://127.0.0.1:PORT/audit. */
  readonly auditWebhookUrl?: string;
  /** Sign checkpoints with this Ed25519 private key (PEM file). */
  readonly checkpointKeyFile?: string;
  /** Record exec and attach sessions here (default: recordings/ in the gateway's directory). */
  readonly recordingDir?: string;
  /** The gateway's namespace, where its ServiceAccount and ApprovalRequests live (default airlock-system). */
  readonly namespace?: string;
  /** approvals.maxHeldPerCaller: how many requests one caller may have held for approval at once. */
  readonly maxHeldApprovalsPerCaller?: number;
  /** The gateway's `limits` section (its defaults otherwise). */
  readonly limits?: Readonly<Record<string, unknown>>;
  /** The gateway's `identity` section: which names it forwards (Caller, its default, otherwise). */
  readonly identity?: { readonly forwardAs: 'Caller' | 'GatewayOnly'; readonly prefix?: string };
  /** authentication.serviceAccountTokens.audiences (empty: the API server's own). */
  readonly serviceAccountAudiences?: readonly string[];
}

/** The gateway config's `audit` section for a test gateway writing to `auditFile`. */
function auditSection(options: LocalGatewayOptions, auditFile: string): Record<string, unknown> {
  return {
    level: options.auditLevel ?? 'Request', failurePolicy: 'FailClosed', file: { path: auditFile, maxSizeMB: 50, maxFiles: 3 },
    ...(options.auditMaxResponseBodyBytes === undefined ? {} : { maxResponseBodyBytes: options.auditMaxResponseBodyBytes }),
    ...(options.auditWebhookUrl === undefined ? {} : { webhook: { url: options.auditWebhookUrl, batchSize: 20, flushIntervalMs: 50 } }),
    ...(options.checkpointKeyFile === undefined ? {} : { checkpointKeyFile: options.checkpointKeyFile }),
  };
}

export async function startLocalGateway(options: LocalGatewayOptions): Promise<LocalGateway> {
  const { cluster } = options;
  const kubectl = async (args: readonly string[], input?: string): Promise<string> => {
    const child = promisify(execFile)(cluster.kubectlPath, [...args], { env: { ...process.env, KUBECONFIG: cluster.kubeconfig } });
    if (input !== undefined) child.child.stdin?.end(input);
    return (await child).stdout;
  };
  const dir = await mkdtemp(join(tmpdir(), `airlock-gw-${options.name}-`));
  const pki = pkiPaths(join(cluster.dir, 'pki'));
  const identity = { name: options.name, namespace: options.namespace ?? 'airlock-system' };
  await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: identity.namespace } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: gatewayServiceAccountName(identity), namespace: identity.namespace } },
    buildGatewayClusterRole(identity),
    buildGatewayClusterRoleBinding(identity),
  ] }));
  const token = (await kubectl(['create', 'token', gatewayServiceAccountName(identity), '-n', identity.namespace, '--duration=1h'])).trim();
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, token, { mode: 0o600 });
  const serving = await issueServingCertificate(pki, `gateway-${options.name}`, { dns: ['localhost'], ips: ['127.0.0.1'] });
  const oidcTls = await issueServingCertificate(pki, 'oidc-issuer', { dns: ['localhost'], ips: ['127.0.0.1'] });
  const oidc = await startOidcIssuer({
    tls: { cert: await readFile(oidcTls.cert), key: await readFile(oidcTls.key), ca: await readFile(pki.caCert) },
    clients: [CI_CLIENT, OTHER_CI_CLIENT],
  });
  const server = /server: (\S+)/.exec(await readFile(cluster.kubeconfig, 'utf8'))?.[1] ?? '';
  const auditFile = join(dir, 'audit', 'audit.log');
  const recordingDir = options.recordingDir ?? join(dir, 'recordings');
  await mkdir(recordingDir, { recursive: true });
  const config = parseGatewayConfig({
    name: options.name,
    namespace: identity.namespace,
    listen: { address: '127.0.0.1', port: 0, tlsCertFile: serving.cert, tlsKeyFile: serving.key },
    health: { address: '127.0.0.1', port: 0 },
    upstream: { server, caFile: pki.caCert, tokenFile },
    authentication: {
      oidc: [{
        issuerURL: oidc.issuer, audiences: [oidc.audience], usernameClaim: 'sub', usernamePrefix: 'oidc:', caFile: pki.caCert,
        claimsForPolicy: ['repository', 'ref', 'job_workflow_ref'],
      }],
      serviceAccountTokens: { enabled: true, audiences: options.serviceAccountAudiences ?? [] },
    },
    ...(options.identity === undefined ? {} : { identity: options.identity }),
    policy: { namespace: options.policyNamespace, defaultAction: options.defaultAction ?? 'Deny', ...(options.discovery === undefined ? {} : { discovery: options.discovery }) },
    audit: auditSection(options, auditFile),
    recording: { dir: recordingDir },
    ...(options.maxHeldApprovalsPerCaller === undefined ? {} : { approvals: { maxHeldPerCaller: options.maxHeldApprovalsPerCaller } }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    shutdownGraceSeconds: 1,
  }, `${options.name} gateway config`);
  await writeFile(join(dir, 'gateway.yaml'), stringify(config));
  const running = await startGateway(config, { logFile: options.logFile ?? join(dir, 'gateway.log') });
  return {
    url: running.url,
    healthUrl: running.healthUrl,
    caFile: pki.caCert,
    auditFile,
    recordingDir,
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
