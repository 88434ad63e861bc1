// Small builders for the CLI's unit tests: an ApprovalRequest with modifiers, and an in-memory
// ApprovalApi that answers like the API server would (404, 409 on a stale resourceVersion).
import { ApiException } from '@kubernetes/client-node';
import type { ApprovalRequest } from '../crds/types.gen.ts';
import type { ApprovalApi, UserInfo } from './kube-session.ts';

export const NOW = new Date('2030-01-01T00:05:00Z');

export function approval(edit: (apr: ApprovalRequest) => void = () => undefined): ApprovalRequest {
  // Plain JSON, as the API server returns it (metadata is typed as client-node's class).
  const json: object = {
    apiVersion: 'airlock.dev/v1alpha1',
    kind: 'ApprovalRequest',
    metadata: { name: 'scale-api', namespace: 'prod', resourceVersion: '1', creationTimestamp: '2030-01-01T00:00:00Z' },
    spec: {
      requester: { caller: { username: 'ci' } },
      request: {
        verb: 'patch', apiGroup: 'apps', resource: 'deployments', subresource: 'scale', namespace: 'prod', name: 'api',
        summary: 'scale deployment prod/api from 3 to 0 replicas', bodyDigest: `sha256:${'a'.repeat(64)}`, fingerprint: `sha256:${'b'.repeat(64)}`,
      },
      policy: { namespace: 'airlock-system', name: 'payments-ci', rule: 'scale-prod' },
      approvers: { users: ['alice'], groups: ['sre'] },
      minApprovals: 1,
      expiresAt: '2030-01-01T00:15:00Z',
    },
    status: { phase: 'Pending' },
  };
  const apr = json as ApprovalRequest;
  edit(apr);
  return apr;
}

export function apiError(code: number, message: string, reason = 'Forbidden'): ApiException<string> {
  return new ApiException(code, `HTTP ${code}`, JSON.stringify({ kind: 'Status', status: 'Failure', reason, message, code }), {});
}

export interface FakeApi extends ApprovalApi {
  readonly patches: object[];
  stored: ApprovalRequest | undefined;
}

/** Answers from one stored object. `beforePatch` may change it (another writer) or throw. */
export function fakeApi(options: { stored?: ApprovalRequest; user?: UserInfo; beforePatch?: (api: FakeApi) => void }): FakeApi {
  const api: FakeApi = {
    patches: [],
    stored: options.stored,
    whoami: () => Promise.resolve(options.user ?? { username: 'alice', groups: ['system:authenticated'] }),
    get: (_ns, name) => (api.stored === undefined ? Promise.reject(apiError(404, `approvalrequests.airlock.dev "${name}" not found`, 'NotFound')) : Promise.resolve(structuredClone(api.stored))),
    list: () => Promise.resolve(api.stored === undefined ? [] : [structuredClone(api.stored)]),
    patchStatus: (_ns, _name, patch) => {
      api.patches.push(patch);
      options.beforePatch?.(api);
      const current = api.stored;
      if (current === undefined) return Promise.reject(apiError(404, 'not found', 'NotFound'));
      const p = patch as { metadata: { resourceVersion?: string }; status: NonNullable<ApprovalRequest['status']> };
      if (p.metadata.resourceVersion !== current.metadata.resourceVersion) return Promise.reject(apiError(409, 'the object has been modified', 'Conflict'));
      const next = structuredClone(current);
      next.metadata.resourceVersion = String(Number(current.metadata.resourceVersion) + 1);
      next.status = { ...current.status, ...p.status };
      api.stored = next;
      return Promise.resolve(structuredClone(api.stored));
    },
  };
  return api;
}
