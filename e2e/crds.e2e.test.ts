// The Airlock API on the real API server: it installs, documents itself in `kubectl explain`,
// builds with kustomize, accepts the samples, applies defaults, rejects invalid objects with
// messages that say what to fix, keeps ApprovalRequests honest (immutable spec, append-only
// decisions, phase only forward), scales, and shows its printer columns.
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { CRD_FILES } from '../crds/generate-types.ts';
import { DEFAULT_AUDIT_FILE } from '../operator/resources/gateway-config.ts';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk } from './support/kubectl.ts';
import { useTestNamespace } from './support/namespace.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };
type Kind = 'accessgateway' | 'accesspolicy' | 'approvalrequest';

async function sample(kind: Kind): Promise<Obj> {
  // ApprovalRequests are not samples (only gateways create them): theirs is test data.
  const dir = kind === 'approvalrequest' ? 'crds/testdata' : 'config/samples';
  return parse(await readFile(`${dir}/airlock_v1alpha1_${kind}.yaml`, 'utf8')) as Obj;
}

function child(node: Json, key: string): Json {
  const next = Array.isArray(node) ? node[Number(key)] : node !== null && typeof node === 'object' ? node[key] : undefined;
  if (next === undefined) throw new Error(`no "${key}" in ${JSON.stringify(node)}`);
  return next;
}

/** Sets (or, with undefined, removes) the value at a dotted path such as spec.rules.0.name. */
function edit(doc: Obj, path: string, value: Json | undefined): void {
  const keys = path.split('.');
  const last = keys.pop() ?? '';
  const node = keys.reduce<Json>(child, doc);
  if (Array.isArray(node)) {
    if (value === undefined) node.splice(Number(last), 1); else node[Number(last)] = value;
  } else if (node !== null && typeof node === 'object') {
    if (value === undefined) Reflect.deleteProperty(node, last); else node[last] = value;
  } else {
    throw new Error(`cannot set ${path}`);
  }
}

function inNamespace(obj: Obj, namespace: string): string {
  const metadata = obj['metadata'] as Obj;
  return stringify({ ...obj, metadata: { ...metadata, namespace } });
}

/** The header cells of each table `kubectl get` printed. */
function headers(output: string): string[][] {
  return output.trim().split(/\n\s*\n/).map((table) => (table.split('\n')[0] ?? '').trim().split(/\s{2,}/));
}

type Edits = [path: string, value: Json | undefined][];

const invalid: [string, Kind, Edits, string][] = [
  ['an unknown defaultAction', 'accessgateway', [['spec.defaultAction', 'Maybe']], 'spec.defaultAction: Unsupported value: "Maybe"'],
  ['a gateway-only prefix in the API server\'s own system: names', 'accessgateway', [['spec.identity.prefix', 'system:']],
    'identity.prefix must not start with system:'],
  ['a gateway-only prefix without its ":" separator', 'accessgateway', [['spec.identity.prefix', 'airlock']], 'spec.identity.prefix: Invalid value: "airlock"'],
  ['an unknown identity mode', 'accessgateway', [['spec.identity.forwardAs', 'Prefixed']], 'spec.identity.forwardAs: Unsupported value: "Prefixed"'],
  ['an OIDC issuer without usernamePrefix', 'accessgateway', [['spec.authentication.oidc.0.usernamePrefix', undefined]],
    'spec.authentication.oidc[0].usernamePrefix: Required value'],
  ['an http issuer', 'accessgateway', [['spec.authentication.oidc.0.issuerURL', 'http://insecure.example']],
    'spec.authentication.oidc[0].issuerURL: Invalid value: "http://insecure.example"'],
  ['an HMAC algorithm', 'accessgateway', [['spec.authentication.oidc.0.algorithms', ['HS256']]], 'Unsupported value: "HS256"'],
  ['no authentication method at all', 'accessgateway', [['spec.authentication', { serviceAccountTokens: { enabled: false } }]],
    'at least one authentication method is needed; add an oidc issuer or enable serviceAccountTokens'],
  ['an audit sink with both file and webhook', 'accessgateway', [['spec.audit.sinks.0.webhook', { url: 'https://x.example' }]],
    'each audit sink names exactly one of file or webhook'],
  ['two file sinks', 'accessgateway', [['spec.audit.sinks.1', { file: { path: '/var/log/other.log' } }]],
    'audit.sinks holds at most one file sink and one webhook sink'],
  ['audit level Metadata with no sink', 'accessgateway', [['spec.audit.sinks', []]],
    'spec.audit.sinks: Required value: an audit level other than None needs at least one sink'],
  ['tls mode Secret without a secretName', 'accessgateway', [['spec.tls', { mode: 'Secret' }]],
    'spec.tls.secretName: Required value: tls.secretName is required when tls.mode is Secret'],
  ['a token lifetime under the TokenRequest minimum', 'accessgateway', [['spec.credentials.tokenTTL', '5m']],
    'tokenTTL must be from 10m (the TokenRequest minimum) to 24h'],
  ['rotation after 95% of the lifetime', 'accessgateway', [['spec.credentials.rotateAt', 95]], 'spec.credentials.rotateAt: Invalid value: 95'],
  ['an upstream CA without an upstream server', 'accessgateway', [['spec.upstream', { caSecretRef: { name: 'ca' } }]],
    'spec.upstream.caSecretRef: Required value: upstream.caSecretRef needs upstream.server'],
  ['a body buffer smaller than the largest body', 'accessgateway', [['spec.limits', { maxRequestBodyBytes: 8388608, requestBodyBufferBytes: 4194304 }]],
    'limits.requestBodyBufferBytes (default 33554432) must be at least limits.maxRequestBodyBytes (default 3145728)'],
  ['a largest body over the default body buffer', 'accessgateway', [['spec.limits', { maxRequestBodyBytes: 67108864 }]],
    'limits.requestBodyBufferBytes (default 33554432) must be at least limits.maxRequestBodyBytes'],
  ['a header timeout of 20 minutes', 'accessgateway', [['spec.limits', { headersTimeout: '20m' }]], 'headersTimeout must be from 1s to 10m'],
  ['a sub-second idle timeout', 'accessgateway', [['spec.limits', { idleTimeout: '500ms' }]], 'spec.limits.idleTimeout: Invalid value: "500ms"'],
  ['a per-caller cap of zero', 'accessgateway', [['spec.limits', { perCaller: { maxRequestsInflight: 0 } }]], 'spec.limits.perCaller.maxRequestsInflight: Invalid value: 0'],
  ['a selector expression In without values', 'accessgateway', [['spec.policySelector', { matchExpressions: [{ key: 'team', operator: 'In' }] }]],
    'In and NotIn need values; Exists and DoesNotExist take none'],
  ['a subject naming a user and a group', 'accesspolicy', [['spec.subjects', [{ user: { name: 'a' }, group: { name: 'b' } }]]],
    'each subject names exactly one of user, group, serviceAccount or claim'],
  ['a claim subject with value and values', 'accesspolicy', [['spec.subjects.0.claim.values', ['acme/other']]],
    'a claim subject names exactly one of value or values'],
  ['a policy without rules', 'accesspolicy', [['spec.rules', []]], 'spec.rules in body should have at least 1 items'],
  ['two rules with the same name', 'accesspolicy', [['spec.rules.3', { name: 'no-namespace-deletes', action: 'Allow' }]],
    'spec.rules[3]: Duplicate value: {"name":"no-namespace-deletes"}'],
  ['a rule name that is not a DNS label', 'accesspolicy', [['spec.rules.0.name', 'No Spaces']], 'spec.rules[0].name: Invalid value: "No Spaces"'],
  ['RequireApproval without approval', 'accesspolicy', [['spec.rules.2.approval', undefined]],
    'spec.rules[2].approval: Invalid value: approval is required for action RequireApproval and only allowed with it'],
  ['approval on an Allow rule', 'accesspolicy', [['spec.rules.1.approval', { approvers: { users: ['x'] } }]],
    'spec.rules[1].approval: Invalid value: approval is required for action RequireApproval and only allowed with it'],
  ['approvers naming nobody', 'accesspolicy', [['spec.rules.2.approval.approvers', {}]], 'approvers must name at least one user or group'],
  ['more approvals than approver users', 'accesspolicy', [['spec.rules.2.approval.approvers', { users: ['alice'] }], ['spec.rules.2.approval.minApprovals', 2]],
    'spec.rules[2].approval.minApprovals: Invalid value: minApprovals is more than the number of approver users'],
  ['an approval timeout of one second', 'accesspolicy', [['spec.rules.2.approval.timeout', '1s']], 'approval.timeout must be from 10s to 24h'],
  ['an unknown verb', 'accesspolicy', [['spec.rules.1.match.verbs', ['exec']]], 'spec.rules[1].match.verbs[0]: Unsupported value: "exec"'],
  ['a resource written with its group', 'accesspolicy', [['spec.rules.1.match.resources', ['deployments.apps']]],
    'spec.rules[1].match.resources[0]: Invalid value: "deployments.apps"'],
  ['nonResourceURLs mixed with resources', 'accesspolicy', [['spec.rules.1.match', { nonResourceURLs: ['/healthz'], resources: ['pods'] }]],
    'nonResourceURLs cannot be combined with apiGroups, resources, namespaces or names'],
  ['a body digest that is not sha256', 'approvalrequest', [['spec.request.bodyDigest', 'md5:abc']], 'spec.request.bodyDigest: Invalid value: "md5:abc"'],
  ['a request with both a resource and a path', 'approvalrequest', [['spec.request.path', '/metrics']], 'a request names exactly one of resource or path'],
  ['an approval request nobody may decide', 'approvalrequest', [['spec.approvers', {}]], 'approvers must name at least one user or group'],
];

describe('Airlock CRDs', () => {
  const ns = useTestNamespace('crd');
  beforeAll(installCrds);

  const apply = (obj: Obj): Promise<string> => kubectlOk(['apply', '--server-side', '-f', '-'], { input: inNamespace(obj, ns.name) });

  it('install, are Established and have their names accepted', async () => {
    const crds = CRD_FILES.map((f) => f.replace(/^airlock\.dev_(.*)\.yaml$/, '$1.airlock.dev'));
    for (const crd of crds) {
      const conditions = await kubectlOk(['get', 'crd', crd, '-o', 'jsonpath={range .status.conditions[*]}{.type}={.status} {end}']);
      expect(conditions.split(' ')).toEqual(expect.arrayContaining(['Established=True', 'NamesAccepted=True']));
    }
  });

  it.each([
    ['accessgateway.spec.authentication.oidc', 'OpenID Connect issuers whose JWTs are accepted'],
    ['accessgateway.spec.authentication.oidc.usernamePrefix', 'Required, so the choice is explicit; "" means none'],
    ['accessgateway.spec.defaultAction', 'Allow forwards it and lets Kubernetes RBAC decide'],
    ['accessgateway.spec.audit.failurePolicy', 'FailClosed (default) refuses a request whose audit record cannot be written durably'],
    ['accesspolicy.spec.rules.action', 'RequireApproval holds it until approvers decide'],
    ['accesspolicy.spec.subjects', 'each entry names exactly one of user, group, serviceAccount or claim'],
    ['approvalrequest.spec', 'Written by the gateway once; immutable'],
    ['approvalrequest.status.decisions', 'append-only, one per reviewer'],
  ])('kubectl explain %s documents the field', async (field, text) => {
    const out = await kubectlOk(['explain', field]);
    expect(out.replace(/\s+/g, ' ')).toContain(text.replace(/\s+/g, ' '));
  });

  it('config/crd builds the CRDs of crds/ with the Argo CD sync wave', async () => {
    const built = parseAllDocuments(await kubectlOk(['kustomize', 'config/crd'])).map((d) => d.toJS() as Obj)
      .filter((o) => o['kind'] === 'CustomResourceDefinition');
    expect(built.map((d) => (d['metadata'] as Obj)['name']).sort()).toEqual(
      CRD_FILES.map((f) => f.replace(/^airlock\.dev_(.*)\.yaml$/, '$1.airlock.dev')).sort(),
    );
    for (const crd of built) {
      const metadata = crd['metadata'] as { annotations?: Record<string, string>; name: string };
      expect(metadata.annotations?.['argocd.argoproj.io/sync-wave'], metadata.name).toBe('-1');
      const source = parse(await readFile(`crds/airlock.dev_${metadata.name.split('.')[0] ?? ''}.yaml`, 'utf8')) as Obj;
      expect(crd['spec']).toEqual(source['spec']);
    }
  });

  it('accepts every sample of config/samples, built with kustomize, in the test namespace', async () => {
    const built = parseAllDocuments(await kubectlOk(['kustomize', 'config/samples'])).map((d) => d.toJS() as Obj);
    // The samples live in airlock-system; here each goes to the test namespace instead.
    const objects = built.filter((o) => o['kind'] !== 'Namespace');
    expect(objects.map((o) => o['kind'])).toEqual(['AccessGateway', 'AccessPolicy']);
    for (const obj of objects) await apply(obj);
    const names = await kubectlOk(['get', 'airlock', '-o', 'name'], { namespace: ns.name });
    expect(names.trim().split('\n').sort()).toEqual(['accessgateway.airlock.dev/ci-gateway', 'accesspolicy.airlock.dev/payments-ci']);
  });

  it('accepts the smallest gateway, spec: {}, and fills every default, audit to a file included', async () => {
    await apply({ apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessGateway', metadata: { name: 'minimal' }, spec: {} });
    const spec = JSON.parse(await kubectlOk(['get', 'agw', 'minimal', '-o', 'jsonpath={.spec}'], { namespace: ns.name })) as unknown;
    expect(spec).toEqual({
      replicas: 2,
      defaultAction: 'Deny',
      discovery: 'AllAuthenticated',
      authentication: { serviceAccountTokens: { enabled: true } },
      identity: { forwardAs: 'Caller' },
      audit: { level: 'Metadata', failurePolicy: 'FailClosed', maxResponseBodyBytes: 65536, sinks: [{ file: { path: DEFAULT_AUDIT_FILE, maxSizeMB: 100, maxFiles: 10 } }] },
      credentials: { tokenTTL: '1h', rotateAt: 80 },
      tls: { mode: 'OperatorManaged' },
      service: { type: 'ClusterIP', port: 443 },
    });
  });

  it('accepts every limit a platform team tunes, as the gateway reads them', async () => {
    const gateway = await sample('accessgateway');
    edit(gateway, 'spec.limits', {
      maxConnections: 4096, maxConnectionsPerClientIP: 0, tlsHandshakeTimeout: '5s', headersTimeout: '1m', idleTimeout: '2m', requestBodyTimeout: '90s',
      requestBodyIdleTimeout: '20s', maxRequestBodyBytes: 8388608, requestBodyBufferBytes: 134217728, perCaller: { maxRequestsInflight: 16, maxLongRunningRequests: 1000 },
    });
    await apply(gateway);
    const limits = JSON.parse(await kubectlOk(['get', 'agw', 'ci-gateway', '-o', 'jsonpath={.spec.limits}'], { namespace: ns.name })) as unknown;
    expect(limits).toEqual((gateway['spec'] as Obj)['limits']);
  });

  it('keeps an audit a user wrote: level None, or a webhook without the default file', async () => {
    await apply({ apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessGateway', metadata: { name: 'no-audit' }, spec: { audit: { level: 'None' } } });
    await apply({ apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessGateway', metadata: { name: 'webhook-only' }, spec: { audit: { sinks: [{ webhook: { url: 'https://audit.example.com/airlock' } }] } } });
    const audit = async (name: string): Promise<unknown> => JSON.parse(await kubectlOk(['get', 'agw', name, '-o', 'jsonpath={.spec.audit}'], { namespace: ns.name }));
    expect(await audit('no-audit')).toMatchObject({ level: 'None' });
    expect(await audit('webhook-only')).toEqual({ level: 'Metadata', failurePolicy: 'FailClosed', maxResponseBodyBytes: 65536, sinks: [{ webhook: { url: 'https://audit.example.com/airlock', batchSize: 100, flushInterval: '1s' } }] });
  });

  it.each(invalid)('rejects %s', async (_name, kind, edits, message) => {
    const obj = await sample(kind);
    for (const [path, value] of edits) edit(obj, path, value);
    const result = await kubectl(['create', '-f', '-'], { input: inNamespace(obj, ns.name) });
    expect(result.code, result.stdout).not.toBe(0);
    expect(result.stderr).toContain(message);
  });

  it('scales a gateway through the scale subresource, within its bounds', async () => {
    await apply(await sample('accessgateway'));
    await kubectlOk(['scale', 'agw/ci-gateway', '--replicas=3'], { namespace: ns.name });
    expect(await kubectlOk(['get', 'agw', 'ci-gateway', '-o', 'jsonpath={.spec.replicas}'], { namespace: ns.name })).toBe('3');
    const zero = await kubectl(['scale', 'agw/ci-gateway', '--replicas=0'], { namespace: ns.name });
    expect(zero.code).not.toBe(0);
    expect(zero.stderr).toContain('should be greater than or equal to 1');
  });

  it('keeps an ApprovalRequest spec immutable but its labels editable', async () => {
    await apply(await sample('approvalrequest'));
    const name = 'payments-ci-scale-api-7f3c2';
    const result = await kubectl(['patch', 'apr', name, '--type=merge', '-p', '{"spec":{"request":{"summary":"something else"}}}'], { namespace: ns.name });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('spec: Invalid value: spec is immutable; a changed request needs a new ApprovalRequest');
    await kubectlOk(['label', 'apr', name, 'airlock.dev/reviewed=true'], { namespace: ns.name });
  });

  it('keeps ApprovalRequest decisions append-only, one per reviewer, and its phase moving forward', async () => {
    await apply(await sample('approvalrequest'));
    const alice = { decision: 'Approve', by: 'alice', at: '2030-01-01T00:01:00Z' };
    const bob = { decision: 'Approve', by: 'bob', at: '2030-01-01T00:02:00Z' };
    const patchStatus = (status: Obj): ReturnType<typeof kubectl> => kubectl(
      ['patch', 'apr', 'payments-ci-scale-api-7f3c2', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })],
      { namespace: ns.name },
    );
    const steps: [Obj, string | undefined][] = [
      [{ phase: 'Pending', decisions: [alice] }, undefined],
      [{ decisions: [{ ...alice, decision: 'Deny' }] }, 'decisions are append-only; earlier decisions cannot be changed or removed'],
      [{ decisions: [] }, 'decisions are append-only; earlier decisions cannot be changed or removed'],
      [{ decisions: null }, 'decisions are append-only; none may be removed'],
      [{ decisions: [alice, { ...alice, at: '2030-01-01T00:03:00Z' }] }, 'each reviewer decides once'],
      [{ decisions: [alice, bob], phase: 'Approved' }, undefined],
      [{ phase: 'Pending' }, 'phase only moves forward'],
      [{ phase: 'Denied' }, 'phase only moves forward'],
      [{ phase: 'Consumed', consumedBy: { auditID: 'a1b2', at: '2030-01-01T00:04:00Z' } }, undefined],
      [{ phase: 'Expired' }, 'phase only moves forward'],
    ];
    for (const [status, message] of steps) {
      const result = await patchStatus(status);
      if (message === undefined) expect(result.stderr, JSON.stringify(status)).toBe('');
      else expect(result.stderr, JSON.stringify(status)).toContain(message);
    }
    expect(await kubectlOk(['get', 'apr', '-o', 'jsonpath={.items[0].status.phase} {.items[0].status.decisions[*].by}'], { namespace: ns.name }))
      .toBe('Consumed alice bob');
  });

  it('shows the printer columns in kubectl get agw,ap,apr', async () => {
    for (const kind of ['accessgateway', 'accesspolicy', 'approvalrequest'] as const) await apply(await sample(kind));
    const tables = headers(await kubectlOk(['get', 'agw,ap,apr'], { namespace: ns.name }));
    expect(tables).toEqual([
      ['NAME', 'READY', 'REPLICAS', 'DEFAULT', 'ENDPOINT', 'AGE'],
      ['NAME', 'ACCEPTED', 'RULES', 'GATEWAYS', 'AGE'],
      ['NAME', 'PHASE', 'REQUESTER', 'SUMMARY', 'AGE'],
    ]);
    const wide = headers(await kubectlOk(['get', 'agw,apr', '-o', 'wide'], { namespace: ns.name }));
    expect(wide[0]).toContain('CREDENTIAL-EXPIRES');
    expect(wide[1]).toContain('EXPIRES');
    const row = (await kubectlOk(['get', 'apr'], { namespace: ns.name })).split('\n')[1] ?? '';
    expect(row).toContain('github:repo:acme/payments:ref:refs/heads/main');
    expect(row).toContain('scale deployment prod/api to 0 replicas');
  });
});
