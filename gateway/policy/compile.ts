// Compiles AccessPolicies into an index so a decision touches only the rules that can apply:
// first by subject (user, group, ServiceAccount, claim), then by API group and resource. A
// decision then costs about the same with ten rules or ten thousand. A rule's masks and patterns
// are compiled here too: a rule that does not compile is enforced as Deny (fail closed), with a
// message naming the problem, instead of failing every request it matches.
import type { Action, ApprovalSettings, EffectiveMask, MaskSettings, PolicyRef, RecordingMode } from './model.ts';
import { effectiveMask, MaskMerger, maskProblem } from './rule-mask.ts';

/** The part of an AccessPolicy the gateway evaluates (the CRD carries more). */
export interface PolicySource {
  readonly metadata: { readonly namespace?: string; readonly name?: string };
  readonly spec: {
    readonly subjects: readonly SubjectSource[];
    readonly rules: readonly RuleSource[];
  };
}

export interface SubjectSource {
  readonly user?: { readonly name: string };
  readonly group?: { readonly name: string };
  readonly serviceAccount?: { readonly namespace: string; readonly name: string };
  readonly claim?: { readonly issuer?: string; readonly name: string; readonly value?: string; readonly values?: readonly string[] };
}

export interface RuleSource {
  readonly name: string;
  /** Absent: the rule matches every request of its subjects. */
  readonly match?: {
    readonly verbs?: readonly string[];
    readonly apiGroups?: readonly string[];
    readonly resources?: readonly string[];
    readonly namespaces?: readonly string[];
    readonly names?: readonly string[];
    readonly nonResourceURLs?: readonly string[];
  };
  readonly action: Action;
  readonly message?: string;
  readonly approval?: ApprovalSettings;
  readonly mask?: MaskSettings;
  readonly recording?: RecordingMode;
}

export interface CompiledRule {
  /** Global order: policies by namespace/name, rules in their written order. */
  readonly order: number;
  readonly policyNamespace: string;
  readonly policyName: string;
  readonly name: string;
  /** As written, or Deny when the rule does not compile (`problem`). */
  readonly action: Action;
  readonly message: string | undefined;
  readonly approval: ApprovalSettings | undefined;
  readonly mask: EffectiveMask | undefined;
  /** Why the rule is enforced as Deny: a part of it that does not compile. */
  readonly problem: string | undefined;
  /** What a decision by this rule names, built once (a decision is made per request). */
  readonly matched: PolicyRef;
  readonly reason: string;
  readonly recording: RecordingMode | undefined;
  readonly verbs: ReadonlySet<string> | undefined;
  readonly namespaces: ReadonlySet<string> | undefined;
  readonly names: ReadonlySet<string> | undefined;
  readonly nonResourceURLs: readonly string[] | undefined;
  /** A rule that names no resource or path: it also covers non-resource requests. */
  readonly anyPath: boolean;
}

/** Rules of one subject bucket, indexed by "apiGroup/resource" with "*" wildcards. */
export type ResourceIndex = Map<string, CompiledRule[]>;

export interface CompiledPolicies {
  readonly users: Map<string, ResourceIndex>;
  readonly groups: Map<string, ResourceIndex>;
  /** Key "claimName=value"; the issuer check happens at evaluation. */
  readonly claims: Map<string, { readonly issuer: string | undefined; readonly index: ResourceIndex }[]>;
  readonly ruleCount: number;
  /** Policies not enforced at all (a subject that is not exactly one kind). */
  readonly rejected: readonly { readonly policy: string; readonly problem: string }[];
  /** Rules enforced as Deny because a part of them does not compile. */
  readonly broken: readonly { readonly policy: string; readonly rule: string; readonly problem: string }[];
  /** Merged masks of rule sets, kept for as long as these policies are (evaluate.ts). */
  readonly masks: MaskMerger;
}

const ALL = '*';

function asSet(values: readonly string[] | undefined): ReadonlySet<string> | undefined {
  if (values === undefined || values.length === 0 || values.includes(ALL)) return undefined;
  return new Set(values);
}

/** "pods/exec" → {resource: "pods", subresource: "exec"} keys; group "" is the core group. */
function namesNoTarget(rule: RuleSource): boolean {
  const m = rule.match ?? {};
  return [m.apiGroups, m.resources, m.namespaces, m.names, m.nonResourceURLs].every((list) => list === undefined || list.length === 0);
}

function resourceKeys(rule: RuleSource): string[] {
  const match = rule.match ?? {};
  if (match.nonResourceURLs !== undefined && match.nonResourceURLs.length > 0) return ['#nonresource'];
  if (namesNoTarget(rule)) return ['*/*', '#nonresource'];
  const groups = match.apiGroups === undefined || match.apiGroups.length === 0 ? [ALL] : match.apiGroups;
  const resources = match.resources === undefined || match.resources.length === 0 ? [ALL] : match.resources;
  return groups.flatMap((g) => resources.map((r) => `${g}/${r}`));
}

function addTo(index: ResourceIndex, keys: readonly string[], rule: CompiledRule): void {
  for (const key of keys) {
    const list = index.get(key);
    if (list === undefined) index.set(key, [rule]); else list.push(rule);
  }
}

function bucket<K>(map: Map<K, ResourceIndex>, key: K): ResourceIndex {
  let index = map.get(key);
  if (index === undefined) { index = new Map(); map.set(key, index); }
  return index;
}

function subjectProblem(subject: SubjectSource): string | undefined {
  const kinds = [subject.user, subject.group, subject.serviceAccount, subject.claim].filter((k) => k !== undefined).length;
  return kinds === 1 ? undefined : 'each subject names exactly one of user, group, serviceAccount, claim';
}

export function compilePolicies(policies: readonly PolicySource[]): CompiledPolicies {
  const compiled: CompiledPolicies = { users: new Map(), groups: new Map(), claims: new Map(), ruleCount: 0, rejected: [], broken: [], masks: new MaskMerger() };
  const rejected: { policy: string; problem: string }[] = [];
  const broken: { policy: string; rule: string; problem: string }[] = [];
  let order = 0;
  const sorted = [...policies].sort((a, b) => key(a).localeCompare(key(b)));
  for (const policy of sorted) {
    const problem = policy.spec.subjects.map(subjectProblem).find((p) => p !== undefined);
    if (problem !== undefined) { rejected.push({ policy: key(policy), problem }); continue; }
    const rules = policy.spec.rules.map((rule) => ({ rule, compiled: compileRule(policy, rule, order++) }));
    for (const { compiled: c } of rules) if (c.problem !== undefined) broken.push({ policy: key(policy), rule: c.name, problem: c.problem });
    for (const subject of policy.spec.subjects) {
      const indexes = subjectIndexes(compiled, subject);
      for (const index of indexes) for (const { rule, compiled: c } of rules) addTo(index, resourceKeys(rule), c);
    }
  }
  return { ...compiled, ruleCount: order, rejected, broken };
}

function key(policy: PolicySource): string {
  return `${policy.metadata.namespace ?? ''}/${policy.metadata.name ?? ''}`;
}

function compileRule(policy: PolicySource, rule: RuleSource, order: number): CompiledRule {
  const match = rule.match ?? {};
  const problem = maskProblem(rule.mask);
  const action = problem === undefined ? rule.action : 'Deny';
  return {
    order,
    policyNamespace: policy.metadata.namespace ?? '',
    policyName: policy.metadata.name ?? '',
    name: rule.name,
    action,
    message: problem === undefined
      ? rule.message
      : `rule "${rule.name}" of AccessPolicy ${key(policy)} is enforced as Deny because it does not compile (${problem}); fix the AccessPolicy`,
    approval: action === 'RequireApproval' ? rule.approval : undefined,
    mask: problem === undefined ? effectiveMask(rule.mask) : undefined,
    problem,
    matched: { namespace: policy.metadata.namespace ?? '', name: policy.metadata.name ?? '', rule: rule.name },
    reason: `rule "${rule.name}" of AccessPolicy ${key(policy)}`,
    recording: rule.recording,
    verbs: asSet(match.verbs),
    namespaces: asSet(match.namespaces),
    names: asSet(match.names),
    nonResourceURLs: match.nonResourceURLs !== undefined && match.nonResourceURLs.length > 0 ? match.nonResourceURLs : undefined,
    anyPath: namesNoTarget(rule),
  };
}

function subjectIndexes(compiled: CompiledPolicies, subject: SubjectSource): ResourceIndex[] {
  if (subject.user !== undefined) return [bucket(compiled.users, subject.user.name)];
  if (subject.group !== undefined) return [bucket(compiled.groups, subject.group.name)];
  if (subject.serviceAccount !== undefined) {
    const { namespace, name } = subject.serviceAccount;
    return [bucket(compiled.users, `system:serviceaccount:${namespace}:${name}`)];
  }
  const claim = subject.claim;
  if (claim === undefined) return [];
  const values = claim.values ?? (claim.value === undefined ? [] : [claim.value]);
  return values.map((value) => {
    const entry = { issuer: claim.issuer, index: new Map() as ResourceIndex };
    const claimKey = `${claim.name}=${value}`;
    const list = compiled.claims.get(claimKey);
    if (list === undefined) compiled.claims.set(claimKey, [entry]); else list.push(entry);
    return entry.index;
  });
}
