// What a ResponseComplete record at level RequestResponse keeps of the response body: it is fed
// the bytes exactly as they go to the caller (the masker's output when masking applies, never the
// API server's raw bytes: forward/body-relay.ts taps after the rewrite), keeps at most
// `limitBytes` of them and otherwise only counts and hashes, so a huge list or an endless watch
// costs the gateway the cap and no more.
//
// - A JSON body within the cap is recorded as the parsed value; over it, as the text of its first
//   `limitBytes` bytes, with where it was cut. A Kubernetes protobuf body within the cap is decoded
//   into the JSON the API server writes (audit/protobuf/); anything else (over the cap, another
//   type, compressed, a value no record can hold) as its size and SHA-256 with the reason.
// - A JSON watch is recorded event by event (one per line, as the API server writes them) until
//   the next event would pass the cap; every event after that is only counted, by type.
import { createHash, type Hash } from 'node:crypto';
import type { AuditResponseBody } from '../../core/audit/record.ts';
import { unrecordableReason } from './recordable-value.ts';

const KUBERNETES_PROTOBUF = 'application/vnd.kubernetes.protobuf';
const NEWLINE = 0x0a;
/** Enough of an event's line to read its type (`{"type":"MODIFIED",…`). */
const TYPE_PREFIX_BYTES = 64;
const EVENT_TYPE = /^\s*\{\s*"type"\s*:\s*"([A-Za-z]{1,32})"/;
/** Distinct event types counted by name (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR and a few more). */
const MAX_TYPES = 8;

const isWhitespace = (byte: number): boolean => byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0a;

export interface ResponseCaptureOptions {
  readonly limitBytes: number;
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  readonly watch: boolean;
  /** Decodes a Kubernetes protobuf body into JSON, or throws (request-body.ts's decoder). */
  readonly decodeProtobuf: (body: Buffer) => unknown;
}

export interface CapturedResponse {
  readonly responseObject?: unknown;
  readonly responseBody: AuditResponseBody;
}

/** Receives the delivered body piece by piece; `result` says what the record keeps. */
export interface ResponseCapture {
  write(chunk: Buffer): void;
  result(complete: boolean): CapturedResponse;
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export function createResponseCapture(options: ResponseCaptureOptions): ResponseCapture {
  const type = mediaType(options.contentType);
  const encoding = (options.contentEncoding ?? 'identity').toLowerCase();
  if (encoding !== 'identity') return new DigestOnly(options, `the body is ${encoding}-compressed and is not recorded`);
  const json = type.endsWith('json');
  if (options.watch && json) return new WatchCapture(options);
  if (options.watch) return new DigestOnly(options, `a ${type === '' ? 'watch' : `${type} watch`} is not recorded event by event (only JSON watches are)`);
  if (json || type === KUBERNETES_PROTOBUF) return new BodyCapture(options, json);
  return new DigestOnly(options, `content type ${type === '' ? '(none)' : type} is not recorded`);
}

/** The members every kind of capture shares, in the record's (sorted) member order. */
function described(options: ResponseCaptureOptions, fields: { bytes: number; complete: boolean; hash: Hash }, rest: Partial<AuditResponseBody>): AuditResponseBody {
  return {
    bytes: fields.bytes,
    complete: fields.complete,
    ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
    ...(rest.events === undefined ? {} : { events: rest.events }),
    ...(rest.head === undefined ? {} : { head: rest.head }),
    ...(rest.omitted === undefined ? {} : { omitted: rest.omitted }),
    sha256: fields.hash.digest('hex'),
    ...(rest.truncated === undefined ? {} : { truncated: rest.truncated }),
  };
}

/** Bodies the record does not carry: counted and hashed as they pass. */
class DigestOnly implements ResponseCapture {
  readonly #hash = createHash('sha256');
  #bytes = 0;

  readonly options: ResponseCaptureOptions;
  readonly why: string;

  constructor(options: ResponseCaptureOptions, why: string) {
    this.options = options;
    this.why = why;
  }

  write(chunk: Buffer): void {
    this.#bytes += chunk.length;
    this.#hash.update(chunk);
  }

  result(complete: boolean): CapturedResponse {
    return { responseBody: described(this.options, { bytes: this.#bytes, complete, hash: this.#hash }, { omitted: this.why }) };
  }
}

/** One JSON or protobuf body: its first `limitBytes` kept, the rest counted and hashed. */
class BodyCapture implements ResponseCapture {
  readonly #hash = createHash('sha256');
  readonly #kept: Buffer[] = [];
  #keptBytes = 0;
  #bytes = 0;

  readonly options: ResponseCaptureOptions;
  readonly json: boolean;

  constructor(options: ResponseCaptureOptions, json: boolean) {
    this.options = options;
    this.json = json;
  }

  write(chunk: Buffer): void {
    this.#bytes += chunk.length;
    this.#hash.update(chunk);
    const room = this.options.limitBytes - this.#keptBytes;
    if (room <= 0) return;
    // A copy: the relay may reuse its buffers once written.
    const piece = Buffer.from(chunk.subarray(0, room));
    this.#kept.push(piece);
    this.#keptBytes += piece.length;
  }

  result(complete: boolean): CapturedResponse {
    const fields = { bytes: this.#bytes, complete, hash: this.#hash };
    const kept = Buffer.concat(this.#kept);
    const limitBytes = this.options.limitBytes;
    if (this.#bytes > limitBytes) {
      const truncated = { atByte: kept.length, limitBytes };
      if (!this.json) return { responseBody: described(this.options, fields, { omitted: 'a protobuf body over the cap is not decoded', truncated }) };
      return { responseBody: described(this.options, fields, { head: kept.toString('utf8'), omitted: 'the body is over the cap: its head is recorded as text', truncated }) };
    }
    if (kept.length === 0) return { responseBody: described(this.options, fields, {}) };
    const parsed = this.#parse(kept);
    if ('omitted' in parsed) return { responseBody: described(this.options, fields, { omitted: parsed.omitted }) };
    return { responseObject: parsed.value, responseBody: described(this.options, fields, {}) };
  }

  #parse(body: Buffer): { value: unknown } | { omitted: string } {
    let value: unknown;
    try {
      value = this.json ? JSON.parse(body.toString('utf8')) as unknown : this.options.decodeProtobuf(body);
    } catch (error) {
      return { omitted: this.json ? 'the body is not valid JSON' : `the protobuf body is not decoded: ${error instanceof Error ? error.message : String(error)}` };
    }
    const unrecordable = unrecordableReason(value);
    return unrecordable === undefined ? { value } : { omitted: unrecordable };
  }
}

/**
 * A JSON watch, one event per line. Lines are kept whole (raw) while they fit the cap and parsed
 * only for the record; once one does not fit, no later event is kept (the record stays a prefix of
 * the stream) and each line is held only as far as its type.
 */
class WatchCapture implements ResponseCapture {
  readonly #hash = createHash('sha256');
  readonly #events: Buffer[] = [];
  readonly #types = new Map<string, number>();
  #bytes = 0;
  #keptBytes = 0;
  #count = 0;
  /** The line being read: whole while it may still fit, else its first bytes (for its type). */
  #line: Buffer[] = [];
  #lineBytes = 0;
  #lineStart = 0;
  #full = false;
  #truncated: { atByte: number; limitBytes: number; atEvent: number } | undefined;

  readonly options: ResponseCaptureOptions;

  constructor(options: ResponseCaptureOptions) {
    this.options = options;
  }

  write(chunk: Buffer): void {
    this.#hash.update(chunk);
    let from = 0;
    for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, from)) {
      this.#append(chunk.subarray(from, at));
      this.#bytes += at + 1 - from;
      this.#endLine();
      from = at + 1;
    }
    this.#append(chunk.subarray(from));
    this.#bytes += chunk.length - from;
  }

  #append(piece: Buffer): void {
    if (piece.length === 0) return;
    if (!this.#full && this.#keptBytes + this.#lineBytes + piece.length > this.options.limitBytes) this.#cut();
    if (!this.#full) {
      // A copy: the relay may reuse its buffers once written.
      this.#line.push(Buffer.from(piece));
      this.#lineBytes += piece.length;
      return;
    }
    const keep = Math.min(piece.length, TYPE_PREFIX_BYTES - this.#lineBytes);
    if (keep <= 0) return;
    this.#line.push(Buffer.from(piece.subarray(0, keep)));
    this.#lineBytes += keep;
  }

  /** The event being read does not fit: it and every later one are counted, not kept. */
  #cut(): void {
    this.#full = true;
    this.#truncated = { atByte: this.#lineStart, atEvent: this.#count, limitBytes: this.options.limitBytes };
    const head = Buffer.concat(this.#line).subarray(0, TYPE_PREFIX_BYTES);
    this.#line = head.length === 0 ? [] : [head];
    this.#lineBytes = head.length;
  }

  #endLine(): void {
    const line = Buffer.concat(this.#line);
    this.#line = [];
    this.#lineBytes = 0;
    this.#lineStart = this.#bytes;
    if (line.every(isWhitespace)) return;
    this.#count += 1;
    const found = EVENT_TYPE.exec(line.subarray(0, TYPE_PREFIX_BYTES).toString('latin1'))?.[1];
    // The API server's types are a handful; a stream that makes up others is counted as "other".
    const type = found === undefined ? 'unknown' : this.#types.has(found) || this.#types.size < MAX_TYPES ? found : 'other';
    this.#types.set(type, (this.#types.get(type) ?? 0) + 1);
    if (this.#full) return;
    this.#events.push(line);
    this.#keptBytes += line.length;
  }

  result(complete: boolean): CapturedResponse {
    // A last line without its newline (the stream was cut) still counts if it was kept whole.
    if (this.#line.length > 0 && !this.#full) this.#endLine();
    const events = this.#events.map(parseEvent);
    const types: Record<string, number> = {};
    for (const key of [...this.#types.keys()].sort()) types[key] = this.#types.get(key) ?? 0;
    const summary = { count: this.#count, recorded: events.length, types };
    const responseBody = described(this.options, { bytes: this.#bytes, complete, hash: this.#hash }, {
      events: summary, ...(this.#truncated === undefined ? {} : { truncated: this.#truncated }),
    });
    return { responseObject: events, responseBody };
  }
}

function parseEvent(line: Buffer): unknown {
  try {
    const value = JSON.parse(line.toString('utf8')) as unknown;
    const unrecordable = unrecordableReason(value);
    return unrecordable === undefined ? value : { omitted: unrecordable, bytes: line.length };
  } catch {
    return { omitted: 'the event is not valid JSON', bytes: line.length };
  }
}
