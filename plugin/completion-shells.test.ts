// The completion scripts in the shells they are for: bash, zsh and fish, each started clean in a
// tmux pane, load `kubectl-airlock completion SHELL` as the help says, and a real TAB completes a
// subcommand, a flag and a --recordings directory.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = new URL('./bin/', import.meta.url).pathname;
const sessions: string[] = [];

const SHELLS = {
  bash: { start: 'bash --norc --noprofile', load: 'source <(kubectl-airlock completion bash)' },
  zsh: { start: 'zsh -f', load: 'autoload -Uz compinit && compinit -u && source <(kubectl-airlock completion zsh)' },
  fish: { start: 'fish --no-config', load: 'kubectl-airlock completion fish | source' },
} as const;

async function tmux(...args: string[]): Promise<string> {
  return (await run('tmux', args)).stdout;
}

/** A clean interactive shell in a tmux pane, with the plugin's launchers on PATH, in `cwd`. */
async function shell(name: keyof typeof SHELLS, cwd: string): Promise<{ type(keys: string): Promise<void>; screen(): Promise<string> }> {
  const session = `airlock-completion-${name}-${process.pid}-${sessions.length}`;
  sessions.push(session);
  // The environment through env(1): a tmux server someone else started keeps its own.
  await tmux('new-session', '-d', '-s', session, '-x', '200', '-y', '50', '-c', cwd, `env PATH='${bin}:${process.env['PATH'] ?? ''}' HOME='${cwd}' ${SHELLS[name].start}`);
  const screen = (): Promise<string> => tmux('capture-pane', '-p', '-t', session);
  const type = async (keys: string): Promise<void> => { await tmux('send-keys', '-t', session, '--', keys); };
  await new Promise((r) => setTimeout(r, 300));
  await type(SHELLS[name].load);
  await tmux('send-keys', '-t', session, 'Enter');
  await tmux('send-keys', '-t', session, 'clear', 'Enter');
  await new Promise((r) => setTimeout(r, 500));
  return { type, screen };
}

afterEach(async () => {
  for (const s of sessions.splice(0)) await tmux('kill-session', '-t', s).catch(() => '');
});

describe.each(Object.keys(SHELLS) as (keyof typeof SHELLS)[])('%s completion', (name) => {
  it('completes a subcommand, a flag and a --recordings directory on TAB', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'airlock-completion-'));
    await mkdir(join(cwd, 'recordings-dir'));
    const sh = await shell(name, cwd);
    const lastLine = async (): Promise<string> => (await sh.screen()).trimEnd().split('\n').at(-1) ?? '';
    await sh.type('kubectl-airlock appr');
    await sh.type('Tab');
    await expect.poll(lastLine, { timeout: 10_000 }).toMatch(/kubectl-airlock approve\s*$/);
    await sh.type('--rea');
    await sh.type('Tab');
    await expect.poll(lastLine, { timeout: 10_000 }).toMatch(/kubectl-airlock approve +--reason\s*$/);
    await sh.type('C-u');
    await sh.type('kubectl-airlock sessions --recordings recordings-');
    await sh.type('Tab');
    await expect.poll(lastLine, { timeout: 10_000 }).toMatch(/--recordings recordings-dir\/?\s*$/);
  }, 40_000);
});
