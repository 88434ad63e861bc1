// The inputs of the protobuf schema: k8s.io/api and k8s.io/apimachinery at the version the local
// control plane runs (hack/versions.env), read from the Go module cache. `go mod download` puts them
// there when they are missing (the way hack/build-binaries.sh fetches Kubernetes' modules) and
// prints their directories when they are not, so the schema never depends on what happens to be
// cached.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface SourcePackage {
  /** The Go import path, e.g. `k8s.io/api/core/v1`. */
  readonly importPath: string;
  readonly proto: string;
  readonly goFiles: readonly { readonly name: string; readonly text: string }[];
  /** register.go, for the packages that register kinds. */
  readonly register?: string;
}

export interface SchemaSources {
  /** The module version, e.g. `v0.36.3`. */
  readonly version: string;
  readonly packages: readonly SourcePackage[];
}

const VERSIONS_FILE = new URL('../../../../hack/versions.env', import.meta.url);

// apimachinery's packages with API types; testapigroup is its test fixture.
const APIMACHINERY_PACKAGES = ['pkg/apis/meta/v1', 'pkg/apis/meta/v1beta1', 'pkg/runtime', 'pkg/runtime/schema', 'pkg/api/resource', 'pkg/util/intstr'];

/** The staging modules' version for the pinned Kubernetes release (1.36.3 → v0.36.3). */
export async function pinnedModuleVersion(): Promise<string> {
  const text = await readFile(VERSIONS_FILE, 'utf8');
  const k8s = /^K8S_VERSION=1\.(\d+\.\d+)$/m.exec(text)?.[1];
  if (k8s === undefined) throw new Error('hack/versions.env has no K8S_VERSION=1.x.y');
  return `v0.${k8s}`;
}

/** Runs `go mod download -json` for the modules and returns each one's directory. */
export async function downloadModules(modules: readonly string[]): Promise<Map<string, string>> {
  // Outside any module, so the project's own go.mod (if one appears) cannot change the answer.
  const cwd = await mkdtemp(join(tmpdir(), 'airlock-proto-'));
  try {
    const { stdout } = await promisify(execFile)('go', ['mod', 'download', '-json', ...modules], {
      cwd, env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' }, maxBuffer: 16 * 1024 * 1024,
    });
    const dirs = new Map<string, string>();
    // The output is one JSON object per module, one after another.
    for (const chunk of stdout.split(/\n(?=\{)/)) {
      const info = JSON.parse(chunk) as { Path?: string; Version?: string; Dir?: string; Error?: string };
      if (info.Error !== undefined || info.Dir === undefined) throw new Error(`go mod download ${info.Path ?? '?'}@${info.Version ?? '?'}: ${info.Error ?? 'no directory'}`);
      dirs.set(`${info.Path ?? ''}@${info.Version ?? ''}`, info.Dir);
    }
    return dirs;
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

const SKIPPED_GO_FILE = /(_test\.go|^generated\.pb\.go|^zz_generated.*|^types_swagger_doc_generated\.go)$/;

async function readPackage(dir: string, importPath: string): Promise<SourcePackage> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.go') && !SKIPPED_GO_FILE.test(n)).sort();
  const goFiles = await Promise.all(names.map(async (name) => ({ name, text: await readFile(join(dir, name), 'utf8') })));
  const register = goFiles.find((f) => f.name === 'register.go')?.text;
  return { importPath, proto: await readFile(join(dir, 'generated.proto'), 'utf8'), goFiles, ...(register === undefined ? {} : { register }) };
}

async function protoDirs(root: string, relative = ''): Promise<string[]> {
  const entries = await readdir(join(root, relative), { withFileTypes: true });
  const found = entries.some((e) => e.isFile() && e.name === 'generated.proto') ? [relative] : [];
  for (const e of entries) {
    if (e.isDirectory() && e.name !== 'testdata') found.push(...await protoDirs(root, relative === '' ? e.name : `${relative}/${e.name}`));
  }
  return found;
}

/** Every API package of k8s.io/api and the type packages of k8s.io/apimachinery, sorted by path. */
export async function loadSchemaSources(version?: string): Promise<SchemaSources> {
  const v = version ?? await pinnedModuleVersion();
  const dirs = await downloadModules([`k8s.io/api@${v}`, `k8s.io/apimachinery@${v}`]);
  const apiDir = dirs.get(`k8s.io/api@${v}`);
  const machineryDir = dirs.get(`k8s.io/apimachinery@${v}`);
  if (apiDir === undefined || machineryDir === undefined) throw new Error(`go mod download did not report k8s.io/api and k8s.io/apimachinery at ${v}`);
  const api = await Promise.all((await protoDirs(apiDir)).sort().map((p) => readPackage(join(apiDir, p), `k8s.io/api/${p}`)));
  const machinery = await Promise.all(APIMACHINERY_PACKAGES.map((p) => readPackage(join(machineryDir, p), `k8s.io/apimachinery/${p}`)));
  return { version: v, packages: [...machinery, ...api] };
}
