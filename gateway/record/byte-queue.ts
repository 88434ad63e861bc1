// Bytes that arrived in chunks, waiting for a frame to complete. Chunks are kept as they came and
// copied once, when a whole frame is taken: joining every new chunk onto the pending bytes would
// copy a large frame over and over (quadratic in its size).

export class ByteQueue {
  private chunks: Buffer[] = [];
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** The first `n` bytes without consuming them (n ≤ length); copies only when they span chunks. */
  peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first !== undefined && first.length >= n) return first.subarray(0, n);
    const merged = Buffer.concat(this.chunks, this.total);
    this.chunks = [merged];
    return merged.subarray(0, n);
  }

  /** Consumes and returns the first `n` bytes (n ≤ length). */
  take(n: number): Buffer {
    const first = this.chunks[0];
    if (first !== undefined && first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift(); else this.chunks[0] = first.subarray(n);
      this.total -= n;
      return out;
    }
    const parts: Buffer[] = [];
    let needed = n;
    while (needed > 0) {
      const chunk = this.chunks[0];
      if (chunk === undefined) throw new RangeError(`take(${n}) with ${this.total} bytes queued`);
      if (chunk.length <= needed) {
        parts.push(chunk);
        this.chunks.shift();
        needed -= chunk.length;
      } else {
        parts.push(chunk.subarray(0, needed));
        this.chunks[0] = chunk.subarray(needed);
        needed = 0;
      }
    }
    this.total -= n;
    return Buffer.concat(parts, n);
  }
}
