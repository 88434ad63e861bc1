// What the AccessPolicy schema cannot check, checked the way the gateway will use the policy: the
// gateway's own compiler (core/policy/compile.ts, which also compiles masks and patterns), so a
// policy the operator accepts is one the gateway enforces as written, and a refusal says what the
// gateway does instead. Also which gateways select a policy (same namespace, label selector).
import type { AccessGateway, AccessPolicy } from '../../crds/types.gen.ts';
import { compilePolicies } from '../../core/policy/policy-index.ts';
import { parseDuration } from '../../core/duration.ts';

export interface PolicyVerdict {
  /** The first problem, naming its rule; undefined when the policy is accepted. */
  readonly problem?: string;
  /** What the gateways do while the problem stands, as a sentence. */
  readonly effect?: string;
  /** Rules the gateways enforce (a rule that does not compile is enforced, as Deny). */
  readonly rules: number;
}

type Rule = AccessPolicy['spec']['rules'][number];

function approvalProblem(rule: Rule): string | undefined {
  for (const [name, value] of [['timeout', rule.approval?.timeout], ['grantTTL', rule.approval?.grantTTL]] as const) {
    if (value !== undefined && parseDuration(value) === undefined) return `approval.${name} ${JSON.stringify(value)} is not a duration like 10m`;
  }
  const approvers = (rule.approval?.approvers.users?.length ?? 0) + (rule.approval?.approvers.groups?.length ?? 0);
  return rule.action === 'RequireApproval' && approvers === 0 ? 'RequireApproval needs approval.approvers (a user or a group)' : undefined;
}

/** Validates with the gateway's own compiler, so the verdict says what the gateways actually do. */
export function validatePolicy(policy: AccessPolicy): PolicyVerdict {
  const rules = policy.spec.rules.length;
  const compiled = compilePolicies([policy]);
  const rejected = compiled.rejected[0];
  if (rejected !== undefined) return { problem: rejected.problem, effect: 'the gateways enforce none of this policy until it is fixed', rules: 0 };
  const broken = compiled.broken[0];
  if (broken !== undefined) {
    return { problem: `rule "${broken.rule}": ${broken.problem}`, effect: `the gateways enforce rule "${broken.rule}" as Deny (fail closed) until it is fixed`, rules };
  }
  for (const rule of policy.spec.rules) {
    const problem = approvalProblem(rule);
    if (problem !== undefined) return { problem: `rule "${rule.name}": ${problem}`, effect: 'the gateways cannot apply this rule as written until it is fixed', rules };
  }
  return { rules };
}

type Selector = NonNullable<AccessGateway['spec']['policySelector']>;

function requirementHolds(labels: Readonly<Record<string, string>>, r: NonNullable<Selector['matchExpressions']>[number]): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = labels[r.key];
  switch (r.operator) {
    case 'In': return has && (r.values ?? []).includes(value ?? '');
    case 'NotIn': return !has || !(r.values ?? []).includes(value ?? '');
    case 'Exists': return has;
    case 'DoesNotExist': return !has;
  }
}

/** The parts of a gateway and a policy that decide whether one selects the other. */
export interface Selecting { readonly metadata: { readonly namespace?: string | undefined }; readonly spec: { readonly policySelector?: Selector | undefined } }
export interface Selectable { readonly metadata: { readonly namespace?: string | undefined; readonly labels?: Readonly<Record<string, string>> | undefined } }

/** Whether `gateway` enforces `policy`: same namespace, and the selector (absent: all) matches. */
export function selects(gateway: Selecting, policy: Selectable): boolean {
  if ((gateway.metadata.namespace ?? '') !== (policy.metadata.namespace ?? '')) return false;
  const selector = gateway.spec.policySelector;
  const labels = policy.metadata.labels ?? {};
  const matchLabels = Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return matchLabels && (selector?.matchExpressions ?? []).every((r) => requirementHolds(labels, r));
}
