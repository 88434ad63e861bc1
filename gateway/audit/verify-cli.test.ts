// The verifier's command line, run as a real process (node strips the types) and in-process for
// the usage errors.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { openFileSink } from './file-sink.ts';
import { sampleRecord, tempDir, writeEd25519Keys, type KeyFiles } from '../../core/audit/test-fixtures.ts';
import { runVerifyCli } from './verify-cli.ts';

const CLI = fileURLToPath(new URL('./verify-cli.ts', import.meta.url));
let dir = '';
let log = '';
let keys: KeyFiles;

beforeAll(async () => {
  dir = await tempDir('airlock-verify-cli-');
  keys = await writeEd25519Keys(dir);
  log = join(dir, 'audit.log');
  const sink = await openFileSink({ path: log, maxSizeBytes: 1 << 20, maxFiles: 1, checkpoint: { everyRecords: 2, keyFile: keys.privateKey } });
  for (let i = 0; i < 4; i += 1) await sink.write(sampleRecord(i));
  await sink.close();
});

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('verify-cli as a process', () => {
  it('prints one ok line and exits 0 for an intact log', async () => {
    expect(await run(['--public-key', keys.publicKey, log])).toEqual({ code: 0, stdout: 'ok: 4 records, 2 checkpoints verified\n', stderr: '' });
  });

  it('prints the first broken record and exits 1', async () => {
    const tampered = join(dir, 'tampered.log');
    await writeFile(tampered, (await readFile(log, 'utf8')).replace('"auditID":"audit-2"', '"auditID":"audit-9"'));
    expect(await run([tampered])).toEqual({ code: 1, stdout: `BROKEN: ${tampered}:4 (seq 4): hash does not match the entry's content\n`, stderr: '' });
  });

  it('exits 2 with the fix when no file is given', async () => {
    const result = await run([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('no audit files given; usage: node gateway/audit/verify-cli.ts [--public-key FILE] FILE... (audit files, oldest first, e.g. audit.log.* audit.log)\n');
  });
});

describe('verify-cli usage errors', () => {
  it.each<[string, () => string[], RegExp]>([
    ['an unknown option', () => ['--nope', log], /^Unknown option '--nope'.*; usage: /],
    ['--public-key without its file', () => ['--public-key'], /^Option '--public-key <value>' argument missing; usage: /],
    ['a missing audit file', () => [join(dir, 'absent.log')], /ENOENT.*; pass existing, readable audit files, oldest first$/],
    ['a missing public key file', () => ['--public-key', join(dir, 'absent.pub'), log], /^cannot read the public key .*absent\.pub .*; pass the Ed25519 public key \(PEM\) that verifies the checkpoints$/],
    ['a public key that is not PEM', () => ['--public-key', log, log], /not a PEM public key; derive it with `openssl pkey -in KEY -pubout`$/],
  ])('exits 2 with one line naming the fix for %s', async (_name, args, message) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runVerifyCli(args(), { out: (l) => out.push(l), err: (l) => err.push(l) });
    expect({ code, out, errLines: err.length }).toEqual({ code: 2, out: [], errLines: 1 });
    expect(err[0]).toMatch(message);
  });

  it('prints usage for --help and exits 0', async () => {
    const out: string[] = [];
    expect(await runVerifyCli(['--help'], { out: (l) => out.push(l), err: () => undefined })).toBe(0);
    expect(out[0]).toMatch(/^usage: node gateway\/audit\/verify-cli\.ts/);
  });
});
