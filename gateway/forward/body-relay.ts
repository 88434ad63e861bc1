// The response body from the API server to the client: coalesced (coalesce.ts), rewritten when a
// rewriter is given (the masker), with backpressure both ways, and optionally one piece behind so
// the last bytes wait for the final audit record (ADR 0005).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Coalescer } from './coalesce.ts';

/** Rewrites a body piece by piece (the masker): what to write now, and what is left at the end. */
export interface BodyRewriter {
  push(chunk: Buffer): readonly Buffer[];
  end(): readonly Buffer[];
}

export interface BodyRelayInput {
  readonly from: IncomingMessage;
  readonly to: ServerResponse;
  readonly rewriter: BodyRewriter | undefined;
  /** Keep the last piece back, for the caller to write with `res.end()` (Content-Length clients are
   * done at their last byte, not at the end of the response). */
  readonly holdLast: boolean;
  /** The upstream body ended and everything but the held piece is written. */
  readonly onEnd: () => void;
  /** The rewriter failed: the caller cuts the response (never the rest unrewritten). */
  readonly onError: (error: Error) => void;
  /** Sees every byte as it goes to the client, after the rewrite (the audit level RequestResponse). */
  readonly tap?: ((bytes: Buffer) => void) | undefined;
}

/** Whether a rewriter (the masker) can read this answer: uncompressed JSON. */
export function isRewritable(response: IncomingMessage): boolean {
  const type = response.headers['content-type'] ?? '';
  const encoding = response.headers['content-encoding'] ?? 'identity';
  return /json/i.test(type) && encoding === 'identity';
}

/** At most this much is gathered before it is passed on (and held back, with holdLast). */
const BATCH_BYTES = 64 * 1024;

/** Starts relaying; returns what is held back (with holdLast), for the final write. */
export function relayBody(input: BodyRelayInput): () => Buffer | undefined {
  const { from, to, rewriter, tap } = input;
  let held: Buffer | undefined;
  let failed = false;
  let waiting = false;
  const write = (bytes: Buffer): void => {
    if (bytes.length === 0) return;
    tap?.(bytes);
    let out = bytes;
    if (input.holdLast) {
      const previous = held;
      held = bytes;
      if (previous === undefined) return;
      out = previous;
    }
    if (!to.write(out) && !waiting) {
      waiting = true;
      from.pause();
      to.once('drain', () => { waiting = false; from.resume(); });
    }
  };
  const deliver = (pieces: readonly Buffer[]): void => {
    write(pieces.length === 1 ? pieces[0] ?? Buffer.alloc(0) : Buffer.concat(pieces));
  };
  const guarded = (step: () => void): boolean => {
    if (failed) return false;
    try {
      step();
      return true;
    } catch (error) {
      failed = true;
      coalescer.discard();
      input.onError(error instanceof Error ? error : new Error(String(error)));
      return false;
    }
  };
  const coalescer = new Coalescer(BATCH_BYTES, (batch) => {
    guarded(() => { deliver(rewriter === undefined ? [batch] : rewriter.push(batch)); });
  });
  from.on('data', (chunk: Buffer) => { coalescer.add(chunk); });
  from.on('end', () => {
    coalescer.flush();
    if (guarded(() => { if (rewriter !== undefined) deliver(rewriter.end()); })) input.onEnd();
  });
  from.on('close', () => { if (!from.complete) coalescer.discard(); });
  return () => held;
}
