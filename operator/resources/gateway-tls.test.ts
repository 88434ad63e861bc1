import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  buildCaSecret, buildServingTlsSecret, caCertificateRequest, caTrustBundle, needsRotation, observeCertificate,
  renewalTime, servingCertificateRequest, servingDnsNames, servingRenewalReason,
} from './gateway-tls.ts';
import { sampleGateway, withName, withSpec } from './testdata/gateway.ts';

const pem = (name: string): string => readFileSync(new URL(`testdata/tls/${name}`, import.meta.url), 'utf8');
const CA = pem('ca.crt');
const OTHER_CA = pem('other-ca.crt');
const SERVING = pem('serving.crt'); // ci-gateway.airlock-system, 2026-11-24T10:42:02Z to 2027-02-22T10:42:02Z
const at = (iso: string): Date => new Date(iso);
const validity = (from: string, to: string): { notBefore: Date; notAfter: Date } => ({ notBefore: at(from), notAfter: at(to) });

describe('servingDnsNames', () => {
  it.each([
    [['ci-gateway', 'airlock-system'], undefined, ['ci-gateway', 'ci-gateway.airlock-system', 'ci-gateway.airlock-system.svc', 'ci-gateway.airlock-system.svc.cluster.local']],
    [['bots', 'team-a'], 'corp.example', ['bots', 'bots.team-a', 'bots.team-a.svc', 'bots.team-a.svc.corp.example']],
  ])('names the Service of %j in every form a caller may use (cluster domain %s)', ([name, namespace], domain, names) => {
    expect(servingDnsNames(sampleGateway(withName(name!, namespace)), domain)).toEqual(names);
  });
});

describe('needsRotation', () => {
  const ninetyDays = validity('2026-01-01T00:00:00Z', '2026-04-01T00:00:00Z'); // 90 days: renew after 2026-03-02

  it.each([
    ['just issued', ninetyDays, '2026-01-01T00:00:00Z', false],
    ['two thirds through its life, to the millisecond', ninetyDays, '2026-03-02T00:00:00Z', true],
    ['a millisecond before two thirds', ninetyDays, '2026-03-01T23:59:59.999Z', false],
    ['expired', ninetyDays, '2026-05-01T00:00:00Z', true],
    ['not valid yet', ninetyDays, '2025-12-31T23:59:59Z', true],
    ['backwards (notAfter before notBefore)', validity('2026-04-01T00:00:00Z', '2026-01-01T00:00:00Z'), '2026-02-01T00:00:00Z', true],
  ])('a certificate that is %s needs rotation: %s', (_what, v, now, expected) => {
    expect(needsRotation(v, at(now), { renewBeforeFraction: 1 / 3 })).toBe(expected);
  });

  it.each([[0], [1], [-0.5], [Number.NaN]])('refuses a renewBeforeFraction of %s', (fraction) => {
    expect(() => renewalTime(ninetyDays, { renewBeforeFraction: fraction })).toThrow(/between 0 and 1/);
  });

  it.each([
    [0.5, '2026-02-15T00:00:00.000Z'],
    [0.1, '2026-03-23T00:00:00.000Z'],
  ])('with renewBeforeFraction %s renews at %s', (fraction, when) => {
    expect(renewalTime(ninetyDays, { renewBeforeFraction: fraction }).toISOString()).toBe(when);
  });
});

describe('certificate requests', () => {
  const now = at('2026-06-01T12:00:00Z');

  it('asks for a 90-day ECDSA serving certificate for the Service names, backdated 5 minutes', () => {
    expect(servingCertificateRequest(sampleGateway(), now)).toEqual({
      commonName: 'ci-gateway.airlock-system.svc',
      dnsNames: servingDnsNames(sampleGateway()),
      isCA: false,
      notBefore: at('2026-06-01T11:55:00Z'),
      notAfter: at('2026-08-30T12:00:00Z'),
      keyAlgorithm: { name: 'ECDSA', namedCurve: 'P-256' },
      keyUsages: ['digitalSignature'],
      extendedKeyUsages: ['serverAuth'],
    });
  });

  it('asks for a 5-year CA per namespace that can only sign', () => {
    expect(caCertificateRequest('team-a', now)).toMatchObject({
      commonName: 'airlock-gateway-ca.team-a',
      isCA: true,
      dnsNames: [],
      notAfter: at('2031-06-01T12:00:00Z'),
      keyUsages: ['keyCertSign', 'cRLSign', 'digitalSignature'],
    });
  });
});

describe('observeCertificate', () => {
  it('reads validity, DNS names and fingerprint from a PEM certificate', () => {
    const cert = observeCertificate(SERVING);
    expect(cert).toMatchObject({
      notBefore: at('2026-11-24T10:42:02Z'),
      notAfter: at('2027-02-22T10:42:02Z'),
      dnsNames: servingDnsNames(sampleGateway()),
      isCA: false,
    });
    expect(cert.fingerprint256).toMatch(/^2F:64:C7:45/);
    expect(observeCertificate(CA).isCA).toBe(true);
  });
});

describe('servingRenewalReason', () => {
  const names = servingDnsNames(sampleGateway());
  const fresh = at('2026-12-01T00:00:00Z');

  it.each([
    { what: 'no certificate yet', certPem: undefined, caPem: CA, dnsNames: names, now: fresh, reason: 'Missing' },
    { what: 'an empty tls.crt', certPem: '', caPem: CA, dnsNames: names, now: fresh, reason: 'Missing' },
    { what: 'garbage in tls.crt', certPem: 'not a certificate', caPem: CA, dnsNames: names, now: fresh, reason: 'Unreadable' },
    { what: 'a certificate from another CA', certPem: SERVING, caPem: OTHER_CA, dnsNames: names, now: fresh, reason: 'NotIssuedByCA' },
    { what: 'a certificate from the older CA of a bundle', certPem: SERVING, caPem: `${OTHER_CA}${CA}`, dnsNames: names, now: fresh, reason: undefined },
    { what: 'a certificate from none of a bundle', certPem: SERVING, caPem: `${OTHER_CA}${OTHER_CA}`, dnsNames: names, now: fresh, reason: 'NotIssuedByCA' },
    { what: 'a renamed Service', certPem: SERVING, caPem: CA, dnsNames: servingDnsNames(sampleGateway(withName('renamed'))), now: fresh, reason: 'NamesChanged' },
    { what: 'a certificate with 29 days left', certPem: SERVING, caPem: CA, dnsNames: names, now: at('2027-01-24T00:00:00Z'), reason: 'Expiring' },
    { what: 'a certificate with 31 days left', certPem: SERVING, caPem: CA, dnsNames: names, now: at('2027-01-22T00:00:00Z'), reason: undefined },
    { what: 'the same names in another order', certPem: SERVING, caPem: CA, dnsNames: [...names].reverse(), now: fresh, reason: undefined },
  ])('for $what answers $reason', ({ certPem, caPem, dnsNames, now, reason }) => {
    expect(servingRenewalReason({ certPem, caPem }, dnsNames, now)).toBe(reason);
  });
});

describe('caTrustBundle', () => {
  it.each([
    ['keeps both CAs while both are valid, newest first, each once', [CA, OTHER_CA, CA], '2030-01-01T00:00:00Z', 2],
    ['drops a CA once it has expired', [CA, OTHER_CA], '2037-01-01T00:00:00Z', 0],
  ])('%s', (_what, pems, now, count) => {
    const bundle = caTrustBundle(pems, at(now));
    expect(bundle.match(/BEGIN CERTIFICATE/g)?.length ?? 0).toBe(count);
    if (count > 0) expect(bundle.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
  });
});

describe('TLS Secrets', () => {
  const pems = { certPem: 'CERT', keyPem: 'KEY', caBundlePem: 'BUNDLE' };
  const decoded = (data: Record<string, string> | undefined): Record<string, string> =>
    Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

  it('stores the serving certificate as kubernetes.io/tls with ca.crt, owned by the gateway', () => {
    const secret = buildServingTlsSecret(sampleGateway(), pems);
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(secret.metadata).toMatchObject({ name: 'ci-gateway-tls', namespace: 'airlock-system', ownerReferences: [{ kind: 'AccessGateway' }] });
    expect(decoded(secret.data)).toEqual({ 'tls.crt': 'CERT', 'tls.key': 'KEY', 'ca.crt': 'BUNDLE' });
  });

  it('stores the namespace CA without an owner, since every gateway there shares it', () => {
    const secret = buildCaSecret('team-a', pems);
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(secret.metadata).toMatchObject({ name: 'airlock-gateway-ca', namespace: 'team-a', labels: { 'app.kubernetes.io/managed-by': 'airlock-operator' } });
    expect(secret.metadata?.ownerReferences).toBeUndefined();
    expect(Object.keys(secret.data ?? {})).toEqual(['tls.crt', 'tls.key', 'ca.crt']);
  });

  it("never writes the user's Secret when tls.mode is Secret", () => {
    const gateway = sampleGateway(withSpec({ tls: { mode: 'Secret', secretName: 'mine' } }));
    expect(() => buildServingTlsSecret(gateway, pems)).toThrow(/does not write it/);
  });
});
