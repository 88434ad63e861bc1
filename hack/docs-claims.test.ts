// Claims the docs make that drifted apart once (issue 15, "docs that disagree"), checked against
// their one source: the first build's duration, how the API is installed, a scannable status table,
// and the two set-up commands of a fresh machine.
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FIRST_BUILD_MINUTES } from './controlplane/build-time.ts';

const root = new URL('../', import.meta.url).pathname;
const read = (file: string): Promise<string> => readFile(join(root, file), 'utf8');
const readme = await read('README.md');

/** Every file a user reads or runs that may tell them how to install: docs, scripts, CLI hints. */
async function userFacingFiles(): Promise<string[]> {
  const dirs = ['docs', 'hack', 'plugin', 'config/default', 'config/samples', 'config/crd'];
  const found = ['README.md'];
  for (const dir of dirs) {
    for (const f of await readdir(join(root, dir))) if (/\.(md|sh|ts|yaml)$/.test(f) && !f.endsWith('.test.ts')) found.push(`${dir}/${f}`);
  }
  return found;
}

/** The BUILD_SECONDS of every build in the cache (hack/build-binaries.sh writes it). */
async function measuredBuilds(): Promise<number[]> {
  const cache = join(process.env['AIRLOCK_CACHE_DIR'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'airlock'), 'k8s-testbin');
  const entries = await readdir(cache).catch(() => [] as string[]);
  const seconds = await Promise.all(entries.map((e) => readFile(join(cache, e, 'BUILD_SECONDS'), 'utf8').then(Number, () => Number.NaN)));
  return seconds.filter((s) => Number.isFinite(s) && s > 0);
}

describe('the first build of the control plane', () => {
  it('takes as long in the README as in `hack/cluster help`', async () => {
    const help = (await promisify(execFile)(process.execPath, [join(root, 'hack/controlplane/cli.ts'), 'help'])).stdout;
    expect(help).toContain(`first time: about ${FIRST_BUILD_MINUTES} minutes on 2 cores`);
    expect(readme).toContain(`about ${FIRST_BUILD_MINUTES} minutes on 2 cores`);
    expect(`${readme}\n${help}`).not.toMatch(/~\s*\d+\s*min/);
  });

  it('is within half of the claim either way of the builds measured on this machine', async () => {
    for (const seconds of await measuredBuilds()) {
      expect(seconds / 60, `a build of ${seconds} s`).toBeGreaterThanOrEqual(FIRST_BUILD_MINUTES / 2);
      expect(seconds / 60, `a build of ${seconds} s`).toBeLessThanOrEqual(FIRST_BUILD_MINUTES * 1.5);
    }
  });
});

describe('installing the API', () => {
  it('is `kubectl apply --server-side` everywhere (as Argo CD syncs it), never a client-side apply of config/ or crds/', async () => {
    const clientSide: string[] = [];
    for (const file of await userFacingFiles()) {
      for (const line of (await read(file)).split('\n')) {
        if (/apply\b.*(-k|-f)\s+\S*(config\/|crds)/.test(line) && !line.includes('--server-side') && !line.includes('--dry-run')) clientSide.push(`${file}: ${line.trim()}`);
      }
    }
    expect(clientSide).toEqual([]);
  });
});

describe('README', () => {
  const section = (title: string): string => {
    const start = readme.indexOf(`## ${title}\n`);
    expect(start, title).toBeGreaterThanOrEqual(0);
    const end = readme.indexOf('\n## ', start + 1);
    return readme.slice(start, end === -1 ? undefined : end);
  };

  it('keeps exactly two set-up commands for a fresh machine: hack/demo and hack/test', () => {
    const block = /```sh\n([\s\S]*?)```/.exec(section('Two commands'))?.[1] ?? '';
    expect(block.trim().split('\n').map((l) => l.split('#')[0]?.trim())).toEqual(['hack/demo', 'hack/test']);
  });

  it('has a status table a person can scan: short cells, each row linking its details', () => {
    const rows = section('Status').split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| area'));
    expect(rows.length).toBeGreaterThan(5);
    for (const row of rows) {
      const cells = row.split(' | ').map((c) => c.replace(/^\| |\s*\|$/g, ''));
      expect(cells, row).toHaveLength(3);
      for (const cell of cells) expect(cell.split(/\s+/).length, cell).toBeLessThanOrEqual(25);
      expect(cells[2], row).toMatch(/\]\((#|[\w./-]+)/);
    }
  });
});
