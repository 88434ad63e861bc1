import { describe, expect, it } from 'vitest';
import { defaultDenyReason, explainDefaultDeny } from './default-deny.ts';
import type { Decision } from '../../core/policy/model.ts';

const config = (namespace: string, labelSelector: string): Parameters<typeof defaultDenyReason>[0] => ({
  name: 'ci-gateway', namespace: 'airlock-system', policy: { namespace, labelSelector, defaultAction: 'Deny', discovery: 'AllAuthenticated' },
});

describe('the default Deny names the gateway and how to see its policies', () => {
  it.each([
    ['airlock-system', 'airlock.dev/gateway=ci-gateway', 'kubectl get accesspolicies -n airlock-system -l \'airlock.dev/gateway=ci-gateway\''],
    ['airlock-system', '', 'kubectl get accesspolicies -n airlock-system'],
    ['', 'team in (a,b)', 'kubectl get accesspolicies -A -l \'team in (a,b)\''],
  ])('policies from namespace "%s", selector "%s": %s', (namespace, selector, command) => {
    expect(defaultDenyReason(config(namespace, selector))).toBe(
      `no policy rule allows this request through AccessGateway airlock-system/ci-gateway (default action Deny); its policies: ${command}`);
  });

  it('replaces only the reason of a Deny no rule decided', () => {
    const reason = defaultDenyReason(config('ns', ''));
    const byDefault: Decision = { action: 'Deny', reason: 'no policy rule allows this request' };
    const byRule: Decision = { action: 'Deny', reason: 'rule', message: 'ask #platform', matched: { namespace: 'ns', name: 'p', rule: 'r' } };
    const allowed: Decision = { action: 'Allow', reason: 'no policy rule matched; the gateway default allows (RBAC decides)' };
    expect(explainDefaultDeny(byDefault, reason)).toEqual({ action: 'Deny', reason });
    expect(explainDefaultDeny(byRule, reason)).toBe(byRule);
    expect(explainDefaultDeny(allowed, reason)).toBe(allowed);
  });
});
