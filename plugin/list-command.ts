// `kubectl airlock list` (pending requests as a table) and `kubectl airlock get NAME` (one request
// in full, decisions included).
import type { ApprovalRequest } from '../crds/types.gen.ts';
import { approvalTable, describeApproval, isOpen, whyNotDecider } from './approval-view.ts';
import { explainFailure } from './decide.ts';
import { apiFailure, type KubeSession } from './kube-session.ts';
import { CliError, type Invocation, type Subcommand } from './subcommand.ts';
import { listInScope, namespaceOf } from './namespace-scope.ts';

async function explained<T>(call: Promise<T>, context: { session: KubeSession; name: string; prog: string }): Promise<T> {
  try {
    return await call;
  } catch (error) {
    const failure = apiFailure(error);
    if (failure === undefined) throw error;
    throw new CliError(explainFailure(failure, { namespace: context.session.namespace, name: context.name, prog: context.prog }), { cause: error });
  }
}

export async function listApprovals(invocation: Invocation, options: { decidableOnly: boolean }): Promise<number> {
  const { io, flags, prog } = invocation;
  const session = invocation.connect(flags);
  const context = { session, name: '', prog };
  const now = invocation.now();
  const listed = await explained(listInScope(session, flags), context);
  let items = [...listed.items];
  if (invocation.values['all'] !== true) items = items.filter((apr) => isOpen(apr, now));
  if (options.decidableOnly) {
    const user = await explained(session.api.whoami(), context);
    items = items.filter((apr) => whyNotDecider(apr, user) === undefined);
  }
  const where = listed.where;
  if (items.length === 0) {
    io.err(`No ${invocation.values['all'] === true ? '' : 'pending '}ApprovalRequests${options.decidableOnly ? ' you may decide' : ''} in ${where}.\n`);
    return 0;
  }
  const byCreation = (a: ApprovalRequest, b: ApprovalRequest): number => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp));
  io.out(approvalTable([...items].sort(byCreation), { now, withNamespace: listed.everywhere }));
  return 0;
}

export const listCommand: Subcommand = {
  name: 'list',
  aliases: ['ls'],
  summary: 'List pending ApprovalRequests: requester, summary, age, expiry, approvals so far',
  usage: '[--all] [--mine] [-n NAMESPACE | -A]',
  help: [
    '--all shows every phase (decided, expired, consumed), --mine only what you may decide.',
    'Without -n it looks in every namespace you may list (ApprovalRequests live in the gateways\' namespaces).',
  ],
  options: { all: { type: 'boolean' }, mine: { type: 'boolean' } },
  run: (invocation) => listApprovals(invocation, { decidableOnly: invocation.values['mine'] === true }),
};

export const getCommand: Subcommand = {
  name: 'get',
  aliases: ['describe'],
  summary: 'Show one ApprovalRequest in full: what will happen, who asked, decisions so far',
  usage: 'NAME',
  help: [],
  options: {},
  completes: 'approvalrequest',
  async run(invocation) {
    const name = invocation.positionals[0];
    if (name === undefined || invocation.positionals.length > 1) throw new CliError(`name one ApprovalRequest: ${invocation.prog} get NAME`);
    const session = invocation.connect(invocation.flags);
    const namespace = await explained(namespaceOf(session, invocation.flags, name), { session, name, prog: invocation.prog });
    const apr = await explained(session.api.get(namespace, name), { session: { ...session, namespace }, name, prog: invocation.prog });
    invocation.io.out(describeApproval(apr, invocation.now()));
    return 0;
  },
};
