// `kubectl airlock approve NAME` and `kubectl airlock deny NAME`: show what is decided, then append
// the current user's decision (decide.ts). Without NAME, approve lists what the user may decide.
import type { ApprovalRequest } from '../crds/types.gen.ts';
import { describeApproval } from './approval-view.ts';
import { namespaceOf } from './namespace-scope.ts';
import { decide, type Verdict } from './decide.ts';
import { listApprovals } from './list-command.ts';
import { CliError, stringValue, type Invocation, type Subcommand } from './subcommand.ts';

async function runDecision(invocation: Invocation, verdict: Verdict): Promise<number> {
  const { positionals, io, prog } = invocation;
  if (positionals.length > 1) throw new CliError(`one ApprovalRequest at a time; got ${positionals.join(' ')}`);
  const name = positionals[0];
  if (name === undefined) {
    if (verdict === 'Deny') throw new CliError(`name the ApprovalRequest to deny: ${prog} deny NAME --reason TEXT (see ${prog} list)`);
    return listApprovals(invocation, { decidableOnly: true });
  }
  const session = invocation.connect(invocation.flags);
  const namespace = await namespaceOf(session, invocation.flags, name);
  const reason = stringValue(invocation.values, 'reason');
  const verb = verdict === 'Approve' ? 'Approving' : 'Denying';
  const result = await decide({
    api: session.api, namespace, name, verdict, prog, now: invocation.now,
    ...(reason === undefined ? {} : { reason }),
    beforeWrite: (apr, user) => { io.out(`${verb} as ${user.username}:\n${describeApproval(apr, invocation.now())}`); },
  });
  io.out(`${whatHappensNext(result.request, verdict)}\n`);
  return 0;
}

/** What the decision does, in words (the operator sets phase a moment later, so phase is not it). */
export function whatHappensNext(apr: ApprovalRequest, verdict: Verdict): string {
  const ref = `approvalrequest ${apr.metadata.namespace ?? ''}/${apr.metadata.name ?? ''}`;
  if (verdict === 'Deny') return `denied: ${ref}; the held request is refused with your reason`;
  const needed = apr.spec.minApprovals ?? 1;
  const given = new Set((apr.status?.decisions ?? []).filter((d) => d.decision === 'Approve').map((d) => d.by)).size;
  if (given < needed) return `approved: ${ref} has ${given} of ${needed} approvals; it waits for ${needed - given} more`;
  const next = apr.spec.mode === 'Reject'
    ? `the requester's identical command now goes through once, within ${apr.spec.grantTTL ?? '10m'}`
    : 'the held request goes through now';
  return `approved: ${ref} has the approvals it needs (${given} of ${needed}); ${next}`;
}

const reasonOption = { reason: { type: 'string' } } as const;

export const approveCommand: Subcommand = {
  name: 'approve',
  summary: 'Approve an ApprovalRequest as yourself (without NAME: list what you may decide)',
  usage: '[NAME] [--reason TEXT]',
  help: [
    'Appends {decision: Approve, by: <you>} to the request\'s status.decisions. The held request then',
    'goes through once the approvals needed are given. The admission policy checks that you are a',
    'listed approver and not the requester.',
  ],
  options: { ...reasonOption, deny: { type: 'boolean' } },
  completes: 'approvalrequest',
  run: (invocation) => runDecision(invocation, invocation.values['deny'] === true ? 'Deny' : 'Approve'),
};

export const denyCommand: Subcommand = {
  name: 'deny',
  summary: 'Deny an ApprovalRequest as yourself; the reason is shown to the requester',
  usage: 'NAME --reason TEXT',
  help: ['Any deny decides: the held request is refused with your reason.'],
  options: reasonOption,
  completes: 'approvalrequest',
  run: (invocation) => runDecision(invocation, 'Deny'),
};
