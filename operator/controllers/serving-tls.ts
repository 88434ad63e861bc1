// The reconciler's TLS step. OperatorManaged (the default): make sure the namespace's CA exists and
// is not due for renewal, and that the gateway's serving certificate is signed by a CA of the
// bundle, carries the Service names and is not due; issue what is missing or due, and issue a new
// serving certificate when the airlock.dev/rotate-credentials annotation has a value not yet
// answered (it rotates every credential the gateway holds). Secret: check
// the user's Secret (present, a certificate and its key, not expired) and never write it.
//
// Concurrency: gateways of one namespace share the CA and may reconcile at once. The first CA is
// created (not applied), so a second writer gets 409 AlreadyExists; a renewal is applied with the
// resourceVersion it read, so a second renewal gets 409 Conflict. The runtime requeues a 409
// quietly and the next attempt reads the winner's CA.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { AccessGateway } from '../../crds/types.gen.ts';
import { applyObject, type ObjectApi } from '../apply.ts';
import { gatewayResourceNames, gatewayTlsSecretName, GATEWAY_CA_SECRET } from '../resources/gateway-names.ts';
import {
  buildCaSecret, buildServingTlsSecret, caCertificateRequest, caTrustBundle, needsRotation, observeCertificate, renewalTime,
  servingCertificateRequest, servingDnsNames, servingRenewalReason, splitPemBundle, TLS_POLICY, TLS_ROTATION_ANNOTATION, type ServingRenewalReason,
} from '../resources/gateway-tls.ts';
import { ROTATE_ANNOTATION } from '../resources/gateway-credential.ts';
import type { Secret } from '../resources/k8s-types.ts';
import { readSecret, type SecretWithData } from './read-secret.ts';
import { issueCertificate, type IssuedPem } from '../pki/x509.ts';

export interface TlsDeps {
  readonly objects: ObjectApi & {
    read(spec: KubernetesObject): Promise<KubernetesObject>;
    create(spec: KubernetesObject): Promise<KubernetesObject>;
  };
}

/** What the reconcile learned about the gateway's serving certificate. */
export interface TlsFacts {
  readonly secret: string;
  /** When the serving certificate expires (absent when there is none to read). */
  readonly notAfter?: Date;
  /** When the operator replaces it (OperatorManaged only). */
  readonly renewAfter?: Date;
  /** When the namespace CA expires (OperatorManaged only). */
  readonly caNotAfter?: Date;
  /** When the namespace CA is due for renewal (OperatorManaged only). */
  readonly caRenewAfter?: Date;
  /** Why a certificate was issued by this reconcile, for an Event. */
  readonly issued?: { readonly serving?: ServingRenewalReason; readonly ca?: CaRenewalReason };
  /** A problem a person must fix (Secret mode): the Degraded reason and message. */
  readonly problem?: { readonly reason: string; readonly message: string };
}

type CaRenewalReason = 'Missing' | 'Unreadable' | 'Expiring';

const decoded = (secret: SecretWithData | undefined, key: string): string => Buffer.from(secret?.data?.[key] ?? '', 'base64').toString('utf8');

interface NamespaceCa extends IssuedPem {
  readonly bundlePem: string;
  readonly notAfter: Date;
  readonly renewAfter: Date;
  readonly issued?: CaRenewalReason;
}

/** Why the stored CA cannot be used as it is, or undefined to keep it. */
function caRenewalReason(secret: SecretWithData | undefined, now: Date): CaRenewalReason | undefined {
  if (secret === undefined) return 'Missing';
  try {
    const cert = observeCertificate(decoded(secret, 'tls.crt'));
    if (!cert.isCA || !new X509Certificate(decoded(secret, 'tls.crt')).checkPrivateKey(createPrivateKey(decoded(secret, 'tls.key')))) return 'Unreadable';
    return needsRotation(cert, now, TLS_POLICY.ca) ? 'Expiring' : undefined;
  } catch {
    return 'Unreadable';
  }
}

function caFrom(pems: IssuedPem & { bundlePem: string }, issued?: CaRenewalReason): NamespaceCa {
  const cert = observeCertificate(pems.certPem);
  return { ...pems, notAfter: cert.notAfter, renewAfter: renewalTime(cert, TLS_POLICY.ca), ...(issued === undefined ? {} : { issued }) };
}

/** The namespace CA, issued or renewed when needed. A renewed CA's bundle keeps the old CA until it expires. */
async function ensureNamespaceCa(namespace: string, deps: TlsDeps, now: Date): Promise<NamespaceCa> {
  const stored = await readSecret(deps.objects, namespace, GATEWAY_CA_SECRET);
  const reason = caRenewalReason(stored, now);
  if (reason === undefined) {
    return caFrom({ certPem: decoded(stored, 'tls.crt'), keyPem: decoded(stored, 'tls.key'), bundlePem: decoded(stored, 'ca.crt') });
  }
  const fresh = await issueCertificate(caCertificateRequest(namespace, now));
  const previous = reason === 'Expiring' ? splitPemBundle(decoded(stored, 'ca.crt')) : [];
  const pems = { ...fresh, bundlePem: caTrustBundle([fresh.certPem, ...previous], now) };
  const secret: Secret = buildCaSecret(namespace, { certPem: pems.certPem, keyPem: pems.keyPem, caBundlePem: pems.bundlePem });
  if (stored === undefined) {
    const body: object = secret; // plain JSON of the same shape as the client-node model
    await deps.objects.create(body);
  } else {
    // Optimistic: another reconcile that renewed first makes this one fail with 409.
    await applyObject(deps.objects, { ...secret, metadata: { ...secret.metadata, resourceVersion: stored.metadata?.resourceVersion } });
  }
  return caFrom(pems, reason);
}

/** The rotate annotation's value, if it has one. */
function rotationRequest(gateway: AccessGateway): string | undefined {
  const value = gateway.metadata.annotations?.[ROTATE_ANNOTATION];
  return value === undefined || value === '' ? undefined : value;
}

async function ensureOperatorManaged(gateway: AccessGateway, deps: TlsDeps, now: Date): Promise<TlsFacts> {
  const namespace = gateway.metadata.namespace ?? '';
  const name = gatewayResourceNames(gateway).tlsSecret;
  const ca = await ensureNamespaceCa(namespace, deps, now);
  const stored = await readSecret(deps.objects, namespace, name);
  const current = { certPem: decoded(stored, 'tls.crt'), keyPem: decoded(stored, 'tls.key') };
  const requested = rotationRequest(gateway);
  const reason = servingRenewalReason({ certPem: current.certPem, caPem: ca.bundlePem }, servingDnsNames(gateway), now)
    ?? (requested !== undefined && requested !== stored?.metadata?.annotations?.[TLS_ROTATION_ANNOTATION] ? 'Requested' : undefined);
  const serving = reason === undefined ? current : await issueCertificate(servingCertificateRequest(gateway, now), ca);
  // Written when issued, and when only the bundle changed (a renewed CA joins it).
  if (reason !== undefined || decoded(stored, 'ca.crt') !== ca.bundlePem) {
    await applyObject(deps.objects, buildServingTlsSecret(gateway, { ...serving, caBundlePem: ca.bundlePem }, requested));
  }
  const cert = observeCertificate(serving.certPem);
  const issued = { ...(reason === undefined ? {} : { serving: reason }), ...(ca.issued === undefined ? {} : { ca: ca.issued }) };
  return {
    secret: name,
    notAfter: cert.notAfter,
    renewAfter: renewalTime(cert, TLS_POLICY.serving),
    caNotAfter: ca.notAfter,
    caRenewAfter: ca.renewAfter,
    ...(Object.keys(issued).length === 0 ? {} : { issued }),
  };
}

/** Checks the user's Secret (mode Secret); the operator never writes it. */
async function checkUserSecret(gateway: AccessGateway, deps: TlsDeps, now: Date): Promise<TlsFacts> {
  const namespace = gateway.metadata.namespace ?? '';
  const name = gatewayTlsSecretName(gateway);
  const stored = await readSecret(deps.objects, namespace, name);
  const fix = `Create or fix the kubernetes.io/tls Secret ${namespace}/${name} (e.g. with cert-manager), or set spec.tls.mode: OperatorManaged.`;
  if (stored === undefined) return { secret: name, problem: { reason: 'TLSSecretNotFound', message: `Secret ${namespace}/${name} does not exist. ${fix}` } };
  let notAfter: Date;
  try {
    const certPem = decoded(stored, 'tls.crt');
    notAfter = observeCertificate(certPem).notAfter;
    if (!new X509Certificate(certPem).checkPrivateKey(createPrivateKey(decoded(stored, 'tls.key')))) {
      return { secret: name, notAfter, problem: { reason: 'TLSSecretInvalid', message: `In Secret ${namespace}/${name}, tls.key is not the key of tls.crt. ${fix}` } };
    }
  } catch {
    return { secret: name, problem: { reason: 'TLSSecretInvalid', message: `Secret ${namespace}/${name} has no readable PEM certificate and key in tls.crt and tls.key. ${fix}` } };
  }
  if (notAfter.getTime() <= now.getTime()) {
    return { secret: name, notAfter, problem: { reason: 'TLSCertificateExpired', message: `The certificate in Secret ${namespace}/${name} expired at ${notAfter.toISOString()}. ${fix}` } };
  }
  return { secret: name, notAfter };
}

export function ensureServingTls(gateway: AccessGateway, deps: TlsDeps, now: Date): Promise<TlsFacts> {
  return gateway.spec.tls?.mode === 'Secret' ? checkUserSecret(gateway, deps, now) : ensureOperatorManaged(gateway, deps, now);
}
