// The rendered gateway config (renderGatewayConfig) as the ConfigMap the gateway mounts, and its
// checksum. The checksum is over a canonical JSON form (keys sorted, undefined dropped), so it
// changes exactly when the config's meaning changes, not when a key moves; the Deployment carries
// it in the pod template, which is what rolls the pods on a config change.
import { createHash } from 'node:crypto';
import type { ConfigMap } from './k8s-types.ts';
import { Document } from 'yaml';
import type { AccessGateway } from '../../crds/types.gen.ts';
import { CONFIG_CHECKSUM_ANNOTATION } from './gateway-deployment.ts';
import { gatewayResourceNames } from './gateway-names.ts';
import { childMetadata, gatewayNamespace, type GatewayRef } from './labels.ts';

export const CONFIG_FILE_KEY = 'gateway.yaml';

/** JSON with object keys sorted at every level; undefined properties are left out, as JSON does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} has no JSON form`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v: unknown) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`canonicalJson: a ${typeof value} has no JSON form`);
}

/** sha256 (hex) of the config's canonical JSON form. */
export function configChecksum(rendered: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(rendered)).digest('hex');
}

/** The config as YAML, with a header that tells a reader where it comes from. */
export function gatewayConfigYaml(gateway: GatewayRef, rendered: Record<string, unknown>): string {
  const doc = new Document(rendered);
  doc.commentBefore = ` Rendered by airlock-operator from AccessGateway ${gatewayNamespace(gateway)}/${gateway.metadata.name ?? ''}.\n`
    + ' Edit the AccessGateway, not this file: the operator overwrites it.';
  return doc.toString({ lineWidth: 0 });
}

export function buildGatewayConfigMap(gateway: GatewayRef & Pick<AccessGateway, 'spec'>, rendered: Record<string, unknown>): ConfigMap {
  const metadata = childMetadata(gateway, gatewayResourceNames(gateway).configMap);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { ...metadata, annotations: { [CONFIG_CHECKSUM_ANNOTATION]: configChecksum(rendered) } },
    data: { [CONFIG_FILE_KEY]: gatewayConfigYaml(gateway, rendered) },
  };
}
