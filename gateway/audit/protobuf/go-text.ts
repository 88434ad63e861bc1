// Strings as Go's encoding/json writes them. A protobuf string is any bytes; Go keeps them as they
// are and, when writing JSON, replaces each byte that does not start a valid UTF-8 sequence with
// U+FFFD (utf8.DecodeRune's rule: one replacement per invalid byte). TextDecoder replaces a whole
// maximal invalid subpart with one U+FFFD instead, so invalid input takes the slow path below.
import { isUtf8 } from 'node:buffer';

const REPLACEMENT = 0xfffd;

/** The length of the valid UTF-8 sequence starting at `i`, or 0 (Go's utf8.DecodeRune acceptance). */
function sequenceLength(buf: Buffer, i: number, end: number): number {
  const b0 = buf[i] ?? 0;
  if (b0 < 0x80) return 1;
  const cont = (j: number, lo = 0x80, hi = 0xbf): boolean => j < end && (buf[j] ?? 0) >= lo && (buf[j] ?? 0) <= hi;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    // No overlong forms (E0 needs A0..BF) and no surrogates (ED needs 80..9F).
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

function replacingInvalid(buf: Buffer, start: number, end: number): string {
  let out = '';
  let i = start;
  while (i < end) {
    const n = sequenceLength(buf, i, end);
    if (n === 0) {
      out += String.fromCharCode(REPLACEMENT);
      i++;
    } else {
      out += buf.toString('utf8', i, i + n);
      i += n;
    }
  }
  return out;
}

/** The bytes `buf[start, end)` as the string Go's JSON encoder would write. */
export function goString(buf: Buffer, start: number, end: number): string {
  if (end - start === 0) return '';
  const slice = buf.subarray(start, end);
  return isUtf8(slice) ? slice.toString('utf8') : replacingInvalid(buf, start, end);
}

/** Whether the bytes are valid UTF-8 (a map key that is not would collide with another once replaced). */
export function isValidUtf8(buf: Buffer, start: number, end: number): boolean {
  return isUtf8(buf.subarray(start, end));
}
