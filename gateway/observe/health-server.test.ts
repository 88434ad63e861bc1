import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealthServer } from './health-server.ts';
import { createGatewayMetrics } from './metrics.ts';

describe('health server', () => {
  let problem: string | undefined = 'policies not synced';
  const metrics = createGatewayMetrics({ defaultMetrics: false });
  const server = createHealthServer(metrics.registry, [
    { name: 'credential', check: () => undefined },
    { name: 'policies', check: () => problem },
  ]);
  let base = '';
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => { r(); })));

  it('is live while the process serves', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('is not ready while a check fails, and says which and why', async () => {
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('[+]credential\n[-]policies\npolicies: policies not synced\n');
  });

  it('is ready once every check passes', async () => {
    problem = undefined;
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('[+]credential\n[+]policies\nok\n');
  });

  it('serves Prometheus metrics', async () => {
    metrics.requests.inc({ decision: 'allow', verb: 'get', code: '200' });
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('airlock_gateway_requests_total{decision="allow",verb="get",code="200"} 1');
  });

  it('answers 404 elsewhere and 405 to writes', async () => {
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(405);
  });
});
