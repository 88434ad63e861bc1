// A new user's first hour, as a test (issue 15): on a machine whose own Node is not the project's,
// `npm run demo` (hack/demo without the install step) runs twice in a row and the second run tells
// the same story as the first; then every command the demo suggests and every command the README
// prints runs as printed (long-running ones until they say they started; the few that cannot run
// here are named with the reason and what is checked instead). The demo brings its own control
// plane (its operator watches every namespace, so it must not share the suite's); the test stops
// it at the end with the demo's own last hint, `hack/cluster down`.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshShell, plain, type FreshShell, type ShellResult } from './support/fresh-shell.ts';

const root = process.cwd();
const readme = await readFile(join(root, 'README.md'), 'utf8');
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

let dir = '';
let shell: FreshShell;
const runs: { result: ShellResult; ms: number }[] = [];
/** What the demo's output says where things are. */
const found = { recordings: '', session: '', auditFile: '', gatewayConfig: '', tryLines: [] as string[] };

/** The commands the README prints: every line of its `sh` blocks, and inline code that is a command. */
function readmeCommands(): string[] {
  const commands: string[] = [];
  for (const [, block = ''] of readme.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of block.split('\n')) {
      const command = (line.split(/\s+#/)[0] ?? '').trim();
      if (command !== '') commands.push(command);
    }
  }
  for (const [, code = ''] of readme.replace(/```[\s\S]*?```/g, '').matchAll(/`([^`\n]+)`/g)) {
    if (/^(hack\/\S+ |hack\/(demo|test|cluster)$|npm |node |eval |source |kubectl apply)/.test(code)) commands.push(code);
  }
  return [...new Set(commands)];
}

/** The demo's "try" block: one command per line, its comment dropped. */
function tryBlock(output: string): string[] {
  const at = output.indexOf('The control plane keeps running.');
  return output.slice(at).split('\n').slice(1).filter((l) => l.startsWith('  ')).map((l) => (l.split(/\s{2,}#\s/)[0] ?? '').trim());
}

/** Only what may differ between two runs is made alike: names, ids, times, paths, numbers. */
function story(output: string): string {
  const text = plain(output);
  return text.slice(text.indexOf('== A CI identity'))
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
    .replace(/patch-deployments-[0-9a-f]{12}-\d+/g, '<apr>')
    .replace(/\/tmp\/\S+/g, '<path>')
    .replace(/\b[0-9a-f]{8}\b/g, '<session>')
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>')
    .replace(/\d+/g, '<n>')
    .replace(/ {2,}/g, ' ');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-first-hour-'));
  await mkdir(join(dir, 'tmp'));
  shell = freshShell({
    cwd: root,
    env: {
      AIRLOCK_CLUSTER_DIR: join(dir, 'cluster'), AIRLOCK_DEMO_DIR: join(dir, 'demo'), TMPDIR: join(dir, 'tmp'),
      // The README's operator command would take :8080 and :8081, which something else on a shared
      // test machine may hold; everything else it reads is as printed.
      AIRLOCK_HEALTH_ADDRESS: '127.0.0.1:0', AIRLOCK_METRICS_ADDRESS: '127.0.0.1:0',
    },
  });
  for (let i = 0; i < 2; i += 1) {
    const started = Date.now();
    runs.push({ result: await shell.run('npm run demo', { timeoutMs: 600_000 }), ms: Date.now() - started });
  }
  learnFrom(runs[1]?.result.output ?? '');
  found.tryLines = tryBlock(plain(runs[1]?.result.output ?? ''));
}, 1_300_000);

/** Where the latest demo gateway left its recordings, session and audit trail (each run starts them anew). */
function learnFrom(output: string): void {
  const text = plain(output);
  found.recordings = join(dir, 'demo', 'recordings');
  found.session = /kubectl airlock replay ([0-9a-f]{8}) /.exec(text)?.[1] ?? '';
  found.auditFile = /audit file: (\S+)/.exec(text)?.[1] ?? '';
  found.gatewayConfig = join(dirname(dirname(found.auditFile)), 'gateway.yaml');
}

afterAll(async () => {
  // Whatever the tests left: the demo's operator and control plane (this test's own), by their pids.
  const pid = Number(await readFile(join(dir, 'demo', 'operator.pid'), 'utf8').catch(() => ''));
  if (pid > 0) { try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ } }
  await shell.run('hack/cluster down', { timeoutMs: 60_000 });
  await rm(dir, { recursive: true, force: true });
}, 120_000);

describe('the demo, twice in a row', () => {
  it('runs on the machine\'s own Node, whatever its version', async () => {
    const node = await shell.run('node --version');
    process.stderr.write(`[first-hour] the shell's own node: ${node.output.trim() || 'none'}; the demo's: ${/node (v\S+)/.exec(runs[0]?.result.output ?? '')?.[1] ?? '?'}\n`);
    expect(runs[0]?.result.output).toMatch(/^node v24\./m);
  });

  it.each([0, 1])('run %i succeeds with nothing a user would read as a failure', (i) => {
    const { code, output } = runs[i]?.result ?? { code: -1, output: '' };
    expect(code, output).toBe(0);
    const text = plain(output);
    expect(text).toContain('configmap/release created');
    expect(text).toMatch(/ApprovalRequest patch-deployments-[0-9a-f]{12}-\d+: Consumed by the request with audit id [0-9a-f-]{36} /);
    expect(text).toContain('payments/api now has 0 replicas');
    for (const noise of ['already exists', 'Denied', 'oidc-provider WARNING', 'TimeoutOverflowWarning', 'EBADENGINE', 'ERR_UNKNOWN_FILE_EXTENSION', 'Error: ']) expect(text).not.toContain(noise);
  });

  it('tells the same story the second time, and does not take longer', () => {
    expect(story(runs[1]?.result.output ?? '')).toBe(story(runs[0]?.result.output ?? ''));
    expect(runs[1]?.ms ?? Infinity).toBeLessThan((runs[0]?.ms ?? 0) + 60_000);
  });
});

describe('every command the demo suggests works as printed', () => {
  const envShell = (command: string): string => `eval "$(hack/cluster env)" && ${command}`;
  const teardown = (line: string): boolean => line.startsWith('kill ') || line === 'hack/cluster down';

  it('suggests only commands it lists under "try", and lists some', () => {
    expect(found.tryLines.length).toBeGreaterThan(5);
    const inline = [...plain(runs[1]?.result.output ?? '').matchAll(/`([^`\n]+)`/g)].map((m) => m[1] ?? '');
    for (const command of inline) expect(found.tryLines).toContain(command);
  });

  it('runs each of them, in order, in the shell the first one sets up', async () => {
    for (const line of found.tryLines.filter((l) => !teardown(l))) {
      if (line.startsWith('eval ')) {
        const set = await shell.run(`${line} && node --version && command -v kubectl kubectl-airlock`);
        expect(set.code, set.output).toBe(0);
        expect(set.output).toMatch(/^v24\./);
        expect(set.output).toContain(join(root, 'plugin/bin/kubectl-airlock'));
      } else if (line.includes('--keep')) {
        const kept = await shell.start(envShell(line), /keeps running[^\n]*\n\s*(KUBECONFIG=\S+ \S+ get configmaps -n payments)\n/, 300_000);
        const through = /\n\s*(KUBECONFIG=\S+ \S+ get configmaps -n payments)\n/.exec(kept.output())?.[1] ?? '';
        const listed = await shell.run(through);
        expect(listed.output, through).toMatch(/^release\s/m);
        await kept.stop('SIGINT');
      } else {
        const result = await shell.run(envShell(line));
        expect(result.code, `${line}\n${result.output}`).toBe(0);
      }
    }
  }, 600_000);
});

type Check =
  | { readonly kind: 'run'; readonly as?: string; readonly env?: boolean; readonly expect?: RegExp; readonly exit?: number; readonly last?: boolean }
  | { readonly kind: 'starts'; readonly as: string; readonly until: RegExp; readonly env?: boolean }
  | { readonly kind: 'script'; readonly script: string }
  | { readonly kind: 'not-here'; readonly why: string; readonly check: () => void | Promise<void> };

/** How each README command is checked; a command the README gains must be added here. */
function readmeChecks(): Map<string, Check> {
  const cfg = found.gatewayConfig;
  const script = (name: string): Check => ({ kind: 'script', script: name });
  const help = (command: string): Check => ({ kind: 'run', as: `${command} -- --help`, expect: /^usage: npm run /m });
  return new Map<string, Check>([
    ['hack/demo', { kind: 'not-here', why: 'installs system packages and runs npm ci; this test runs the rest, `npm run demo` (hack/demo.sh), twice', check: async () => {
      expect(await readFile(join(root, 'hack/demo'), 'utf8')).toMatch(/bash hack\/install-system-deps\.sh\nbash hack\/npm-ci\.sh\nbash hack\/demo\.sh\n/);
    } }],
    ['hack/test', { kind: 'not-here', why: 'runs the suite this test is part of', check: async () => {
      expect(await readFile(join(root, 'hack/test'), 'utf8')).toMatch(/bash hack\/install-system-deps\.sh\nbash hack\/npm-ci\.sh\nnpm test\n/);
    } }],
    ['docker build -t airlock:dev .', { kind: 'not-here', why: 'no container engine on this machine (issue 17 proves it on a real node)', check: () => { expect(readme).toContain('This machine has no container engine'); } }],
    ['kind load docker-image airlock:dev', { kind: 'not-here', why: 'no container engine, no kind cluster here', check: () => { expect(readme).toContain('This machine has no container engine'); } }],
    ['kubectl apply --server-side -k config/default', { kind: 'run', env: true, last: true, expect: /deployment\.apps\/airlock-operator serverside-applied/ }],
    ['kubectl -n airlock-system rollout status deployment/airlock-operator', { kind: 'run', env: true, last: true, expect: /successfully rolled out/ }],
    ['kubectl apply --server-side -k config/samples', { kind: 'run', env: true, last: true, expect: /accessgateway\.airlock\.dev\/ci-gateway serverside-applied/ }],
    ['kubectl -n airlock-system wait --for=condition=Ready accessgateway/ci-gateway --timeout=5m', { kind: 'run', env: true, last: true, expect: /condition met/ }],
    ['KUBECONFIG=… POD_NAMESPACE=airlock-system AIRLOCK_LEADER_ELECTION=false npm run operator', { kind: 'starts', as: `KUBECONFIG=${join(dir, 'cluster', 'kubeconfig')} POD_NAMESPACE=airlock-system AIRLOCK_LEADER_ELECTION=false npm run operator`, until: /operator started/ }],
    ['kubectl airlock sessions --recordings DIR', { kind: 'run', env: true, as: `kubectl airlock sessions --recordings ${found.recordings}`, expect: /^SESSION\s+STARTED/m }],
    ['kubectl airlock replay 3f2a91c0 --recordings DIR', { kind: 'run', env: true, as: `kubectl airlock replay ${found.session} --recordings ${found.recordings}`, expect: /deploying 1\.2\.3/ }],
    ['kubectl airlock verify --audit audit.log --recordings DIR', { kind: 'run', env: true, as: `kubectl airlock verify --audit ${found.auditFile} --recordings ${found.recordings}`, expect: /^ok: / }],
    ['hack/cluster up', { kind: 'run', expect: /control plane ready/ }],
    ['eval "$(hack/cluster env)"', { kind: 'run', as: 'eval "$(hack/cluster env)" && kubectl version --client', expect: /Client Version: v1\.36/ }],
    ['hack/cluster kubectl get nodes', { kind: 'run', expect: /kwok-node-0\s+Ready/ }],
    ['hack/cluster logs kube-apiserver', { kind: 'run', expect: /\S/ }],
    // Returns once the API server is ready again, so the checks after it still find one.
    ['hack/cluster restart kube-apiserver', { kind: 'run', expect: /^kube-apiserver running \(pid \d+\)$/m }],
    ['hack/cluster stop|start|restart COMPONENT', { kind: 'not-here', why: 'the usage form of the line above, which runs; e2e/outage.e2e.test.ts stops and starts the API server', check: async () => {
      expect(await readFile(join(root, 'hack/controlplane/cli.ts'), 'utf8')).toContain('stop|start|restart COMPONENT');
    } }],
    ['kubectl apply --server-side', { kind: 'not-here', why: 'a kind of request named in prose, not a command to run; the lines with -k above run it', check: () => { expect(readme).toContain('kubectl apply --server-side -k config/default'); } }],
    ['hack/cluster down', { kind: 'not-here', why: 'stops the control plane the rest needs; the demo\'s last hint runs it at the end', check: () => { expect(found.tryLines.at(-1)).toBe('hack/cluster down'); } }],
    ['hack/cluster', { kind: 'run', expect: /^usage: hack\/cluster <command>/m }],
    ['npm ci', { kind: 'not-here', why: 'reinstalls the node_modules this test runs from; hack/npm-ci.test.ts runs it through hack/npm-ci.sh', check: () => undefined }],
    ['npm test', script('test')],
    ['npm run demo', { kind: 'not-here', why: 'it is what this test runs, twice', check: () => { expect(pkg.scripts['demo']).toBe('bash hack/demo.sh'); } }],
    ['node --version', { kind: 'run', env: true, expect: /^v24\./ }],
    ['npm run operator', script('operator')],
    ['npm run gateway', { kind: 'run', exit: 2, expect: /usage: airlock-gateway --config FILE/ }],
    ['npm run demo:gateway', { kind: 'run', expect: /Gateway stopped/ }], // run first, see below
    ['npm run bench:…', { kind: 'not-here', why: 'names the bench:* scripts, each checked on its own', check: () => { expect(Object.keys(pkg.scripts).filter((s) => s.startsWith('bench:')).length).toBe(7); } }],
    ['node FILE.ts', { kind: 'run', env: true, as: 'node hack/print-runtime.ts', expect: /^node v24\./ }],
    ['npm run krew-manifest', help('npm run krew-manifest')],
    ['source <(kubectl airlock completion bash)', { kind: 'run', env: true, as: 'source <(kubectl airlock completion bash) && complete -p kubectl-airlock', expect: /__kubectl_airlock_complete/ }],
    ['node gateway/audit/verify-cli.ts FILE…', { kind: 'run', env: true, as: `node gateway/audit/verify-cli.ts ${found.auditFile}`, expect: /ok/ }],
    ['node gateway/main.ts --config gateway.yaml', { kind: 'starts', env: true, as: `node gateway/main.ts --config ${cfg}`, until: /gateway listening/ }],
    ['npm install -g .', { kind: 'not-here', why: 'installs into the machine\'s global npm prefix; hack/cluster env puts the same launchers on PATH, checked above', check: () => undefined }],
    ['npm run test:unit', script('test:unit')],
    ['npm run test:e2e', script('test:e2e')],
    ['npm run bench:gateway', help('npm run bench:gateway')],
    ['npm run bench:masking', help('npm run bench:masking')],
    ['npm run bench:watch', help('npm run bench:watch')],
    ['npm run bench:audit', help('npm run bench:audit')],
    ['npm run bench:approvals', help('npm run bench:approvals')],
    ['npm run bench:scale', help('npm run bench:scale')],
    ['npm run bench:masker', { kind: 'run', expect: /^masked [\d.]+ MiB/m }],
    ['npm run gateway -- --config FILE', { kind: 'starts', as: `npm run gateway -- --config ${cfg}`, until: /gateway listening/ }],
    ['npm run generate', { kind: 'run', expect: /wrote .*api-reference\.md/ }],
  ]);
}

describe('every command the README prints works as printed', () => {
  it('has a check for each command, and no check for a command it no longer prints', () => {
    const checks = readmeChecks();
    expect(readmeCommands().filter((c) => !checks.has(c))).toEqual([]);
    expect([...checks.keys()].filter((c) => !readmeCommands().includes(c))).toEqual([]);
  });

  it('runs each one (the installation into the cluster last), on the machine\'s own Node unless it says to eval hack/cluster env', async () => {
    // The demo gateway first: each run starts its recordings and audit trail anew, and the
    // commands that read them use this run's.
    const demo = await shell.run('npm run demo:gateway', { timeoutMs: 300_000 });
    expect(demo.code, demo.output).toBe(0);
    expect(plain(demo.output)).toContain('Gateway stopped');
    learnFrom(demo.output);
    const checks = [...readmeChecks()].filter(([command]) => command !== 'npm run demo:gateway');
    const ordered = [...checks.filter(([, c]) => !(c.kind === 'run' && c.last === true)), ...checks.filter(([, c]) => c.kind === 'run' && c.last === true)];
    const generated = ['crds/types.gen.ts', 'docs/api-reference.md'];
    const before = await Promise.all(generated.map((f) => readFile(join(root, f), 'utf8')));
    for (const [command, check] of ordered) {
      const line = (text: string): string => `README: ${command}\n${text}`;
      if (check.kind === 'script') {
        expect(pkg.scripts[check.script], line('no such npm script')).toBeDefined();
      } else if (check.kind === 'not-here') {
        process.stderr.write(`[first-hour] not run here: ${command} (${check.why})\n`);
        await check.check();
      } else if (check.kind === 'starts') {
        // It started (said so); then it is stopped as Ctrl-C would.
        const started = await shell.start(check.env === true ? `eval "$(hack/cluster env)" && ${check.as}` : check.as, check.until, 120_000);
        await started.stop('SIGINT');
      } else {
        const text = check.as ?? command;
        const result = await shell.run(check.env === true ? `eval "$(hack/cluster env)" && ${text}` : text, { timeoutMs: 300_000 });
        expect(result.code, line(result.output)).toBe(check.exit ?? 0);
        if (check.expect !== undefined) expect(plain(result.output), line(result.output)).toMatch(check.expect);
      }
    }
    // `npm run generate` found the generated files current.
    expect(await Promise.all(generated.map((f) => readFile(join(root, f), 'utf8')))).toEqual(before);
  }, 900_000);
});

describe('the demo\'s last hints stop what it started', () => {
  it('stops the demo operator and the control plane, leaving nothing running', async () => {
    const pid = Number(await readFile(join(dir, 'demo', 'operator.pid'), 'utf8'));
    for (const line of found.tryLines.filter((l) => l.startsWith('kill ') || l === 'hack/cluster down')) {
      const result = await shell.run(line);
      expect(result.code, `${line}\n${result.output}`).toBe(0);
    }
    await expect.poll(() => { try { process.kill(pid, 0); return true; } catch { return false; } }, { timeout: 30_000 }).toBe(false);
    expect((await shell.run('hack/cluster kubectl get nodes')).output).toContain('no control plane is running');
  }, 120_000);
});
