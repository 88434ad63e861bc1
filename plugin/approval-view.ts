// How an ApprovalRequest reads to a reviewer: pure functions of the object and the clock, so the
// table and the details are tested without a cluster.
import type { ApprovalRequest } from '../crds/types.gen.ts';
import type { UserInfo } from './kube-session.ts';

type Decision = NonNullable<NonNullable<ApprovalRequest['status']>['decisions']>[number];

export const phaseOf = (apr: ApprovalRequest): string => apr.status?.phase ?? 'Pending';

const decisionsOf = (apr: ApprovalRequest): readonly Decision[] => apr.status?.decisions ?? [];

export function requesterOf(apr: ApprovalRequest): string {
  const { caller, effective } = apr.spec.requester;
  return effective === undefined ? caller.username : `${caller.username} as ${effective.username}`;
}

export function isExpired(apr: ApprovalRequest, now: Date): boolean {
  return Date.parse(apr.spec.expiresAt) <= now.getTime();
}

/** Still waiting for decisions: Pending (or not yet marked by the operator) and not past expiresAt. */
export function isOpen(apr: ApprovalRequest, now: Date): boolean {
  return phaseOf(apr) === 'Pending' && !isExpired(apr, now);
}

/** "1/2": approvals given of those needed; "denied by bob" once anyone denied. */
export function approvalsSoFar(apr: ApprovalRequest): string {
  const deny = decisionsOf(apr).find((d) => d.decision === 'Deny');
  if (deny !== undefined) return `denied by ${deny.by}`;
  const approvals = decisionsOf(apr).filter((d) => d.decision === 'Approve').length;
  return `${approvals}/${apr.spec.minApprovals ?? 1}`;
}

/** Why this user may not decide, as the admission policy would put it, or undefined if they may. */
export function whyNotDecider(apr: ApprovalRequest, user: UserInfo): string | undefined {
  const { caller, effective } = apr.spec.requester;
  if (user.username === caller.username || user.username === effective?.username) return 'it is your own request';
  const { users = [], groups = [] } = apr.spec.approvers;
  if (!users.includes(user.username) && !groups.some((g) => user.groups.includes(g))) return 'you are not an approver';
  if (decisionsOf(apr).some((d) => d.by === user.username)) return 'you already decided';
  return undefined;
}

/** Like kubectl's ages: 45s, 7m, 5h, 3d. */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h` : `${Math.floor(h / 24)}d`;
}

export function ageOf(apr: ApprovalRequest, now: Date): string {
  // JSON from the API server: a string, whatever client-node's class type says.
  const created = Date.parse(String(apr.metadata.creationTimestamp));
  return Number.isNaN(created) ? '<unknown>' : shortDuration(now.getTime() - created);
}

export function expiresOf(apr: ApprovalRequest, now: Date): string {
  const left = Date.parse(apr.spec.expiresAt) - now.getTime();
  return left > 0 ? `in ${shortDuration(left)}` : `expired ${shortDuration(-left)} ago`;
}

/** Columns padded as kubectl pads them: three spaces between, no trailing spaces. */
export function renderTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length); });
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 3))).join('').trimEnd()).join('\n') + '\n';
}

export function approvalTable(items: readonly ApprovalRequest[], options: { now: Date; withNamespace: boolean }): string {
  const header = ['NAME', 'REQUESTER', 'SUMMARY', 'AGE', 'EXPIRES', 'APPROVALS'];
  const rows = items.map((apr) => [
    apr.metadata.name ?? '', requesterOf(apr), apr.spec.request.summary, ageOf(apr, options.now), expiresOf(apr, options.now), approvalsSoFar(apr),
  ]);
  const withNs = (row: string[], ns: string): string[] => (options.withNamespace ? [ns, ...row] : row);
  return renderTable([withNs(header, 'NAMESPACE'), ...rows.map((row, i) => withNs(row, items[i]?.metadata.namespace ?? ''))]);
}

function target(apr: ApprovalRequest): string {
  const r = apr.spec.request;
  if (r.path !== undefined) return `${r.verb} ${r.path}`;
  const resource = [r.apiGroup === undefined || r.apiGroup === '' ? r.resource : `${r.resource}.${r.apiGroup}`, r.subresource].filter(Boolean).join('/');
  const where = [r.namespace, r.name].filter((x) => x !== undefined && x !== '').join('/');
  return `${r.verb} ${resource}${where === '' ? '' : ` ${where}`}`;
}

const INDENT = ' '.repeat(12);

/**
 * What the request's body sets, one field a line, values in a column: the approver reads the image
 * a patch swaps in, not only its summary. Values are as the gateway stored them (masked).
 */
function changeLines(apr: ApprovalRequest): string[] {
  const { changes = [], changesNote, contentType } = apr.spec.request;
  const label = (c: (typeof changes)[number]): string => `${c.path}${c.op === undefined ? '' : ` (${c.op}${c.from === undefined ? '' : ` from ${c.from}`})`}`;
  const width = Math.min(60, Math.max(0, ...changes.map((c) => label(c).length)));
  const rows = changes.map((c) => (c.value === undefined ? label(c) : `${label(c).padEnd(width)}  ${c.value}`));
  if (changesNote !== undefined) rows.push(`(${changesNote})`);
  return [
    ...(contentType === undefined ? [] : [`Sent as:    ${contentType}`]),
    ...rows.map((row, i) => `${i === 0 ? 'Changes:    ' : INDENT}${row}`),
  ];
}

function grantLine(apr: ApprovalRequest): string {
  const ttl = apr.spec.grantTTL ?? '10m';
  return `Grant:      ${apr.spec.reusable === true ? `reusable: repeats of this exact request within ${ttl}` : `used once, within ${ttl}`} of approval`;
}

/** What a reviewer reads before deciding (kubectl airlock get, and before approve/deny). */
export function describeApproval(apr: ApprovalRequest, now: Date): string {
  const { spec } = apr;
  const approvers = [...(spec.approvers.users ?? []), ...(spec.approvers.groups ?? []).map((g) => `group ${g}`)].join(', ');
  const lines = [
    `Name:       ${apr.metadata.namespace ?? ''}/${apr.metadata.name ?? ''}`,
    `Summary:    ${spec.request.summary}`,
    `Requester:  ${requesterOf(apr)}`,
    `Request:    ${target(apr)} (body ${spec.request.bodyDigest})`,
    ...changeLines(apr),
    grantLine(apr),
    `Policy:     ${spec.policy.namespace === undefined ? '' : `${spec.policy.namespace}/`}${spec.policy.name}, rule ${spec.policy.rule}`,
    `Approvers:  ${approvers} (${spec.minApprovals ?? 1} needed)`,
    `Phase:      ${phaseOf(apr)}; approvals ${approvalsSoFar(apr)}; ${expiresOf(apr, now)}`,
    ...decisionsOf(apr).map((d) => `Decision:   ${d.decision} by ${d.by} at ${d.at}${d.reason === undefined || d.reason === '' ? '' : `: ${d.reason}`}`),
  ];
  return lines.join('\n') + '\n';
}
