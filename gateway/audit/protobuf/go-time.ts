// metav1.Time, metav1.MicroTime and metav1.Duration as the API server writes them in JSON: times
// in UTC as RFC 3339 (whole seconds for Time, always six fraction digits for MicroTime), the zero
// time as null, durations as Go's time.Duration.String() ("1h0m0s", "1.5s", "300ms", "0s").
import { ProtobufBodyError } from './wire.ts';

/** Seconds of Go's zero time (January 1, year 1, UTC), which marshals as null. */
export const GO_ZERO_TIME_SECONDS = -62135596800;
// December 31, 9999 23:59:59 UTC: beyond it RFC 3339 has no four-digit year (Go writes five digits,
// time.Time overflows further out). Such times are refused rather than written some other way.
const LAST_FOUR_DIGIT_SECOND = 253402300799;

function isoSeconds(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < GO_ZERO_TIME_SECONDS || seconds > LAST_FOUR_DIGIT_SECOND) {
    throw new ProtobufBodyError(`a time ${String(seconds)} seconds from 1970 is outside the years 1 to 9999`);
  }
  // toISOString is exact for these years (proleptic Gregorian, as Go's time is): drop ".sssZ".
  return new Date(seconds * 1000).toISOString().slice(0, 19);
}

/** metav1.Time: the Timestamp's seconds (the API server drops its nanoseconds), or null at zero. */
export function formatTime(seconds: number): string | null {
  if (seconds === GO_ZERO_TIME_SECONDS) return null;
  return `${isoSeconds(seconds)}Z`;
}

/**
 * metav1.MicroTime: nanoseconds truncated toward zero to microseconds, then normalised the way
 * time.Unix normalises them (a negative or overlong fraction moves whole seconds), or null at zero.
 */
export function formatMicroTime(seconds: number, nanos: number): string | null {
  const micros = Math.trunc(nanos / 1000);
  const carry = Math.floor(micros / 1_000_000);
  const sec = seconds + carry;
  const micro = micros - carry * 1_000_000;
  if (sec === GO_ZERO_TIME_SECONDS && micro === 0) return null;
  return `${isoSeconds(sec)}.${String(micro).padStart(6, '0')}Z`;
}

/** The fraction v / 10^prec without trailing zeros (".25", or "" when it is 0), and v / 10^prec. */
function fraction(v: bigint, prec: number): { text: string; rest: bigint } {
  let digits = '';
  let printing = false;
  let rest = v;
  for (let i = 0; i < prec; i++) {
    const digit = rest % 10n;
    printing ||= digit !== 0n;
    if (printing) digits = `${digit.toString()}${digits}`;
    rest /= 10n;
  }
  return { text: printing ? `.${digits}` : '', rest };
}

const SECOND = 1_000_000_000n;

function belowSecond(u: bigint): string {
  if (u === 0n) return '0s';
  const [prec, unit] = u < 1000n ? [0, 'ns'] : u < 1_000_000n ? [3, 'µs'] : [6, 'ms'];
  const { text, rest } = fraction(u, prec);
  return `${rest.toString()}${text}${unit}`;
}

/** Go's time.Duration.String() for a count of nanoseconds (an int64). */
export function formatDuration(nanos: bigint): string {
  const negative = nanos < 0n;
  const u = negative ? -nanos : nanos;
  let text: string;
  if (u < SECOND) {
    text = belowSecond(u);
  } else {
    const { text: frac, rest: seconds } = fraction(u, 9);
    text = `${(seconds % 60n).toString()}${frac}s`;
    const minutes = seconds / 60n;
    if (minutes > 0n) {
      text = `${(minutes % 60n).toString()}m${text}`;
      const hours = minutes / 60n;
      if (hours > 0n) text = `${hours.toString()}h${text}`;
    }
  }
  return negative ? `-${text}` : text;
}
