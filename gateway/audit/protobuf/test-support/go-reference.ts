// Runs apimachinery's own decoding as the reference for the decoder's tests (testdata/go-reference):
// built once per test run with the Go toolchain the project builds Kubernetes with (the build cache
// makes later builds take a second), then fed every request on one stdin.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SOURCE = fileURLToPath(new URL('../testdata/go-reference/', import.meta.url));

export interface GoReference {
  /** One answer per request, in order. */
  ask(requests: readonly string[]): Promise<string[]>;
  /** Removes the built program. */
  dispose(): Promise<void>;
}

/** Builds the reference program (downloading its modules if the cache lacks them). */
export async function buildGoReference(): Promise<GoReference> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-go-reference-'));
  const binary = join(dir, 'go-reference');
  await promisify(execFile)('go', ['build', '-o', binary, '.'], {
    cwd: SOURCE, env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' }, maxBuffer: 16 * 1024 * 1024,
  });
  return { ask: (requests) => ask(binary, requests), dispose: () => rm(dir, { recursive: true, force: true }) };
}

function ask(binary: string, requests: readonly string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = Buffer.concat(chunks).toString('utf8').split('\n');
      lines.pop();
      if (code !== 0 || lines.length !== requests.length) reject(new Error(`go-reference exited ${String(code)} after ${String(lines.length)} of ${String(requests.length)} answers`));
      else resolve(lines);
    });
    child.stdin.end(requests.map((r) => `${r}\n`).join(''));
  });
}
