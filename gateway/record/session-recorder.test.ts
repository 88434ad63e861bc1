import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitCodeOf, parseCast, resizeText, type SessionMetadata } from '../../core/recording/asciicast.ts';
import { startCapture } from './session-capture.ts';
import { SessionRecorder } from './session-recorder.ts';
import { replaySchedule } from '../../core/recording/recordings.ts';
import { SpdyWriter, wsFrame } from './test-wire.ts';
import { OPCODE } from './websocket-frames.ts';

const metadata = (auditID: string): SessionMetadata => ({
  auditID, user: 'alice', namespace: 'apps', pod: 'web-0', subresource: 'exec', tty: true, stdin: true,
});

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = Date.parse('2026-11-26T12:00:00Z');
  return { now: () => t, advance: (ms) => { t += ms; } };
}

describe('SessionRecorder', () => {
  it('writes an asciicast v2 file whose SHA-256 is the one it reports', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-rec-'));
    const time = clock();
    const recorder = await SessionRecorder.open({ dir, metadata: metadata('a1'), command: 'sh', now: time.now });
    time.advance(250);
    recorder.record([{ kind: 'data', stream: 'resize', data: Buffer.from('{"Width":120,"Height":40}') }]);
    recorder.record([{ kind: 'data', stream: 'stdin', data: Buffer.from('ls\r') }]);
    time.advance(500);
    // A multi-byte character split across two chunks stays whole.
    const snowman = Buffer.from('☃\r\n');
    recorder.record([{ kind: 'data', stream: 'stdout', data: snowman.subarray(0, 2) }]);
    recorder.record([{ kind: 'data', stream: 'stdout', data: snowman.subarray(2) }]);
    recorder.record([{ kind: 'data', stream: 'error', data: Buffer.from('{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}') }]);
    recorder.setProtocol('v5.channel.k8s.io (WebSocket)');
    const summary = await recorder.close();
    const bytes = await readFile(join(dir, 'a1.cast'));
    expect(summary).toMatchObject({ file: 'a1.cast', bytes: bytes.length, exitCode: 3, durationMs: 750, protocol: 'v5.channel.k8s.io (WebSocket)' });
    expect(summary.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const cast = parseCast(bytes.toString('utf8'));
    expect(cast.header).toMatchObject({ version: 2, width: 80, height: 24, timestamp: Date.parse('2026-11-26T12:00:00Z') / 1000, command: 'sh', airlock: { auditID: 'a1', pod: 'web-0' } });
    expect(cast.events).toEqual([[0.25, 'r', '120x40'], [0.25, 'i', 'ls\r'], [0.75, 'o', '☃\r\n'], [0.75, 'm', 'exit 3']]);
  });

  it('fails instead of queueing without bound when the disk falls behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-rec-'));
    const recorder = await SessionRecorder.open({ dir, metadata: metadata('a3'), maxPendingBytes: 1000 });
    // Written in one go, before any write can complete: the queue passes its bound.
    for (let i = 0; i < 50; i++) recorder.record([{ kind: 'data', stream: 'stdout', data: Buffer.alloc(100, 'x') }]);
    expect(recorder.failed?.message).toMatch(/fell more than 1000 bytes behind/);
    await expect(recorder.close()).rejects.toThrow(/fell more than 1000 bytes behind/);
  });

  it('never overwrites a recording', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-rec-'));
    await writeFile(join(dir, 'a2.cast'), 'kept');
    await expect(SessionRecorder.open({ dir, metadata: metadata('a2') })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(join(dir, 'a2.cast'), 'utf8')).toBe('kept');
  });
});

describe('asciicast helpers', () => {
  it.each([
    ['{"status":"Success"}', 0],
    ['{"status":"Failure","details":{"causes":[{"reason":"ExitCode","message":"127"}]}}', 127],
    ['{"status":"Failure","message":"error executing command"}', undefined],
    ['not json', undefined],
  ])('reads the exit code of %s as %s', (status, code) => {
    expect(exitCodeOf(status)).toBe(code);
  });

  it.each([['{"Width":80,"Height":24}', '80x24'], ['{"Width":"80"}', undefined], ['{', undefined]])('reads the resize %s as %s', (json, text) => {
    expect(resizeText(json)).toBe(text);
  });

  it('schedules a replay with pauses scaled and capped', () => {
    expect(replaySchedule([[1, 'o', 'a'], [1.5, 'i', 'x'], [11, 'o', 'b'], [11.5, 'o', 'c']], { speed: 2, idleLimitMs: 2000 })).toEqual([[500, 'a'], [1000, 'b'], [250, 'c']]);
  });
});

describe('startCapture', () => {
  const base = { rule: 'rule "r" of AccessPolicy p/q', metadata: metadata('c1'), command: 'sh' };
  const wsOffer = { 'sec-websocket-protocol': 'v5.channel.k8s.io, v4.channel.k8s.io, x.example.io' };

  it('records nothing for None', async () => {
    expect(await startCapture({ ...base, mode: 'None', dir: '/nonexistent', headers: {} })).toEqual({ ok: true, headers: {}, capture: undefined });
  });

  it.each([
    { what: 'no sink configured', dir: undefined, headers: wsOffer, code: 503, message: /has no recording sink/ },
    { what: 'a sink that cannot be written', dir: '/nonexistent/dir', headers: wsOffer, code: 503, message: /cannot be written \(ENOENT/ },
    { what: 'no readable protocol offered', dir: '/tmp', headers: { 'sec-websocket-protocol': 'v9.channel.example.io' }, code: 400, message: /none of the offered protocols \(v9\.channel\.example\.io\) can be recorded/ },
  ])('refuses Required with $what', async ({ dir, headers, code, message }) => {
    const start = await startCapture({ ...base, mode: 'Required', dir, headers });
    expect(start).toMatchObject({ ok: false, code, message: expect.stringMatching(message) as unknown });
    if (!start.ok) expect(start.message).toMatch(/^Session recording is required by rule "r" of AccessPolicy p\/q, and .*; the session was not started\.$/);
  });

  it('runs Optional unrecorded when the sink cannot be written, saying why', async () => {
    const start = await startCapture({ ...base, mode: 'Optional', dir: '/nonexistent/dir', headers: wsOffer });
    expect(start).toMatchObject({ ok: true, capture: undefined, recordingError: expect.stringMatching(/cannot be written/) as unknown });
  });

  it('offers only readable protocols when Required, and records what passes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-rec-'));
    const start = await startCapture({ ...base, mode: 'Required', dir, headers: wsOffer });
    if (!start.ok || start.capture === undefined) throw new Error('expected a capture');
    expect(start.headers['sec-websocket-protocol']).toBe('v5.channel.k8s.io, v4.channel.k8s.io');
    let killed = false;
    start.capture.tap.upgraded(['Upgrade', 'websocket', 'Sec-WebSocket-Protocol', 'v5.channel.k8s.io'], () => { killed = true; });
    start.capture.tap.fromServer(wsFrame(OPCODE.binary, Buffer.concat([Buffer.from([1]), Buffer.from('hello')])));
    const result = await start.capture.finish();
    expect(killed).toBe(false);
    expect(result).toMatchObject({ protocol: 'v5.channel.k8s.io (WebSocket)', recording: { file: 'c1.cast' } });
    expect(parseCast(await readFile(join(dir, 'c1.cast'), 'utf8')).events[0]).toEqual([expect.any(Number), 'o', 'hello']);
  });

  it('ends a Required session whose bytes cannot be read, and an Optional one keeps running with the reason recorded', async () => {
    for (const [mode, shouldKill] of [['Required', true], ['Optional', false]] as const) {
      const dir = await mkdtemp(join(tmpdir(), 'airlock-rec-'));
      const start = await startCapture({ ...base, mode, dir, headers: { 'x-stream-protocol-version': ['v4.channel.k8s.io'] } });
      if (!start.ok || start.capture === undefined) throw new Error('expected a capture');
      let killed = false;
      start.capture.tap.upgraded(['X-Stream-Protocol-Version', 'v4.channel.k8s.io'], () => { killed = true; });
      start.capture.tap.fromClient(SpdyWriter.data(1, Buffer.alloc(1)).fill(0x80, 0, 1).fill(0x09, 1, 2)); // control frame of SPDY version 9
      expect(killed).toBe(shouldKill);
      expect((await start.capture.finish()).recordingError).toMatch(/could not be read: SPDY version 9 is not 3/);
    }
  });
});
