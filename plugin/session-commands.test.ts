import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { castEventLine, castHeaderLine } from '../core/recording/asciicast.ts';
import { runCli } from './kubectl-airlock.ts';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const connect = (): never => { throw new Error('session commands need no cluster'); };
  const code = await runCli({ argv, prog: 'kubectl airlock', io: { out: (t) => { out += t; }, err: (t) => { err += t; } }, connect });
  return { code, out, err };
}

async function recordings(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-sessions-'));
  const cast = (id: string, startedAt: number, events: string): string => castHeaderLine({
    version: 2, width: 80, height: 24, timestamp: startedAt, command: 'sh -c ls',
    airlock: { auditID: id, user: 'alice', effectiveUser: 'deployer', namespace: 'apps', pod: 'web-0', container: 'app', subresource: 'exec', tty: false, stdin: false },
  }) + events;
  await writeFile(join(dir, '22222222-b.cast'), cast('22222222-b', 1_790_000_100, castEventLine([0.1, 'o', 'two\n']) + castEventLine([75.2, 'm', 'exit 1'])));
  await writeFile(join(dir, '11111111-a.cast'), cast('11111111-a', 1_790_000_000, castEventLine([0.1, 'o', 'one\n'])));
  await writeFile(join(dir, 'notes.cast'), 'not a recording\n');
  return dir;
}

describe('kubectl airlock sessions / replay', () => {
  it('lists sessions oldest first, with who, where, what and how it ended; warns about unreadable files', async () => {
    const dir = await recordings();
    const { code, out, err } = await run(['sessions', '--recordings', dir]);
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^SESSION\s+STARTED\s+USER\s+POD\s+KIND\s+COMMAND\s+DURATION\s+END$/);
    expect(lines[1]).toMatch(/^11111111\s+2026-09-21T\S+\s+alice as deployer\s+apps\/web-0:app\s+exec\s+sh -c ls\s+-\s+unfinished$/);
    expect(lines[2]).toMatch(/^22222222\s+.*\s+1m15s\s+exit 1$/);
    expect(err).toMatch(/^warning: notes\.cast is not a readable recording/);
  });

  it.each([
    [['sessions'], 'error: say where the recordings are: kubectl airlock --recordings DIR (or set AIRLOCK_RECORDINGS)\n'],
    [['replay', 'x', '--recordings', '/nonexistent'], /^error: ENOENT.*; kubectl airlock sessions --recordings \/nonexistent lists them\n$/],
    [['verify'], 'error: say which audit files to verify: kubectl airlock verify --audit audit.log.1,audit.log [--recordings DIR]\n'],
  ])('%j fails with one line', async (argv, line) => {
    const { code, err } = await run(argv);
    expect(code).toBe(1);
    if (typeof line === 'string') expect(err).toBe(line);
    else expect(err).toMatch(line);
  });

  it('replays a session by a unique prefix of its audit id, refusing an ambiguous one', async () => {
    const dir = await recordings();
    expect(await run(['replay', '2222', '--recordings', dir, '--speed', '1000'])).toMatchObject({ code: 0, out: 'two\n' });
    expect((await run(['replay', '', '--recordings', dir])).err).toMatch(/3 recordings .* start with ; give more of the audit id/);
    expect((await run(['replay', '1111', '--recordings', dir, '--speed', '0'])).err).toBe('error: --speed must be a positive number, got "0"\n');
  });
});
