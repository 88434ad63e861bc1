// Prometheus metrics for work queues, named after client-go's workqueue metrics so existing
// dashboards read them. One set per registry, labelled by queue (controller) name only: keys
// would be unbounded cardinality.
import { Counter, Gauge, Histogram, exponentialBuckets, type Registry } from 'prom-client';
import type { WorkQueueMetrics } from './work-queue.ts';

/** Returns a factory of per-queue metrics sharing one set of collectors on `registry`. */
export function createWorkQueueMetrics(registry: Registry, prefix = 'airlock_operator_'): (queue: string) => WorkQueueMetrics {
  const registers = [registry];
  const labelNames = ['name'] as const;
  // 1 ms to ~4.5 min: reconciles that call the API server, up to ones stuck behind long backoffs.
  const buckets = exponentialBuckets(0.001, 2, 19);
  const depth = new Gauge({ name: `${prefix}workqueue_depth`, help: 'Keys waiting for a worker.', labelNames, registers });
  const adds = new Counter({ name: `${prefix}workqueue_adds_total`, help: 'Keys that became due.', labelNames, registers });
  const retries = new Counter({ name: `${prefix}workqueue_retries_total`, help: 'Keys re-queued with backoff after a failed attempt.', labelNames, registers });
  const waited = new Histogram({ name: `${prefix}workqueue_queue_duration_seconds`, help: 'Time a key waited before a worker took it.', labelNames, buckets, registers });
  const work = new Histogram({ name: `${prefix}workqueue_work_duration_seconds`, help: 'Time one reconcile of a key took.', labelNames, buckets, registers });
  return (queue) => {
    const labels = { name: queue };
    return {
      depth: (n) => { depth.set(labels, n); },
      added: () => { adds.inc(labels); },
      retried: () => { retries.inc(labels); },
      waited: (s) => { waited.observe(labels, s); },
      processed: (s) => { work.observe(labels, s); },
    };
  };
}
