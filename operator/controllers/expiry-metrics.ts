// Gauges of when each gateway's upstream token and certificates expire, for alerts such as
// `airlock_operator_certificate_expiry_timestamp_seconds - time() < 7 * 86400`. The reconciler
// reports after every reconcile; a deleted gateway's series are removed.
import { Gauge, type Registry } from 'prom-client';
import type { ExpiryFacts } from './accessgateway.ts';
import type { ObjectRef } from '../../core/runtime/object-key.ts';

export type ExpiryObserver = (ref: ObjectRef, expiry: ExpiryFacts | undefined) => void;

export function expiryMetrics(registry: Registry): ExpiryObserver {
  const registers = [registry];
  const credential = new Gauge({
    name: 'airlock_operator_credential_expiry_timestamp_seconds',
    help: 'When the upstream token the operator minted for a gateway expires (Unix time).',
    labelNames: ['namespace', 'gateway'], registers,
  });
  const certificate = new Gauge({
    name: 'airlock_operator_certificate_expiry_timestamp_seconds',
    help: 'When a gateway\'s serving certificate, or the namespace CA that signed it, expires (Unix time).',
    labelNames: ['namespace', 'gateway', 'certificate'], registers,
  });
  return (ref, expiry) => {
    const labels = { namespace: ref.namespace ?? '', gateway: ref.name };
    if (expiry === undefined) {
      credential.remove(labels);
      for (const kind of ['serving', 'ca']) certificate.remove({ ...labels, certificate: kind });
      return;
    }
    credential.set(labels, expiry.credential.getTime() / 1000);
    for (const [kind, date] of [['serving', expiry.serving], ['ca', expiry.ca]] as const) {
      if (date === undefined) certificate.remove({ ...labels, certificate: kind });
      else certificate.set({ ...labels, certificate: kind }, date.getTime() / 1000);
    }
  };
}
