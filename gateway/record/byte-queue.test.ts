import { describe, expect, it } from 'vitest';
import { ByteQueue } from './byte-queue.ts';

describe('ByteQueue', () => {
  it('peeks and takes across chunk boundaries, in order, without losing a byte', () => {
    const q = new ByteQueue();
    for (const part of ['ab', '', 'cdef', 'g', 'hij']) q.push(Buffer.from(part));
    expect(q.length).toBe(10);
    expect(q.peek(3).toString()).toBe('abc');
    expect(q.take(1).toString()).toBe('a');
    expect(q.take(5).toString()).toBe('bcdef');
    expect(q.peek(1).toString()).toBe('g');
    expect(q.take(4).toString()).toBe('ghij');
    expect(q.length).toBe(0);
    expect(() => q.take(1)).toThrow(RangeError);
  });

  it('takes a frame that arrived in many chunks in one piece, equal to what was sent', () => {
    const q = new ByteQueue();
    const frame = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));
    for (let at = 0; at < frame.length; at += 4096) q.push(frame.subarray(at, at + 4096));
    expect(q.take(frame.length).equals(frame)).toBe(true);
  });
});
