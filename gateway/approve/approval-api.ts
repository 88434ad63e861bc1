// The gateway's ApprovalRequest calls, with its own credential: list by fingerprint, create, read,
// consume a grant (a status update carrying the resourceVersion read, so two replicas cannot both
// consume one grant: the loser gets 409), over the shared pool; and watch one object until it
// changes state, over the uncapped pool of long-running requests, since a held request keeps its
// watch open for up to its timeout and a few hundred of them must not starve the shared pool.
import { request, type RequestOptions } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { upstreamTarget, type Upstream } from '../upstream/upstream-client.ts';
import { FINGERPRINT_LABEL, type ApprovalRequestObject } from '../../core/approval/approval-object.ts';
import { APPROVALREQUEST_PLURAL, GROUP, VERSION } from '../../crds/types.gen.ts';

export class ApprovalApiError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.name = 'ApprovalApiError';
    this.status = status;
  }
}

const collection = (namespace: string): string => `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${APPROVALREQUEST_PLURAL}`;

function send(upstream: Upstream, call: { method: string; path: string; body?: unknown; longRunning?: boolean }): Promise<IncomingMessage> {
  const payload = call.body === undefined ? undefined : Buffer.from(JSON.stringify(call.body));
  const options: RequestOptions = {
    ...upstreamTarget(upstream, call.path),
    method: call.method,
    agent: call.longRunning === true ? upstream.streamAgent : upstream.agent,
    headers: {
      authorization: `Bearer ${upstream.tokens.current()}`,
      accept: 'application/json',
      ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': payload.length }),
    },
  };
  return new Promise((resolve, reject) => {
    const req = request(options, resolve);
    req.on('error', reject);
    req.end(payload);
  });
}

async function json<T>(upstream: Upstream, call: { method: string; path: string; body?: unknown }): Promise<T> {
  const res = await send(upstream, call);
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const status = res.statusCode ?? 0;
  if (status < 200 || status >= 300) {
    const message = (() => { try { return (JSON.parse(text) as { message?: string }).message ?? text; } catch { return text; } })();
    throw new ApprovalApiError(`${call.method} ${call.path}: ${status} ${message}`, status);
  }
  return JSON.parse(text) as T;
}

export interface ApprovalApi {
  findByFingerprint(namespace: string, label: string): Promise<ApprovalRequestObject[]>;
  create(object: Record<string, unknown>): Promise<ApprovalRequestObject>;
  get(namespace: string, name: string): Promise<ApprovalRequestObject>;
  /** Marks the grant used; rejects with ApprovalApiError 409 when another writer got there first. */
  consume(ar: ApprovalRequestObject, auditID: string, now: Date): Promise<ApprovalRequestObject>;
  /** Resolves with the object each time it changes, until `until` returns true or `signal` aborts. */
  watch(ar: ApprovalRequestObject, until: (ar: ApprovalRequestObject) => boolean, signal: AbortSignal): Promise<ApprovalRequestObject>;
}

export function createApprovalApi(upstream: Upstream): ApprovalApi {
  return {
    async findByFingerprint(namespace, label) {
      const list = await json<{ items: ApprovalRequestObject[] }>(upstream, {
        method: 'GET', path: `${collection(namespace)}?labelSelector=${encodeURIComponent(`${FINGERPRINT_LABEL}=${label}`)}`,
      });
      return list.items;
    },
    create: (object) => json(upstream, { method: 'POST', path: collection((object['metadata'] as { namespace: string }).namespace), body: object }),
    get: (namespace, name) => json(upstream, { method: 'GET', path: `${collection(namespace)}/${encodeURIComponent(name)}` }),
    consume(ar, auditID, now) {
      const { namespace = '', name = '' } = ar.metadata;
      const at = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
      // The stored decisions are sent back unchanged (the admission policy checks that).
      const body = { ...ar, status: { ...ar.status, phase: 'Consumed', consumedBy: { auditID, at } } };
      return json(upstream, { method: 'PUT', path: `${collection(namespace)}/${encodeURIComponent(name)}/status`, body });
    },
    watch: (ar, until, signal) => watchOne(upstream, { ar, until, signal }),
  };
}

/** One watch on one object (fieldSelector by name); re-established if the API server ends it. */
async function watchOne(upstream: Upstream, args: { ar: ApprovalRequestObject; until: (ar: ApprovalRequestObject) => boolean; signal: AbortSignal }): Promise<ApprovalRequestObject> {
  let current = args.ar;
  const { namespace = '', name = '' } = current.metadata;
  while (!args.signal.aborted) {
    if (args.until(current)) return current;
    const path = `${collection(namespace)}?watch=1&fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}&resourceVersion=${current.metadata.resourceVersion ?? ''}&timeoutSeconds=60&allowWatchBookmarks=false`;
    const res = await send(upstream, { method: 'GET', path, longRunning: true });
    if ((res.statusCode ?? 0) !== 200) {
      res.resume();
      // 410 Gone (the resourceVersion is too old) and other errors: read the object again.
      current = await json<ApprovalRequestObject>(upstream, { method: 'GET', path: `${collection(namespace)}/${encodeURIComponent(name)}` });
      continue;
    }
    const onAbort = (): void => { res.destroy(); };
    args.signal.addEventListener('abort', onAbort, { once: true });
    try {
      current = await nextMatching(res, current, args.until);
    } finally {
      args.signal.removeEventListener('abort', onAbort);
      res.destroy();
    }
  }
  return current;
}

/** Reads watch events until one satisfies `until` or the stream ends; returns the newest object. */
async function nextMatching(res: IncomingMessage, start: ApprovalRequestObject, until: (ar: ApprovalRequestObject) => boolean): Promise<ApprovalRequestObject> {
  let current = start;
  let buffered = '';
  try {
    for await (const chunk of res) {
      buffered += (chunk as Buffer).toString('utf8');
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const event = JSON.parse(buffered.slice(0, newline)) as { type: string; object: ApprovalRequestObject };
        buffered = buffered.slice(newline + 1);
        if (event.type === 'ADDED' || event.type === 'MODIFIED') current = event.object;
        if (until(current)) return current;
        newline = buffered.indexOf('\n');
      }
    }
  } catch {
    // Aborted or cut: the caller decides whether to watch again.
  }
  return current;
}
