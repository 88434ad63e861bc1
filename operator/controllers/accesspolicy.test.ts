// The AccessPolicy status a person reads: who enforces the policy (in the condition and in the
// GATEWAYS column, never raw JSON), and sentences without "(s)" or "(ies)".
import { ApiException } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AccessGateway, AccessPolicy, AccessPolicyStatus } from '../../crds/types.gen.ts';
import { policiesReadyCondition, reconcileAccessPolicy } from './accesspolicy.ts';
import { policyFacts } from './policy-facts.ts';
import { asStored } from './testdata/as-stored.ts';

// Plain JSON shaped like the API's objects (the generated types name client-node's V1ObjectMeta class).
const policy = (rules = 2, name = 'payments-ci'): AccessPolicy => JSON.parse(JSON.stringify({
  apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy',
  metadata: { name, namespace: 'airlock-system', generation: 1, labels: { team: 'payments' } },
  spec: {
    subjects: [{ group: { name: 'ci' } }],
    rules: Array.from({ length: rules }, (_, i) => ({ name: `rule-${i}`, match: { verbs: ['get'], resources: ['pods'] }, action: 'Allow' })),
  },
})) as AccessPolicy;

const gateway = (name: string, selector: Record<string, string> = { team: 'payments' }, namespace = 'airlock-system'): AccessGateway => JSON.parse(JSON.stringify({
  apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessGateway', metadata: { name, namespace }, spec: { policySelector: { matchLabels: selector } },
})) as AccessGateway;

async function writesOf(p: AccessPolicy, gateways: AccessGateway[], now = new Date('2026-01-01T00:00:00Z')): Promise<AccessPolicyStatus[]> {
  const written: AccessPolicyStatus[] = [];
  await reconcileAccessPolicy('airlock-system/payments-ci', {
    get: () => policyFacts(p),
    gateways: () => gateways,
    writeStatus: (_ref, status) => { written.push(status); return Promise.resolve(); },
    now: () => now,
    log: pino({ level: 'silent' }),
  });
  return written;
}

async function statusWith(p: AccessPolicy, gateways: AccessGateway[]): Promise<AccessPolicyStatus> {
  const [status] = await writesOf(p, gateways);
  if (status === undefined) throw new Error('no status written');
  return status;
}

const accepted = (status: AccessPolicyStatus): string => {
  const c = status.conditions?.find((x) => x.type === 'Accepted');
  return `${c?.status ?? ''} ${c?.reason ?? ''}: ${c?.message ?? ''}`;
};

describe('AccessPolicy status', () => {
  it('says a valid policy no gateway selects is enforced by none, and how a gateway selects it', async () => {
    const status = await statusWith(policy(), [gateway('other', { team: 'web' }), gateway('elsewhere', { team: 'payments' }, 'team-b')]);
    expect(status.selectedBy).toEqual([]);
    expect(status.gateways).toBeUndefined();
    expect(accepted(status)).toBe('True Valid: 2 rules valid, but no AccessGateway in airlock-system selects this policy yet, so none enforces it (a gateway\'s spec.policySelector must match the policy\'s labels).');
  });

  it('names the one gateway that enforces it, in the condition and in the GATEWAYS column', async () => {
    const status = await statusWith(policy(1), [gateway('ci-gateway')]);
    expect(status.selectedBy).toEqual(['airlock-system/ci-gateway']);
    expect(status.gateways).toBe('ci-gateway');
    expect(accepted(status)).toBe('True Valid: 1 rule valid, enforced by AccessGateway ci-gateway.');
  });

  it('lists several gateways comma-separated, in order', async () => {
    const status = await statusWith(policy(), [gateway('staging'), gateway('ci-gateway')]);
    expect(status.gateways).toBe('ci-gateway,staging');
    expect(accepted(status)).toBe('True Valid: 2 rules valid, enforced by AccessGateways ci-gateway, staging.');
  });
});

describe('AccessPolicy status writes', () => {
  const later = new Date('2026-01-01T00:10:00Z');

  it('writes nothing when nothing changed, with the status as the API server returns it (keys in its order)', async () => {
    const gateways = [gateway('staging'), gateway('ci-gateway')];
    const stored = { ...policy(), status: asStored(await statusWith(policy(), gateways)) };
    expect(Object.keys(stored.status.conditions?.[0] ?? {})).toEqual(['lastTransitionTime', 'message', 'observedGeneration', 'reason', 'status', 'type']);
    expect(await writesOf(stored, gateways, later)).toEqual([]);
  });

  it('writes when the gateways that select it change, keeping lastTransitionTime while Accepted stays True', async () => {
    const first = await statusWith(policy(), [gateway('ci-gateway')]);
    const written = await writesOf({ ...policy(), status: asStored(first) }, [gateway('ci-gateway'), gateway('staging')], later);
    expect(written).toHaveLength(1);
    expect(written[0]?.selectedBy).toEqual(['airlock-system/ci-gateway', 'airlock-system/staging']);
    expect(written[0]?.conditions?.[0]?.lastTransitionTime).toBe(first.conditions?.[0]?.lastTransitionTime);
  });

  it('writes when the spec changed (a new observedGeneration)', async () => {
    const first = await statusWith(policy(), [gateway('ci-gateway')]);
    const newer = { ...policy(), status: asStored(first) };
    newer.metadata.generation = 2;
    expect((await writesOf(newer, [gateway('ci-gateway')], later)).map((s) => s.observedGeneration)).toEqual([2]);
  });

  it('records no Event for a policy accepted when it is created (its status says so), a Warning for one rejected, and an Event when Accepted changes', async () => {
    const events = async (p: AccessPolicy): Promise<string[]> => {
      const recorded: string[] = [];
      await reconcileAccessPolicy('airlock-system/payments-ci', {
        get: () => policyFacts(p), gateways: () => [gateway('ci-gateway')],
        writeStatus: () => Promise.resolve(),
        recordEvent: (_p, e) => { recorded.push(`${e.type} ${e.reason}`); return Promise.resolve(); },
        now: () => later, log: pino({ level: 'silent' }),
      });
      return recorded;
    };
    const bad = (): AccessPolicy => { const p = policy(); p.spec.rules[0]!.mask = { fields: ['.data[0]'] }; return p; };
    expect(await events(policy())).toEqual([]);
    expect(await events(bad())).toEqual(['Warning InvalidRule']);
    const rejected = { ...bad(), status: asStored(await statusWith(bad(), [gateway('ci-gateway')])) };
    expect(await events({ ...policy(), status: rejected.status })).toEqual(['Normal Valid']);
  });

  it('treats a status write of a policy deleted meanwhile (404) as done, not as a failure', async () => {
    const written = reconcileAccessPolicy('airlock-system/payments-ci', {
      get: () => policyFacts(policy()),
      gateways: () => [],
      writeStatus: () => Promise.reject(new ApiException(404, 'NotFound', '{"kind":"Status","reason":"NotFound"}', {})),
      now: () => later,
      log: pino({ level: 'silent' }),
    });
    await expect(written).resolves.toEqual({});
  });
});

describe('PoliciesReady', () => {
  const valid = (name: string): AccessPolicy => policy(2, name);
  it.each([
    [[], 'True NoneSelected: No AccessPolicy in airlock-system matches spec.policySelector: every request gets the default action (Deny).'],
    [[valid('a')], 'True AllAccepted: 1 AccessPolicy selected, accepted.'],
    [[valid('a'), valid('b')], 'True AllAccepted: 2 AccessPolicies selected, all accepted.'],
  ])('reads as a sentence for %j', (policies, text) => {
    const c = policiesReadyCondition(gateway('ci-gateway'), policies.map(policyFacts));
    expect(`${c.status} ${c.reason}: ${c.message}`).toBe(text);
    expect(c.message).not.toMatch(/\((s|ies)\)/);
  });
});
