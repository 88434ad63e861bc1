// Compiles AccessPolicies into an index so a decision touches only the rules that can apply:
// first by subject (user, group, ServiceAccount, claim), then by API group and resource. A
// decision then costs about the same with ten rules or ten thousand. A rule's masks and patterns
// are compiled here too: a rule that does not compile is enforced as Deny (fail closed), with a
// message naming the problem, instead of failing every request it matches.
import type { Action, ApprovalSettings, EffectiveMask, MaskSettings, PolicyRef, RecordingMode, RuleAuditLevel } from './model.ts';
import { effectiveMask, maskProblem, type MaskMerger } from './rule-mask.ts';

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
  readonly auditLevel?: RuleAuditLevel;
}

export interface CompiledRule {
  /** Unique to this compiled rule (the mask merger's cache key); says nothing about order. */
  readonly id: number;
  /** Policy order is by this key ("namespace/name"), then `ruleIndex` (rules in written order). */
  readonly policyKey: string;
  readonly ruleIndex: number;
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
  readonly auditLevel: RuleAuditLevel | undefined;
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
  readonly claims: Map<string, ClaimEntry[]>;
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

export function resourceKeys(rule: RuleSource): string[] {
  const match = rule.match ?? {};
  if (match.nonResourceURLs !== undefined && match.nonResourceURLs.length > 0) return ['#nonresource'];
  if (namesNoTarget(rule)) return ['*/*', '#nonresource'];
  const groups = match.apiGroups === undefined || match.apiGroups.length === 0 ? [ALL] : match.apiGroups;
  const resources = match.resources === undefined || match.resources.length === 0 ? [ALL] : match.resources;
  return groups.flatMap((g) => resources.map((r) => `${g}/${r}`));
}

export function bucket<K>(map: Map<K, ResourceIndex>, key: K): ResourceIndex {
  let index = map.get(key);
  if (index === undefined) { index = new Map(); map.set(key, index); }
  return index;
}

export function subjectProblem(subject: SubjectSource): string | undefined {
  const kinds = [subject.user, subject.group, subject.serviceAccount, subject.claim].filter((k) => k !== undefined).length;
  return kinds === 1 ? undefined : 'each subject names exactly one of user, group, serviceAccount, claim';
}

/** Whether rule `a` comes before rule `b` in policy order (ties among rules of one rank go to the first). */
export function before(a: CompiledRule, b: CompiledRule): boolean {
  return a.policyKey === b.policyKey ? a.ruleIndex < b.ruleIndex : a.policyKey < b.policyKey;
}

export function policyKey(policy: PolicySource): string {
  return `${policy.metadata.namespace ?? ''}/${policy.metadata.name ?? ''}`;
}

let nextRuleId = 1;

const RULE_AUDIT_LEVELS: ReadonlySet<unknown> = new Set<RuleAuditLevel>(['Metadata', 'Request', 'RequestResponse']);

/** The CRD's enum says the same; this keeps a policy from outside it (no schema, an old CRD) from lowering or breaking the audit. */
function auditLevelProblem(level: unknown): string | undefined {
  return level === undefined || RULE_AUDIT_LEVELS.has(level) ? undefined : `auditLevel ${JSON.stringify(level)} is not one of Metadata, Request, RequestResponse`;
}

/** One rule, compiled: its sets, and its masks and patterns (a rule whose masks do not compile is a Deny). */
export function compileRule(policy: PolicySource, rule: RuleSource, ruleIndex: number): CompiledRule {
  const match = rule.match ?? {};
  const problem = maskProblem(rule.mask) ?? auditLevelProblem(rule.auditLevel);
  const action = problem === undefined ? rule.action : 'Deny';
  return {
    id: nextRuleId++,
    policyKey: policyKey(policy),
    ruleIndex,
    policyNamespace: policy.metadata.namespace ?? '',
    policyName: policy.metadata.name ?? '',
    name: rule.name,
    action,
    message: problem === undefined
      ? rule.message
      : `rule "${rule.name}" of AccessPolicy ${policyKey(policy)} is enforced as Deny because it does not compile (${problem}); fix the AccessPolicy`,
    approval: action === 'RequireApproval' ? rule.approval : undefined,
    mask: problem === undefined ? effectiveMask(rule.mask) : undefined,
    problem,
    matched: { namespace: policy.metadata.namespace ?? '', name: policy.metadata.name ?? '', rule: rule.name },
    reason: `rule "${rule.name}" of AccessPolicy ${policyKey(policy)}`,
    recording: rule.recording,
    auditLevel: problem === undefined ? rule.auditLevel : undefined,
    verbs: asSet(match.verbs),
    namespaces: asSet(match.namespaces),
    names: asSet(match.names),
    nonResourceURLs: match.nonResourceURLs !== undefined && match.nonResourceURLs.length > 0 ? match.nonResourceURLs : undefined,
    anyPath: namesNoTarget(rule),
  };
}

/** Where a subject's rules go: its index, and for a claim subject the entry that holds the index. */
export interface SubjectPlacement {
  readonly index: ResourceIndex;
  readonly claim?: { readonly key: string; readonly entry: ClaimEntry };
}

export type ClaimEntry = { readonly issuer: string | undefined; readonly index: ResourceIndex };

export function subjectIndexes(compiled: Pick<CompiledPolicies, 'users' | 'groups' | 'claims'>, subject: SubjectSource): SubjectPlacement[] {
  if (subject.user !== undefined) return [{ index: bucket(compiled.users, subject.user.name) }];
  if (subject.group !== undefined) return [{ index: bucket(compiled.groups, subject.group.name) }];
  if (subject.serviceAccount !== undefined) {
    const { namespace, name } = subject.serviceAccount;
    return [{ index: bucket(compiled.users, `system:serviceaccount:${namespace}:${name}`) }];
  }
  const claim = subject.claim;
  if (claim === undefined) return [];
  const values = claim.values ?? (claim.value === undefined ? [] : [claim.value]);
  return values.map((value) => {
    const entry: ClaimEntry = { issuer: claim.issuer, index: new Map() };
    const claimKey = `${claim.name}=${value}`;
    const list = compiled.claims.get(claimKey);
    if (list === undefined) compiled.claims.set(claimKey, [entry]); else list.push(entry);
    return { index: entry.index, claim: { key: claimKey, entry } };
  });
}
