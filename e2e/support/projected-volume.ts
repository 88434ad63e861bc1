// What the kubelet does for a Secret or ConfigMap volume, for a gateway process run outside a pod
// (kwok has no kubelet): the keys are written into a fresh timestamped directory, the `..data`
// symlink is swapped to it with one rename, and each key is a symlink through `..data`. A reader
// never sees a half-written set of files, and a directory watch sees the swap, exactly as in a pod.
import { randomBytes } from 'node:crypto';
import { mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { kubectl } from './kubectl.ts';

/** Writes `files` into `dir` atomically, the kubelet's way. */
export async function projectFiles(dir: string, files: Readonly<Record<string, Buffer>>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const version = `..${new Date().toISOString().replace(/[:.]/g, '_')}.${randomBytes(4).toString('hex')}`;
  await mkdir(join(dir, version));
  for (const [key, content] of Object.entries(files)) await writeFile(join(dir, version, key), content, { mode: 0o600 });
  const previous = await readlink(join(dir, '..data')).catch(() => undefined);
  await symlink(version, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const key of Object.keys(files)) await symlink(join('..data', key), join(dir, key)).catch(() => undefined);
  if (previous !== undefined) await rm(join(dir, previous), { recursive: true, force: true });
}

export interface VolumeSource {
  readonly kind: 'secret' | 'configmap';
  readonly name: string;
  readonly dir: string;
}

export interface Projector {
  /** Resolves once every source has been projected at least once. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

async function read(namespace: string, source: VolumeSource): Promise<Record<string, Buffer> | undefined> {
  const out = await kubectl(['get', source.kind, source.name, '-o', 'json'], { namespace });
  if (out.code !== 0) return undefined;
  const obj = JSON.parse(out.stdout) as { data?: Record<string, string> };
  const decode = (value: string): Buffer => (source.kind === 'secret' ? Buffer.from(value, 'base64') : Buffer.from(value, 'utf8'));
  return Object.fromEntries(Object.entries(obj.data ?? {}).map(([key, value]) => [key, decode(value)]));
}

/** Keeps each source projected, re-reading every `intervalMs` (the kubelet syncs about once a minute; tests go faster). */
export function keepProjected(namespace: string, sources: readonly VolumeSource[], intervalMs = 500): Projector {
  const seen = new Map<string, string>();
  const state = { stopped: false };
  const syncOnce = async (): Promise<boolean> => {
    let all = true;
    for (const source of sources) {
      const files = await read(namespace, source);
      if (files === undefined) { all = false; continue; }
      const fingerprint = JSON.stringify(Object.entries(files).map(([k, v]) => [k, v.toString('base64')]));
      if (seen.get(source.dir) === fingerprint) continue;
      await projectFiles(source.dir, files);
      seen.set(source.dir, fingerprint);
    }
    return all;
  };
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => { markReady = resolve; });
  const loop = (async () => {
    while (!state.stopped) {
      if (await syncOnce()) markReady();
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return { ready, stop: async () => { state.stopped = true; await loop; } };
}
