// Where the approval commands look when the reviewer names no namespace. ApprovalRequests live in
// each gateway's namespace, not the reviewer's, so a reviewer's current namespace (often
// "default") is the wrong place to start: without -n the commands look in every namespace the
// reviewer may list, and fall back to the current one only when listing everywhere is forbidden.
import type { ApprovalRequest } from '../crds/types.gen.ts';
import { apiFailure, type KubeSession } from './kube-session.ts';
import { CliError, type KubeFlags } from './subcommand.ts';

export interface Listed {
  readonly items: readonly ApprovalRequest[];
  /** "namespace prod", "any namespace", for messages. */
  readonly where: string;
  readonly everywhere: boolean;
}

const forbidden = (error: unknown): boolean => apiFailure(error)?.code === 403;

/** The requests the reviewer asked for: one namespace with -n, every one with -A or by default. */
export async function listInScope(session: KubeSession, flags: KubeFlags): Promise<Listed> {
  if (flags.namespace !== undefined && !flags.allNamespaces) {
    return { items: await session.api.list(flags.namespace), where: `namespace ${flags.namespace}`, everywhere: false };
  }
  try {
    return { items: await session.api.list(undefined), where: 'any namespace', everywhere: true };
  } catch (error) {
    if (flags.allNamespaces || !forbidden(error)) throw error;
    return { items: await session.api.list(session.namespace), where: `namespace ${session.namespace} (you may not list ApprovalRequests in every namespace; name another with -n)`, everywhere: false };
  }
}

/** The namespace of the ApprovalRequest named NAME: the one -n names, else where it is found. */
export async function namespaceOf(session: KubeSession, flags: KubeFlags, name: string): Promise<string> {
  if (flags.namespace !== undefined) return flags.namespace;
  let items: readonly ApprovalRequest[];
  try {
    items = await session.api.list(undefined);
  } catch (error) {
    if (forbidden(error)) return session.namespace;
    throw error;
  }
  const namespaces = [...new Set(items.filter((apr) => apr.metadata.name === name).map((apr) => apr.metadata.namespace ?? ''))];
  if (namespaces.length > 1) throw new CliError(`ApprovalRequest "${name}" exists in namespaces ${namespaces.join(', ')}; name one with -n NAMESPACE`);
  return namespaces[0] ?? session.namespace;
}
