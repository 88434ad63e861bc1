// Attacks on the approval flow, over the wire, on the real control plane, with realistic actors
// (e2e/support/approval-gateways.ts): a CI caller, reviewers with their own certificates, two
// gateways sharing a namespace, the operator running as its ServiceAccount, the shipped admission
// policy in force. Each test is one way a grant was stretched, reused or forged (issue 21, and
// item 6 of issue 14); each asserts the upstream state with the admin client.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  CI_USER, decideWithKubectl, gatewayCredential, heldBy, iso, send, setUpAttack, storedRequests, type AttackSetup, type StoredRequest,
} from './support/approval-gateways.ts';
import { kubectl, kubectlOk } from './support/kubectl.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';

let s: AttackSetup;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** A command left waiting while the test acts: awaited later, and never an unhandled rejection if an assertion ends the test first. */
function waiting<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

beforeAll(async () => {
  s = await setUpAttack('apr-attack', ({ app, people }) => {
    const held = (name: string, names: string[], approval: Record<string, unknown>, match: Record<string, unknown> = {}) => ({
      name, action: 'RequireApproval' as const,
      match: { verbs: ['patch'], resources: ['configmaps'], names, namespaces: [app], ...match },
      approval: { approvers: { users: [people.alice] }, mode: 'Reject', ...approval },
    });
    return {
      dev: [
        held('cross', ['cross-target'], { approvers: { users: [people.carol] } }),
        held('held', ['held-target'], { mode: 'Wait', timeout: '40s' }),
      ],
      prod: [
        held('ttl', ['ttl-target'], { grantTTL: '10s' }),
        held('groups', ['group-target'], {}),
        held('cross', ['cross-target', 'mint-target'], { reusable: true }),
        held('swap', ['api'], { mode: 'Wait', timeout: '2m' }, { apiGroups: ['apps'], resources: ['deployments'] }),
        held('secret', ['db'], { mode: 'Wait', timeout: '2m' }, { resources: ['secrets'] }),
        held('race', ['race-target'], {}),
        held('race-wait', ['race-wait-target'], { mode: 'Wait', timeout: '2m' }),
        held('content-type', ['ct-target'], {}),
        held('delete', ['del-target'], {}, { verbs: ['delete'] }),
        held('leave', ['leave-target'], { mode: 'Wait', timeout: '2m' }),
      ],
    };
  });
  for (const name of ['ttl-target', 'group-target', 'cross-target', 'mint-target', 'race-target', 'race-wait-target', 'ct-target', 'del-target', 'held-target', 'leave-target']) {
    await kubectlOk(['create', 'configmap', name, '--from-literal=k=0', '-n', s.app]);
  }
  await kubectlOk(['create', 'deployment', 'api', '--image=registry.example/api:1', '--replicas=1', '-n', s.app]);
  await kubectlOk(['create', 'secret', 'generic', 'db', '--from-literal=password=old', '-n', s.app]);
}, 300_000);

afterAll(async () => { await s.cleanup(); });

const configValue = async (name: string): Promise<string> => (await kubectlOk(['get', 'configmap', name, '-n', s.app, '-o', 'jsonpath={.data.k}'])).trim();
const cmPath = (name: string): string => `/api/v1/namespaces/${s.app}/configmaps/${name}`;
const merge = (value: string): string => JSON.stringify({ data: { k: value } });

async function approve(name: string, person: 'alice' | 'carol' = 'alice'): Promise<string> {
  const result = await s.as(person, ['approve', name, '-n', s.namespace, '--reason', 'checked']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

async function stored(name: string): Promise<StoredRequest> {
  return JSON.parse(await kubectlOk(['get', 'approvalrequest', name, '-n', s.namespace, '-o', 'json'])) as StoredRequest;
}

/** Polls for a request this gateway holds for the named object (created after `since`). */
async function waitForHeld(gateway: string, object: string, since: readonly string[] = []): Promise<StoredRequest> {
  let found: StoredRequest | undefined;
  await expect.poll(async () => {
    found = (await storedRequests(s.namespace)).find((r) => r.spec.gateway === gateway && r.spec.request.name === object && !since.includes(r.metadata.name));
    return found !== undefined;
  }, { timeout: 20_000 }).toBe(true);
  if (found === undefined) throw new Error('unreachable');
  return found;
}

describe('issue 21, item 1: a decision dated ahead does not stretch the grant', () => {
  it('a decision dated a year ahead neither lets a 10s grant be used 13s later nor sets a year-long window', async () => {
    const token = await s.ciToken(s.prod);
    const patch = (): ReturnType<typeof send> => send(s.prod, token, { method: 'PATCH', path: cmPath('ttl-target'), contentType: 'application/merge-patch+json', body: merge('stretched') });
    const first = await patch();
    expect(first.code).toBe(403);
    const held = await heldBy(first, s.namespace);
    const yearAhead = iso(Date.now() + 365 * 24 * 3600_000);
    const decided = await decideWithKubectl(s, 'alice', held.metadata.name, yearAhead);
    expect(decided.stderr).toBe('');
    await sleep(13_000);
    const late = await patch();
    expect(late.code, late.body).toBe(403);
    expect(await configValue('ttl-target')).toBe('0');
    // Whatever the operator wrote, the window is not measured from the decision's own `at`.
    const grant = (await stored(held.metadata.name)).status?.grant;
    if (grant !== undefined) expect(Date.parse(grant.notAfter)).toBeLessThan(Date.now() + 10_000);
  }, 60_000);
});

describe('issue 21, item 2: the whole effective identity is approved, not its username', () => {
  it('a grant for "CI as deployer" is not used by "CI as deployer + ops group"', async () => {
    const token = await s.ciToken(s.prod);
    const patch = (groups: string[]): ReturnType<typeof send> => send(s.prod, token, {
      method: 'PATCH', path: cmPath('group-target'), contentType: 'application/merge-patch+json', body: merge('as-ops'),
      headers: { 'impersonate-user': s.deployer, ...(groups.length === 0 ? {} : { 'impersonate-group': groups.join(',') }) },
    });
    const first = await patch([]);
    expect(first.code).toBe(403);
    const held = await heldBy(first, s.namespace);
    expect(held.spec.requester.effective?.username).toBe(s.deployer);
    await approve(held.metadata.name);
    const widened = await patch([s.opsGroup]);
    expect(widened.code, widened.body).toBe(403);
    expect(widened.body).toContain('approval required');
    expect(await configValue('group-target')).toBe('0');
    expect((await stored(held.metadata.name)).status?.phase).not.toBe('Consumed');
  });
});

describe('issue 21, item 3: a grant is bound to the gateway and rule that held it', () => {
  it('an approval given under gateway dev (approver carol) does not satisfy gateway prod (approver alice)', async () => {
    const [devToken, prodToken] = [await s.ciToken(s.dev), await s.ciToken(s.prod)];
    const call = { method: 'PATCH', path: cmPath('cross-target'), contentType: 'application/merge-patch+json', body: merge('cross') };
    const first = await send(s.dev, devToken, call);
    expect(first.code).toBe(403);
    const held = await heldBy(first, s.namespace);
    expect(held.spec.gateway).toBe('dev');
    await approve(held.metadata.name, 'carol');
    const viaProd = [await send(s.prod, prodToken, call), await send(s.prod, prodToken, call)];
    expect(viaProd.map((a) => a.code)).toEqual([403, 403]);
    expect(await configValue('cross-target')).toBe('0');
    // Where it was given, the approval works.
    const viaDev = await send(s.dev, devToken, call);
    expect(viaDev.code, viaDev.body).toBe(200);
    expect(await configValue('cross-target')).toBe('cross');
  });
});

describe('issue 21, item 4: a gateway credential cannot mint approvals', () => {
  it('the dev gateway cannot set phase Approved (no decisions) on a request carrying prod\'s fingerprint, and prod does not use it', async () => {
    const prodToken = await s.ciToken(s.prod);
    const call = { method: 'PATCH', path: cmPath('mint-target'), contentType: 'application/merge-patch+json', body: merge('minted') };
    const first = await send(s.prod, prodToken, call);
    expect(first.code).toBe(403);
    const original = await heldBy(first, s.namespace);
    // The dev gateway's own credential, straight at the API server (not through a gateway).
    const apiKubeconfig = await gatewayCredential(s.dev, s.namespace);
    const forgedName = `forged-${randomBytes(3).toString('hex')}`;
    const forged = {
      apiVersion: 'airlock.dev/v1alpha1', kind: 'ApprovalRequest',
      metadata: { name: forgedName, namespace: s.namespace, labels: { ...original.metadata.labels, 'airlock.dev/gateway': 'dev' } },
      spec: { ...original.spec, gateway: 'dev' },
    };
    const created = await kubectl(['create', '-f', '-'], { kubeconfig: apiKubeconfig, input: stringify(forged) });
    expect(created.stderr).toBe('');
    const minted = await kubectl(['patch', 'apr', forgedName, '-n', s.namespace, '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Approved"}}'], { kubeconfig: apiKubeconfig });
    expect(minted.code).not.toBe(0);
    expect(minted.stderr).toContain('ValidatingAdmissionPolicy');
    const used = [await send(s.prod, prodToken, call), await send(s.prod, prodToken, call)];
    expect(used.map((a) => a.code)).toEqual([403, 403]);
    expect(await configValue('mint-target')).toBe('0');
  });
});

describe('issue 21, item 4: the gateway verifies the decisions itself (no admission policy in force)', () => {
  let lax: TestGateway;
  let laxNamespace: string;
  let policyNamespace: string;
  beforeAll(async () => {
    const suffix = randomBytes(3).toString('hex');
    laxNamespace = `apr-attack-lax-${suffix}`;
    policyNamespace = `apr-attack-lax-pol-${suffix}`;
    await kubectlOk(['create', 'namespace', policyNamespace]);
    await kubectlOk(['apply', '-f', '-'], { input: stringify({
      apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'lax', namespace: policyNamespace },
      spec: { subjects: [{ claim: { name: 'repository', value: 'acme/payments' } }], rules: [
        { name: 'lax', match: { verbs: ['patch'], resources: ['configmaps'], names: ['lax-target'], namespaces: [s.app] }, action: 'RequireApproval',
          approval: { approvers: { users: [s.people.alice, CI_USER] }, mode: 'Reject' } },
        { name: 'work', match: { apiGroups: [''], namespaces: [s.app] }, action: 'Allow' },
      ] },
    }) });
    await kubectlOk(['create', 'configmap', 'lax-target', '--from-literal=k=0', '-n', s.app]);
    lax = await startTestGateway({ name: 'lax', namespace: laxNamespace, policyNamespace });
  }, 120_000);
  afterAll(async () => {
    await lax.stop();
    await kubectl(['delete', '--ignore-not-found', 'clusterrolebinding,clusterrole', `airlock-gateway-${laxNamespace}-lax`]);
    await kubectl(['delete', 'namespace', laxNamespace, policyNamespace, '--wait=false']);
  });

  it('refuses phase Approved without decisions, approvals by a non-approver or by the requester; accepts a listed approver', async () => {
    const token = await lax.oidc.token('github-actions');
    const call = { method: 'PATCH', path: cmPath('lax-target'), contentType: 'application/merge-patch+json', body: merge('lax') };
    const first = await send(lax, token, call);
    expect(first.code).toBe(403);
    const held = await heldBy(first, laxNamespace);
    const asLax = await gatewayCredential(lax, laxNamespace);
    const status = (body: object, kubeconfig?: string): Promise<string> => kubectlOk(
      ['patch', 'apr', held.metadata.name, '-n', laxNamespace, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: body })],
      kubeconfig === undefined ? {} : { kubeconfig },
    );
    await status({ phase: 'Approved' }, asLax);
    expect((await send(lax, token, call)).code).toBe(403);
    const decision = (by: string): object => ({ decision: 'Approve', by, reason: 'x', at: iso(Date.now()) });
    await status({ decisions: [decision(s.people.mallory)] });
    expect((await send(lax, token, call)).code).toBe(403);
    await status({ decisions: [decision(s.people.mallory), decision(CI_USER)] });
    expect((await send(lax, token, call)).code).toBe(403);
    expect(await configValue('lax-target')).toBe('0');
    await status({ decisions: [decision(s.people.mallory), decision(CI_USER), decision(s.people.alice)] });
    const approved = await send(lax, token, call);
    expect(approved.code, approved.body).toBe(200);
    expect(await configValue('lax-target')).toBe('lax');
  });
});

describe('issue 21, item 5: approvers see what will change', () => {
  it('an image swap next to a replica change is not summarised as a scale; kubectl approve shows the image before deciding', async () => {
    const ci = await s.ciKubeconfig(s.prod);
    const patch = { spec: { replicas: 3, template: { spec: { containers: [{ name: 'api', image: 'evil.example/backdoor:1' }] } } } };
    const patching = waiting(kubectl(['patch', 'deployment', 'api', '-n', s.app, '-p', JSON.stringify(patch)], { kubeconfig: ci }));
    const held = await waitForHeld('prod', 'api');
    expect(held.spec.request.summary).not.toMatch(/^scale/);
    expect(held.spec.request.summary).toContain('.spec.template.spec.containers[0].image');
    expect(held.spec.request.changes).toEqual(expect.arrayContaining([
      { path: '.spec.replicas', value: '3' },
      { path: '.spec.template.spec.containers[0].image', value: '"evil.example/backdoor:1"' },
    ]));
    const shown = await approve(held.metadata.name);
    const imageLine = shown.search(/\.spec\.template\.spec\.containers\[0\]\.image +"evil\.example\/backdoor:1"/);
    expect(imageLine).toBeGreaterThan(0);
    expect(imageLine).toBeLessThan(shown.indexOf('approved:'));
    expect((await patching).code).toBe(0);
  });

  it('a replicas-only patch reads as a scale', async () => {
    const ci = await s.ciKubeconfig(s.prod);
    const before = (await storedRequests(s.namespace)).map((r) => r.metadata.name);
    const patching = waiting(kubectl(['patch', 'deployment', 'api', '-n', s.app, '-p', '{"spec":{"replicas":2}}'], { kubeconfig: ci }));
    const held = await waitForHeld('prod', 'api', before);
    expect(held.spec.request.summary).toBe(`scale deployment ${s.app}/api to 2 replicas`);
    expect(held.spec.request.changes).toEqual([{ path: '.spec.replicas', value: '2' }]);
    expect((await s.as('alice', ['approve', '--deny', held.metadata.name, '-n', s.namespace, '--reason', 'not now'])).code).toBe(0);
    expect((await patching).code).not.toBe(0);
  });

  it('a Secret value in the body is masked in the ApprovalRequest and in kubectl approve', async () => {
    const ci = await s.ciKubeconfig(s.prod);
    const secret = Buffer.from('hunter2-the-real-one').toString('base64');
    const patching = waiting(kubectl(['patch', 'secret', 'db', '-n', s.app, '-p', JSON.stringify({ data: { password: secret } })], { kubeconfig: ci }));
    const held = await waitForHeld('prod', 'db');
    expect(held.spec.request.changes).toEqual([{ path: '.data.password', value: JSON.stringify(Buffer.from('***MASKED***').toString('base64')) }]);
    expect(JSON.stringify(held)).not.toContain(secret);
    const shown = await s.as('alice', ['approve', '--deny', held.metadata.name, '-n', s.namespace, '--reason', 'no']);
    expect(shown.stdout).toContain('.data.password');
    expect(shown.stdout).not.toContain(secret);
    expect((await patching).code).not.toBe(0);
  });
});

describe('issue 21, item 6: a grant is not lost to a race with the operator', () => {
  it('Reject mode: approve, then resend at once, eight times: every resend goes through on its approval', async () => {
    const token = await s.ciToken(s.prod);
    const codes: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      const call = { method: 'PATCH', path: cmPath('race-target'), contentType: 'application/merge-patch+json', body: merge(`race-${i}`) };
      const first = await send(s.prod, token, call);
      expect(first.code).toBe(403);
      const held = await heldBy(first, s.namespace);
      await s.approveNow('alice', held.metadata.name);
      // The operator writes phase and grant at the very moment the resend consumes the grant.
      const [resend] = await Promise.all([send(s.prod, token, call), s.operatorMarksApproved(held.metadata.name, 600_000)]);
      codes.push(resend.code);
      const same = (await storedRequests(s.namespace)).filter((r) => r.spec.request.fingerprint === held.spec.request.fingerprint);
      expect(same.map((r) => r.metadata.name)).toEqual([held.metadata.name]);
    }
    expect(codes).toEqual([200, 200, 200, 200, 200, 200, 200, 200]);
  }, 90_000);

  it('Wait mode: an approved held request goes through (never "already used" when nothing ran), four times', async () => {
    const ci = await s.ciKubeconfig(s.prod);
    const results: string[] = [];
    const seen: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const patching = waiting(kubectl(['patch', 'configmap', 'race-wait-target', '-n', s.app, '--type=merge', '-p', merge(`wait-${i}`)], { kubeconfig: ci }));
      const held = await waitForHeld('prod', 'race-wait-target', seen);
      seen.push(held.metadata.name);
      await s.approveNow('alice', held.metadata.name);
      // An operator as quick as the gateway: its status write lands while the gateway consumes.
      await s.operatorMarksApproved(held.metadata.name, 600_000);
      const result = await patching;
      results.push(result.code === 0 ? 'ok' : result.stderr.trim());
    }
    expect(results).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(await configValue('race-wait-target')).toBe('wait-3');
  }, 90_000);
});

describe('issue 14, item 6: the fingerprint covers the content type and DELETE bodies', () => {
  it('a strategic-merge grant does not replay as a merge patch', async () => {
    const token = await s.ciToken(s.prod);
    const body = merge('strategic');
    const strategic = { method: 'PATCH', path: cmPath('ct-target'), contentType: 'application/strategic-merge-patch+json', body };
    const first = await send(s.prod, token, strategic);
    expect(first.code).toBe(403);
    await approve((await heldBy(first, s.namespace)).metadata.name);
    const replay = await send(s.prod, token, { ...strategic, contentType: 'application/merge-patch+json' });
    expect(replay.code, replay.body).toBe(403);
    expect(await configValue('ct-target')).toBe('0');
    const exact = await send(s.prod, token, strategic);
    expect(exact.code, exact.body).toBe(200);
  });

  it('a grant for a dry-run DELETE (DeleteOptions in the body) does not cover a real one', async () => {
    const token = await s.ciToken(s.prod);
    const del = (options: object): ReturnType<typeof send> => send(s.prod, token, {
      method: 'DELETE', path: cmPath('del-target'), contentType: 'application/json', body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', ...options }),
    });
    const first = await del({ dryRun: ['All'] });
    expect(first.code).toBe(403);
    const held = await heldBy(first, s.namespace);
    expect(held.spec.request.changes).toEqual(expect.arrayContaining([{ path: '.dryRun[0]', value: '"All"' }]));
    await approve(held.metadata.name);
    const real = await del({ propagationPolicy: 'Background' });
    expect(real.code, real.body).toBe(403);
    expect((await kubectl(['get', 'configmap', 'del-target', '-n', s.app])).code).toBe(0);
    const dry = await del({ dryRun: ['All'] });
    expect(dry.code, dry.body).toBe(200);
    expect((await kubectl(['get', 'configmap', 'del-target', '-n', s.app])).code).toBe(0);
  });
});

describe('Wait mode: a client that leaves before the decision (kept and documented in docs/approvals.md)', () => {
  it('forwards nothing when the client leaves; the identical resend uses the later approval once', async () => {
    const token = await s.ciToken(s.prod);
    const call = { method: 'PATCH', path: cmPath('leave-target'), contentType: 'application/merge-patch+json', body: merge('after-leaving') };
    const client = new AbortController();
    const leaving = send(s.prod, token, { ...call, signal: client.signal });
    leaving.catch(() => undefined);
    const held = await waitForHeld('prod', 'leave-target');
    client.abort();
    await expect(leaving).rejects.toThrow();
    await sleep(500);
    expect((await stored(held.metadata.name)).status?.phase).toBe('Pending');
    expect(await configValue('leave-target')).toBe('0');
    await approve(held.metadata.name);
    const resend = await send(s.prod, token, call);
    expect(resend.code, resend.body).toBe(200);
    expect(await configValue('leave-target')).toBe('after-leaving');
    expect((await stored(held.metadata.name)).status?.phase).toBe('Consumed');
  });
});

describe('issue 14, item 6: held requests are capped per caller', () => {
  it('a third held request from one caller gets 429 with Retry-After; a slot frees when one is decided', async () => {
    const token = await s.ciToken(s.dev);
    const hold = (value: string): ReturnType<typeof send> => send(s.dev, token, { method: 'PATCH', path: cmPath('held-target'), contentType: 'application/merge-patch+json', body: merge(value) });
    const first = hold('one');
    const second = hold('two');
    const a = await waitForHeld('dev', 'held-target');
    const b = await waitForHeld('dev', 'held-target', [a.metadata.name]);
    const third = await hold('three');
    expect(third.code, third.body).toBe(429);
    expect(third.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(JSON.parse(third.body)).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', code: 429 });
    for (const held of [a, b]) expect((await s.as('alice', ['approve', '--deny', held.metadata.name, '-n', s.namespace, '--reason', 'no'])).code).toBe(0);
    expect((await first).code).toBe(403);
    expect((await second).code).toBe(403);
    const fourth = hold('four');
    const c = await waitForHeld('dev', 'held-target', [a.metadata.name, b.metadata.name]);
    expect((await s.as('alice', ['approve', '--deny', c.metadata.name, '-n', s.namespace, '--reason', 'no'])).code).toBe(0);
    expect((await fourth).code).toBe(403);
  });
});
