// Reads a request body into memory up to a limit, for the stages that must see it before it is
// forwarded (the audit level Request, approvals' body digest). A body over the limit is not
// refused: what was read is kept as `head` and the rest still flows from the request, so the
// forwarder sends the head and then pipes the remainder (the API server applies its own limit).
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createProtobufBodyDecoder, ProtobufBodyError, type ProtobufBodyDecoder } from '../audit/protobuf/decode-body.ts';
import { unrecordableReason } from '../audit/recordable-value.ts';

const KUBERNETES_PROTOBUF = 'application/vnd.kubernetes.protobuf';

/** The API server's own limit for most request bodies (3 MiB); nothing larger is kept whole. */
export const DEFAULT_BODY_LIMIT_BYTES = 3 * 1024 * 1024;

export type ReadBody =
  | { readonly complete: true; readonly body: Buffer }
  | { readonly complete: false; readonly head: Buffer; readonly bytesRead: number };

/** The client closed the connection (or a body deadline cut it) before its body was read. */
export class RequestBodyAbortedError extends Error {
  readonly code = 'body_aborted';

  constructor() {
    super('the connection closed before the request body was read');
    this.name = 'RequestBodyAbortedError';
  }
}


// DELETE bodies are DeleteOptions (dryRun, preconditions, propagationPolicy): they change what the
// API server does, so an approval covers them; GET bodies are ignored by the API server.
const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Whether a request of this method carries a body worth reading (GET bodies are ignored). */
export function hasRequestBody(req: Pick<IncomingMessage, 'method' | 'headers'>): boolean {
  if (!METHODS_WITH_BODY.has(req.method ?? '')) return false;
  const length = req.headers['content-length'];
  return length !== '0';
}

/**
 * The body's size as the request declares it (RFC 9112 §6.3): its Content-Length, undefined for a
 * chunked body (known only once read), 0 when it declares neither. Node's parser refuses a request
 * with both, or with a malformed length, before the gateway sees it, and never passes on more than
 * the declared length as this request's body.
 */
export function declaredBodyLength(req: Pick<IncomingMessage, 'headers'>): number | undefined {
  if (req.headers['transfer-encoding'] !== undefined) return undefined;
  const length = req.headers['content-length'];
  return length === undefined ? 0 : Number(length);
}

/**
 * Reads until the body ends or passes `limit` bytes. On passing it, the request is paused with the
 * rest unread. Rejects if the client aborts or the stream fails.
 */
export function readRequestBody(req: IncomingMessage, limit = DEFAULT_BODY_LIMIT_BYTES): Promise<ReadBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) {
        req.pause();
        cleanup();
        resolve({ complete: false, head: Buffer.concat(chunks), bytesRead: size });
      }
    };
    const onEnd = (): void => { cleanup(); resolve({ complete: true, body: Buffer.concat(chunks) }); };
    const onError = (error: Error): void => { cleanup(); reject(error); };
    const onAborted = (): void => { cleanup(); reject(new RequestBodyAbortedError()); };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('aborted', onAborted);
  });
}

/** The media type of a Content-Type header, lower-cased. */
function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function digest(body: Buffer, omitted: string): { omitted: string; bytes: number; sha256: string } {
  return { omitted, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') };
}

let defaultProtobufDecoder: ProtobufBodyDecoder | undefined;

/** Decodes with the checked-in schema, created on the first protobuf body (audit levels Request and RequestResponse only). */
export function decodeProtobuf(body: Buffer): unknown {
  defaultProtobufDecoder ??= createProtobufBodyDecoder();
  return defaultProtobufDecoder(body);
}

/**
 * The body as the audit record keeps it: JSON (or YAML, for server-side apply) parsed into a
 * value, Kubernetes protobuf (kubectl's creates) decoded into the JSON the API server would write
 * for the same object; anything else, or an incomplete body, as a note saying why it is not there.
 * A protobuf body the decoder cannot read exactly (a custom resource's kind, malformed bytes), a
 * value no record can hold (recordable-value.ts) and any other content type (CBOR) are kept as
 * their size and SHA-256, which still tie the record to the exact bytes forwarded.
 */
export function bodyForAudit(read: ReadBody, contentType: string | undefined, parseYaml: (text: string) => unknown, decode: ProtobufBodyDecoder = decodeProtobuf): unknown {
  if (!read.complete) return { omitted: 'the body is larger than the limit the gateway keeps in memory', bytesRead: read.bytesRead };
  if (read.body.length === 0) return undefined;
  const parsed = parsedBody(read.body, mediaType(contentType), parseYaml, decode);
  if (parsed.omitted !== undefined) return parsed.omitted;
  const unrecordable = unrecordableReason(parsed.value);
  return unrecordable === undefined ? parsed.value : digest(read.body, unrecordable);
}

function parsedBody(body: Buffer, type: string, parseYaml: (text: string) => unknown, decode: ProtobufBodyDecoder): { value?: unknown; omitted?: unknown } {
  if (type === KUBERNETES_PROTOBUF) {
    try {
      return { value: decode(body) };
    } catch (error) {
      if (error instanceof ProtobufBodyError) return { omitted: digest(body, `the protobuf body is not decoded: ${error.reason}`) };
      throw error;
    }
  }
  const text = body.toString('utf8');
  try {
    if (type.endsWith('json')) return { value: JSON.parse(text) as unknown };
    if (type.endsWith('yaml')) return { value: parseYaml(text) };
  } catch {
    return { omitted: { omitted: `the body is not valid ${type}` } };
  }
  return { omitted: digest(body, `content type ${type === '' ? '(none)' : type} is not recorded`) };
}
