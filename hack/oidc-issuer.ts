// A real OpenID Connect provider (oidc-provider) for tests, the demo and benchmarks, in-process over HTTPS with a certificate from the
// local CA. It issues JWT access tokens by client_credentials, shaped like a CI identity
// (GitHub Actions-style claims), so tests drive the gateway with tokens a real issuer signed.
import { createServer, request, type Server } from 'node:https';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import type { AddressInfo } from 'node:net';
import Provider, { type Adapter, type AdapterFactory, type AdapterPayload } from 'oidc-provider';

export interface CiIdentity {
  readonly clientId: string;
  readonly secret: string;
  /** Claims added to every access token of this client. */
  readonly claims: Readonly<Record<string, unknown>>;
}

export interface OidcIssuer {
  readonly issuer: string;
  readonly audience: string;
  /** A fresh JWT access token for the client. */
  token(clientId: string): Promise<string>;
  /** Signs arbitrary claims with the issuer's own key (tests of expired, not-yet-valid or
   * wrongly addressed tokens that a well-behaved issuer would never hand out). */
  sign(claims: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
  /** The issuer's public signing key, as a PEM (for forging attempts such as HS256-with-public-key). */
  readonly publicKeyPem: string;
  stop(): Promise<void>;
}

/**
 * The provider's state in this process's memory, on purpose: a test or demo issuer lives as long as
 * the process. Named as a real adapter so that oidc-provider does not warn, on every start, that
 * its development-only default is in use (a line a demo user reads as a failure).
 */
function memoryAdapter(): AdapterFactory {
  const entries = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
  return (model: string): Adapter => {
    const key = (id: string): string => `${model}:${id}`;
    const live = (id: string): AdapterPayload | undefined => {
      const entry = entries.get(key(id));
      if (entry === undefined || entry.expiresAt <= Date.now()) { entries.delete(key(id)); return undefined; }
      return entry.payload;
    };
    const findBy = (field: 'userCode' | 'uid', value: string): AdapterPayload | undefined =>
      [...entries.entries()].find(([k, e]) => k.startsWith(`${model}:`) && e.payload[field] === value && e.expiresAt > Date.now())?.[1].payload;
    return {
      upsert: (id, payload, expiresIn) => { entries.set(key(id), { payload, expiresAt: Date.now() + (expiresIn ?? 3600) * 1000 }); return Promise.resolve(); },
      find: (id) => Promise.resolve(live(id)),
      findByUserCode: (userCode) => Promise.resolve(findBy('userCode', userCode)),
      findByUid: (uid) => Promise.resolve(findBy('uid', uid)),
      consume: (id) => { const p = live(id); if (p !== undefined) p.consumed = Math.floor(Date.now() / 1000); return Promise.resolve(); },
      destroy: (id) => { entries.delete(key(id)); return Promise.resolve(); },
      revokeByGrantId: (grantId) => {
        for (const [k, e] of entries) if (e.payload.grantId === grantId) entries.delete(k);
        return Promise.resolve();
      },
    };
  };
}

export async function startOidcIssuer(options: {
  tls: { cert: Buffer; key: Buffer; ca: Buffer };
  clients: readonly CiIdentity[];
  audience?: string;
}): Promise<OidcIssuer> {
  const audience = options.audience ?? 'https://airlock.dev/gateway';
  const server: Server = createServer({ cert: options.tls.cert, key: options.tls.key });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'e2e-1', alg: 'RS256', use: 'sig' };
  const byClient = new Map(options.clients.map((c) => [c.clientId, c]));
  const provider = new Provider(issuer, {
    adapter: memoryAdapter(),
    clients: options.clients.map((c) => ({
      client_id: c.clientId, client_secret: c.secret, grant_types: ['client_credentials'], redirect_uris: [], response_types: [],
    })),
    jwks: { keys: [jwk] },
    ttl: { ClientCredentials: 600 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: '', audience, accessTokenFormat: 'jwt', accessTokenTTL: 600, jwt: { sign: { alg: 'RS256' } } }),
      },
    },
    extraTokenClaims: (_ctx, token) => {
      const clientId = 'clientId' in token && typeof token.clientId === 'string' ? token.clientId : '';
      return { ...(byClient.get(clientId)?.claims ?? {}) };
    },
  });
  // Behind our own TLS server the provider sees https.
  provider.proxy = true;
  const callback = provider.callback();
  server.on('request', (req, res) => { void callback(req, res); });
  return {
    issuer,
    audience,
    publicKeyPem: createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString(),
    sign: (claims, header) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'e2e-1', typ: 'at+jwt', ...header }).sign(privateKey),
    token: async (clientId) => {
      const client = byClient.get(clientId);
      if (client === undefined) throw new Error(`no OIDC client ${clientId}`);
      const form = new URLSearchParams({ grant_type: 'client_credentials', resource: audience }).toString();
      const text = await new Promise<string>((resolve, reject) => {
        const req = request(`${issuer}/token`, {
          method: 'POST',
          ca: options.tls.ca,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`${client.clientId}:${client.secret}`).toString('base64')}`,
          },
        }, (res) => {
          let data = '';
          res.on('data', (c: Buffer) => { data += c.toString(); });
          res.on('end', () => { resolve(data); });
        });
        req.on('error', reject);
        req.end(form);
      });
      const body = JSON.parse(text) as { access_token?: string; error?: string; error_description?: string };
      if (body.access_token === undefined) throw new Error(`token request failed: ${body.error ?? ''} ${body.error_description ?? ''}`);
      return body.access_token;
    },
    stop: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => { r(); }); }),
  };
}
