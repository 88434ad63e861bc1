import { describe, expect, it } from 'vitest';
import { Coalescer } from './coalesce.ts';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('Coalescer', () => {
  it('releases what arrived in one turn of the event loop as one buffer, in order', async () => {
    const out: string[] = [];
    const c = new Coalescer(1024, (b) => out.push(b.toString()));
    c.add(Buffer.from('a'));
    c.add(Buffer.alloc(0));
    c.add(Buffer.from('b'));
    expect(out).toEqual([]);
    await turn();
    expect(out).toEqual(['ab']);
    c.add(Buffer.from('c'));
    await turn();
    expect(out).toEqual(['ab', 'c']);
  });

  it('releases at once when the limit is reached, and on flush; discard drops the rest', async () => {
    const out: string[] = [];
    const c = new Coalescer(4, (b) => out.push(b.toString()));
    c.add(Buffer.from('ab'));
    c.add(Buffer.from('cde'));
    expect(out).toEqual(['abcde']);
    c.add(Buffer.from('f'));
    c.flush();
    expect(out).toEqual(['abcde', 'f']);
    c.add(Buffer.from('g'));
    c.discard();
    await turn();
    expect(out).toEqual(['abcde', 'f']);
  });
});
