// hack/npm-ci.sh: `npm ci` without the EBADENGINE blocks npm prints when it runs on an older Node
// than a package asks for (the project's own Node 24 runs everything), folded into one line that
// still names each package; everything else, and npm's exit status, unchanged. Real npm, offline:
// the package has no dependencies.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const script = new URL('./npm-ci.sh', import.meta.url).pathname;

async function project(engines: string, lockfile = true): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-npm-ci-'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'needs-new-node', version: '1.0.0', engines: { node: engines } }));
  if (lockfile) await run('npm', ['install', '--package-lock-only', '--loglevel=error'], { cwd: dir });
  return dir;
}

async function npmCi(cwd: string): Promise<{ code: number; output: string }> {
  return run('bash', [script], { cwd }).then(
    (r) => ({ code: 0, output: r.stdout + r.stderr }),
    (e: unknown) => { const f = e as { code: number; stdout: string; stderr: string }; return { code: f.code, output: f.stdout + f.stderr }; });
}

describe('hack/npm-ci.sh', () => {
  it('folds the engine blocks into one line naming each package and the Node it asks for', async () => {
    const dir = await project('>=99');
    const plain = await run('npm', ['ci'], { cwd: dir });
    expect(plain.stderr).toContain('npm warn EBADENGINE');
    const { code, output } = await npmCi(dir);
    expect(code).toBe(0);
    expect(output).not.toContain('EBADENGINE');
    const lines = output.split('\n').filter((l) => l.startsWith('npm ci:'));
    expect(lines).toEqual([expect.stringMatching(/^npm ci: 1 package asks for a newer Node than this machine's v\d+\.\d+\.\d+: needs-new-node@1\.0\.0 \(>=99\)\. That is expected: every script runs on the project's own Node 24 \(node_modules\/\.bin\/node\)\.$/)]);
  }, 60_000);

  it('says nothing more when no package asks for another Node', async () => {
    const { code, output } = await npmCi(await project('>=1'));
    expect(code).toBe(0);
    expect(output).not.toContain('npm ci:');
  }, 60_000);

  it('passes npm\'s own errors and exit status through', async () => {
    const { code, output } = await npmCi(await project('>=99', false));
    expect(code).not.toBe(0);
    expect(output).toContain('npm error code EUSAGE');
  }, 60_000);

  it.each(['hack/test', 'hack/demo'])('is how %s installs (never a bare npm ci)', async (file) => {
    const lines = (await readFile(new URL(`../${file}`, import.meta.url), 'utf8')).split('\n');
    expect(lines).toContain('bash hack/npm-ci.sh');
    expect(lines.filter((l) => /^\s*npm ci\b/.test(l))).toEqual([]);
  });
});
