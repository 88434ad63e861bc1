// Test fixtures: the sample AccessGateway as the API server would return it (with a uid), and
// small modifiers, so each table row says only what differs.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { AccessGateway } from '../../../crds/types.gen.ts';

const SAMPLE = readFileSync(new URL('../../../config/samples/airlock_v1alpha1_accessgateway.yaml', import.meta.url), 'utf8');

export const SAMPLE_UID = '6f1c1d1e-0000-4000-8000-000000000001';

export type Modifier = (gateway: AccessGateway) => void;

/** The sample (ci-gateway in airlock-system, 2 replicas, file and webhook audit sinks), modified. */
export function sampleGateway(...modifiers: Modifier[]): AccessGateway {
  const gateway = parse(SAMPLE) as AccessGateway;
  gateway.metadata.uid = SAMPLE_UID;
  gateway.metadata.generation = 1;
  for (const modify of modifiers) modify(gateway);
  return gateway;
}

export const withReplicas = (replicas: number | undefined): Modifier => (g) => {
  if (replicas === undefined) delete g.spec.replicas; else g.spec.replicas = replicas;
};

export const withService = (service: AccessGateway['spec']['service']): Modifier => (g) => {
  if (service === undefined) delete g.spec.service; else g.spec.service = service;
};

export const withName = (name: string, namespace = 'airlock-system'): Modifier => (g) => {
  g.metadata.name = name;
  g.metadata.namespace = namespace;
};

type Spec = AccessGateway['spec'];

/** Sets spec fields; a field given as undefined is removed. */
export const withSpec = (patch: { [K in keyof Spec]?: Spec[K] | undefined }): Modifier => (g) => {
  const spec: Record<string, unknown> = { ...g.spec };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) Reflect.deleteProperty(spec, key); else spec[key] = value;
  }
  g.spec = spec;
};
