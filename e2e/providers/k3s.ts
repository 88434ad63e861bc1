// Second e2e provider: K3s in a container through testcontainers, for machines with a container
// engine. This machine has none; the caller asks containerEngine() first and reports a skip.
import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';
import { K3sContainer } from '@testcontainers/k3s';

export const K3S_IMAGE = 'rancher/k3s:v1.36.3-k3s1';

/** Why no engine can be used, or undefined when one answers. */
export async function containerEngineUnavailable(): Promise<string | undefined> {
  try {
    await getContainerRuntimeClient();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message.split('\n')[0] : String(error);
  }
}

export async function startK3s(): Promise<{ kubeconfig: string; stop: () => Promise<void> }> {
  const reason = await containerEngineUnavailable();
  if (reason !== undefined) {
    throw new Error(`AIRLOCK_E2E_PROVIDER=k3s needs a container engine (Docker or Podman): ${reason}`);
  }
  const container = await new K3sContainer(K3S_IMAGE).start();
  const dir = await mkdtemp(join(tmpdir(), 'airlock-k3s-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, container.getKubeConfig(), { mode: 0o600 });
  return { kubeconfig, stop: async () => { await container.stop(); } };
}
