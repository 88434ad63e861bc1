// The pipeline with fake stages and a real TLS upstream on loopback: whatever a stage throws, at
// whatever point, becomes a Status answer and nothing reaches the upstream that should not; the
// server keeps serving afterwards. Upgrades are taken only where the API server upgrades.
import { createServer as createHttpsServer, type Server } from 'node:https';
import { createServer as createHttpServer, get as httpGet, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensurePki, issueServingCertificate } from '../hack/controlplane/pki.ts';
import { createUpstream, type Upstream } from './upstream/upstream-client.ts';
import { fileTokenSource } from './upstream/token-source.ts';
import { createPipeline, type AuditEvent, type PipelineStages } from './handler.ts';
import { answerFor } from './stages.ts';
import { resolveRequestInfo } from './parse/request-info.ts';
import { AuditWriteError } from '../core/audit/errors.ts';
import type { AuthenticatedCaller } from '../core/identity.ts';
import { MASKED_TEXT } from './mask/mask-plan.ts';
import { writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createResponseCapture } from './audit/response-capture.ts';

let upstreamServer: Server;
let upstream: Upstream;
let front: HttpServer;
let port = 0;
const upstreamSeen: string[] = [];
let upstreamHeaders: IncomingMessage['headers'] = {};
let unexpected: unknown[] = [];
let audited: AuditEvent[] = [];
let stages: PipelineStages;

const caller: AuthenticatedCaller = { user: { username: 'ci', groups: ['system:authenticated'], extra: {} }, method: 'oidc' };
const quiet = pino({ level: 'silent' });

function parse(req: IncomingMessage): ReturnType<PipelineStages['parse']> {
  const info = resolveRequestInfo(req.method ?? '', req.url ?? '');
  if (info instanceof Error) throw info;
  return {
    longRunning: info.isLongRunning,
    attributes: {
      resourceRequest: info.isResourceRequest, verb: info.policyVerb, apiGroup: info.apiGroup, resource: info.resource,
      subresource: info.subresource, namespace: info.namespace, name: info.name, path: info.path,
    },
  };
}

/** Stages that allow everything and mask nothing; a test replaces the one it is about. */
function allowingStages(): PipelineStages {
  return {
    parse,
    authenticate: () => Promise.resolve(caller),
    admitCaller: () => ({ ok: true, release: () => undefined }),
    resolveIdentity: (c) => Promise.resolve(c.user),
    decide: () => ({ action: 'Allow', reason: 'test' }),
    readBody: () => Promise.resolve(undefined),
    checkBody: () => undefined,
    responseCapture: () => undefined,
    maskRules: () => [],
    approve: () => Promise.reject(new Error('not held in these tests')),
    audit: (event) => { audited.push(event); return Promise.resolve(); },
    upstreamHeaders: () => ({ accept: 'application/json' }),
    startCapture: (request) => Promise.resolve({ ok: true, headers: request.headers, capture: undefined }),
    answerFor: (refusal) => answerFor(refusal, quiet),
  };
}

interface Answer { readonly status: number; readonly body: string }

function get(path: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const head = [`${method} ${path} HTTP/1.1`, 'Host: gateway', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    if (body !== undefined) head.push(`Content-Length: ${Buffer.byteLength(body)}`);
    socket.write(`${head.join('\r\n')}\r\n\r\n${body ?? ''}`);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-handler-'));
  const pki = await ensurePki({ dir, servingIps: [] });
  const cert = await issueServingCertificate(pki, 'upstream', { ips: ['127.0.0.1'] });
  upstreamServer = createHttpsServer({ cert: await readFile(cert.cert), key: await readFile(cert.key) }, (req, res) => {
    upstreamSeen.push(`${req.method ?? ''} ${req.url ?? ''}`);
    upstreamHeaders = req.headers;
    const body = JSON.stringify({ kind: 'Status', message: 'from upstream', data: { password: 'hunter2' } });
    res.writeHead(req.url?.includes('refuse') === true ? 403 : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((r) => upstreamServer.listen(0, '127.0.0.1', r));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'gateway-token');
  upstream = createUpstream({ server: `https://127.0.0.1:${(upstreamServer.address() as AddressInfo).port}`, caFile: pki.caCert, tokens: fileTokenSource(tokenFile) });
  front = createHttpServer();
  front.on('request', (req, res) => { void createPipeline(stages, upstream, { finished: () => undefined, unexpected: (e) => unexpected.push(e) }).handleRequest(req, res); });
  front.on('upgrade', (req, socket, head: Buffer) => { void createPipeline(stages, upstream, { finished: () => undefined, unexpected: (e) => unexpected.push(e) }).handleUpgrade(req, socket, head); });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  port = (front.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((r) => front.close(() => { r(); }));
  await new Promise<void>((r) => upstreamServer.close(() => { r(); }));
  upstream.agent.destroy();
  upstream.streamAgent.destroy();
});

beforeEach(() => {
  stages = allowingStages();
  upstreamSeen.length = 0;
  unexpected = [];
  audited = [];
});

describe('pipeline: every failure is an answer, never a crash', () => {
  it('forwards what every stage allows (the baseline the other tests break)', async () => {
    const answer = await get('/api/v1/namespaces/a/configmaps/x');
    expect(answer.status).toBe(200);
    expect(upstreamSeen).toEqual(['GET /api/v1/namespaces/a/configmaps/x']);
    expect(audited.map((e) => e.stage)).toEqual(['RequestReceived', 'ResponseComplete']);
  });

  it('refuses with 503 when the RequestReceived record cannot be written, and the upstream never sees the request', async () => {
    stages = { ...allowingStages(), audit: (event) => (event.stage === 'RequestReceived' ? Promise.reject(new AuditWriteError('a', [{ sink: 'file', error: new Error('EIO') }])) : Promise.resolve()) };
    const answer = await get('/api/v1/namespaces/a/configmaps/x');
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', message: expect.stringContaining('FailClosed') as string });
    expect(upstreamSeen).toEqual([]);
  });

  const boom = (): never => { throw new TypeError('a defect'); };
  it.each<[string, (s: PipelineStages) => PipelineStages]>([
    ['parse', (s) => ({ ...s, parse: boom })],
    ['authenticate', (s) => ({ ...s, authenticate: () => Promise.reject(new TypeError('a defect')) })],
    ['resolveIdentity', (s) => ({ ...s, resolveIdentity: boom })],
    ['decide', (s) => ({ ...s, decide: boom })],
    ['readBody', (s) => ({ ...s, readBody: boom })],
    ['checkBody', (s) => ({ ...s, checkBody: boom })],
    ['maskRules', (s) => ({ ...s, maskRules: boom })],
    ['upstreamHeaders', (s) => ({ ...s, upstreamHeaders: boom })],
    ['approve', (s) => ({ ...s, decide: () => ({ action: 'RequireApproval', reason: 'held' }), approve: boom })],
  ])('answers 500 when %s throws, forwards nothing, and keeps serving', async (_stage, breakStage) => {
    stages = breakStage(allowingStages());
    const answer = await get('/api/v1/namespaces/a/configmaps/x');
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', reason: 'InternalError', message: 'Internal error occurred: the gateway could not process the request' });
    expect(answer.body).not.toContain('a defect');
    expect(upstreamSeen).toEqual([]);
    stages = allowingStages();
    expect((await get('/api/v1/namespaces/a/configmaps/x')).status).toBe(200);
  });

  it.each<[string, (s: PipelineStages) => PipelineStages]>([
    ['maskRules', (s) => ({ ...s, maskRules: boom })],
    ['upstreamHeaders', (s) => ({ ...s, upstreamHeaders: boom })],
    ['startCapture', (s) => ({ ...s, startCapture: boom })],
  ])('answers an upgrade with a 500 Status when %s throws', async (_stage, breakStage) => {
    stages = breakStage(allowingStages());
    const answer = await get('/api/v1/namespaces/a/pods/p/exec?command=sh', { Connection: 'Upgrade', Upgrade: 'websocket' });
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', reason: 'InternalError' });
    expect(upstreamSeen).toEqual([]);
  });

  it('still answers, and reports the defect, when even the answer stage throws', async () => {
    stages = { ...allowingStages(), decide: boom, answerFor: boom };
    const answer = await get('/api/v1/namespaces/a/configmaps/x');
    // Nothing could be said: the connection is closed without an answer, and nothing was forwarded.
    expect(answer.status).toBe(0);
    expect(upstreamSeen).toEqual([]);
    expect(unexpected).toHaveLength(1);
    expect((await get('/api/v1/namespaces/a/configmaps/x', {}, 'GET')).status).toBe(0);
    stages = allowingStages();
    expect((await get('/api/v1/namespaces/a/configmaps/x')).status).toBe(200);
  });

  it('refuses a body the body check refuses before it is held for approval, audited as received or forwarded', async () => {
    let held = 0;
    stages = {
      ...allowingStages(),
      decide: () => ({ action: 'RequireApproval', reason: 'held' }),
      readBody: () => Promise.resolve({ complete: true, body: Buffer.from('{}') }),
      checkBody: () => ({ code: 422, body: { kind: 'Status', code: 422 } }),
      approve: () => { held++; return Promise.reject(new Error('unreachable')); },
    };
    const answer = await get('/api/v1/namespaces/a/secrets/db', { 'Content-Type': 'application/json' }, 'PUT', '{}');
    expect(answer.status).toBe(422);
    expect(held).toBe(0);
    expect(upstreamSeen).toEqual([]);
    expect(audited.map((e) => e.stage)).toEqual(['ResponseComplete']);
  });
});

describe('pipeline: upgrades only where the API server upgrades', () => {
  it.each([
    ['a Secret GET', 'GET', '/api/v1/namespaces/a/secrets/db', 'websocket'],
    ['a list', 'GET', '/api/v1/namespaces/a/secrets', 'websocket'],
    ['a create', 'POST', '/api/v1/namespaces/a/configmaps', 'websocket'],
    ['a non-resource path', 'GET', '/version', 'websocket'],
    ['h2c on a get', 'GET', '/api/v1/namespaces/a/secrets/db', 'h2c'],
    ['exec over an unknown protocol', 'GET', '/api/v1/namespaces/a/pods/p/exec?command=sh', 'h2c'],
    ['a watch over SPDY', 'GET', '/api/v1/namespaces/a/configmaps?watch=1', 'SPDY/3.1'],
  ])('refuses to upgrade %s with a 400 Status, forwarding nothing', async (_name, method, path, protocol) => {
    const answer = await get(path, { Connection: 'Upgrade', Upgrade: protocol }, method);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
    expect(upstreamSeen).toEqual([]);
    expect(answer.body).not.toContain('hunter2');
  });

  it('refuses a WebSocket watch where masking applies (406), and relays one where it does not', async () => {
    stages = { ...allowingStages(), maskRules: () => [{ path: ['object', 'data', '*'], marker: MASKED_TEXT }] };
    const masked = await get('/api/v1/namespaces/a/secrets?watch=1', { Connection: 'Upgrade', Upgrade: 'websocket' });
    expect(masked.status).toBe(406);
    expect(upstreamSeen).toEqual([]);
    stages = allowingStages();
    // The stand-in upstream does not upgrade: its plain answer is relayed.
    const plain = await get('/api/v1/namespaces/a/configmaps?watch=1', { Connection: 'Upgrade', Upgrade: 'websocket' });
    expect(plain.status).toBe(200);
    expect(upstreamSeen).toEqual(['GET /api/v1/namespaces/a/configmaps?watch=1']);
  });

  it('masks an answer to an upgrade that is not a 101, like any response', async () => {
    stages = { ...allowingStages(), maskRules: () => [{ path: ['data', '*'], marker: MASKED_TEXT }] };
    const answer = await get('/api/v1/namespaces/a/pods/p/exec?command=refuse', { Connection: 'Upgrade', Upgrade: 'websocket' });
    expect(answer.status).toBe(403);
    expect(answer.body).not.toContain('hunter2');
    expect(JSON.parse(answer.body)).toMatchObject({ data: { password: MASKED_TEXT } });
  });
});

/** A GET through a real HTTP client (chunked bodies decoded): the bytes a caller receives. */
function received(path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    httpGet({ host: '127.0.0.1', port, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { resolve(Buffer.concat(chunks)); });
    }).on('error', reject);
  });
}

describe('pipeline: the response body at audit level RequestResponse', () => {
  const capturing = (): Pick<PipelineStages, 'responseCapture'> => ({
    responseCapture: () => (response) => createResponseCapture({
      limitBytes: 4096, contentType: response.headers['content-type'], contentEncoding: response.headers['content-encoding'], watch: false, decodeProtobuf: () => undefined,
    }),
  });

  it('records the masked bytes the caller received, never the upstream\'s, and asks for them uncompressed', async () => {
    stages = { ...allowingStages(), ...capturing(), maskRules: () => [{ path: ['data', '*'], marker: MASKED_TEXT }], upstreamHeaders: () => ({ accept: 'application/json', 'accept-encoding': 'gzip' }) };
    const body = await received('/api/v1/namespaces/a/configmaps/x');
    expect(body.toString()).not.toContain('hunter2');
    expect(upstreamHeaders['accept-encoding']).toBeUndefined();
    const complete = audited.find((e) => e.stage === 'ResponseComplete');
    expect(complete?.response?.responseObject).toStrictEqual(JSON.parse(body.toString()));
    expect(complete?.response?.responseObject).toMatchObject({ data: { password: MASKED_TEXT } });
    expect(complete?.response?.responseBody).toMatchObject({ bytes: body.length, complete: true, sha256: createHash('sha256').update(body).digest('hex') });
    expect(audited.find((e) => e.stage === 'RequestReceived')?.response).toBeUndefined();
  });

  it('refuses a WebSocket watch it would have to record (406): its frames are relayed unread, so the watch goes over HTTP', async () => {
    stages = { ...allowingStages(), ...capturing() };
    const refused = await get('/api/v1/namespaces/a/configmaps?watch=1', { Connection: 'Upgrade', Upgrade: 'websocket' });
    expect(refused.status).toBe(406);
    expect(JSON.parse(refused.body)).toMatchObject({ kind: 'Status', message: expect.stringContaining('RequestResponse') as string });
    expect(upstreamSeen).toEqual([]);
  });

  it('leaves the request alone and records nothing of the response below RequestResponse', async () => {
    stages = { ...allowingStages(), upstreamHeaders: () => ({ accept: 'application/json', 'accept-encoding': 'gzip' }) };
    await get('/api/v1/namespaces/a/configmaps/x');
    expect(upstreamHeaders['accept-encoding']).toBe('gzip');
    expect(audited.find((e) => e.stage === 'ResponseComplete')?.response).toBeUndefined();
  });
});
