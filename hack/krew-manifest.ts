// The kubectl plugin's release archive for this machine's platform, and the krew manifest that
// names it with its real sha256:
//   npm run krew-manifest -- [--version v0.1.0] [--base-url URL] [--out DIR] [--manifest FILE]
// The archive holds what `kubectl airlock` runs and nothing else: the plugin's sources and what
// they import (found by following the imports), its launchers, the npm packages they load with
// their dependencies, and the project's Node 24 binary for this platform, so a machine with no
// Node runs it. It is reproducible (sorted entries, fixed times and owners, gzip without a
// timestamp): the same checkout gives the same sha256. Each platform's release job runs this on
// that platform; the manifest keeps the entries of other platforms for the same version.
// hack/krew-rules.ts checks the result the way krew and krew-index do.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { parse, stringify } from 'yaml';

export const PLUGIN_NAME = 'airlock';
const ENTRY_POINTS = ['plugin/kubectl-airlock.ts', 'plugin/kubectl-approve.ts'];
const LAUNCHER_DIR = 'plugin/bin';
export const PLUGIN_BIN = `${LAUNCHER_DIR}/kubectl-airlock`;
/** The launcher looks here for Node when node_modules/.bin (symlinks, which krew refuses) is absent. */
const NODE_BINARY = 'node_modules/node/bin/node';

export interface KrewPlatform {
  readonly selector: { readonly matchLabels: { readonly os: string; readonly arch: string } };
  readonly uri: string;
  readonly sha256: string;
  readonly bin: string;
}

export interface KrewManifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec: {
    readonly version: string;
    readonly homepage: string;
    readonly shortDescription: string;
    readonly description: string;
    readonly caveats: string;
    readonly platforms: readonly KrewPlatform[];
  };
}

/** krew's os/arch names for this process's platform. */
export function hostPlatform(): { os: string; arch: string } {
  const arch = ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le' } as Record<string, string>)[process.arch] ?? process.arch;
  return { os: process.platform === 'win32' ? 'windows' : process.platform, arch };
}

const IMPORT = /^\s*(?:import|export)\s+(?!type\b)(?:[^'"]*?\sfrom\s+)?'([^']+)'/gm;

/** The plugin's own files: the entry points and every module they import at run time, transitively. */
export function sourceClosure(root: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(join(root, file), 'utf8');
    for (const [, specifier = ''] of text.matchAll(IMPORT)) {
      if (specifier.startsWith('.')) visit(relative(root, resolve(root, dirname(file), specifier)));
      else if (!specifier.startsWith('node:')) packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0] ?? specifier);
    }
  };
  for (const entry of ENTRY_POINTS) visit(entry);
  return { files: [...files].sort(), packages: [...packages].sort() };
}

/** Installed package directories (relative to root) for `names` and everything they depend on. */
export function packageClosure(root: string, names: readonly string[]): string[] {
  const found = new Set<string>();
  const resolvePackage = (name: string, from: string): string | undefined => {
    // Node's lookup: node_modules beside the requiring package, then in each directory above it.
    for (let dir = from; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(root, candidate, 'package.json'))) return candidate;
      if (dir === '.') return undefined;
    }
  };
  const visit = (name: string, from: string, optional: boolean): void => {
    const dir = resolvePackage(name, from);
    if (dir === undefined) {
      if (optional) return;
      throw new Error(`package ${name} (needed from ${from}) is not installed; run npm ci`);
    }
    if (found.has(dir)) return;
    found.add(dir);
    const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep, dir, false);
    for (const dep of Object.keys(manifest.optionalDependencies ?? {})) visit(dep, dir, true);
  };
  for (const name of names) visit(name, '.', false);
  return [...found].sort();
}

async function filesUnder(root: string, dir: string, skipNested: boolean): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (skipNested && entry.name === 'node_modules') continue;
      out.push(...await filesUnder(root, path, skipNested));
    } else if (entry.isFile() || (entry.isSymbolicLink() && statSync(join(root, path)).isFile())) {
      out.push(path);
    }
  }
  return out;
}

/** Every file the archive holds, relative to the repository root, sorted. */
export async function archiveFiles(root: string): Promise<string[]> {
  const { files, packages } = sourceClosure(root);
  const launchers = (await readdir(join(root, LAUNCHER_DIR))).map((f) => `${LAUNCHER_DIR}/${f}`);
  const packageFiles = await Promise.all(packageClosure(root, packages).map((dir) => filesUnder(root, dir, true)));
  return [...new Set([...files, ...launchers, 'package.json', NODE_BINARY, ...packageFiles.flat()])].sort();
}

/**
 * A reproducible tar.gz of `files` (GNU tar: regular files only, symlinks followed, owner 0, mtime
 * 0, sorted; gzip without name or time), as krew unpacks it: no directories, links or `..`.
 */
export async function writeArchive(root: string, files: readonly string[], archive: string): Promise<void> {
  await mkdir(dirname(archive), { recursive: true });
  const tar = `tar --create --dereference --no-recursion --sort=name --format=gnu --mtime=@0 --owner=0 --group=0 --numeric-owner --mode=u+rw,go-w -C '${root}' --null --files-from=-`;
  const child = promisify(execFile)('bash', ['-o', 'pipefail', '-c', `${tar} | gzip -n -6 > '${archive}'`], { maxBuffer: 16 * 1024 * 1024 });
  // --sort=name orders only what tar finds in directories, not a list it is given.
  child.child.stdin?.end([...files].sort().map((f) => `${f}\0`).join(''));
  await child;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function archiveName(version: string, platform: { os: string; arch: string }): string {
  return `kubectl-airlock-${version}-${platform.os}-${platform.arch}.tar.gz`;
}

const DESCRIPTION = `Airlock is an identity-aware gateway for the Kubernetes API. A policy rule can hold a
risky request (a scale to zero, a namespace deletion) until people approve it. This
plugin is how they do: it lists the ApprovalRequests waiting for you, shows what each
one would do and who asked, and appends your decision as yourself (the cluster's
admission policy checks that you are a listed approver and not the requester). It also
lists, replays and verifies the exec and attach sessions the gateway recorded, against
its tamper-evident audit trail.

  kubectl airlock list -n airlock-system
  kubectl airlock approve NAME --reason "planned maintenance"
  kubectl airlock deny NAME --reason "not during the freeze"
  kubectl airlock sessions --recordings DIR
  kubectl airlock verify --audit audit.log --recordings DIR
  kubectl airlock completion bash
`;

const CAVEATS = `Deciding needs RBAC on approvalrequests/status in the gateway's namespace: ask an
administrator to bind the ClusterRole airlock-approvalrequest-approver to you.
For \`kubectl airlock <TAB>\`, link kubectl_complete-airlock (next to the plugin's
launcher, plugin/bin in the plugin's directory) into a directory on PATH.
`;

export function buildManifest(version: string, platforms: readonly KrewPlatform[], homepage: string): KrewManifest {
  const key = (p: KrewPlatform): string => `${p.selector.matchLabels.os}/${p.selector.matchLabels.arch}`;
  return {
    apiVersion: 'krew.googlecontainertools.github.com/v1alpha2',
    kind: 'Plugin',
    metadata: { name: PLUGIN_NAME },
    spec: {
      version, homepage,
      shortDescription: 'Approve held requests; replay recorded sessions',
      description: DESCRIPTION,
      caveats: CAVEATS,
      platforms: [...platforms].sort((a, b) => key(a).localeCompare(key(b))),
    },
  };
}

const HEADER = `# The krew manifest of the kubectl plugin (plugins/airlock.yaml in kubernetes-sigs/krew-index).
# Generated by \`npm run krew-manifest\` (hack/krew-manifest.ts) on each platform's release job: each
# sha256 is that of the archive the script built, which the job publishes at the uri. Do not edit
# by hand. hack/krew-manifest.test.ts checks it, and a fresh build, with krew's own rules.
`;

export function manifestText(manifest: KrewManifest): string {
  return HEADER + stringify(manifest, { lineWidth: 0 });
}

interface Options { readonly root: string; readonly version: string; readonly baseUrl: string; readonly out: string; readonly manifest: string }

/** Builds this platform's archive and writes the manifest; returns the archive's path and sum. */
export async function release(options: Options): Promise<{ archive: string; sha256: string; manifest: KrewManifest }> {
  const platform = hostPlatform();
  const archive = join(options.out, archiveName(options.version, platform));
  await writeArchive(options.root, await archiveFiles(options.root), archive);
  const sha256 = await sha256File(archive);
  const entry: KrewPlatform = { selector: { matchLabels: platform }, uri: `${options.baseUrl}/${options.version}/${archiveName(options.version, platform)}`, sha256, bin: PLUGIN_BIN };
  const previous = existsSync(options.manifest) ? parse(await readFile(options.manifest, 'utf8')) as KrewManifest : undefined;
  // Other platforms' entries of this version stay (their jobs made them); a placeholder sum never does.
  const others = previous?.spec.version === options.version
    ? previous.spec.platforms.filter((p) => (p.selector.matchLabels.os !== platform.os || p.selector.matchLabels.arch !== platform.arch) && !/^0+$/.test(p.sha256))
    : [];
  const manifest = buildManifest(options.version, [...others, entry], previous?.spec.homepage ?? 'https://github.com/airlock-dev/airlock');
  await mkdir(dirname(options.manifest), { recursive: true });
  await writeFile(options.manifest, manifestText(manifest));
  return { archive, sha256, manifest };
}

if (import.meta.main) {
  const root = resolve(import.meta.dirname, '..');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const { values } = parseArgs({ options: {
    version: { type: 'string', default: `v${pkg.version}` },
    'base-url': { type: 'string', default: 'https://github.com/airlock-dev/airlock/releases/download' },
    out: { type: 'string', default: join(root, 'dist', 'release') },
    manifest: { type: 'string', default: join(root, 'config', 'krew', `${PLUGIN_NAME}.yaml`) },
    help: { type: 'boolean', short: 'h' },
  } });
  if (values.help === true) {
    console.log('usage: npm run krew-manifest -- [--version v0.1.0] [--base-url URL] [--out DIR] [--manifest FILE]');
    process.exit(0);
  }
  const made = await release({ root, version: values.version, baseUrl: values['base-url'], out: values.out, manifest: values.manifest });
  console.log(`${made.archive}\n  sha256 ${made.sha256}\n${values.manifest}: ${made.manifest.spec.platforms.length} platform(s) for ${values.version}`);
}
