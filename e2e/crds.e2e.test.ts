// The Airlock API on the real API server: it installs, documents itself in `kubectl explain`,
// accepts the samples, rejects invalid objects with messages that say what to fix, and shows its
// printer columns.
import { readdir, readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk } from './support/kubectl.ts';
import { useTestNamespace } from './support/namespace.ts';

type Obj = Record<string, unknown> & { metadata: Record<string, unknown>; spec: Record<string, unknown> };

async function sample(kind: string): Promise<Obj> {
  return parse(await readFile(`config/samples/airlock_v1alpha1_${kind}.yaml`, 'utf8')) as Obj;
}

function inNamespace(obj: Obj, namespace: string): string {
  return stringify({ ...obj, metadata: { ...obj.metadata, namespace } });
}

describe('Airlock CRDs', () => {
  const ns = useTestNamespace('crd');
  beforeAll(installCrds);

  it.each([
    ['accessgateway.spec.authentication.oidc', 'OpenID Connect issuers whose JWTs are accepted'],
    ['accessgateway.spec.defaultAction', 'Allow forwards it and lets Kubernetes RBAC decide'],
    ['accesspolicy.spec.rules.action', 'RequireApproval holds it until approvers decide'],
    ['accesspolicy.spec.subjects', 'each entry names exactly one of user, group, serviceAccount'],
    ['approvalrequest.status.decisions', 'append-only'],
  ])('kubectl explain %s documents the field', async (field, text) => {
    const out = await kubectlOk(['explain', field]);
    expect(out.replace(/\s+/g, ' ')).toContain(text);
  });

  it('accepts every sample as written', async () => {
    const files = (await readdir('config/samples')).filter((f) => f.startsWith('airlock_'));
    expect(files).toHaveLength(3);
    for (const file of files) {
      const obj = parse(await readFile(`config/samples/${file}`, 'utf8')) as Obj;
      await kubectlOk(['apply', '--server-side', '-f', '-'], { input: inNamespace(obj, ns.name) });
    }
    const names = await kubectlOk(['get', 'airlock', '-o', 'name'], { namespace: ns.name });
    expect(names.trim().split('\n').sort()).toEqual([
      'accessgateway.airlock.dev/ci-gateway', 'accesspolicy.airlock.dev/payments-ci', 'approvalrequest.airlock.dev/payments-ci-scale-api-7f3c2',
    ]);
  });

  it('applies defaults', async () => {
    await kubectlOk(['apply', '-f', '-'], { input: stringify({
      apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessGateway', metadata: { name: 'minimal', namespace: ns.name }, spec: {},
    }) });
    const spec = JSON.parse(await kubectlOk(['get', 'agw', 'minimal', '-o', 'jsonpath={.spec}'], { namespace: ns.name })) as Record<string, unknown>;
    expect(spec).toMatchObject({ replicas: 2, defaultAction: 'Deny' });
  });

  type Mutation = (o: Obj) => void;
  const policyRules = (o: Obj): Record<string, unknown>[] => o.spec['rules'] as Record<string, unknown>[];
  const invalid: [string, string, Mutation, string][] = [
    ['an unknown defaultAction', 'accessgateway', (o) => { o.spec['defaultAction'] = 'Maybe'; }, 'Unsupported value: "Maybe"'],
    ['an OIDC issuer without usernamePrefix', 'accessgateway', (o) => {
      (o.spec['authentication'] as { oidc: Record<string, unknown>[] }).oidc.forEach((i) => { delete i['usernamePrefix']; });
    }, 'usernamePrefix: Required value'],
    ['an http issuer', 'accessgateway', (o) => {
      (o.spec['authentication'] as { oidc: Record<string, unknown>[] }).oidc.forEach((i) => { i['issuerURL'] = 'http://insecure.example'; });
    }, 'should match \'^https://\''],
    ['no authentication method at all', 'accessgateway', (o) => { o.spec['authentication'] = { serviceAccountTokens: { enabled: false } }; }, 'at least one authentication method is needed'],
    ['an audit sink with both file and webhook', 'accessgateway', (o) => {
      (o.spec['audit'] as { sinks: Record<string, unknown>[] }).sinks[0]!['webhook'] = { url: 'https://x.example' };
    }, 'each audit sink names exactly one of file or webhook'],
    ['tls mode Secret without a secretName', 'accessgateway', (o) => { o.spec['tls'] = { mode: 'Secret' }; }, 'tls.secretName is required when tls.mode is Secret'],
    ['a subject naming a user and a group', 'accesspolicy', (o) => { o.spec['subjects'] = [{ user: { name: 'a' }, group: { name: 'b' } }]; }, 'each subject names exactly one of user, group, serviceAccount or claim'],
    ['two rules with the same name', 'accesspolicy', (o) => { policyRules(o).push({ ...policyRules(o)[0] }); }, 'Duplicate value'],
    ['RequireApproval without approval', 'accesspolicy', (o) => { delete policyRules(o)[2]!['approval']; }, 'approval is required for action RequireApproval and only allowed with it'],
    ['approval on an Allow rule', 'accesspolicy', (o) => { policyRules(o)[1]!['approval'] = { approvers: { users: ['x'] } }; }, 'approval is required for action RequireApproval and only allowed with it'],
    ['approvers naming nobody', 'accesspolicy', (o) => { (policyRules(o)[2]!['approval'] as Record<string, unknown>)['approvers'] = {}; }, 'approvers must name at least one user or group'],
    ['a rule name that is not a DNS label', 'accesspolicy', (o) => { policyRules(o)[0]!['name'] = 'No Spaces'; }, 'should match'],
    ['nonResourceURLs mixed with resources', 'accesspolicy', (o) => { policyRules(o)[1]!['match'] = { nonResourceURLs: ['/healthz'], resources: ['pods'] }; }, 'nonResourceURLs cannot be combined'],
    ['a body digest that is not sha256', 'approvalrequest', (o) => { (o.spec['request'] as Record<string, unknown>)['bodyDigest'] = 'md5:abc'; }, 'bodyDigest'],
  ];

  it.each(invalid)('rejects %s', async (_name, kind, mutate, message) => {
    const obj = structuredClone(await sample(kind));
    mutate(obj);
    const result = await kubectl(['apply', '-f', '-'], { input: inNamespace(obj, ns.name) });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
  });

  it('keeps an ApprovalRequest spec immutable', async () => {
    const obj = await sample('approvalrequest');
    await kubectlOk(['apply', '-f', '-'], { input: inNamespace(obj, ns.name) });
    const result = await kubectl(['patch', 'apr', String(obj.metadata['name']), '--type=merge', '-p', '{"spec":{"request":{"summary":"something else"}}}'], { namespace: ns.name });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('spec is immutable');
  });

  it('shows the printer columns in kubectl get', async () => {
    for (const kind of ['accessgateway', 'accesspolicy', 'approvalrequest']) {
      await kubectlOk(['apply', '-f', '-'], { input: inNamespace(await sample(kind), ns.name) });
    }
    const header = (kind: string): Promise<string> => kubectlOk(['get', kind], { namespace: ns.name }).then((o) => o.split('\n')[0] ?? '');
    expect((await header('agw')).split(/\s{2,}/)).toEqual(['NAME', 'READY', 'REPLICAS', 'DEFAULT', 'ENDPOINT', 'AGE']);
    expect((await header('ap')).split(/\s{2,}/)).toEqual(['NAME', 'ACCEPTED', 'RULES', 'GATEWAYS', 'AGE']);
    expect((await header('apr')).split(/\s{2,}/)).toEqual(['NAME', 'PHASE', 'REQUESTER', 'SUMMARY', 'AGE']);
    const row = (await kubectlOk(['get', 'apr'], { namespace: ns.name })).split('\n')[1] ?? '';
    expect(row).toContain('scale deployment prod/api from 3 to 0 replicas');
  });
});
