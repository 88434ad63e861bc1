import { ApiException, V1ConfigMap, V1ObjectMeta, V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MAX_TIMER_DELAY_MS, sleep } from './clock.ts';
import { runController, type ControllerInformer, type Reconcile } from './controller.ts';
import { createFakeClock, type FakeClock } from './fake-clock.ts';
import { createFakeInformer, type FakeInformer } from './fake-informer.ts';
import { getByKey, keyOf, ownerKeys, parseKey } from './object-key.ts';

interface LogLine { level: number; msg: string; key?: string; err?: string; controller?: string; informer?: string; restartInMs?: number }

function capture(): { log: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => { lines.push(JSON.parse(s) as LogLine); } });
  return { log, lines };
}

// client-node's models are classes (a lint rule keeps literals out of class-typed places).
const meta = (fields: Partial<V1ObjectMeta>): V1ObjectMeta => Object.assign(new V1ObjectMeta(), fields);
const owner = (kind: string, apiVersion: string, name: string): V1OwnerReference =>
  Object.assign(new V1OwnerReference(), { apiVersion, kind, name, uid: `uid-${name}` });
const pod = (name: string, owners: V1OwnerReference[]): V1Pod =>
  Object.assign(new V1Pod(), { metadata: meta({ name, namespace: 'ns', ownerReferences: owners }) });
let version = 0;
const cm = (name: string, data: Record<string, string> = {}, namespace = 'ns'): V1ConfigMap =>
  Object.assign(new V1ConfigMap(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta({ name, namespace, resourceVersion: String(++version) }), data });

interface Setup {
  readonly clock: FakeClock;
  readonly configMaps: FakeInformer<V1ConfigMap>;
  readonly lines: LogLine[];
  /** Each reconcile: the key, the fake time, and what the cache held then. */
  readonly seen: { key: string; at: number; data: Record<string, string> | undefined }[];
}

function setup(options: { reconcile?: (key: string, obj: V1ConfigMap | undefined, clock: FakeClock) => ReturnType<Reconcile>; resyncMs?: number; extra?: ControllerInformer[]; initial?: V1ConfigMap[] } = {}): Setup & { controller: ReturnType<typeof runController> } {
  const clock = createFakeClock(0);
  const configMaps = createFakeInformer<V1ConfigMap>(options.initial ?? []);
  const { log, lines } = capture();
  const seen: Setup['seen'] = [];
  const controller = runController({
    name: 'test', log, clock,
    informers: [{ name: 'configmaps', informer: configMaps }, ...(options.extra ?? [])],
    ...(options.resyncMs === undefined ? {} : { resyncMs: options.resyncMs }),
    reconcile: async (key) => {
      const obj = getByKey(configMaps, key);
      seen.push({ key, at: clock.now(), data: obj?.data });
      return options.reconcile === undefined ? {} : options.reconcile(key, obj, clock);
    },
  });
  return { clock, configMaps, lines, seen, controller };
}

describe('object keys', () => {
  it.each([
    [{ namespace: 'ns', name: 'a' }, 'ns/a'],
    [{ name: 'cluster-scoped' }, 'cluster-scoped'],
    [{ namespace: '', name: 'b' }, 'b'],
  ])('keys %j as %s and parses it back', (ref, key) => {
    expect(keyOf(ref)).toBe(key);
    expect(keyOf(parseKey(key))).toBe(key);
  });

  it.each([
    { owners: [['AccessGateway', 'airlock.dev/v1alpha1', 'gw']], keys: ['ns/gw'] },
    { owners: [['AccessGateway', 'airlock.dev/v1', 'gw']], keys: ['ns/gw'] },
    { owners: [['AccessGateway', 'airlock.dev/v1alpha1', 'a'], ['AccessGateway', 'airlock.dev/v1alpha1', 'b']], keys: ['ns/a', 'ns/b'] },
    { owners: [['AccessGateway', 'other.dev/v1alpha1', 'gw']], keys: [] },
    { owners: [['ReplicaSet', 'apps/v1', 'rs']], keys: [] },
    { owners: [], keys: [] },
  ] as const)('maps an object owned by $owners to keys $keys', ({ owners, keys }) => {
    const owned = pod('p', owners.map(([kind, apiVersion, name]) => owner(kind, apiVersion, name)));
    expect(ownerKeys({ apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessGateway' })(owned)).toEqual(keys);
  });
});

describe('runController: events to keys', () => {
  it('reconciles the key of every added, updated and deleted object, reading the cache by key', async () => {
    const s = setup({ initial: [cm('a', { v: '1' })] });
    await s.clock.advance(1);
    s.configMaps.apply(cm('a', { v: '2' }));
    await s.clock.advance(1);
    s.configMaps.remove('ns', 'a');
    await s.clock.advance(1);
    expect(s.seen.map((x) => [x.key, x.data])).toEqual([['ns/a', { v: '1' }], ['ns/a', { v: '2' }], ['ns/a', undefined]]);
  });

  it('merges a burst of updates during a reconcile into one more reconcile that sees the last version', async () => {
    const s = setup({ reconcile: async (_k, _o, clock) => { await sleep(clock, 100); return {}; } });
    s.configMaps.apply(cm('a', { v: '0' }));
    await s.clock.advance(10);
    for (let i = 1; i <= 20; i += 1) s.configMaps.apply(cm('a', { v: String(i) }));
    await s.clock.advance(1000);
    expect(s.seen.map((x) => x.data?.['v'])).toEqual(['0', '20']);
  });

  it('queues owners\' keys for changes to owned objects', async () => {
    const pods = createFakeInformer<V1Pod>();
    const s = setup({ extra: [{ name: 'pods', informer: pods, mapToKeys: ownerKeys({ apiVersion: 'v1', kind: 'ConfigMap' }) }] });
    await s.clock.advance(1);
    pods.apply(pod('p', [owner('ConfigMap', 'v1', 'owner')]));
    await s.clock.advance(1);
    expect(s.seen.map((x) => x.key)).toEqual(['ns/owner']);
  });

  it('queues a mapped key for an update only when what its reconcile reads changed, or the mapping did', async () => {
    // Pods select the config maps named in their `uses` label; a reconcile reads a pod's generation.
    const pods = createFakeInformer<V1Pod>();
    const usePod = (uses: string, generation: number, rv: string): V1Pod => Object.assign(new V1Pod(), { metadata: meta({ name: 'p', namespace: 'ns', labels: { uses }, generation, resourceVersion: rv }) });
    const s = setup({ extra: [{
      name: 'pods', informer: pods,
      mapToKeys: (p) => (p.metadata?.labels?.['uses'] ?? '').split('.').filter((n) => n !== '').map((n) => `ns/${n}`),
      fingerprint: (p) => String(p.metadata?.generation),
    }] });
    await s.clock.advance(1);
    const reconciled = async (change: () => void): Promise<string[]> => {
      const before = s.seen.length;
      change();
      await s.clock.advance(1);
      return s.seen.slice(before).map((x) => x.key).sort();
    };
    expect(await reconciled(() => { pods.apply(usePod('a.b', 1, '1')); })).toEqual(['ns/a', 'ns/b']);
    // A status write, a new annotation: nothing the reconciles read.
    expect(await reconciled(() => { pods.apply(usePod('a.b', 1, '2')); })).toEqual([]);
    // The selection changed: only the keys that left or joined it.
    expect(await reconciled(() => { pods.apply(usePod('b.c', 1, '3')); })).toEqual(['ns/a', 'ns/c']);
    expect(await reconciled(() => { pods.apply(usePod('b.c', 2, '4')); })).toEqual(['ns/b', 'ns/c']);
    expect(await reconciled(() => { pods.remove('ns', 'p'); })).toEqual(['ns/b', 'ns/c']);
  });

  it('holds reconciles until every informer has synced', async () => {
    const pods = createFakeInformer<V1Pod>();
    pods.failNextStarts(1, Object.assign(new Error('Forbidden'), { statusCode: 403 }));
    const s = setup({ initial: [cm('a')], extra: [{ name: 'pods', informer: pods }] });
    await s.clock.advance(199);
    expect(s.controller.hasSynced()).toBe(false);
    expect(s.seen).toEqual([]);
    await s.clock.advance(1);
    expect(s.controller.hasSynced()).toBe(true);
    expect(s.seen.map((x) => x.key)).toEqual(['ns/a']);
  });
});

describe('runController: results', () => {
  it('forgets a key after success and reconciles it again after requeueAfterMs', async () => {
    const s = setup({ reconcile: () => Promise.resolve({ requeueAfterMs: 500 }) });
    s.configMaps.apply(cm('a'));
    await s.clock.advance(1600);
    expect(s.seen.map((x) => x.at)).toEqual([0, 500, 1000, 1500]);
    expect(s.controller.queue.numRequeues('ns/a')).toBe(0);
  });

  it('reconciles a far-future deadline (an expiry 400 days out) once, at that time, never arming a timer Node cannot hold', async () => {
    const DAY = 86_400_000;
    const expiresAt = 400 * DAY;
    const s = setup({ reconcile: (_k, _o, clock) => Promise.resolve(clock.now() < expiresAt ? { requeueAfterMs: expiresAt - clock.now() } : {}) });
    s.configMaps.apply(cm('a'));
    await s.clock.advance(expiresAt - 1);
    expect(s.seen.map((x) => x.at)).toEqual([0]);
    await s.clock.advance(1);
    expect(s.seen.map((x) => x.at)).toEqual([0, expiresAt]);
    await s.clock.advance(30 * DAY);
    expect(s.seen).toHaveLength(2);
    expect(s.clock.longestArmedMs()).toBeLessThanOrEqual(MAX_TIMER_DELAY_MS);
    expect(s.lines.filter((l) => l.level >= 40)).toEqual([]);
  });

  it('retries a failing reconcile with growing backoff and logs each failure as an error', async () => {
    const s = setup({ reconcile: () => Promise.reject(new Error('no route to host')) });
    s.configMaps.apply(cm('a'));
    await s.clock.advance(5 + 10 + 20);
    expect(s.seen.map((x) => x.at)).toEqual([0, 5, 15, 35]);
    const errors = s.lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(4);
    expect(errors[0]).toMatchObject({ controller: 'test', key: 'ns/a', msg: 'reconcile failed; retrying with backoff', err: 'Error: no route to host' });
  });

  it('requeues a 409 Conflict quietly: debug log only, and the backoff resets on success', async () => {
    let conflicts = 2;
    const s = setup({ reconcile: () => {
      if (conflicts-- > 0) return Promise.reject(new ApiException(409, 'Unknown API Status Code!', JSON.stringify({ kind: 'Status', reason: 'Conflict', message: 'the object has been modified' }), {}));
      return Promise.resolve({});
    } });
    s.configMaps.apply(cm('a'));
    await s.clock.advance(100);
    expect(s.seen.map((x) => x.at)).toEqual([0, 5, 15]);
    expect(s.lines.filter((l) => l.level >= 40)).toEqual([]);
    expect(s.lines.filter((l) => l.msg === 'reconcile conflicted; requeued')).toHaveLength(2);
    expect(s.controller.queue.numRequeues('ns/a')).toBe(0);
  });

  it.each([
    { body: JSON.stringify({ kind: 'Status', reason: 'Invalid', message: 'spec.x: Invalid value' }), logged: 'HTTP 422 Invalid: spec.x: Invalid value' },
    { body: { reason: 'Invalid', message: 'spec.x: Invalid value' }, logged: 'HTTP 422 Invalid: spec.x: Invalid value' },
    { body: '<html>bad gateway</html>', logged: 'HTTP 422' },
    { body: undefined, logged: 'HTTP 422' },
  ])('logs an ApiException with body $body as "$logged", never its headers', async ({ body, logged }) => {
    const s = setup({ reconcile: () => Promise.reject(new ApiException(422, 'Unknown API Status Code!', body, { 'x-secret': 'hunter2' })) });
    s.configMaps.apply(cm('a'));
    await s.clock.advance(1);
    expect(s.lines.find((l) => l.level === 50)?.err).toBe(logged);
    expect(JSON.stringify(s.lines)).not.toContain('hunter2');
  });
});

describe('runController: resync, informer restarts, stop', () => {
  it.each([
    { resyncMs: 1000, advance: 3500, reconciles: 2 + 3 * 2 },
    { resyncMs: 0, advance: 3500, reconciles: 2 },
  ])('with resyncMs $resyncMs reconciles 2 cached objects $reconciles times in $advance ms', async ({ resyncMs, advance, reconciles }) => {
    const s = setup({ resyncMs, initial: [cm('a'), cm('b')] });
    await s.clock.advance(advance);
    expect(s.seen.length).toBe(reconciles);
  });

  it('resyncs the controller\'s own kind only: keys mapped from other kinds are those same objects', async () => {
    const pods = createFakeInformer<V1Pod>([pod('p', [owner('ConfigMap', 'v1', 'a')]), pod('q', [owner('ConfigMap', 'v1', 'gone')])]);
    const s = setup({ resyncMs: 1000, initial: [cm('a')], extra: [{ name: 'pods', informer: pods, mapToKeys: ownerKeys({ apiVersion: 'v1', kind: 'ConfigMap' }) }] });
    await s.clock.advance(1);
    const first = s.seen.length;
    await s.clock.advance(1000);
    expect(s.seen.slice(first).map((x) => x.key)).toEqual(['ns/a']);
  });

  const refused = (code: number): Error => Object.assign(new Error(code === 403 ? 'Forbidden' : 'Not Found'), { statusCode: code });
  const unreachable = (): Error => new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' }) });

  /** Fake times of the informer's starts while it fails with `error`, from its first failure. */
  async function restartTimes(error: () => Error, forMs: number): Promise<{ s: ReturnType<typeof setup>; at: number[] }> {
    const s = setup();
    await s.clock.advance(1);
    const failedAt = s.clock.now();
    const at: number[] = [];
    s.configMaps.failStarts(error());
    const starts = (): number => s.configMaps.starts;
    s.configMaps.fail(error());
    for (let seen = starts(), t = 0; t < forMs; t += 100) {
      await s.clock.advance(100);
      if (starts() !== seen) { seen = starts(); at.push(s.clock.now() - failedAt); }
    }
    return { s, at };
  }

  it('restarts an informer within half a second however long the API server is away (no answer, 429, 5xx)', async () => {
    for (const error of [unreachable, () => refused(500), () => Object.assign(new Error('Too Many Requests'), { statusCode: 429 })]) {
      const { at } = await restartTimes(error, 60_000);
      expect(at.slice(0, 4)).toEqual([200, 600, 1100, 1600]);
      expect(Math.max(...at.slice(1).map((t, i) => t - at[i]!))).toBe(500);
    }
  });

  it('restarts quickly on 401/403 for 30 s (caches warming up after a restart), then backs off to 30 s (a missing permission)', async () => {
    const { at } = await restartTimes(() => refused(403), 120_000);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(gaps.filter((_g, i) => at[i]! < 30_000).every((g) => g <= 500)).toBe(true);
    expect(gaps.at(-1)).toBe(30_000);
  });

  it('backs off to 30 s on other errors (a 404: the CRD is not installed)', async () => {
    const { at } = await restartTimes(() => refused(404), 120_000);
    expect(at.slice(0, 6)).toEqual([1000, 3000, 7000, 15_000, 31_000, 61_000]);
  });

  it('resets the restart backoff once the informer runs, and logs an outage once per interval and its end once', async () => {
    const { s, at } = await restartTimes(unreachable, 25_000);
    expect(at.length).toBeGreaterThan(20);
    s.configMaps.failStarts(undefined);
    await s.clock.advance(1000);
    expect(s.configMaps.running).toBe(true);
    s.configMaps.fail(unreachable());
    const before = s.configMaps.starts;
    await s.clock.advance(200);
    expect(s.configMaps.starts).toBe(before + 1);
    const restartLines = s.lines.filter((l) => l.msg.startsWith('informer stopped'));
    // 25 s: the first failure, then a count every 10 s; and the first failure of the next outage.
    expect(restartLines.map((l) => l.msg.replace(/\(\d+ more/, '(N more'))).toEqual([
      'informer stopped on an error; restarting',
      'informer stopped on an error; restarting (N more like it in 10 s)',
      'informer stopped on an error; restarting',
      'informer stopped on an error; restarting (N more like it in 10 s)',
      'informer stopped on an error; restarting',
      'informer stopped on an error; restarting',
    ].slice(0, restartLines.length));
    expect(restartLines.length).toBeLessThanOrEqual(6);
    expect(restartLines[0]).toMatchObject({ level: 40, informer: 'configmaps', err: 'TypeError: fetch failed (ECONNREFUSED)', restartInMs: 200 });
    expect(s.lines.filter((l) => l.msg === 'informer running again')).toHaveLength(1);
  });

  it('during an outage logs failed reconciles once per interval, retries each key at least every 5 s, and reconciles them as soon as an informer runs again', async () => {
    let down = false;
    const s = setup({ initial: [cm('a'), cm('b'), cm('c')], reconcile: () => (down ? Promise.reject(unreachable()) : Promise.resolve({})) });
    await s.clock.advance(1);
    down = true;
    s.configMaps.failStarts(unreachable());
    s.configMaps.fail(unreachable());
    for (const name of ['a', 'b', 'c']) s.configMaps.apply(cm(name, { v: 'changed' }));
    await s.clock.advance(25_000);
    // The API server comes back just after a retry wave, so the keys' next retry is 5 s away.
    for (const before = s.seen.length; s.seen.length === before;) await s.clock.advance(100);
    const tries = s.seen.filter((x) => x.key === 'ns/a' && x.at > 1).map((x) => x.at);
    expect(Math.max(...tries.slice(1).map((t, i) => t - tries[i]!))).toBe(5000);
    const errors = s.lines.filter((l) => l.level === 50);
    expect(errors.length).toBeLessThanOrEqual(6);
    expect(errors[0]).toMatchObject({ msg: 'reconcile failed; retrying with backoff', err: 'TypeError: fetch failed (ECONNREFUSED)' });
    expect(errors.some((l) => /\(\d+ more like it in 10 s\)$/.test(l.msg))).toBe(true);
    down = false;
    s.configMaps.failStarts(undefined);
    const back = s.clock.now();
    await s.clock.advance(1000);
    // They go with the informer's restart, not 5 s later.
    expect(s.seen.filter((x) => x.at > back).map((x) => x.key).sort()).toEqual(['ns/a', 'ns/b', 'ns/c']);
  });

  it('stops: informers stop, no restart or resync follows, in-flight reconciles get an aborted signal', async () => {
    let signal: AbortSignal | undefined;
    const clock = createFakeClock(0);
    const informer = createFakeInformer<V1ConfigMap>([cm('a')]);
    const controller = runController({
      name: 'test', log: capture().log, clock, resyncMs: 1000, informers: [{ name: 'configmaps', informer }],
      reconcile: async (_key, s) => { signal = s; await sleep(clock, 50, s); return {}; },
    });
    await clock.advance(10);
    const stopped = controller.stop(1000);
    expect(signal?.aborted).toBe(true);
    await clock.advance(1);
    expect(await stopped).toBe(true);
    expect(informer.running).toBe(false);
    informer.fail(new Error('late'));
    await clock.advance(10_000);
    expect(informer.starts).toBe(1);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('rejects a negative resyncMs with a TypeError', () => {
    expect(() => runController({ name: 'bad', log: capture().log, informers: [], reconcile: () => Promise.resolve({}), resyncMs: -1 }))
      .toThrow(new TypeError('controller bad: resyncMs must be 0 or a positive number, got -1'));
  });
});
