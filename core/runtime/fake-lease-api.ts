// Lease APIs for tests: an in-memory one with the API server's optimistic concurrency (create of an
// existing name and replace with a stale resourceVersion both fail with 409), and a wrapper that
// makes one participant's calls fail or hang on demand (the unit tests and the e2e test use it to
// cut a leader off from the API server while the others still reach it).
import { ApiException, V1Lease, V1ObjectMeta } from '@kubernetes/client-node';
import type { LeaseApi } from './lease-api.ts';

/** As client-node 2.0.1 throws them: the body is the response's raw JSON text. */
const statusError = (code: number, reason: string): ApiException<string> =>
  new ApiException(code, 'Unknown API Status Code!', JSON.stringify({ kind: 'Status', code, reason, message: reason }), {});

/** Copies through JSON, as the wire does (times come back as strings, as in client-node 2.0.1). */
const wire = (lease: V1Lease): V1Lease => Object.assign(new V1Lease(), JSON.parse(JSON.stringify(lease)) as object);

export interface InMemoryLeaseApi extends LeaseApi {
  /** The stored lease as the API server would return it. */
  current(): V1Lease | undefined;
  readonly writes: number;
}

export function createInMemoryLeaseApi(): InMemoryLeaseApi {
  let stored: V1Lease | undefined;
  let version = 0;
  let writes = 0;
  const store = (body: V1Lease): V1Lease => {
    version += 1;
    writes += 1;
    stored = wire(body);
    stored.metadata = Object.assign(new V1ObjectMeta(), stored.metadata, { resourceVersion: String(version) });
    return wire(stored);
  };
  return {
    readNamespacedLease: () => (stored === undefined ? Promise.reject(statusError(404, 'NotFound')) : Promise.resolve(wire(stored))),
    createNamespacedLease: ({ body }) => (stored === undefined ? Promise.resolve(store(body)) : Promise.reject(statusError(409, 'AlreadyExists'))),
    replaceNamespacedLease: ({ body }) => {
      if (stored === undefined) return Promise.reject(statusError(404, 'NotFound'));
      if (body.metadata?.resourceVersion !== stored.metadata?.resourceVersion) return Promise.reject(statusError(409, 'Conflict'));
      return Promise.resolve(store(body));
    },
    current: () => (stored === undefined ? undefined : wire(stored)),
    get writes() { return writes; },
  };
}

export interface FaultyLeaseApi extends LeaseApi {
  /** From now on every call rejects with `error`. */
  failWith(error: unknown): void;
  /** From now on every call hangs (never settles), as on a half-dead connection. */
  hang(): void;
  /** Calls go through again. */
  heal(): void;
}

export function withFaults(api: LeaseApi): FaultyLeaseApi {
  let mode: { readonly kind: 'ok' } | { readonly kind: 'fail'; readonly error: unknown } | { readonly kind: 'hang' } = { kind: 'ok' };
  const call = <T>(fn: () => Promise<T>): Promise<T> => {
    // The rejection is whatever the test asked for, like the errors client-node throws.
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    if (mode.kind === 'fail') return Promise.reject(mode.error);
    if (mode.kind === 'hang') return new Promise<T>(() => undefined);
    return fn();
  };
  return {
    readNamespacedLease: (p) => call(() => api.readNamespacedLease(p)),
    createNamespacedLease: (p) => call(() => api.createNamespacedLease(p)),
    replaceNamespacedLease: (p) => call(() => api.replaceNamespacedLease(p)),
    failWith(error) { mode = { kind: 'fail', error }; },
    hang() { mode = { kind: 'hang' }; },
    heal() { mode = { kind: 'ok' }; },
  };
}
