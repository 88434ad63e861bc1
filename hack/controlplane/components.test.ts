import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  etcd, kubeApiserver, kubeControllerManager, kubeScheduler, kwok, kwokNode, kwokSimulation, type Layout,
} from './components.ts';
import { pkiPaths } from './pki.ts';
import { parse, parseAllDocuments } from 'yaml';

const layout: Layout = {
  dir: '/tmp/cp',
  binDir: '/cache/bin',
  stagesDir: '/cache/stages',
  pki: pkiPaths('/tmp/cp/pki'),
  ports: { etcdClient: 2379, etcdPeer: 2380, apiserver: 6443, controllerManager: 10257, scheduler: 10259, kwok: 10250 },
  advertiseAddress: '192.0.2.10',
  adminKubeconfig: '/tmp/cp/kubeconfig',
};

const flag = (args: readonly string[], name: string): string | undefined =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

describe('component command lines', () => {
  const all = [etcd, kubeApiserver, kubeControllerManager, kubeScheduler, kwok].map((f) => f(layout));

  it.each(all.map((c) => [c.name, c] as const))('%s runs the cached binary of its own name', (name, component) => {
    expect(component.command).toBe(join('/cache/bin', name));
  });

  it.each(all.map((c) => [c.name, c] as const))('%s listens on loopback only', (_name, component) => {
    const listeners = component.args.filter((a) => /--(bind-address|listen-[a-z-]+|server-address)=/.test(a));
    expect(listeners.length).toBeGreaterThan(0);
    for (const listener of listeners) expect(listener).toMatch(/=(https?:\/\/)?127\.0\.0\.1/);
  });

  it.each([
    ['authorization-mode', 'Node,RBAC'],
    ['client-ca-file', '/tmp/cp/pki/ca.crt'],
    ['service-account-signing-key-file', '/tmp/cp/pki/sa.key'],
    ['service-account-key-file', '/tmp/cp/pki/sa.pub'],
    ['service-account-issuer', 'https://kubernetes.default.svc.cluster.local'],
    ['advertise-address', '192.0.2.10'],
    ['etcd-servers', 'http://127.0.0.1:2379'],
    ['audit-log-path', '/tmp/cp/audit/audit.log'],
    ['secure-port', '6443'],
  ])('kube-apiserver sets --%s=%s', (name, value) => {
    expect(flag(kubeApiserver(layout).args, name)).toBe(value);
  });

  it('controller-manager can mint ServiceAccount tokens with the same key the API server verifies', () => {
    const args = kubeControllerManager(layout).args;
    expect(flag(args, 'service-account-private-key-file')).toBe(flag(kubeApiserver(layout).args, 'service-account-signing-key-file'));
    expect(flag(args, 'root-ca-file')).toBe('/tmp/cp/pki/ca.crt');
    expect(flag(args, 'use-service-account-credentials')).toBe('true');
  });

  it('kwok advertises the port it serves exec and logs on, and loads stages and the simulation', () => {
    const args = kwok(layout).args;
    expect(flag(args, 'node-port')).toBe('10250');
    expect(flag(args, 'server-address')).toBe('127.0.0.1:10250');
    const configs = flag(args, 'config')?.split(',') ?? [];
    expect(configs).toContain('/cache/stages/node/fast/node-initialize.yaml');
    expect(configs.at(-1)).toBe('/tmp/cp/kwok/simulation.yaml');
  });
});

describe('kwok simulation', () => {
  it('declares cluster-wide exec, logs, attach and an echoing port-forward', () => {
    const docs = parseAllDocuments(kwokSimulation(layout)).map((d) => d.toJS() as { kind: string; spec: Record<string, unknown> });
    expect(docs.map((d) => d.kind)).toEqual(['ClusterExec', 'ClusterLogs', 'ClusterAttach', 'ClusterPortForward']);
    expect(docs[2]?.spec).toEqual({ attaches: [{ logsFile: '/tmp/cp/kwok/attach.log' }] });
    expect(docs[3]?.spec).toEqual({ forwards: [{ command: ['cat'] }] });
    expect(parse(JSON.stringify(docs[1]?.spec))).toEqual({ logs: [{ logsFile: '/tmp/cp/kwok/container.log', follow: true }] });
  });

  it('makes nodes kwok manages, labelled for topology spread', () => {
    const node = kwokNode('kwok-node-1') as { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
    expect(node.metadata.annotations['kwok.x-k8s.io/node']).toBe('fake');
    expect(node.metadata.labels['kubernetes.io/hostname']).toBe('kwok-node-1');
    expect(node.metadata.labels['topology.kubernetes.io/zone']).toBe('zone-1');
  });
});
