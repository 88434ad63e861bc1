// The pinned versions, read from hack/versions.env so tests and the build agree.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const env = readFileSync(fileURLToPath(new URL('../../hack/versions.env', import.meta.url)), 'utf8');
const pinned = (name: string): string => {
  const match = new RegExp(`^${name}=(\\S+)`, 'm').exec(env);
  if (match?.[1] === undefined) throw new Error(`hack/versions.env has no ${name}`);
  return match[1];
};

export const K8S_VERSION = pinned('K8S_VERSION');
export const ETCD_VERSION = pinned('ETCD_VERSION');
export const KWOK_VERSION = pinned('KWOK_VERSION');
