// The Argo CD health checks (config/argocd/health/<group>/<Kind>/health.lua), tested the way Argo CD
// tests its own (resource_customizations/*/*/health_test.yaml): every fixture is loaded as `obj`,
// the script runs under Lua 5.1 with only the libraries Argo CD opens for a custom check, and the
// status and message must match exactly. Needs lua5.1 (Debian: apt-get install -y lua5.1).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GATEWAY_TERMINAL_REASONS } from './gateway-conditions.ts';

const ARGOCD_DIR = fileURLToPath(new URL('../../config/argocd/', import.meta.url));
const HEALTH_DIR = `${ARGOCD_DIR}health/airlock.dev/`;
const RUNNER = `${ARGOCD_DIR}run-health.lua`;
const KINDS = ['AccessGateway', 'AccessPolicy', 'ApprovalRequest'];
const LUA = 'lua5.1';

interface HealthTest { healthStatus: { status: string; message: string }; inputPath: string }

/** A Lua string literal: quotes and backslashes escaped, control characters as \ddd. */
function luaString(s: string): string {
  let out = '"';
  for (const c of s) {
    const code = c.charCodeAt(0);
    if (c === '"' || c === '\\') out += `\\${c}`;
    else if (code < 0x20 || code === 0x7f) out += `\\${code.toString().padStart(3, '0')}`;
    else out += c;
  }
  return `${out}"`;
}

/** A JSON value as a Lua table constructor, the way Argo CD hands `obj` to the script (null is nil). */
function toLua(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'string') return luaString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `{${value.map(toLua).join(', ')}}`;
  if (typeof value === 'object') {
    const fields = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `[${luaString(k)}] = ${toLua(v)}`);
    return `{${fields.join(', ')}}`;
  }
  throw new TypeError(`no Lua form for a ${typeof value}`);
}

/** Why lua5.1 cannot run, once per file: each test that needs it fails with this (never skips). */
const luaMissing = ((): string | undefined => {
  const probe = spawnSync(LUA, ['-v'], { encoding: 'utf8' });
  if (probe.error === undefined) return undefined;
  return `${LUA} is not installed (${probe.error.message}). Argo CD runs health checks with Lua 5.1; `
    + 'install it (Debian/Ubuntu: apt-get install -y lua5.1) to test config/argocd.';
})();

function runScript(scriptPath: string, object: unknown): { status: string; message: string } {
  if (luaMissing !== undefined) throw new Error(luaMissing);
  const result = spawnSync(LUA, [RUNNER, scriptPath], { input: toLua(object), encoding: 'utf8', timeout: 10_000 });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) throw new Error(`${LUA} exited ${result.status ?? result.signal}: ${result.stderr}`);
  const [status = '', message = ''] = result.stdout.split('\0');
  return { status, message };
}

const runHealth = (kind: string, object: unknown): { status: string; message: string } => runScript(`${HEALTH_DIR}${kind}/health.lua`, object);

function withScript(lua: string, object: unknown): { status: string; message: string } {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-health-'));
  try {
    writeFileSync(join(dir, 'health.lua'), lua);
    return runScript(join(dir, 'health.lua'), object);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const cases = KINDS.flatMap((kind) => {
  const tests = (parse(readFileSync(`${HEALTH_DIR}${kind}/health_test.yaml`, 'utf8')) as { tests: HealthTest[] }).tests;
  return tests.map((t) => [kind, t.inputPath, t.healthStatus.status, t.healthStatus.message] as const);
});

describe('Argo CD health checks', () => {
  it.each(cases)('%s %s is %s: "%s"', (kind, inputPath, status, message) => {
    const object = parse(readFileSync(`${HEALTH_DIR}${kind}/${inputPath}`, 'utf8')) as unknown;
    expect(runHealth(kind, object)).toEqual({ status, message });
  });

  it.each(KINDS)('%s: every fixture in testdata/ has a test, and every test a fixture', (kind) => {
    const files = readdirSync(`${HEALTH_DIR}${kind}/testdata`).map((f) => `testdata/${f}`).sort();
    const used = cases.filter((c) => c[0] === kind).map((c) => c[1]).sort();
    expect(used).toEqual(files);
  });

  it.each([
    ['uses the string library, which a custom check does not get', 'return { status = string.upper("healthy") }', /health.lua failed/],
    ['calls a string method, which fails there too', 'return { status = ("Healthy"):sub(1) }', /health.lua failed/],
    ['reads a file', 'return { status = io.read("*a") }', /health.lua failed/],
    ['returns a status Argo CD does not know', 'return { status = "Fine" }', /invalid status Fine/],
    ['returns no table', 'return "Healthy"', /returned a string, not a table/],
  ])('the runner rejects a script that %s', (_what, lua, error) => {
    expect(() => withScript(lua, { metadata: {} })).toThrow(error);
  });

  it('the runner hands the script the object as obj, with the base and table libraries', () => {
    const lua = 'local t = {} table.insert(t, obj.metadata.name) return { status = "Healthy", message = table.concat(t, ",") .. tostring(#obj.spec.list) }';
    expect(withScript(lua, { metadata: { name: 'x' }, spec: { list: [1, 2, 3] } })).toEqual({ status: 'Healthy', message: 'x3' });
  });

  it('treats exactly the terminal Ready reasons of gateway-conditions.ts as Degraded', () => {
    const script = readFileSync(`${HEALTH_DIR}AccessGateway/health.lua`, 'utf8');
    const table = /local terminal = \{([^}]*)\}/.exec(script)?.[1] ?? '';
    const reasons = [...table.matchAll(/(\w+) = true/g)].map((m) => m[1]);
    expect(reasons).toEqual([...GATEWAY_TERMINAL_REASONS]);
    for (const reason of GATEWAY_TERMINAL_REASONS) {
      const object = { metadata: { generation: 1 }, status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'False', reason, message: 'm' }] } };
      expect(runHealth('AccessGateway', object)).toEqual({ status: 'Degraded', message: `${reason}: m` });
    }
  });

  it.each(KINDS)('argocd-cm-patch.yaml carries the %s script unchanged', (kind) => {
    const patch = parse(readFileSync(`${ARGOCD_DIR}argocd-cm-patch.yaml`, 'utf8')) as { data: Record<string, string> };
    expect(patch.data[`resource.customizations.health.airlock.dev_${kind}`]).toBe(readFileSync(`${HEALTH_DIR}${kind}/health.lua`, 'utf8'));
  });

  it('has a health check for each of the three kinds and nothing else', () => {
    expect(readdirSync(HEALTH_DIR).sort()).toEqual(KINDS);
    for (const kind of KINDS) expect(existsSync(`${HEALTH_DIR}${kind}/health.lua`)).toBe(true);
  });
});

describe('toLua', () => {
  it.each([
    [{ a: 'x"y\\z\n' }, '{["a"] = "x\\"y\\\\z\\010"}'],
    [{ list: [1, true, 'é'], gone: null }, '{["list"] = {1, true, "é"}}'],
    ['a\u0000b', '"a\\000b"'],
  ])('writes %j as %s', (value, lua) => {
    expect(toLua(value)).toBe(lua);
  });
});
