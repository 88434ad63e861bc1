// Deny overrides; then RequireApproval; then Allow; then the gateway's default action.
// Restrictive rules (Deny, RequireApproval) apply when their subject matches either identity, the
// caller or whom it impersonates; Allow rules only for the authenticated caller, so impersonation
// can never widen what the gateway lets through (Kubernetes RBAC still judges the effective user).
//
// A request is decided on every verb the API server authorizes for it (a server-side apply is a
// `patch` and, since it can create, a `create`): the strictest outcome wins, and an Allow needs
// every verb allowed. A restrictive rule scoped by namespaces or names also governs a request that
// reaches them without naming them: one without a namespace on a namespaced resource (a list or
// watch across all namespaces), or one without a single name (a list, a create). Allow rules keep
// the exact reading, so they never allow such a request (docs/adr/0006).
import { before, type CompiledPolicies, type CompiledRule, type ResourceIndex } from './compile.ts';
import type { Action, AlsoVerb, Decision, DecisionInput, RecordingMode, RequestAttributes, RuleAuditLevel } from './model.ts';
import type { UserInfo } from '../identity.ts';

const RANK: Record<Action, number> = { Deny: 3, RequireApproval: 2, Allow: 1 };

/** How a rule matched: exactly, or only because the request reaches its namespaces or names without naming them. */
type Reach = 'exact' | 'namespaces' | 'names';

function spansNamespaces(request: RequestAttributes): boolean {
  return request.namespace === '' && request.clusterScoped !== true;
}

function pathMatches(rule: CompiledRule, request: RequestAttributes): boolean {
  if (rule.nonResourceURLs !== undefined) {
    return !request.resourceRequest && rule.nonResourceURLs.some((u) => (u.endsWith('*') ? request.path.startsWith(u.slice(0, -1)) : request.path === u));
  }
  return request.resourceRequest || rule.anyPath;
}

function reach(rule: CompiledRule, request: RequestAttributes, verb: string): Reach | undefined {
  if (rule.verbs !== undefined && !rule.verbs.has(verb)) return undefined;
  if (!pathMatches(rule, request)) return undefined;
  if (!request.resourceRequest) return 'exact';
  let how: Reach = 'exact';
  if (rule.names !== undefined && !rule.names.has(request.name)) {
    if (rule.action === 'Allow' || request.name !== '') return undefined;
    how = 'names';
  }
  if (rule.namespaces !== undefined && !rule.namespaces.has(request.namespace)) {
    if (rule.action === 'Allow' || !spansNamespaces(request)) return undefined;
    how = 'namespaces';
  }
  return how;
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

/** What the rules say about one verb of a request. */
interface VerbOutcome {
  readonly verb: string;
  /** Absent for the request's own verb. */
  readonly also: AlsoVerb | undefined;
  restrictive: CompiledRule | undefined;
  reach: Reach;
  /** The first matching Allow rule, in policy order: it is named as the one that allowed. */
  allow: CompiledRule | undefined;
  /**
   * Every matching Allow and RequireApproval rule: their masks apply together. Usually one, so the
   * list is made only for a second (`more` then holds them all).
   */
  first: CompiledRule | undefined;
  more: CompiledRule[] | undefined;
}

function addPassing(outcome: VerbOutcome, rule: CompiledRule): void {
  const first = outcome.first;
  if (first === undefined) outcome.first = rule;
  else if (outcome.more === undefined) { if (first !== rule) outcome.more = [first, rule]; }
  else if (!outcome.more.includes(rule)) outcome.more.push(rule);
}

function passingOf(outcome: VerbOutcome): readonly CompiledRule[] {
  return outcome.more ?? (outcome.first === undefined ? [] : [outcome.first]);
}

function consider(outcome: VerbOutcome, index: ResourceIndex | undefined, request: RequestAttributes, allowed: ReadonlySet<Action>): void {
  if (index === undefined) return;
  for (const list of candidateLists(index, request)) {
    for (const rule of list) {
      if (!allowed.has(rule.action)) continue;
      const how = reach(rule, request, outcome.verb);
      if (how === undefined) continue;
      if (rule.action !== 'Deny') addPassing(outcome, rule);
      if (rule.action === 'Allow') {
        if (outcome.allow === undefined || before(rule, outcome.allow)) outcome.allow = rule;
        continue;
      }
      const current = outcome.restrictive;
      if (current === undefined || RANK[rule.action] > RANK[current.action]
        || (RANK[rule.action] === RANK[current.action] && before(rule, current))) {
        outcome.restrictive = rule;
        outcome.reach = how;
      }
    }
  }
}

const EVERY: ReadonlySet<Action> = new Set<Action>(['Deny', 'RequireApproval', 'Allow']);
const RESTRICTIVE: ReadonlySet<Action> = new Set<Action>(['Deny', 'RequireApproval']);

function considerIdentity(policies: CompiledPolicies, user: UserInfo, outcome: VerbOutcome, ctx: { request: RequestAttributes; actions: ReadonlySet<Action> }): void {
  consider(outcome, policies.users.get(user.username), ctx.request, ctx.actions);
  for (const group of user.groups) consider(outcome, policies.groups.get(group), ctx.request, ctx.actions);
}

function outcomeFor(policies: CompiledPolicies, input: DecisionInput, verb: string, also: AlsoVerb | undefined): VerbOutcome {
  const outcome: VerbOutcome = { verb, also, restrictive: undefined, reach: 'exact', allow: undefined, first: undefined, more: undefined };
  const { request, caller, effective } = input;
  considerIdentity(policies, caller.user, outcome, { request, actions: EVERY });
  for (const [name, value] of Object.entries(caller.claims ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) {
      for (const entry of policies.claims.get(`${name}=${String(v)}`) ?? []) {
        if (entry.issuer === undefined || entry.issuer === caller.issuer) consider(outcome, entry.index, request, EVERY);
      }
    }
  }
  if (effective !== caller.user) considerIdentity(policies, effective, outcome, { request, actions: RESTRICTIVE });
  return outcome;
}

export function evaluatePolicy(policies: CompiledPolicies, input: DecisionInput, defaultAction: 'Allow' | 'Deny'): Decision {
  const own = outcomeFor(policies, input, input.request.verb, undefined);
  const also = input.request.alsoVerbs;
  const outcomes = also === undefined || also.length === 0 ? [own] : [own, ...also.map((a) => outcomeFor(policies, input, a.verb, a))];
  return combine(policies, outcomes, input.request, defaultAction);
}

/** The strictest outcome over every verb: a Deny, else a RequireApproval, else Allow only if every verb is allowed. */
function combine(policies: CompiledPolicies, outcomes: readonly VerbOutcome[], request: RequestAttributes, defaultAction: 'Allow' | 'Deny'): Decision {
  let held: VerbOutcome | undefined;
  let unallowed: VerbOutcome | undefined;
  let deciding: CompiledRule | undefined;
  for (const outcome of outcomes) {
    const restrictive = outcome.restrictive;
    if (restrictive?.action === 'Deny') return ruleDecision(restrictive, outcome, { request, auditLevel: restrictive.auditLevel });
    if (restrictive !== undefined) held ??= outcome;
    if (outcome.allow === undefined) unallowed ??= outcome;
    else deciding ??= outcome.allow;
  }
  if (held === undefined && unallowed !== undefined && defaultAction === 'Deny') return notAllowed(unallowed);
  const letThrough = lettingThrough(policies, outcomes, request);
  if (held?.restrictive !== undefined) return ruleDecision(held.restrictive, held, letThrough);
  if (deciding === undefined) return { action: 'Allow', reason: 'no policy rule matched; the gateway default allows (RBAC decides)' };
  return ruleDecision(deciding, EXACT, letThrough);
}

const EXACT = { also: undefined, reach: 'exact' } as const;

/** The gateway's default Deny, naming the verb no rule allows when it is not the request's own. */
function notAllowed(outcome: VerbOutcome): Decision {
  return {
    action: 'Deny',
    reason: outcome.also === undefined
      ? 'no policy rule allows this request'
      : `no policy rule allows ${outcome.also.verb}, which the API server also authorizes for this request: ${outcome.also.why}`,
  };
}

/** The merged masks and strictest recording of every rule that lets the request through. */
function lettingThrough(policies: CompiledPolicies, outcomes: readonly VerbOutcome[], request: RequestAttributes): LettingThrough {
  const only = outcomes.length === 1 ? outcomes[0] : undefined;
  // The common case: one verb, one rule.
  if (only !== undefined && only.more === undefined) return { request, mask: only.first?.mask, recording: only.first?.recording, auditLevel: only.first?.auditLevel };
  const passing = only === undefined ? [...new Set(outcomes.flatMap(passingOf))] : passingOf(only);
  return { request, mask: policies.masks.merged(passing), recording: strictestRecording(passing), auditLevel: strictestAuditLevel(passing) };
}

interface LettingThrough {
  readonly request: RequestAttributes;
  readonly mask?: Decision['mask'];
  readonly recording?: RecordingMode | undefined;
  readonly auditLevel?: RuleAuditLevel | undefined;
}

const AUDIT_RANK: Record<RuleAuditLevel, number> = { Metadata: 1, Request: 2, RequestResponse: 3 };

/** A request is audited as strictly as the strictest rule that matched it asks. */
function strictestAuditLevel(rules: readonly CompiledRule[]): RuleAuditLevel | undefined {
  let level: RuleAuditLevel | undefined;
  for (const rule of rules) {
    if (rule.auditLevel !== undefined && (level === undefined || AUDIT_RANK[rule.auditLevel] > AUDIT_RANK[level])) level = rule.auditLevel;
  }
  return level;
}

const RECORDING_RANK: Record<RecordingMode, number> = { None: 1, Optional: 2, Required: 3 };

/** A session is recorded as strictly as the strictest rule that let it through asks. */
function strictestRecording(rules: readonly CompiledRule[]): RecordingMode | undefined {
  let mode: RecordingMode | undefined;
  for (const rule of rules) {
    if (rule.recording !== undefined && (mode === undefined || RECORDING_RANK[rule.recording] > RECORDING_RANK[mode])) mode = rule.recording;
  }
  return mode;
}

const list = (values: ReadonlySet<string> | undefined): string => [...values ?? []].join(', ');

/** How to ask for what the rule does not govern, when it matched a request that reaches its scope without naming it. */
function scopeHint(rule: CompiledRule, how: Reach, request: RequestAttributes): string | undefined {
  if (how === 'namespaces') {
    return `the rule governs namespace(s) ${list(rule.namespaces)}, and a request without a namespace reaches every namespace: ask for one namespace (kubectl -n NAMESPACE, not -A)`;
  }
  if (how !== 'names') return undefined;
  if (request.verb === 'create') {
    return `the rule governs the name(s) ${list(rule.names)}, and a create names its object only in the body, which the gateway does not read before deciding, so it governs every create of this resource`;
  }
  return `the rule governs the name(s) ${list(rule.names)}, and the request names no single object: name one (kubectl get KIND NAME, or --field-selector metadata.name=NAME)`;
}

function ruleDecision(rule: CompiledRule, via: { also: AlsoVerb | undefined; reach: Reach }, extra: LettingThrough): Decision {
  const on = via.also === undefined ? '' : ` (on ${via.also.verb}: ${via.also.why})`;
  const reason = on === '' ? rule.reason : `${rule.reason}${on}`;
  const hint = via.reach === 'exact' ? undefined : scopeHint(rule, via.reach, extra.request);
  const head = rule.message === undefined ? reason : `${rule.message}${on}`;
  const message = hint === undefined ? (rule.message === undefined ? undefined : head) : `${head}; ${hint}`;
  return {
    action: rule.action,
    matched: rule.matched,
    ...(message === undefined ? {} : { message }),
    ...(rule.approval === undefined ? {} : { approval: rule.approval }),
    ...(extra.mask === undefined ? {} : { mask: extra.mask }),
    ...(extra.recording === undefined ? {} : { recording: extra.recording }),
    ...(extra.auditLevel === undefined ? {} : { auditLevel: extra.auditLevel }),
    reason,
  };
}
