// How kube-apiserver reads list options while it resolves RequestInfo for a GET without a name:
// whether it is a watch, and whether a field selector narrows it to one named object. It decodes
// the whole ListOptions; if any option fails to decode it keeps only a raw reading of `watch` and
// drops the name. Mirrored here so the gateway decides on the verb and name the API server checks.

export interface ListReading {
  readonly verb: 'list' | 'watch';
  /** The one object a `metadata.name` field selector narrows the request to, or ''. */
  readonly name: string;
}

/** Go's ParseInt(s, 10, 64): an optional sign, decimal digits, and a value that fits in 64 bits. */
function isInt64(value: string): boolean {
  if (!/^[+-]?[0-9]+$/.test(value)) return false;
  const n = BigInt(value);
  return n >= -(2n ** 63n) && n < 2n ** 63n;
}

/**
 * Go's query-to-bool conversion: only "0" and "false" are false, compared with `strings.EqualFold`.
 * Simple case folding puts U+017F (long s) in the orbit of "s"; nothing else reaches "false".
 */
function decodedBool(value: string): boolean {
  const folded = value.replace(/\u017f/g, 's').replace(/[A-Z]/g, (c) => c.toLowerCase());
  return value !== '0' && folded !== 'false';
}

/** The fallback after a failed decode lower-cases with `strings.ToLower`, which keeps U+017F. */
function rawBool(value: string): boolean {
  const lowered = value.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return lowered !== '0' && lowered !== 'false';
}

/** Splits a field selector on commas not escaped by a backslash (the escape stays in the term). */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (escaped) escaped = false;
    else if (c === '\\') escaped = true;
    else if (c === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

function splitTerm(term: string): { field: string; op: '!=' | '==' | '='; raw: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ['!=', '==', '='] as const) {
      if (term.startsWith(op, i)) return { field: term.slice(0, i), op, raw: term.slice(i + op.length) };
    }
  }
  return undefined;
}

/** Field-selector value unescaping: only `\\`, `\,` and `\=` are escapes; bare `,` `=` are errors. */
function unescapeValue(raw: string): string | undefined {
  let out = '';
  let escaped = false;
  for (const c of raw) {
    if (escaped) {
      if (c !== '\\' && c !== ',' && c !== '=') return undefined;
      out += c;
      escaped = false;
    } else if (c === '\\') escaped = true;
    else if (c === ',' || c === '=') return undefined;
    else out += c;
  }
  return escaped ? undefined : out;
}

const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * The value a field selector requires `metadata.name` to equal, '' when none, or `undefined` when
 * the selector does not parse. Like apimachinery's `RequiresExactMatch`, any `=`/`==` term of the
 * conjunction counts (terms are sorted byte-wise first, so the smallest such term wins).
 */
export function fieldSelectorName(selector: string): string | undefined {
  let name: string | undefined;
  for (const term of splitTerms(selector).sort(byteOrder)) {
    if (term === '') continue;
    const parts = splitTerm(term);
    if (parts === undefined) return undefined;
    const value = unescapeValue(parts.raw);
    if (value === undefined) return undefined;
    if (name === undefined && parts.op !== '!=' && parts.field === 'metadata.name') name = value;
  }
  return name ?? '';
}

/** apimachinery's IsValidPathSegmentName: a name the API server would accept in a path. */
function isPathSegmentName(name: string): boolean {
  return name !== '.' && name !== '..' && !name.includes('/') && !name.includes('%');
}

/** Reads a GET without a name the way the API server's RequestInfo resolver does. */
export function readListOptions(query: ReadonlyMap<string, readonly string[]>): ListReading {
  const first = (key: string): string | undefined => query.get(key)?.[0];
  const watch = first('watch');
  const fieldSelector = first('fieldSelector');
  const name = fieldSelector === undefined ? '' : fieldSelectorName(fieldSelector);
  const integersDecode = [first('limit'), first('timeoutSeconds')].every((v) => v === undefined || isInt64(v));
  // labelSelector syntax is not checked: with a bad one the API server drops the name here, but it
  // then refuses the list itself with 400, so the difference never reaches an object.
  if (name === undefined || !integersDecode) {
    return { verb: watch !== undefined && rawBool(watch) ? 'watch' : 'list', name: '' };
  }
  return { verb: watch !== undefined && decodedBool(watch) ? 'watch' : 'list', name: isPathSegmentName(name) ? name : '' };
}
