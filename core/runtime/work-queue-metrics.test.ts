import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { sleep } from './clock.ts';
import { createFakeClock } from './fake-clock.ts';
import { createWorkQueue } from './work-queue.ts';
import { createWorkQueueMetrics } from './work-queue-metrics.ts';

describe('createWorkQueueMetrics', () => {
  it('exports depth, adds, retries and durations per queue name', async () => {
    const registry = new Registry();
    const metricsFor = createWorkQueueMetrics(registry);
    const clock = createFakeClock(0);
    let attempts = 0;
    const queue = createWorkQueue({ clock, metrics: metricsFor('accessgateway'), process: async () => {
      await sleep(clock, 20);
      attempts += 1;
      if (attempts === 1) throw new Error('first attempt fails');
    } });
    queue.add('ns/a');
    queue.add('ns/b');
    await clock.advance(1000);
    const text = await registry.metrics();
    expect(text).toContain('airlock_operator_workqueue_adds_total{name="accessgateway"} 3');
    expect(text).toContain('airlock_operator_workqueue_retries_total{name="accessgateway"} 1');
    expect(text).toContain('airlock_operator_workqueue_depth{name="accessgateway"} 0');
    expect(text).toContain('airlock_operator_workqueue_work_duration_seconds_count{name="accessgateway"} 3');
    expect(text).toContain('airlock_operator_workqueue_queue_duration_seconds_count{name="accessgateway"} 3');
    expect(text).not.toContain('ns/a');
  });
});
