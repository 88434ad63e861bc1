// Issues X.509 v3 certificates (RFC 5280) with node:crypto alone: ECDSA P-256 keys, SHA-256
// signatures, the extensions a CA and a TLS server certificate need. Node can parse and verify
// certificates but not create them; the encoding here is small and fixed, so the operator carries
// no X.509 library. Tests check every certificate with node's own parser and a real TLS handshake.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import type { CertificateRequest } from '../resources/gateway-tls.ts';
import {
  bitString, boolean, children, explicit, implicit, namedBits, octetString, oid, readElement, sequence, set, smallInteger,
  time, unsignedInteger, utf8String,
} from './der.ts';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** RFC 5280 4.2.1.3 bit numbers. */
const KEY_USAGE_BITS = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

export interface IssuedPem {
  readonly certPem: string;
  readonly keyPem: string;
}

/** The certificate that signs: its PEM certificate and PKCS#8 key. */
export type Issuer = IssuedPem;

const SIGNATURE_ALGORITHM = sequence(oid(OID.ecdsaWithSha256));

function nameOf(commonName: string): Buffer {
  return sequence(set(sequence(oid(OID.commonName), utf8String(commonName))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = readElement(publicKey.export({ type: 'spki', format: 'der' }));
  const keyBits = children(spki)[1];
  if (keyBits === undefined) throw new TypeError('SubjectPublicKeyInfo has no key');
  return createHash('sha1').update(keyBits.content.subarray(1)).digest();
}

/** The subject Name of a certificate, as encoded (an issued certificate's issuer must match it byte for byte). */
function subjectName(certDer: Buffer): Buffer {
  const [tbs] = children(readElement(certDer));
  if (tbs === undefined) throw new TypeError('certificate has no TBSCertificate');
  const fields = children(tbs);
  // version [0] is present in every v3 certificate: version, serial, signature, issuer, validity, subject.
  const subject = fields[(fields[0]?.tag === 0xa0 ? 5 : 4)];
  if (subject === undefined) throw new TypeError('certificate has no subject');
  return subject.encoded;
}

function extensions(request: CertificateRequest, subjectKey: KeyObject, issuerKey: KeyObject): Buffer {
  const list = [
    extension(OID.basicConstraints, true, request.isCA ? sequence(boolean(true), smallInteger(0)) : sequence()),
    extension(OID.keyUsage, true, namedBits(request.keyUsages.map((usage) => KEY_USAGE_BITS[usage]))),
    extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(subjectKey))),
    extension(OID.authorityKeyIdentifier, false, sequence(implicit(0, keyIdentifier(issuerKey)))),
  ];
  if (request.extendedKeyUsages.length > 0) {
    list.push(extension(OID.extKeyUsage, false, sequence(...request.extendedKeyUsages.map(() => oid(OID.serverAuth)))));
  }
  if (request.dnsNames.length > 0) {
    list.push(extension(OID.subjectAltName, false, sequence(...request.dnsNames.map((name) => implicit(2, Buffer.from(name, 'ascii'))))));
  }
  return explicit(3, sequence(...list));
}

function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * A new key pair and a certificate for it: self-signed when no issuer is given (a CA), otherwise
 * signed by the issuer. The serial is 127 random bits.
 */
export function issueCertificate(request: CertificateRequest, issuer?: Issuer): IssuedPem {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: request.keyAlgorithm.namedCurve });
  const issuerCert = issuer === undefined ? undefined : new X509Certificate(issuer.certPem);
  const signingKey = issuer === undefined ? privateKey : createPrivateKey(issuer.keyPem);
  const issuerPublic = issuer === undefined ? publicKey : createPublicKey(signingKey);
  const subject = nameOf(request.commonName);
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f | 0x01; // positive, and never a leading zero byte to trim
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    unsignedInteger(serial),
    SIGNATURE_ALGORITHM,
    issuerCert === undefined ? subject : subjectName(issuerCert.raw),
    sequence(time(request.notBefore), time(request.notAfter)),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    extensions(request, publicKey, issuerPublic),
  );
  const signature = sign('sha256', tbs, signingKey); // ECDSA: DER-encoded (r, s)
  const certificate = sequence(tbs, SIGNATURE_ALGORITHM, bitString(signature));
  return { certPem: toPem('CERTIFICATE', certificate), keyPem: String(privateKey.export({ type: 'pkcs8', format: 'pem' })) };
}
