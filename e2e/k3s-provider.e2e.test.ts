// The K3s provider works where a container engine runs. Here (no engine) it is reported as
// skipped with the reason, never as passed.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { containerEngineUnavailable, startK3s } from './providers/k3s.ts';
import { testCluster } from './support/kubectl.ts';

const unavailable = await containerEngineUnavailable();
if (unavailable !== undefined) {
  process.stderr.write(`[e2e] K3s provider SKIPPED: no container engine reachable (${unavailable})\n`);
}

// skipIf: this provider needs a container engine, which this machine cannot run; the reason is
// printed above and vitest counts the test as skipped.
describe.skipIf(unavailable !== undefined)('K3s provider (testcontainers)', () => {
  it('starts K3s and serves the API to the pinned kubectl', async () => {
    const k3s = await startK3s();
    try {
      const { stdout } = await promisify(execFile)(testCluster().kubectlPath, ['get', 'namespaces', '-o', 'name'], {
        env: { ...process.env, KUBECONFIG: k3s.kubeconfig },
      });
      expect(stdout).toContain('namespace/kube-system');
    } finally {
      await k3s.stop();
    }
  }, 300_000);
});
