import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AccessGateway } from '../../crds/types.gen.ts';
import { ApiException } from '@kubernetes/client-node';
import { sampleGateway } from '../resources/testdata/gateway.ts';
import { reconcileAccessGateway, type AccessGatewayDeps } from './accessgateway.ts';
import type { DeploymentLike, WrittenStatus } from './gateway-status.ts';
import { createAppliedMemo } from './applied-memo.ts';
import { asStored } from './testdata/as-stored.ts';

interface Recorder {
  minted: number;
  store: Map<string, KubernetesObject>;
  applied: { kind: string; name: string }[];
  deleted: { kind: string; name: string }[];
  statuses: WrittenStatus[];
}

function fakeDeps(gateway: AccessGateway | undefined, deploymentStatus: Record<string, number>): { deps: AccessGatewayDeps; rec: Recorder } {
  const rec: Recorder = { minted: 0, store: new Map(), applied: [], deleted: [], statuses: [] };
  const describe = (o: KubernetesObject): { kind: string; name: string } => ({ kind: o.kind ?? '', name: o.metadata?.name ?? '' });
  const deps: AccessGatewayDeps = {
    objects: {
      patch: <T extends KubernetesObject>(obj: T) => {
        rec.applied.push(describe(obj));
        // The Deployment as the API server stores it: generation 1, status as given.
        const stored = obj.kind === 'Deployment' ? JSON.parse(JSON.stringify(obj)) as { metadata: { generation?: number }; status?: object } : undefined;
        if (stored !== undefined) {
          stored.metadata.generation = 1;
          stored.status = { observedGeneration: 1, ...deploymentStatus };
        }
        const kept = JSON.parse(JSON.stringify(stored ?? obj)) as KubernetesObject & { metadata: { uid?: string } };
        kept.metadata.uid = 'uid-1';
        rec.store.set(`${obj.kind ?? ''}/${obj.metadata?.name ?? ''}`, kept);
        return Promise.resolve(kept as T);
      },
      create: (obj: KubernetesObject) => {
        const at = `${obj.kind ?? ''}/${obj.metadata?.name ?? ''}`;
        if (rec.store.has(at)) return Promise.reject(new ApiException(409, 'AlreadyExists', '', {}));
        rec.applied.push(describe(obj));
        rec.store.set(at, obj);
        return Promise.resolve(obj);
      },
      read: (obj: KubernetesObject) => {
        const found = rec.store.get(`${obj.kind ?? ''}/${obj.metadata?.name ?? ''}`);
        return found === undefined ? Promise.reject(new ApiException(404, 'not found', '', {})) : Promise.resolve(found);
      },
      delete: (obj: KubernetesObject) => {
        rec.deleted.push(describe(obj));
        return Promise.reject(new ApiException(404, 'not found', '', {}));
      },
    },
    mintToken: (_ref, request) => {
      rec.minted += 1;
      // Bound to its own anchor Secret (named for its issue time), so it can be revoked alone.
      expect(request.spec?.boundObjectRef).toEqual({ apiVersion: 'v1', kind: 'Secret', name: expect.stringMatching(/^ci-gateway-credential-[0-9a-z]+$/) as unknown, uid: 'uid-1' });
      return Promise.resolve({ token: `token-${rec.minted}`, expiresAt: new Date(Date.parse('2026-01-01T01:00:00Z')) });
    },
    writeStatus: (_ref, status) => { rec.statuses.push(status); return Promise.resolve(); },
    getGateway: () => gateway,
    clock: { now: () => Date.parse('2026-01-01T00:00:00Z'), setTimer: () => () => undefined },
    log: pino({ level: 'silent' }),
    defaultImage: 'airlock:test',
  };
  return { deps, rec };
}

const gateway = (): AccessGateway => sampleGateway((g) => { g.metadata.generation = 4; });

describe('reconcileAccessGateway', () => {
  it('applies every owned object in order and writes status once', async () => {
    const gw = gateway();
    const { deps, rec } = fakeDeps(gw, { replicas: 2, readyReplicas: 2, updatedReplicas: 2 });
    await reconcileAccessGateway('ns/x', deps);
    expect(rec.applied.map((a) => a.kind)).toEqual(expect.arrayContaining(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'Service']));
    // The certificate first (the Deployment mounts it), then the ServiceAccount the rest refer to.
    expect(rec.applied.slice(0, 3)).toEqual([{ kind: 'Secret', name: 'airlock-gateway-ca' }, { kind: 'Secret', name: 'ci-gateway-tls' }, { kind: 'ServiceAccount', name: 'airlock-gateway-ci-gateway' }]);
    expect(rec.statuses).toHaveLength(1);
    const status = rec.statuses[0];
    expect(status?.observedGeneration).toBe(4);
    expect(status?.readyReplicas).toBe(2);
    const byType = Object.fromEntries((status?.conditions ?? []).map((c) => [c.type, c]));
    expect(byType['Ready']?.status).toBe('True');
    expect(byType['CredentialsReady']).toMatchObject({ status: 'True', reason: 'TokenIssued' });
    expect(status?.credential).toEqual({ issuedAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-01T01:00:00.000Z', rotateAfter: '2026-01-01T00:48:00.000Z' });
    expect(rec.minted).toBe(1);
    expect(rec.store.get('Secret/ci-gateway-credential')?.metadata?.annotations?.['airlock.dev/credential-expires-at']).toBe('2026-01-01T01:00:00.000Z');
  });

  it('writes no status when a reconcile changes nothing, with the status as the API server returns it (keys in its order)', async () => {
    const gw = gateway();
    const { deps, rec } = fakeDeps(gw, { replicas: 2, readyReplicas: 2, updatedReplicas: 2 });
    await reconcileAccessGateway('ns/x', deps);
    gw.status = asStored(rec.statuses[0] ?? { observedGeneration: 0, conditions: [] });
    expect(Object.keys(gw.status.credential ?? {})).toEqual(['expiresAt', 'issuedAt', 'rotateAfter']);
    await reconcileAccessGateway('ns/x', { ...deps, clock: { now: () => Date.parse('2026-01-01T00:05:00Z'), setTimer: () => () => undefined } });
    expect(rec.statuses).toHaveLength(1);
  });

  it('issues the serving certificate and reports it in status, with nothing Degraded', async () => {
    const { deps, rec } = fakeDeps(gateway(), { replicas: 2, readyReplicas: 2, updatedReplicas: 2 });
    await reconcileAccessGateway('ns/x', deps);
    const status = rec.statuses[0];
    expect(status?.conditions.find((c) => c.type === 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    expect(status?.tls).toMatchObject({ secretName: 'ci-gateway-tls', caNotAfter: expect.stringMatching(/^2031-01-01T/) as unknown });
    expect(rec.store.get('Secret/ci-gateway-tls')?.metadata?.ownerReferences?.[0]?.kind).toBe('AccessGateway');
    expect(rec.store.get('Secret/airlock-gateway-ca')?.metadata?.ownerReferences).toBeUndefined();
  });

  it('requeues for the rotation time and keeps a token that is not due', async () => {
    const { deps, rec } = fakeDeps(gateway(), { replicas: 2, readyReplicas: 2, updatedReplicas: 2 });
    expect(await reconcileAccessGateway('ns/x', deps)).toEqual({ requeueAfterMs: 48 * 60_000 });
    const tlsSecret = rec.store.get('Secret/ci-gateway-tls');
    await reconcileAccessGateway('ns/x', deps);
    expect(rec.minted).toBe(1);
    expect(rec.store.get('Secret/ci-gateway-tls')).toEqual(tlsSecret);
  });

  it('mints a new token once the rotation time has come', async () => {
    const { deps, rec } = fakeDeps(gateway(), { replicas: 2, readyReplicas: 2, updatedReplicas: 2 });
    await reconcileAccessGateway('ns/x', deps);
    const later = { ...deps, clock: { now: () => Date.parse('2026-01-01T00:50:00Z'), setTimer: () => () => undefined } };
    await reconcileAccessGateway('ns/x', later);
    expect(rec.minted).toBe(2);
  });

  it('reports a missing user TLS Secret as Degraded and looks again soon', async () => {
    const { deps, rec } = fakeDeps(sampleGateway((g) => { g.metadata.generation = 4; g.spec.tls = { mode: 'Secret', secretName: 'mine' }; }), { replicas: 2, readyReplicas: 2, updatedReplicas: 2 });
    expect(await reconcileAccessGateway('ns/x', deps)).toEqual({ requeueAfterMs: 15_000 });
    expect(rec.statuses[0]?.conditions.find((c) => c.type === 'Degraded')).toMatchObject({ status: 'True', reason: 'TLSSecretNotFound' });
    expect(rec.store.has('Secret/airlock-gateway-ca')).toBe(false);
  });

  it('does not write status again when nothing changed', async () => {
    const first = fakeDeps(gateway(), { replicas: 2, readyReplicas: 2, updatedReplicas: 2 });
    await reconcileAccessGateway('ns/x', first.deps);
    const written = first.rec.statuses[0];
    const again = fakeDeps(sampleGateway((g) => { g.metadata.generation = 4; if (written !== undefined) g.status = written; }), { replicas: 2, readyReplicas: 2, updatedReplicas: 2 });
    for (const [k, v] of first.rec.store) again.rec.store.set(k, v);
    await reconcileAccessGateway('ns/x', again.deps);
    expect(again.rec.minted).toBe(0);
    expect(again.rec.statuses).toHaveLength(0);
  });

  it('applies the owned objects again only when they would change, the Deployment changed under it, or the last apply is older than the refresh period', async () => {
    const gw = gateway();
    const { deps, rec } = fakeDeps(gw, { replicas: 2, readyReplicas: 2, updatedReplicas: 2 });
    const at = (iso: string): AccessGatewayDeps['clock'] => ({ now: () => Date.parse(iso), setTimer: () => () => undefined });
    const memo = { ...deps, applied: createAppliedMemo(600_000), getDeployment: () => rec.store.get('Deployment/ci-gateway') as DeploymentLike | undefined };
    const applies = async (clock: AccessGatewayDeps['clock'], g: AccessGateway = gw): Promise<string[]> => {
      const before = rec.applied.length;
      await reconcileAccessGateway('ns/x', { ...memo, clock, getGateway: () => g });
      return rec.applied.slice(before).filter((a) => a.kind !== 'Secret').map((a) => a.kind);
    };
    expect(await applies(at('2026-01-01T00:00:00Z'))).toContain('Deployment');
    gw.status = asStored(rec.statuses.at(-1) ?? { observedGeneration: 0, conditions: [] });
    // A policy change, a Deployment status change, our own status write: nothing to apply or delete.
    const deletes = rec.deleted.length;
    expect(await applies(at('2026-01-01T00:01:00Z'))).toEqual([]);
    expect(await applies(at('2026-01-01T00:02:00Z'))).toEqual([]);
    expect(rec.deleted).toHaveLength(deletes);
    expect(rec.statuses).toHaveLength(1);
    // Someone edited the Deployment's spec: its generation moved.
    const stored = rec.store.get('Deployment/ci-gateway') as { metadata: { generation: number } };
    stored.metadata.generation = 7;
    expect(await applies(at('2026-01-01T00:03:00Z'))).toContain('Deployment');
    expect(await applies(at('2026-01-01T00:04:00Z'))).toEqual([]);
    // A spec change.
    const scaled = sampleGateway((g) => { g.metadata.generation = 5; g.spec.replicas = 3; });
    expect(await applies(at('2026-01-01T00:05:00Z'), scaled)).toContain('Deployment');
    // Drift nobody announced (a Service, the RBAC) is repaired once the last apply is old enough.
    expect(await applies(at('2026-01-01T00:14:59Z'), scaled)).toEqual([]);
    expect(await applies(at('2026-01-01T00:15:00Z'), scaled)).toEqual(expect.arrayContaining(['ServiceAccount', 'ClusterRole', 'ConfigMap', 'Deployment', 'Service']));
  });

  it('treats a status write of a gateway deleted meanwhile (404) as done, not as a failure', async () => {
    const { deps } = fakeDeps(gateway(), { replicas: 2, readyReplicas: 2, updatedReplicas: 2 });
    const gone = { ...deps, writeStatus: () => Promise.reject(new ApiException(404, 'NotFound', '{"kind":"Status","reason":"NotFound"}', {})) };
    await expect(reconcileAccessGateway('ns/x', gone)).resolves.toEqual({});
  });

  it('reports pods not ready while the Deployment catches up', async () => {
    const { deps, rec } = fakeDeps(gateway(), { replicas: 2, readyReplicas: 1, updatedReplicas: 2 });
    await reconcileAccessGateway('ns/x', deps);
    expect(rec.statuses[0]?.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodsNotReady' });
  });

  it('records no Warning on a healthy start (pods starting, then ready), and a Warning when a ready gateway loses its pods', async () => {
    const events: string[] = [];
    const record = { recordEvent: (_g: AccessGateway, e: { type: string; reason: string }) => { events.push(`${e.type} ${e.reason}`); return Promise.resolve(); } };
    const starting = fakeDeps(gateway(), { replicas: 2, readyReplicas: 0, updatedReplicas: 2 });
    await reconcileAccessGateway('ns/x', { ...starting.deps, ...record });
    const afterStart = starting.rec.statuses[0];
    expect(afterStart?.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodsNotReady' });
    const ready = fakeDeps(sampleGateway((g) => { g.metadata.generation = 4; if (afterStart !== undefined) g.status = afterStart; }), { replicas: 2, readyReplicas: 2, updatedReplicas: 2 });
    for (const [k, v] of starting.rec.store) ready.rec.store.set(k, v);
    await reconcileAccessGateway('ns/x', { ...ready.deps, ...record });
    expect(events.filter((e) => e.startsWith('Warning'))).toEqual([]);
    expect(events).toContain('Normal DeploymentReady');

    const afterReady = ready.rec.statuses[0];
    const lost = fakeDeps(sampleGateway((g) => { g.metadata.generation = 4; if (afterReady !== undefined) g.status = afterReady; }), { replicas: 2, readyReplicas: 1, updatedReplicas: 2 });
    for (const [k, v] of ready.rec.store) lost.rec.store.set(k, v);
    await reconcileAccessGateway('ns/x', { ...lost.deps, ...record });
    expect(events.at(-1)).toBe('Warning PodsNotReady');
  });

  it('deletes the cluster RBAC of a gateway that is gone, and nothing else', async () => {
    const { deps, rec } = fakeDeps(undefined, {});
    await reconcileAccessGateway('team-a/ci', deps);
    expect(rec.deleted).toEqual([
      { kind: 'ClusterRoleBinding', name: 'airlock-gateway-team-a-ci' },
      { kind: 'ClusterRole', name: 'airlock-gateway-team-a-ci' },
    ]);
    expect(rec.applied).toEqual([]);
    expect(rec.statuses).toEqual([]);
  });
});
