// The operator and a gateway process together, the way a pod runs them: the operator renders the
// config, mints the upstream token and issues the serving certificate; the test projects the
// ConfigMap and Secrets into files as the kubelet does (kwok has no kubelet) and runs
// `node gateway/main.ts` on them. A forced rotation replaces the token and the certificate while a
// client keeps calling: every request succeeds, the client sees the new certificate without a
// restart, and the old token is revoked while the gateway keeps serving with the new one.
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { parse, stringify } from 'yaml';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk, testCluster } from './support/kubectl.ts';
import { useTestNamespace } from './support/namespace.ts';
import { keepProjected, type Projector } from './support/projected-volume.ts';
import { GATEWAY_NODE_FLAGS } from '../core/config/gateway-runtime-flags.ts';

const GATEWAY = 'files-gw';
const children: ChildProcess[] = [];
let projector: Projector | undefined;

afterEach(async () => {
  await projector?.stop();
  projector = undefined;
  for (const child of children.splice(0)) {
    if (child.exitCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
});

function startProcess(args: string[], env: Record<string, string>, output: string[]): ChildProcess {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk: Buffer) => { output.push(chunk.toString('utf8')); });
  child.stderr.on('data', (chunk: Buffer) => { output.push(chunk.toString('utf8')); });
  children.push(child);
  return child;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The pod's paths (/etc/airlock, /var/run/airlock, /var/log/airlock) moved under `root`. */
function underRoot(value: unknown, root: string): unknown {
  if (typeof value === 'string') return /^\/(etc|var\/run|var\/log)\/airlock\//.test(value) ? join(root, value) : value;
  if (Array.isArray(value)) return value.map((item) => underRoot(item, root));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, underRoot(v, root)]));
  return value;
}

async function secretValue(namespace: string, name: string, key: string): Promise<string> {
  const out = await kubectl(['get', 'secret', name, '-o', `jsonpath={.data.${key.replace(/\./g, '\\.')}}`], { namespace });
  return out.code === 0 ? Buffer.from(out.stdout, 'base64').toString('utf8') : '';
}

async function authenticated(bearer: string): Promise<boolean> {
  const review = await kubectlOk(['create', '-f', '-', '-o', 'jsonpath={.status.authenticated}'], {
    input: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: bearer } }),
  });
  return review.trim() === 'true';
}

interface Answer { readonly status: number; readonly fingerprint: string; readonly at: number }

/** One request on a fresh connection (a new TLS handshake each time, so a new certificate shows at once). */
function call(target: { port: number; ca: string; servername: string; token: string; path: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port: target.port, path: target.path, ca: target.ca, servername: target.servername, agent: false,
      headers: { authorization: `Bearer ${target.token}` },
    }, (res) => {
      const fingerprint = res.socket instanceof TLSSocket ? res.socket.getPeerCertificate().fingerprint256 : '';
      res.resume();
      res.once('end', () => { resolve({ status: res.statusCode ?? 0, fingerprint, at: Date.now() }); });
    });
    req.once('error', reject);
    req.end();
  });
}

const gatewaySpec = (namespace: string): object => ({
  apiVersion: 'airlock.dev/v1alpha1',
  kind: 'AccessGateway',
  metadata: { name: GATEWAY, namespace },
  spec: {
    replicas: 1,
    authentication: { serviceAccountTokens: { enabled: true } },
    defaultAction: 'Allow',
    audit: { level: 'Metadata', failurePolicy: 'FailClosed', sinks: [{ file: { path: '/var/log/airlock/audit.log' } }] },
    credentials: { tokenTTL: '1h' },
  },
});

describe('operator and gateway process: rotation through mounted files', () => {
  const ns = useTestNamespace('e2e-files');

  it('keeps serving through a forced rotation of the upstream token and the serving certificate', async () => {
    const namespace = ns.name;
    const output: string[] = [];
    onTestFailed(() => { process.stderr.write(`--- operator and gateway output ---\n${output.join('')}\n`); });
    await installCrds();
    const kubeconfig = testCluster().kubeconfig;
    startProcess(['operator/main.ts'], {
      KUBECONFIG: kubeconfig, AIRLOCK_LEADER_ELECTION: 'false', AIRLOCK_HEALTH_ADDRESS: '127.0.0.1:0',
      AIRLOCK_METRICS_ADDRESS: '127.0.0.1:0', AIRLOCK_CREDENTIAL_REVOKE_AFTER: '5s',
    }, output);
    await kubectlOk(['apply', '-f', '-'], { input: stringify(gatewaySpec(namespace)) });

    // The pod's volumes, kept in sync as the kubelet would.
    const root = await mkdtemp(join(tmpdir(), 'airlock-pod-'));
    const at = (path: string): string => join(root, path);
    projector = keepProjected(namespace, [
      { kind: 'configmap', name: `${GATEWAY}-config`, dir: at('/etc/airlock/config') },
      { kind: 'secret', name: `${GATEWAY}-credential`, dir: at('/var/run/airlock/credential') },
      { kind: 'secret', name: `${GATEWAY}-tls`, dir: at('/var/run/airlock/tls') },
      { kind: 'configmap', name: 'kube-root-ca.crt', dir: at('/var/run/airlock/upstream-ca') },
    ]);
    await projector.ready;
    await mkdir(at('/var/log/airlock'), { recursive: true });

    // The rendered config, with the pod's paths under root and loopback ports; the API server is
    // reached at its loopback address rather than kubernetes.default.svc.
    const rendered = underRoot(parse(await readFile(at('/etc/airlock/config/gateway.yaml'), 'utf8')), root) as Record<string, Record<string, unknown>>;
    const port = await freePort();
    const healthPort = await freePort();
    const server = (parse(await readFile(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[] }).clusters[0]?.cluster.server ?? '';
    const config = { ...rendered, listen: { ...rendered['listen'], address: '127.0.0.1', port }, health: { address: '127.0.0.1', port: healthPort }, upstream: { ...rendered['upstream'], server } };
    await writeFile(join(root, 'gateway.yaml'), stringify(config));
    // The gateway as the operator's Deployment runs it: its Node flags, then the program.
    startProcess([...GATEWAY_NODE_FLAGS, 'gateway/main.ts', '--config', join(root, 'gateway.yaml')], {}, output);
    await expect.poll(async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined))?.status, { timeout: 30_000 }).toBe(200);

    // A caller with read access to ConfigMaps in the namespace.
    await kubectlOk(['create', 'serviceaccount', 'caller'], { namespace });
    await kubectlOk(['create', 'rolebinding', 'caller-view', '--clusterrole=view', `--serviceaccount=${namespace}:caller`], { namespace });
    const target = {
      port, ca: await secretValue(namespace, `${GATEWAY}-tls`, 'ca.crt'), servername: `${GATEWAY}.${namespace}.svc`,
      token: (await kubectlOk(['create', 'token', 'caller', '--duration=1h'], { namespace })).trim(), path: `/api/v1/namespaces/${namespace}/configmaps`,
    };
    const first = await call(target);
    expect(first.status).toBe(200);
    const oldToken = await secretValue(namespace, `${GATEWAY}-credential`, 'token');
    expect(await authenticated(oldToken)).toBe(true);

    // A client calling throughout the rotation.
    const answers: Answer[] = [first];
    const state = { calling: true };
    const failures: unknown[] = [];
    const caller = (async () => {
      while (state.calling) {
        answers.push(await call(target).catch((error: unknown) => { failures.push(error); return { status: 0, fingerprint: '', at: Date.now() }; }));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    await kubectlOk(['annotate', 'accessgateway', GATEWAY, 'airlock.dev/rotate-credentials=e2e-1'], { namespace });
    await expect.poll(() => secretValue(namespace, `${GATEWAY}-credential`, 'token'), { timeout: 30_000 }).not.toBe(oldToken);
    const newCert = new X509Certificate(await secretValue(namespace, `${GATEWAY}-tls`, 'tls.crt'));
    expect(newCert.fingerprint256).not.toBe(first.fingerprint);
    // The running gateway serves the new certificate (no restart) ...
    await expect.poll(() => answers.at(-1)?.fingerprint, { timeout: 15_000 }).toBe(newCert.fingerprint256);
    // ... and once the old token is revoked, still reaches the API server with the new one.
    await expect.poll(() => authenticated(oldToken), { timeout: 60_000, interval: 1000 }).toBe(false);
    const revokedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    state.calling = false;
    await caller;

    expect(failures).toEqual([]);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(answers.filter((a) => a.at > revokedAt).length).toBeGreaterThan(5);
    expect(new Set(answers.map((a) => a.fingerprint)).size).toBe(2);
    const log = output.join('');
    expect(log).toContain('serving certificate reloaded');
  }, 180_000);
});
