// The user's own connection, found as kubectl finds it: --kubeconfig, else KUBECONFIG (a list of
// files, merged), else ~/.kube/config; --context, else the current context; --namespace, else the
// context's namespace, else "default". Only the calls the approval commands make are exposed.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  ApiException,
  AuthenticationV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1SelfSubjectReview,
} from '@kubernetes/client-node';
import { APPROVALREQUEST_PLURAL, GROUP, VERSION, type ApprovalRequest } from '../crds/types.gen.ts';
import { CliError, type KubeFlags } from './subcommand.ts';

export interface UserInfo {
  readonly username: string;
  readonly groups: readonly string[];
}

export interface ApprovalApi {
  whoami(): Promise<UserInfo>;
  get(namespace: string, name: string): Promise<ApprovalRequest>;
  /** Every ApprovalRequest in the namespace, or in all namespaces when it is undefined. */
  list(namespace: string | undefined): Promise<ApprovalRequest[]>;
  /** A JSON merge patch of the status subresource. */
  patchStatus(namespace: string, name: string, patch: object): Promise<ApprovalRequest>;
}

export interface KubeSession {
  readonly namespace: string;
  readonly context: string;
  readonly api: ApprovalApi;
}

/** The HTTP status and the API server's own message of a failed call, if it was one. */
export interface ApiFailure {
  readonly code: number;
  readonly reason?: string;
  readonly message: string;
}

export function apiFailure(error: unknown): ApiFailure | undefined {
  if (!(error instanceof ApiException)) return undefined;
  let status: unknown = error.body;
  if (typeof status === 'string') {
    try { status = JSON.parse(status); } catch { status = {}; }
  }
  const fields = typeof status === 'object' && status !== null ? status as { reason?: unknown; message?: unknown } : {};
  const message = typeof fields.message === 'string' ? fields.message : `HTTP ${error.code}`;
  return { code: error.code, message, ...(typeof fields.reason === 'string' ? { reason: fields.reason } : {}) };
}

/** kubectl refuses to guess a server; client-node would fall back to http://localhost:8080. */
function hasSomeKubeconfig(): boolean {
  if ((process.env['KUBECONFIG'] ?? '') !== '' || (process.env['KUBERNETES_SERVICE_HOST'] ?? '') !== '') return true;
  return existsSync(join(homedir(), '.kube', 'config'));
}

function loadKubeConfig(flags: KubeFlags): KubeConfig {
  const kc = new KubeConfig();
  if (flags.kubeconfig === undefined && !hasSomeKubeconfig()) {
    throw new CliError('no kubeconfig: set KUBECONFIG, pass --kubeconfig FILE, or create ~/.kube/config');
  }
  try {
    if (flags.kubeconfig === undefined) kc.loadFromDefault();
    else kc.loadFromFile(flags.kubeconfig);
  } catch (error) {
    throw new CliError(`cannot read the kubeconfig${flags.kubeconfig === undefined ? '' : ` ${flags.kubeconfig}`}: ${(error as Error).message}`);
  }
  if (flags.context !== undefined) {
    if (kc.getContextObject(flags.context) === null) {
      throw new CliError(`context "${flags.context}" is not in the kubeconfig; see kubectl config get-contexts`);
    }
    kc.setCurrentContext(flags.context);
  }
  if (kc.getCurrentCluster() === null) throw new CliError('the kubeconfig has no current cluster; set one with kubectl config use-context');
  return kc;
}

const base = { group: GROUP, version: VERSION, plural: APPROVALREQUEST_PLURAL };

/** undici says only "fetch failed"; the reason (refused, TLS, DNS) is in its cause. */
function unreachable(server: string, error: unknown): CliError {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new CliError(`cannot reach the API server at ${server}: ${detail}; check KUBECONFIG, --kubeconfig and --context`, { cause: error });
}

/** API answers (ApiException) pass through for the caller to explain; anything else is the connection. */
function reaching(server: string): <T>(call: () => Promise<T>) => Promise<T> {
  return async (call) => {
    try {
      return await call();
    } catch (error) {
      if (error instanceof ApiException || error instanceof CliError) throw error;
      throw unreachable(server, error);
    }
  };
}

function approvalApi(kc: KubeConfig): ApprovalApi {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const auth = kc.makeApiClient(AuthenticationV1Api);
  const api: ApprovalApi = {
    async whoami() {
      // A plain JSON body of the model's shape (its serializer walks fields by name).
      const review: object = { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' };
      const body = review as V1SelfSubjectReview;
      const answer = await auth.createSelfSubjectReview({ body });
      const user = answer.status?.userInfo;
      if (user?.username === undefined) throw new CliError('the API server did not say who you are (SelfSubjectReview answered without a username)');
      return { username: user.username, groups: user.groups ?? [] };
    },
    async get(namespace, name) {
      return await custom.getNamespacedCustomObject({ ...base, namespace, name }) as ApprovalRequest;
    },
    async list(namespace) {
      const list = (namespace === undefined
        ? await custom.listClusterCustomObject(base)
        : await custom.listNamespacedCustomObject({ ...base, namespace })) as { items?: ApprovalRequest[] };
      return list.items ?? [];
    },
    async patchStatus(namespace, name, patch) {
      return await custom.patchNamespacedCustomObjectStatus(
        { ...base, namespace, name, body: patch },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ) as ApprovalRequest;
    },
  };
  const reach = reaching(kc.getCurrentCluster()?.server ?? '<no server>');
  return {
    whoami: () => reach(() => api.whoami()),
    get: (namespace, name) => reach(() => api.get(namespace, name)),
    list: (namespace) => reach(() => api.list(namespace)),
    patchStatus: (namespace, name, patch) => reach(() => api.patchStatus(namespace, name, patch)),
  };
}

export function connectWithKubeconfig(flags: KubeFlags): KubeSession {
  const kc = loadKubeConfig(flags);
  const namespace = flags.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  return { namespace, context: kc.getCurrentContext(), api: approvalApi(kc) };
}
