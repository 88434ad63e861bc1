// Decompresses the header blocks of one direction of a SPDY/3.1 connection in linear time and
// bounded space. The blocks form one zlib stream against the SPDY dictionary. Each block ends with
// a sync flush (SPDY/3 2.6.10.1), so the stream is byte-aligned between blocks, and the next block
// needs only the last 32 KiB of output (deflate's window). Node has no synchronous inflate that
// keeps its context between calls: the *Sync functions close it. So the first block is inflated
// as zlib, which checks the dictionary id. Every later block is inflated as raw deflate, with that
// window as its preset dictionary. Each block is inflated once, whatever came before it.
//
// What a caller can make it do is capped: a block's output (a block of compressed zeros is a
// thousand times its size), and the blocks and output of the whole connection. Beyond a cap it
// throws ReadLimitError, and it stays failed: a zlib stream cannot be picked up again mid-way.
import { constants, inflateRawSync, inflateSync } from 'node:zlib';
import { ReadLimitError } from './read-limit.ts';
import { SPDY3_HEADER_DICTIONARY } from './spdy-dictionary.ts';

export class SpdyFrameError extends Error {}

export interface HeaderLimits {
  /** Header blocks (SYN_STREAM, SYN_REPLY, HEADERS) one direction of a connection may carry. */
  readonly maxBlocks: number;
  /** Decompressed bytes of one block. */
  readonly maxBlockBytes: number;
  /** Decompressed bytes of all the blocks of one direction. */
  readonly maxTotalBytes: number;
}

/**
 * 1 MiB: what kube's own servers accept as a request's HTTP headers (the API server's and the
 * kubelet's MaxHeaderBytes, 1 << 20). Kube's SPDY library (moby/spdystream) sets no bound of its
 * own. Kube's stream headers are a few dozen bytes.
 */
export const MAX_HEADER_BLOCK_BYTES = 1024 * 1024;
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

/** exec and attach: kube opens at most 5 streams (error, stdin, stdout, stderr, resize), one block each way. */
export const REMOTE_COMMAND_HEADER_LIMITS: HeaderLimits = { maxBlocks: 64, maxBlockBytes: MAX_HEADER_BLOCK_BYTES, maxTotalBytes: MAX_HEADER_BYTES };
/** port-forward: two streams (data, error) per forwarded TCP connection, so 32,768 connections. */
export const PORT_FORWARD_HEADER_LIMITS: HeaderLimits = { maxBlocks: 65_536, maxBlockBytes: MAX_HEADER_BLOCK_BYTES, maxTotalBytes: MAX_HEADER_BYTES };

/** Deflate's window: the farthest back a compressed block can refer. */
const WINDOW = 32 * 1024;

export interface InflaterStats {
  readonly blocks: number;
  /** Compressed bytes handed to zlib: the bytes received, each inflated once. */
  readonly compressedBytesInflated: number;
  /** Decompressed bytes handed on. */
  readonly bytesOut: number;
}

const tooLarge = (error: unknown): boolean => error instanceof RangeError && (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';

export class HeaderInflater {
  private readonly limits: HeaderLimits;
  /** The last (up to) 32 KiB of the stream's output, starting as the dictionary. */
  private window: Buffer = SPDY3_HEADER_DICTIONARY;
  private started = false;
  private failed: Error | undefined;
  private readonly counts = { blocks: 0, compressedBytesInflated: 0, bytesOut: 0 };

  constructor(limits: HeaderLimits) {
    this.limits = limits;
  }

  get stats(): InflaterStats {
    return { ...this.counts };
  }

  /** The decompressed bytes of the next block. Throws SpdyFrameError or ReadLimitError, then again on every later call. */
  next(block: Buffer): Buffer {
    if (this.failed !== undefined) throw this.failed;
    try {
      return this.inflate(block);
    } catch (error) {
      this.failed = error instanceof Error ? error : new SpdyFrameError(String(error));
      throw this.failed;
    }
  }

  private inflate(block: Buffer): Buffer {
    const { maxBlocks, maxBlockBytes, maxTotalBytes } = this.limits;
    if (this.counts.blocks >= maxBlocks) throw new ReadLimitError('spdy-header-blocks', `more than ${maxBlocks} SPDY header blocks on one connection`);
    this.counts.blocks++;
    this.counts.compressedBytesInflated += block.length;
    const room = Math.min(maxBlockBytes, maxTotalBytes - this.counts.bytesOut);
    const overflow = (): ReadLimitError => (room < maxBlockBytes
      ? new ReadLimitError('spdy-header-bytes', `the SPDY header blocks of one connection inflate to more than ${maxTotalBytes} bytes`)
      : new ReadLimitError('spdy-header-block-bytes', `a SPDY header block inflates to more than ${maxBlockBytes} bytes`));
    let out: Buffer;
    try {
      out = this.decompress(block, Math.max(1, room));
    } catch (error) {
      if (tooLarge(error)) throw overflow();
      throw new SpdyFrameError(`a SPDY header block cannot be decompressed: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (out.length > room) throw overflow();
    this.counts.bytesOut += out.length;
    this.remember(out);
    return out;
  }

  private decompress(block: Buffer, maxOutputLength: number): Buffer {
    const options = { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength };
    if (this.started) return inflateRawSync(block, { ...options, dictionary: this.window });
    if (block.length > 0) this.started = true;
    return inflateSync(block, { ...options, dictionary: SPDY3_HEADER_DICTIONARY });
  }

  private remember(out: Buffer): void {
    if (out.length === 0) return;
    const kept = this.window.subarray(Math.max(0, this.window.length + out.length - WINDOW));
    this.window = out.length >= WINDOW ? Buffer.from(out.subarray(out.length - WINDOW)) : Buffer.concat([kept, out]);
  }
}
