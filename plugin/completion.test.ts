// Completion candidates in Cobra's __complete format, from fixed sources (the CLI's real sources
// ask the cluster and read a recordings directory; completion-shells.test.ts drives real shells).
import { describe, expect, it } from 'vitest';
import { complete, DIRECTIVE, formatCompletion, type CompletionSources } from './completion.ts';
import { runCli } from './kubectl-airlock.ts';
import type { KubeFlags } from './subcommand.ts';
import { SUBCOMMANDS } from './subcommands.ts';

function sources(): CompletionSources & { asked: KubeFlags[]; dirs: string[] } {
  const asked: KubeFlags[] = [];
  const dirs: string[] = [];
  return {
    subcommands: SUBCOMMANDS, asked, dirs,
    approvalRequests: (flags) => { asked.push(flags); return Promise.resolve([{ value: 'patch-deployments-x7k2p', description: 'scale deployment prod/api to 0 replicas' }, { value: 'delete-namespaces-q9z1c', description: 'delete namespace payments' }]); },
    sessions: (dir) => { dirs.push(dir); return Promise.resolve([{ value: '3f2a91c0', description: 'ci: sh' }]); },
  };
}

const values = async (words: string[], s = sources()): Promise<string[]> => (await complete(words, s)).candidates.map((c) => c.value);

describe('complete', () => {
  it('offers every subcommand, with its summary, for the first word', async () => {
    const { candidates, directive } = await complete([''], sources());
    expect(candidates.map((c) => c.value)).toEqual(['list', 'get', 'approve', 'deny', 'sessions', 'replay', 'verify', 'completion']);
    expect(candidates[2]?.description).toMatch(/^Approve an ApprovalRequest/);
    expect(directive).toBe(DIRECTIVE.noFileComp);
  });

  it.each([
    [['ap'], ['approve']],
    [['completion', ''], []],
    [['approve', '--r'], ['--reason']],
    [['sessions', '--'], ['--kubeconfig', '--context', '--namespace', '--all-namespaces', '--help', '--recordings']],
    [['-'], ['--kubeconfig', '-n', '-A', '-h']],
  ])('completes %j to %j', async (words, expected) => {
    const got = await values(words);
    expect(words.at(-1) === '-' ? got.filter((v) => expected.includes(v)) : got).toEqual(expected);
  });

  it('names ApprovalRequests for approve, deny and get, asking with the namespace, context and kubeconfig given', async () => {
    const s = sources();
    expect(await values(['--context', 'prod', 'approve', '-n', 'airlock-system', 'patch'], s)).toEqual(['patch-deployments-x7k2p']);
    expect(await values(['deny', ''], s)).toEqual(['patch-deployments-x7k2p', 'delete-namespaces-q9z1c']);
    expect(await values(['get', '-A', ''], s)).toHaveLength(2);
    expect(s.asked).toEqual([{ context: 'prod', namespace: 'airlock-system', allNamespaces: false }, { allNamespaces: false }, { allNamespaces: true }]);
    expect(await values(['approve', 'patch-deployments-x7k2p', ''], s)).toEqual([]);
  });

  it('names recorded sessions for replay, from --recordings', async () => {
    const s = sources();
    expect(await values(['replay', '--recordings', '/var/log/airlock/sessions', ''], s)).toEqual(['3f2a91c0']);
    expect(s.dirs).toEqual(['/var/log/airlock/sessions']);
  });

  it.each([
    [['sessions', '--recordings', ''], DIRECTIVE.filterDirs],
    [['verify', '--audit', ''], DIRECTIVE.default],
    [['--kubeconfig', ''], DIRECTIVE.default],
    [['approve', 'x', '--reason', ''], DIRECTIVE.noFileComp],
  ])('lets the shell complete paths for %j (directive %d)', async (words, directive) => {
    expect(await complete(words, sources())).toEqual({ candidates: [], directive });
  });

  it('completes nothing, quietly, when the cluster cannot be asked', async () => {
    const s = { ...sources(), approvalRequests: () => Promise.reject(new Error('no kubeconfig')) };
    expect(await complete(['approve', ''], s)).toEqual({ candidates: [], directive: DIRECTIVE.noFileComp });
  });
});

describe('formatCompletion', () => {
  it('writes value<TAB>description lines and the directive, and keeps tabs and newlines out of values', () => {
    expect(formatCompletion({ candidates: [{ value: 'a' }, { value: 'b\tc', description: 'two\nlines' }], directive: 4 })).toBe('a\nb c\ttwo lines\n:4\n');
  });
});

describe('kubectl airlock __complete and completion', () => {
  const run = async (argv: string[]): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const code = await runCli({ argv, prog: 'kubectl airlock', io: { out: (t) => { out += t; }, err: (t) => { err += t; } }, connect: () => { throw new Error('no cluster'); } });
    return { code, out, err };
  };

  it('answers __complete in the protocol kubectl reads, even without a cluster', async () => {
    expect(await run(['__complete', 'deny', ''])).toEqual({ code: 0, out: ':4\n', err: '' });
    expect((await run(['__complete', 'ver'])).out).toBe('verify\tVerify the audit trail (hash chain, checkpoints) and every recording it names\n:4\n');
  });

  it.each(['bash', 'zsh', 'fish'])('prints the %s script', async (shell) => {
    const { code, out } = await run(['completion', shell]);
    expect(code).toBe(0);
    expect(out).toContain(`${shell} completion for kubectl-airlock kubectl-approve`);
  });

  it('refuses an unknown shell with the ones it knows', async () => {
    expect(await run(['completion', 'powershell'])).toEqual({ code: 1, out: '', err: 'error: name one shell: kubectl airlock completion bash|zsh|fish\n' });
  });
});
