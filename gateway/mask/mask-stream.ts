// The masker as a stream stage, and the request rewrite it needs: the API server must answer in
// JSON (protobuf cannot be masked without every type's schema) and uncompressed (the masker reads
// text), so both are asked for; a client that accepts nothing but protobuf is refused.
import { Transform } from 'node:stream';
import type { OutgoingHttpHeaders } from 'node:http';
import { JsonMasker, type MaskRule } from './json-masker.ts';

export function maskingStream(rules: readonly MaskRule[]): Transform {
  const masker = new JsonMasker(rules);
  return new Transform({
    // Room for a few socket reads each way, so the upstream socket is not paused between chunks.
    highWaterMark: 64 * 1024,
    transform(chunk: Buffer, _encoding, done) {
      const out = masker.pushBytes(chunk);
      done(null, out.length === 0 ? undefined : out);
    },
    flush(done) {
      const out = masker.end();
      done(null, out === '' ? undefined : Buffer.from(out, 'utf8'));
    },
  });
}

/**
 * The upstream request headers when the response is masked: Accept without protobuf entries (JSON
 * entries, with their `as=Table` parameters, are kept; none left means JSON), no Accept-Encoding.
 * Returns undefined when the client accepts only protobuf.
 */
export function headersForMasking(headers: OutgoingHttpHeaders): OutgoingHttpHeaders | undefined {
  const accept = headers['accept'];
  const entries = (Array.isArray(accept) ? accept.join(',') : typeof accept === 'number' ? String(accept) : accept ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '');
  const kept = entries.filter((e) => !/protobuf/i.test(e.split(';')[0] ?? ''));
  if (entries.length > 0 && kept.length === 0) return undefined;
  const next: OutgoingHttpHeaders = { ...headers, accept: kept.length === 0 ? 'application/json' : kept.join(', ') };
  delete next['accept-encoding'];
  return next;
}
