// The audit trail leaves the gateway: a real HTTP receiver on loopback gets every record, in order,
// as a hash chain with signed checkpoints that verifies on its own; while the receiver is down the
// gateway refuses requests (FailClosed) and nothing is forwarded unaudited.
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, kubectlOk } from './support/kubectl.ts';
import { CI_CLIENT, startTestGateway, type TestGateway } from './support/gateway.ts';

interface Receiver {
  readonly url: string;
  /** Entries received in accepted POSTs, in order, as the JSON text the gateway sent. */
  readonly entries: string[];
  /** When false, every POST is answered 503. */
  up: boolean;
  readonly server: Server;
}

async function startReceiver(): Promise<Receiver> {
  const receiver = { entries: [] as string[], up: true, url: '', server: undefined as unknown as Server };
  receiver.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!receiver.up) { res.writeHead(503).end(); return; }
      const batch = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown[];
      receiver.entries.push(...batch.map((e) => JSON.stringify(e)));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/audit`;
  return receiver;
}

const NS = `e2e-webhook-${randomBytes(3).toString('hex')}`;
let receiver: Receiver;
let gw: TestGateway;
let kubeconfig: string;
let dir: string;
let publicKeyFile: string;

beforeAll(async () => {
  receiver = await startReceiver();
  dir = await mkdtemp(join(tmpdir(), 'airlock-webhook-e2e-'));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const keyFile = join(dir, 'checkpoint.key');
  publicKeyFile = join(dir, 'checkpoint.pub');
  await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  await writeFile(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }));
  await kubectlOk(['create', 'namespace', NS]);
  await kubectlOk(['create', 'rolebinding', 'ci-view', '-n', NS, '--clusterrole=view', `--user=oidc:${CI_CLIENT.clientId}`]);
  gw = await startTestGateway({ name: 'e2e-webhook', policyNamespace: NS, defaultAction: 'Allow', auditWebhookUrl: receiver.url, checkpointKeyFile: keyFile });
  kubeconfig = await gw.kubeconfigFor(await gw.oidc.token(CI_CLIENT.clientId), 'ci');
}, 120_000);

afterAll(async () => {
  await gw.stop();
  receiver.server.closeAllConnections();
  await new Promise((resolve) => receiver.server.close(resolve));
  await kubectl(['delete', 'namespace', NS, '--wait=false']);
});

const auditIDs = (lines: readonly string[]): string[] => lines
  .map((l) => JSON.parse(l) as { auditID?: string; stage?: string })
  .filter((e) => e.auditID !== undefined)
  .map((e) => `${e.auditID ?? ''}/${e.stage ?? ''}`);

describe('gateway: audit webhook', () => {
  it('delivers every record to the receiver in the file sink\'s order, as a chain that verifies with its signed checkpoints', async () => {
    for (const args of [['get', 'configmaps'], ['get', 'pods'], ['get', 'serviceaccounts']]) {
      const result = await kubectl([...args, '-n', NS], { kubeconfig });
      expect(result.code, result.stderr).toBe(0);
    }
    const fileLines = (await readFile(gw.auditFile, 'utf8')).trim().split('\n');
    const inFile = auditIDs(fileLines);
    // FailClosed: a request's records were acknowledged by the receiver before it completed.
    expect(auditIDs(receiver.entries)).toEqual(inFile);
    expect(inFile.filter((id) => id.endsWith('/ResponseComplete')).length).toBeGreaterThanOrEqual(3);
    // Stopping the gateway seals the webhook chain with a signed checkpoint.
    await gw.stop();
    gw = await startTestGateway({ name: 'e2e-webhook', policyNamespace: NS, defaultAction: 'Allow', auditWebhookUrl: receiver.url });
    kubeconfig = await gw.kubeconfigFor(await gw.oidc.token(CI_CLIENT.clientId), 'ci');
    const restart = receiver.entries.findIndex((e, i) => i > 0 && (JSON.parse(e) as { seq: number }).seq === 1);
    const firstChain = restart === -1 ? [...receiver.entries] : receiver.entries.slice(0, restart);
    expect((JSON.parse(firstChain.at(-1) ?? '{}') as { kind?: string; signature?: string }).kind).toBe('AuditCheckpoint');
    const received = join(dir, 'received.log');
    await writeFile(received, `${firstChain.join('\n')}\n`);
    const verified = await promisify(execFile)(process.execPath, ['gateway/audit/verify-cli.ts', '--public-key', publicKeyFile, received]);
    expect(verified.stdout).toMatch(/^ok: \d+ records/);
  });

  it('refuses requests while the receiver is down (FailClosed) and serves again once it is back', async () => {
    await expect.poll(async () => (await kubectl(['get', 'configmaps', '-n', NS], { kubeconfig })).code, { timeout: 30_000 }).toBe(0);
    receiver.up = false;
    const refused = await kubectl(['get', 'configmaps', '-n', NS], { kubeconfig });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('the audit log is unavailable');
    receiver.up = true;
    const served = await kubectl(['get', 'configmaps', '-n', NS], { kubeconfig });
    expect(served.code, served.stderr).toBe(0);
    // The refused request never reached the API server, and its record is still in the file.
    const refusedRecords = (await readFile(gw.auditFile, 'utf8')).trim().split('\n')
      .map((l) => JSON.parse(l) as { responseStatus?: { code: number } })
      .filter((r) => r.responseStatus?.code === 503);
    expect(refusedRecords.length).toBeGreaterThanOrEqual(1);
  });
});
