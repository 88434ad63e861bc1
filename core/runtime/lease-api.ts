// The three Lease calls the elector makes, as a structural slice of client-node's
// CoordinationV1Api (so tests and fault injection can stand in for it), and the conversions
// between client-node's V1Lease and the elector's plain records.
import { V1Lease, V1LeaseSpec, V1MicroTime, V1ObjectMeta } from '@kubernetes/client-node';
import { isNotFound } from './api-errors.ts';
import type { LeaseRecord, LeaseSpecToWrite } from './lease-decision.ts';

export interface LeaseApi {
  readNamespacedLease(param: { name: string; namespace: string }): Promise<V1Lease>;
  createNamespacedLease(param: { namespace: string; body: V1Lease }): Promise<V1Lease>;
  replaceNamespacedLease(param: { name: string; namespace: string; body: V1Lease }): Promise<V1Lease>;
}

export interface LeaseRef {
  readonly namespace: string;
  readonly name: string;
}

/** The lease's record, or undefined when it does not exist. */
export async function readLease(api: LeaseApi, ref: LeaseRef): Promise<LeaseRecord | undefined> {
  try {
    return leaseRecord(await api.readNamespacedLease(ref));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Creates the lease; a 409 means another participant created it first. */
export async function createLease(api: LeaseApi, ref: LeaseRef, spec: LeaseSpecToWrite): Promise<LeaseRecord> {
  return leaseRecord(await api.createNamespacedLease({ namespace: ref.namespace, body: toV1Lease(ref, spec) }));
}

/** Replaces the lease if it is still at `resourceVersion`; a 409 means someone wrote it since. */
export async function replaceLease(api: LeaseApi, ref: LeaseRef, spec: LeaseSpecToWrite, resourceVersion: string): Promise<LeaseRecord> {
  return leaseRecord(await api.replaceNamespacedLease({ ...ref, body: toV1Lease(ref, spec, resourceVersion) }));
}

export function leaseRecord(lease: V1Lease): LeaseRecord {
  const spec = lease.spec;
  const record: { -readonly [K in keyof LeaseRecord]: LeaseRecord[K] } = {
    holderIdentity: spec?.holderIdentity ?? '',
    leaseDurationSeconds: spec?.leaseDurationSeconds ?? 0,
    leaseTransitions: spec?.leaseTransitions ?? 0,
    resourceVersion: lease.metadata?.resourceVersion ?? '',
  };
  const acquireTime = toMillis(spec?.acquireTime);
  const renewTime = toMillis(spec?.renewTime);
  if (acquireTime !== undefined) record.acquireTime = acquireTime;
  if (renewTime !== undefined) record.renewTime = renewTime;
  return record;
}

export function toV1Lease(ref: LeaseRef, spec: LeaseSpecToWrite, resourceVersion?: string): V1Lease {
  const metadata = Object.assign(new V1ObjectMeta(), { name: ref.name, namespace: ref.namespace }, resourceVersion === undefined ? {} : { resourceVersion });
  // MicroTime, not Date: its JSON has the six fractional digits the API server's MicroTime
  // parser requires (a plain Date's three are rejected).
  const leaseSpec = Object.assign(new V1LeaseSpec(), {
    holderIdentity: spec.holderIdentity,
    leaseDurationSeconds: spec.leaseDurationSeconds,
    acquireTime: new V1MicroTime(spec.acquireTime),
    renewTime: new V1MicroTime(spec.renewTime),
    leaseTransitions: spec.leaseTransitions,
  });
  return Object.assign(new V1Lease(), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata, spec: leaseSpec });
}

/**
 * client-node 2.0.1 types MicroTime fields as V1MicroTime but its deserializer does not know that
 * type and leaves the JSON string in place; accept both.
 */
function toMillis(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}
