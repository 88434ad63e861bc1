// Real kubectl (the one built by hack/ at the pinned Kubernetes version), run against the control
// plane that e2e/global-setup.ts started or was given. Tests never fake the API server.
import { execFile } from 'node:child_process';
import { inject } from 'vitest';

export interface KubectlResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

export interface KubectlOptions {
  readonly input?: string;
  readonly namespace?: string;
  readonly kubeconfig?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

/** The admin kubeconfig and the kubectl binary of this test run. */
export function testCluster(): { kubeconfig: string; kubectlPath: string } {
  return { kubeconfig: inject('kubeconfig'), kubectlPath: inject('kubectlPath') };
}

/** Runs kubectl and resolves with its output and exit code; never rejects on a non-zero exit. */
export function kubectl(args: readonly string[], options: KubectlOptions = {}): Promise<KubectlResult> {
  const cluster = testCluster();
  const fullArgs = [...(options.namespace === undefined ? [] : ['-n', options.namespace]), ...args];
  return new Promise((resolve, reject) => {
    const child = execFile(
      cluster.kubectlPath,
      fullArgs,
      {
        env: { ...process.env, KUBECONFIG: options.kubeconfig ?? cluster.kubeconfig, ...options.env },
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') {
          reject(new Error(`kubectl could not run: ${error.message}`, { cause: error }));
          return;
        }
        resolve({ stdout, stderr, code: typeof error?.code === 'number' ? error.code : 0 });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

/** Like kubectl(), but throws with stderr when the command fails. */
export async function kubectlOk(args: readonly string[], options: KubectlOptions = {}): Promise<string> {
  const result = await kubectl(args, options);
  if (result.code !== 0) {
    throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}
