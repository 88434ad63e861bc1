// The limits a request meets once its caller is known (the pipeline's admitCaller stage, right after
// authentication): the size its body declares, its caller's concurrency caps, and, for a body the
// gateway must hold whole, room in the shared body budget. Whatever a request holds (its slot, its
// body's bytes) is released together by the one release function admit returns, which the pipeline
// calls when the response or the upgraded session ends.
//
// The per-caller cap needs a verified identity, so an unauthenticated flood is bounded by the
// connection limits instead (connection-limits.ts), as the API server's own filters are ordered.
import type { IncomingMessage } from 'node:http';
import { declaredBodyLength, readRequestBody, RequestBodyAbortedError, type ReadBody } from '../parse/request-body.ts';
import { entityTooLarge, tooManyRequests, type Status } from '../status.ts';
import type { BodyBudget } from './body-budget.ts';
import type { CallerSlots } from './caller-slots.ts';
import { LimitExceededError, type LimitName } from './limit-names.ts';

/** What kube-apiserver's max-in-flight filter sends: retry in a second (client-go does). */
export const RETRY_AFTER_SECONDS = 1;

export type LimitAdmission =
  | { readonly ok: true; readonly release: () => void }
  | { readonly ok: false; readonly limit: LimitName; readonly status: Status };

export interface RequestLimits {
  /** The declared body size and the caller's concurrency cap for this kind of request. */
  admit(req: IncomingMessage, who: { readonly caller: string; readonly longRunning: boolean }): LimitAdmission;
  /**
   * Reads a body the gateway must hold, after reserving its declared size (or, when it declares
   * none, the largest allowed) in the body budget. Throws LimitExceededError: 429 when the budget
   * has no room in time, 413 when a chunked body passes the largest allowed size.
   */
  readBody(req: IncomingMessage): Promise<ReadBody>;
}

export interface RequestLimitOptions {
  readonly maxRequestBodyBytes: number;
  readonly bodyBufferWaitMs: number;
  readonly slots: CallerSlots;
  readonly budget: BodyBudget;
  readonly refused: (limit: LimitName) => void;
}

/** Everything one request holds, released at once when it ends (idempotent). */
class Lease {
  private readonly held: (() => void)[] = [];
  private ended = false;

  hold(release: () => void): void {
    // The request ended while it waited (the client left): free at once.
    if (this.ended) release();
    else this.held.push(release);
  }

  release(): void {
    this.ended = true;
    for (const release of this.held.splice(0)) release();
  }
}

export function createRequestLimits(options: RequestLimitOptions): RequestLimits {
  const { maxRequestBodyBytes, slots, budget } = options;
  // The body reader finds the request's lease here, so the pipeline passes one release, not two.
  const leases = new WeakMap<IncomingMessage, Lease>();
  const tooLarge = (what: string): Status => entityTooLarge(
    `the request body ${what} the gateway's limit of ${maxRequestBodyBytes} bytes (limits.maxRequestBodyBytes)`,
  );
  const refuse = (limit: LimitName, status: Status): LimitExceededError => {
    options.refused(limit);
    return new LimitExceededError(limit, status);
  };

  return {
    admit(req, who) {
      const declared = declaredBodyLength(req);
      if (declared !== undefined && declared > maxRequestBodyBytes) {
        options.refused('request-body-size');
        return { ok: false, limit: 'request-body-size', status: tooLarge(`declares ${declared} bytes, more than`) };
      }
      const kind = who.longRunning ? 'long-running' : 'request';
      const slot = slots.acquire(who.caller, kind);
      if (slot === undefined) {
        const limit = who.longRunning ? 'caller-long-running' : 'caller-requests';
        options.refused(limit);
        const key = who.longRunning ? 'maxLongRunningRequests' : 'maxRequestsInflight';
        return { ok: false, limit, status: tooManyRequests(RETRY_AFTER_SECONDS, `too many ${who.longRunning ? 'long-running requests (watches, logs, exec, attach, port-forward)' : 'requests'} in flight for this caller (limits.perCaller.${key}); try again later`) };
      }
      const lease = new Lease();
      lease.hold(slot);
      leases.set(req, lease);
      return { ok: true, release: () => { lease.release(); } };
    },

    async readBody(req) {
      const lease = leases.get(req);
      // Fail closed: a body held outside the budget is exactly what the budget exists to prevent.
      if (lease === undefined) throw new Error('request limits: readBody before admit');
      const declared = declaredBodyLength(req);
      if (declared !== undefined && declared > maxRequestBodyBytes) throw refuse('request-body-size', tooLarge(`declares ${declared} bytes, more than`));
      const bytes = declared ?? maxRequestBodyBytes;
      const release = await budget.reserve(bytes, options.bodyBufferWaitMs);
      if (release === undefined) {
        throw refuse('request-body-buffer', tooManyRequests(RETRY_AFTER_SECONDS, 'the gateway holds as many request bodies in memory as it may (limits.requestBodyBufferBytes); try again later'));
      }
      lease.hold(release);
      // A client that left while the body waited has no body left to read (and never will).
      if (req.destroyed) throw new RequestBodyAbortedError();
      // Node never passes on more than a declared length, so only a chunked body can pass `bytes`.
      const read = await readRequestBody(req, bytes);
      if (!read.complete) {
        // The rest is not wanted: let it drain (within the body deadlines) instead of stalling.
        req.resume();
        throw refuse('request-body-size', tooLarge('is larger than'));
      }
      return read;
    },
  };
}
