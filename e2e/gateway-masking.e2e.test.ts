// Secret values never leave the gateway: real kubectl through the gateway in every form it asks
// Secrets in (object, list, Table, Table with objects, watch, echoes of create/apply/patch,
// describe, last-applied), raw requests asking for gzip, protobuf and PartialObjectMetadata, and a
// search of every byte returned and every audit record for each value in plain, base64 and
// base64url. A subject a rule exempts sees the real values. Policy masks on other resources, and a
// custom resource whose printer column shows a masked field.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk } from './support/kubectl.ts';
import { CI_CLIENT, OTHER_CI_CLIENT, startTestGateway, type TestGateway } from './support/gateway.ts';
import { MASKED_BASE64 } from '../gateway/mask/mask-plan.ts';

const NS = `e2e-mask-${randomBytes(3).toString('hex')}`;
const POLICY_NS = `${NS}-policy`;
/** A custom resource whose printer column shows a field a policy masks. */
const WIDGET_GROUP = `${NS}.airlock.dev`;
const widgetToken = `t-${randomBytes(12).toString('hex')}`;
const secretValues = Array.from({ length: 3 }, () => `v-${randomBytes(12).toString('hex')}`);
const [adminValue = '', appliedValue = '', createdValue = ''] = secretValues;
const seen: string[] = [];
let gw: TestGateway;
let ci: string;
let exempt: string;
let ciToken: string;

async function asCi(args: readonly string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await kubectl(args, { kubeconfig: ci, namespace: NS, ...(input === undefined ? {} : { input }) });
  seen.push(result.stdout, result.stderr);
  return result;
}

function raw(path: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${gw.url}${path}`, { ca: readFileSync(gw.caFile), headers: { authorization: `Bearer ${ciToken}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }); });
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  await installCrds();
  for (const ns of [NS, POLICY_NS]) await kubectlOk(['create', 'namespace', ns]);
  for (const client of [CI_CLIENT, OTHER_CI_CLIENT]) {
    await kubectlOk(['create', 'rolebinding', `edit-${client.clientId}`, '-n', NS, '--clusterrole=edit', `--user=oidc:${client.clientId}`]);
  }
  await kubectlOk(['create', 'secret', 'generic', 'db', '-n', NS, `--from-literal=password=${adminValue}`]);
  await kubectlOk(['apply', '-f', '-'], { input: stringify({
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `widgets.${WIDGET_GROUP}` },
    spec: {
      group: WIDGET_GROUP, scope: 'Namespaced', names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
      versions: [{
        name: 'v1', served: true, storage: true,
        schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { token: { type: 'string' }, size: { type: 'integer' } } } } } },
        additionalPrinterColumns: [{ name: 'Token', type: 'string', jsonPath: '.spec.token' }, { name: 'Size', type: 'integer', jsonPath: '.spec.size' }],
      }],
    },
  }) });
  await kubectlOk(['wait', '--for=condition=Established', `crd/widgets.${WIDGET_GROUP}`]);
  await kubectlOk(['create', 'role', 'widgets', '-n', NS, '--verb=*', `--resource=widgets.${WIDGET_GROUP}`]);
  await kubectlOk(['create', 'rolebinding', 'widgets', '-n', NS, '--role=widgets', `--user=oidc:${CI_CLIENT.clientId}`]);
  await kubectlOk(['apply', '-n', NS, '-f', '-'], { input: stringify({ apiVersion: `${WIDGET_GROUP}/v1`, kind: 'Widget', metadata: { name: 'w1' }, spec: { token: widgetToken, size: 3 } }) });
  await kubectlOk(['apply', '-f', '-'], { input: stringify({
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'masking', namespace: POLICY_NS },
    spec: {
      subjects: [{ claim: { name: 'repository', value: 'acme/payments' } }],
      rules: [
        { name: 'configmaps-masked', match: { resources: ['configmaps'], namespaces: [NS] }, action: 'Allow', mask: { fields: [".data['api-key']", '.metadata.labels'] } },
        { name: 'workloads-env-masked', match: { apiGroups: ['apps'], namespaces: [NS] }, action: 'Allow', mask: { envNamePattern: '(?i)(password|token|secret|key)' } },
        { name: 'widgets-masked', match: { apiGroups: [WIDGET_GROUP], namespaces: [NS] }, action: 'Allow', mask: { fields: ['.spec.token'] } },
        { name: 'app', match: { apiGroups: [''], namespaces: [NS] }, action: 'Allow' },
        { name: 'discovery', match: { nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/version', '/openapi/*'] }, action: 'Allow' },
      ],
    },
  }) });
  await kubectlOk(['apply', '-f', '-'], { input: stringify({
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'secret-reader', namespace: POLICY_NS },
    spec: {
      subjects: [{ claim: { name: 'repository', value: 'acme/other' } }],
      // The rule that allows a request decides its masking: this one shows Secret values.
      rules: [
        { name: 'controller-reads-secrets', match: { verbs: ['get'], resources: ['secrets'], namespaces: [NS] }, action: 'Allow', mask: { exempt: true } },
        { name: 'discovery', match: { nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/version', '/openapi/*'] }, action: 'Allow' },
      ],
    },
  }) });
  gw = await startTestGateway({ name: 'e2e-mask', policyNamespace: POLICY_NS });
  ciToken = await gw.oidc.token(CI_CLIENT.clientId);
  ci = await gw.kubeconfigFor(ciToken, 'ci');
  exempt = await gw.kubeconfigFor(await gw.oidc.token(OTHER_CI_CLIENT.clientId), 'exempt');
}, 120_000);

afterAll(async () => {
  await gw.stop();
  await kubectl(['delete', 'namespace', NS, POLICY_NS, '--wait=false']);
  await kubectl(['delete', 'crd', `widgets.${WIDGET_GROUP}`, '--wait=false']);
});

const labelValue = `l-${randomBytes(12).toString('hex')}`;
const policyValues = [`k-${randomBytes(12).toString('hex')}`, `p-${randomBytes(12).toString('hex')}`, labelValue, widgetToken];

describe('gateway: policy masks on other resources', () => {
  it('masks the ConfigMap key a rule names, everywhere kubectl reads it, and in the audited request body', async () => {
    const [apiKey = ''] = policyValues;
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { 'api-key': apiKey, region: 'eu-west-1' } };
    const applied = await asCi(['apply', '-f', '-', '-o', 'json'], JSON.stringify(cm));
    expect(applied.code, applied.stderr).toBe(0);
    const read = JSON.parse((await asCi(['get', 'configmap', 'settings', '-o', 'json'])).stdout) as { data: Record<string, string> };
    expect(read.data).toEqual({ 'api-key': '***MASKED***', region: 'eu-west-1' });
    expect((await asCi(['get', 'configmaps', '-o', 'jsonpath={.items[*].data.api-key}'])).stdout).toBe('***MASKED***');
    // kubectl apply's copy of the whole object would carry the value: it is masked too.
    expect((await asCi(['get', 'configmap', 'settings', '-o', 'jsonpath={.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}'])).stdout).toBe('***MASKED***');
    // Masking is in transit only: the object itself is intact.
    expect((await kubectlOk(['get', 'configmap', 'settings', '-n', NS, '-o', 'jsonpath={.data.api-key}'])).trim()).toBe(apiKey);
  });

  it('masks every string inside an object a path names, and typed clients still decode the answer', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tagged', labels: { team: 'payments', owner: labelValue } }, data: { region: 'eu-west-1' } };
    expect((await asCi(['create', '-f', '-'], JSON.stringify(cm))).code).toBe(0);
    const read = JSON.parse((await asCi(['get', 'configmap', 'tagged', '-o', 'json'])).stdout) as { metadata: { labels: Record<string, string> }; data: Record<string, string> };
    expect(read.metadata.labels).toEqual({ team: '***MASKED***', owner: '***MASKED***' });
    expect(read.data).toEqual({ region: 'eu-west-1' });
    // describe decodes into typed objects: the masked answer still is a valid ConfigMap.
    const described = await asCi(['describe', 'configmap', 'tagged']);
    expect(described.code, described.stderr).toBe(0);
    expect(described.stdout).toMatch(/Labels:\s+owner=\*\*\*MASKED\*\*\*/);
    expect(described.stdout).not.toContain(labelValue);
  });

  it('answers kubectl get without the Table when a printer column could show a masked field', async () => {
    // Straight at the API server the column shows the token: the case is real.
    expect(await kubectlOk(['get', 'widgets', '-n', NS])).toContain(widgetToken);
    for (const args of [['get', 'widgets'], ['get', 'widget', 'w1'], ['get', 'widgets', '-o', 'wide'], ['get', 'widgets', '--sort-by=.metadata.name']]) {
      const result = await asCi(args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      expect(result.stdout, args.join(' ')).toContain('w1');
      expect(result.stdout, args.join(' ')).not.toContain(widgetToken);
    }
    // A watch as kubectl prints it (it ends at the request timeout).
    const watched = await asCi(['get', 'widgets', '--watch', '--request-timeout=2s']);
    expect(watched.stdout, watched.stderr).toContain('w1');
    expect(watched.stdout + watched.stderr).not.toContain(widgetToken);
    const read = JSON.parse((await asCi(['get', 'widget', 'w1', '-o', 'json'])).stdout) as { spec: { token: string; size: number } };
    expect(read.spec).toEqual({ token: '***MASKED***', size: 3 });
  });

  it('masks container env values whose name matches, in the pod template and the last-applied copy', async () => {
    const [, password = ''] = policyValues;
    const deployment = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api' },
      spec: { replicas: 0, selector: { matchLabels: { app: 'api' } }, template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{
        name: 'api', image: 'busybox', env: [{ name: 'DB_PASSWORD', value: password }, { name: 'LOG_LEVEL', value: 'debug' }],
      }] } } },
    };
    expect((await asCi(['apply', '-f', '-'], JSON.stringify(deployment))).code).toBe(0);
    const read = JSON.parse((await asCi(['get', 'deployment', 'api', '-o', 'json'])).stdout) as {
      metadata: { annotations: Record<string, string> }; spec: { template: { spec: { containers: { env: { name: string; value: string }[] }[] } } };
    };
    expect(read.spec.template.spec.containers[0]?.env).toEqual([{ name: 'DB_PASSWORD', value: '***MASKED***' }, { name: 'LOG_LEVEL', value: 'debug' }]);
    expect(read.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toBe('***MASKED***');
  });

  it('leaks neither value in any response or audit record', async () => {
    const everything = [...seen, await readFile(gw.auditFile, 'utf8')].join('\n');
    expect(everything).toContain('settings');
    for (const value of policyValues) {
      for (const form of [value, Buffer.from(value).toString('base64'), Buffer.from(value).toString('base64url')]) {
        expect(everything.includes(form), `found ${form}`).toBe(false);
      }
    }
  });
});

describe('gateway: masking Secret values', () => {
  it('masks what kubectl reads, with valid base64 in data', async () => {
    const value = await asCi(['get', 'secret', 'db', '-o', 'jsonpath={.data.password}']);
    expect(value.stdout).toBe(MASKED_BASE64);
    expect(Buffer.from(value.stdout, 'base64').toString()).toBe('***MASKED***');
    for (const args of [['get', 'secret', 'db', '-o', 'yaml'], ['get', 'secrets', '-o', 'json'], ['get', 'secrets'], ['get', 'secrets', '--sort-by=.metadata.name'], ['describe', 'secret', 'db']]) {
      const result = await asCi(args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    }
    expect((await asCi(['get', 'secrets', '-o', 'json'])).stdout).toContain(`"password": "${MASKED_BASE64}"`);
  });

  it('masks the objects echoed by create, apply and patch, and the last-applied annotation', async () => {
    const created = await asCi(['create', 'secret', 'generic', 'created', `--from-literal=token=${createdValue}`, '-o', 'json']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain(MASKED_BASE64);
    const manifest = stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'applied', namespace: NS }, stringData: { key: appliedValue } });
    const applied = await asCi(['apply', '-f', '-', '-o', 'json'], manifest);
    expect(applied.code, applied.stderr).toBe(0);
    const got = await asCi(['get', 'secret', 'applied', '-o', 'json']);
    expect(got.stdout).toContain('"kubectl.kubernetes.io/last-applied-configuration": "***MASKED***"');
    const patched = await asCi(['patch', 'secret', 'db', '--type=merge', '-p', '{"metadata":{"labels":{"rotated":"no"}}}', '-o', 'json']);
    expect(patched.code, patched.stderr).toBe(0);
    // The values really are stored: the admin reads them directly.
    expect(Buffer.from((await kubectlOk(['get', 'secret', 'applied', '-n', NS, '-o', 'jsonpath={.data.key}'])), 'base64').toString()).toBe(appliedValue);
  });

  it('masks a watch, every event', async () => {
    const watching = asCi(['get', 'secrets', '-w', '-o', 'json', '--request-timeout=4s']);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await kubectlOk(['patch', 'secret', 'db', '-n', NS, '--type=merge', '-p', '{"metadata":{"labels":{"watched":"yes"}}}']);
    const result = await watching;
    expect(result.stdout).toContain('"watched": "yes"');
    expect(result.stdout).toContain(MASKED_BASE64);
  });

  it('asks upstream for JSON and no compression; refuses protobuf-only clients; masks PartialObjectMetadata', async () => {
    const path = `/api/v1/namespaces/${NS}/secrets`;
    const gz = await raw(path, { 'accept-encoding': 'gzip', accept: 'application/vnd.kubernetes.protobuf, application/json' });
    seen.push(gz.body.toString('latin1'));
    expect(gz.status).toBe(200);
    expect(gz.headers['content-type']).toMatch(/json/);
    expect(gz.body.toString()).toContain(MASKED_BASE64);
    const protobufOnly = await raw(path, { accept: 'application/vnd.kubernetes.protobuf' });
    seen.push(protobufOnly.body.toString('latin1'));
    expect(protobufOnly.status).toBe(406);
    expect(JSON.parse(protobufOnly.body.toString()) as { reason: string }).toMatchObject({ reason: 'NotAcceptable' });
    const meta = await raw(path, { accept: 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io' });
    seen.push(meta.body.toString('latin1'));
    expect(meta.status).toBe(200);
    expect(meta.body.toString()).toContain('PartialObjectMetadataList');
  });

  it('leaks no value in any response or audit record, in plain, base64 or base64url', async () => {
    const audit = await readFile(gw.auditFile, 'utf8');
    const everything = [...seen, audit].join('\n');
    for (const value of secretValues) {
      for (const form of [value, Buffer.from(value).toString('base64'), Buffer.from(value).toString('base64url')]) {
        expect(everything.includes(form), `found ${form}`).toBe(false);
      }
    }
    // The gateway counts what it replaced.
    const metrics = await (await fetch(`${gw.healthUrl}/metrics`)).text();
    for (const verb of ['get', 'list', 'create']) {
      expect(Number(new RegExp(`^airlock_gateway_masked_values_total\\{verb="${verb}"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0), verb).toBeGreaterThan(0);
    }
  });

  it('shows the real values to a subject whose rule exempts it', async () => {
    const result = await kubectl(['get', 'secret', 'db', '-o', 'jsonpath={.data.password}'], { kubeconfig: exempt, namespace: NS });
    expect(result.code, result.stderr).toBe(0);
    expect(Buffer.from(result.stdout, 'base64').toString()).toBe(adminValue);
  });
});
