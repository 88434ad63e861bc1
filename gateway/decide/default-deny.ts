// What a caller reads when no policy rule allowed its request and the gateway's default action
// (Deny) decided: which gateway refused it and how to see the policies that gateway reads, so the
// fix (a rule for this request) has an address. The rest of the decision stays as evaluated.
import type { GatewayConfig } from '../../core/config/gateway-config.ts';
import type { Decision } from '../../core/policy/model.ts';

/** The reason a default Deny carries, for this gateway's configuration. */
export function defaultDenyReason(config: Pick<GatewayConfig, 'name' | 'namespace' | 'policy'>): string {
  const where = config.policy.namespace === '' ? '-A' : `-n ${config.policy.namespace}`;
  const selector = config.policy.labelSelector === '' ? '' : ` -l '${config.policy.labelSelector}'`;
  return `no policy rule allows this request through AccessGateway ${config.namespace}/${config.name} `
    + `(default action Deny); its policies: kubectl get accesspolicies ${where}${selector}`;
}

/** `decision` with the default Deny's reason made specific; any other decision unchanged. */
export function explainDefaultDeny(decision: Decision, reason: string): Decision {
  return decision.matched === undefined && decision.action === 'Deny' ? { ...decision, reason } : decision;
}
