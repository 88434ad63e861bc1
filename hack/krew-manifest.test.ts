// The krew manifest and the release archive it names, checked with krew's own rules
// (hack/krew-rules.ts): the committed manifest as krew-index would check it, and a fresh build of
// this platform's archive installed as `kubectl krew install` would install it, then run with no
// Node on PATH.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildManifest, hostPlatform, manifestText, release, sha256File, writeArchive, type KrewManifest, type KrewPlatform } from './krew-manifest.ts';
import { krewInstall, krewManifestProblems } from './krew-rules.ts';

const run = promisify(execFile);
const root = new URL('../', import.meta.url).pathname;
const committedText = await readFile(join(root, 'config/krew/airlock.yaml'), 'utf8');
const committed = parse(committedText) as KrewManifest;
const tmp = (): Promise<string> => mkdtemp(join(tmpdir(), 'airlock-krew-'));

describe('config/krew/airlock.yaml', () => {
  it('passes krew-index\'s checks', () => {
    expect(krewManifestProblems('airlock.yaml', committed)).toEqual([]);
  });

  it('is the script\'s output, not a draft: real sums, the package\'s version, no hand edits', async () => {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(committed.spec.version).toBe(`v${pkg.version}`);
    expect(committed.spec.platforms.length).toBeGreaterThan(0);
    for (const p of committed.spec.platforms) expect(p.sha256).not.toMatch(/^0+$/);
    expect(committedText).toBe(manifestText(buildManifest(committed.spec.version, committed.spec.platforms, committed.spec.homepage)));
  });
});

describe('a release of this platform, installed the way krew installs it', () => {
  let dir: string;
  let made: Awaited<ReturnType<typeof release>>;
  beforeAll(async () => {
    dir = await tmp();
    made = await release({ root, version: committed.spec.version, baseUrl: 'https://example.invalid/releases', out: dir, manifest: join(dir, 'airlock.yaml') });
  }, 120_000);

  it('names its archive with the archive\'s real sha256, and passes krew-index\'s checks', async () => {
    expect(made.manifest.spec.platforms).toHaveLength(1);
    const platform = made.manifest.spec.platforms[0]!;
    expect(platform.selector.matchLabels).toEqual(hostPlatform());
    expect(platform.sha256).toBe(await sha256File(made.archive));
    expect(krewManifestProblems('airlock.yaml', parse(await readFile(join(dir, 'airlock.yaml'), 'utf8')) as KrewManifest)).toEqual([]);
  });

  it('installs, and `kubectl airlock` runs from it on a machine without Node', async () => {
    const installDir = join(dir, 'store', 'airlock', committed.spec.version);
    const binDir = join(dir, 'bin');
    const link = await krewInstall(made.archive, made.manifest.spec.platforms[0]!, { installDir, binDir, name: 'airlock' });
    // A PATH with the launcher's few tools and no node at all.
    const tools = join(dir, 'tools');
    await mkdir(tools);
    for (const tool of ['readlink', 'dirname', 'basename']) await symlink(`/usr/bin/${tool}`, join(tools, tool));
    const env = { PATH: tools, HOME: dir };
    await expect(run('/bin/sh', ['-c', 'command -v node'], { env })).rejects.toThrow();
    const help = await run(link, ['--help'], { env });
    expect(help.stdout).toContain('Usage: kubectl airlock COMMAND');
    expect((await run(link, ['__complete', 'appr'], { env })).stdout).toMatch(/^approve\t/);
    expect((await run(join(installDir, 'plugin/bin/kubectl_complete-airlock'), ['ver'], { env })).stdout).toMatch(/^verify\t/);
    const none = await run(link, ['list'], { env: { ...env, KUBECONFIG: join(dir, 'missing') } }).catch((e: unknown) => e as { code: number; stderr: string });
    expect(none).toMatchObject({ code: 1 });
  }, 120_000);
});

describe('the archive is reproducible', () => {
  it('gives the same sha256 for the same files, whatever their times', async () => {
    const src = await tmp();
    await writeFile(join(src, 'a.txt'), 'a');
    await writeFile(join(src, 'b.txt'), 'b');
    const out = await tmp();
    await writeArchive(src, ['b.txt', 'a.txt'], join(out, '1.tar.gz'));
    await utimes(join(src, 'a.txt'), new Date(0), new Date(86_400_000));
    await writeArchive(src, ['a.txt', 'b.txt'], join(out, '2.tar.gz'));
    expect(await sha256File(join(out, '1.tar.gz'))).toBe(await sha256File(join(out, '2.tar.gz')));
  });
});

describe('krew\'s rules can fail', () => {
  const good = committed;
  const withPlatform = (patch: Partial<KrewPlatform>): KrewManifest => ({ ...good, spec: { ...good.spec, platforms: [{ ...good.spec.platforms[0]!, ...patch }] } });
  it.each([
    ['a placeholder-free file name', 'kubectl-airlock.yaml', good, 'plugin should be named "kubectl-airlock", not "airlock"'],
    ['a version without v', 'airlock.yaml', { ...good, spec: { ...good.spec, version: '0.1.0' } }, 'version "0.1.0" is not "v" followed by a semantic version'],
    ['a two-line short description', 'airlock.yaml', { ...good, spec: { ...good.spec, shortDescription: 'a\nb' } }, 'should not have line breaks in short description'],
    ['a bad sum', 'airlock.yaml', withPlatform({ sha256: 'ABC' }), 'platforms[0]: `sha256` value ABC is not valid'],
    ['a selector on another key', 'airlock.yaml', withPlatform({ selector: { matchLabels: { os: 'linux', arch: 'amd64', libc: 'musl' } as never } }), 'platforms[0]: key "libc" not supported'],
    ['an unsupported platform', 'airlock.yaml', withPlatform({ selector: { matchLabels: { os: 'plan9', arch: 'amd64' } } }), 'platforms[0]: its selector matches no platform krew supports'],
    ['two platforms for linux/amd64', 'airlock.yaml', { ...good, spec: { ...good.spec, platforms: [good.spec.platforms[0]!, good.spec.platforms[0]!] } }, 'platforms 0, 1 overlap on linux/amd64'],
  ])('refuses %s', (_what, file, manifest, problem) => {
    expect(krewManifestProblems(file, manifest)).toContain(problem);
  });

  it.each([
    ['a symlink', async (src: string) => { await writeFile(join(src, 'real'), 'x'); await symlink('real', join(src, 'operator')); return ['operator']; }, 'unable to handle file type 2'],
  ])('refuses an archive with %s', async (_what, make, message) => {
    const src = await tmp();
    const files = await make(src);
    const out = join(await tmp(), 'a.tar.gz');
    await run('bash', ['-c', `tar -czf '${out}' -C '${src}' ${files.join(' ')}`]);
    const platform: KrewPlatform = { selector: { matchLabels: { os: 'linux', arch: 'amd64' } }, uri: 'https://x/a.tar.gz', sha256: await sha256File(out), bin: 'operator' };
    await expect(krewInstall(out, platform, { installDir: join(src, 'i'), binDir: join(src, 'b'), name: 'x' })).rejects.toThrow(message);
  });

  it('refuses an archive whose sum is not the manifest\'s, and a bin the archive lacks', async () => {
    const src = await tmp();
    await writeFile(join(src, 'tool'), 'x');
    const out = join(await tmp(), 'a.tar.gz');
    await writeArchive(src, ['tool'], out);
    const platform: KrewPlatform = { selector: { matchLabels: { os: 'linux', arch: 'amd64' } }, uri: 'https://x/a.tar.gz', sha256: 'a'.repeat(64), bin: 'tool' };
    await expect(krewInstall(out, platform, { installDir: join(src, 'i'), binDir: join(src, 'b'), name: 'x' })).rejects.toThrow('checksum does not match');
    await expect(krewInstall(out, { ...platform, sha256: await sha256File(out), bin: 'missing' }, { installDir: join(src, 'j'), binDir: join(src, 'c'), name: 'x' })).rejects.toThrow('cannot be found in extracted archive');
  });
});
