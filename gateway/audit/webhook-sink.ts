// Audit records POSTed as JSON arrays to a receiver outside the cluster.
//
// Records wait in a bounded queue until `batchSize` of them are ready or `flushIntervalMs` has
// passed since the first one, then go out as one batch; one batch is in flight at a time, so the
// receiver sees records in the order they were written. `write` resolves when the receiver has
// answered 2xx for the batch holding the record. 5xx, 429, network errors and timeouts are retried
// with exponential backoff and jitter (equal jitter: half the delay fixed, half random, so
// replicas that failed together do not retry together) up to `maxAttempts`; other statuses are
// final. A full queue rejects at once (backpressure): nothing is dropped without the caller
// knowing.
//
// The records form a hash chain of their own (seq, prevHash, hash, as in the file sink), starting
// from the genesis hash when the sink starts (each gateway process, so each replica and restart,
// starts a chain; `gateway.replica` names it), with a checkpoint entry every `checkpointEvery`
// records and on close, signed when a key is given. A receiver that appends the entries it gets,
// in order, one per line, has a file `verify-cli` checks; a batch that was never delivered shows
// there as a break in the chain, which is what it is.
import { request as httpRequest, type Agent } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { AuditSinkError } from '../../core/audit/errors.ts';
import type { UnchainedAuditRecord } from '../../core/audit/record.ts';
import { canonicalJson } from '../../core/audit/canonical-json.ts';
import { buildCheckpoint, chainedLine, GENESIS, type ChainHead, type CheckpointSigner } from '../../core/audit/hash-chain.ts';
import type { AuditSink } from './sink.ts';

export interface WebhookSinkOptions {
  readonly url: string;
  /** Records per POST (default 100). */
  readonly batchSize?: number;
  /** Longest a record waits for its batch to fill (default 1000 ms). */
  readonly flushIntervalMs?: number;
  /** Records accepted and not yet acknowledged, at most (default 10000); beyond, writes reject. */
  readonly maxQueue?: number;
  /**
   * Bytes of records accepted and not yet acknowledged, at most (default 64 MiB); beyond, writes
   * reject. Records at level RequestResponse carry response bodies: counting them alone would let
   * a slow receiver hold thousands of them in memory.
   */
  readonly maxQueueBytes?: number;
  /** A POST is sent once it holds this many bytes, even with fewer than batchSize records (default 4 MiB; one record may exceed it). */
  readonly maxBatchBytes?: number;
  /** Per attempt (default 10000 ms). */
  readonly timeoutMs?: number;
  readonly retry?: {
    /** Attempts per batch, the first included (default 5). */
    readonly maxAttempts?: number;
    readonly initialDelayMs?: number;
    readonly maxDelayMs?: number;
  };
  /** An http.Agent or https.Agent (keep-alive, client certificates, a CA of its own). */
  readonly agent?: Agent;
  /** CA certificate(s), PEM, that the receiver's certificate must chain to (https only). */
  readonly ca?: string | Buffer;
  readonly name?: string;
  /** Jitter source in [0, 1) (default Math.random). */
  readonly random?: () => number;
  /** A checkpoint entry after this many records (default 1000), and one on close. */
  readonly checkpointEvery?: number;
  /** Signs the checkpoints (the same key as the file sink's). */
  readonly signer?: CheckpointSigner;
}

interface Settings {
  readonly url: URL;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly maxQueue: number;
  readonly maxQueueBytes: number;
  readonly maxBatchBytes: number;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly agent?: Agent;
  readonly ca?: string | Buffer;
  readonly name: string;
  readonly random: () => number;
  readonly checkpointEvery: number;
  readonly signer?: CheckpointSigner;
}

interface Pending {
  /** The chained entry as canonical JSON. */
  readonly line: string;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

type PostOutcome =
  | { readonly kind: 'accepted' }
  | { readonly kind: 'retry'; readonly detail: string; readonly status?: number }
  | { readonly kind: 'final'; readonly status: number };

/** Throws TypeError on bad options (every problem at once). */
export function createWebhookSink(options: WebhookSinkOptions): WebhookSink {
  return WebhookSink.create(options);
}

function settingsFrom(options: WebhookSinkOptions): Settings {
  const problems: string[] = [];
  const positive = (value: number | undefined, field: string, fallback: number): number => {
    const v = value ?? fallback;
    if (!Number.isSafeInteger(v) || v < 1) problems.push(`${field} must be a positive integer, got ${String(value)}`);
    return v;
  };
  let url = new URL('http://invalid.');
  if (URL.canParse(options.url)) url = new URL(options.url);
  else problems.push(`url ${JSON.stringify(options.url)} is not a URL`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`url must be http: or https:, got ${url.protocol}`);
  const settings: Settings = {
    url,
    batchSize: positive(options.batchSize, 'batchSize', 100),
    flushIntervalMs: positive(options.flushIntervalMs, 'flushIntervalMs', 1000),
    maxQueue: positive(options.maxQueue, 'maxQueue', 10_000),
    maxQueueBytes: positive(options.maxQueueBytes, 'maxQueueBytes', 64 * 1024 * 1024),
    maxBatchBytes: positive(options.maxBatchBytes, 'maxBatchBytes', 4 * 1024 * 1024),
    timeoutMs: positive(options.timeoutMs, 'timeoutMs', 10_000),
    maxAttempts: positive(options.retry?.maxAttempts, 'retry.maxAttempts', 5),
    initialDelayMs: positive(options.retry?.initialDelayMs, 'retry.initialDelayMs', 100),
    maxDelayMs: positive(options.retry?.maxDelayMs, 'retry.maxDelayMs', 5000),
    ...(options.agent === undefined ? {} : { agent: options.agent }),
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    name: options.name ?? 'webhook',
    random: options.random ?? Math.random,
    checkpointEvery: positive(options.checkpointEvery, 'checkpointEvery', 1000),
    ...(options.signer === undefined ? {} : { signer: options.signer }),
  };
  if (problems.length > 0) throw new TypeError(`webhook audit sink: ${problems.join('; ')}`);
  return settings;
}

export class WebhookSink implements AuditSink {
  readonly name: string;
  readonly #settings: Settings;
  readonly #queue: Pending[] = [];
  #inFlight = 0;
  /** Bytes of the lines queued and in flight. */
  #bytes = 0;
  #sending = false;
  #flushNow = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #drainedWaiters: (() => void)[] = [];
  #head: ChainHead = GENESIS;
  #sinceCheckpoint = 0;

  static create(options: WebhookSinkOptions): WebhookSink {
    return new WebhookSink(settingsFrom(options));
  }

  private constructor(settings: Settings) {
    this.name = settings.name;
    this.#settings = settings;
  }

  queueDepth(): number {
    return this.#queue.length + this.#inFlight;
  }

  /** Resolves once the receiver answered 2xx for the record's batch. */
  write(record: UnchainedAuditRecord): Promise<void> {
    if (this.#closed) return Promise.reject(new AuditSinkError('sink_closed', this.name, 'the webhook audit sink is closed'));
    if (this.queueDepth() >= this.#settings.maxQueue) {
      return Promise.reject(new AuditSinkError('queue_full', this.name,
        `the webhook audit queue is full (${this.#settings.maxQueue} records not yet acknowledged by ${this.#settings.url.origin})`));
    }
    const entry = chainedLine(this.#head, record);
    // One record larger than the bound still goes when nothing else waits (it cannot wait for room).
    if (this.queueDepth() > 0 && this.#bytes + entry.line.length > this.#settings.maxQueueBytes) {
      return Promise.reject(new AuditSinkError('queue_full', this.name,
        `the webhook audit queue is full (${this.#bytes} bytes of records not yet acknowledged by ${this.#settings.url.origin}; the bound is ${this.#settings.maxQueueBytes} bytes)`));
    }
    this.#head = { seq: entry.seq, hash: entry.hash };
    this.#sinceCheckpoint += 1;
    this.#bytes += entry.line.length;
    const accepted = new Promise<void>((resolve, reject) => { this.#queue.push({ line: entry.line, resolve, reject }); });
    if (this.#sinceCheckpoint >= this.#settings.checkpointEvery) this.#appendCheckpoint();
    this.#schedule();
    return accepted;
  }

  /** Queues a checkpoint entry; its delivery is not awaited by any request (a failure shows as a chain break). */
  #appendCheckpoint(): void {
    const { signer } = this.#settings;
    const checkpoint = buildCheckpoint(this.#head, { timestamp: new Date(), ...(signer === undefined ? {} : { signer }) });
    this.#head = { seq: checkpoint.seq, hash: checkpoint.hash };
    this.#sinceCheckpoint = 0;
    const line = canonicalJson(checkpoint);
    this.#bytes += line.length;
    this.#queue.push({ line, resolve: () => undefined, reject: () => undefined });
  }

  /** Sends everything queued (retrying as usual), then resolves; later writes reject. */
  async close(): Promise<void> {
    if (!this.#closed && this.#sinceCheckpoint > 0) this.#appendCheckpoint();
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.queueDepth() === 0 && !this.#sending) return;
    const drained = new Promise<void>((resolve) => { this.#drainedWaiters.push(resolve); });
    this.#schedule();
    await drained;
  }

  #schedule(): void {
    if (this.#sending) return;
    if (this.#queue.length >= this.#settings.batchSize || this.#flushNow || this.#closed) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      void this.#pump();
      return;
    }
    if (this.#queue.length > 0 && this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#flushNow = true;
        this.#schedule();
      }, this.#settings.flushIntervalMs);
    }
  }

  async #pump(): Promise<void> {
    this.#sending = true;
    const { batchSize } = this.#settings;
    while (this.#queue.length > 0 && (this.#queue.length >= batchSize || this.#flushNow || this.#closed)) {
      this.#flushNow = false;
      const batch = this.#queue.splice(0, this.#batchLength());
      this.#inFlight = batch.length;
      await this.#deliver(batch);
      this.#inFlight = 0;
      for (const p of batch) this.#bytes -= p.line.length;
    }
    this.#sending = false;
    if (this.#queue.length === 0) {
      for (const resolve of this.#drainedWaiters.splice(0)) resolve();
    } else {
      this.#schedule();
    }
  }

  /** How many queued records the next POST takes: up to batchSize, and up to maxBatchBytes (at least one). */
  #batchLength(): number {
    const { batchSize, maxBatchBytes } = this.#settings;
    let bytes = 0;
    let count = 0;
    for (const p of this.#queue) {
      if (count >= batchSize || (count > 0 && bytes + p.line.length > maxBatchBytes)) break;
      bytes += p.line.length;
      count += 1;
    }
    return count;
  }

  async #deliver(batch: readonly Pending[]): Promise<void> {
    const body = Buffer.from(`[${batch.map((p) => p.line).join(',')}]`);
    const { maxAttempts, url } = this.#settings;
    for (let attempt = 1; ; attempt += 1) {
      const outcome = await this.#post(body);
      if (outcome.kind === 'accepted') {
        for (const p of batch) p.resolve();
        return;
      }
      if (outcome.kind === 'final') {
        const error = new AuditSinkError('delivery_rejected', this.name,
          `the audit webhook ${url.origin} rejected a batch of ${batch.length} record(s) with HTTP ${outcome.status}; `
          + 'this is not retried: check the receiver and the gateway\'s audit.webhook settings', { status: outcome.status });
        for (const p of batch) p.reject(error);
        return;
      }
      if (attempt >= maxAttempts) {
        const error = new AuditSinkError('retries_exhausted', this.name,
          `the audit webhook ${url.origin} did not accept a batch of ${batch.length} record(s) in ${attempt} attempt(s) (last: ${outcome.detail})`,
          outcome.status === undefined ? {} : { status: outcome.status });
        for (const p of batch) p.reject(error);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, this.#backoff(attempt)));
    }
  }

  /** Delay before attempt `attempt + 1`: exponential, capped, equal jitter. */
  #backoff(attempt: number): number {
    const { initialDelayMs, maxDelayMs, random } = this.#settings;
    const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
    return ceiling / 2 + random() * (ceiling / 2);
  }

  #post(body: Buffer): Promise<PostOutcome> {
    const { url, agent, ca, timeoutMs } = this.#settings;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const req = send(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.length, 'user-agent': 'airlock-gateway-audit' },
        timeout: timeoutMs,
        ...(agent === undefined ? {} : { agent }),
        ...(ca === undefined ? {} : { ca }),
      }, (res) => {
        const status = res.statusCode ?? 0;
        res.on('error', (error) => { resolve({ kind: 'retry', detail: error.message, status }); });
        res.on('end', () => { resolve(classify(status)); });
        res.resume();
      });
      req.on('timeout', () => { req.destroy(new Error(`no answer within ${timeoutMs} ms`)); });
      req.on('error', (error) => { resolve({ kind: 'retry', detail: error.message }); });
      req.end(body);
    });
  }
}

function classify(status: number): PostOutcome {
  if (status >= 200 && status < 300) return { kind: 'accepted' };
  if (status === 429 || status >= 500) return { kind: 'retry', detail: `HTTP ${status}`, status };
  return { kind: 'final', status };
}
