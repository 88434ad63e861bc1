import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer as createTlsServer } from 'node:tls';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { caCertificateRequest, servingCertificateRequest, servingRenewalReason, servingDnsNames } from '../resources/gateway-tls.ts';
import { sampleGateway } from '../resources/testdata/gateway.ts';
import { expectedFields, libraryFields, opensslFields, opensslText } from './testdata/certificate-fields.ts';
import { issueCertificate, type IssuedPem } from './x509.ts';

const now = new Date('2026-11-26T12:00:00.500Z');
const ca = await issueCertificate(caCertificateRequest('airlock-system', now));
const otherCa = await issueCertificate(caCertificateRequest('elsewhere', now));
const serving = await issueCertificate(servingCertificateRequest(sampleGateway(), now), ca);

describe('issueCertificate', () => {
  it('makes a self-signed CA that node parses and verifies', () => {
    const cert = new X509Certificate(ca.certPem);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe('CN=airlock-gateway-ca.airlock-system');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.validFromDate.toISOString()).toBe('2026-11-26T11:55:00.000Z');
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(cert.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/);
  });

  it('makes a serving certificate signed by the CA, for the Service names, for serverAuth only', () => {
    const cert = new X509Certificate(serving.certPem);
    expect(cert.ca).toBe(false);
    expect(cert.issuer).toBe('CN=airlock-gateway-ca.airlock-system');
    expect(cert.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(cert.verify(new X509Certificate(otherCa.certPem).publicKey)).toBe(false);
    expect(cert.subjectAltName).toBe(servingDnsNames(sampleGateway()).map((name) => `DNS:${name}`).join(', '));
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert.checkPrivateKey(createPrivateKey(serving.keyPem))).toBe(true);
    expect(servingRenewalReason({ certPem: serving.certPem, caPem: ca.certPem }, servingDnsNames(sampleGateway()), now)).toBeUndefined();
  });

  it('gives each certificate its own key and serial', async () => {
    const again = await issueCertificate(servingCertificateRequest(sampleGateway(), now), ca);
    expect(again.keyPem).not.toBe(serving.keyPem);
    expect(new X509Certificate(again.certPem).serialNumber).not.toBe(new X509Certificate(serving.certPem).serialNumber);
  });

  it('passes openssl verify for the sslserver purpose, with the chain and the extensions openssl expects', () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-x509-'));
    writeFileSync(join(dir, 'ca.crt'), ca.certPem);
    writeFileSync(join(dir, 'tls.crt'), serving.certPem);
    const out = execFileSync('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', join(dir, 'ca.crt'), join(dir, 'tls.crt')], { encoding: 'utf8' });
    expect(out.trim()).toBe(`${join(dir, 'tls.crt')}: OK`);
    const text = execFileSync('openssl', ['x509', '-noout', '-text', '-in', join(dir, 'ca.crt')], { encoding: 'utf8' });
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
  });
});

describe('every issued certificate, read back by openssl and by the library', () => {
  const caRequest = caCertificateRequest('airlock-system', now);
  const servingRequest = servingCertificateRequest(sampleGateway(), now);
  const caName = { commonName: caRequest.commonName, certPem: ca.certPem };

  it.each([
    ['the CA', caRequest, () => ca, caName],
    ['another namespace\'s CA', caCertificateRequest('elsewhere', now), () => otherCa, { commonName: 'airlock-gateway-ca.elsewhere', certPem: otherCa.certPem }],
    ['the serving certificate', servingRequest, () => serving, caName],
  ])('%s carries the names, serial, validity and extensions it was issued with', (_what, request, issued, issuer) => {
    const expected = expectedFields(request, issued().certPem, issuer);
    expect(opensslFields(issued().certPem)).toEqual(expected);
    expect(libraryFields(issued().certPem)).toEqual(expected);
    expect(opensslText(issued().certPem)).toMatch(/Version: 3 \(0x2\)/);
  });

  it('writes a time from 2050 on as GeneralizedTime, to the second', async () => {
    const late = new Date('2049-12-31T23:59:59.900Z');
    const request = { ...caCertificateRequest('airlock-system', late), notAfter: new Date('2050-01-01T00:00:01.999Z') };
    const cert = await issueCertificate(request);
    expect(opensslFields(cert.certPem)).toEqual(expectedFields(request, cert.certPem, { commonName: request.commonName, certPem: cert.certPem }));
    const times = execFileSync('openssl', ['asn1parse'], { input: cert.certPem, encoding: 'utf8' }).match(/(UTCTIME|GENERALIZEDTIME) *:\S+/g);
    expect(times).toEqual(['UTCTIME           :491231235459Z', 'GENERALIZEDTIME   :20500101000001Z']);
  });
});

async function handshake(server: IssuedPem, trust: string, servername: string): Promise<string> {
  const tlsServer = createTlsServer({ cert: server.certPem, key: server.keyPem }, (socket) => socket.end('hello'));
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  const { port } = tlsServer.address() as AddressInfo;
  try {
    return await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, ca: trust, servername }, () => {
        socket.once('data', (data: Buffer) => { resolve(data.toString()); socket.end(); });
      });
      socket.once('error', reject);
    });
  } finally {
    tlsServer.close();
  }
}

describe('a TLS handshake with an issued certificate', () => {
  it('succeeds for a client that trusts the CA and asks for a Service name', async () => {
    await expect(handshake(serving, ca.certPem, 'ci-gateway.airlock-system.svc')).resolves.toBe('hello');
  });

  it('fails for a name the certificate does not carry', async () => {
    await expect(handshake(serving, ca.certPem, 'ci-gateway.other.svc')).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  it('fails for a client that trusts another CA', async () => {
    await expect(handshake(serving, otherCa.certPem, 'ci-gateway.airlock-system.svc')).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });
});
