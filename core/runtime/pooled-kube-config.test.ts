import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePki, issueServingCertificate } from '../../hack/controlplane/pki.ts';
import { PooledKubeConfig } from './pooled-kube-config.ts';

let server: Server;
let url = '';
let ca = '';
let handshakes = 0;
let pkiDir = '';
const tokens: string[] = [];

beforeAll(async () => {
  pkiDir = await mkdtemp(join(tmpdir(), 'airlock-pooled-kc-'));
  const pki = await ensurePki({ dir: pkiDir, servingIps: [] });
  const serving = await issueServingCertificate(pki, 'localhost', { dns: ['localhost'] });
  ca = await readFile(pki.caCert, 'utf8');
  const cert = { certPem: await readFile(serving.cert, 'utf8'), keyPem: await readFile(serving.key, 'utf8') };
  server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    tokens.push(req.headers.authorization ?? '');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default' } }));
  });
  server.on('secureConnection', () => { handshakes += 1; });
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve); });
  url = `https://localhost:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(pkiDir, { recursive: true, force: true });
});

function load(kc: KubeConfig): KubeConfig {
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: url, caData: Buffer.from(ca).toString('base64') }],
    users: [{ name: 'one', token: 'token-one' }, { name: 'two', token: 'token-two' }],
    contexts: [{ name: 'one', cluster: 'c', user: 'one' }, { name: 'two', cluster: 'c', user: 'two' }],
    currentContext: 'one',
  });
  return kc;
}

async function calls(kc: KubeConfig, n: number): Promise<number> {
  const before = handshakes;
  const api = kc.makeApiClient(CoreV1Api);
  for (let i = 0; i < n; i++) await api.readNamespacedConfigMap({ name: 'x', namespace: 'default' });
  return handshakes - before;
}

describe('PooledKubeConfig', () => {
  // undici may open a second connection while the first one's answer is being released to the pool.
  it('sends 20 API calls over a pool of one or two connections (client-node opens a TLS connection per call)', async () => {
    expect(await calls(load(new KubeConfig()), 20)).toBe(20);
    expect(await calls(load(new PooledKubeConfig()), 20)).toBeLessThanOrEqual(2);
  });

  it('sends each request with the credentials in force then: tokens travel in headers, not in the pooled connection', async () => {
    const kc = load(new PooledKubeConfig());
    const opened = await calls(kc, 1);
    kc.setCurrentContext('two');
    expect(opened + await calls(kc, 1)).toBeLessThanOrEqual(2);
    expect(tokens.slice(-2)).toEqual(['Bearer token-one', 'Bearer token-two']);
  });
});
