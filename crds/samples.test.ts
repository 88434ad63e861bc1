// The samples in config/samples are what a user applies, and tell one consistent story a reader
// (and the demo) can follow: the gateway selects the policy and trusts the issuer the policy names
// and keeps the claim it matches. The ApprovalRequest test data (crds/testdata) comes from the
// policy's RequireApproval rule. e2e/crds.e2e.test.ts checks that the API server accepts them.
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { AccessGateway, AccessPolicy, ApprovalRequest } from './types.gen.ts';

const samplesDir = new URL('../config/samples/', import.meta.url);
const read = async <T>(file: string): Promise<T> => parse(await readFile(new URL(file, samplesDir), 'utf8'), { uniqueKeys: true }) as T;

const gateway = await read<AccessGateway>('airlock_v1alpha1_accessgateway.yaml');
const policy = await read<AccessPolicy>('airlock_v1alpha1_accesspolicy.yaml');
const approval = parse(await readFile(new URL('./testdata/airlock_v1alpha1_approvalrequest.yaml', import.meta.url), 'utf8'), { uniqueKeys: true }) as ApprovalRequest;

describe('config/samples', () => {
  it('has a gateway and a policy, all listed in the kustomization, and no ApprovalRequest (only gateways create those)', async () => {
    const files = (await readdir(samplesDir)).filter((f) => f !== 'kustomization.yaml').sort();
    expect(files).toEqual(['airlock_v1alpha1_accessgateway.yaml', 'airlock_v1alpha1_accesspolicy.yaml', 'namespace.yaml']);
    const kustomization = await read<{ resources: string[] }>('kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files);
    expect([gateway.kind, policy.kind, approval.kind]).toEqual(['AccessGateway', 'AccessPolicy', 'ApprovalRequest']);
  });

  it('puts every object in one namespace', () => {
    const namespace = gateway.metadata.namespace;
    expect(namespace).toBeTruthy();
    expect([policy.metadata.namespace, approval.metadata.namespace, approval.spec.policy.namespace]).toEqual([namespace, namespace, namespace]);
  });

  it('has the gateway select the policy and trust the issuer and claim the policy matches', () => {
    const matchLabels = gateway.spec.policySelector?.matchLabels ?? {};
    expect(Object.keys(matchLabels).length).toBeGreaterThan(0);
    expect(policy.metadata.labels).toMatchObject(matchLabels);
    for (const { claim } of policy.spec.subjects) {
      if (claim === undefined) continue;
      const issuer = gateway.spec.authentication?.oidc?.find((o) => o.issuerURL === claim.issuer);
      expect(issuer, `issuer ${claim.issuer ?? '(any)'}`).toBeDefined();
      expect(issuer?.claimsForPolicy).toContain(claim.name);
    }
  });

  it('has the ApprovalRequest test data come from the policy RequireApproval rule, with its approvers', () => {
    expect(approval.spec.policy.name).toBe(policy.metadata.name);
    expect(approval.spec.gateway).toBe(gateway.metadata.name);
    const rule = policy.spec.rules.find((r) => r.name === approval.spec.policy.rule);
    expect(rule?.action).toBe('RequireApproval');
    expect(approval.spec.approvers).toEqual(rule?.approval?.approvers);
    expect(approval.spec.request.resource).toBe(rule?.match?.resources?.[0]?.split('/')[0]);
    expect(approval.spec.request.namespace).toBe(rule?.match?.namespaces?.[0]);
  });
});
