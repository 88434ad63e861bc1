// Names an AccessGateway implies that more than one binary computes: the operator creates them,
// the plugin and the bypass report look them up.
import type { AccessGateway } from '../crds/types.gen.ts';

type Expression = { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] };

/** matchLabels and matchExpressions in Kubernetes label selector syntax. */
export function labelSelectorString(selector: AccessGateway['spec']['policySelector']): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) if (v !== undefined) parts.push(`${k}=${v}`);
  for (const e of (selector?.matchExpressions ?? []) as Expression[]) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

/** The ServiceAccount a gateway runs as (and forwards with). */
export function gatewayServiceAccountName(gateway: { readonly name: string; readonly namespace?: string }): string {
  return `airlock-gateway-${gateway.name}`;
}
