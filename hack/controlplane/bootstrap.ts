// After the API server is up: the simulated nodes, and waiting until the cluster can run a pod
// (nodes Ready with the not-ready taint gone, the default ServiceAccount and root CA published).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { kwokNode } from './components.ts';
import { waitFor } from './readiness.ts';

const run = promisify(execFile);

export interface BootstrapOptions {
  readonly kubectl: string;
  readonly kubeconfig: string;
  readonly log: (message: string) => void;
  readonly nodes?: readonly string[];
}

export async function bootstrapCluster(options: BootstrapOptions): Promise<void> {
  const kubectl = async (args: readonly string[], input?: string): Promise<string> => {
    const child = run(options.kubectl, [...args], { env: { ...process.env, KUBECONFIG: options.kubeconfig } });
    if (input !== undefined) child.child.stdin?.end(input);
    return (await child).stdout;
  };
  const nodes = options.nodes ?? ['kwok-node-0', 'kwok-node-1'];
  const list = { apiVersion: 'v1', kind: 'List', items: nodes.map(kwokNode) };
  await waitFor(async () => { await kubectl(['apply', '-f', '-'], JSON.stringify(list)); return true; },
    { what: 'creating kwok nodes', timeoutMs: 60_000, intervalMs: 500 });
  await waitFor(async () => {
    const out = await kubectl(['get', 'nodes', '-o', 'json']);
    const items = (JSON.parse(out) as { items: NodeLike[] }).items;
    return items.length === nodes.length && items.every(nodeSchedulable);
  }, { what: 'kwok nodes Ready', timeoutMs: 120_000, intervalMs: 250 });
  options.log('nodes ready');
  await waitFor(async () => {
    await kubectl(['get', 'serviceaccount', 'default', '-n', 'default']);
    await kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', 'default']);
    return true;
  }, { what: 'default ServiceAccount and kube-root-ca.crt', timeoutMs: 120_000, intervalMs: 250 });
  options.log('default ServiceAccount and root CA published');
}

interface NodeLike {
  spec?: { taints?: { key: string }[] };
  status?: { conditions?: { type: string; status: string }[] };
}

function nodeSchedulable(node: NodeLike): boolean {
  const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const tainted = node.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/')) ?? false;
  return ready && !tainted;
}
