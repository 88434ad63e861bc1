// Raw HTTPS requests to the API server as the test run's admin (the kubeconfig's client certificate
// or token), for what kubectl does not show: a chosen Accept or Content-Type, the exact bytes.
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { parse } from 'yaml';
import { testCluster } from './kubectl.ts';

export interface RawResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

interface Admin { server: URL; ca?: Buffer; cert?: Buffer; key?: Buffer; token?: string }

let admin: Promise<Admin> | undefined;

async function loadAdmin(): Promise<Admin> {
  const config = parse(await readFile(testCluster().kubeconfig, 'utf8')) as {
    clusters: { cluster: { server: string; 'certificate-authority-data'?: string } }[];
    users: { user: { 'client-certificate-data'?: string; 'client-key-data'?: string; token?: string } }[];
  };
  const cluster = config.clusters[0]?.cluster;
  const user = config.users[0]?.user ?? {};
  if (cluster === undefined) throw new Error('the test kubeconfig has no cluster');
  const b64 = (s: string | undefined): Buffer | undefined => (s === undefined ? undefined : Buffer.from(s, 'base64'));
  const ca = b64(cluster['certificate-authority-data']);
  const cert = b64(user['client-certificate-data']);
  const key = b64(user['client-key-data']);
  return { server: new URL(cluster.server), ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }), ...(user.token === undefined ? {} : { token: user.token }) };
}

/** One request as admin; resolves with whatever the API server answered. */
export async function apiServerRequest(method: string, path: string, options: { headers?: Record<string, string>; body?: Buffer } = {}): Promise<RawResponse> {
  admin ??= loadAdmin();
  const a = await admin;
  const headers = { ...options.headers, ...(a.token === undefined ? {} : { authorization: `Bearer ${a.token}` }) };
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, a.server), { method, ca: a.ca, cert: a.cert, key: a.key, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', body: Buffer.concat(chunks) }); });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
