// config/manager is what runs the operator; these tests hold it to the hardening the gateways get.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Deployment } from './k8s-types.ts';
import { OPERATOR_NODE_FLAGS } from '../runtime-flags.ts';

const manager = parse(readFileSync(new URL('../../config/manager/manager.yaml', import.meta.url), 'utf8')) as Deployment;
const pod = manager.spec!.template.spec!;
const container = pod.containers[0]!;

describe('the operator Deployment (config/manager/manager.yaml)', () => {
  it('runs two replicas in airlock-system as the airlock-operator ServiceAccount, with leader election', () => {
    expect(manager.metadata).toMatchObject({ name: 'airlock-operator', namespace: 'airlock-system' });
    expect(manager.spec!.replicas).toBe(2);
    expect(pod.serviceAccountName).toBe('airlock-operator');
    expect(container.env).toContainEqual({ name: 'AIRLOCK_LEADER_ELECTION', value: 'true' });
    expect(container.env).toContainEqual({ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } });
  });

  it('runs the operator entry point of the airlock:dev image with the operator\'s Node flags', () => {
    expect(container.image).toBe('airlock:dev');
    expect(container.args).toEqual([...OPERATOR_NODE_FLAGS, 'dist/operator/main.js']);
  });

  it.each([
    ['runAsNonRoot', true],
    ['readOnlyRootFilesystem', true],
    ['allowPrivilegeEscalation', false],
    ['capabilities', { drop: ['ALL'] }],
    ['seccompProfile', { type: 'RuntimeDefault' }],
  ])('hardens the container: %s is %j', (field, value) => {
    expect(container.securityContext).toHaveProperty([field], value);
  });

  it.each([
    ['livenessProbe', '/healthz'],
    ['readinessProbe', '/readyz'],
  ])('probes %s on %s of port 8081', (probe, path) => {
    const port = container.ports?.find((p) => p.name === 'health');
    expect(port?.containerPort).toBe(8081);
    expect((container[probe as 'livenessProbe'])?.httpGet).toMatchObject({ path, port: 'health' });
  });

  it('serves metrics on 8080 and asks for resources with limits', () => {
    expect(container.ports).toContainEqual({ name: 'metrics', containerPort: 8080, protocol: 'TCP' });
    expect(container.resources?.requests).toBeDefined();
    expect(container.resources?.limits).toBeDefined();
  });

  it('keeps the heap cap (--max-old-space-size) well inside the memory limit: the rest of the RSS lives outside the heap', () => {
    const mib = (quantity: string | undefined): number => Number(/^(\d+)Mi$/.exec(quantity ?? '')?.[1] ?? 'NaN');
    const heap = Number(OPERATOR_NODE_FLAGS.find((f) => f.startsWith('--max-old-space-size='))?.split('=')[1]);
    const limit = mib(container.resources?.limits?.['memory']);
    expect(heap + 128).toBeLessThanOrEqual(limit);
    expect(mib(container.resources?.requests?.['memory'])).toBeLessThanOrEqual(limit);
  });
});
