import { createHmac } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JWTPayload } from 'jose';
import { AuthenticationError, type AuthenticationErrorCode } from '../../core/identity.ts';
import { createOidcAuthenticator, type OidcAuthenticator, type OidcAuthenticatorOptions, type OidcRuntimeOptions } from './oidc.ts';
import { parseGatewayConfig } from '../../core/config/gateway-config.ts';
import { mint, newSigningKey, selfSignedCertificate, startTestIssuer, type SigningKey, type TestIssuer } from './test-support.ts';

const AUDIENCE = 'airlock';
const seconds = (): number => Math.floor(Date.now() / 1000);

let rsa: SigningKey;
let es: SigningKey;
let unpublished: SigningKey;
let issuer: TestIssuer;
const opened: TestIssuer[] = [];

beforeAll(async () => {
  [rsa, es, unpublished] = await Promise.all([newSigningKey('key-a'), newSigningKey('key-es', 'ES256'), newSigningKey('ghost')]);
  issuer = await startTestIssuer([rsa, es]);
});
afterAll(async () => { await issuer.close(); });
afterEach(async () => { await Promise.all(opened.splice(0).map((i) => i.close())); });

async function freshIssuer(keys: readonly SigningKey[]): Promise<TestIssuer> {
  const started = await startTestIssuer(keys);
  opened.push(started);
  return started;
}

function options(at: TestIssuer, overrides: Partial<OidcAuthenticatorOptions> = {}): OidcAuthenticatorOptions {
  return { issuerURL: at.issuer, audiences: [AUDIENCE], usernamePrefix: 'ci:', allowInsecureHttp: true, ...overrides };
}

/** A valid payload; an override of `undefined` removes the claim. */
type Claims = Record<string, unknown>;
function claims(at: TestIssuer, overrides: Claims = {}): JWTPayload {
  const now = seconds();
  const all: Claims = { iss: at.issuer, aud: AUDIENCE, sub: 'repo:acme/app:ref:refs/heads/main', iat: now, exp: now + 300, repository_owner: 'acme', ...overrides };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
}

async function refusal(promise: Promise<unknown>): Promise<AuthenticationError> {
  const outcome = await promise.then(() => undefined, (e: unknown) => e);
  if (!(outcome instanceof AuthenticationError)) throw new Error(`expected an AuthenticationError, got ${String(outcome)}`);
  return outcome;
}

function unsigned(header: Record<string, unknown>, payload: JWTPayload, signature = ''): string {
  const part = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part(header)}.${part(payload)}.${signature}`;
}

/** The HS256 key-confusion attack: the RSA public key (which anyone can fetch) used as an HMAC secret. */
function hmacWithPublicKey(key: SigningKey, payload: JWTPayload): string {
  const secret = createPublicKey({ key: key.publicJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  const input = unsigned({ alg: 'HS256', typ: 'JWT', kid: key.kid }, payload).slice(0, -1);
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

async function tamperedPayload(at: TestIssuer): Promise<string> {
  const [header, , signature] = (await mint(rsa, { claims: claims(at) })).split('.');
  const forged = Buffer.from(JSON.stringify(claims(at, { sub: 'repo:acme/other:ref:refs/heads/main' }))).toString('base64url');
  return `${header ?? ''}.${forged}.${signature ?? ''}`;
}

type Forge = (at: TestIssuer) => Promise<string> | string;

const FORGED: readonly (readonly [string, Forge, AuthenticationErrorCode])[] = [
  ['alg none', (at) => unsigned({ alg: 'none', typ: 'JWT' }, claims(at)), 'unsupported_algorithm'],
  ['HS256 signed with the RSA public key as the HMAC secret', (at) => hmacWithPublicKey(rsa, claims(at)), 'unsupported_algorithm'],
  ['an ES256 token when only RS256 is allowed', (at) => mint(es, { claims: claims(at) }), 'unsupported_algorithm'],
  ['a wrong audience', (at) => mint(rsa, { claims: claims(at, { aud: 'kubernetes' }) }), 'wrong_audience'],
  ['no audience', (at) => mint(rsa, { claims: claims(at, { aud: undefined }) }), 'missing_claim'],
  ['a wrong issuer', (at) => mint(rsa, { claims: claims(at, { iss: 'https://evil.example' }) }), 'wrong_issuer'],
  ['an expired token (beyond the skew)', (at) => mint(rsa, { claims: claims(at, { exp: seconds() - 120 }) }), 'expired'],
  ['nbf in the future (beyond the skew)', (at) => mint(rsa, { claims: claims(at, { nbf: seconds() + 120 }) }), 'not_yet_valid'],
  ['no exp', (at) => mint(rsa, { claims: claims(at, { exp: undefined }) }), 'missing_claim'],
  ['an unknown kid, not in the refreshed JWKS', (at) => mint(unpublished, { claims: claims(at) }), 'unknown_key'],
  ['a known kid signed by another key', (at) => mint(unpublished, { claims: claims(at), header: { kid: 'key-a' } }), 'invalid_signature'],
  ['a payload swapped under a valid signature', tamperedPayload, 'invalid_signature'],
  ['a missing required claim', (at) => mint(rsa, { claims: claims(at, { repository_owner: undefined }) }), 'missing_claim'],
  ['a wrong required claim value', (at) => mint(rsa, { claims: claims(at, { repository_owner: 'evil' }) }), 'invalid_claim'],
  ['a required claim of the wrong type', (at) => mint(rsa, { claims: claims(at, { repository_owner: ['acme'] }) }), 'invalid_claim'],
  ['a malformed token', () => 'not.a-jwt.at-all', 'invalid_token'],
  ['a token that is not even dotted', () => 'opaque-bearer-token-value', 'invalid_token'],
  ['a payload that is not JSON (the signature is checked first)', () => `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.bm90IGpzb24.c2ln`, 'invalid_signature'],
];

describe('OIDC: forged and invalid tokens', () => {
  let oidc: OidcAuthenticator;
  beforeAll(() => {
    // A zero cooldown makes the unknown-kid case re-fetch, as it would after the cooldown.
    oidc = createOidcAuthenticator(options(issuer, { requiredClaims: { repository_owner: 'acme' } }), { jwksCooldownMs: 0 });
  });

  it('accepts the untampered token the forgeries start from', async () => {
    const caller = await oidc.authenticate(await mint(rsa, { claims: claims(issuer) }));
    expect(caller.user.username).toBe('ci:repo:acme/app:ref:refs/heads/main');
  });

  it.each(FORGED)('refuses %s', async (_name, forge, code) => {
    const token = await forge(issuer);
    const error = await refusal(oidc.authenticate(token));
    expect(error.code).toBe(code);
    expect(error.message).toBe(`authentication failed (${code}): ${error.reason}`);
  });

  it('never puts the token, or its signature, in an error message, reason or cause', async () => {
    for (const [, forge] of FORGED) {
      const token = await forge(issuer);
      const error = await refusal(oidc.authenticate(token));
      const rendered = [error.message, error.reason, String(error.cause), JSON.stringify(error), error.stack ?? ''].join('\n');
      expect(rendered).not.toContain(token);
      const signature = token.split('.')[2] ?? '';
      if (signature.length > 8) expect(rendered).not.toContain(signature);
    }
  });

  it('re-fetched the JWKS for the unknown kid: once per unknown-kid token, with a zero cooldown', async () => {
    const before = issuer.requests.jwks;
    await refusal(oidc.authenticate(await mint(unpublished, { claims: claims(issuer) })));
    expect(issuer.requests.jwks).toBe(before + 1);
  });

  it.each([
    ['exp 10 s ago', 'exp', -10],
    ['nbf 10 s ahead', 'nbf', 10],
  ])('accepts a token within the 30 s clock skew: %s', async (_name, claim, offset) => {
    const token = await mint(rsa, { claims: claims(issuer, { [claim]: seconds() + offset }) });
    await expect(oidc.authenticate(token)).resolves.toMatchObject({ method: 'oidc' });
  });

  it('honours a configured skew of 0', async () => {
    const strict = createOidcAuthenticator(options(issuer, { clockSkewSeconds: 0 }));
    const error = await refusal(strict.authenticate(await mint(rsa, { claims: claims(issuer, { exp: seconds() - 2 }) })));
    expect(error.code).toBe('expired');
  });

  it('accepts an ES256 token when ES256 is allowed', async () => {
    const both = createOidcAuthenticator(options(issuer, { algorithms: ['RS256', 'ES256'] }));
    await expect(both.authenticate(await mint(es, { claims: claims(issuer) }))).resolves.toMatchObject({ method: 'oidc' });
  });

  it('accepts any one of several audiences (MatchAny)', async () => {
    const many = createOidcAuthenticator(options(issuer, { audiences: ['other', AUDIENCE] }));
    await expect(many.authenticate(await mint(rsa, { claims: claims(issuer, { aud: ['unrelated', AUDIENCE] }) }))).resolves.toMatchObject({ method: 'oidc' });
  });
});

describe('OIDC: claims to identity', () => {
  const GITHUB = {
    repository: 'acme/app', ref: 'refs/heads/main', job_workflow_ref: 'acme/app/.github/workflows/deploy.yml@refs/heads/main',
    environment: 'production', actor: 'octocat', run_id: '42',
  };
  const POLICY_CLAIMS = ['repository', 'ref', 'job_workflow_ref', 'environment'];

  it.each<[string, Partial<OidcAuthenticatorOptions>, Claims, { username: string; groups?: string[]; uid?: string; claims?: Record<string, unknown> }]>([
    ['prefixes the sub claim', {}, {}, { username: 'ci:repo:acme/app:ref:refs/heads/main', groups: [] }],
    ['allows an empty prefix', { usernamePrefix: '' }, {}, { username: 'repo:acme/app:ref:refs/heads/main' }],
    ['reads another username claim', { usernameClaim: 'actor' }, GITHUB, { username: 'ci:octocat' }],
    ['reads a verified email', { usernameClaim: 'email' }, { email: 'a@acme.dev', email_verified: true }, { username: 'ci:a@acme.dev' }],
    ['reads an email without email_verified', { usernameClaim: 'email' }, { email: 'a@acme.dev' }, { username: 'ci:a@acme.dev' }],
    ['reads one group given as a string', { groupsClaim: 'groups', groupsPrefix: 'ci:' }, { groups: 'deployers' }, { username: 'ci:repo:acme/app:ref:refs/heads/main', groups: ['ci:deployers'] }],
    ['reads groups given as a list, deduped', { groupsClaim: 'groups', groupsPrefix: 'ci:' }, { groups: ['deployers', 'readers', 'deployers'] }, { username: 'ci:repo:acme/app:ref:refs/heads/main', groups: ['ci:deployers', 'ci:readers'] }],
    ['reads no groups when the claim is absent', { groupsClaim: 'groups' }, {}, { username: 'ci:repo:acme/app:ref:refs/heads/main', groups: [] }],
    ['reads groups without a prefix', { groupsClaim: 'groups', groupsPrefix: '' }, { groups: ['sre'] }, { username: 'ci:repo:acme/app:ref:refs/heads/main', groups: ['sre'] }],
    ['reads a uid claim', { uidClaim: 'run_id' }, GITHUB, { username: 'ci:repo:acme/app:ref:refs/heads/main', uid: '42' }],
    ['keeps only the GitHub Actions claims configured for policy', { claimsForPolicy: POLICY_CLAIMS }, GITHUB, {
      username: 'ci:repo:acme/app:ref:refs/heads/main',
      claims: { repository: 'acme/app', ref: 'refs/heads/main', job_workflow_ref: 'acme/app/.github/workflows/deploy.yml@refs/heads/main', environment: 'production' },
    }],
    ['keeps no claims when none are configured', {}, GITHUB, { username: 'ci:repo:acme/app:ref:refs/heads/main', claims: {} }],
    ['leaves out configured policy claims the token lacks', { claimsForPolicy: ['environment', 'repository'] }, { repository: 'acme/app' }, { username: 'ci:repo:acme/app:ref:refs/heads/main', claims: { repository: 'acme/app' } }],
  ])('%s', async (_name, overrides, extra, expected) => {
    const oidc = createOidcAuthenticator(options(issuer, overrides));
    const token = await mint(rsa, { claims: claims(issuer, extra) });
    const caller = await oidc.authenticate(token);
    expect(caller.user.username).toBe(expected.username);
    if (expected.groups !== undefined) expect(caller.user.groups).toEqual(expected.groups);
    expect(caller.user.uid).toBe(expected.uid);
    if (expected.claims !== undefined) expect(caller.claims).toEqual(expected.claims);
    expect(caller.method).toBe('oidc');
    expect(caller.issuer).toBe(issuer.issuer);
    expect(Object.isFrozen(caller.claims)).toBe(true);
  });

  it('reports when the token expires', async () => {
    const exp = seconds() + 123;
    const caller = await createOidcAuthenticator(options(issuer)).authenticate(await mint(rsa, { claims: claims(issuer, { exp }) }));
    expect(caller.expiresAt).toEqual(new Date(exp * 1000));
  });

  it.each<{ name: string; config: Partial<OidcAuthenticatorOptions>; extra: Claims; code: AuthenticationErrorCode; reason: string }>([
    { name: 'an email that is not verified', config: { usernameClaim: 'email' }, extra: { email: 'a@acme.dev', email_verified: false }, code: 'invalid_claim', reason: '"email_verified" is not true' },
    { name: 'email_verified given as a string', config: { usernameClaim: 'email' }, extra: { email: 'a@acme.dev', email_verified: 'true' }, code: 'invalid_claim', reason: '"email_verified" is not true' },
    { name: 'a missing username claim', config: { usernameClaim: 'email' }, extra: {}, code: 'missing_claim', reason: 'the "email" claim is missing' },
    { name: 'an empty username claim', config: {}, extra: { sub: '' }, code: 'invalid_claim', reason: 'the "sub" claim must be a non-empty string' },
    { name: 'a username claim that is not a string', config: {}, extra: { sub: 42 }, code: 'invalid_claim', reason: 'the "sub" claim must be a non-empty string' },
    { name: 'a username that maps to system:', config: { usernamePrefix: '' }, extra: { sub: 'system:kube-controller-manager' }, code: 'invalid_claim', reason: 'must not start with "system:"' },
    { name: 'a group that maps to system:masters', config: { groupsClaim: 'groups', groupsPrefix: '' }, extra: { groups: ['system:masters'] }, code: 'invalid_claim', reason: 'must not map to a "system:" group' },
    { name: 'groups that are not strings', config: { groupsClaim: 'groups' }, extra: { groups: [1, 2] }, code: 'invalid_claim', reason: 'must be a string or a list of strings' },
    { name: 'a groups claim that is an object', config: { groupsClaim: 'groups' }, extra: { groups: { a: 1 } }, code: 'invalid_claim', reason: 'must be a string or a list of strings' },
  ])('refuses $name', async ({ config, extra, code, reason }) => {
    const oidc = createOidcAuthenticator(options(issuer, config));
    const error = await refusal(oidc.authenticate(await mint(rsa, { claims: claims(issuer, extra) })));
    expect(error.code).toBe(code);
    expect(error.reason).toContain(reason);
  });
});

describe('OIDC: signing keys', () => {
  it('fetches a rotated key once, when a token first names its kid, and drops the old one', async () => {
    const [a, b] = await Promise.all([newSigningKey('2026-01'), newSigningKey('2026-02')]);
    const at = await freshIssuer([a]);
    // The same claims mint the same token bytes within a second: without the verified-token cache
    // each call below really checks the signature.
    const oidc = createOidcAuthenticator(options(at), { jwksCooldownMs: 0, verifiedCacheTtlMs: 0 });
    await oidc.authenticate(await mint(a, { claims: claims(at) }));
    expect(at.requests.jwks).toBe(1);
    at.publish([b]);
    await oidc.authenticate(await mint(b, { claims: claims(at) }));
    await oidc.authenticate(await mint(b, { claims: claims(at) }));
    expect(at.requests.jwks).toBe(2);
    const error = await refusal(oidc.authenticate(await mint(a, { claims: claims(at) })));
    expect(error.code).toBe('unknown_key');
    expect(at.requests.jwks).toBe(3);
  });

  it('makes exactly one JWKS fetch for many concurrent requests naming an unknown kid', async () => {
    const [a, c] = await Promise.all([newSigningKey('old'), newSigningKey('new')]);
    const at = await freshIssuer([a]);
    const oidc = createOidcAuthenticator(options(at), { jwksCooldownMs: 0 });
    await oidc.authenticate(await mint(a, { claims: claims(at) }));
    at.publish([a, c]);
    at.setJwksDelay(50);
    const token = await mint(c, { claims: claims(at) });
    const callers = await Promise.all(Array.from({ length: 50 }, () => oidc.authenticate(token)));
    expect(callers).toHaveLength(50);
    expect(at.requests.jwks).toBe(2);
  });

  it('makes one discovery and one JWKS fetch for many concurrent first requests', async () => {
    const a = await newSigningKey('first');
    const at = await freshIssuer([a]);
    at.setJwksDelay(20);
    const oidc = createOidcAuthenticator(options(at));
    const token = await mint(a, { claims: claims(at) });
    await Promise.all(Array.from({ length: 20 }, () => oidc.authenticate(token)));
    expect(at.requests).toEqual({ discovery: 1, jwks: 1 });
  });

  it('does not fetch again for an unknown kid within the cooldown', async () => {
    const a = await newSigningKey('only');
    const at = await freshIssuer([a]);
    const oidc = createOidcAuthenticator(options(at), { jwksCooldownMs: 60_000 });
    await oidc.authenticate(await mint(a, { claims: claims(at) }));
    for (let i = 0; i < 5; i += 1) {
      const error = await refusal(oidc.authenticate(await mint(unpublished, { claims: claims(at) })));
      expect(error.code).toBe('unknown_key');
    }
    expect(at.requests.jwks).toBe(1);
  });

  it('keeps verifying with the last good keys while the JWKS endpoint is down', async () => {
    const a = await newSigningKey('steady');
    const at = await freshIssuer([a]);
    let now = Date.now();
    const problems: string[] = [];
    const oidc = createOidcAuthenticator(options(at), {
      now: () => now, jwksRefreshIntervalMs: 60_000,
      onIssuerProblem: (_issuer, error) => { problems.push(error instanceof Error ? error.message : 'unknown'); },
    });
    const token = await mint(a, { claims: claims(at, { exp: seconds() + 3600 }) });
    await oidc.authenticate(token);
    at.setDown(true);
    now += 120_000;
    await expect(oidc.authenticate(token)).resolves.toMatchObject({ method: 'oidc' });
    await expect.poll(() => problems.length).toBe(1);
    await expect(oidc.authenticate(token)).resolves.toMatchObject({ method: 'oidc' });
    expect(at.requests.jwks).toBe(2);
  });

  it('stops trusting a key removed from the JWKS after the background refresh', async () => {
    const [a, b] = await Promise.all([newSigningKey('retired'), newSigningKey('current')]);
    const at = await freshIssuer([a, b]);
    let now = Date.now();
    const oidc = createOidcAuthenticator(options(at), { now: () => now, jwksRefreshIntervalMs: 60_000 });
    const token = await mint(a, { claims: claims(at, { exp: seconds() + 3600 }) });
    await oidc.authenticate(token);
    at.publish([b]);
    now += 120_000;
    // This request starts the refresh; it is not held up by it.
    await oidc.authenticate(token);
    await expect.poll(() => at.requests.jwks).toBe(2);
    // The token verified a moment ago stays trusted for the verified-token cache TTL (10 s), no
    // longer. The JWKS request is counted before its answer is applied, so each try steps past the TTL.
    await expect.poll(async () => { now += 10_001; return (await refusal(oidc.authenticate(token))).code; }).toBe('unknown_key');
  });

  it('trusts a verified token for the cache TTL only, never past its exp, and never caches a refusal', async () => {
    const [a, b, c] = await Promise.all([newSigningKey('cached'), newSigningKey('later'), newSigningKey('unpublished')]);
    const at = await freshIssuer([a]);
    let now = Date.now();
    const oidc = createOidcAuthenticator(options(at), { now: () => now, jwksCooldownMs: 0, jwksRefreshIntervalMs: 1_000, verifiedCacheTtlMs: 5_000 });
    const token = await mint(a, { claims: claims(at, { exp: seconds() + 3600 }) });
    await oidc.authenticate(token);
    at.publish([b]);
    // Within the TTL the token is not verified again: no key lookup, so no refresh is even due.
    now += 4_000;
    expect((await oidc.authenticate(token)).method).toBe('oidc');
    expect(at.requests.jwks).toBe(1);
    // Past the TTL it is verified again; that verification notices the refresh is due.
    now += 1_001;
    await oidc.authenticate(token);
    await expect.poll(() => at.requests.jwks).toBe(2);
    await expect.poll(async () => { now += 5_001; return (await refusal(oidc.authenticate(token))).code; }).toBe('unknown_key');
    // A refusal is not remembered: once its key is published, the same token is accepted.
    const early = await mint(c, { claims: claims(at, { exp: seconds() + 3600 }) });
    expect((await refusal(oidc.authenticate(early))).code).toBe('unknown_key');
    at.publish([b, c]);
    expect((await oidc.authenticate(early)).method).toBe('oidc');
    // An entry never outlives the token's exp, even with a long TTL.
    const longTtl = createOidcAuthenticator(options(at), { now: () => now, verifiedCacheTtlMs: 3_600_000 });
    const shortLived = await mint(b, { claims: claims(at, { iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 2 }) });
    await longTtl.authenticate(shortLived);
    now += 2_000 + 31_000; // past exp and the 30 s clock skew
    expect((await refusal(longTtl.authenticate(shortLived))).code).toBe('expired');
  });

  it('reports an unreachable JWKS on first use as issuer_unavailable', async () => {
    const a = await newSigningKey('k');
    const at = await freshIssuer([a]);
    const oidc = createOidcAuthenticator(options(at));
    await oidc.warmUp();
    at.setDown(true);
    const error = await refusal(oidc.authenticate(await mint(a, { claims: claims(at) })));
    expect(error.code).toBe('issuer_unavailable');
    expect(error.retryable).toBe(true);
  });
});

describe('OIDC: discovery', () => {
  it('starts without the issuer, fails with issuer_unavailable, and retries only after the backoff', async () => {
    const a = await newSigningKey('late');
    const at = await freshIssuer([a]);
    at.setDown(true);
    let now = Date.now();
    const failures: unknown[] = [];
    const oidc = createOidcAuthenticator(options(at), { now: () => now, retryInitialMs: 1000, onIssuerProblem: (_i, e) => failures.push(e) });
    expect(at.requests.discovery).toBe(0);
    const token = await mint(a, { claims: claims(at) });
    expect((await refusal(oidc.authenticate(token))).code).toBe('issuer_unavailable');
    expect((await refusal(oidc.authenticate(token))).code).toBe('issuer_unavailable');
    at.setDown(false);
    expect((await refusal(oidc.authenticate(token))).code).toBe('issuer_unavailable');
    expect(at.requests.discovery).toBe(1);
    expect(oidc.ready()).toBe(false);
    expect(failures).toHaveLength(1);
    now += 1001;
    await expect(oidc.authenticate(token)).resolves.toMatchObject({ method: 'oidc' });
    expect(at.requests.discovery).toBe(2);
    expect(oidc.ready()).toBe(true);
  });

  it('doubles the backoff after each failed discovery', async () => {
    const at = await freshIssuer([]);
    at.setDown(true);
    let now = Date.now();
    const waits: number[] = [];
    const oidc = createOidcAuthenticator(options(at), { now: () => now, retryInitialMs: 1000, retryMaxMs: 3000 });
    for (const wait of [1000, 2000, 3000, 3000]) {
      await oidc.warmUp();
      const before = at.requests.discovery;
      now += wait - 1;
      await oidc.warmUp();
      waits.push(at.requests.discovery - before);
      now += 1;
    }
    expect(waits).toEqual([0, 0, 0, 0]);
    expect(at.requests.discovery).toBe(4);
  });

  it('warms up without throwing while the issuer is down', async () => {
    const at = await freshIssuer([]);
    at.setDown(true);
    const oidc = createOidcAuthenticator(options(at));
    await expect(oidc.warmUp()).resolves.toBeUndefined();
    expect(oidc.ready()).toBe(false);
  });

  it.each([
    ['with a trailing slash (openid-client alone would accept it)', (at: TestIssuer) => `${at.issuer}/`],
    ['that is another host', () => 'https://evil.example'],
  ])('refuses a discovery document naming another issuer, %s', async (_name, discovered) => {
    const a = await newSigningKey('x');
    const at = await freshIssuer([a]);
    at.setDiscoveredIssuer(discovered(at));
    const error = await refusal(createOidcAuthenticator(options(at)).authenticate(await mint(a, { claims: claims(at) })));
    expect(error.code).toBe('issuer_unavailable');
    expect(at.requests.jwks).toBe(0);
  });

  it('uses a discoveryURL as is, and still requires its document to name the configured issuer', async () => {
    const a = await newSigningKey('split');
    const at = await freshIssuer([a]);
    const external = 'https://issuer.example/realms/ci';
    const discoveryURL = `${at.issuer}/.well-known/openid-configuration`;
    const wrong = createOidcAuthenticator(options(at, { issuerURL: external, discoveryURL }));
    const token = await mint(a, { claims: claims(at, { iss: external }) });
    expect((await refusal(wrong.authenticate(token))).reason).toContain(`not the configured "${external}"`);
    at.setDiscoveredIssuer(external);
    const right = createOidcAuthenticator(options(at, { issuerURL: external, discoveryURL }));
    await expect(right.authenticate(token)).resolves.toMatchObject({ issuer: external });
  });

  it('trusts a private CA given as caFile, and only then', async () => {
    const certificate = selfSignedCertificate();
    const a = await newSigningKey('tls');
    const at = await startTestIssuer([a], { tls: { cert: certificate.cert, key: certificate.key } });
    opened.push(at);
    try {
      const token = await mint(a, { claims: claims(at) });
      const base = { issuerURL: at.issuer, audiences: [AUDIENCE], usernamePrefix: '' };
      expect((await refusal(createOidcAuthenticator(base).authenticate(token))).code).toBe('issuer_unavailable');
      await expect(createOidcAuthenticator({ ...base, caFile: certificate.certFile }).authenticate(token)).resolves.toMatchObject({ method: 'oidc' });
    } finally {
      certificate.remove();
    }
  });
});

describe('OIDC: options', () => {
  const base: OidcAuthenticatorOptions = { issuerURL: 'https://issuer.example', audiences: ['a'], usernamePrefix: '' };

  it.each<[string, Partial<OidcAuthenticatorOptions>, string]>([
    ['an http issuer without allowInsecureHttp', { issuerURL: 'http://issuer.example' }, 'issuerURL must use https'],
    ['an issuer that is not a URL', { issuerURL: 'issuer' }, 'issuerURL "issuer" is not a URL'],
    ['a discoveryURL without /.well-known/', { discoveryURL: 'https://issuer.example/config' }, 'discoveryURL must contain /.well-known/'],
    ['no audience', { audiences: [] }, 'audiences must list at least one non-empty audience'],
    ['an empty audience', { audiences: [''] }, 'audiences must list at least one non-empty audience'],
    ['alg none', { algorithms: ['none'] }, 'algorithm "none" is not allowed'],
    ['HS256', { algorithms: ['RS256', 'HS256'] }, 'algorithm "HS256" is not allowed'],
    ['an empty algorithm list', { algorithms: [] }, 'algorithms must not be empty'],
    ['an empty username claim', { usernameClaim: '' }, 'usernameClaim must not be empty'],
    ['a negative clock skew', { clockSkewSeconds: -1 }, 'clockSkewSeconds must be an integer from 0 to 300'],
    ['an unreadable caFile', { caFile: '/nonexistent/ca.pem' }, 'caFile /nonexistent/ca.pem cannot be read (ENOENT)'],
  ])('refuses %s at construction with a TypeError', (_name, overrides, message) => {
    expect(() => createOidcAuthenticator({ ...base, ...overrides })).toThrow(TypeError);
    expect(() => createOidcAuthenticator({ ...base, ...overrides })).toThrow(message);
  });

  it('reports every problem at once', () => {
    expect(() => createOidcAuthenticator({ ...base, issuerURL: 'http://x', audiences: [], algorithms: ['HS256'] })).toThrow(
      'OIDC issuer http://x: issuerURL must use https; audiences must list at least one non-empty audience; algorithm "HS256" is not allowed; use RS256, RS384, RS512, ES256, ES384, ES512, PS256, PS384, PS512',
    );
  });

  it('takes an authentication.oidc[] entry of the gateway config as it is', async () => {
    const config = parseGatewayConfig({
      name: 'gw', listen: { tlsCertFile: 'c', tlsKeyFile: 'k' }, upstream: { server: 'https://10.0.0.1', tokenFile: 't' }, audit: { level: 'None' },
      authentication: { oidc: [{ issuerURL: issuer.issuer, audiences: [AUDIENCE], usernamePrefix: 'ci:', claimsForPolicy: ['repository'], allowInsecureHttp: true }] },
    });
    const entry = config.authentication.oidc[0]!;
    const caller = await createOidcAuthenticator(entry).authenticate(await mint(rsa, { claims: claims(issuer, { repository: 'acme/app' }) }));
    expect(caller).toMatchObject({ user: { username: 'ci:repo:acme/app:ref:refs/heads/main' }, claims: { repository: 'acme/app' } });
  });

  it('makes no request at construction', async () => {
    const at = await freshIssuer([]);
    const runtime: OidcRuntimeOptions = {};
    createOidcAuthenticator(options(at), runtime);
    expect(at.requests).toEqual({ discovery: 0, jwks: 0 });
  });
});
