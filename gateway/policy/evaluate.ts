// Deny overrides; then RequireApproval; then Allow; then the gateway's default action.
// Restrictive rules (Deny, RequireApproval) apply when their subject matches either identity, the
// caller or whom it impersonates; Allow rules only for the authenticated caller, so impersonation
// can never widen what the gateway lets through (Kubernetes RBAC still judges the effective user).
import type { CompiledPolicies, CompiledRule, ResourceIndex } from './compile.ts';
import type { Action, Decision, DecisionInput, RequestAttributes } from './model.ts';
import type { UserInfo } from '../authenticate/identity.ts';

const RANK: Record<Action, number> = { Deny: 3, RequireApproval: 2, Allow: 1 };

function ruleMatches(rule: CompiledRule, request: RequestAttributes): boolean {
  if (rule.verbs !== undefined && !rule.verbs.has(request.verb)) return false;
  if (rule.nonResourceURLs !== undefined) {
    return !request.resourceRequest && rule.nonResourceURLs.some((u) => (u.endsWith('*') ? request.path.startsWith(u.slice(0, -1)) : request.path === u));
  }
  if (!request.resourceRequest) return rule.anyPath;
  if (rule.namespaces !== undefined && !rule.namespaces.has(request.namespace)) return false;
  if (rule.names !== undefined && !rule.names.has(request.name)) return false;
  return true;
}

function candidateLists(index: ResourceIndex, request: RequestAttributes): CompiledRule[][] {
  if (!request.resourceRequest) return [index.get('#nonresource') ?? []];
  const resource = request.subresource === '' ? request.resource : `${request.resource}/${request.subresource}`;
  const lists: CompiledRule[][] = [];
  for (const g of [request.apiGroup, '*']) {
    for (const r of [resource, '*', ...(request.subresource === '' ? [] : [`${request.resource}/*`, `*/${request.subresource}`])]) {
      const list = index.get(`${g}/${r}`);
      if (list !== undefined) lists.push(list);
    }
  }
  return lists;
}

interface Best { rule: CompiledRule | undefined }

function consider(best: Best, index: ResourceIndex | undefined, request: RequestAttributes, allowed: ReadonlySet<Action>): void {
  if (index === undefined) return;
  for (const list of candidateLists(index, request)) {
    for (const rule of list) {
      if (!allowed.has(rule.action) || !ruleMatches(rule, request)) continue;
      const current = best.rule;
      if (current === undefined || RANK[rule.action] > RANK[current.action]
        || (RANK[rule.action] === RANK[current.action] && rule.order < current.order)) best.rule = rule;
    }
  }
}

const EVERY: ReadonlySet<Action> = new Set<Action>(['Deny', 'RequireApproval', 'Allow']);
const RESTRICTIVE: ReadonlySet<Action> = new Set<Action>(['Deny', 'RequireApproval']);

function considerIdentity(policies: CompiledPolicies, user: UserInfo, best: Best, ctx: { request: RequestAttributes; actions: ReadonlySet<Action> }): void {
  consider(best, policies.users.get(user.username), ctx.request, ctx.actions);
  for (const group of user.groups) consider(best, policies.groups.get(group), ctx.request, ctx.actions);
}

export function evaluatePolicy(policies: CompiledPolicies, input: DecisionInput, defaultAction: 'Allow' | 'Deny'): Decision {
  const best: Best = { rule: undefined };
  const { request, caller, effective } = input;
  considerIdentity(policies, caller.user, best, { request, actions: EVERY });
  for (const [name, value] of Object.entries(caller.claims ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) {
      for (const entry of policies.claims.get(`${name}=${String(v)}`) ?? []) {
        if (entry.issuer === undefined || entry.issuer === caller.issuer) consider(best, entry.index, request, EVERY);
      }
    }
  }
  if (effective !== caller.user) considerIdentity(policies, effective, best, { request, actions: RESTRICTIVE });
  const rule = best.rule;
  if (rule === undefined) {
    return { action: defaultAction, reason: defaultAction === 'Allow' ? 'no policy rule matched; the gateway default allows (RBAC decides)' : 'no policy rule allows this request' };
  }
  return ruleDecision(rule);
}

function ruleDecision(rule: CompiledRule): Decision {
  return {
    action: rule.action,
    matched: { namespace: rule.policyNamespace, name: rule.policyName, rule: rule.name },
    ...(rule.message === undefined ? {} : { message: rule.message }),
    ...(rule.approval === undefined ? {} : { approval: rule.approval }),
    ...(rule.mask === undefined ? {} : { mask: rule.mask }),
    ...(rule.recording === undefined ? {} : { recording: rule.recording }),
    reason: `rule "${rule.name}" of AccessPolicy ${rule.policyNamespace}/${rule.policyName}`,
  };
}
