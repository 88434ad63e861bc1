// Test-only encoders of the wire formats the recorder reads: WebSocket frames (masked like a
// client's when asked) and SPDY/3 frames with header blocks compressed on one zlib stream.
import { randomBytes } from 'node:crypto';
import { constants, createDeflate, type Deflate } from 'node:zlib';
import { SPDY3_HEADER_DICTIONARY } from './spdy-dictionary.ts';

export function wsFrame(opcode: number, payload: Buffer, options: { fin?: boolean; masked?: boolean } = {}): Buffer {
  const fin = options.fin ?? true;
  const mask = options.masked === true ? randomBytes(4) : undefined;
  const length = payload.length;
  const head = length < 126 ? Buffer.from([0, length]) : length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  if (length >= 126 && length < 65536) { head[1] = 126; head.writeUInt16BE(length, 2); }
  if (length >= 65536) { head[1] = 127; head.writeBigUInt64BE(BigInt(length), 2); }
  head[0] = (fin ? 0x80 : 0) | opcode;
  if (mask === undefined) return Buffer.concat([head, payload]);
  head[1] = (head[1] ?? 0) | 0x80;
  const body = Buffer.from(payload.map((byte, i) => byte ^ (mask[i & 3] ?? 0)));
  return Buffer.concat([head, mask, body]);
}

/** One direction's SPDY encoder: header blocks share one deflate stream, as on a real connection. */
export class SpdyWriter {
  private readonly deflate: Deflate = createDeflate({ dictionary: SPDY3_HEADER_DICTIONARY });

  /** One header block, compressed on this writer's stream (as a SYN_STREAM or SYN_REPLY would carry it). */
  async headerBlock(headers: Record<string, string>): Promise<Buffer> {
    const parts: Buffer[] = [];
    const count = Buffer.alloc(4);
    count.writeUInt32BE(Object.keys(headers).length);
    parts.push(count);
    for (const [name, value] of Object.entries(headers)) {
      for (const text of [name, value]) {
        const length = Buffer.alloc(4);
        length.writeUInt32BE(Buffer.byteLength(text));
        parts.push(length, Buffer.from(text));
      }
    }
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer): void => { chunks.push(chunk); };
    this.deflate.on('data', onData);
    this.deflate.write(Buffer.concat(parts));
    await new Promise<void>((resolve) => { this.deflate.flush(constants.Z_SYNC_FLUSH, () => { resolve(); }); });
    this.deflate.off('data', onData);
    return Buffer.concat(chunks);
  }

  private static control(type: number, flags: number, body: Buffer): Buffer {
    const head = Buffer.alloc(8);
    head.writeUInt16BE(0x8003, 0);
    head.writeUInt16BE(type, 2);
    head.writeUInt32BE(body.length, 4);
    head[4] = flags;
    return Buffer.concat([head, body]);
  }

  async synStream(streamId: number, headers: Record<string, string>): Promise<Buffer> {
    const ids = Buffer.alloc(10);
    ids.writeUInt32BE(streamId, 0);
    return SpdyWriter.control(1, 0, Buffer.concat([ids, await this.headerBlock(headers)]));
  }

  async synReply(streamId: number, headers: Record<string, string>): Promise<Buffer> {
    const id = Buffer.alloc(4);
    id.writeUInt32BE(streamId, 0);
    return SpdyWriter.control(2, 0, Buffer.concat([id, await this.headerBlock(headers)]));
  }

  static ping(id: number): Buffer {
    const body = Buffer.alloc(4);
    body.writeUInt32BE(id);
    return SpdyWriter.control(6, 0, body);
  }

  static data(streamId: number, payload: Buffer, fin = false): Buffer {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(streamId, 0);
    head.writeUInt32BE(payload.length, 4);
    head[4] = fin ? 1 : 0;
    return Buffer.concat([head, payload]);
  }
}

/** Feeds `bytes` in pieces of random size (1 to max bytes), as a socket might deliver them; pass a seeded `random` to replay a failure. */
export function randomChunks(bytes: Buffer, max = 7, random: () => number = Math.random): Buffer[] {
  const out: Buffer[] = [];
  for (let offset = 0; offset < bytes.length;) {
    const size = 1 + Math.floor(random() * max);
    out.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return out;
}
