// The operator runtime on the real API server: Lease leader election (one leader, hand-over on
// release, a leader cut off from the API server stops before its lease expires) and controllers
// on real informers (every key reconciled, bursts merged into few reconciles of the newest data,
// retries with backoff, quiet 409 requeues, informers restarted after errors client-node stops on).
// Real clock and real client-node; short lease timings keep the scenarios quick.
import { ApiException, CoordinationV1Api, CoreV1Api, KubeConfig, V1ConfigMap, V1ObjectMeta, makeInformer } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { httpStatusOf } from '../core/runtime/api-errors.ts';
import { runController, type Controller, type Reconcile } from '../core/runtime/controller.ts';
import { withFaults } from '../core/runtime/fake-lease-api.ts';
import { leaseRecord, type LeaseApi } from '../core/runtime/lease-api.ts';
import { startLeaderElection, type LeaderElector } from '../core/runtime/leader-election.ts';
import { getByKey } from '../core/runtime/object-key.ts';
import { kubectlOk, testCluster } from './support/kubectl.ts';
import { useTestNamespace } from './support/namespace.ts';

const TIMING = { leaseDurationSeconds: 4, renewDeadlineMs: 2_000, retryPeriodMs: 500 } as const;

interface LogLine { level: number; msg: string; key?: string; error?: string; identity?: string; informer?: string; reason?: string; previous?: string; time: number }

/** A pino logger that keeps its lines for assertions and prints them if the test fails. */
function captureLog(): { log: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => { lines.push(JSON.parse(s) as LogLine); } });
  onTestFailed(() => { process.stderr.write(`--- runtime log ---\n${lines.map((l) => JSON.stringify(l)).join('\n')}\n`); });
  return { log, lines };
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<number> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const configMap = (name: string, namespace: string, data: Record<string, string>): V1ConfigMap =>
  Object.assign(new V1ConfigMap(), { metadata: Object.assign(new V1ObjectMeta(), { name, namespace }), data });

let kc: KubeConfig;
let coordination: CoordinationV1Api;
let core: CoreV1Api;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(() => {
  kc = new KubeConfig();
  kc.loadFromFile(testCluster().kubeconfig);
  coordination = kc.makeApiClient(CoordinationV1Api);
  core = kc.makeApiClient(CoreV1Api);
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('leader election on a real Lease', () => {
  const ns = useTestNamespace('rt');

  interface Participant {
    readonly elector: LeaderElector;
    readonly times: { started?: number; stopped?: number };
  }

  function participant(name: string, api: LeaseApi, log: pino.Logger): Participant {
    const times: Participant['times'] = {};
    const elector = startLeaderElection({
      api, log, ...TIMING,
      lease: { namespace: ns.name, name: 'airlock-operator' },
      identity: `${name}_${Math.random().toString(16).slice(2, 10)}`,
      onStartedLeading: () => { times.started = Date.now(); },
      onStoppedLeading: () => { times.stopped = Date.now(); },
    });
    cleanups.push(() => elector.release());
    return { elector, times };
  }

  async function leaseJson(): Promise<{ spec: { holderIdentity?: string; leaseTransitions?: number; renewTime?: string; leaseDurationSeconds?: number } }> {
    return JSON.parse(await kubectlOk(['get', 'lease', 'airlock-operator', '-n', ns.name, '-o', 'json'])) as { spec: { holderIdentity?: string } };
  }

  it('lets exactly one of two electors lead, and records it in the Lease', async () => {
    const { log } = captureLog();
    const a = participant('a', coordination, log);
    const b = participant('b', coordination, log);
    const tookMs = await waitFor('a leader', () => a.elector.isLeader() || b.elector.isLeader());
    let most = 0;
    const watchUntil = Date.now() + 3 * TIMING.retryPeriodMs * 2;
    while (Date.now() < watchUntil) {
      most = Math.max(most, [a, b].filter((p) => p.elector.isLeader()).length);
      await delay(20);
    }
    expect(most).toBe(1);
    const leader = a.elector.isLeader() ? a : b;
    const lease = await leaseJson();
    expect(lease.spec.holderIdentity).toBe(leader.elector.identity);
    expect(lease.spec.leaseDurationSeconds).toBe(TIMING.leaseDurationSeconds);
    expect(lease.spec.leaseTransitions).toBe(0);
    expect(lease.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    process.stderr.write(`[runtime e2e] first leader after ${tookMs} ms\n`);
  });

  it('hands over within a couple of seconds after the leader releases, the old leader stopping first', async () => {
    const { log, lines } = captureLog();
    const a = participant('a', coordination, log);
    await waitFor('a to lead', () => a.elector.isLeader());
    const b = participant('b', coordination, log);
    await delay(1_000);
    expect(b.elector.isLeader()).toBe(false);
    const releasedAt = Date.now();
    await a.elector.release();
    await waitFor('b to lead', () => b.elector.isLeader(), 2_000);
    const handOverMs = b.times.started! - releasedAt;
    expect(a.times.stopped!).toBeLessThanOrEqual(b.times.started!);
    expect(handOverMs).toBeLessThan(2_000);
    // b took the emptied lease, it did not wait for it to expire.
    expect(lines.filter((l) => l.msg === 'released the lease').map((l) => l.identity)).toEqual([a.elector.identity]);
    expect(lines.find((l) => l.msg === 'took over the lease')).toMatchObject({ identity: b.elector.identity, reason: 'released', previous: '' });
    expect((await leaseJson()).spec).toMatchObject({ holderIdentity: b.elector.identity, leaseTransitions: 1 });
    process.stderr.write(`[runtime e2e] hand-over ${handOverMs} ms after release\n`);
  });

  it('stops a leader whose renewals fail before its lease expires, and only then lets the other take over', async () => {
    const { log, lines } = captureLog();
    const faulty = withFaults(coordination);
    const a = participant('a', faulty, log);
    await waitFor('a to lead', () => a.elector.isLeader());
    const b = participant('b', coordination, log);
    await delay(1_500);
    faulty.failWith(new Error('injected: connect ECONNREFUSED'));
    const cutAt = Date.now();
    // A renewal already on the wire may still land; read the Lease after it.
    await delay(200);
    const last = leaseRecord(await coordination.readNamespacedLease({ name: 'airlock-operator', namespace: ns.name }));
    expect(last.holderIdentity).toBe(a.elector.identity);
    await waitFor('b to lead', () => b.elector.isLeader(), 15_000);
    const stoppedAt = a.times.stopped!;
    const expiresAt = last.renewTime! + TIMING.leaseDurationSeconds * 1000;
    expect(a.elector.isLeader()).toBe(false);
    expect(stoppedAt).toBeLessThanOrEqual(last.renewTime! + TIMING.renewDeadlineMs + 250);
    expect(stoppedAt).toBeLessThan(expiresAt);
    expect(b.times.started!).toBeGreaterThan(stoppedAt);
    expect(lines.some((l) => l.msg === 'stopped leading' && l.identity === a.elector.identity)).toBe(true);
    expect((await leaseJson()).spec).toMatchObject({ holderIdentity: b.elector.identity, leaseTransitions: 1 });
    process.stderr.write(`[runtime e2e] cut off leader stopped ${stoppedAt - cutAt} ms after the cut, ${expiresAt - stoppedAt} ms before its lease expired; successor started ${b.times.started! - stoppedAt} ms after it stopped\n`);
  });
});

describe('a controller on a real ConfigMap informer', () => {
  const ns = useTestNamespace('rt');

  interface Seen { key: string; v: string | undefined; at: number }

  function configMapController(log: pino.Logger, reconcile: (key: string, cm: V1ConfigMap | undefined) => Promise<void>, kubeconfig: KubeConfig = kc): { controller: Controller; seen: Seen[]; maxSameKey: () => number; connects: () => number } {
    const api = kubeconfig.makeApiClient(CoreV1Api);
    const informer = makeInformer<V1ConfigMap>(kubeconfig, `/api/v1/namespaces/${ns.name}/configmaps`, () => api.listNamespacedConfigMap({ namespace: ns.name }));
    const seen: Seen[] = [];
    let connects = 0;
    informer.on('connect', () => { connects += 1; });
    const active = new Map<string, number>();
    let maxSameKey = 0;
    const reconcileKey: Reconcile = async (key) => {
      active.set(key, (active.get(key) ?? 0) + 1);
      maxSameKey = Math.max(maxSameKey, active.get(key) ?? 0);
      try {
        const cm = getByKey(informer, key);
        seen.push({ key, v: cm?.data?.['v'], at: Date.now() });
        await reconcile(key, cm);
        return {};
      } finally {
        active.set(key, (active.get(key) ?? 1) - 1);
      }
    };
    const controller = runController({
      name: 'configmaps', log, reconcile: reconcileKey, concurrency: 4,
      informers: [{ name: 'configmaps', informer }],
    });
    cleanups.push(() => controller.stop(5_000));
    return { controller, seen, maxSameKey: () => maxSameKey, connects: () => connects };
  }

  const of = (seen: readonly Seen[], key: string): Seen[] => seen.filter((s) => s.key === key);

  it('reconciles every key, and merges 20 rapid updates into a few reconciles that end on the final data', async () => {
    const { log } = captureLog();
    const { controller, seen, maxSameKey } = configMapController(log, () => delay(150));
    expect(await controller.waitForSync()).toBe(true);
    for (const name of ['a', 'b', 'c']) await core.createNamespacedConfigMap({ namespace: ns.name, body: configMap(name, ns.name, { v: '0' }) });
    await waitFor('a, b and c reconciled', () => ['a', 'b', 'c'].every((n) => of(seen, `${ns.name}/${n}`).length > 0));
    const before = of(seen, `${ns.name}/a`).length;
    const burstStarted = Date.now();
    for (let i = 1; i <= 20; i += 1) await core.replaceNamespacedConfigMap({ name: 'a', namespace: ns.name, body: configMap('a', ns.name, { v: String(i) }) });
    const burstMs = Date.now() - burstStarted;
    await waitFor('the final data reconciled', () => of(seen, `${ns.name}/a`).at(-1)?.v === '20');
    await delay(500);
    const duringBurst = of(seen, `${ns.name}/a`).slice(before);
    expect(duringBurst.length).toBeLessThanOrEqual(5);
    expect(duringBurst.at(-1)?.v).toBe('20');
    expect(maxSameKey()).toBe(1);
    process.stderr.write(`[runtime e2e] 20 updates in ${burstMs} ms -> ${duringBurst.length} reconciles (${duringBurst.map((s) => s.v).join(', ')})\n`);
  });

  it('retries a failing reconcile with growing backoff, then forgets the key', async () => {
    const { log, lines } = captureLog();
    let failures = 5;
    const { controller, seen } = configMapController(log, (key) => {
      if (key.endsWith('/flaky') && failures-- > 0) return Promise.reject(new Error('injected failure'));
      return Promise.resolve();
    });
    await controller.waitForSync();
    await kubectlOk(['create', 'configmap', 'flaky', '-n', ns.name]);
    await waitFor('six attempts', () => of(seen, `${ns.name}/flaky`).length === 6);
    const at = of(seen, `${ns.name}/flaky`).map((s) => s.at);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    [5, 10, 20, 40, 80].forEach((backoff, i) => { expect(gaps[i]).toBeGreaterThanOrEqual(backoff - 1); });
    expect(gaps[4]).toBeGreaterThan(gaps[0]!);
    expect(lines.filter((l) => l.level === 50 && l.msg === 'reconcile failed; retrying with backoff')).toHaveLength(5);
    expect(controller.queue.numRequeues(`${ns.name}/flaky`)).toBe(0);
    process.stderr.write(`[runtime e2e] retry gaps ${gaps.join(', ')} ms\n`);
  });

  it('requeues a real 409 Conflict quietly and succeeds with the cached object', async () => {
    const { log, lines } = captureLog();
    const statuses: (number | undefined)[] = [];
    let stale = true;
    const { controller, seen } = configMapController(log, async (key, cm) => {
      if (!key.endsWith('/racy') || cm === undefined || cm.metadata?.annotations?.['seen'] === 'yes') return;
      // The first write uses an outdated resourceVersion, as a reconcile does when another writer
      // got there first.
      const resourceVersion = stale ? '1' : cm.metadata?.resourceVersion;
      stale = false;
      const body = Object.assign(new V1ConfigMap(), cm, { metadata: Object.assign(new V1ObjectMeta(), cm.metadata, { resourceVersion, annotations: { seen: 'yes' } }) });
      try {
        await core.replaceNamespacedConfigMap({ name: 'racy', namespace: ns.name, body });
        statuses.push(200);
      } catch (error) {
        statuses.push(httpStatusOf(error));
        throw error;
      }
    });
    await controller.waitForSync();
    await kubectlOk(['create', 'configmap', 'racy', '-n', ns.name]);
    await waitFor('the annotation written', () => statuses.includes(200));
    expect(statuses).toEqual([409, 200]);
    const racy = lines.filter((l) => l.key === `${ns.name}/racy`);
    expect(racy.filter((l) => l.level >= 40)).toEqual([]);
    expect(racy.filter((l) => l.msg === 'reconcile conflicted; requeued')).toHaveLength(1);
    expect(of(seen, `${ns.name}/racy`).length).toBeGreaterThanOrEqual(2);
  });

  it('restarts an informer that client-node stopped on 403 Forbidden, and syncs once access is granted', async () => {
    const { log, lines } = captureLog();
    await kubectlOk(['create', 'serviceaccount', 'reader', '-n', ns.name]);
    const token = (await kubectlOk(['create', 'token', 'reader', '-n', ns.name])).trim();
    const cluster = kc.getCurrentCluster()!;
    const reader = new KubeConfig();
    reader.loadFromOptions({ clusters: [cluster], users: [{ name: 'reader', token }], contexts: [{ name: 'reader', cluster: cluster.name, user: 'reader' }], currentContext: 'reader' });
    await kubectlOk(['create', 'configmap', 'present', '-n', ns.name]);
    const { controller, seen } = configMapController(log, () => Promise.resolve(), reader);
    // Refused is retried within a second while the API server's caches may be warming up; one
    // line says so, the rest are counted (log-limiter.ts).
    await waitFor('a restart', () => lines.some((l) => l.msg.startsWith('informer stopped')));
    await delay(2_500);
    expect(controller.hasSynced()).toBe(false);
    expect(lines.filter((l) => l.msg.startsWith('informer stopped'))).toHaveLength(1);
    const grantedAt = Date.now();
    await kubectlOk(['create', 'role', 'cm-reader', '--verb=get,list,watch', '--resource=configmaps', '-n', ns.name]);
    await kubectlOk(['create', 'rolebinding', 'cm-reader', '--role=cm-reader', `--serviceaccount=${ns.name}:reader`, '-n', ns.name]);
    expect(await controller.waitForSync()).toBe(true);
    const syncMs = Date.now() - grantedAt;
    await waitFor('the existing object reconciled', () => of(seen, `${ns.name}/present`).length > 0);
    const restarts = lines.filter((l) => l.msg.startsWith('informer stopped'));
    expect(restarts[0]).toMatchObject({ level: 40, informer: 'configmaps', err: 'HTTP 403 Forbidden: configmaps is forbidden: User "system:serviceaccount:' + ns.name + ':reader" cannot list resource "configmaps" in API group "" in the namespace "' + ns.name + '"' });
    process.stderr.write(`[runtime e2e] ${restarts.length} informer restarts on 403; synced ${syncMs} ms after the grant\n`);
  });

  it('keeps delivering events across client-node\'s 30 s watch timeout on a quiet namespace, without re-listing', async () => {
    const { log, lines } = captureLog();
    const { controller, seen, connects } = configMapController(log, () => Promise.resolve());
    await controller.waitForSync();
    await kubectlOk(['create', 'configmap', 'before', '-n', ns.name]);
    await waitFor('before reconciled', () => of(seen, `${ns.name}/before`).length > 0);
    const reconcilesBefore = seen.length;
    const connectsBefore = connects();
    await delay(31_000);
    const createdAt = Date.now();
    await kubectlOk(['create', 'configmap', 'after', '-n', ns.name]);
    await waitFor('after reconciled', () => of(seen, `${ns.name}/after`).length > 0, 5_000);
    const latencyMs = of(seen, `${ns.name}/after`)[0]!.at - createdAt;
    // client-node reconnected from its last resourceVersion (a `connect`, no `error`, no re-list:
    // nothing already cached was reconciled again).
    expect(connects()).toBeGreaterThan(connectsBefore);
    expect(seen.slice(reconcilesBefore).map((s) => s.key)).toEqual([`${ns.name}/after`]);
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    process.stderr.write(`[runtime e2e] ${connects() - connectsBefore} watch reconnect(s) in 31 s of quiet; next event reconciled ${latencyMs} ms after kubectl create\n`);
  });

  it('the client-node error type for API calls is ApiException with the HTTP code', async () => {
    const error = await core.readNamespacedConfigMap({ name: 'missing', namespace: ns.name }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiException);
    expect(httpStatusOf(error)).toBe(404);
  });
});
