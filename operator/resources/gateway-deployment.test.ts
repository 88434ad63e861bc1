import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GATEWAY_NODE_FLAGS } from '../../core/config/gateway-runtime-flags.ts';
import { renderGatewayConfig } from './gateway-config.ts';
import { buildGatewayDeployment, type GatewayDeploymentInputs } from './gateway-deployment.ts';
import { IN_CLUSTER_SERVER, upstreamCaSource } from './gateway-names.ts';
import type { Container, PodSpec } from './k8s-types.ts';
import { sampleGateway, withReplicas, withSpec, type Modifier } from './testdata/gateway.ts';

const inputs: GatewayDeploymentInputs = {
  defaultImage: 'airlock:dev',
  configChecksum: 'c0ffee',
  credentialSecretName: 'ci-gateway-credential',
  tlsSecretName: 'ci-gateway-tls',
  upstreamCa: { kind: 'ConfigMap', name: 'kube-root-ca.crt' },
};

function build(modifiers: Modifier[] = [], overrides: Partial<GatewayDeploymentInputs> = {}): { pod: PodSpec; container: Container; deployment: ReturnType<typeof buildGatewayDeployment> } {
  const deployment = buildGatewayDeployment(sampleGateway(...modifiers), { ...inputs, ...overrides });
  const pod = deployment.spec!.template.spec!;
  return { deployment, pod, container: pod.containers[0]! };
}

function mountOf(container: Container, path: string): string | undefined {
  return container.volumeMounts?.find((m) => m.mountPath === path)?.name;
}

describe('buildGatewayDeployment', () => {
  it.each([
    ['3 replicas', [withReplicas(3)], 3],
    ['1 replica', [withReplicas(1)], 1],
    ['no replicas field (the default)', [withReplicas(undefined)], 2],
  ])('runs as many pods as the spec asks: %s', (_what, modifiers, replicas) => {
    expect(build(modifiers).deployment.spec!.replicas).toBe(replicas);
  });

  it('mounts a volume where the default audit file goes when the spec names no audit', () => {
    const { pod, container } = build([withSpec({ audit: undefined })]);
    expect(mountOf(container, '/var/log/airlock')).toBe('audit');
    expect(pod.volumes?.find((v) => v.name === 'audit')).toEqual({ name: 'audit', emptyDir: {} });
  });

  it.each([
    ['the operator image when spec.image is absent', [], 'airlock:dev'],
    ['spec.image when set', [withSpec({ image: 'ghcr.io/acme/airlock:0.1.0' })], 'ghcr.io/acme/airlock:0.1.0'],
  ])('uses %s', (_what, modifiers, image) => {
    expect(build(modifiers).container.image).toBe(image);
  });

  it('runs the gateway program with the mounted config through the image entrypoint', () => {
    const { container } = build();
    expect(container.command).toBeUndefined();
    expect(container.args).toEqual(['--max-semi-space-size=8', 'dist/gateway/main.js', '--config', '/etc/airlock/config/gateway.yaml']);
  });

  it('gives `docker run` of the image the same Node flags as the Deployment', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync('Dockerfile', 'utf8'))?.[1];
    expect(JSON.parse(cmd ?? 'null')).toEqual([...GATEWAY_NODE_FLAGS, 'dist/gateway/main.js']);
  });

  it.each([
    ['runAsNonRoot', true],
    ['runAsUser', 65532],
    ['readOnlyRootFilesystem', true],
    ['allowPrivilegeEscalation', false],
    ['capabilities', { drop: ['ALL'] }],
    ['seccompProfile', { type: 'RuntimeDefault' }],
  ])('hardens the container: %s is %j', (field, value) => {
    expect(build().container.securityContext).toHaveProperty([field], value);
  });

  it('never automounts a ServiceAccount token and runs as the gateway ServiceAccount', () => {
    const { pod } = build();
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe('airlock-gateway-ci-gateway');
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
  });

  it.each([
    ['/etc/airlock/config', 'config', { configMap: { name: 'ci-gateway-config' } }],
    ['/var/run/airlock/credential', 'credential', { secret: { secretName: 'ci-gateway-credential', defaultMode: 0o440 } }],
    ['/var/run/airlock/tls', 'tls', { secret: { secretName: 'ci-gateway-tls', defaultMode: 0o440 } }],
    ['/var/run/airlock/upstream-ca', 'upstream-ca', { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }],
    ['/var/log/airlock', 'audit', { emptyDir: {} }],
    ['/tmp', 'tmp', { emptyDir: { sizeLimit: '64Mi' } }],
  ])('mounts %s from volume %s', (path, name, source) => {
    const { pod, container } = build();
    expect(mountOf(container, path)).toBe(name);
    expect(pod.volumes?.find((v) => v.name === name)).toEqual({ name, ...source });
  });

  it('mounts every Secret and ConfigMap read-only and none with subPath, so rotated files appear in place', () => {
    const mounts = build().container.volumeMounts ?? [];
    for (const m of mounts.filter((x) => !['audit', 'recordings', 'tmp'].includes(x.name))) expect(m.readOnly, m.name).toBe(true);
    expect(mounts.some((m) => m.subPath !== undefined)).toBe(false);
  });

  it.each([
    ['a CA Secret for a remote server', { kind: 'Secret' as const, name: 'prod-ca' }, { secret: { secretName: 'prod-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }], defaultMode: 0o440 } }],
    ['no CA (public certificate)', undefined, undefined],
  ])('mounts the upstream CA from %s', (_what, upstreamCa, source) => {
    const { pod } = build([], { upstreamCa });
    const volume = pod.volumes?.find((v) => v.name === 'upstream-ca');
    if (source === undefined) expect(volume).toBeUndefined(); else expect(volume).toEqual({ name: 'upstream-ca', ...source });
  });

  it('mounts the audit webhook CA when the webhook sink names one', () => {
    const gateway = sampleGateway(withSpec({ audit: { sinks: [{ webhook: { url: 'https://audit.example.com', caSecretRef: { name: 'audit-ca' } } }] } }));
    const deployment = buildGatewayDeployment(gateway, inputs);
    const pod = deployment.spec!.template.spec!;
    expect(mountOf(pod.containers[0]!, '/var/run/airlock/webhook-ca')).toBe('webhook-ca');
    expect(pod.volumes?.some((v) => v.name === 'audit')).toBe(false);
  });

  it.each([
    [{ path: '/var/log/airlock/sessions' }, { emptyDir: {} }],
    [{ path: '/recordings', claimName: 'sessions-pvc' }, { persistentVolumeClaim: { claimName: 'sessions-pvc' } }],
  ])('mounts the recordings directory %j writable, from %j', (recording, source) => {
    const pod = buildGatewayDeployment(sampleGateway(withSpec({ recording })), inputs).spec!.template.spec!;
    expect(pod.volumes?.find((v) => v.name === 'recordings')).toEqual({ name: 'recordings', ...source });
    const mount = pod.containers[0]!.volumeMounts?.find((m) => m.name === 'recordings');
    expect(mount).toEqual({ name: 'recordings', mountPath: recording.path });
    expect(buildGatewayDeployment(sampleGateway(withSpec({ recording: undefined })), inputs).spec!.template.spec!.volumes?.some((v) => v.name === 'recordings')).toBe(false);
  });

  it.each([
    ['the sample (file and webhook sinks)', [] as Modifier[]],
    ['a remote upstream with a CA Secret', [withSpec({ upstream: { server: 'https://api.example.com', caSecretRef: { name: 'ca' } } })]],
    ['a webhook sink with a CA', [withSpec({ audit: { sinks: [{ webhook: { url: 'https://a.example.com', caSecretRef: { name: 'c' } } }] } })]],
  ])('mounts a directory for every file (or directory) the rendered config names: %s', (_what, modifiers) => {
    const gateway = sampleGateway(...modifiers);
    const config = renderGatewayConfig(gateway, { upstreamServer: IN_CLUSTER_SERVER });
    const files = JSON.stringify(config).match(/"\/[^"]+"/g)?.map((s) => JSON.parse(s) as string) ?? [];
    const deployment = buildGatewayDeployment(gateway, { ...inputs, upstreamCa: upstreamCaSource(gateway) });
    const paths = deployment.spec!.template.spec!.containers[0]!.volumeMounts!.map((m) => m.mountPath);
    expect(files.length).toBeGreaterThan(3);
    for (const file of files) expect(paths.some((dir) => file === dir || file.startsWith(`${dir}/`)), file).toBe(true);
  });

  it('serves https on 8443 and health on 9090 with liveness /healthz and readiness /readyz', () => {
    const { container } = build();
    expect(container.ports).toEqual([
      { name: 'https', containerPort: 8443, protocol: 'TCP' },
      { name: 'health', containerPort: 9090, protocol: 'TCP' },
    ]);
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'health', scheme: 'HTTP' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'health', scheme: 'HTTP' });
    expect(container.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } });
  });

  it('puts the config checksum in the pod template, so a config change rolls the pods', () => {
    const before = build().deployment.spec!.template.metadata!.annotations!;
    const after = build([], { configChecksum: 'beef' }).deployment.spec!.template.metadata!.annotations!;
    expect(before['airlock.dev/config-checksum']).toBe('c0ffee');
    expect(after['airlock.dev/config-checksum']).toBe('beef');
  });

  it('spreads pods across nodes without refusing to schedule', () => {
    const { pod } = build();
    const selector = { matchLabels: { 'app.kubernetes.io/name': 'airlock-gateway', 'app.kubernetes.io/instance': 'ci-gateway' } };
    expect(pod.topologySpreadConstraints).toEqual([
      { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: selector, matchLabelKeys: ['pod-template-hash'] },
    ]);
    expect(pod.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0]?.podAffinityTerm)
      .toEqual({ topologyKey: 'kubernetes.io/hostname', labelSelector: selector });
    expect(pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
  });

  it('selects its pods with labels the pod template carries, and gives them 45 s to drain', () => {
    const { deployment, pod } = build();
    expect(deployment.spec!.template.metadata!.labels).toMatchObject(deployment.spec!.selector.matchLabels!);
    expect(pod.terminationGracePeriodSeconds).toBe(45);
    expect(deployment.spec!.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  });
});
