// Certificates and keys for the local control plane, made with the machine's openssl: a CA, the
// API server's serving certificate, client certificates (admin is O=system:masters) and the
// ServiceAccount signing key pair. Nothing here is used outside local development and tests.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
}

export interface ClientCertificate {
  readonly cert: string;
  readonly key: string;
}

export function pkiPaths(dir: string): Pki {
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    servingCert: join(dir, 'apiserver.crt'),
    servingKey: join(dir, 'apiserver.key'),
    serviceAccountKey: join(dir, 'sa.key'),
    serviceAccountPub: join(dir, 'sa.pub'),
  };
}

async function openssl(args: readonly string[]): Promise<void> {
  await run('openssl', args, { maxBuffer: 1024 * 1024 });
}

async function newEcKey(path: string): Promise<void> {
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', path]);
}

interface SignRequest {
  readonly pki: Pki;
  readonly subject: string;
  readonly extensions: string;
  readonly out: ClientCertificate;
}

/** Signs a new EC key's certificate with the local CA; `extensions` is an openssl v3 section. */
async function signWithCa(request: SignRequest): Promise<void> {
  const { pki, subject, extensions, out } = request;
  const csr = `${out.cert}.csr`;
  const ext = `${out.cert}.ext`;
  await newEcKey(out.key);
  await openssl(['req', '-new', '-key', out.key, '-subj', subject, '-out', csr]);
  await writeFile(ext, extensions);
  await openssl([
    'x509', '-req', '-in', csr, '-CA', pki.caCert, '-CAkey', pki.caKey, '-CAcreateserial',
    '-days', '365', '-sha256', '-extfile', ext, '-out', out.cert,
  ]);
  await rm(csr);
  await rm(ext);
}

/** Subject names are passed to openssl as /K=V pairs: refuse characters that would change them. */
function subjectPart(value: string): string {
  if (!/^[A-Za-z0-9:._@-]+$/.test(value)) {
    throw new TypeError(`unsupported character in certificate subject part "${value}"`);
  }
  return value;
}

export async function issueClientCertificate(
  pki: Pki,
  user: string,
  groups: readonly string[] = [],
): Promise<ClientCertificate> {
  const base = join(pki.dir, `user-${subjectPart(user).replace(/[:@]/g, '_')}`);
  const out = { cert: `${base}.crt`, key: `${base}.key` };
  const subject = `/CN=${subjectPart(user)}${groups.map((g) => `/O=${subjectPart(g)}`).join('')}`;
  await signWithCa({
    pki,
    subject,
    out,
    extensions: 'keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nbasicConstraints=critical,CA:FALSE\n',
  });
  return out;
}

/** A serving certificate signed by the local CA, e.g. for a gateway run by tests or the demo. */
export async function issueServingCertificate(
  pki: Pki,
  name: string,
  sans: { dns?: readonly string[]; ips?: readonly string[] },
): Promise<ClientCertificate> {
  const base = join(pki.dir, `serving-${subjectPart(name)}`);
  const out = { cert: `${base}.crt`, key: `${base}.key` };
  const san = [...(sans.dns ?? []).map((d) => `DNS:${subjectPart(d)}`), ...(sans.ips ?? []).map((i) => `IP:${subjectPart(i)}`)].join(',');
  await signWithCa({
    pki,
    subject: `/CN=${subjectPart(name)}`,
    out,
    extensions: `keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\nsubjectAltName=${san}\n`,
  });
  return out;
}

export interface PkiOptions {
  readonly dir: string;
  /** Extra IP SANs for the serving certificate (the advertise address). */
  readonly servingIps: readonly string[];
}

/** Creates the CA, serving certificate and ServiceAccount keys once; later calls reuse them. */
export async function ensurePki(options: PkiOptions): Promise<Pki> {
  const pki = pkiPaths(options.dir);
  await mkdir(pki.dir, { recursive: true, mode: 0o700 });
  if (!existsSync(pki.caCert)) {
    await newEcKey(pki.caKey);
    await openssl([
      'req', '-x509', '-new', '-key', pki.caKey, '-subj', '/CN=airlock-local-ca', '-days', '3650',
      '-sha256', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-out', pki.caCert,
    ]);
  }
  if (!existsSync(pki.servingCert)) {
    const dns = ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
    const ips = ['127.0.0.1', '10.96.0.1', ...options.servingIps];
    const san = [...dns.map((d) => `DNS:${d}`), ...ips.map((i) => `IP:${i}`)].join(',');
    await signWithCa({
      pki,
      subject: '/CN=kube-apiserver',
      out: { cert: pki.servingCert, key: pki.servingKey },
      extensions: `keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\nsubjectAltName=${san}\n`,
    });
  }
  if (!existsSync(pki.serviceAccountKey)) {
    await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', pki.serviceAccountKey]);
    await openssl(['pkey', '-in', pki.serviceAccountKey, '-pubout', '-out', pki.serviceAccountPub]);
  }
  return pki;
}
