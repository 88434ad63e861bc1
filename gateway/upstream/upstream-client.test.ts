// The gateway's own calls to the API server (TokenReview, SubjectAccessReview) through the shared
// upstream client, against a real HTTPS server on loopback.
import { createServer, type Server } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate, type TestCertificate } from '../authenticate/test-support.ts';
import { createTokenReviewAuthenticator, type TokenReviewRequest, type TokenReviewResponse } from '../authenticate/token-review.ts';
import { AuthenticationError } from '../../core/identity.ts';
import { createUpstream, UpstreamError } from './upstream-client.ts';
import type { TokenSource } from './token-source.ts';

const SA_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.sa-token-payload.sa-token-signature';
const REVIEWS = '/apis/authentication.k8s.io/v1/tokenreviews';

function tokens(read: () => string): TokenSource {
  return { current: read, loadedAt: Date.now(), close: () => undefined };
}

describe('upstream client: postJson (the gateway\'s own calls)', () => {
  let certificate: TestCertificate;
  let server: Server;
  let url: string;
  const seen: { method?: string; url?: string; headers?: IncomingHttpHeaders; body?: unknown }[] = [];
  const ok = (body: unknown): [number, unknown] => [201, { ...(body as object), status: { authenticated: true, user: { username: 'alice' } } }];
  let respond: (body: unknown) => [number, unknown] = ok;

  beforeAll(async () => {
    certificate = selfSignedCertificate();
    server = createServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const body: unknown = text === '' ? undefined : JSON.parse(text);
        seen.push({ ...(req.method === undefined ? {} : { method: req.method }), ...(req.url === undefined ? {} : { url: req.url }), headers: req.headers, body });
        const [code, answer] = respond(body);
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(typeof answer === 'string' ? answer : JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    certificate.remove();
  });

  const review: TokenReviewRequest = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: SA_TOKEN, audiences: ['airlock'] } };

  it('POSTs with the gateway\'s own credential, read per call', async () => {
    let credential = 'gateway-token-1';
    const upstream = createUpstream({ server: url, caFile: certificate.certFile, tokens: tokens(() => credential) });
    await expect(upstream.postJson<TokenReviewResponse>(REVIEWS, review)).resolves.toMatchObject({ status: { authenticated: true, user: { username: 'alice' } } });
    credential = 'gateway-token-2';
    await upstream.postJson(REVIEWS, review);
    expect(seen.slice(-2).map((s) => [s.method, s.url, s.headers?.authorization, s.headers?.['content-type']])).toEqual([
      ['POST', REVIEWS, 'Bearer gateway-token-1', 'application/json'],
      ['POST', REVIEWS, 'Bearer gateway-token-2', 'application/json'],
    ]);
    expect(seen.at(-1)?.body).toEqual(review);
  });

  it('GETs a discovery document with the Accept asked for, no body, and the gateway\'s credential', async () => {
    respond = () => [200, { kind: 'APIGroupDiscoveryList', items: [] }];
    try {
      const upstream = createUpstream({ server: url, caFile: certificate.certFile, tokens: tokens(() => 'gateway-token') });
      await expect(upstream.getJson('/apis', 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList')).resolves.toEqual({ kind: 'APIGroupDiscoveryList', items: [] });
      const last = seen.at(-1);
      expect([last?.method, last?.url, last?.headers?.authorization, last?.headers?.accept, last?.headers?.['content-type'], last?.body])
        .toEqual(['GET', '/apis', 'Bearer gateway-token', 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList', undefined, undefined]);
      respond = () => [403, { kind: 'Status', reason: 'Forbidden' }];
      await expect(upstream.getJson('/apis/apiregistration.k8s.io/v1/apiservices', 'application/json')).rejects.toThrow('GET /apis/apiregistration.k8s.io/v1/apiservices answered 403 (Forbidden)');
    } finally {
      respond = ok;
    }
  });

  it('keeps a path prefix of the server URL', async () => {
    const upstream = createUpstream({ server: `${url}/k8s/clusters/c-1/`, caFile: certificate.certFile, tokens: tokens(() => 't') });
    await upstream.postJson(REVIEWS, review);
    expect(seen.at(-1)?.url).toBe(`/k8s/clusters/c-1${REVIEWS}`);
  });

  it('rejects an error status with its reason, and a TokenReview failure never carries the token', async () => {
    respond = () => [403, { kind: 'Status', reason: 'Forbidden', message: 'tokenreviews is forbidden' }];
    try {
      const upstream = createUpstream({ server: url, caFile: certificate.certFile, tokens: tokens(() => 't') });
      const tr = createTokenReviewAuthenticator({ review: (r) => upstream.postJson(REVIEWS, r) });
      const error = await tr.authenticate(SA_TOKEN).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(AuthenticationError);
      expect((error as AuthenticationError).code).toBe('review_failed');
      expect((error as AuthenticationError).reason).toBe(`TokenReview failed: POST ${REVIEWS} answered 403 (Forbidden)`);
      expect(JSON.stringify(error)).not.toContain(SA_TOKEN);
    } finally {
      respond = ok;
    }
  });

  it('refuses an answer over 1 MiB instead of buffering it', async () => {
    respond = () => [201, `{"pad":"${'x'.repeat(1024 * 1024 + 10)}"}`];
    try {
      const upstream = createUpstream({ server: url, caFile: certificate.certFile, tokens: tokens(() => 't') });
      const error = await upstream.postJson(REVIEWS, review).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(UpstreamError);
      expect((error as UpstreamError).message).toMatch(/larger than 1048576 bytes/);
    } finally {
      respond = ok;
    }
  });

  it('refuses a server whose certificate the given CA did not sign', async () => {
    const other = selfSignedCertificate();
    try {
      const upstream = createUpstream({ server: url, caFile: other.certFile, tokens: tokens(() => 't') });
      await expect(upstream.postJson(REVIEWS, review)).rejects.toThrow(/self-signed|unable to verify|signature/i);
    } finally {
      other.remove();
    }
  });
});
