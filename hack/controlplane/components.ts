// Command lines of the control plane components. Pure functions of a layout, so the flags are
// readable in one place and testable without starting anything.
import { join } from 'node:path';
import type { Pki } from './pki.ts';

// A type alias (not an interface) so Object.values(ports) is number[].
export type Ports = {
  readonly etcdClient: number;
  readonly etcdPeer: number;
  readonly apiserver: number;
  readonly controllerManager: number;
  readonly scheduler: number;
  readonly kwok: number;
};

export interface Layout {
  readonly dir: string;
  readonly binDir: string;
  readonly stagesDir: string;
  readonly pki: Pki;
  readonly ports: Ports;
  /** Non-loopback address the API server advertises in the `kubernetes` Service endpoints. */
  readonly advertiseAddress: string;
  readonly adminKubeconfig: string;
}

export interface Component {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
}

export const SERVICE_CIDR = '10.96.0.0/16';
export const POD_CIDR = '10.244.0.0/16';
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export const auditLogPath = (layout: Layout): string => join(layout.dir, 'audit', 'audit.log');
export const auditPolicyPath = (layout: Layout): string => join(layout.dir, 'audit', 'policy.yaml');
export const kwokConfigPath = (layout: Layout): string => join(layout.dir, 'kwok', 'simulation.yaml');
export const kwokLogsFile = (layout: Layout): string => join(layout.dir, 'kwok', 'container.log');
/** What `kubectl attach` follows (CRI log format, as kwok reads it): tests append lines to it. */
export const kwokAttachFile = (layout: Layout): string => join(layout.dir, 'kwok', 'attach.log');

export function etcd(layout: Layout): Component {
  const client = `http://127.0.0.1:${layout.ports.etcdClient}`;
  const peer = `http://127.0.0.1:${layout.ports.etcdPeer}`;
  return {
    name: 'etcd',
    command: join(layout.binDir, 'etcd'),
    args: [
      '--name=airlock',
      `--data-dir=${join(layout.dir, 'etcd')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=airlock=${peer}`,
      // Test data is disposable; fsync dominates etcd latency on small disks.
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ],
  };
}

export function kubeApiserver(layout: Layout): Component {
  const { pki } = layout;
  return {
    name: 'kube-apiserver',
    command: join(layout.binDir, 'kube-apiserver'),
    args: [
      `--etcd-servers=http://127.0.0.1:${layout.ports.etcdClient}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${layout.ports.apiserver}`,
      `--advertise-address=${layout.advertiseAddress}`,
      `--tls-cert-file=${pki.servingCert}`,
      `--tls-private-key-file=${pki.servingKey}`,
      `--client-ca-file=${pki.caCert}`,
      '--authorization-mode=Node,RBAC',
      '--allow-privileged=true',
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--api-audiences=${SERVICE_ACCOUNT_ISSUER}`,
      // kwok answers exec/logs/port-forward for every node on one loopback port.
      '--kubelet-preferred-address-types=InternalIP,Hostname',
      `--audit-policy-file=${auditPolicyPath(layout)}`,
      `--audit-log-path=${auditLogPath(layout)}`,
      '--audit-log-format=json',
      '--audit-log-maxsize=200',
      '--audit-log-maxbackup=3',
      '--profiling=false',
    ],
  };
}

export function kubeControllerManager(layout: Layout): Component {
  const { pki } = layout;
  return {
    name: 'kube-controller-manager',
    command: join(layout.binDir, 'kube-controller-manager'),
    args: [
      `--kubeconfig=${layout.adminKubeconfig}`,
      `--authentication-kubeconfig=${layout.adminKubeconfig}`,
      `--authorization-kubeconfig=${layout.adminKubeconfig}`,
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${pki.serviceAccountKey}`,
      `--root-ca-file=${pki.caCert}`,
      `--cluster-signing-cert-file=${pki.caCert}`,
      `--cluster-signing-key-file=${pki.caKey}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${layout.ports.controllerManager}`,
    ],
  };
}

export function kubeScheduler(layout: Layout): Component {
  return {
    name: 'kube-scheduler',
    command: join(layout.binDir, 'kube-scheduler'),
    args: [
      `--kubeconfig=${layout.adminKubeconfig}`,
      `--authentication-kubeconfig=${layout.adminKubeconfig}`,
      `--authorization-kubeconfig=${layout.adminKubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${layout.ports.scheduler}`,
    ],
  };
}

const kwokStages = [
  'node/fast/node-initialize.yaml',
  'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'pod/fast/pod-ready.yaml',
  'pod/fast/pod-complete.yaml',
  'pod/fast/pod-delete.yaml',
];

export function kwok(layout: Layout): Component {
  const configs = [...kwokStages.map((s) => join(layout.stagesDir, s)), kwokConfigPath(layout)];
  return {
    name: 'kwok',
    command: join(layout.binDir, 'kwok'),
    args: [
      `--kubeconfig=${layout.adminKubeconfig}`,
      '--manage-all-nodes=true',
      `--cidr=${POD_CIDR}`,
      `--config=${configs.join(',')}`,
      '--node-lease-duration-seconds=40',
      '--node-ip=127.0.0.1',
      '--node-name=localhost',
      `--node-port=${layout.ports.kwok}`,
      `--server-address=127.0.0.1:${layout.ports.kwok}`,
    ],
  };
}

/** The apiserver's own audit log: Metadata for everything, so tests can read who did what. */
export const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    users: ["system:kube-scheduler", "system:kube-controller-manager"]
    verbs: [get, list, watch]
  - level: Metadata
`;

/** kwok simulation: exec runs the command on this machine; logs and attach serve a file; port-forward
 * to any port echoes what it receives (`cat`), so a test can prove bytes travel both ways. */
export function kwokSimulation(layout: Layout): string {
  return `apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterExec
metadata:
  name: airlock-local-exec
spec:
  execs:
    - local:
        workDir: ${join(layout.dir, 'kwok')}
        envs:
          - name: AIRLOCK_KWOK
            value: "true"
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: airlock-local-logs
spec:
  logs:
    - logsFile: ${kwokLogsFile(layout)}
      follow: true
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterAttach
metadata:
  name: airlock-local-attach
spec:
  attaches:
    - logsFile: ${kwokAttachFile(layout)}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterPortForward
metadata:
  name: airlock-local-port-forward
spec:
  forwards:
    - command: [cat]
`;
}

/** The simulated nodes kwok keeps Ready; two so topology spread has somewhere to go. */
export function kwokNode(name: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'topology.kubernetes.io/zone': `zone-${name.slice(-1)}`,
        type: 'kwok',
      },
    },
    spec: {},
  };
}
