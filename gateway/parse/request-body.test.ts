// Reading a request body before forwarding, over real HTTP on loopback: whole bodies, bodies over
// the limit (what was read is kept, the rest still flows), and what the audit record keeps.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { connect } from 'node:net';
import { kubernetesBody, ProtoWriter } from '../audit/protobuf/test-support/proto-writer.ts';
import { bodyForAudit, declaredBodyLength, hasRequestBody, readRequestBody, RequestBodyAbortedError, type ReadBody } from './request-body.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => { if (server === undefined) resolve(); else server.close(() => { resolve(); }); });
  server = undefined;
});

/** Sends `body` to a server that reads it with `limit`, then reads whatever is left. */
async function roundTrip(body: Buffer, limit: number): Promise<{ read: ReadBody; rest: Buffer }> {
  const seen = new Promise<{ read: ReadBody; rest: Buffer }>((resolve, reject) => {
    server = createServer((req: IncomingMessage, res) => {
      readRequestBody(req, limit).then(async (read) => {
        const rest: Buffer[] = [];
        for await (const chunk of req) rest.push(chunk as Buffer);
        res.end('ok');
        resolve({ read, rest: Buffer.concat(rest) });
      }, reject);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const port = (server?.address() as AddressInfo).port;
  await new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => { res.resume(); res.on('end', resolve); });
    req.on('error', reject);
    // Several writes, so the body arrives in several chunks.
    for (let i = 0; i < body.length; i += 1000) req.write(body.subarray(i, i + 1000));
    req.end();
  });
  return seen;
}

describe('readRequestBody', () => {
  it('reads a body under the limit whole', async () => {
    const body = Buffer.from(JSON.stringify({ kind: 'ConfigMap', data: { k: 'v'.repeat(5000) } }));
    const { read, rest } = await roundTrip(body, 1024 * 1024);
    expect(read).toEqual({ complete: true, body });
    expect(rest.length).toBe(0);
  });

  it('stops past the limit, keeping what it read; the rest is still in the request, nothing lost', async () => {
    const body = Buffer.alloc(50_000, 'a');
    const { read, rest } = await roundTrip(body, 10_000);
    expect(read.complete).toBe(false);
    if (read.complete) return;
    expect(read.head.length).toBeGreaterThan(10_000);
    expect(Buffer.concat([read.head, rest]).equals(body)).toBe(true);
  });
});

describe('readRequestBody when the connection closes mid-body', () => {
  it('rejects with a RequestBodyAbortedError (a typed cause, not an unexpected error)', async () => {
    const outcome = new Promise<unknown>((resolve) => {
      server = createServer((req: IncomingMessage) => { readRequestBody(req).then(resolve, resolve); });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const client = connect((server?.address() as AddressInfo).port, '127.0.0.1');
    client.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"half":');
    setTimeout(() => { client.destroy(); }, 50);
    expect(await outcome).toBeInstanceOf(RequestBodyAbortedError);
  });
});

describe('declaredBodyLength', () => {
  it.each([
    { headers: { 'content-length': '42' }, expected: 42 },
    { headers: { 'transfer-encoding': 'chunked' }, expected: undefined },
    { headers: {}, expected: 0 },
  ])('$headers: $expected', ({ headers, expected }) => {
    expect(declaredBodyLength({ headers })).toBe(expected);
  });
});

describe('hasRequestBody', () => {
  it.each([
    { method: 'POST', headers: {}, expected: true },
    { method: 'PATCH', headers: { 'content-length': '12' }, expected: true },
    { method: 'PUT', headers: { 'content-length': '0' }, expected: false },
    { method: 'GET', headers: {}, expected: false },
    // DeleteOptions (dryRun, preconditions, propagationPolicy) change what a delete does: an
    // approval must cover them, so the body is read.
    { method: 'DELETE', headers: { 'content-length': '40' }, expected: true },
    { method: 'DELETE', headers: { 'transfer-encoding': 'chunked' }, expected: true },
    { method: 'DELETE', headers: { 'content-length': '0' }, expected: false },
    { method: 'GET', headers: { 'content-length': '40' }, expected: false },
  ])('$method with $headers: $expected', ({ method, headers, expected }) => {
    expect(hasRequestBody({ method, headers })).toBe(expected);
  });
});

// The bytes `kubectl create configmap probe-x --from-literal=a=b` sent (kubectl -v=10, v1.36.3).
const KUBECTL_CONFIGMAP = Buffer.from(
  '6b3873000a0f0a0276311209436f6e6669674d617012210a170a0770726f62652d781200' +
  '1a0022002a00320038004200120' + '60a01611201621a002200', 'hex');
// The same envelope naming a kind the schema does not know.
const WIDGET = Buffer.concat([Buffer.from('6b3873000a180a0e', 'hex'), Buffer.from('example.com/v1'), Buffer.from('1206', 'hex'), Buffer.from('Widget'), Buffer.from('1200', 'hex')]);

describe('bodyForAudit', () => {
  const whole = (text: string): ReadBody => ({ complete: true, body: Buffer.from(text) });
  it.each([
    { name: 'JSON', read: whole('{"a":1}'), type: 'application/json', expected: { a: 1 } },
    { name: 'a merge patch', read: whole('{"spec":{"replicas":0}}'), type: 'application/merge-patch+json', expected: { spec: { replicas: 0 } } },
    { name: 'a server-side apply (YAML)', read: whole('kind: ConfigMap\ndata:\n  k: v\n'), type: 'application/apply-patch+yaml', expected: { kind: 'ConfigMap', data: { k: 'v' } } },
    { name: 'an empty body', read: whole(''), type: 'application/json', expected: undefined },
    { name: 'invalid JSON', read: whole('{nope'), type: 'application/json; charset=utf-8', expected: { omitted: 'the body is not valid application/json' } },
    { name: 'protobuf (kubectl create configmap probe-x --from-literal=a=b, as kubectl sent it)', read: { complete: true, body: KUBECTL_CONFIGMAP } as ReadBody, type: 'application/vnd.kubernetes.protobuf', expected: {
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'probe-x' }, data: { a: 'b' },
    } },
    { name: 'protobuf it cannot decode (kept as its size and digest, with the reason)', read: whole('k8s\0...'), type: 'application/vnd.kubernetes.protobuf', expected: {
      omitted: 'the protobuf body is not decoded: illegal wire type 6', bytes: 7, sha256: createHash('sha256').update('k8s\0...').digest('hex'),
    } },
    { name: 'a custom resource as protobuf', read: { complete: true, body: WIDGET } as ReadBody, type: 'application/vnd.kubernetes.protobuf', expected: {
      omitted: 'the protobuf body is not decoded: the decoder has no schema for "example.com/v1" kind "Widget" (built-in types only: not custom resources or aggregated APIs)',
      bytes: WIDGET.length, sha256: createHash('sha256').update(WIDGET).digest('hex'),
    } },
    { name: 'CBOR', read: whole('\xd9\xd9\xf7\xa0'), type: 'application/cbor', expected: {
      omitted: 'content type application/cbor is not recorded', bytes: 8, sha256: createHash('sha256').update('\xd9\xd9\xf7\xa0').digest('hex'),
    } },
    { name: 'an incomplete body', read: { complete: false, head: Buffer.from('{"a":'), bytesRead: 5 } as ReadBody, type: 'application/json', expected: { omitted: 'the body is larger than the limit the gateway keeps in memory', bytesRead: 5 } },
  ])('keeps $name as $expected', ({ read, type, expected }) => {
    expect(bodyForAudit(read, type, parseYaml)).toEqual(expected);
  });

  // The record is hashed as canonical JSON, which has no form for Infinity, and walked recursively:
  // such a body used to fail the audit write, so the request was refused with no record at all.
  const digest = (body: Buffer, omitted: RegExp): unknown => ({ omitted: expect.stringMatching(omitted) as unknown, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
  const deep = Buffer.from(`{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`);
  const rawExtension = kubernetesBody('apps/v1', 'ControllerRevision', new ProtoWriter().bytes(2, new ProtoWriter().bytes(1, '{"n":1e400}')));
  it.each([
    { name: 'a JSON number beyond any float', body: Buffer.from('{"data":{"n":1e400}}'), type: 'application/json', omitted: /^the body holds a number JSON cannot carry/ },
    { name: 'a YAML .inf', body: Buffer.from('data:\n  n: .inf\n'), type: 'application/apply-patch+yaml', omitted: /^the body holds a number JSON cannot carry/ },
    { name: 'a YAML .nan', body: Buffer.from('n: .nan\n'), type: 'application/apply-patch+yaml', omitted: /^the body holds a number JSON cannot carry/ },
    { name: 'a protobuf RawExtension holding 1e400', body: rawExtension, type: 'application/vnd.kubernetes.protobuf', omitted: /^the body holds a number JSON cannot carry/ },
    { name: 'JSON nested 5000 deep', body: deep, type: 'application/json', omitted: /^the body nests deeper than \d+ levels/ },
  ])('keeps $name as its digest', ({ body, type, omitted }) => {
    expect(bodyForAudit({ complete: true, body }, type, parseYaml)).toEqual(digest(body, omitted));
  });
});
