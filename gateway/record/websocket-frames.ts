// Reads RFC 6455 WebSocket frames from one direction of an upgraded connection, as bytes arrive in
// chunks of any size: unmasks client frames, reassembles fragmented messages (control frames may
// arrive between fragments) and hands over whole messages. It only reads: the relay forwards the
// original bytes untouched.
import { ByteQueue } from './byte-queue.ts';
import { ReadLimitError } from './read-limit.ts';

export const OPCODE = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

export interface WebSocketMessage {
  readonly opcode: number;
  readonly payload: Buffer;
}

/** A message larger than this is refused (a recorder must not buffer without bound). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/**
 * A message in more frames than this is refused, empty frames included (they cost a header each
 * and nothing else would bound them). It is `ws`'s server default. A kube client
 * (gorilla/websocket) cuts a message into frames of its write buffer, 4 KiB by default, so a
 * message of MAX_MESSAGE_BYTES is about 4,100 frames.
 */
export const MAX_FRAGMENTS = 16 * 1024;

export class WebSocketFrameError extends Error {}

/** 2 bytes, an 8-byte length, a 4-byte mask. */
const MAX_HEADER_BYTES = 14;

interface FrameHeader {
  readonly fin: boolean;
  readonly opcode: number;
  readonly headerLength: number;
  readonly payloadLength: number;
  readonly mask: Buffer | undefined;
}

function readHeader(buffer: Buffer): FrameHeader | undefined {
  if (buffer.length < 2) return undefined;
  const first = buffer[0] ?? 0;
  const second = buffer[1] ?? 0;
  // RSV bits mean an extension (e.g. permessage-deflate) this reader cannot undo.
  if ((first & 0x70) !== 0) throw new WebSocketFrameError('a WebSocket extension is in use (RSV bits set); the frames cannot be read');
  let length = second & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buffer.length < 4) return undefined;
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return undefined;
    const big = buffer.readBigUInt64BE(2);
    if (big > BigInt(MAX_MESSAGE_BYTES)) throw new ReadLimitError('websocket-message-bytes', `a WebSocket frame of ${big} bytes is larger than ${MAX_MESSAGE_BYTES}`);
    length = Number(big);
    offset = 10;
  }
  const masked = (second & 0x80) !== 0;
  if (masked && buffer.length < offset + 4) return undefined;
  return {
    fin: (first & 0x80) !== 0,
    opcode: first & 0x0f,
    headerLength: offset + (masked ? 4 : 0),
    payloadLength: length,
    mask: masked ? buffer.subarray(offset, offset + 4) : undefined,
  };
}

function unmask(payload: Buffer, mask: Buffer | undefined): Buffer {
  if (mask === undefined) return payload;
  const out = Buffer.allocUnsafe(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = (payload[i] ?? 0) ^ (mask[i & 3] ?? 0);
  return out;
}

export class WebSocketReader {
  private readonly pending = new ByteQueue();
  private fragments: Buffer[] = [];
  private fragmentOpcode: number | undefined;
  private fragmentBytes = 0;
  private fragmentCount = 0;

  /** What the reader holds between calls: the buffers of an unfinished message, and bytes (that message's and an unfinished frame's). */
  get retained(): { readonly fragments: number; readonly bytes: number } {
    return { fragments: this.fragments.length, bytes: this.fragmentBytes + this.pending.length };
  }

  /** Feeds bytes; returns the whole messages they complete, in order. Throws WebSocketFrameError on bytes it cannot read, ReadLimitError past a cap. */
  push(chunk: Buffer): WebSocketMessage[] {
    this.pending.push(chunk);
    const messages: WebSocketMessage[] = [];
    for (;;) {
      const header = readHeader(this.pending.peek(Math.min(this.pending.length, MAX_HEADER_BYTES)));
      if (header === undefined || this.pending.length < header.headerLength + header.payloadLength) break;
      const mask = header.mask === undefined ? undefined : Buffer.from(header.mask);
      this.pending.take(header.headerLength);
      const payload = unmask(this.pending.take(header.payloadLength), mask);
      const message = this.frame(header, payload);
      if (message !== undefined) messages.push(message);
    }
    return messages;
  }

  private frame(header: FrameHeader, payload: Buffer): WebSocketMessage | undefined {
    if (header.opcode >= 8) return { opcode: header.opcode, payload: Buffer.from(payload) }; // control frames are never fragmented
    if (header.opcode !== OPCODE.continuation) {
      if (this.fragmentOpcode !== undefined) throw new WebSocketFrameError('a new WebSocket message began before the last one ended');
      if (header.fin) return { opcode: header.opcode, payload: Buffer.from(payload) };
      this.fragmentOpcode = header.opcode;
    } else if (this.fragmentOpcode === undefined) {
      throw new WebSocketFrameError('a WebSocket continuation frame without a message to continue');
    }
    this.fragmentCount++;
    if (this.fragmentCount > MAX_FRAGMENTS) throw new ReadLimitError('websocket-fragments', `a WebSocket message in more than ${MAX_FRAGMENTS} fragments`);
    this.fragmentBytes += payload.length;
    if (this.fragmentBytes > MAX_MESSAGE_BYTES) throw new ReadLimitError('websocket-message-bytes', `a WebSocket message is larger than ${MAX_MESSAGE_BYTES} bytes`);
    if (payload.length > 0) this.fragments.push(Buffer.from(payload));
    if (!header.fin) return undefined;
    const message = { opcode: this.fragmentOpcode, payload: Buffer.concat(this.fragments, this.fragmentBytes) };
    this.fragments = [];
    this.fragmentOpcode = undefined;
    this.fragmentBytes = 0;
    this.fragmentCount = 0;
    return message;
  }
}
