// Kubeconfig files with the credentials embedded, so a file can be handed to kubectl, client-node
// or a test on its own.
import { readFile, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

export interface KubeconfigSpec {
  readonly server: string;
  readonly caCertFile: string;
  readonly user: string;
  readonly clientCertFile?: string;
  readonly clientKeyFile?: string;
  readonly token?: string;
  readonly namespace?: string;
}

const b64 = async (path: string): Promise<string> => (await readFile(path)).toString('base64');

export async function renderKubeconfig(spec: KubeconfigSpec): Promise<string> {
  const user: Record<string, string> = {};
  if (spec.clientCertFile !== undefined && spec.clientKeyFile !== undefined) {
    user['client-certificate-data'] = await b64(spec.clientCertFile);
    user['client-key-data'] = await b64(spec.clientKeyFile);
  }
  if (spec.token !== undefined) user['token'] = spec.token;
  const context: Record<string, string> = { cluster: 'airlock-local', user: spec.user };
  if (spec.namespace !== undefined) context['namespace'] = spec.namespace;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'airlock-local', cluster: { server: spec.server, 'certificate-authority-data': await b64(spec.caCertFile) } }],
    users: [{ name: spec.user, user }],
    contexts: [{ name: spec.user, context }],
    'current-context': spec.user,
  });
}

export async function writeKubeconfig(path: string, spec: KubeconfigSpec): Promise<string> {
  await writeFile(path, await renderKubeconfig(spec), { mode: 0o600 });
  return path;
}
