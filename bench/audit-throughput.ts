// How many audit records per second the file sink makes durable (write + fdatasync, group
// commit) with many requests waiting at once, as a busy gateway would have them.
//
//   npm run bench:audit -- [records=50000] [concurrent writers=256]
//   AIRLOCK_BENCH_DIR=/mnt/disk npm run bench:audit   (measure a given disk)
//
// Prints one line; exits 1 when below the 5000 records/s target.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openFileSink } from '../gateway/audit/file-sink.ts';
import { buildAuditRecord, type UnchainedAuditRecord } from '../core/audit/record.ts';
import { printUsageOnHelp } from './usage.ts';

printUsageOnHelp('npm run bench:audit -- [RECORDS=50000] [CONCURRENT_WRITERS=256]   (AIRLOCK_BENCH_DIR=/mnt/disk measures a given disk)');
const TARGET = 5000;
const total = Number(process.argv[2] ?? 50_000);
const concurrency = Number(process.argv[3] ?? 256);

function record(i: number): UnchainedAuditRecord {
  const built = buildAuditRecord({
    level: 'Metadata', stage: 'ResponseComplete', auditID: `bench-${i}`,
    requestURI: `/api/v1/namespaces/team-a/configmaps/c${i}`, verb: 'get',
    objectRef: { resource: 'configmaps', namespace: 'team-a', name: `c${i}`, apiVersion: 'v1' },
    sourceIPs: ['10.0.0.7'], userAgent: 'kubectl/v1.34.0',
    caller: { username: 'ci:github:org/repo', groups: ['ci', 'system:authenticated'], extra: {} },
    effective: { username: 'ci:github:org/repo', groups: ['ci', 'system:authenticated'], extra: {} },
    authentication: { method: 'oidc', issuer: 'https://token.actions.githubusercontent.com' },
    decision: { action: 'allow', policy: { namespace: 'airlock', name: 'ci' }, rule: 'read-config', reason: 'rule read-config allows' },
    responseStatus: { code: 200 }, requestReceived: new Date(), stageTimestamp: new Date(), latencyMs: 3,
    gateway: { name: 'ci', namespace: 'airlock', replica: 'ci-gateway-0' },
  });
  if (built === undefined) throw new Error('no record at level None');
  return built;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

const dir = await mkdtemp(join(process.env['AIRLOCK_BENCH_DIR'] ?? tmpdir(), 'airlock-audit-bench-'));
try {
  const keyFile = join(dir, 'checkpoint.key');
  await writeFile(keyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const sink = await openFileSink({ path: join(dir, 'audit.log'), maxSizeBytes: 100 * 1024 * 1024, maxFiles: 10, checkpoint: { everyRecords: 1000, keyFile } });
  const records = Array.from({ length: total }, (_, i) => record(i));
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) {
      const item = records[next];
      next += 1;
      if (item === undefined) break;
      const t0 = performance.now();
      await sink.write(item);
      latencies.push(performance.now() - t0);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  await sink.close();
  const stats = sink.stats();
  const rate = Math.round(total / seconds);
  latencies.sort((a, b) => a - b);
  console.log(`audit file sink: ${total} records in ${seconds.toFixed(2)} s = ${rate} records/s `
    + `(target ≥ ${TARGET}: ${rate >= TARGET ? 'met' : 'MISSED'}; ${concurrency} concurrent writers; fdatasync group commit: `
    + `${stats.syncs} syncs, ${(stats.records / stats.syncs).toFixed(1)} records/sync; ${stats.checkpoints} signed checkpoints; `
    + `write latency p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms)`);
  if (rate < TARGET) process.exitCode = 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}
