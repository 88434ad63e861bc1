// Canonical JSON: fixed cases, and generated values (unsorted keys, integer-like keys, `__proto__`,
// unicode, undefined members, nesting) against a reference written member by member from the RFC 8785
// rules. Every audit hash depends on these bytes, so any difference fails. Seeded.
import { describe, expect, it } from 'vitest';
import { seededRandom as rng } from '../test-random.ts';
import { canonicalHalves, canonicalJson } from './canonical-json.ts';

describe('canonicalJson', () => {
  it.each<[string, unknown, string]>([
    ['sorts object keys', { b: 1, a: 2 }, '{"a":2,"b":1}'],
    ['sorts nested keys and keeps array order', { z: [{ y: 1, x: 2 }, 3], a: {} }, '{"a":{},"z":[{"x":2,"y":1},3]}'],
    ['sorts by UTF-16 code units, as RFC 8785 does', { é: 1, z: 2, Z: 3, '€': 4 }, '{"Z":3,"z":2,"é":1,"€":4}'],
    ['omits undefined members and writes undefined array items as null', { a: undefined, b: [undefined] }, '{"b":[null]}'],
    ['writes numbers as JavaScript does (RFC 8785)', { n: [1e21, 0.1, -0, 100] }, '{"n":[1e+21,0.1,0,100]}'],
    ['escapes strings as JSON.stringify does', { s: 'a"\n\u2028' }, '{"s":"a\\"\\n\u2028"}'],
    ['writes no whitespace', { a: [1, 2], b: { c: null } }, '{"a":[1,2],"b":{"c":null}}'],
  ])('%s', (_name, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it.each<[string, unknown]>([
    ['NaN', Number.NaN],
    ['Infinity', { n: Number.POSITIVE_INFINITY }],
    ['a bigint', { n: 1n }],
    ['a function', [() => 1]],
  ])('refuses %s, which has no JSON form', (_name, value) => {
    expect(() => canonicalJson(value)).toThrow(TypeError);
  });
});

/** The reference: sort keys by UTF-16 code units, JSON.stringify only strings, keys and numbers. */
function reference(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string' || typeof value === 'number') return JSON.stringify(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${Array.from(value as unknown[], (v) => (v === undefined ? 'null' : reference(v))).join(',')}]`;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).filter((k) => object[k] !== undefined);
  keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(object[k])}`).join(',')}}`;
}

const KEYS = ['a', 'b', 'Z', 'z', 'é', '€', '😀', '0', '1', '10', '9', '-1', '01', '4294967295', '__proto__', 'constructor', 'hash', 'kind', '', 'a"b', 'x\n'];
function randomValue(next: () => number, depth: number): unknown {
  const pick = next();
  if (depth > 4 || pick < 0.4) {
    const leaf = next();
    if (leaf < 0.4) return KEYS[Math.floor(next() * KEYS.length)] ?? '';
    if (leaf < 0.7) return next() < 0.5 ? Math.floor(next() * 1e6) / 7 : -Math.floor(next() * 1e21);
    return leaf < 0.85 ? null : next() < 0.5;
  }
  if (pick < 0.6) return Array.from({ length: Math.floor(next() * 4) }, () => (next() < 0.1 ? undefined : randomValue(next, depth + 1)));
  const object: Record<string, unknown> = next() < 0.1 ? (Object.create(null) as Record<string, unknown>) : {};
  for (let i = Math.floor(next() * 6); i > 0; i--) {
    const key = KEYS[Math.floor(next() * KEYS.length)] ?? 'k';
    Object.defineProperty(object, key, { value: next() < 0.1 ? undefined : randomValue(next, depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return object;
}

describe('canonicalJson on generated values', () => {
  it('writes exactly what the member-by-member reference writes, 5,000 values', () => {
    const next = rng(20261126);
    for (let i = 0; i < 5000; i++) {
      const value = randomValue(next, 0);
      expect(canonicalJson(value), JSON.stringify(value)).toBe(reference(value));
    }
  });

  it('leaves the value it was given as it was (copies are its own)', () => {
    const value = { b: { d: 1, c: [{ f: 1, e: 2 }] }, a: '1', 10: 'x', 9: 'y' };
    const before = JSON.stringify(value);
    canonicalJson(value);
    expect(JSON.stringify(value)).toBe(before);
  });

  it('writes holes of sparse arrays as null on both paths (the member-by-member one too)', () => {
    // eslint-disable-next-line no-sparse-arrays -- the hole is the case
    const sparse = [, 1];
    expect(canonicalJson({ a: sparse })).toBe('{"a":[null,1]}');
    // Integer-like keys out of order send the whole value the member-by-member way.
    expect(canonicalJson({ 10: sparse, 9: 'x' })).toBe('{"10":[null,1],"9":"x"}');
  });

  it('serialises other objects by their own keys, as the reference does (a Date is {})', () => {
    expect(canonicalJson({ at: new Date(0), b: Buffer.from('hi') })).toBe(reference({ at: new Date(0), b: Buffer.from('hi') }));
  });
});

describe('canonicalHalves', () => {
  it('splits the members around a key, with extras merged and omitted members dropped', () => {
    const halves = canonicalHalves({ z: 1, a: { d: 1, c: 2 }, hash: 'old', seq: 7, u: undefined }, { omit: new Set(['hash', 'seq']), extra: { seq: 8, prevHash: 'p' }, split: 'hash' });
    expect(halves).toEqual({ before: '"a":{"c":2,"d":1}', after: '"prevHash":"p","seq":8,"z":1' });
  });

  it('joins back to the canonical form of the whole, on generated objects', () => {
    const next = rng(7);
    for (let i = 0; i < 2000; i++) {
      const value = randomValue(next, 1);
      if (value === null || typeof value !== 'object' || Array.isArray(value)) continue;
      const { before, after } = canonicalHalves(value, { omit: new Set(), extra: {}, split: 'hash' });
      const whole = Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'hash'));
      expect(`{${before}${before !== '' && after !== '' ? ',' : ''}${after}}`).toBe(reference(whole));
    }
  });
});
