// resource.Quantity as the API server writes it in JSON. A protobuf Quantity carries a string that
// the API server parses (ParseQuantity) and writes back in canonical form, or as given when the
// parser's fast path finds it canonical enough to keep ("010" and "+1" stay as they are, "1.0"
// becomes "1", "1.5" becomes "1500m", "1024Ki" becomes "1Mi", and "1000E" becomes "1": DecimalSI has
// no suffix above E, and Go writes none). This follows apimachinery's parser and formatter rule by
// rule, on exact decimals (value = m × 10^e, BigInt mantissa), and is checked against the Go code
// itself (quantity.test.ts). Exponents beyond ±2^30, where Go's int32 scales would wrap, are refused.
import { ProtobufBodyError } from './wire.ts';

type Format = 'DecimalExponent' | 'BinarySI' | 'DecimalSI';

/** An exact decimal: m × 10^e. */
interface Dec { readonly m: bigint; readonly e: number }

interface Quantity {
  readonly value: Dec;
  readonly format: Format;
  /** The input, kept when the parser's fast path finds it canonical. */
  readonly kept?: string;
}

const MAX_EXPONENT = 2 ** 30;
// Real quantities are a few characters; parsing megabytes of digits would stall the gateway.
const MAX_LENGTH = 1000;
const MAX_INT64 = (1n << 63n) - 1n;
const DIGITS = /^[0-9]$/;
const SUFFIX_CHARS = 'eEinumkKMGTP';

function invalid(text: string, why: string): ProtobufBodyError {
  return new ProtobufBodyError(`the quantity ${JSON.stringify(text.slice(0, 40))} ${why}`);
}

interface Scanned { positive: boolean; value: string; num: string; denom: string; suffix: string }

/** The index of the first character at or after `i` that is not in the class. */
function skipWhile(str: string, i: number, accepts: (c: string) => boolean): number {
  let j = i;
  while (j < str.length && accepts(str[j] ?? '')) j++;
  return j;
}

const isDigit = (c: string): boolean => DIGITS.test(c);

/** The suffix part (letters, a sign, digits) when it runs to the end of the string, else null. */
function scanSuffix(str: string, start: number): string | null {
  let pos = skipWhile(str, start, (c) => SUFFIX_CHARS.includes(c));
  if (str[pos] === '-' || str[pos] === '+') pos++;
  return skipWhile(str, pos, isDigit) >= str.length ? str.slice(start) : null;
}

/** parseQuantityString: sign, digits (leading zeros dropped), fraction, suffix; null on a bad form. */
function scanQuantity(str: string): Scanned | null {
  const positive = str[0] !== '-';
  const signed = str[0] === '-' || str[0] === '+' ? 1 : 0;
  const start = skipWhile(str, signed, (c) => c === '0');
  if (start >= str.length) return { positive, value: '0', num: '0', denom: '', suffix: '' };
  const numEnd = skipWhile(str, start, isDigit);
  if (numEnd >= str.length) return { positive, value: str, num: str.slice(start), denom: '', suffix: '' };
  const num = numEnd === start ? '0' : str.slice(start, numEnd);
  let pos = numEnd;
  let denom = '';
  if (str[pos] === '.') {
    const denomEnd = skipWhile(str, pos + 1, isDigit);
    denom = str.slice(pos + 1, denomEnd);
    if (denomEnd >= str.length) return { positive, value: str, num, denom, suffix: '' };
    pos = denomEnd;
  }
  const suffix = scanSuffix(str, pos);
  return suffix === null ? null : { positive, value: str.slice(0, pos), num, denom, suffix };
}

const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

/** strconv.ParseInt(s, 10, 64), then int32(...) as the suffix parser truncates it. */
function exponentOf(text: string): number | null {
  if (!/^[+-]?[0-9]+$/.test(text)) return null;
  const parsed = BigInt(text);
  if (parsed > MAX_INT64 || parsed < -MAX_INT64 - 1n) return null;
  return Number(BigInt.asIntN(32, parsed));
}

function interpretSuffix(suffix: string): { base: 2 | 10; exponent: number; format: Format } | null {
  if (Object.hasOwn(DECIMAL_SUFFIXES, suffix)) return { base: 10, exponent: DECIMAL_SUFFIXES[suffix] ?? 0, format: 'DecimalSI' };
  if (Object.hasOwn(BINARY_SUFFIXES, suffix)) return { base: 2, exponent: BINARY_SUFFIXES[suffix] ?? 0, format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E')) {
    const exponent = exponentOf(suffix.slice(1));
    return exponent === null ? null : { base: 10, exponent, format: 'DecimalExponent' };
  }
  return null;
}

/** The parser's fast path: small numbers become an int64 amount, kept as written when canonical. */
function fastPath(str: string, s: Scanned, suffix: { exponent: number; format: Format }): Quantity | 'slow' {
  const { num, denom } = s;
  let scale = 0;
  let precision: number;
  let mantissa = 1n;
  if (suffix.format === 'BinarySI') {
    if (suffix.exponent < 0 || denom.length > 0) return 'slow';
    mantissa = 1n << BigInt(suffix.exponent);
    precision = 15 - num.length - Math.trunc(suffix.exponent * 3 / 10) - 1;
  } else {
    scale = suffix.exponent;
    precision = 18 - (num.length + denom.length);
  }
  if (precision < 0) return 'slow';
  scale -= denom.length;
  if (scale < -9) return 'slow';
  const shifted = num + denom;
  const value = BigInt(shifted);
  const product = value * mantissa;
  if (product > MAX_INT64) return 'slow';
  const result = s.positive ? product : -product;
  const keep = suffix.format === 'BinarySI'
    ? suffix.exponent % 10 === 0 && (value & 7n) !== 0n
    : scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
  return { value: { m: result, e: scale }, format: suffix.format, ...(keep ? { kept: str } : {}) };
}

function digitCount(n: bigint): number {
  return (n < 0n ? -n : n).toString().length;
}

/** inf.Dec's Round(x, 9, RoundUp) for a positive x: up to the next nanounit; never expands a large x. */
function roundUpToNano(d: Dec): Dec {
  const k = -9 - d.e; // decimal places to drop
  if (k <= 0 || d.m === 0n) return d;
  if (k > digitCount(d.m)) return { m: 1n, e: -9 };
  const divisor = 10n ** BigInt(k);
  const q = d.m / divisor;
  return { m: d.m % divisor === 0n ? q : q + 1n, e: -9 };
}

/** Compares two exact decimals without expanding large exponents. */
function compareDec(a: Dec, b: Dec): number {
  const sa = a.m === 0n ? 0 : a.m < 0n ? -1 : 1;
  const sb = b.m === 0n ? 0 : b.m < 0n ? -1 : 1;
  if (sa !== sb || sa === 0) return Math.sign(sa - sb);
  const magnitudeA = digitCount(a.m) + a.e;
  const magnitudeB = digitCount(b.m) + b.e;
  if (magnitudeA !== magnitudeB) return magnitudeA > magnitudeB ? sa : -sa;
  // Same magnitude: the exponents differ by the digit counts, so aligning is cheap.
  const e = Math.min(a.e, b.e);
  const ma = a.m * 10n ** BigInt(a.e - e);
  const mb = b.m * 10n ** BigInt(b.e - e);
  return ma === mb ? 0 : ma > mb ? 1 : -1;
}

/** inf.Dec's SetString of the number part: sign, digits, a fraction. */
function decimalOf(text: string, value: string): { m: bigint; e: number; negative: boolean } {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(value);
  const whole = match?.[2] ?? '';
  const fraction = match?.[3] ?? '';
  if (match === null || whole + fraction === '') throw invalid(text, 'has no number');
  return { m: BigInt(whole + fraction), e: -fraction.length, negative: match[1] === '-' };
}

/** The parser's slow path: an inf.Dec, rounded up to nanounits, BinarySI capped at 2^63-1. */
function slowPath(text: string, s: Scanned, suffix: { base: 2 | 10; exponent: number; format: Format }): Quantity {
  const parsed = decimalOf(text, s.value);
  let { m, e } = parsed;
  if (suffix.base === 10) e += suffix.exponent;
  else m *= 1n << BigInt(suffix.exponent);
  const negative = parsed.negative && m !== 0n;
  let amount: Dec = roundUpToNano({ m, e });
  let format = suffix.format;
  if (format === 'BinarySI' && compareDec(amount, { m: MAX_INT64, e: 0 }) > 0) amount = { m: MAX_INT64, e: 0 };
  if (format === 'BinarySI' && compareDec(amount, { m: 1n, e: 0 }) < 0 && amount.m !== 0n) format = 'DecimalSI';
  return { value: negative ? { m: -amount.m, e: amount.e } : amount, format };
}

function parseQuantity(text: string): Quantity {
  if (text === '') throw invalid(text, 'is empty');
  if (text.length > MAX_LENGTH) throw invalid(text, `is longer than the ${String(MAX_LENGTH)} characters the decoder reads`);
  if (text === '0') return { value: { m: 0n, e: 0 }, format: 'DecimalSI', kept: '0' };
  const scanned = scanQuantity(text);
  if (scanned === null) throw invalid(text, 'does not have the form of a quantity');
  const suffix = interpretSuffix(scanned.suffix);
  if (suffix === null) throw invalid(text, 'has an unknown suffix');
  if (Math.abs(suffix.exponent) > MAX_EXPONENT) throw invalid(text, 'has an exponent out of range');
  const fast = fastPath(text, scanned, suffix);
  return fast === 'slow' ? slowPath(text, scanned, suffix) : fast;
}

/** m without its factors of `base`, and how many were removed. */
function removeFactors(m: bigint, base: bigint): { m: bigint; times: number } {
  let times = 0;
  let rest = m;
  while (rest !== 0n && rest % base === 0n) { rest /= base; times++; }
  return { m: rest, times };
}

const DECIMAL_SUFFIX_BY_EXPONENT = new Map(Object.entries(DECIMAL_SUFFIXES).map(([s, e]) => [e, s]));
const BINARY_SUFFIX_BY_EXPONENT = new Map(Object.entries(BINARY_SUFFIXES).map(([s, e]) => [e, s]));

function decimalCanonical(value: Dec, format: Format): string {
  const removed = removeFactors(value.m, 10n);
  let m = removed.m;
  let exponent = value.e + removed.times;
  while (exponent % 3 !== 0) { m *= 10n; exponent--; }
  const suffix = format === 'DecimalSI' ? DECIMAL_SUFFIX_BY_EXPONENT.get(exponent) ?? '' : exponent === 0 ? '' : `e${String(exponent)}`;
  return `${m.toString()}${suffix}`;
}

/** Quantity.CanonicalizeBytes. */
function canonical(q: Quantity): string {
  if (q.value.m === 0n) return '0';
  if (q.format !== 'BinarySI') return decimalCanonical(q.value, q.format);
  if (compareDec(q.value, { m: -1024n, e: 0 }) > 0 && compareDec(q.value, { m: 1024n, e: 0 }) < 0) return decimalCanonical(q.value, 'DecimalSI');
  const { m, e } = q.value;
  // BinarySI values are at most 2^63-1, so an integer one has a small exponent.
  const integer = e >= 0 ? m * 10n ** BigInt(e) : m % 10n ** BigInt(-e) === 0n ? m / 10n ** BigInt(-e) : undefined;
  if (integer === undefined) return decimalCanonical(q.value, 'DecimalSI');
  const removed = removeFactors(integer, 1024n);
  return `${removed.m.toString()}${BINARY_SUFFIX_BY_EXPONENT.get(removed.times * 10) ?? ''}`;
}

/** The JSON string the API server writes for a protobuf Quantity holding `text`. */
export function quantityJson(text: string): string {
  const q = parseQuantity(text);
  return q.kept ?? canonical(q);
}
