// The protobuf wire format as the API server's generated Go code reads it (gogo-protobuf's
// Unmarshal methods): varints of at most 10 bytes, lengths checked against what is left, unknown
// fields skipped (groups included), wire type 4 and field number 0 refused.

/** A body the decoder will not turn into JSON; `reason` says why, for the audit record. */
export class ProtobufBodyError extends Error {
  readonly reason: string;

  constructor(reason: string) {
    super(reason);
    this.name = 'ProtobufBodyError';
    this.reason = reason;
  }
}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
export const WIRE_FIXED32 = 5;

const TWO_32 = 4294967296;

/** A varint's low and high 32 bits (bits past 64 are dropped, as Go's shifts drop them). */
export interface Varint {
  readonly lo: number;
  readonly hi: number;
}

export class WireReader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;

  constructor(buf: Buffer, start: number, end: number) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  get done(): boolean { return this.pos >= this.end; }

  private byte(): number {
    if (this.pos >= this.end) throw new ProtobufBodyError('the body ends inside a field (unexpected EOF)');
    return this.buf[this.pos++] ?? 0;
  }

  varint(): Varint {
    let lo = 0;
    for (let i = 0; i < 4; i++) {
      const b = this.byte();
      lo |= (b & 0x7f) << (7 * i);
      if (b < 0x80) return { lo: lo >>> 0, hi: 0 };
    }
    const fifth = this.byte();
    lo |= (fifth & 0x7f) << 28;
    let hi = (fifth & 0x7f) >> 4;
    if (fifth < 0x80) return { lo: lo >>> 0, hi };
    for (let i = 0; i < 5; i++) {
      const b = this.byte();
      hi |= (b & 0x7f) << (7 * i + 3);
      if (b < 0x80) return { lo: lo >>> 0, hi: hi >>> 0 };
    }
    throw new ProtobufBodyError('a varint is longer than 10 bytes (integer overflow)');
  }

  /** A varint read as a small non-negative count (lengths, tags): anything past 2^31 is refused. */
  private count(what: string): number {
    const { lo, hi } = this.varint();
    if (hi !== 0 || lo > 0x7fffffff) throw new ProtobufBodyError(`${what} is out of range`);
    return lo;
  }

  /** The next field's number and wire type, as Go computes them (the number as an int32). */
  tag(): { field: number; wire: number } {
    const { lo, hi } = this.varint();
    const wire = lo & 7;
    const field = ((lo >>> 3) | (hi << 29)) | 0;
    if (wire === WIRE_END_GROUP) throw new ProtobufBodyError('wire type "end group" outside a group');
    if (field <= 0) throw new ProtobufBodyError(`illegal field number ${field}`);
    return { field, wire };
  }

  /** A length-delimited field's bounds; the reader moves past it. */
  delimited(): { start: number; end: number } {
    const length = this.count('a length');
    const start = this.pos;
    if (start + length > this.end) throw new ProtobufBodyError('a length runs past the end of the body (unexpected EOF)');
    this.pos = start + length;
    return { start, end: this.pos };
  }

  /** Skips one field of this wire type, whose tag was just read (groups to their end, nested). */
  skip(wire: number): void {
    let depth = 0;
    let current = wire;
    for (;;) {
      switch (current) {
        case WIRE_VARINT: this.varint(); break;
        case WIRE_FIXED64: this.advance(8); break;
        case WIRE_BYTES: this.delimited(); break;
        case WIRE_START_GROUP: depth++; break;
        case WIRE_END_GROUP:
          if (depth === 0) throw new ProtobufBodyError('unexpected end of group');
          depth--;
          break;
        case WIRE_FIXED32: this.advance(4); break;
        default: throw new ProtobufBodyError(`illegal wire type ${current}`);
      }
      if (depth === 0) return;
      const { lo } = this.varint();
      current = lo & 7;
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new ProtobufBodyError('a fixed-size field runs past the end of the body (unexpected EOF)');
    this.pos += n;
  }
}

/** A varint as Go's int32 conversion reads it: the low 32 bits, signed. */
export function int32Of(v: Varint): number {
  return v.lo | 0;
}

/** A varint as an int64 (a JS number when exact, a bigint otherwise). */
export function int64Of(v: Varint): number | bigint {
  const hi = v.hi | 0;
  // |value| < 2^53 exactly when the signed high word is within ±2^21.
  if (hi >= -0x200000 && hi < 0x200000) return hi * TWO_32 + v.lo;
  return BigInt.asIntN(64, (BigInt(v.hi) << 32n) | BigInt(v.lo));
}
