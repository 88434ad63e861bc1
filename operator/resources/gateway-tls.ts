// Operator-managed TLS for gateways (spec.tls.mode OperatorManaged, the default).
//
// Design:
// - One CA per namespace, in the Secret `airlock-gateway-ca` (kubernetes.io/tls: tls.crt/tls.key
//   are the current CA, ca.crt is the trust bundle). It has no owner: every gateway of the
//   namespace shares it, and a gateway deleted and re-created keeps the trust its callers pinned.
//   ECDSA P-256, valid 5 years, renewed when a third of its life is left. On renewal the old CA
//   stays in ca.crt until it expires, so callers that trust the bundle never see a gap.
// - One serving certificate per gateway, in the Secret `<gateway>-tls` (owned by the gateway):
//   tls.crt/tls.key, and ca.crt (the bundle) that callers copy into their kubeconfig. ECDSA P-256,
//   valid 90 days, renewed when a third is left, or at once when its names or its issuer no longer
//   match. The gateway reloads the mounted files without a restart.
// - A serving certificate stays valid while any CA of the bundle signed it: after a CA renewal the
//   next serving certificate comes from the new CA at its own renewal time, which leaves callers
//   its remaining life (at least 30 days) to pick up the new bundle.
// - Issuing (key generation, signing; the encoding is @peculiar/x509's) is operator/pki/x509.ts, called by the reconciler's TLS step
//   (operator/controllers/serving-tls.ts). This module is pure: the names, the request templates,
//   the renewal decisions (node:crypto parses certificates) and the Secret shapes.
import { X509Certificate } from 'node:crypto';
import type { Secret } from './k8s-types.ts';
import type { AccessGateway } from '../../crds/types.gen.ts';
import { GATEWAY_CA_SECRET, gatewayResourceNames } from './gateway-names.ts';
import { childMetadata, gatewayNamespace, LABELS, MANAGED_BY, PART_OF, type GatewayRef } from './labels.ts';

const DAY_MS = 86_400_000;

export interface RenewalPolicy {
  readonly validityDays: number;
  /** Renew when less than this fraction of the lifetime is left (0 < f < 1). */
  readonly renewBeforeFraction: number;
}

export const TLS_POLICY = {
  ca: { validityDays: 1826, renewBeforeFraction: 1 / 3 },
  serving: { validityDays: 90, renewBeforeFraction: 1 / 3 },
  /** notBefore is set this far in the past, for clocks slightly behind the operator's. */
  backdateMs: 5 * 60_000,
} as const;

export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** The names a caller may use for the gateway's Service, all on the serving certificate. */
export function servingDnsNames(gateway: GatewayRef & Pick<AccessGateway, 'spec'>, clusterDomain = 'cluster.local'): string[] {
  const service = gatewayResourceNames(gateway).service;
  const namespace = gatewayNamespace(gateway);
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.${clusterDomain}`];
}

/** When a certificate should be replaced: renewBeforeFraction of its lifetime before notAfter. */
export function renewalTime(validity: Validity, policy: Pick<RenewalPolicy, 'renewBeforeFraction'>): Date {
  const fraction = policy.renewBeforeFraction;
  if (!(fraction > 0 && fraction < 1)) throw new TypeError(`renewBeforeFraction must be between 0 and 1, got ${fraction}`);
  const lifetime = validity.notAfter.getTime() - validity.notBefore.getTime();
  return new Date(validity.notAfter.getTime() - lifetime * fraction);
}

/**
 * Whether to replace a certificate now: its renewal time has come, it is not valid yet (a clock
 * went backwards or it was issued for the future), or its validity makes no sense.
 */
export function needsRotation(validity: Validity, now: Date, policy: Pick<RenewalPolicy, 'renewBeforeFraction'>): boolean {
  if (validity.notAfter.getTime() <= validity.notBefore.getTime()) return true;
  if (now.getTime() < validity.notBefore.getTime()) return true;
  return now.getTime() >= renewalTime(validity, policy).getTime();
}

/** What the reconciler's issuer needs to make a certificate. */
export interface CertificateRequest {
  readonly commonName: string;
  readonly dnsNames: readonly string[];
  readonly isCA: boolean;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly keyAlgorithm: { readonly name: 'ECDSA'; readonly namedCurve: 'P-256' };
  readonly keyUsages: readonly ('digitalSignature' | 'keyCertSign' | 'cRLSign')[];
  readonly extendedKeyUsages: readonly 'serverAuth'[];
}

function validityFrom(now: Date, policy: RenewalPolicy): Validity {
  return {
    notBefore: new Date(now.getTime() - TLS_POLICY.backdateMs),
    notAfter: new Date(now.getTime() + policy.validityDays * DAY_MS),
  };
}

export function caCertificateRequest(namespace: string, now: Date): CertificateRequest {
  return {
    commonName: `${GATEWAY_CA_SECRET}.${namespace}`,
    dnsNames: [],
    isCA: true,
    ...validityFrom(now, TLS_POLICY.ca),
    keyAlgorithm: { name: 'ECDSA', namedCurve: 'P-256' },
    keyUsages: ['keyCertSign', 'cRLSign', 'digitalSignature'],
    extendedKeyUsages: [],
  };
}

export function servingCertificateRequest(gateway: GatewayRef & Pick<AccessGateway, 'spec'>, now: Date): CertificateRequest {
  const dnsNames = servingDnsNames(gateway);
  return {
    commonName: dnsNames[2] ?? '',
    dnsNames,
    isCA: false,
    ...validityFrom(now, TLS_POLICY.serving),
    keyAlgorithm: { name: 'ECDSA', namedCurve: 'P-256' },
    keyUsages: ['digitalSignature'],
    extendedKeyUsages: ['serverAuth'],
  };
}

/** What the operator reads back from a PEM certificate (node:crypto parses; it cannot create). */
export interface ObservedCertificate extends Validity {
  readonly dnsNames: readonly string[];
  readonly fingerprint256: string;
  readonly isCA: boolean;
}

export function observeCertificate(pem: string): ObservedCertificate {
  const cert = new X509Certificate(pem);
  const dnsNames = (cert.subjectAltName ?? '').split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice('DNS:'.length));
  return { notBefore: cert.validFromDate, notAfter: cert.validToDate, dnsNames, fingerprint256: cert.fingerprint256, isCA: cert.ca };
}

/** Why a serving certificate is issued; Requested: the airlock.dev/rotate-credentials annotation. */
export type ServingRenewalReason = 'Missing' | 'Unreadable' | 'NotIssuedByCA' | 'NamesChanged' | 'Expiring' | 'Requested';

/** On the serving Secret: the value of the rotate annotation last acted on. */
export const TLS_ROTATION_ANNOTATION = 'airlock.dev/rotation-request';

/** The PEM certificates of a bundle, in order. */
export function splitPemBundle(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((pem) => `${pem}\n`) ?? [];
}

function signedByAny(leafPem: string, caBundlePem: string): boolean {
  const leaf = new X509Certificate(leafPem);
  return splitPemBundle(caBundlePem).some((caPem) => {
    const ca = new X509Certificate(caPem);
    return leaf.checkIssued(ca) && leaf.verify(ca.publicKey);
  });
}

/**
 * Why the serving certificate must be issued again, or undefined to keep it. `caPem` is the trust
 * bundle: a certificate signed by any CA in it is kept. Checks run in order and the first failure
 * is the reason (the reconciler puts it in an Event).
 */
export function servingRenewalReason(
  current: { readonly certPem: string | undefined; readonly caPem: string },
  dnsNames: readonly string[],
  now: Date,
): ServingRenewalReason | undefined {
  if (current.certPem === undefined || current.certPem === '') return 'Missing';
  let observed: ObservedCertificate;
  try {
    observed = observeCertificate(current.certPem);
    if (!signedByAny(current.certPem, current.caPem)) return 'NotIssuedByCA';
  } catch {
    return 'Unreadable';
  }
  const have = [...observed.dnsNames].sort();
  const want = [...dnsNames].sort();
  if (have.length !== want.length || have.some((name, i) => name !== want[i])) return 'NamesChanged';
  if (needsRotation(observed, now, TLS_POLICY.serving)) return 'Expiring';
  return undefined;
}

/**
 * The CA bundle callers trust: the given CA certificates that are still valid at `now`, each
 * once (by fingerprint), newest first, as concatenated PEM.
 */
export function caTrustBundle(caPems: readonly string[], now: Date): string {
  const seen = new Set<string>();
  const kept: { pem: string; notBefore: number }[] = [];
  for (const pem of caPems) {
    const cert = observeCertificate(pem);
    if (cert.notAfter.getTime() <= now.getTime() || seen.has(cert.fingerprint256)) continue;
    seen.add(cert.fingerprint256);
    kept.push({ pem: pem.trim(), notBefore: cert.notBefore.getTime() });
  }
  return kept.sort((a, b) => b.notBefore - a.notBefore).map((c) => `${c.pem}\n`).join('');
}

export interface KeyPairPem {
  readonly certPem: string;
  readonly keyPem: string;
  /** caTrustBundle() of the namespace's CA. */
  readonly caBundlePem: string;
}

function tlsData(pems: KeyPairPem): Record<string, string> {
  const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
  return { 'tls.crt': b64(pems.certPem), 'tls.key': b64(pems.keyPem), 'ca.crt': b64(pems.caBundlePem) };
}

/** The namespace's CA Secret: shared by its gateways, so it has no owner reference. */
export function buildCaSecret(namespace: string, pems: KeyPairPem): Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: {
      name: GATEWAY_CA_SECRET,
      namespace,
      labels: { [LABELS.name]: GATEWAY_CA_SECRET, [LABELS.component]: 'ca', [LABELS.managedBy]: MANAGED_BY, [LABELS.partOf]: PART_OF },
    },
    data: tlsData(pems),
  };
}

/**
 * A gateway's serving certificate Secret, owned by the gateway (never the user's, in mode Secret).
 * `rotationRequest`: the rotate annotation value this certificate answered, kept so it is not
 * answered twice.
 */
export function buildServingTlsSecret(gateway: GatewayRef & Pick<AccessGateway, 'spec'>, pems: KeyPairPem, rotationRequest?: string): Secret {
  if (gateway.spec.tls?.mode === 'Secret') {
    throw new TypeError(`AccessGateway ${gateway.metadata.name ?? ''} serves the user's Secret ${gateway.spec.tls.secretName ?? ''}; the operator does not write it`);
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: {
      ...childMetadata(gateway, gatewayResourceNames(gateway).tlsSecret, 'tls'),
      ...(rotationRequest === undefined ? {} : { annotations: { [TLS_ROTATION_ANNOTATION]: rotationRequest } }),
    },
    data: tlsData(pems),
  };
}
