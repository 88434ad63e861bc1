// `kubectl airlock bypass [GATEWAY]`: every path around the AccessGateways of a namespace, for the
// subjects of the AccessPolicies each one enforces (core/bypass/find-bypass.ts), read with the
// person's own credentials. Token Secrets are listed as metadata only, so no token value is ever
// fetched (bypass/cluster-sources.ts); the exit code is 0 with no finding and 3 with any, for scripts and CI.
import { clusterSources, gatewaysAndPolicies, gatewayUnderReview } from '../core/bypass/cluster-sources.ts';
import { findBypass, type BypassFinding } from '../core/bypass/find-bypass.ts';
import { apiFailure, loadKubeConfig, reaching } from './kube-session.ts';
import { CliError, type Invocation, type Subcommand } from './subcommand.ts';

/** One block per finding: what, whose, why, and the fix on its own line to copy. */
export function formatFindings(gateway: string, findings: readonly BypassFinding[]): string {
  if (findings.length === 0) return `${gateway}: no path around the gateway found\n`;
  const lines = [`${gateway}: ${findings.length} path(s) around the gateway`];
  for (const f of findings) lines.push(`  ${f.kind}  ${f.subject}`, `    ${f.detail}`, `    fix: ${f.fix}`);
  return `${lines.join('\n')}\n`;
}

async function run(invocation: Invocation): Promise<number> {
  const { flags, io, positionals, prog } = invocation;
  if (positionals.length > 1) throw new CliError(`at most one gateway: ${prog} bypass [GATEWAY] -n NAMESPACE`);
  const kc = loadKubeConfig(flags);
  const namespace = flags.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const reach = reaching(kc.getCurrentCluster()?.server ?? '<no server>');
  try {
    const found = await reach(() => gatewaysAndPolicies(kc, namespace, positionals[0]));
    if (found.length === 0) { io.err(`No AccessGateways in ${namespace}.\n`); return 0; }
    const sources = clusterSources(kc);
    let total = 0;
    for (const { gateway, policies } of found) {
      const findings = await reach(() => findBypass(gatewayUnderReview(gateway), policies, sources));
      total += findings.length;
      io.out(formatFindings(`${namespace}/${gateway.metadata.name ?? ''}`, findings));
    }
    return total === 0 ? 0 : 3;
  } catch (error) {
    const failure = apiFailure(error);
    if (failure === undefined) throw error;
    throw new CliError(`${failure.message} (the report reads AccessGateways, AccessPolicies, ServiceAccounts, Pods, token Secrets' metadata and makes SubjectAccessReviews)`, { cause: error });
  }
}

export const bypassCommand: Subcommand = {
  name: 'bypass',
  summary: 'List every path around the gateways of a namespace (tokens, RBAC, the gateway credential), each with its fix',
  usage: '[GATEWAY] [-n NAMESPACE]',
  help: [
    'For the subjects of the AccessPolicies each AccessGateway enforces: ServiceAccounts whose tokens the API',
    'server accepts (automount on the account or a pod, legacy token Secrets), RBAC under their own names',
    '(SubjectAccessReview per verb, resource and namespace their Allow rules name), and a gateway credential',
    'that may do more than impersonate and review. Exit code 3 when anything is found.',
  ],
  options: {},
  run,
};
