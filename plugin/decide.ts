// Appends the current user's decision to an ApprovalRequest, the way `kubectl approve` does: read,
// check what the user can fix before writing, then a merge patch of status carrying the
// resourceVersion read (optimistic concurrency: another reviewer's write in between is a 409, and
// we read again and retry). The admission policy has the last word; its message is shown as is.
import type { ApprovalRequest } from '../crds/types.gen.ts';
import { phaseOf, isExpired } from './approval-view.ts';
import { apiFailure, type ApiFailure, type ApprovalApi, type UserInfo } from './kube-session.ts';
import { CliError } from './subcommand.ts';

export type Verdict = 'Approve' | 'Deny';

export const MAX_CONFLICT_RETRIES = 5;

export interface DecideOptions {
  readonly api: ApprovalApi;
  readonly namespace: string;
  readonly name: string;
  readonly verdict: Verdict;
  readonly reason?: string;
  readonly now: () => Date;
  /** How the user invoked us, for hints ("kubectl airlock"). */
  readonly prog: string;
  /** Called once with the request as read, before anything is written (to show what is decided). */
  readonly beforeWrite?: (apr: ApprovalRequest, user: UserInfo) => void;
}

export interface DecideResult {
  readonly user: UserInfo;
  readonly request: ApprovalRequest;
  /** Writes lost to another writer and retried. */
  readonly conflicts: number;
}

const seconds = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function checkDecidable(apr: ApprovalRequest, user: UserInfo, options: DecideOptions): void {
  const ref = `ApprovalRequest ${options.namespace}/${options.name}`;
  const mine = apr.status?.decisions?.find((d) => d.by === user.username);
  if (mine !== undefined) throw new CliError(`you (${user.username}) already decided ${ref}: ${mine.decision} at ${mine.at}; a decision cannot be changed`);
  const phase = phaseOf(apr);
  if (phase !== 'Pending') throw new CliError(`${ref} is already ${phase}; decisions are taken only while it is Pending`);
  if (isExpired(apr, options.now())) {
    throw new CliError(`${ref} expired at ${apr.spec.expiresAt}; the requester must send the request again to ask for a new approval`);
  }
}

export interface FailureContext {
  readonly user?: UserInfo;
  readonly namespace: string;
  /** The request's name; '' when listing. */
  readonly name: string;
  readonly prog: string;
}

interface Explanation {
  readonly when: (failure: ApiFailure, context: FailureContext) => boolean;
  readonly line: (failure: ApiFailure, context: FailureContext) => string;
}

const POLICY_DENIAL = /ValidatingAdmissionPolicy '[^']*' with binding '[^']*' denied request: (.*)$/s;
const who = (context: FailureContext): string => context.user?.username ?? 'you';

/** The first that applies explains the failure; the API server's own words come last. */
const EXPLANATIONS: readonly Explanation[] = [
  { when: (f) => POLICY_DENIAL.test(f.message), line: (f) => (POLICY_DENIAL.exec(f.message)?.[1] ?? '').trim() },
  {
    when: (f, c) => f.code === 404 && (c.name === '' || !f.message.includes(`"${c.name}" not found`)),
    line: () => 'this cluster does not serve ApprovalRequests (airlock.dev/v1alpha1); is Airlock installed? (kubectl apply --server-side -k config/default)',
  },
  {
    when: (f) => f.code === 404,
    line: (_f, c) => `ApprovalRequest "${c.name}" not found in namespace "${c.namespace}"; list pending ones with: ${c.prog} list -n ${c.namespace}`,
  },
  {
    when: (f) => f.code === 403 && /cannot list resource "approvalrequests".* at the cluster scope/.test(f.message),
    line: (_f, c) => `${who(c)} may not list ApprovalRequests in all namespaces; drop -A and name one with -n NAMESPACE`,
  },
  {
    when: (f) => f.code === 403 && / cannot (get|patch|update|list) resource "approvalrequests/.test(f.message),
    line: (_f, c) => `${who(c)} may not read or decide ApprovalRequests in namespace "${c.namespace}"; ask an administrator to bind the ClusterRole airlock-approvalrequest-approver (docs/approvals.md)`,
  },
  { when: (f) => f.code === 401, line: () => 'the API server did not accept your credentials (HTTP 401); log in again, or choose another --context' },
];

/** One line for a refused call: the admission policy's own words, or what to do about it. */
export function explainFailure(failure: ApiFailure, context: FailureContext): string {
  const known = EXPLANATIONS.find((e) => e.when(failure, context));
  if (known !== undefined) return known.line(failure, context);
  return `the API server refused (HTTP ${failure.code}${failure.reason === undefined ? '' : ` ${failure.reason}`}): ${failure.message.split('\n')[0] ?? ''}`;
}

async function orExplained<T>(call: Promise<T>, context: FailureContext): Promise<T> {
  try {
    return await call;
  } catch (error) {
    const failure = apiFailure(error);
    if (failure === undefined) throw error;
    throw new CliError(explainFailure(failure, context), { cause: error });
  }
}

export async function decide(options: DecideOptions): Promise<DecideResult> {
  const { api, namespace, name } = options;
  const context = { namespace, name, prog: options.prog };
  const user = await orExplained(api.whoami(), context);
  const known = { ...context, user };
  for (let conflicts = 0; conflicts <= MAX_CONFLICT_RETRIES; conflicts += 1) {
    const apr = await orExplained(api.get(namespace, name), known);
    if (conflicts === 0) options.beforeWrite?.(apr, user);
    checkDecidable(apr, user, options);
    // A member of an approver group says which: admission checks it, the gateway counts by it.
    const groups = (apr.spec.approvers.groups ?? []).filter((g) => user.groups.includes(g));
    const decision = {
      decision: options.verdict, by: user.username, ...(groups.length === 0 ? {} : { groups }),
      ...(options.reason === undefined ? {} : { reason: options.reason }), at: seconds(options.now()),
    };
    const patch = { metadata: { resourceVersion: apr.metadata.resourceVersion }, status: { decisions: [...(apr.status?.decisions ?? []), decision] } };
    try {
      return { user, request: await api.patchStatus(namespace, name, patch), conflicts };
    } catch (error) {
      const failure = apiFailure(error);
      if (failure?.code === 409) continue;
      if (failure === undefined) throw error;
      throw new CliError(explainFailure(failure, known), { cause: error });
    }
  }
  throw new CliError(`ApprovalRequest ${namespace}/${name} kept changing while we wrote (${MAX_CONFLICT_RETRIES + 1} conflicts); run the command again`);
}
