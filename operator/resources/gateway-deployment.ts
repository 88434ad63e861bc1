// The gateway Deployment. Hardened the way a pod that holds an impersonating credential should be:
// no automounted ServiceAccount token (the operator mints a short-lived one with TokenRequest and
// stores it in a Secret), non-root, read-only root filesystem, no capabilities, RuntimeDefault
// seccomp. Secrets are mounted as whole directories (never subPath) so that the kubelet swaps a
// rotated token or certificate in place and the gateway reloads it without a restart. The config
// checksum in the pod template is what rolls the pods when the rendered config changes.
import { posix } from 'node:path';
import type { Container, Deployment, PodSpec, Probe, ResourceRequirements, Volume, VolumeMount } from './k8s-types.ts';
import type { AccessGateway } from '../../crds/types.gen.ts';
import { auditSinks, GATEWAY_PATHS, GATEWAY_PORTS } from './gateway-config.ts';
import { gatewayResourceNames, type UpstreamCaSource } from './gateway-names.ts';
import { childMetadata, LABELS, selectorLabels, type GatewayRef } from './labels.ts';
import { GATEWAY_NODE_FLAGS } from '../../core/config/gateway-runtime-flags.ts';

export const CONFIG_CHECKSUM_ANNOTATION = 'airlock.dev/config-checksum';
export const GATEWAY_CONTAINER = 'gateway';
export const DEFAULT_REPLICAS = 2;
/** The gateway drains for 30 s (shutdownGraceSeconds); 5 s pre-stop pause; 10 s to spare. */
export const TERMINATION_GRACE_SECONDS = 45;
const PRE_STOP_SECONDS = 5;
const NONROOT_UID = 65532;
/** Read by the owner only (and the pod's fsGroup): keys and tokens. */
const SECRET_MODE = 0o440;

export const GATEWAY_RESOURCES: ResourceRequirements = {
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { cpu: '1', memory: '512Mi' },
};

export interface GatewayDeploymentInputs {
  /** The operator's own image, used when spec.image is empty (it contains both entry points). */
  readonly defaultImage: string;
  /** configChecksum() of the rendered config; changing it rolls the pods. */
  readonly configChecksum: string;
  /** Secret with key `token`: the upstream credential the operator minted. */
  readonly credentialSecretName: string;
  /** kubernetes.io/tls Secret the gateway serves from (operator-managed or the user's). */
  readonly tlsSecretName: string;
  /** Where ca.crt for the upstream API server comes from (upstreamCaSource()); undefined: system trust store. */
  readonly upstreamCa: UpstreamCaSource | undefined;
}

type Gateway = GatewayRef & Pick<AccessGateway, 'spec'>;

interface Mounted { readonly volume: Volume; readonly mount: VolumeMount }

function secretVolume(name: string, secretName: string, mountPath: string): Mounted {
  return {
    volume: { name, secret: { secretName, defaultMode: SECRET_MODE } },
    mount: { name, mountPath, readOnly: true },
  };
}

function upstreamCaVolume(source: UpstreamCaSource): Mounted {
  const name = 'upstream-ca';
  const items = [{ key: 'ca.crt', path: 'ca.crt' }];
  const volume: Volume = source.kind === 'ConfigMap'
    ? { name, configMap: { name: source.name, items } }
    : { name, secret: { secretName: source.name, items, defaultMode: SECRET_MODE } };
  return { volume, mount: { name, mountPath: GATEWAY_PATHS.upstreamCaDir, readOnly: true } };
}

/**
 * The audit file sink writes to an emptyDir at the file's directory. An emptyDir dies with the
 * pod: a real deployment should ship the file off the node (a log agent) or rely on the webhook
 * sink; the audit trail belongs outside the cluster.
 */
function auditFileVolume(gateway: Gateway): Mounted | undefined {
  const file = auditSinks(gateway.spec).find((s) => s.file !== undefined)?.file;
  if (file === undefined) return undefined;
  return { volume: { name: 'audit', emptyDir: {} }, mount: { name: 'audit', mountPath: posix.dirname(file.path) } };
}

/** Session recordings: the user's PersistentVolumeClaim, or an emptyDir (which dies with the pod). */
function recordingVolume(gateway: Gateway): Mounted | undefined {
  const recording = gateway.spec.recording;
  if (recording === undefined) return undefined;
  const volume: Volume = recording.claimName === undefined || recording.claimName === ''
    ? { name: 'recordings', emptyDir: {} }
    : { name: 'recordings', persistentVolumeClaim: { claimName: recording.claimName } };
  return { volume, mount: { name: 'recordings', mountPath: recording.path } };
}

function webhookCaVolume(gateway: Gateway): Mounted | undefined {
  const ref = auditSinks(gateway.spec).find((s) => s.webhook?.caSecretRef !== undefined)?.webhook?.caSecretRef;
  return ref === undefined ? undefined : secretVolume('webhook-ca', ref.name, GATEWAY_PATHS.webhookCaDir);
}

export function gatewayVolumes(gateway: Gateway, inputs: GatewayDeploymentInputs): Mounted[] {
  const mounted: (Mounted | undefined)[] = [
    {
      volume: { name: 'config', configMap: { name: gatewayResourceNames(gateway).configMap } },
      mount: { name: 'config', mountPath: GATEWAY_PATHS.configDir, readOnly: true },
    },
    secretVolume('credential', inputs.credentialSecretName, GATEWAY_PATHS.credentialDir),
    secretVolume('tls', inputs.tlsSecretName, GATEWAY_PATHS.tlsDir),
    inputs.upstreamCa === undefined ? undefined : upstreamCaVolume(inputs.upstreamCa),
    webhookCaVolume(gateway),
    auditFileVolume(gateway),
    recordingVolume(gateway),
    { volume: { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }, mount: { name: 'tmp', mountPath: '/tmp' } },
  ];
  return mounted.filter((m) => m !== undefined);
}

function httpProbe(path: string, periodSeconds: number, failureThreshold: number): Probe {
  return { httpGet: { path, port: 'health', scheme: 'HTTP' }, periodSeconds, timeoutSeconds: 2, failureThreshold };
}

function gatewayContainer(gateway: Gateway, inputs: GatewayDeploymentInputs, mounts: VolumeMount[]): Container {
  const image = gateway.spec.image === undefined || gateway.spec.image === '' ? inputs.defaultImage : gateway.spec.image;
  return {
    name: GATEWAY_CONTAINER,
    image,
    imagePullPolicy: 'IfNotPresent',
    // The image's entrypoint is node (distroless has no shell and no `node` on PATH); args pick the
    // runtime flags and the program.
    args: [...GATEWAY_NODE_FLAGS, 'dist/gateway/main.js', '--config', GATEWAY_PATHS.config],
    ports: [
      { name: 'https', containerPort: GATEWAY_PORTS.https, protocol: 'TCP' },
      { name: 'health', containerPort: GATEWAY_PORTS.health, protocol: 'TCP' },
    ],
    startupProbe: httpProbe('/healthz', 2, 30),
    livenessProbe: httpProbe('/healthz', 10, 3),
    readinessProbe: httpProbe('/readyz', 5, 2),
    // Let endpoints drop the pod before SIGTERM starts the drain.
    lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SECONDS } } },
    resources: GATEWAY_RESOURCES,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: NONROOT_UID,
      runAsGroup: NONROOT_UID,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: mounts,
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

/** Spread the replicas over nodes when the cluster has them, never refuse to schedule. */
function spreading(gateway: Gateway): Pick<PodSpec, 'affinity' | 'topologySpreadConstraints'> {
  const labelSelector = { matchLabels: selectorLabels(gateway) };
  return {
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector } },
        ],
      },
    },
    topologySpreadConstraints: [{
      maxSkew: 1,
      topologyKey: 'kubernetes.io/hostname',
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector,
      // Count only the pods of the same rollout, so a rolling update spreads too.
      matchLabelKeys: ['pod-template-hash'],
    }],
  };
}

function gatewayPodSpec(gateway: Gateway, inputs: GatewayDeploymentInputs): PodSpec {
  const mounted = gatewayVolumes(gateway, inputs);
  return {
    serviceAccountName: gatewayResourceNames(gateway).serviceAccount,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: NONROOT_UID,
      runAsGroup: NONROOT_UID,
      fsGroup: NONROOT_UID,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: [gatewayContainer(gateway, inputs, mounted.map((m) => m.mount))],
    volumes: mounted.map((m) => m.volume),
    ...spreading(gateway),
  };
}

export function buildGatewayDeployment(gateway: Gateway, inputs: GatewayDeploymentInputs): Deployment {
  const metadata = childMetadata(gateway, gatewayResourceNames(gateway).deployment);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata,
    spec: {
      replicas: gateway.spec.replicas ?? DEFAULT_REPLICAS,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(gateway) },
      // Never fewer serving pods than asked for during a rollout, even with one replica.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: {
          labels: { ...metadata.labels, [LABELS.component]: 'gateway' },
          annotations: {
            [CONFIG_CHECKSUM_ANNOTATION]: inputs.configChecksum,
            'kubectl.kubernetes.io/default-container': GATEWAY_CONTAINER,
          },
        },
        spec: gatewayPodSpec(gateway, inputs),
      },
    },
  };
}
