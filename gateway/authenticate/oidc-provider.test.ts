// The OIDC authenticator against a real OpenID provider (oidc-provider, in-process on loopback),
// with JWT access tokens it issues by client_credentials for a resource indicator.
import { createServer, type Server } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Provider from 'oidc-provider';
import * as client from 'openid-client';
import { decodeProtectedHeader } from 'jose';
import { AuthenticationError } from '../../core/identity.ts';
import { createOidcAuthenticator, type OidcAuthenticatorOptions } from './oidc.ts';

const GATEWAY = 'urn:airlock:gateway';
const OTHER_API = 'urn:example:other-api';

const CLIENTS = {
  'deploy-bot': { repository: 'acme/app', ref: 'refs/heads/main', environment: 'production', actor: 'octocat', groups: ['deployers', 'readers'] },
  'fork-bot': { repository: 'evil/app', ref: 'refs/pull/1/merge', groups: 'readers' },
} as const;
type ClientId = keyof typeof CLIENTS;

/** The provider's storage, kept in a Map (its built-in one warns that it is for development). */
class MemoryAdapter {
  private static readonly store = new Map<string, Record<string, unknown>>();
  private readonly name: string;
  constructor(name: string) { this.name = name; }
  private key(id: string): string { return `${this.name}:${id}`; }
  upsert(id: string, payload: Record<string, unknown>): Promise<void> { MemoryAdapter.store.set(this.key(id), payload); return Promise.resolve(); }
  find(id: string): Promise<Record<string, unknown> | undefined> { return Promise.resolve(MemoryAdapter.store.get(this.key(id))); }
  findByUid(): Promise<undefined> { return Promise.resolve(undefined); }
  findByUserCode(): Promise<undefined> { return Promise.resolve(undefined); }
  consume(id: string): Promise<void> {
    const payload = MemoryAdapter.store.get(this.key(id));
    if (payload !== undefined) payload['consumed'] = Math.floor(Date.now() / 1000);
    return Promise.resolve();
  }
  destroy(id: string): Promise<void> { MemoryAdapter.store.delete(this.key(id)); return Promise.resolve(); }
  revokeByGrantId(): Promise<void> { return Promise.resolve(); }
}

let server: Server;
let issuer: string;
const hits = new Map<string, number>();

async function startProvider(): Promise<void> {
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const signing = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'provider-1', alg: 'RS256', use: 'sig' };
  const provider = new Provider(issuer, {
    clients: Object.keys(CLIENTS).map((id) => ({
      client_id: id, client_secret: `${id}-secret`, grant_types: ['client_credentials'], redirect_uris: [], response_types: [],
    })),
    adapter: MemoryAdapter,
    jwks: { keys: [signing] },
    ttl: { ClientCredentials: 300 },
    cookies: { keys: ['test-cookie-key'] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => GATEWAY,
        useGrantedResource: () => true,
        // The audience is the resource asked for, so a token for another API can be requested.
        getResourceServerInfo: (_ctx, resource) => ({ scope: '', audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: 300, jwt: { sign: { alg: 'RS256' } } }),
      },
    },
    extraTokenClaims: (_ctx, token) => ({ ...CLIENTS[(token as { clientId: ClientId }).clientId] }),
  });
  const callback = provider.callback();
  server.on('request', (req, res) => {
    const path = new URL(req.url ?? '/', issuer).pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    void callback(req, res);
  });
}

async function accessToken(clientId: ClientId, resource = GATEWAY): Promise<string> {
  const config = await client.discovery(new URL(issuer), clientId, `${clientId}-secret`, undefined, {
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    execute: [client.allowInsecureRequests],
  });
  const response = await client.clientCredentialsGrant(config, { resource });
  return response.access_token;
}

function options(overrides: Partial<OidcAuthenticatorOptions> = {}): OidcAuthenticatorOptions {
  return {
    issuerURL: issuer, audiences: [GATEWAY], usernamePrefix: 'oidc:', groupsClaim: 'groups', groupsPrefix: 'oidc:',
    claimsForPolicy: ['repository', 'ref', 'environment'], allowInsecureHttp: true, ...overrides,
  };
}

beforeAll(startProvider);
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
});

describe('OIDC against a real provider (oidc-provider, client_credentials, JWT access tokens)', () => {
  it('issues an RS256 JWT access token naming its key', async () => {
    expect(decodeProtectedHeader(await accessToken('deploy-bot'))).toMatchObject({ alg: 'RS256', kid: 'provider-1' });
  });

  it('authenticates the client, with prefixed groups and only the policy claims', async () => {
    const caller = await createOidcAuthenticator(options()).authenticate(await accessToken('deploy-bot'));
    expect(caller).toMatchObject({
      method: 'oidc',
      issuer,
      user: { username: 'oidc:deploy-bot', groups: ['oidc:deployers', 'oidc:readers'], extra: {} },
      claims: { repository: 'acme/app', ref: 'refs/heads/main', environment: 'production' },
    });
    expect(caller.claims).not.toHaveProperty('actor');
    expect(caller.expiresAt!.getTime()).toBeGreaterThan(Date.now());
    expect(caller.expiresAt!.getTime()).toBeLessThanOrEqual(Date.now() + 300_000);
  });

  it('reads a single group given as a string', async () => {
    const caller = await createOidcAuthenticator(options()).authenticate(await accessToken('fork-bot'));
    expect(caller.user.groups).toEqual(['oidc:readers']);
  });

  it.each<{ name: string; clientId: ClientId; resource: string; config: Partial<OidcAuthenticatorOptions>; code: string }>([
    { name: 'a token issued for another API', clientId: 'deploy-bot', resource: OTHER_API, config: {}, code: 'wrong_audience' },
    { name: 'a client whose repository is not the required one', clientId: 'fork-bot', resource: GATEWAY, config: { requiredClaims: { repository: 'acme/app' } }, code: 'invalid_claim' },
    { name: 'a provider token when only ES256 is allowed', clientId: 'deploy-bot', resource: GATEWAY, config: { algorithms: ['ES256'] }, code: 'unsupported_algorithm' },
  ])('refuses $name', async ({ clientId, resource, config, code }) => {
    const error = await createOidcAuthenticator(options(config)).authenticate(await accessToken(clientId, resource)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as AuthenticationError).code).toBe(code);
  });

  it('discovers once and fetches the keys once for many tokens', async () => {
    const oidc = createOidcAuthenticator(options());
    const tokens = await Promise.all([accessToken('deploy-bot'), accessToken('fork-bot'), accessToken('deploy-bot')]);
    const before = { discovery: hits.get('/.well-known/openid-configuration') ?? 0, jwks: hits.get('/jwks') ?? 0 };
    await Promise.all(tokens.map((t) => oidc.authenticate(t)));
    await Promise.all(tokens.map((t) => oidc.authenticate(t)));
    expect(hits.get('/.well-known/openid-configuration')).toBe(before.discovery + 1);
    expect(hits.get('/jwks')).toBe(before.jwks + 1);
  });
});
