import 'reflect-metadata';
import { X509Certificate as LibraryCertificate } from '@peculiar/x509';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, type KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { expectedFields, libraryFields, opensslFields } from '../pki/testdata/certificate-fields.ts';
import { issueCertificate } from '../pki/x509.ts';
import { caCertificateRequest, servingCertificateRequest, splitPemBundle } from '../resources/gateway-tls.ts';
import { sampleGateway, withName, withSpec } from '../resources/testdata/gateway.ts';
import { ensureServingTls, type TlsDeps } from './serving-tls.ts';

/** A stored object as plain JSON (not the client-node model classes). */
interface Stored {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
}

const asObject = (json: unknown): KubernetesObject => json as KubernetesObject;

/** An object store with the API server's create/apply semantics that matter here (409s, resourceVersion). */
function store(): { deps: TlsDeps; objects: Map<string, Stored>; writes: string[] } {
  const objects = new Map<string, Stored>();
  const writes: string[] = [];
  let version = 0;
  const key = (o: KubernetesObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  const keep = (o: KubernetesObject): KubernetesObject => {
    version += 1;
    const kept = JSON.parse(JSON.stringify(o)) as Stored;
    kept.metadata = { ...kept.metadata, resourceVersion: String(version) };
    objects.set(key(o), kept);
    writes.push(o.metadata?.name ?? '');
    return asObject(kept);
  };
  const deps: TlsDeps = {
    objects: {
      read: (o) => {
        const found = objects.get(key(o));
        return found === undefined ? Promise.reject(new ApiException(404, 'NotFound', '', {})) : Promise.resolve(asObject(JSON.parse(JSON.stringify(found))));
      },
      create: (o) => (objects.has(key(o)) ? Promise.reject(new ApiException(409, 'AlreadyExists', '', {})) : Promise.resolve(keep(o))),
      patch: <T extends KubernetesObject>(o: T) => {
        const precondition = o.metadata?.resourceVersion;
        if (precondition !== undefined && objects.get(key(o))?.metadata?.resourceVersion !== precondition) {
          return Promise.reject(new ApiException(409, 'Conflict', '', {}));
        }
        return Promise.resolve(keep(o) as unknown as T);
      },
    },
  };
  return { deps, objects, writes };
}

const pem = (secret: Stored | undefined, field: string): string => Buffer.from(secret?.data?.[field] ?? '', 'base64').toString('utf8');
const day = 86_400_000;
const t0 = new Date('2026-11-26T00:00:00Z');
const later = (days: number): Date => new Date(t0.getTime() + days * day);

describe('ensureServingTls (OperatorManaged)', () => {
  it('issues the namespace CA and a serving certificate from it, then keeps both', async () => {
    const { deps, objects, writes } = store();
    const first = await ensureServingTls(sampleGateway(), deps, t0);
    expect(first.issued).toEqual({ ca: 'Missing', serving: 'Missing' });
    const ca = objects.get('airlock-system/airlock-gateway-ca');
    const tls = objects.get('airlock-system/ci-gateway-tls');
    expect(new X509Certificate(pem(tls, 'tls.crt')).checkIssued(new X509Certificate(pem(ca, 'tls.crt')))).toBe(true);
    expect(pem(tls, 'ca.crt')).toBe(pem(ca, 'ca.crt'));
    expect(first.renewAfter?.toISOString()).toBe('2027-01-24T23:58:20.000Z'); // a third of 90 days + 5 minutes before notAfter
    const again = await ensureServingTls(sampleGateway(), deps, later(10));
    expect(again.issued).toBeUndefined();
    expect(writes).toHaveLength(2);
  });

  it('issues a new serving certificate once per value of the rotate annotation', async () => {
    const { deps, objects } = store();
    await ensureServingTls(sampleGateway(), deps, t0);
    const annotated = (value: string) => sampleGateway((g) => { g.metadata.annotations = { 'airlock.dev/rotate-credentials': value }; });
    expect((await ensureServingTls(annotated('now'), deps, t0)).issued).toEqual({ serving: 'Requested' });
    expect(objects.get('airlock-system/ci-gateway-tls')?.metadata).toMatchObject({ annotations: { 'airlock.dev/rotation-request': 'now' } });
    expect((await ensureServingTls(annotated('now'), deps, t0)).issued).toBeUndefined();
    expect((await ensureServingTls(annotated('again'), deps, t0)).issued).toEqual({ serving: 'Requested' });
  });

  it('shares one CA among the gateways of a namespace', async () => {
    const { deps, objects } = store();
    await ensureServingTls(sampleGateway(), deps, t0);
    const second = await ensureServingTls(sampleGateway(withName('bots')), deps, t0);
    expect(second.issued).toEqual({ serving: 'Missing' });
    expect(new X509Certificate(pem(objects.get('airlock-system/bots-tls'), 'tls.crt')).issuer).toBe('CN=airlock-gateway-ca.airlock-system');
  });

  it('loses a race to create the CA with a 409, and the retry uses the winner', async () => {
    const { deps, objects } = store();
    const racing = { objects: { ...deps.objects, read: () => Promise.reject(new ApiException(404, 'NotFound', '', {})) } };
    await ensureServingTls(sampleGateway(), deps, t0);
    await expect(ensureServingTls(sampleGateway(withName('bots')), racing, t0)).rejects.toMatchObject({ code: 409 });
    const winner = pem(objects.get('airlock-system/airlock-gateway-ca'), 'tls.crt');
    await ensureServingTls(sampleGateway(withName('bots')), deps, t0);
    expect(new X509Certificate(pem(objects.get('airlock-system/bots-tls'), 'tls.crt')).checkIssued(new X509Certificate(winner))).toBe(true);
  });

  it('renews the serving certificate when a third of its life is left', async () => {
    const { deps } = store();
    const first = await ensureServingTls(sampleGateway(), deps, t0);
    const renewed = await ensureServingTls(sampleGateway(), deps, first.renewAfter ?? t0);
    expect(renewed.issued).toEqual({ serving: 'Expiring' });
    expect(renewed.notAfter?.getTime()).toBeGreaterThan(first.notAfter?.getTime() ?? Infinity);
  });

  it('renews the CA with the old one left in the bundle, and moves the serving certificate to it only when that is due', async () => {
    const { deps, objects } = store();
    const first = await ensureServingTls(sampleGateway(), deps, t0);
    const oldCa = pem(objects.get('airlock-system/airlock-gateway-ca'), 'tls.crt');
    const oldServing = pem(objects.get('airlock-system/ci-gateway-tls'), 'tls.crt');
    // Keep the serving certificate fresh right up to the CA's renewal, as the requeues would.
    const caDue = first.caRenewAfter ?? t0;
    const fresh = await issueCertificate(servingCertificateRequest(sampleGateway(), new Date(caDue.getTime() - day)), { certPem: oldCa, keyPem: pem(objects.get('airlock-system/airlock-gateway-ca'), 'tls.key') });
    const tls = objects.get('airlock-system/ci-gateway-tls');
    if (tls?.data !== undefined) { tls.data['tls.crt'] = Buffer.from(fresh.certPem).toString('base64'); tls.data['tls.key'] = Buffer.from(fresh.keyPem).toString('base64'); }
    const renewed = await ensureServingTls(sampleGateway(), deps, caDue);
    expect(renewed.issued).toEqual({ ca: 'Expiring' });
    const bundle = splitPemBundle(pem(objects.get('airlock-system/airlock-gateway-ca'), 'ca.crt'));
    expect(bundle).toHaveLength(2);
    expect(bundle[1]?.trim()).toBe(oldCa.trim());
    // The serving Secret carries the new bundle and still the certificate from the old CA.
    expect(splitPemBundle(pem(objects.get('airlock-system/ci-gateway-tls'), 'ca.crt'))).toHaveLength(2);
    expect(pem(objects.get('airlock-system/ci-gateway-tls'), 'tls.crt')).toBe(fresh.certPem);
    expect(oldServing).not.toBe(fresh.certPem);
  });

  it('issues again when the stored certificate carries other names, or is tampered with', async () => {
    const { deps, objects } = store();
    await ensureServingTls(sampleGateway(), deps, t0);
    const tls = objects.get('airlock-system/ci-gateway-tls');
    const ca = objects.get('airlock-system/airlock-gateway-ca');
    const other = await issueCertificate(servingCertificateRequest(sampleGateway(withName('bots')), t0), { certPem: pem(ca, 'tls.crt'), keyPem: pem(ca, 'tls.key') });
    if (tls?.data !== undefined) tls.data['tls.crt'] = Buffer.from(other.certPem).toString('base64');
    expect((await ensureServingTls(sampleGateway(), deps, t0)).issued).toEqual({ serving: 'NamesChanged' });
    const again = objects.get('airlock-system/ci-gateway-tls');
    if (again?.data !== undefined) again.data['tls.crt'] = Buffer.from('garbage').toString('base64');
    expect((await ensureServingTls(sampleGateway(), deps, t0)).issued).toEqual({ serving: 'Unreadable' });
  });

  it('replaces a CA Secret whose key does not match its certificate', async () => {
    const { deps, objects } = store();
    await ensureServingTls(sampleGateway(), deps, t0);
    const ca = objects.get('airlock-system/airlock-gateway-ca');
    if (ca?.data !== undefined) ca.data['tls.key'] = Buffer.from((await issueCertificate(servingCertificateRequest(sampleGateway(), t0))).keyPem).toString('base64');
    const next = await ensureServingTls(sampleGateway(), deps, t0);
    expect(next.issued).toEqual({ ca: 'Unreadable', serving: 'NotIssuedByCA' });
  });
});

describe('ensureServingTls (Secret)', () => {
  const userMode = withSpec({ tls: { mode: 'Secret', secretName: 'mine' } });

  it.each([
    ['missing', undefined, 'TLSSecretNotFound', /does not exist/],
    ['without a certificate', { 'tls.key': 'x' }, 'TLSSecretInvalid', /no readable PEM/],
  ])('reports a Secret %s as %s, naming the fix', async (_what, data, reason, message) => {
    const { deps, objects } = store();
    if (data !== undefined) objects.set('airlock-system/mine', { metadata: { name: 'mine', namespace: 'airlock-system' }, data });
    const facts = await ensureServingTls(sampleGateway(userMode), deps, t0);
    expect(facts.problem?.reason).toBe(reason);
    expect(facts.problem?.message).toMatch(message);
    expect(facts.problem?.message).toMatch(/spec\.tls\.mode: OperatorManaged/);
  });

  it('reports a key that is not the certificate\'s, and an expired certificate; never writes the Secret', async () => {
    const { deps, objects, writes } = store();
    const ca = await issueCertificate({ ...servingCertificateRequest(sampleGateway(), t0), isCA: true, dnsNames: [], keyUsages: ['keyCertSign'], extendedKeyUsages: [] });
    const cert = await issueCertificate(servingCertificateRequest(sampleGateway(), t0), ca);
    const secret = (crt: string, key: string): Stored => ({ metadata: { name: 'mine', namespace: 'airlock-system' }, data: { 'tls.crt': Buffer.from(crt).toString('base64'), 'tls.key': Buffer.from(key).toString('base64') } });
    objects.set('airlock-system/mine', secret(cert.certPem, ca.keyPem));
    expect((await ensureServingTls(sampleGateway(userMode), deps, t0)).problem?.reason).toBe('TLSSecretInvalid');
    objects.set('airlock-system/mine', secret(cert.certPem, cert.keyPem));
    const ok = await ensureServingTls(sampleGateway(userMode), deps, t0);
    expect(ok.problem).toBeUndefined();
    expect(ok.notAfter?.toISOString()).toBe('2027-02-24T00:00:00.000Z');
    expect((await ensureServingTls(sampleGateway(userMode), deps, later(91))).problem?.reason).toBe('TLSCertificateExpired');
    expect(writes).toEqual([]);
  });
});

/** What the operator wrote before it issued with @peculiar/x509 (testdata/tls/legacy/README.md). */
describe('ensureServingTls with the Secrets the hand-written encoder wrote', () => {
  const legacy = (name: string): string => readFileSync(new URL(`../resources/testdata/tls/legacy/${name}`, import.meta.url), 'utf8');
  const LEGACY_CA = legacy('ca.crt');
  const LEGACY_SERVING = legacy('serving.crt');
  const b64 = (text: string): string => Buffer.from(text).toString('base64');
  const secret = (name: string, crt: string, key: string): Stored => ({
    metadata: { name, namespace: 'airlock-system', resourceVersion: 'legacy' },
    data: { 'tls.crt': b64(crt), 'tls.key': b64(key), 'ca.crt': b64(LEGACY_CA) },
  });
  const upgraded = (): ReturnType<typeof store> => {
    const s = store();
    s.objects.set('airlock-system/airlock-gateway-ca', secret('airlock-gateway-ca', LEGACY_CA, legacy('ca.key')));
    s.objects.set('airlock-system/ci-gateway-tls', secret('ci-gateway-tls', LEGACY_SERVING, legacy('serving.key')));
    return s;
  };
  const legacyCaDue = new Date('2029-10-01T00:00:00Z'); // two thirds of 2026-05-31T23:55Z..2031-06-01
  /** `openssl verify` at a given time, for the server purpose, against a bundle. */
  const opensslVerify = (leafPem: string, bundlePem: string, at: Date): string => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-legacy-'));
    writeFileSync(join(dir, 'bundle.crt'), bundlePem);
    writeFileSync(join(dir, 'leaf.crt'), leafPem);
    const attime = String(Math.floor(at.getTime() / 1000));
    return execFileSync('openssl', ['verify', '-attime', attime, '-purpose', 'sslserver', '-CAfile', join(dir, 'bundle.crt'), join(dir, 'leaf.crt')], { encoding: 'utf8' }).trim();
  };

  it('keeps both while they are good: nothing issued, nothing written', async () => {
    const { deps, objects, writes } = upgraded();
    const facts = await ensureServingTls(sampleGateway(), deps, new Date('2026-06-10T00:00:00Z'));
    expect(facts.issued).toBeUndefined();
    expect(facts.caNotAfter?.toISOString()).toBe('2031-06-01T00:00:00.000Z');
    expect(writes).toEqual([]);
    expect(pem(objects.get('airlock-system/ci-gateway-tls'), 'tls.crt')).toBe(LEGACY_SERVING);
  });

  it('renews the serving certificate from the old CA: the new one chains to the bundle callers hold', async () => {
    const { deps, objects } = upgraded();
    const due = new Date('2026-08-01T00:00:00Z'); // a third of 90 days before 2026-08-30
    expect((await ensureServingTls(sampleGateway(), deps, due)).issued).toEqual({ serving: 'Expiring' });
    const tls = objects.get('airlock-system/ci-gateway-tls');
    const leaf = pem(tls, 'tls.crt');
    expect(leaf).not.toBe(LEGACY_SERVING);
    expect(pem(tls, 'ca.crt')).toBe(LEGACY_CA);
    const old = new X509Certificate(LEGACY_CA);
    expect(new X509Certificate(leaf).checkIssued(old) && new X509Certificate(leaf).verify(old.publicKey)).toBe(true);
    expect(opensslVerify(leaf, LEGACY_CA, due)).toMatch(/leaf\.crt: OK$/);
    const expected = expectedFields(servingCertificateRequest(sampleGateway(), due), leaf, { commonName: 'airlock-gateway-ca.airlock-system', certPem: LEGACY_CA });
    expect(opensslFields(leaf)).toEqual(expected);
    expect(libraryFields(leaf)).toEqual(expected);
  });

  it('renews the old CA with its subject, byte for byte, and the old CA and its certificates stay trusted', async () => {
    const { deps, objects } = upgraded();
    // The serving certificate from the old CA, kept fresh right up to the CA's renewal, as requeues would.
    const fresh = await issueCertificate(servingCertificateRequest(sampleGateway(), new Date(legacyCaDue.getTime() - day)), { certPem: LEGACY_CA, keyPem: legacy('ca.key') });
    objects.set('airlock-system/ci-gateway-tls', secret('ci-gateway-tls', fresh.certPem, fresh.keyPem));
    expect((await ensureServingTls(sampleGateway(), deps, legacyCaDue)).issued).toEqual({ ca: 'Expiring' });
    const caSecret = objects.get('airlock-system/airlock-gateway-ca');
    const renewed = pem(caSecret, 'tls.crt');
    expect(renewed).not.toBe(LEGACY_CA);
    const subjectDer = (certPem: string): string => Buffer.from(new LibraryCertificate(certPem).subjectName.toArrayBuffer()).toString('hex');
    expect(subjectDer(renewed)).toBe(subjectDer(LEGACY_CA));
    expect(opensslFields(renewed)).toEqual(expectedFields(caCertificateRequest('airlock-system', legacyCaDue), renewed, { commonName: 'airlock-gateway-ca.airlock-system', certPem: renewed }));
    const bundle = pem(caSecret, 'ca.crt');
    expect(splitPemBundle(bundle).map((c) => c.trim())).toEqual([renewed.trim(), LEGACY_CA.trim()]);
    expect(pem(objects.get('airlock-system/ci-gateway-tls'), 'ca.crt')).toBe(bundle);
    expect(pem(objects.get('airlock-system/ci-gateway-tls'), 'tls.crt')).toBe(fresh.certPem);
    expect(opensslVerify(fresh.certPem, bundle, legacyCaDue)).toMatch(/leaf\.crt: OK$/);
    // At its own renewal the serving certificate moves to the renewed CA, and chains to the same bundle.
    const servingDue = new Date(legacyCaDue.getTime() + 60 * day);
    expect((await ensureServingTls(sampleGateway(), deps, servingDue)).issued).toEqual({ serving: 'Expiring' });
    const moved = pem(objects.get('airlock-system/ci-gateway-tls'), 'tls.crt');
    expect(new X509Certificate(moved).checkIssued(new X509Certificate(renewed))).toBe(true);
    expect(opensslVerify(moved, bundle, servingDue)).toMatch(/leaf\.crt: OK$/);
  });
});
