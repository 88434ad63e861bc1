// The streaming masker against a reference masker built on JSON.parse, on generated JSON (deep
// nesting, unicode and escapes, long strings, keys that look like paths) cut into random chunks,
// including inside multi-byte characters and escapes. Seeded, so a failure is reproducible.
import { describe, expect, it } from 'vitest';
import { seededRandom as rng } from '../../core/test-random.ts';
import { JsonMasker, maskParsed, type MaskRule, type PathPattern } from './json-masker.ts';
import { headersForMasking } from './request-headers.ts';
import { LAST_APPLIED, MASKED_BASE64, maskRulesFor, parseFieldPath, tablesAllowed } from './mask-plan.ts';

const ALPHABET = ['a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\t', 'é', '€', '😀', '\u0001', 'data', 'items', '*'];
function randomString(next: () => number, max: number): string {
  let s = '';
  const length = Math.floor(next() * max);
  for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(next() * ALPHABET.length)] ?? 'x';
  return s;
}

const KEYS = ['data', 'items', 'object', 'rows', 'metadata', 'annotations', 'stringData', 'a', 'b"q', 'é', 'name', 'value'];
function randomValue(next: () => number, depth: number): unknown {
  const pick = next();
  if (depth > 6 || pick < 0.35) return next() < 0.7 ? randomString(next, next() < 0.05 ? 3000 : 12) : next() < 0.5 ? Math.floor(next() * 1e6) / 7 : next() < 0.5 ? null : true;
  if (pick < 0.6) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
  const object: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 5); i > 0; i--) object[KEYS[Math.floor(next() * KEYS.length)] ?? 'k'] = randomValue(next, depth + 1);
  return object;
}

/**
 * The reference: walk the parsed value, replace strings whose path matches a rule, or that lie
 * inside an object or array whose path matches an unconditional rule; the first such rule wins. A
 * conditional rule applies unless its sibling string appeared earlier in the object and does not
 * match.
 */
function referenceMask(value: unknown, rules: readonly MaskRule[], path: string[] = [], siblings: Record<string, unknown> = {}): unknown {
  const hit = (): MaskRule | undefined => rules.find((r) => {
    const prefix = r.path.length <= path.length && r.path.every((seg, i) => seg === '*' || seg === path[i]);
    if (!prefix) return false;
    if (r.path.length < path.length) return r.when === undefined;
    return r.when === undefined || typeof siblings[r.when.key] !== 'string' || r.when.pattern.test(siblings[r.when.key] as string);
  });
  if (typeof value === 'string') return hit()?.marker ?? value;
  if (Array.isArray(value)) return value.map((v, i) => referenceMask(v, rules, [...path, String(i)]));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    return Object.fromEntries(entries.map(([k, v], i) => [k, referenceMask(v, rules, [...path, k], Object.fromEntries(entries.slice(0, i)))]));
  }
  return value;
}

function maskInChunks(text: string, rules: readonly MaskRule[], next: () => number): string {
  const bytes = Buffer.from(text, 'utf8');
  const masker = new JsonMasker(rules);
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length;) {
    const size = 1 + Math.floor(next() * (next() < 0.5 ? 4 : 200));
    const chunk = bytes.subarray(at, at + size);
    out.push(...masker.push(chunk));
    at += size;
  }
  return Buffer.concat([...out, ...masker.end()]).toString('utf8');
}

const text = (...pieces: Buffer[][]): string => Buffer.concat(pieces.flat()).toString('utf8');

const RULES: MaskRule[] = [
  { path: ['data', '*'], marker: 'M1' },
  { path: ['items', '*', 'data', '*'], marker: 'M2' },
  { path: ['object', 'metadata', 'annotations', LAST_APPLIED], marker: 'M3' },
  { path: ['rows', '*', 'object', 'data', '*'], marker: 'M4' },
  { path: ['a', '*', 'b"q'], marker: 'M5' },
  // env-style: a value masked when its entry's name matches (or has not been seen yet).
  { path: ['items', '*', 'value'], marker: 'M6', when: { key: 'name', pattern: /a/ } },
  // A wildcard and literals at the same level (paths that overlap), and an array index.
  { path: ['*', 'name'], marker: 'M7' },
  { path: ['rows', '1', '*'], marker: 'M8' },
  { path: ['*', '*', 'a'], marker: 'M9' },
  // Paths that name objects and arrays: every string inside is masked.
  { path: ['object', 'b"q'], marker: 'M10' },
  { path: ['é'], marker: 'M11' },
];

describe('JsonMasker', () => {
  it('equals the reference masker on 500 generated documents cut into random chunks', () => {
    const next = rng(20261124);
    for (let n = 0; n < 500; n++) {
      const doc = randomValue(next, 0);
      const indent = next() < 0.3 ? 2 : undefined;
      const text = JSON.stringify(doc, null, indent);
      const masked = maskInChunks(text, RULES, next);
      expect(JSON.parse(masked), `document ${n}: ${text.slice(0, 200)}`).toEqual(referenceMask(doc, RULES));
      // Everything but the masked strings is written byte for byte.
      expect(masked, `document ${n}: bytes`).toBe(JSON.stringify(referenceMask(doc, RULES), null, indent));
    }
  });

  it('masks the same on parsed values (audit bodies) as in the stream', () => {
    const next = rng(99);
    for (let n = 0; n < 300; n++) {
      const doc = randomValue(next, 0);
      expect(maskParsed(doc, RULES), `document ${n}`).toEqual(referenceMask(doc, RULES));
    }
  });

  it('masks every string inside an object or array a path names, and keeps the shape and the other types', () => {
    const rules: MaskRule[] = [{ path: ['data'], marker: 'X' }, { path: ['spec', 'args'], marker: 'X' }];
    const doc = { data: { a: 'one', nested: { b: 'two', n: 3, ok: true, none: null } }, spec: { args: ['--token', 'abc'], replicas: 2 }, keep: 'me' };
    const expected = { data: { a: 'X', nested: { b: 'X', n: 3, ok: true, none: null } }, spec: { args: ['X', 'X'], replicas: 2 }, keep: 'me' };
    expect(JSON.parse(maskInChunks(JSON.stringify(doc), rules, rng(5)))).toEqual(expected);
    expect(maskParsed(doc, rules)).toEqual(expected);
  });

  it('keeps a member named __proto__ of a parsed body as a member (a ConfigMap key may be called that), masked like any other', () => {
    const rules: MaskRule[] = [{ path: ['data', '*'], marker: 'X' }];
    const doc = JSON.parse('{"data":{"__proto__":"secret","other":"v"},"metadata":{"labels":{"__proto__":{"a":"b"}}}}') as unknown;
    const masked = maskParsed(doc, rules) as { data: object; metadata: { labels: object } };
    expect(Object.keys(masked.data)).toEqual(['__proto__', 'other']);
    expect(JSON.stringify(masked)).toBe('{"data":{"__proto__":"X","other":"X"},"metadata":{"labels":{"__proto__":{"a":"b"}}}}');
    expect(Object.getPrototypeOf(masked.metadata.labels)).toBe(Object.prototype);
  });

  it('masks env values by their entry\'s name, in the order the API server writes them, and fails closed otherwise', () => {
    const when = { key: 'name', pattern: /(?:password|token)/i };
    const rules: MaskRule[] = [{ path: ['spec', 'containers', '*', 'env', '*', 'value'], marker: 'X', when }];
    const pod = { spec: { containers: [{ name: 'app', env: [
      { name: 'DB_PASSWORD', value: 'hunter2' },
      { name: 'HOME', value: '/root' },
      { value: 'early', name: 'HOME' }, // value before name: masked (safe)
      { name: 'API_TOKEN', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
    ] }] } };
    const out = JSON.parse(maskInChunks(JSON.stringify(pod), rules, rng(3))) as typeof pod;
    expect(out.spec.containers[0]?.env.map((e) => ('value' in e ? e.value : undefined))).toEqual(['X', '/root', 'X', undefined]);
    expect(out.spec.containers[0]?.env[3]).toEqual(pod.spec.containers[0]?.env[3]);
  });

  it('masks every event of a watch stream (one JSON value per line) and leaves bookmarks alone', () => {
    const next = rng(7);
    const events = [
      { type: 'ADDED', object: { kind: 'Secret', data: { password: 'cGFzcw==' } } },
      { type: 'BOOKMARK', object: { kind: 'Secret', metadata: { resourceVersion: '12' } } },
      { type: 'MODIFIED', object: { kind: 'Secret', data: { password: 'bmV3', 'tls.crt': 'Y2VydA==' } } },
    ];
    const rules = [{ path: ['object', 'data', '*'] as PathPattern, marker: 'X' }];
    const out = maskInChunks(events.map((e) => JSON.stringify(e)).join('\n') + '\n', rules, next).trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(out).toEqual(events.map((e) => referenceMask(e, rules)));
  });

  it('keeps escaped keys straight and never writes a masked string\'s characters', () => {
    const masker = new JsonMasker([{ path: ['da\u0074a', 'k'], marker: 'X' }]);
    const out = text(masker.push(Buffer.from('{"d\\u0061ta":{"k":"se\\"cret \\\\ \\u00e9","k2":"keep"}}')), masker.end());
    expect(JSON.parse(out)).toEqual({ data: { k: 'X', k2: 'keep' } });
    expect(out).not.toContain('se');
    expect(masker.masked).toBe(1);
  });

  it('streams a long string in constant output chunks without holding the document', () => {
    const masker = new JsonMasker([{ path: ['data', 'big'], marker: 'X' }]);
    let out = text(masker.push(Buffer.from('{"other":"')));
    for (let i = 0; i < 1000; i++) {
      const pieces = masker.push(Buffer.alloc(1000, 'a'));
      // Nothing is held back: each chunk of a long string comes straight out.
      expect(pieces.reduce((n, p) => n + p.length, 0)).toBe(1000);
      out += text(pieces);
    }
    out += text(masker.push(Buffer.from('","data":{"big":"')), masker.push(Buffer.alloc(100_000, 'b')), masker.push(Buffer.from('"}}')), masker.end());
    expect(out.length).toBe('{"other":"'.length + 1_000_000 + '","data":{"big":"X"}}'.length);
  });
});

describe('mask plan', () => {
  it.each([
    ['.data.*', ['data', '*']],
    ['.spec.template.spec.containers[*].env[*].value', ['spec', 'template', 'spec', 'containers', '*', 'env', '*', 'value']],
    [".metadata.annotations['example.com/token']", ['metadata', 'annotations', 'example.com/token']],
  ])('parses %s', (path, segments) => {
    expect(parseFieldPath(path)).toEqual(segments);
  });

  it.each(['data', '.data[0]', '.', ".a['unterminated"])('refuses %s', (path) => {
    expect(() => parseFieldPath(path)).toThrow(TypeError);
  });

  const secrets = { resourceRequest: true, verb: 'list', apiGroup: '', resource: 'secrets', subresource: '', namespace: 'ns', name: '', path: '/api/v1/namespaces/ns/secrets' };
  it('masks Secret data for every caller unless exempt, under every object root', () => {
    const rules = maskRulesFor(secrets, undefined);
    expect(rules).toContainEqual({ path: ['items', '*', 'data', '*'], marker: MASKED_BASE64 });
    expect(rules).toContainEqual({ path: ['rows', '*', 'object', 'metadata', 'annotations', LAST_APPLIED], marker: '***MASKED***' });
    expect(maskRulesFor(secrets, { exempt: true })).toEqual([]);
    expect(maskRulesFor({ ...secrets, resource: 'configmaps' }, undefined)).toEqual([]);
    expect(maskRulesFor({ ...secrets, resource: 'configmaps' }, { fields: ['.data.*'] })).toContainEqual({ path: ['object', 'data', '*'], marker: '***MASKED***' });
    const deployments = { ...secrets, apiGroup: 'apps', resource: 'deployments' };
    const env = maskRulesFor(deployments, { envNamePattern: '(?i)(password|token)' });
    expect(env.find((r) => r.path.join('.') === 'items.*.spec.template.spec.containers.*.env.*.value')?.when?.pattern.test('DB_PASSWORD')).toBe(true);
    expect(env).toContainEqual({ path: ['metadata', 'annotations', LAST_APPLIED], marker: '***MASKED***' });
    // A custom resource named "secrets" in another group is not a Secret.
    expect(maskRulesFor({ ...secrets, apiGroup: 'vault.example' }, undefined)).toEqual([]);
  });

  it.each([
    [{ accept: 'application/vnd.kubernetes.protobuf, application/json', 'accept-encoding': 'gzip' }, { accept: 'application/json' }],
    [{ accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' }, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io, application/json' }],
    [{}, { accept: 'application/json' }],
    [{ accept: 'application/vnd.kubernetes.protobuf' }, undefined],
    // CBOR and YAML cannot be masked either: left out, so the API server answers JSON.
    [{ accept: 'application/cbor, application/json' }, { accept: 'application/json' }],
    [{ accept: 'application/cbor' }, undefined],
    [{ accept: 'application/yaml' }, undefined],
    [{ accept: '*/*' }, { accept: '*/*' }],
    [{ accept: 'application/apply-patch+yaml, application/merge-patch+json' }, { accept: 'application/merge-patch+json' }],
  ])('rewrites %j for masking', (headers, expected) => {
    expect(headersForMasking(headers)).toEqual(expected);
  });

  it('allows Tables under the Secret defaults only, not under policy masks', () => {
    expect(tablesAllowed(undefined)).toBe(true);
    expect(tablesAllowed({ exempt: true })).toBe(true);
    expect(tablesAllowed({ fields: ['.spec.token'] })).toBe(false);
    expect(tablesAllowed({ envNamePattern: '(?i)token' })).toBe(false);
  });

  it.each([
    // kubectl get: the Tables go, its own JSON fallback stays.
    ['application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json', 'application/json'],
    ['application/json;as=Table;v=v1;g=meta.k8s.io', 'application/json'],
    ['application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json', 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io, application/json'],
    ['application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1;g=meta.k8s.io', 'application/json'],
  ])('asks for %j without Tables when policy masks apply', (accept, expected) => {
    expect(headersForMasking({ accept }, { tables: false })).toEqual({ accept: expected });
  });
});
