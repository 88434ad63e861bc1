// The gateway-only scene of the demo: a CI ServiceAccount whose RBAC is bound only to the name a
// GatewayOnly gateway forwards (printed by `kubectl airlock rolebinding`) reads through the gateway
// with a token for the gateway's audience; the same read straight at the API server is refused,
// with that token (not for the API server's audience) and with the account's own API token (no
// RBAC under its own name). Called by hack/demo-gateway.ts; e2e/demo-gateway-only.e2e.test.ts
// runs it in namespaces of its own.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { writeKubeconfig } from './controlplane/index.ts';
import { startLocalGateway, type LocalCluster } from './local-gateway.ts';
import { gatewayOnlyRoleBinding } from '../plugin/rolebinding-command.ts';

const run = promisify(execFile);
const bold = (s: string): string => `\u001b[1m${s}\u001b[0m`;
const indent = (text: string): string => text.trimEnd().split('\n').map((l) => `  ${l}`).join('\n');

export interface GatewayOnlyScene {
  readonly cp: LocalCluster;
  /** Where the ServiceAccount reads (e.g. payments) and where its AccessPolicy lives. */
  readonly namespace: string;
  readonly policyNamespace: string;
  /** The gateway's name (its prefix is airlock:airlock-system:NAME:). */
  readonly gateway: string;
  readonly print: (line: string) => void;
}

export async function gatewayOnlyScene(scene: GatewayOnlyScene): Promise<void> {
  const { cp, namespace, print } = scene;
  const admin = async (args: string[], input?: string): Promise<string> => {
    const child = run(cp.kubectlPath, args, { env: { ...process.env, KUBECONFIG: cp.kubeconfig } });
    if (input !== undefined) child.child.stdin?.end(input);
    return (await child).stdout;
  };
  const audience = `airlock-${scene.gateway}`;
  const binding = gatewayOnlyRoleBinding({ serviceaccount: `${namespace}:ci-bot`, gateway: `airlock-system/${scene.gateway}`, clusterrole: 'view' }, { namespace, prog: 'kubectl airlock' });
  await admin(['apply', '-f', '-'], stringify({ apiVersion: 'v1', kind: 'List', items: [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'ci-bot', namespace }, automountServiceAccountToken: false },
    binding,
    { apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'ci-bot', namespace: scene.policyNamespace }, spec: {
      subjects: [{ serviceAccount: { namespace, name: 'ci-bot' } }],
      rules: [
        { name: 'read', match: { verbs: ['get', 'list'], namespaces: [namespace] }, action: 'Allow' },
        { name: 'discovery', match: { nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/version'] }, action: 'Allow' },
      ],
    } },
  ] }));
  const gw = await startLocalGateway({ cluster: cp, name: scene.gateway, policyNamespace: scene.policyNamespace, identity: { forwardAs: 'GatewayOnly' }, serviceAccountAudiences: [audience] });
  try {
    const gatewayToken = (await admin(['create', 'token', 'ci-bot', '-n', namespace, '--audience', audience, '--duration=10m'])).trim();
    const apiToken = (await admin(['create', 'token', 'ci-bot', '-n', namespace, '--duration=10m'])).trim();
    const server = /server: (\S+)/.exec(await admin(['config', 'view', '--minify', '-o', 'yaml']))?.[1] ?? '';
    const direct = (name: string, token: string): Promise<string> => writeKubeconfig(join(gw.dir, `direct-${name}.kubeconfig`), { server, caCertFile: gw.caFile, user: name, token });
    print(`\n${bold('Only through the gateway:')} ServiceAccount ${namespace}/ci-bot, its RBAC bound to ${String((binding['subjects'] as { name: string }[])[0]?.name)} (kubectl airlock rolebinding)`);
    const ways: [string, string][] = [
      ['through the gateway, a token for its audience', await gw.kubeconfigFor(gatewayToken, 'ci-bot')],
      ['straight at the API server, the same token', await direct('gateway-token', gatewayToken)],
      ['straight at the API server, the account\'s own API token', await direct('api-token', apiToken)],
    ];
    for (const [how, kubeconfig] of ways) {
      print(bold(`$ kubectl get serviceaccounts -n ${namespace}    # ${how}`));
      const out = await run(cp.kubectlPath, ['get', 'serviceaccounts', '-n', namespace], { env: { ...process.env, KUBECONFIG: kubeconfig } })
        .then((r) => r.stdout, (e: unknown) => (e as { stderr?: string }).stderr ?? '');
      print(indent(out));
    }
  } finally {
    await gw.stop();
  }
}
