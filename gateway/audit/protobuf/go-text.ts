// Strings as Go's encoding/json writes them. A protobuf string is any bytes; Go keeps them as they
// are and, when writing JSON, replaces each byte that does not start a valid UTF-8 sequence with
// U+FFFD (utf8.DecodeRune's rule: one replacement per invalid byte). TextDecoder replaces a whole
// maximal invalid subpart with one U+FFFD instead, so invalid input takes the slow path below.
import { isUtf8 } from 'node:buffer';

const REPLACEMENT = 0xfffd;

/** The first byte's sequence length and the range its second byte must be in (Go's acceptRanges). */
function leadByte(b0: number): { length: number; lo: number; hi: number } | undefined {
  if (b0 >= 0xc2 && b0 <= 0xdf) return { length: 2, lo: 0x80, hi: 0xbf };
  // No overlong forms (E0 needs A0..BF, F0 90..BF), no surrogates (ED 80..9F), nothing past U+10FFFF (F4 80..8F).
  if (b0 >= 0xe0 && b0 <= 0xef) return { length: 3, lo: b0 === 0xe0 ? 0xa0 : 0x80, hi: b0 === 0xed ? 0x9f : 0xbf };
  if (b0 >= 0xf0 && b0 <= 0xf4) return { length: 4, lo: b0 === 0xf0 ? 0x90 : 0x80, hi: b0 === 0xf4 ? 0x8f : 0xbf };
  return undefined;
}

/** The length of the valid UTF-8 sequence starting at `i`, or 0 (Go's utf8.DecodeRune acceptance). */
function sequenceLength(buf: Buffer, i: number, end: number): number {
  const b0 = buf[i] ?? 0;
  if (b0 < 0x80) return 1;
  const lead = leadByte(b0);
  if (lead === undefined || i + lead.length > end) return 0;
  const second = buf[i + 1] ?? 0;
  if (second < lead.lo || second > lead.hi) return 0;
  for (let j = i + 2; j < i + lead.length; j++) {
    const b = buf[j] ?? 0;
    if (b < 0x80 || b > 0xbf) return 0;
  }
  return lead.length;
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
