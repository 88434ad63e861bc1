// Test fixtures for the authentication stage: a tiny issuer (discovery + JWKS over node:http on
// loopback) whose keys can be rotated and whose requests are counted, token minting with jose,
// and a throwaway TLS certificate. Used by the *.test.ts files beside it, never by the gateway.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export async function newSigningKey(kid: string, alg = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export interface TokenSpec {
  readonly claims?: JWTPayload;
  /** Overrides of the protected header (alg defaults to the key's, kid to the key's). */
  readonly header?: Record<string, unknown>;
}

export async function mint(key: SigningKey, spec: TokenSpec = {}): Promise<string> {
  return new SignJWT({ ...spec.claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...spec.header })
    .sign(key.privateKey);
}

export interface TestIssuer {
  /** `http(s)://127.0.0.1:<port>`: the issuer URL tokens must name. */
  readonly issuer: string;
  readonly requests: { discovery: number; jwks: number };
  /** The keys the JWKS endpoint publishes from now on. */
  publish(keys: readonly SigningKey[]): void;
  /** While down, every endpoint answers 503. */
  setDown(down: boolean): void;
  /** Makes discovery name another issuer (a mis-configured or hostile discovery document). */
  setDiscoveredIssuer(issuer: string): void;
  /** Delays JWKS answers, so concurrent requests overlap one fetch. */
  setJwksDelay(ms: number): void;
  close(): Promise<void>;
}

export async function startTestIssuer(keys: readonly SigningKey[], options: { tls?: { cert: string; key: string } } = {}): Promise<TestIssuer> {
  let published = keys.map((k) => k.publicJwk);
  let down = false;
  let discovered: string | undefined;
  let jwksDelayMs = 0;
  const requests = { discovery: 0, jwks: 0 };
  const send = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.url === '/.well-known/openid-configuration') {
      requests.discovery += 1;
      if (down) { send(res, 503, {}); return; }
      send(res, 200, { issuer: discovered ?? issuer, jwks_uri: `${issuer}/jwks`, response_types_supported: ['id_token'] });
      return;
    }
    if (req.url === '/jwks') {
      requests.jwks += 1;
      const answer = down ? (): void => { send(res, 503, {}); } : (): void => { send(res, 200, { keys: published }); };
      setTimeout(answer, jwksDelayMs);
      return;
    }
    send(res, 404, {});
  };
  const server = options.tls === undefined ? createServer(handle) : createTlsServer(options.tls, handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    requests,
    publish: (next) => { published = next.map((k) => k.publicJwk); },
    setDown: (value) => { down = value; },
    setDiscoveredIssuer: (value) => { discovered = value; },
    setJwksDelay: (ms) => { jwksDelayMs = ms; },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => { resolve(); }); }),
  };
}

export interface TestCertificate {
  readonly cert: string;
  readonly key: string;
  /** The certificate as a file, to pass as a CA file. */
  readonly certFile: string;
  remove(): void;
}

/** A self-signed certificate for 127.0.0.1 (openssl), its own trust anchor. */
export function selfSignedCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-authn-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' });
  return {
    cert: readFileSync(certFile, 'utf8'),
    key: readFileSync(keyFile, 'utf8'),
    certFile,
    remove: () => { rmSync(dir, { recursive: true, force: true }); },
  };
}
