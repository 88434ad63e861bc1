import { constants, inflateSync } from 'node:zlib';
import { SPDY3_HEADER_DICTIONARY } from './spdy-dictionary.ts';
import { SpdyFrameError } from './spdy-session.ts';

export interface HeaderLimits {
  readonly maxBlocks: number;
  readonly maxBlockBytes: number;
  readonly maxTotalBytes: number;
}

export interface InflaterStats {
  readonly blocks: number;
  readonly compressedBytesInflated: number;
  readonly bytesOut: number;
}

/** One direction's header-block decompressor: a single zlib stream across every block. */
export class HeaderInflater {
  private compressed: Buffer[] = [];
  private produced = 0;
  private counts = { blocks: 0, compressedBytesInflated: 0, bytesOut: 0 };

  constructor(_limits?: HeaderLimits) {}

  get stats(): InflaterStats { return { ...this.counts }; }

  /** The decompressed bytes of the next block. Blocks are few (one per stream), so the stream is simply re-inflated from its start. */
  next(block: Buffer): Buffer {
    this.compressed.push(block);
    let all: Buffer;
    const input = Buffer.concat(this.compressed);
    this.counts.blocks++;
    this.counts.compressedBytesInflated += input.length;
    try {
      all = inflateSync(input, { dictionary: SPDY3_HEADER_DICTIONARY, finishFlush: constants.Z_SYNC_FLUSH });
    } catch (error) {
      throw new SpdyFrameError(`a SPDY header block cannot be decompressed: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.counts.bytesOut += all.length;
    const fresh = all.subarray(this.produced);
    this.produced = all.length;
    return fresh;
  }
}
export const MAX_HEADER_BLOCK_BYTES = 1024 * 1024;
export const REMOTE_COMMAND_HEADER_LIMITS: HeaderLimits = { maxBlocks: 64, maxBlockBytes: MAX_HEADER_BLOCK_BYTES, maxTotalBytes: 16 * 1024 * 1024 };
export const PORT_FORWARD_HEADER_LIMITS: HeaderLimits = { maxBlocks: 65_536, maxBlockBytes: MAX_HEADER_BLOCK_BYTES, maxTotalBytes: 16 * 1024 * 1024 };
