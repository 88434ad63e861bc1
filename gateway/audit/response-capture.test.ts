import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createResponseCapture, type ResponseCaptureOptions } from './response-capture.ts';
import { seededRandom } from '../../core/test-random.ts';

const noProtobuf = (): unknown => { throw new Error('no decoder in this test'); };

function options(over: Partial<ResponseCaptureOptions> = {}): ResponseCaptureOptions {
  return { limitBytes: 1024, contentType: 'application/json', contentEncoding: undefined, watch: false, decodeProtobuf: noProtobuf, ...over };
}

/** Feeds `body` in pieces cut at the given sizes (repeated), as the relay would. */
function feed(capture: { write(chunk: Buffer): void }, body: Buffer, sizes: readonly number[] = [body.length]): void {
  let at = 0;
  for (let i = 0; at < body.length; i += 1) {
    const size = Math.max(1, sizes[i % sizes.length] ?? 1);
    capture.write(body.subarray(at, at + size));
    at += size;
  }
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('createResponseCapture: one body', () => {
  it('records a JSON body within the cap as the value, with its size and digest', () => {
    const body = Buffer.from(JSON.stringify({ kind: 'ConfigMap', data: { colour: 'teal' } }));
    const capture = createResponseCapture(options());
    feed(capture, body, [3, 5]);
    expect(capture.result(true)).toStrictEqual({
      responseObject: { kind: 'ConfigMap', data: { colour: 'teal' } },
      responseBody: { bytes: body.length, complete: true, contentType: 'application/json', sha256: sha256(body) },
    });
  });

  it('keeps only the first limitBytes of a larger body, as text, and says where it was cut', () => {
    const body = Buffer.from(JSON.stringify({ kind: 'ConfigMap', data: { big: 'x'.repeat(5000) } }));
    const capture = createResponseCapture(options());
    feed(capture, body, [700]);
    const { responseObject, responseBody } = capture.result(true);
    expect(responseObject).toBeUndefined();
    expect(responseBody).toMatchObject({ bytes: body.length, sha256: sha256(body), truncated: { atByte: 1024, limitBytes: 1024 } });
    expect(responseBody.head).toBe(body.subarray(0, 1024).toString('utf8'));
  });

  it('records a compressed, text or binary body as its size and digest only', () => {
    for (const [over, why] of [
      [{ contentEncoding: 'gzip' }, /gzip-compressed/],
      [{ contentType: 'text/plain' }, /text\/plain is not recorded/],
      [{ contentType: undefined }, /\(none\) is not recorded/],
    ] as const) {
      const body = Buffer.from('secret-looking log line\n');
      const capture = createResponseCapture(options(over));
      feed(capture, body);
      const result = capture.result(true);
      expect(result.responseObject).toBeUndefined();
      expect(result.responseBody).toMatchObject({ bytes: body.length, sha256: sha256(body) });
      expect(result.responseBody.omitted).toMatch(why);
      expect(JSON.stringify(result)).not.toContain('secret-looking');
    }
  });

  it('decodes a protobuf body within the cap, and keeps the digest of one it cannot decode', () => {
    const body = Buffer.from([0x6b, 0x38, 0x73, 0x00, 1, 2, 3]);
    const decoded = createResponseCapture(options({ contentType: 'application/vnd.kubernetes.protobuf', decodeProtobuf: () => ({ kind: 'ConfigMap' }) }));
    feed(decoded, body);
    expect(decoded.result(true).responseObject).toStrictEqual({ kind: 'ConfigMap' });
    const undecodable = createResponseCapture(options({ contentType: 'application/vnd.kubernetes.protobuf' }));
    feed(undecodable, body);
    expect(undecodable.result(true)).toStrictEqual({ responseBody: {
      bytes: body.length, complete: true, contentType: 'application/vnd.kubernetes.protobuf', omitted: 'the protobuf body is not decoded: no decoder in this test', sha256: sha256(body),
    } });
  });

  it('records a body JSON cannot carry (1e400) as its digest', () => {
    const capture = createResponseCapture(options());
    feed(capture, Buffer.from('{"n":1e400}'));
    expect(capture.result(true).responseBody.omitted).toMatch(/Infinity/);
  });

  it('says when the response did not complete', () => {
    const capture = createResponseCapture(options());
    feed(capture, Buffer.from('{"kind":'));
    expect(capture.result(false).responseBody).toMatchObject({ complete: false, omitted: 'the body is not valid JSON' });
  });
});

function event(type: string, name: string, pad = 0): string {
  return JSON.stringify({ type, object: { kind: 'ConfigMap', metadata: { name }, data: { pad: 'p'.repeat(pad) } } });
}

describe('createResponseCapture: a watch', () => {
  it('records events up to the cap, then counts the rest by type, wherever the chunks are cut', () => {
    const lines = [event('ADDED', 'a'), event('ADDED', 'b'), event('MODIFIED', 'a', 400), event('DELETED', 'b'), event('BOOKMARK', '')];
    const body = Buffer.from(lines.map((l) => `${l}\n`).join(''));
    const kept = Buffer.byteLength(lines[0] ?? '') + Buffer.byteLength(lines[1] ?? '');
    const random = seededRandom(23);
    for (let run = 0; run < 50; run += 1) {
      const capture = createResponseCapture(options({ watch: true, limitBytes: kept + 100 }));
      feed(capture, body, Array.from({ length: 7 }, () => 1 + Math.floor(random() * 60)));
      const { responseObject, responseBody } = capture.result(true);
      expect(responseObject).toStrictEqual([JSON.parse(lines[0] ?? ''), JSON.parse(lines[1] ?? '')]);
      expect(responseBody).toMatchObject({
        bytes: body.length, sha256: sha256(body),
        events: { count: 5, recorded: 2, types: { ADDED: 2, BOOKMARK: 1, DELETED: 1, MODIFIED: 1 } },
        truncated: { atByte: kept + 2, atEvent: 2, limitBytes: kept + 100 },
      });
    }
  });

  it('holds no more than the cap and a line head however long an endless watch runs', () => {
    const capture = createResponseCapture(options({ watch: true, limitBytes: 2048 }));
    const line = Buffer.from(`${event('MODIFIED', 'x', 100_000)}\n`);
    for (let i = 0; i < 200; i += 1) capture.write(line);
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 200; i += 1) capture.write(line);
    // 200 more 100 KB events (20 MB) went by: the capture kept none of them.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(8 * 1024 * 1024);
    expect(capture.result(true).responseBody.events).toStrictEqual({ count: 400, recorded: 0, types: { MODIFIED: 400 } });
  });

  it('counts made-up event types beyond a handful as "other"', () => {
    const capture = createResponseCapture(options({ watch: true, limitBytes: 1024 }));
    for (let i = 0; i < 20; i += 1) capture.write(Buffer.from(`{"type":"T${'x'.repeat(i)}"}\n`));
    const types = capture.result(true).responseBody.events?.types ?? {};
    expect(Object.keys(types)).toHaveLength(9);
    expect(types['other']).toBe(12);
  });

  it('records a protobuf watch as its digest only', () => {
    const capture = createResponseCapture(options({ watch: true, contentType: 'application/vnd.kubernetes.protobuf;stream=watch' }));
    feed(capture, Buffer.from([0, 0, 0, 3, 1, 2, 3]));
    expect(capture.result(true)).toStrictEqual({ responseBody: expect.objectContaining({ bytes: 7, omitted: expect.stringMatching(/only JSON watches/) as unknown }) as unknown });
  });
});
