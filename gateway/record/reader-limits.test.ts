// The session readers read bytes a caller chose, in a gateway every caller shares: what one
// connection can make them hold or compute is bounded, and crossing a bound ends the reading (and,
// where the owner's failure model says so, the connection). Growth is measured with the readers'
// own counters (buffers and bytes held, compressed bytes inflated), not with clocks.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../core/test-random.ts';
import type { SessionMetadata } from '../../core/recording/asciicast.ts';
import { portForwardTap } from './port-forward-tap.ts';
import { ReadLimitError, type ReadLimit } from './read-limit.ts';
import { startCapture } from './session-capture.ts';
import { SPDY3_HEADER_DICTIONARY } from './spdy-dictionary.ts';
import {
  HeaderInflater, MAX_HEADER_BLOCK_BYTES, PORT_FORWARD_HEADER_LIMITS, REMOTE_COMMAND_HEADER_LIMITS, type HeaderLimits,
} from './spdy-header-inflater.ts';
import { parseHeaderBlock, spdySessionReader, spdyStreamHeaders } from './spdy-session.ts';
import { randomChunks, SpdyWriter, wsFrame } from './test-wire.ts';
import { MAX_FRAGMENTS, MAX_MESSAGE_BYTES, OPCODE, WebSocketReader } from './websocket-frames.ts';

const MiB = 1024 * 1024;

/** The ReadLimitError `run` throws (failing the test if it throws nothing, or something else). */
function limitError(run: () => unknown): ReadLimitError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ReadLimitError);
    return error as ReadLimitError;
  }
  throw new Error('expected a ReadLimitError, nothing was thrown');
}

const expectLimit = (run: () => unknown, limit: ReadLimit): void => { expect(limitError(run).limit).toBe(limit); };

/** A fragmented binary message: a first frame, then `count` continuation frames of `size` bytes, the last with FIN when `finish`. */
function fragmented(count: number, size: number, finish: boolean): Buffer {
  const first = wsFrame(OPCODE.binary, Buffer.from('ab'), { fin: false, masked: true });
  const middle = wsFrame(OPCODE.continuation, Buffer.alloc(size, 0x78), { fin: false, masked: true });
  const last = wsFrame(OPCODE.continuation, Buffer.alloc(size, 0x78), { fin: true, masked: true });
  return Buffer.concat([first, ...Array<Buffer>(Math.max(0, count - 1)).fill(middle), ...(count > 0 ? [finish ? last : middle] : [])]);
}

describe('WebSocketReader: fragments', () => {
  it('holds no buffer for an empty continuation frame (10,000 of them between two halves of a message)', () => {
    const reader = new WebSocketReader();
    const random = seededRandom(1);
    const flood = fragmented(10_000, 0, false);
    for (const chunk of randomChunks(flood, 4096, random)) expect(reader.push(chunk)).toEqual([]);
    expect(reader.retained).toEqual({ fragments: 1, bytes: 2 });
    const messages = reader.push(wsFrame(OPCODE.continuation, Buffer.from('cd'), { masked: true }));
    expect(messages.map((m) => [m.opcode, m.payload.toString()])).toEqual([[OPCODE.binary, 'abcd']]);
    expect(reader.retained).toEqual({ fragments: 0, bytes: 0 });
  });

  it(`reads a message of MAX_FRAGMENTS (${MAX_FRAGMENTS}, ws's server default) frames and refuses one more, empty or not`, () => {
    expect(MAX_FRAGMENTS).toBe(16 * 1024);
    const whole = new WebSocketReader().push(fragmented(MAX_FRAGMENTS - 1, 1, true));
    expect(whole.map((m) => m.payload.length)).toEqual([2 + MAX_FRAGMENTS - 1]);
    for (const size of [0, 1]) {
      const reader = new WebSocketReader();
      expectLimit(() => { randomChunks(fragmented(MAX_FRAGMENTS, size, true), 65_536, seededRandom(2)).forEach((c) => { reader.push(c); }); }, 'websocket-fragments');
      expect(reader.retained.fragments).toBeLessThanOrEqual(MAX_FRAGMENTS);
    }
  });

  it('refuses the audit\'s flood (200,000 empty continuation frames) having held at most one buffer', () => {
    const reader = new WebSocketReader();
    let most = 0;
    const error = limitError(() => {
      for (const chunk of randomChunks(fragmented(200_000, 0, false), 65_536, seededRandom(3))) {
        reader.push(chunk);
        most = Math.max(most, reader.retained.fragments);
      }
    });
    expect(error.message).toMatch(/more than 16384 fragments/);
    expect(most).toBe(1);
  });

  it('refuses a message whose fragments add up to more than MAX_MESSAGE_BYTES', () => {
    const reader = new WebSocketReader();
    const half = Buffer.alloc(MAX_MESSAGE_BYTES / 2 + 1);
    reader.push(wsFrame(OPCODE.binary, half, { fin: false }));
    expectLimit(() => reader.push(wsFrame(OPCODE.continuation, half)), 'websocket-message-bytes');
  });
});

/** Port-forward-like header sets, as kubectl sends them (two streams per forwarded connection). */
const portForwardHeaders = (i: number): Record<string, string> => ({ streamtype: i % 2 === 0 ? 'error' : 'data', port: String(8000 + (i % 7)), requestid: String(i >> 1) });

async function headerBlocks(sets: readonly Record<string, string>[]): Promise<Buffer[]> {
  const writer = new SpdyWriter();
  const blocks: Buffer[] = [];
  for (const headers of sets) blocks.push(await writer.headerBlock(headers));
  return blocks;
}

/** A header block that inflates to `bytes` (one header, `x`, of NULs), compressed on a stream of its own. */
function bomb(bytes: number): Buffer {
  const plain = Buffer.alloc(bytes);
  plain.writeUInt32BE(1, 0);
  plain.writeUInt32BE(1, 4);
  plain.write('x', 8);
  plain.writeUInt32BE(bytes - 13, 9);
  return deflateSync(plain, { dictionary: SPDY3_HEADER_DICTIONARY, finishFlush: constants.Z_SYNC_FLUSH });
}

/** A header block on `writer`'s stream that inflates to `bytes` (one header, `x`, of NULs). */
const bombOn = (writer: SpdyWriter, bytes: number): Promise<Buffer> => writer.headerBlock({ x: '\0'.repeat(bytes - 13) });

/** A SYN_STREAM frame around a compressed header block. */
function synStream(streamId: number, block: Buffer): Buffer {
  const head = Buffer.alloc(18);
  head.writeUInt32BE(0x80030001, 0);
  head.writeUInt32BE(10 + block.length, 4);
  head.writeUInt32BE(streamId, 8);
  return Buffer.concat([head, block]);
}

describe('HeaderInflater', () => {
  it('inflates each header block once: the compressed bytes handed to zlib are the bytes received (2,000 streams)', async () => {
    const sets = Array.from({ length: 2_000 }, (_, i) => portForwardHeaders(i));
    const blocks = await headerBlocks(sets);
    const inflater = new HeaderInflater(PORT_FORWARD_HEADER_LIMITS);
    const read = blocks.map((block) => Object.fromEntries(parseHeaderBlock(inflater.next(block))));
    expect(read).toEqual(sets);
    const received = blocks.reduce((sum, b) => sum + b.length, 0);
    expect(inflater.stats).toMatchObject({ blocks: 2_000, compressedBytesInflated: received });
  });

  it('reads seeded random header blocks, across the 32 KiB window and back-references between blocks, as they were written', async () => {
    for (const seed of [11, 12, 13]) {
      const random = seededRandom(seed);
      const word = (max: number): string => Array.from({ length: Math.floor(random() * max) }, () => String.fromCharCode(0x20 + Math.floor(random() * 95))).join('');
      const used: string[] = ['stdout', 'v4.channel.k8s.io'];
      const pick = (max: number): string => {
        if (random() < 0.4) return used[Math.floor(random() * used.length)] ?? '';
        const fresh = random() < 0.1 ? word(8).repeat(Math.floor(random() * 6_000)) : word(max);
        used.push(fresh);
        return fresh;
      };
      const sets = Array.from({ length: 150 }, () => Object.fromEntries(Array.from({ length: 1 + Math.floor(random() * 4) }, (_, k) => [`h${k}-${pick(12)}`, pick(300)])));
      const inflater = new HeaderInflater(PORT_FORWARD_HEADER_LIMITS);
      const read = (await headerBlocks(sets)).map((block) => Object.fromEntries(parseHeaderBlock(inflater.next(block))));
      expect(read).toEqual(sets);
    }
  });

  it(`inflates a block of exactly MAX_HEADER_BLOCK_BYTES (${MAX_HEADER_BLOCK_BYTES}) and refuses one byte more, having produced no more than the cap`, () => {
    expect(MAX_HEADER_BLOCK_BYTES).toBe(MiB);
    const exact = new HeaderInflater(REMOTE_COMMAND_HEADER_LIMITS);
    expect(parseHeaderBlock(exact.next(bomb(MAX_HEADER_BLOCK_BYTES))).get('x')?.length).toBe(MAX_HEADER_BLOCK_BYTES - 13);
    const over = new HeaderInflater(REMOTE_COMMAND_HEADER_LIMITS);
    expectLimit(() => over.next(bomb(MAX_HEADER_BLOCK_BYTES + 1)), 'spdy-header-block-bytes');
    expect(over.stats.bytesOut).toBeLessThanOrEqual(MAX_HEADER_BLOCK_BYTES);
  });

  it('refuses the audit\'s bomb (a 256 KB block of compressed zeros, 256 MiB inflated) having inflated no more than the cap', () => {
    const block = bomb(256 * MiB);
    expect(block.length).toBeLessThan(300_000);
    const inflater = new HeaderInflater(REMOTE_COMMAND_HEADER_LIMITS);
    expectLimit(() => inflater.next(block), 'spdy-header-block-bytes');
    expect(inflater.stats.bytesOut).toBeLessThanOrEqual(MAX_HEADER_BLOCK_BYTES);
  });

  it.each([
    ['header blocks', { maxBlocks: 3, maxBlockBytes: MiB, maxTotalBytes: 16 * MiB }, 3, 'spdy-header-blocks'],
    ['header bytes in all', { maxBlocks: 100, maxBlockBytes: MiB, maxTotalBytes: 250 }, 2, 'spdy-header-bytes'],
  ] as const)('refuses more %s than the connection allows, and stays refused', async (_what, limits: HeaderLimits, allowed, limit) => {
    const blocks = await headerBlocks(Array.from({ length: allowed + 1 }, () => ({ streamtype: 'stdout', padding: 'p'.repeat(60) })));
    const inflater = new HeaderInflater(limits);
    for (const block of blocks.slice(0, allowed)) expect(parseHeaderBlock(inflater.next(block)).get('streamtype')).toBe('stdout');
    expectLimit(() => inflater.next(blocks[allowed] ?? Buffer.alloc(0)), limit);
    expect(() => inflater.next(blocks[0] ?? Buffer.alloc(0))).toThrow(ReadLimitError);
  });

  it('caps a remote-command connection at 64 header blocks each way (kube opens 5 streams) and a port-forward at 16 MiB of headers each way', async () => {
    expect(REMOTE_COMMAND_HEADER_LIMITS).toEqual({ maxBlocks: 64, maxBlockBytes: MiB, maxTotalBytes: 16 * MiB });
    expect(PORT_FORWARD_HEADER_LIMITS).toEqual({ maxBlocks: 65_536, maxBlockBytes: MiB, maxTotalBytes: 16 * MiB });
    const client = new SpdyWriter();
    const reader = spdySessionReader('v4.channel.k8s.io');
    for (let i = 0; i < 64; i++) reader?.fromClient(await client.synStream(2 * i + 1, { streamtype: 'stdout' }));
    const extra = await client.synStream(129, { streamtype: 'stdout' });
    expectLimit(() => reader?.fromClient(extra), 'spdy-header-blocks');

    const headers = spdyStreamHeaders();
    const writer = new SpdyWriter();
    const blocks: Buffer[] = [];
    for (let i = 0; i < 17; i++) blocks.push(synStream(2 * i + 1, await bombOn(writer, MiB)));
    const big = Buffer.concat(blocks);
    expectLimit(() => { randomChunks(big, 65_536, seededRandom(4)).forEach((chunk) => { headers(chunk); }); }, 'spdy-header-bytes');
  });
});

describe('port-forward tap', () => {
  const spdyUpgrade = ['Upgrade', 'SPDY/3.1', 'X-Stream-Protocol-Version', 'portforward.k8s.io'];

  it('ends a port-forward whose SPDY headers cross a cap, keeping the ports read before', async () => {
    const tap = portForwardTap([]);
    let killed = 0;
    tap.tap.upgraded(spdyUpgrade, () => { killed++; });
    const writer = new SpdyWriter();
    tap.tap.fromClient(await writer.synStream(1, { streamtype: 'data', port: '8080' }));
    expect(killed).toBe(0);
    tap.tap.fromClient(synStream(3, await bombOn(writer, 4 * MiB)));
    expect(killed).toBe(1);
    expect(tap.ports()).toEqual(['8080']);
  });

  it('ends a port-forward tunnelled in WebSocket whose frames cross a cap', () => {
    const tap = portForwardTap([]);
    let killed = 0;
    tap.tap.upgraded(['Upgrade', 'websocket', 'Sec-WebSocket-Protocol', 'SPDY/3.1+portforward.k8s.io'], () => { killed++; });
    tap.tap.fromClient(fragmented(MAX_FRAGMENTS + 1, 0, false));
    expect(killed).toBe(1);
  });

  it.each([['a word', 'http'], ['a long value', '8'.repeat(100_000)], ['a signed number', '+80']])('ends a port-forward whose port header is %s, not a port number (nothing is kept of it)', async (_what, port) => {
    const tap = portForwardTap(['22']);
    let killed = 0;
    tap.tap.upgraded(spdyUpgrade, () => { killed++; });
    tap.tap.fromClient(await new SpdyWriter().synStream(1, { streamtype: 'data', port }));
    expect(killed).toBe(1);
    expect(tap.ports()).toEqual(['22']);
  });
});

describe('startCapture: a reader that reaches a cap', () => {
  const base = { rule: 'rule "r" of AccessPolicy p/q', command: 'sh' };
  const metadata = (auditID: string): SessionMetadata => ({ auditID, user: 'alice', namespace: 'apps', pod: 'web-0', subresource: 'exec', tty: false, stdin: true });

  it.each([
    { what: 'WebSocket fragments', answer: ['Sec-WebSocket-Protocol', 'v5.channel.k8s.io'], offer: { 'sec-websocket-protocol': 'v5.channel.k8s.io' }, attack: fragmented(MAX_FRAGMENTS + 1, 0, false), why: /more than 16384 fragments/ },
    { what: 'a SPDY header bomb', answer: ['X-Stream-Protocol-Version', 'v4.channel.k8s.io'], offer: { 'x-stream-protocol-version': ['v4.channel.k8s.io'] }, attack: synStream(1, bomb(256 * MiB)), why: /inflates to more than 1048576 bytes/ },
  ])('over $what: ends a Required session; an Optional one runs on unrecorded, the audit record saying why', async ({ answer, offer, attack, why }) => {
    for (const [mode, shouldKill] of [['Required', true], ['Optional', false]] as const) {
      const dir = await mkdtemp(join(tmpdir(), 'airlock-rec-'));
      const start = await startCapture({ ...base, metadata: metadata(`limits-${mode}`), mode, dir, headers: offer });
      if (!start.ok || start.capture === undefined) throw new Error('expected a capture');
      let killed = false;
      start.capture.tap.upgraded(answer, () => { killed = true; });
      start.capture.tap.fromClient(attack);
      expect(killed).toBe(shouldKill);
      expect((await start.capture.finish()).recordingError).toMatch(why);
    }
  });
});
