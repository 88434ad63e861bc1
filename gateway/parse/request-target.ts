// Reads the raw request-target Node hands us (`req.url` is neither decoded nor normalised) into
// decoded path segments and query parameters. Three parsers see the same bytes: this one decides,
// the API server (Go, decodes the whole path before splitting it) acts, and the forwarder's WHATWG
// `new URL(path, upstream)` rewrites `..`, `%2e%2e`, `\` and a leading `//` (a different host!).
// So every form on which they could disagree is refused here, before anything is decided.

export type RequestInfoErrorCode =
  | 'not-origin-form'
  | 'invalid-character'
  | 'empty-segment'
  | 'encoded-slash'
  | 'bad-percent-encoding'
  | 'control-character'
  | 'dot-segment'
  | 'malformed-query'
  | 'missing-resource'
  | 'unsupported-method';

/** A request the gateway refuses to interpret; the caller answers 400 BadRequest. */
export class RequestInfoError extends Error {
  readonly code: RequestInfoErrorCode;
  /** 1-based index of the offending path segment, when one is to blame. */
  readonly segment: number | undefined;

  constructor(code: RequestInfoErrorCode, message: string, segment?: number) {
    super(message);
    this.name = 'RequestInfoError';
    this.code = code;
    this.segment = segment;
  }
}

export interface RequestTarget {
  /** The decoded path, as Go's `URL.Path` would hold it. */
  readonly path: string;
  /** Decoded segments without the leading and trailing slash (the API server's `splitPath`). */
  readonly segments: readonly string[];
  /** Decoded query parameters in order of appearance, as Go's `URL.Query()` would hold them. */
  readonly query: ReadonlyMap<string, readonly string[]>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Percent-decodes once; `undefined` when an escape is broken or the bytes are not UTF-8. Go would
 * accept any bytes, but a JS string cannot carry them faithfully, so they are refused instead.
 */
export function percentDecode(raw: string, plusIsSpace: boolean): string | undefined {
  if (!raw.includes('%') && !(plusIsSpace && raw.includes('+'))) return raw;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25) {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (c > 0x7f) {
      return undefined;
    } else {
      bytes.push(plusIsSpace && c === 0x2b ? 0x20 : c);
    }
  }
  try {
    return utf8.decode(new Uint8Array(bytes));
  } catch {
    return undefined;
  }
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;

function checkSegment(raw: string, index: number): string | RequestInfoError {
  const n = index + 1;
  if (raw === '') return new RequestInfoError('empty-segment', `path segment ${n} is empty`, n);
  if (/%2f/i.test(raw)) return new RequestInfoError('encoded-slash', `path segment ${n} contains an encoded "/" (%2F)`, n);
  const decoded = percentDecode(raw, false);
  if (decoded === undefined) return new RequestInfoError('bad-percent-encoding', `path segment ${n} is not valid percent-encoded UTF-8`, n);
  if (CONTROL.test(decoded)) return new RequestInfoError('control-character', `path segment ${n} contains a control character`, n);
  if (decoded === '.' || decoded === '..') return new RequestInfoError('dot-segment', `path segment ${n} is "." or ".."`, n);
  return decoded;
}

function parseQuery(raw: string): Map<string, string[]> | RequestInfoError {
  const query = new Map<string, string[]>();
  // Go drops a pair containing ';' without a word; refusing keeps both sides reading the same.
  if (raw.includes(';')) return new RequestInfoError('malformed-query', 'the query string contains ";"; use "&" between parameters');
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = percentDecode(eq < 0 ? pair : pair.slice(0, eq), true);
    const value = percentDecode(eq < 0 ? '' : pair.slice(eq + 1), true);
    if (key === undefined || value === undefined) {
      return new RequestInfoError('malformed-query', 'the query string is not valid percent-encoded UTF-8');
    }
    const values = query.get(key);
    if (values === undefined) query.set(key, [value]);
    else values.push(value);
  }
  return query;
}

/** Parses an origin-form request-target (`/path?query`) or says why it is refused. */
export function parseRequestTarget(rawUrl: string): RequestTarget | RequestInfoError {
  if (!rawUrl.startsWith('/')) {
    return new RequestInfoError('not-origin-form', 'the request target must be a path beginning with "/"');
  }
  // Printable ASCII only: clients percent-encode everything else. '#' never belongs in a request,
  // and WHATWG URL reads '\' as '/', so `/\host` would name another host when forwarded.
  if (!/^[\u0021-\u007e]*$/.test(rawUrl) || rawUrl.includes('#') || rawUrl.includes('\\')) {
    return new RequestInfoError('invalid-character', 'the request target contains a character that must be percent-encoded');
  }
  const q = rawUrl.indexOf('?');
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const rawSegments = rawPath === '/' ? [] : rawPath.slice(1).split('/');
  // One trailing slash is ordinary (`/apis/`); every other empty segment, including a leading
  // `//` that WHATWG URL reads as a host, is refused.
  if (rawSegments.at(-1) === '') rawSegments.pop();
  const segments: string[] = [];
  for (const [index, raw] of rawSegments.entries()) {
    const checked = checkSegment(raw, index);
    if (checked instanceof RequestInfoError) return checked;
    segments.push(checked);
  }
  const query = parseQuery(q < 0 ? '' : rawUrl.slice(q + 1));
  if (query instanceof RequestInfoError) return query;
  const trailing = rawPath.length > 1 && rawPath.endsWith('/') ? '/' : '';
  return { path: `/${segments.join('/')}${segments.length > 0 ? trailing : ''}`, segments, query };
}
