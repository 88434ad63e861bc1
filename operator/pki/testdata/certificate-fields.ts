// Test helper: the fields of a certificate as three independent readers see them, in one shape, so
// a test can compare each against what the request asked for: openssl's text dump, @peculiar/x509's
// parser, and the expectation computed from the request and the key (node:crypto, no ASN.1).
import 'reflect-metadata';
import {
  AuthorityKeyIdentifierExtension, BasicConstraintsExtension, ExtendedKeyUsageExtension, KeyUsageFlags, KeyUsagesExtension,
  SubjectAlternativeNameExtension, SubjectKeyIdentifierExtension, X509Certificate as LibraryCertificate,
} from '@peculiar/x509';
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import type { CertificateRequest } from '../../resources/gateway-tls.ts';

export interface CertificateFields {
  readonly subject: string;
  readonly issuer: string;
  /** Upper-case hex, no separators. */
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly signatureAlgorithm: string;
  readonly curve: string;
  readonly basicConstraints: { readonly critical: boolean; readonly ca: boolean; readonly pathLength?: number };
  readonly keyUsage: { readonly critical: boolean; readonly usages: readonly string[] };
  readonly extKeyUsage?: { readonly critical: boolean; readonly usages: readonly string[] };
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  /** Upper-case hex, no separators. */
  readonly subjectKeyId: string;
  readonly authorityKeyId: string;
  /** Extension OIDs in the order the certificate lists them. */
  readonly extensionOrder: readonly string[];
}

const hex = (text: string): string => text.replace(/[:\s]/g, '').toUpperCase();
const sorted = (list: readonly string[]): string[] => [...list].sort();

const OPENSSL_KEY_USAGES: Record<string, string> = { 'Digital Signature': 'digitalSignature', 'Certificate Sign': 'keyCertSign', 'CRL Sign': 'cRLSign' };
const OPENSSL_EXT_KEY_USAGES: Record<string, string> = { 'TLS Web Server Authentication': 'serverAuth' };
const OPENSSL_EXTENSIONS: Record<string, string> = {
  'Basic Constraints': '2.5.29.19', 'Key Usage': '2.5.29.15', 'Subject Key Identifier': '2.5.29.14',
  'Authority Key Identifier': '2.5.29.35', 'Extended Key Usage': '2.5.29.37', 'Subject Alternative Name': '2.5.29.17',
};

function must(match: RegExpMatchArray | null, what: string): string {
  const value = match?.[1];
  if (value === undefined) throw new Error(`openssl's dump has no ${what}`);
  return value.trim();
}

/** `X509v3 <name>: [critical]` headers and the value lines under each, in order. */
function opensslExtensions(text: string): Map<string, { critical: boolean; value: string }> {
  const found = new Map<string, { critical: boolean; value: string }>();
  const section = text.split(/X509v3 extensions:\n/)[1]?.split(/\n {4}Signature Algorithm:/)[0] ?? '';
  for (const block of section.split(/\n(?= {12}X509v3 )/)) {
    const header = /^ {12}X509v3 ([^:]+):( critical)?\s*\n([\s\S]*)$/.exec(block);
    if (header?.[1] === undefined) throw new Error(`unexpected extension text: ${block}`);
    found.set(header[1], { critical: header[2] !== undefined, value: (header[3] ?? '').trim() });
  }
  return found;
}

function opensslUsages(value: string | undefined, names: Record<string, string>): string[] {
  return (value ?? '').split(', ').filter((name) => name !== '').map((name) => names[name] ?? `unknown:${name}`);
}

type ExtensionFields = Pick<CertificateFields, 'basicConstraints' | 'keyUsage' | 'extKeyUsage' | 'dnsNames' | 'ipAddresses' | 'subjectKeyId' | 'authorityKeyId' | 'extensionOrder'>;

function opensslExtensionFields(text: string): ExtensionFields {
  const ext = opensslExtensions(text);
  const basic = ext.get('Basic Constraints') ?? { critical: false, value: '' };
  const pathLength = /pathlen:(\d+)/.exec(basic.value)?.[1];
  const keyUsage = ext.get('Key Usage') ?? { critical: false, value: '' };
  const extKeyUsage = ext.get('Extended Key Usage');
  const san = (ext.get('Subject Alternative Name')?.value ?? '').split(', ').filter((entry) => entry !== '');
  return {
    basicConstraints: { critical: basic.critical, ca: basic.value.startsWith('CA:TRUE'), ...(pathLength === undefined ? {} : { pathLength: Number(pathLength) }) },
    keyUsage: { critical: keyUsage.critical, usages: sorted(opensslUsages(keyUsage.value, OPENSSL_KEY_USAGES)) },
    ...(extKeyUsage === undefined ? {} : { extKeyUsage: { critical: extKeyUsage.critical, usages: sorted(opensslUsages(extKeyUsage.value, OPENSSL_EXT_KEY_USAGES)) } }),
    dnsNames: sorted(san.filter((entry) => entry.startsWith('DNS:')).map((entry) => entry.slice(4))),
    ipAddresses: sorted(san.filter((entry) => entry.startsWith('IP Address:')).map((entry) => entry.slice(11))),
    subjectKeyId: hex(ext.get('Subject Key Identifier')?.value ?? ''),
    authorityKeyId: hex((ext.get('Authority Key Identifier')?.value ?? '').replace(/^keyid:/, '')),
    extensionOrder: [...ext.keys()].map((name) => OPENSSL_EXTENSIONS[name] ?? `unknown:${name}`),
  };
}

export const opensslText = (pem: string): string => execFileSync('openssl', ['x509', '-text', '-noout'], { input: pem, encoding: 'utf8' });

/** The fields as `openssl x509 -text -noout` prints them. */
export function opensslFields(pem: string): CertificateFields {
  const text = opensslText(pem);
  return {
    subject: must(/Subject: (.*)/.exec(text), 'subject').replace(/ = /g, '='),
    issuer: must(/Issuer: (.*)/.exec(text), 'issuer').replace(/ = /g, '='),
    serial: hex(must(/Serial Number:\s*\n\s*([0-9a-f:]+)\n/.exec(text), 'serial in colon form')),
    notBefore: new Date(must(/Not Before: (.*)/.exec(text), 'notBefore')).toISOString(),
    notAfter: new Date(must(/Not After : (.*)/.exec(text), 'notAfter')).toISOString(),
    signatureAlgorithm: must(/Signature Algorithm: (.*)/.exec(text), 'signature algorithm'),
    curve: must(/NIST CURVE: (.*)/.exec(text), 'curve'),
    ...opensslExtensionFields(text),
  };
}

const LIBRARY_KEY_USAGES: readonly [number, string][] = [
  [KeyUsageFlags.digitalSignature, 'digitalSignature'], [KeyUsageFlags.keyCertSign, 'keyCertSign'], [KeyUsageFlags.cRLSign, 'cRLSign'],
  [KeyUsageFlags.nonRepudiation, 'nonRepudiation'], [KeyUsageFlags.keyEncipherment, 'keyEncipherment'], [KeyUsageFlags.dataEncipherment, 'dataEncipherment'],
  [KeyUsageFlags.keyAgreement, 'keyAgreement'], [KeyUsageFlags.encipherOnly, 'encipherOnly'], [KeyUsageFlags.decipherOnly, 'decipherOnly'],
];
const LIBRARY_EXT_KEY_USAGES: Record<string, string> = { '1.3.6.1.5.5.7.3.1': 'serverAuth' };

function libraryBasicConstraints(cert: LibraryCertificate): CertificateFields['basicConstraints'] {
  const basic = cert.getExtension(BasicConstraintsExtension);
  if (basic === null) return { critical: false, ca: false };
  return { critical: basic.critical, ca: basic.ca, ...(basic.pathLength === undefined ? {} : { pathLength: basic.pathLength }) };
}

function libraryKeyUsage(cert: LibraryCertificate): CertificateFields['keyUsage'] {
  const keyUsage = cert.getExtension(KeyUsagesExtension);
  const bits = keyUsage?.usages ?? 0;
  return { critical: keyUsage?.critical ?? false, usages: sorted(LIBRARY_KEY_USAGES.filter(([flag]) => (bits & flag) !== 0).map(([, name]) => name)) };
}

function libraryExtensionFields(cert: LibraryCertificate): ExtensionFields {
  const extKeyUsage = cert.getExtension(ExtendedKeyUsageExtension);
  const names = cert.getExtension(SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
  return {
    basicConstraints: libraryBasicConstraints(cert),
    keyUsage: libraryKeyUsage(cert),
    ...(extKeyUsage === null ? {} : { extKeyUsage: { critical: extKeyUsage.critical, usages: sorted(extKeyUsage.usages.map((oid) => LIBRARY_EXT_KEY_USAGES[String(oid)] ?? `unknown:${String(oid)}`)) } }),
    dnsNames: sorted(names.filter((name) => name.type === 'dns').map((name) => name.value)),
    ipAddresses: sorted(names.filter((name) => name.type === 'ip').map((name) => name.value)),
    subjectKeyId: hex(cert.getExtension(SubjectKeyIdentifierExtension)?.keyId ?? ''),
    authorityKeyId: hex(cert.getExtension(AuthorityKeyIdentifierExtension)?.keyId ?? ''),
    extensionOrder: cert.extensions.map((extension) => extension.type),
  };
}

/** The fields as @peculiar/x509 parses them. */
export function libraryFields(pem: string): CertificateFields {
  const cert = new LibraryCertificate(pem);
  const algorithm = cert.signatureAlgorithm as { name?: string; hash?: { name?: string } };
  const { namedCurve } = cert.publicKey.algorithm as { namedCurve?: string };
  const ecdsaSha256 = algorithm.name === 'ECDSA' && algorithm.hash?.name === 'SHA-256';
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    serial: hex(cert.serialNumber),
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    signatureAlgorithm: ecdsaSha256 ? 'ecdsa-with-SHA256' : JSON.stringify(algorithm),
    curve: namedCurve ?? 'none',
    ...libraryExtensionFields(cert),
  };
}

/** RFC 5280 4.2.1.2 method 1 from the key's coordinates (JWK), with no ASN.1 involved. */
export function keyIdentifier(certPem: string): string {
  const jwk = new X509Certificate(certPem).publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
  return createHash('sha1').update(point).digest('hex').toUpperCase();
}

/**
 * What a certificate issued for `request` must say: the request's names, usages and validity (to
 * the second), the issuer's CN and key identifier, and node's reading of the serial.
 */
export function expectedFields(request: CertificateRequest, certPem: string, issuer: { readonly commonName: string; readonly certPem: string }): CertificateFields {
  const seconds = (date: Date): string => new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString();
  return {
    subject: `CN=${request.commonName}`,
    issuer: `CN=${issuer.commonName}`,
    serial: new X509Certificate(certPem).serialNumber.toUpperCase(),
    notBefore: seconds(request.notBefore),
    notAfter: seconds(request.notAfter),
    signatureAlgorithm: 'ecdsa-with-SHA256',
    curve: 'P-256',
    basicConstraints: { critical: true, ca: request.isCA, ...(request.isCA ? { pathLength: 0 } : {}) },
    keyUsage: { critical: true, usages: sorted(request.keyUsages) },
    ...(request.extendedKeyUsages.length === 0 ? {} : { extKeyUsage: { critical: false, usages: sorted(request.extendedKeyUsages) } }),
    dnsNames: sorted(request.dnsNames),
    ipAddresses: [],
    subjectKeyId: keyIdentifier(certPem),
    authorityKeyId: keyIdentifier(issuer.certPem),
    extensionOrder: ['2.5.29.19', '2.5.29.15', '2.5.29.14', '2.5.29.35', ...(request.extendedKeyUsages.length === 0 ? [] : ['2.5.29.37']), ...(request.dnsNames.length === 0 ? [] : ['2.5.29.17'])],
  };
}
