import { describe, expect, it } from 'vitest';
import type { AccessGateway, AccessPolicy } from '../../crds/types.gen.ts';
import { bypassCondition, createBypassCheck } from './bypass-check.ts';
import { allowedAttributes, findBypass, type AccessAttributes, type BypassSources } from '../../core/bypass/find-bypass.ts';

const GATEWAY = { namespace: 'airlock-system', name: 'ci', serviceAccount: 'airlock-gateway-ci', audiences: ['airlock-ci'] };

/** Plain JSON shaped like the API's objects (the generated types name client-node's V1ObjectMeta class). */
function policy(subjects: AccessPolicy['spec']['subjects'], rules: AccessPolicy['spec']['rules']): AccessPolicy {
  return JSON.parse(JSON.stringify({ apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'p', namespace: 'airlock-system' }, spec: { subjects, rules } })) as AccessPolicy;
}

const deployer = policy([{ serviceAccount: { namespace: 'ci', name: 'deployer' } }], [
  { name: 'cm', match: { verbs: ['get', 'create'], resources: ['configmaps'], namespaces: ['app'] }, action: 'Allow' },
  { name: 'no-secrets', match: { resources: ['secrets'] }, action: 'Deny' },
]);

/** A cluster described by a few facts; `grants` lists "user verb resource namespace" that RBAC allows. */
function cluster(facts: { automount?: boolean; pods?: { name: string; sa: string; automount?: boolean }[]; secrets?: { name: string; sa: string }[]; grants?: string[] }): BypassSources & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    serviceAccount: (namespace, name) => Promise.resolve(namespace === 'ci' && name === 'deployer' ? (facts.automount === undefined ? {} : { automountServiceAccountToken: facts.automount }) : undefined),
    pods: () => Promise.resolve((facts.pods ?? []).map((p) => ({ name: p.name, serviceAccountName: p.sa, ...(p.automount === undefined ? {} : { automountServiceAccountToken: p.automount }) }))),
    tokenSecrets: () => Promise.resolve((facts.secrets ?? []).map((s) => ({ name: s.name, serviceAccountName: s.sa }))),
    allowed: (who, a: AccessAttributes) => {
      const line = `${who.user ?? who.groups.join(',')} ${a.verb} ${a.resource} ${a.namespace}`;
      asked.push(line);
      return Promise.resolve((facts.grants ?? []).includes(line));
    },
  };
}

describe('findBypass', () => {
  it('finds nothing for a ServiceAccount with automount off, no token Secret and RBAC only under gateway-only names', async () => {
    expect(await findBypass(GATEWAY, [deployer], cluster({ automount: false }))).toEqual([]);
  });

  it('names each planted path once, with its fix', async () => {
    const findings = await findBypass(GATEWAY, [deployer], cluster({
      pods: [{ name: 'runner', sa: 'deployer' }, { name: 'other', sa: 'someone-else', automount: true }],
      secrets: [{ name: 'deployer-token', sa: 'deployer' }, { name: 'unrelated', sa: 'x' }],
      grants: ['system:serviceaccount:ci:deployer get configmaps app'],
    }));
    expect(findings.map((f) => [f.kind, f.subject])).toEqual([
      ['AutomountedToken', 'system:serviceaccount:ci:deployer'],
      ['LegacyTokenSecret', 'system:serviceaccount:ci:deployer'],
      ['DirectRbac', 'system:serviceaccount:ci:deployer'],
    ]);
    expect(findings[0]?.fix).toContain(`kubectl patch serviceaccount deployer -n ci -p '{"automountServiceAccountToken":false}'`);
    expect(findings[0]?.fix).toContain('audience airlock-ci');
    expect(findings[1]?.fix).toBe('kubectl delete secret deployer-token -n ci');
    expect(findings[2]?.detail).toContain('get configmaps in app');
    expect(findings[2]?.fix).toContain('kubectl airlock rolebinding --serviceaccount ci:deployer --gateway airlock-system/ci');
  });

  it('finds a pod that turns automount back on for an account that turned it off', async () => {
    const findings = await findBypass(GATEWAY, [deployer], cluster({ automount: false, pods: [{ name: 'runner', sa: 'deployer', automount: true }] }));
    expect(findings).toMatchObject([{ kind: 'AutomountedToken', detail: expect.stringContaining('pod ci/runner') as unknown }]);
  });

  it('finds a gateway credential that may read Secrets as itself', async () => {
    const findings = await findBypass(GATEWAY, [], cluster({ grants: ['system:serviceaccount:airlock-system:airlock-gateway-ci get secrets '] }));
    expect(findings).toMatchObject([{ kind: 'GatewayCredential', subject: 'system:serviceaccount:airlock-system:airlock-gateway-ci', detail: expect.stringContaining('get secrets (cluster-wide)') as unknown }]);
  });

  it('checks users and groups under their own names, and skips claims (no name the API server gives)', async () => {
    const sources = cluster({ grants: ['github:acme create configmaps app'] });
    const findings = await findBypass(GATEWAY, [policy([{ user: { name: 'github:acme' } }, { group: { name: 'ops' } }, { claim: { name: 'repository', value: 'acme/x' } }], deployer.spec.rules)], sources);
    expect(findings.map((f) => f.subject)).toEqual(['github:acme']);
    expect(sources.asked.filter((l) => l.startsWith('ops '))).toHaveLength(2);
  });
});

describe('allowedAttributes', () => {
  it('reads only Allow rules on resources, expanding * verbs and resources to representatives', () => {
    const attributes = allowedAttributes([
      { name: 'a', match: { verbs: ['*'], apiGroups: ['apps'], resources: ['deployments/scale'], namespaces: ['x'] }, action: 'Allow' },
      { name: 'b', match: { resources: ['*'] }, action: 'Deny' },
      { name: 'c', match: { nonResourceURLs: ['/api'] }, action: 'Allow' },
    ]);
    expect(attributes).toHaveLength(7);
    expect(attributes[0]).toEqual({ verb: 'get', group: 'apps', resource: 'deployments', namespace: 'x' });
    expect(allowedAttributes([{ name: 'd', match: { verbs: ['get'] }, action: 'Allow' }]).map((a) => a.resource)).toEqual(['secrets', 'configmaps', 'pods', 'deployments']);
  });
});

describe('the NoBypass condition', () => {
  const gateway = JSON.parse(JSON.stringify({ apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessGateway', metadata: { name: 'ci', namespace: 'airlock-system' }, spec: {} })) as AccessGateway;
  const finding = { kind: 'LegacyTokenSecret' as const, subject: 'system:serviceaccount:ci:deployer', detail: 'd', fix: 'f' };

  it('is True with none, False with the count, the paths and the command that lists the fixes', () => {
    expect(bypassCondition(gateway, [])).toMatchObject({ type: 'NoBypass', status: 'True', reason: 'NoneFound' });
    expect(bypassCondition(gateway, [finding])).toEqual({
      type: 'NoBypass', status: 'False', reason: 'BypassFound',
      message: '1 path(s) around the gateway: LegacyTokenSecret system:serviceaccount:ci:deployer. `kubectl airlock bypass ci -n airlock-system` lists each with its fix.',
    });
  });

  it('checks again only after its interval, and a failed check is Unknown, not a failed reconcile', async () => {
    let now = 0;
    let calls = 0;
    let fail = false;
    const check = createBypassCheck({ intervalMs: 1000, now: () => now, find: () => { calls += 1; return fail ? Promise.reject(new Error('pods is forbidden')) : Promise.resolve([finding]); } });
    expect((await check.condition(gateway)).status).toBe('False');
    now = 999;
    await check.condition(gateway);
    expect(calls).toBe(1);
    now = 1000;
    fail = true;
    expect(await check.condition(gateway)).toMatchObject({ status: 'Unknown', reason: 'CheckFailed', message: expect.stringContaining('pods is forbidden') as unknown });
    expect(calls).toBe(2);
  });
});
