// `kubectl airlock rolebinding`: the RoleBinding that grants a role to an identity under the names a
// GatewayOnly gateway forwards (core/forwarded-identity.ts), printed for `kubectl apply -f -`.
// Written offline: the prefix is the gateway's default unless --prefix gives the one its
// AccessGateway sets, so the command needs no cluster access and can be reviewed before applying.
import { stringify } from 'yaml';
import { defaultGatewayOnlyPrefix, gatewayOnlyPrefixProblem } from '../core/forwarded-identity.ts';
import { CliError, stringValue, type Invocation, type Subcommand } from './subcommand.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

interface Subject { readonly kind: 'User' | 'Group'; readonly name: string; readonly label: string }

/** The identity as the gateway names it (before the prefix): exactly one of the three flags. */
function subjectOf(values: Invocation['values'], prog: string): Subject {
  const given = (['serviceaccount', 'user', 'group'] as const).filter((k) => stringValue(values, k) !== undefined);
  if (given.length !== 1) throw new CliError(`name one identity: ${prog} rolebinding --serviceaccount NAMESPACE:NAME | --user NAME | --group NAME --gateway NAMESPACE/NAME -n NAMESPACE --clusterrole ROLE`);
  const value = stringValue(values, given[0] ?? 'user') ?? '';
  if (given[0] === 'group') return { kind: 'Group', name: value, label: value };
  if (given[0] === 'user') return { kind: 'User', name: value, label: value };
  const [namespace = '', name = '', ...rest] = value.split(':');
  if (rest.length > 0 || !DNS_LABEL.test(namespace) || name === '') throw new CliError(`--serviceaccount takes NAMESPACE:NAME, e.g. ci:deployer; got ${JSON.stringify(value)}`);
  return { kind: 'User', name: `system:serviceaccount:${namespace}:${name}`, label: `${namespace}-${name}` };
}

function prefixOf(values: Invocation['values']): string {
  const prefix = stringValue(values, 'prefix');
  if (prefix !== undefined) {
    const problem = gatewayOnlyPrefixProblem(prefix);
    if (problem !== undefined) throw new CliError(`--prefix ${problem}`);
    return prefix;
  }
  const gateway = stringValue(values, 'gateway') ?? '';
  const [namespace = '', name = '', ...rest] = gateway.split('/');
  if (rest.length > 0 || !DNS_LABEL.test(namespace) || !DNS_LABEL.test(name)) {
    throw new CliError('name the gateway: --gateway NAMESPACE/NAME (its AccessGateway), or --prefix when its spec.identity.prefix is set');
  }
  return defaultGatewayOnlyPrefix({ namespace, name });
}

function roleRef(values: Invocation['values']): { kind: 'Role' | 'ClusterRole'; name: string } {
  const role = stringValue(values, 'role');
  const clusterRole = stringValue(values, 'clusterrole');
  if ((role === undefined) === (clusterRole === undefined)) throw new CliError('name one role to grant: --clusterrole ROLE or --role ROLE');
  return role === undefined ? { kind: 'ClusterRole', name: clusterRole ?? '' } : { kind: 'Role', name: role };
}

/** A binding name from the role and the identity, within the 253 characters a name may have. */
function bindingName(role: string, subject: Subject): string {
  const label = subject.label.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '');
  return `gateway-only-${role}-${label}`.slice(0, 253).replace(/[-.]+$/, '');
}

export function gatewayOnlyRoleBinding(values: Invocation['values'], context: { namespace: string | undefined; prog: string }): Record<string, unknown> {
  const subject = subjectOf(values, context.prog);
  const prefix = prefixOf(values);
  const ref = roleRef(values);
  if (context.namespace === undefined) throw new CliError(`name the namespace the binding grants in: ${context.prog} rolebinding … -n NAMESPACE`);
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: stringValue(values, 'name') ?? bindingName(ref.name, subject), namespace: context.namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...ref },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: subject.kind, name: `${prefix}${subject.name}` }],
  };
}

export const roleBindingCommand: Subcommand = {
  name: 'rolebinding',
  summary: 'Print the RoleBinding that grants a role to an identity through a GatewayOnly gateway only',
  usage: '--serviceaccount NS:NAME | --user NAME | --group NAME  --gateway NS/NAME [--prefix P]  --clusterrole ROLE | --role ROLE  -n NAMESPACE [--name NAME]',
  help: [
    'The subject is the name the gateway forwards (identity.forwardAs GatewayOnly): the prefix',
    'airlock:<gateway namespace>:<gateway name>: (or --prefix, when spec.identity.prefix is set) before the',
    'identity, which the API server never authenticates by itself. --user takes the name as the gateway',
    'authenticates it (with any OIDC usernamePrefix, e.g. github:repo:acme/payments:ref:refs/heads/main).',
    'Apply it: kubectl airlock rolebinding … | kubectl apply -f -',
  ],
  options: {
    serviceaccount: { type: 'string' }, user: { type: 'string' }, group: { type: 'string' }, gateway: { type: 'string' },
    prefix: { type: 'string' }, clusterrole: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' },
  },
  run(invocation) {
    invocation.io.out(stringify(gatewayOnlyRoleBinding(invocation.values, { namespace: invocation.flags.namespace, prog: invocation.prog })));
    return Promise.resolve(0);
  },
};
