// krew's rules for a plugin manifest and its archive, as krew (kubernetes-sigs/krew) applies them
// when a manifest enters krew-index (cmd/validate-krew-manifest) and when `kubectl krew install`
// installs it (internal/installation, internal/download), restated here to check ours in a test:
// - the manifest: apiVersion krew.googlecontainertools.github.com/v1alpha2, kind Plugin, a safe
//   name equal to the file's name (".yaml"), a one-line shortDescription, a version "v" + semver,
//   platforms each with uri, a 64-hex sha256, bin, non-empty files if any, and a selector on os
//   and arch only that matches a platform krew supports, no two matching the same one;
// - the archive: its sha256 is the manifest's; a .tar.gz holds only directories and regular files
//   (no links), no entry absolute or with ".."; without `files`, everything is installed; `bin`
//   stays inside the installation and exists there; krew links it as kubectl-<name>.
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { KrewManifest, KrewPlatform } from './krew-manifest.ts';

const API_VERSION = 'krew.googlecontainertools.github.com/v1alpha2';
const SAFE_NAME = /^[\w-]+$/;
const WINDOWS_RESERVED = ['CON', 'PRN', 'AUX', 'NUL', ...[1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((n) => [`COM${n}`, `LPT${n}`])];
/** k8s.io/apimachinery's ParseSemantic, after krew's leading "v". */
const SEMVER = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
/** The <os, arch> pairs krew supports (cmd/validate-krew-manifest allPlatforms). */
export const KREW_PLATFORMS: readonly (readonly [string, string])[] = [
  ['windows', '386'], ['windows', 'amd64'], ['windows', 'arm64'], ['linux', '386'], ['linux', 'amd64'], ['linux', 'arm'],
  ['linux', 'arm64'], ['linux', 'ppc64le'], ['darwin', '386'], ['darwin', 'amd64'], ['darwin', 'arm64'],
];

interface Selector { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] }

function selectorProblem(selector: Selector | undefined): string | undefined {
  if (selector === undefined) return 'nil selector is not supported';
  if (selector.matchLabels === undefined && (selector.matchExpressions ?? []).length === 0) return 'empty selector is not supported';
  const keys = [...Object.keys(selector.matchLabels ?? {}), ...(selector.matchExpressions ?? []).map((e) => e.key)];
  const unsupported = keys.find((k) => k !== 'os' && k !== 'arch');
  if (unsupported !== undefined) return `key "${unsupported}" not supported`;
  if (selector.matchLabels !== undefined && Object.keys(selector.matchLabels).length === 0) return '`matchLabels` specified but empty';
  if (selector.matchExpressions?.length === 0) return '`matchExpressions` specified but empty';
  return undefined;
}

export function selectorMatches(selector: Selector, os: string, arch: string): boolean {
  const labels: Record<string, string> = { os, arch };
  const labelsMatch = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return labelsMatch && (selector.matchExpressions ?? []).every((e) => {
    const has = e.key in labels;
    const value = labels[e.key] ?? '';
    switch (e.operator) {
      case 'In': return has && (e.values ?? []).includes(value);
      case 'NotIn': return !has || !(e.values ?? []).includes(value);
      case 'Exists': return has;
      case 'DoesNotExist': return !has;
      default: return false;
    }
  });
}

function platformProblem(p: KrewPlatform & { files?: { from?: string; to?: string }[] }): string | undefined {
  if (p.uri === '') return '`uri` has to be set';
  if (p.sha256 === '') return '`sha256` sum has to be set';
  if (!/^[a-f0-9]{64}$/.test(p.sha256)) return `\`sha256\` value ${p.sha256} is not valid`;
  if (p.bin === '') return '`bin` has to be set';
  if (p.files?.length === 0) return '`files` has to be unspecified or non-empty';
  if (p.files?.some((f) => (f.from ?? '') === '' || (f.to ?? '') === '')) return '`from` and `to` have to be set';
  return selectorProblem(p.selector);
}

/** Every rule `name.yaml` breaks; [] when krew-index would accept it. */
export function krewManifestProblems(fileName: string, manifest: KrewManifest): string[] {
  const problems: string[] = [];
  if (!fileName.endsWith('.yaml')) problems.push(`expected manifest extension ".yaml" in ${fileName}`);
  const name = fileName.replace(/\.yaml$/, '');
  if (manifest.apiVersion !== API_VERSION) problems.push(`apiVersion=${manifest.apiVersion} is not ${API_VERSION}`);
  if (manifest.kind !== 'Plugin') problems.push(`kind=${manifest.kind} is not Plugin`);
  if (!SAFE_NAME.test(name) || WINDOWS_RESERVED.some((r) => r.toLowerCase() === name.toLowerCase())) problems.push(`the plugin name "${name}" is not allowed`);
  if (manifest.metadata.name !== name) problems.push(`plugin should be named "${name}", not "${manifest.metadata.name}"`);
  if (manifest.spec.shortDescription === '') problems.push('should have a short description');
  if (/[\r\n]/.test(manifest.spec.shortDescription)) problems.push('should not have line breaks in short description');
  if (!SEMVER.test(manifest.spec.version)) problems.push(`version "${manifest.spec.version}" is not "v" followed by a semantic version`);
  if (manifest.spec.platforms.length === 0) problems.push('should have a platform specified');
  manifest.spec.platforms.forEach((p, i) => {
    const problem = platformProblem(p);
    if (problem !== undefined) problems.push(`platforms[${i}]: ${problem}`);
    else if (!KREW_PLATFORMS.some(([os, arch]) => selectorMatches(p.selector, os, arch))) problems.push(`platforms[${i}]: its selector matches no platform krew supports`);
  });
  for (const [os, arch] of KREW_PLATFORMS) {
    const matching = manifest.spec.platforms.flatMap((p, i) => (selectorMatches(p.selector, os, arch) ? [i] : []));
    if (matching.length > 1) problems.push(`platforms ${matching.join(', ')} overlap on ${os}/${arch}`);
  }
  return problems;
}

interface TarEntry { readonly name: string; readonly type: string; readonly mode: number; readonly data: Buffer }

const field = (block: Buffer, start: number, length: number): string => block.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');

/** The entries of a tar archive (ustar and GNU, with GNU long names), as Go's archive/tar reads them. */
export function* tarEntries(tar: Buffer): Generator<TarEntry> {
  let longName: string | undefined;
  for (let at = 0; at + 512 <= tar.length;) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) return;
    const size = Number.parseInt(field(header, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 0);
    const data = tar.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') { longName = data.toString('utf8').replace(/\0.*$/s, ''); continue; }
    const prefix = field(header, 257, 6) === 'ustar' ? field(header, 345, 155) : '';
    const name = longName ?? (prefix === '' ? field(header, 0, 100) : `${prefix}/${field(header, 0, 100)}`);
    longName = undefined;
    yield { name, type, mode: Number.parseInt(field(header, 100, 8).trim() || '0', 8), data };
  }
}

/**
 * Installs `platform` from `archive` as `kubectl krew install` would: checks the sum, unpacks with
 * krew's rules into `installDir`, and links the `bin` as `binDir/kubectl-<name>`. Throws what krew
 * would refuse.
 */
export async function krewInstall(archive: string, platform: KrewPlatform, dirs: { installDir: string; binDir: string; name: string }): Promise<string> {
  const bytes = await readFile(archive);
  const sum = createHash('sha256').update(bytes).digest('hex');
  if (sum !== platform.sha256) throw new Error(`checksum does not match: the archive is ${sum}, the manifest says ${platform.sha256}`);
  if (!platform.uri.endsWith('.tar.gz') && !platform.uri.endsWith('.tgz')) throw new Error(`only .tar.gz archives are checked here, not ${platform.uri}`);
  for (const entry of tarEntries(gunzipSync(bytes))) {
    const path = join(dirs.installDir, entry.name);
    if (path.includes('..') || isAbsolute(entry.name)) throw new Error(`refusing to unpack archive with suspicious entry "${entry.name}"`);
    if (entry.type === '5') { await mkdir(path, { recursive: true }); continue; }
    if (entry.type !== '0' && entry.type !== '\0') throw new Error(`unable to handle file type ${entry.type} for "${entry.name}" in tar`);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, entry.data);
    await chmod(path, entry.mode & 0o777);
  }
  const bin = resolve(dirs.installDir, platform.bin);
  if (relative(resolve(dirs.installDir), bin).startsWith('..')) throw new Error(`bin ${platform.bin} is outside the installation`);
  await stat(bin).catch(() => { throw new Error(`source binary (${platform.bin}) cannot be found in extracted archive`); });
  await mkdir(dirs.binDir, { recursive: true });
  const link = join(dirs.binDir, `kubectl-${dirs.name}`);
  await symlink(bin, link);
  return link;
}
