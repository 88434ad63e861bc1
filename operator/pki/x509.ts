// Issues X.509 v3 certificates (RFC 5280) for the operator's CAs and gateways: ECDSA P-256 keys,
// SHA-256 signatures, the extensions a CA and a TLS server certificate need. The ASN.1 encoding is
// @peculiar/x509's (docs/adr/0007-x509-with-peculiar-x509.md); this module only says what goes in
// a certificate. Tests check every certificate with node's parser, openssl and a TLS handshake.
//
// reflect-metadata first: @peculiar/x509 registers its algorithms in a tsyringe container, which
// needs the Reflect metadata API when the library loads (ES modules evaluate imports in order).
import 'reflect-metadata';
import {
  AuthorityKeyIdentifierExtension, BasicConstraintsExtension, ExtendedKeyUsage, ExtendedKeyUsageExtension, KeyUsageFlags, KeyUsagesExtension,
  Name, SubjectAlternativeNameExtension, SubjectKeyIdentifierExtension, X509Certificate, X509CertificateGenerator, type Extension,
} from '@peculiar/x509';
import { createPrivateKey, KeyObject, randomBytes, webcrypto } from 'node:crypto';
import type { CertificateRequest } from '../resources/gateway-tls.ts';

export interface IssuedPem {
  readonly certPem: string;
  readonly keyPem: string;
}

/** The certificate that signs: its PEM certificate and PKCS#8 key. */
export type Issuer = IssuedPem;

const KEY_USAGE_FLAGS = {
  digitalSignature: KeyUsageFlags.digitalSignature,
  keyCertSign: KeyUsageFlags.keyCertSign,
  cRLSign: KeyUsageFlags.cRLSign,
} as const;

const EXTENDED_KEY_USAGES = { serverAuth: ExtendedKeyUsage.serverAuth } as const;

const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** The CN as a UTF8String, the encoding the operator always used, so a renewed CA's subject is the old one byte for byte. */
function nameOf(commonName: string): Name {
  return new Name([{ CN: [{ utf8String: commonName }] }]);
}

/** 127 random bits, positive and without a leading zero byte, as hex. */
function serialNumber(): string {
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f | 0x01;
  return serial.toString('hex');
}

interface SigningParty {
  /** The issuer's subject, as its certificate encodes it (an issued certificate's issuer must match it). */
  readonly name: Name;
  readonly key: webcrypto.CryptoKey;
  /** RFC 5280 4.2.1.1: the issuer's subject key identifier, else one derived from its key. */
  readonly keyId: AuthorityKeyIdentifierExtension;
}

async function signingParty(issuer: Issuer, algorithm: webcrypto.EcKeyImportParams): Promise<SigningParty> {
  const cert = new X509Certificate(issuer.certPem);
  const key = createPrivateKey(issuer.keyPem).toCryptoKey(algorithm, false, ['sign']);
  const ski = cert.getExtension(SubjectKeyIdentifierExtension);
  const keyId = ski === null ? await AuthorityKeyIdentifierExtension.create(cert.publicKey) : new AuthorityKeyIdentifierExtension(ski.keyId);
  return { name: cert.subjectName, key, keyId };
}

async function extensions(request: CertificateRequest, subjectKey: webcrypto.CryptoKey, authorityKeyId: AuthorityKeyIdentifierExtension): Promise<Extension[]> {
  const usages = request.keyUsages.reduce((flags, usage) => flags | KEY_USAGE_FLAGS[usage], 0);
  const list: Extension[] = [
    new BasicConstraintsExtension(request.isCA, request.isCA ? 0 : undefined, true),
    // KeyUsageFlags is a bit set: the OR of its members is the value it takes, though no member names it.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
    new KeyUsagesExtension(usages, true),
    await SubjectKeyIdentifierExtension.create(subjectKey),
    authorityKeyId,
  ];
  if (request.extendedKeyUsages.length > 0) {
    list.push(new ExtendedKeyUsageExtension(request.extendedKeyUsages.map((usage) => EXTENDED_KEY_USAGES[usage])));
  }
  if (request.dnsNames.length > 0) {
    list.push(new SubjectAlternativeNameExtension(request.dnsNames.map((value) => ({ type: 'dns' as const, value }))));
  }
  return list;
}

/**
 * A new key pair and a certificate for it: self-signed when no issuer is given (a CA), otherwise
 * signed by the issuer, with the issuer's subject as its issuer.
 */
export async function issueCertificate(request: CertificateRequest, issuer?: Issuer): Promise<IssuedPem> {
  const algorithm = { name: request.keyAlgorithm.name, namedCurve: request.keyAlgorithm.namedCurve };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const subject = nameOf(request.commonName);
  const signer: SigningParty = issuer === undefined
    ? { name: subject, key: keys.privateKey, keyId: await AuthorityKeyIdentifierExtension.create(keys.publicKey) }
    : await signingParty(issuer, algorithm);
  const cert = await X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject,
    issuer: signer.name,
    // RFC 5280 4.1.2.5: the library writes UTCTime through 2049, GeneralizedTime after, whole seconds.
    notBefore: request.notBefore,
    notAfter: request.notAfter,
    publicKey: keys.publicKey,
    signingKey: signer.key,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: await extensions(request, keys.publicKey, signer.keyId),
  });
  return { certPem: cert.toString('pem'), keyPem: String(KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' })) };
}
