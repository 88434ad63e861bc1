// Canonical JSON (RFC 8785 for the values audit entries hold): object keys sorted by UTF-16 code
// units, no whitespace, `undefined` members omitted, `undefined` array items written as null.
// Every audit entry is hashed in this form, so its bytes must never change: the walk below and
// the reference walk in the tests must agree byte for byte.
//
// Speed (the gateway serialises two records per request): V8's JSON.stringify writes keys in an
// object's own property order and escapes strings and numbers exactly as the canonical form does.
// So a value whose objects already hold their keys in sorted order is canonical as stringified.
// `sortedForStringify` walks the value once, checks types, and copies only the objects whose keys
// are out of order (the records are built in order: most copy nothing). JavaScript orders
// integer-like keys ("0", "10") before the others whatever the insertion order, so an object whose
// sorted copy still does not list its keys sorted goes the slow way: the member-by-member walk.

/** Returned by `sortedForStringify` when some object cannot be ordered for JSON.stringify. */
const UNORDERABLE: unique symbol = Symbol('unorderable');

export function canonicalJson(value: unknown): string {
  const prepared = sortedForStringify(value);
  // JSON.stringify returns undefined only for undefined/functions/symbols, refused above.
  return prepared === UNORDERABLE ? memberwise(value) : JSON.stringify(prepared);
}

/**
 * The top-level members of `content` (except `omit`) plus `extra`, serialised as two canonical
 * halves: members whose keys sort before `split` and those after it, each without braces. The
 * hash chain puts its `hash` member between them.
 */
export function canonicalHalves(content: object, options: { readonly omit: ReadonlySet<string>; readonly extra: Readonly<Record<string, unknown>>; readonly split: string }): { before: string; after: string } {
  const source = content as Record<string, unknown>;
  const keys: string[] = [];
  for (const key of Object.keys(source)) if (!options.omit.has(key) && !Object.hasOwn(options.extra, key)) keys.push(key);
  for (const key of Object.keys(options.extra)) keys.push(key);
  keys.sort();
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  for (const key of keys) {
    if (key === options.split) continue;
    define(key < options.split ? before : after, key, Object.hasOwn(options.extra, key) ? options.extra[key] : source[key]);
  }
  return { before: canonicalJson(before).slice(1, -1), after: canonicalJson(after).slice(1, -1) };
}

/** The value itself, a copy with keys in sorted order, or UNORDERABLE; TypeError for non-JSON values. */
function sortedForStringify(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON has no form for ${String(value)}`);
      return value;
    case 'object':
      if (value === null) return value;
      if (Array.isArray(value)) return Object.getPrototypeOf(value) === Array.prototype ? sortedArray(value) : UNORDERABLE;
      return isPlainObject(value) ? sortedObject(value as Record<string, unknown>) : UNORDERABLE;
    default:
      throw new TypeError(`canonical JSON has no form for a ${typeof value}`);
  }
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function sortedArray(items: readonly unknown[]): unknown {
  let copy: unknown[] | undefined;
  for (let i = 0; i < items.length; i += 1) {
    const item = items[i];
    const prepared = item === undefined ? undefined : sortedForStringify(item);
    if (prepared === UNORDERABLE) return UNORDERABLE;
    if (prepared !== item) {
      copy ??= items.slice();
      copy[i] = prepared;
    }
  }
  return copy ?? items;
}

function sortedObject(object: Record<string, unknown>): unknown {
  const keys = Object.keys(object);
  let ordered = true;
  for (let i = 1; i < keys.length && ordered; i += 1) ordered = (keys[i - 1] as string) < (keys[i] as string);
  let copy: Record<string, unknown> | undefined;
  if (!ordered) keys.sort();
  for (let i = 0; i < keys.length; i += 1) {
    const key = keys[i] as string;
    const item = object[key];
    const prepared = item === undefined ? undefined : sortedForStringify(item);
    if (prepared === UNORDERABLE) return UNORDERABLE;
    if (copy === undefined && (prepared !== item || !ordered)) {
      copy = {};
      for (let j = 0; j < i; j += 1) define(copy, keys[j] as string, object[keys[j] as string]);
    }
    if (copy !== undefined) define(copy, key, prepared);
  }
  if (copy === undefined) return object;
  return ordered || keysSorted(copy) ? copy : UNORDERABLE;
}

function keysSorted(object: object): boolean {
  const keys = Object.keys(object);
  for (let i = 1; i < keys.length; i += 1) if ((keys[i - 1] as string) >= (keys[i] as string)) return false;
  return true;
}

/** An own data property even for a key such as `__proto__`. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

// The slow way, for values JSON.stringify cannot be given in order: member by member.
function memberwise(value: unknown): string {
  switch (typeof value) {
    case 'string': return JSON.stringify(value);
    case 'boolean': return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON has no form for ${String(value)}`);
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        // Indexed, not mapped: a hole in a sparse array is written as null, like undefined.
        const items: string[] = [];
        for (let i = 0; i < value.length; i += 1) {
          const item: unknown = value[i];
          items.push(item === undefined ? 'null' : memberwise(item));
        }
        return `[${items.join(',')}]`;
      }
      const object = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const key of Object.keys(object).sort()) {
        const item = object[key];
        if (item !== undefined) parts.push(`${JSON.stringify(key)}:${memberwise(item)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON has no form for a ${typeof value}`);
  }
}
