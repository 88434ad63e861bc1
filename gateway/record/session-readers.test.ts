import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { SessionEvent, SessionReader } from './session-events.ts';
import { SPDY3_HEADER_DICTIONARY } from './spdy-dictionary.ts';
import { parseHeaderBlock, spdySessionReader } from './spdy-session.ts';
import { randomChunks, SpdyWriter, wsFrame } from './test-wire.ts';
import { websocketSessionReader } from './websocket-channels.ts';
import { MAX_MESSAGE_BYTES, OPCODE, WebSocketReader } from './websocket-frames.ts';

const text = (events: SessionEvent[]): string[] => events.map((e) => (e.kind === 'data' ? `${e.stream}:${e.data.toString()}` : `${e.stream}:end`));
const feed = (reader: SessionReader, side: 'fromClient' | 'fromServer', bytes: Buffer, max?: number): SessionEvent[] =>
  randomChunks(bytes, max).flatMap((chunk) => reader[side](chunk));

describe('WebSocketReader', () => {
  it.each([
    ['a short unmasked frame', wsFrame(OPCODE.binary, Buffer.from('hello')), 5],
    ['a masked client frame', wsFrame(OPCODE.binary, Buffer.from('hello'), { masked: true }), 5],
    ['a 16-bit length', wsFrame(OPCODE.binary, Buffer.alloc(300, 7), { masked: true }), 300],
    ['a 64-bit length', wsFrame(OPCODE.binary, Buffer.alloc(70_000, 7)), 70_000],
  ])('reads %s delivered a few bytes at a time', (_what, frame, length) => {
    const reader = new WebSocketReader();
    const messages = randomChunks(frame).flatMap((chunk) => reader.push(chunk));
    expect(messages).toHaveLength(1);
    expect(messages[0]?.payload.length).toBe(length);
  });

  it('reassembles a fragmented message around an interleaved ping', () => {
    const reader = new WebSocketReader();
    const bytes = Buffer.concat([
      wsFrame(OPCODE.binary, Buffer.from('ab'), { fin: false, masked: true }),
      wsFrame(OPCODE.ping, Buffer.from('p'), { masked: true }),
      wsFrame(OPCODE.continuation, Buffer.from('cd'), { fin: false, masked: true }),
      wsFrame(OPCODE.continuation, Buffer.from('ef'), { masked: true }),
    ]);
    const messages = randomChunks(bytes, 3).flatMap((chunk) => reader.push(chunk));
    expect(messages.map((m) => [m.opcode, m.payload.toString()])).toEqual([[OPCODE.ping, 'p'], [OPCODE.binary, 'abcdef']]);
  });

  it.each([
    ['an extension bit', Buffer.from([0xc2, 0x00]), /extension/],
    ['a continuation of nothing', wsFrame(OPCODE.continuation, Buffer.from('x')), /continuation/],
    ['a frame over the size limit', Buffer.concat([Buffer.from([0x82, 127]), Buffer.from((BigInt(MAX_MESSAGE_BYTES) + 1n).toString(16).padStart(16, '0'), 'hex')]), /larger than/],
  ])('refuses %s', (_what, bytes, message) => {
    expect(() => new WebSocketReader().push(bytes)).toThrow(message);
  });
});

describe('websocketSessionReader', () => {
  const channel = (n: number, data: string): Buffer => Buffer.concat([Buffer.from([n]), Buffer.from(data)]);

  it('maps v5 channels to streams, skips priming frames and reads the close message', () => {
    const reader = websocketSessionReader('v5.channel.k8s.io');
    if (reader === undefined) throw new Error('v5 must be readable');
    const fromClient = Buffer.concat([
      wsFrame(OPCODE.binary, Buffer.from([0]), { masked: true }), // priming
      wsFrame(OPCODE.binary, channel(0, 'ls\r'), { masked: true }),
      wsFrame(OPCODE.binary, channel(4, '{"Width":120,"Height":40}'), { masked: true }),
      wsFrame(OPCODE.binary, Buffer.from([255, 0]), { masked: true }),
    ]);
    expect(text(feed(reader, 'fromClient', fromClient))).toEqual(['stdin:ls\r', 'resize:{"Width":120,"Height":40}', 'stdin:end']);
    const fromServer = Buffer.concat([wsFrame(OPCODE.binary, channel(1, 'out')), wsFrame(OPCODE.binary, channel(2, 'err')), wsFrame(OPCODE.binary, channel(3, '{"status":"Success"}'))]);
    expect(text(feed(reader, 'fromServer', fromServer))).toEqual(['stdout:out', 'stderr:err', 'error:{"status":"Success"}']);
  });

  it('decodes the base64 variant', () => {
    const reader = websocketSessionReader('base64.channel.k8s.io');
    const frame = wsFrame(OPCODE.text, Buffer.from(`1${Buffer.from('héllo').toString('base64')}`));
    expect(text(reader?.fromServer(frame) ?? [])).toEqual(['stdout:héllo']);
  });

  it('does not claim a protocol it cannot read', () => {
    expect(websocketSessionReader('v6.channel.k8s.io')).toBeUndefined();
    expect(websocketSessionReader('SPDY/3.1+portforward.k8s.io')).toBeUndefined();
  });
});

describe('SPDY', () => {
  it('uses the SPDY/3 dictionary (its zlib id, an Adler-32, is 0xe3c6a7c2)', () => {
    let a = 1;
    let b = 0;
    for (const byte of SPDY3_HEADER_DICTIONARY) { a = (a + byte) % 65521; b = (b + a) % 65521; }
    expect((((b << 16) | a) >>> 0).toString(16)).toBe('e3c6a7c2');
    expect(SPDY3_HEADER_DICTIONARY.length).toBe(1423);
  });

  it('reads stream types from SYN_STREAM headers and data by stream id, across split chunks', async () => {
    const client = new SpdyWriter();
    const server = new SpdyWriter();
    const reader = spdySessionReader('v4.channel.k8s.io');
    if (reader === undefined) throw new Error('v4 must be readable');
    const opening = Buffer.concat([
      await client.synStream(1, { streamtype: 'error' }),
      await client.synStream(3, { streamtype: 'stdin' }),
      await client.synStream(5, { streamtype: 'stdout' }),
      await client.synStream(7, { streamtype: 'resize' }),
      SpdyWriter.ping(1),
      SpdyWriter.data(3, Buffer.from('echo hi\n')),
      SpdyWriter.data(7, Buffer.from('{"Width":80,"Height":24}')),
      SpdyWriter.data(3, Buffer.alloc(0), true),
    ]);
    expect(text(feed(reader, 'fromClient', opening, 5))).toEqual(['stdin:echo hi\n', 'resize:{"Width":80,"Height":24}', 'stdin:end']);
    const answer = Buffer.concat([
      await server.synReply(1, { ok: 'yes' }),
      await server.synReply(5, { ok: 'yes' }),
      SpdyWriter.data(5, Buffer.from('hi\r\n')),
      SpdyWriter.data(1, Buffer.from('{"status":"Success"}'), true),
      SpdyWriter.data(9, Buffer.from('unknown stream')),
    ]);
    expect(text(feed(reader, 'fromServer', answer, 5))).toEqual(['stdout:hi\r\n', 'error:{"status":"Success"}', 'error:end']);
  });

  it('refuses a header block compressed without the dictionary', () => {
    const reader = spdySessionReader('v4.channel.k8s.io');
    const block = deflateSync(Buffer.from('00000000', 'hex'), { dictionary: Buffer.from('another dictionary') });
    const head = Buffer.from([0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 10 + block.length]);
    const frame = Buffer.concat([head, Buffer.alloc(10), block]);
    expect(() => reader?.fromClient(frame)).toThrow(/cannot be decompressed/);
  });

  it('parses header blocks and refuses truncated ones', () => {
    const block = Buffer.concat([Buffer.from('0000000100000003', 'hex'), Buffer.from('abc'), Buffer.from('00000001', 'hex'), Buffer.from('x')]);
    expect(parseHeaderBlock(block)).toEqual(new Map([['abc', 'x']]));
    expect(() => parseHeaderBlock(block.subarray(0, block.length - 1))).toThrow(/truncated/);
    expect(() => parseHeaderBlock(Buffer.from('00000002', 'hex'))).toThrow(/truncated/);
  });
});
