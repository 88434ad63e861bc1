import { describe, expect, it } from 'vitest';
import { AuthenticationError, type AuthenticationErrorCode } from '../../core/identity.ts';
import {
  createTokenReviewAuthenticator,
  type ReviewToken, type TokenReviewAuthenticatorOptions, type TokenReviewRequest, type TokenReviewResponse,
} from './token-review.ts';

const SA_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.sa-token-payload.sa-token-signature';

function accepted(username: string, overrides: Partial<NonNullable<TokenReviewResponse['status']>> = {}): TokenReviewResponse {
  return { status: { authenticated: true, user: { username, uid: 'uid-1', groups: ['system:serviceaccounts', 'system:serviceaccounts:ci'], extra: {} }, ...overrides } };
}

/** A review function that answers from a table and records every call. */
function fakeReview(answer: (review: TokenReviewRequest) => Promise<TokenReviewResponse> | TokenReviewResponse): ReviewToken & { calls: TokenReviewRequest[] } {
  const calls: TokenReviewRequest[] = [];
  const review = async (request: TokenReviewRequest): Promise<TokenReviewResponse> => {
    calls.push(request);
    return answer(request);
  };
  return Object.assign(review, { calls });
}

function authenticator(review: ReviewToken, overrides: Partial<TokenReviewAuthenticatorOptions> = {}): ReturnType<typeof createTokenReviewAuthenticator> {
  return createTokenReviewAuthenticator({ review, ...overrides });
}

async function refusal(promise: Promise<unknown>): Promise<AuthenticationError> {
  const outcome = await promise.then(() => undefined, (e: unknown) => e);
  if (!(outcome instanceof AuthenticationError)) throw new Error(`expected an AuthenticationError, got ${String(outcome)}`);
  return outcome;
}

/** A JWT-shaped token with the given expiry; TokenReview is faked, so it needs no signature. */
function jwtExpiringAt(expSeconds: number): string {
  return `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify({ exp: expSeconds })).toString('base64url')}.sig`;
}

describe('TokenReview: the answer', () => {
  it('maps a ServiceAccount, keeping its pod-bound extras', async () => {
    const extra = { 'authentication.kubernetes.io/pod-name': ['runner-0'], 'authentication.kubernetes.io/pod-uid': ['p-1'], 'authentication.kubernetes.io/node-name': ['node-a'] };
    const review = fakeReview(() => accepted('system:serviceaccount:ci:deployer', { user: { username: 'system:serviceaccount:ci:deployer', uid: 'sa-uid', groups: ['system:serviceaccounts'], extra } }));
    await expect(authenticator(review).authenticate(SA_TOKEN)).resolves.toEqual({
      method: 'serviceaccount',
      user: { username: 'system:serviceaccount:ci:deployer', uid: 'sa-uid', groups: ['system:serviceaccounts'], extra },
    });
  });

  it.each([
    ['a ServiceAccount', 'system:serviceaccount:ci:deployer', 'serviceaccount'],
    ['a user from another cluster authenticator', 'alice', 'token'],
    ['a node', 'system:node:node-a', 'token'],
  ])('names the method for %s', async (_name, username, method) => {
    await expect(authenticator(fakeReview(() => accepted(username))).authenticate(SA_TOKEN)).resolves.toMatchObject({ method });
  });

  it('reports the expiry of a JWT the API server accepted', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const caller = await authenticator(fakeReview(() => accepted('alice'))).authenticate(jwtExpiringAt(exp));
    expect(caller.expiresAt).toEqual(new Date(exp * 1000));
  });

  it.each<[string, TokenReviewResponse, AuthenticationErrorCode, string]>([
    ['an unauthenticated token', { status: { authenticated: false } }, 'invalid_token', 'the API server did not authenticate the token'],
    ['an unauthenticated token, with the API server\'s error', { status: { authenticated: false, error: '[invalid bearer token, token lookup failed]' } }, 'invalid_token', 'token lookup failed'],
    ['an answer without status', {}, 'invalid_token', 'did not authenticate'],
    ['an authenticated token with no user', { status: { authenticated: true } }, 'invalid_token', 'named no user'],
    ['an authenticated token with an empty username', { status: { authenticated: true, user: { username: '' } } }, 'invalid_token', 'named no user'],
  ])('refuses %s', async (_name, response, code, reason) => {
    const error = await refusal(authenticator(fakeReview(() => response)).authenticate(SA_TOKEN));
    expect(error.code).toBe(code);
    expect(error.reason).toContain(reason);
  });

  it('refuses an empty token without asking the API server', async () => {
    const review = fakeReview(() => accepted('alice'));
    expect((await refusal(authenticator(review).authenticate(''))).code).toBe('missing_token');
    expect(review.calls).toHaveLength(0);
  });

  it('reports a failed review call as review_failed, which is retryable', async () => {
    const error = await refusal(authenticator(fakeReview(() => { throw new Error('connect ECONNREFUSED 10.96.0.1:443'); })).authenticate(SA_TOKEN));
    expect(error.code).toBe('review_failed');
    expect(error.retryable).toBe(true);
    expect(error.reason).toBe('TokenReview failed: connect ECONNREFUSED 10.96.0.1:443');
  });

  it.each<[string, () => TokenReviewResponse]>([
    ['a failed call whose message echoes it', () => { throw new Error(`bad request for ${SA_TOKEN}`); }],
    ['a refusal whose status.error echoes it', () => ({ status: { authenticated: false, error: `token ${SA_TOKEN} is invalid` } })],
  ])('never puts the token in the error, even after %s', async (_name, answer) => {
    const error = await refusal(authenticator(fakeReview(answer)).authenticate(SA_TOKEN));
    const rendered = [error.message, error.reason, String(error.cause), JSON.stringify(error)].join('\n');
    expect(rendered).not.toContain(SA_TOKEN);
    expect(rendered).not.toContain('sa-token-signature');
    expect(error.reason).toContain('[token]');
  });
});

describe('TokenReview: audiences', () => {
  it.each<[string, string[] | undefined, string[] | undefined, AuthenticationErrorCode | 'ok']>([
    ['no audiences configured: the API server\'s own', undefined, undefined, 'ok'],
    ['a configured audience the answer names', ['airlock'], ['airlock'], 'ok'],
    ['one of two configured audiences', ['airlock', 'vault'], ['vault'], 'ok'],
    ['an answer naming another audience', ['airlock'], ['https://kubernetes.default.svc'], 'wrong_audience'],
    ['an answer naming no audience', ['airlock'], [], 'wrong_audience'],
    ['an answer without audiences', ['airlock'], undefined, 'wrong_audience'],
  ])('%s', async (_name, configured, answered, outcome) => {
    const review = fakeReview(() => accepted('alice', answered === undefined ? {} : { audiences: answered }));
    const result = authenticator(review, configured === undefined ? {} : { audiences: configured }).authenticate(SA_TOKEN);
    if (outcome === 'ok') await expect(result).resolves.toMatchObject({ user: { username: 'alice' } });
    else expect((await refusal(result)).code).toBe(outcome);
  });

  it('asks for the configured audiences, and for none when none are configured', async () => {
    const review = fakeReview(() => accepted('alice', { audiences: ['airlock'] }));
    await authenticator(review, { audiences: ['airlock'] }).authenticate(SA_TOKEN);
    await authenticator(review).authenticate(SA_TOKEN);
    expect(review.calls).toEqual([
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: SA_TOKEN, audiences: ['airlock'] } },
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: SA_TOKEN } },
    ]);
  });
});

describe('TokenReview: cache and shared calls', () => {
  it('caches a success for the TTL, then asks again', async () => {
    let now = 1_000_000;
    const review = fakeReview(() => accepted('alice'));
    const tr = authenticator(review, { now: () => now });
    await tr.authenticate(SA_TOKEN);
    now += 9_999;
    await tr.authenticate(SA_TOKEN);
    expect(review.calls).toHaveLength(1);
    now += 1;
    await tr.authenticate(SA_TOKEN);
    expect(review.calls).toHaveLength(2);
  });

  it.each<[string, () => TokenReviewResponse]>([
    ['a refusal', () => ({ status: { authenticated: false } })],
    ['a failed call', () => { throw new Error('503'); }],
    ['a wrong audience', () => accepted('alice', { audiences: ['other'] })],
  ])('never caches %s', async (_name, answer) => {
    const review = fakeReview(answer);
    const tr = authenticator(review, { audiences: ['airlock'] });
    await refusal(tr.authenticate(SA_TOKEN));
    await refusal(tr.authenticate(SA_TOKEN));
    expect(review.calls).toHaveLength(2);
  });

  it('accepts a token at once once it becomes valid (a failure is not remembered)', async () => {
    let valid = false;
    const tr = authenticator(fakeReview(() => (valid ? accepted('alice') : { status: { authenticated: false } })));
    await refusal(tr.authenticate(SA_TOKEN));
    valid = true;
    await expect(tr.authenticate(SA_TOKEN)).resolves.toMatchObject({ user: { username: 'alice' } });
  });

  it('shares one in-flight review among concurrent requests for the same token', async () => {
    const releases: ((r: TokenReviewResponse) => void)[] = [];
    const review = fakeReview(() => new Promise<TokenReviewResponse>((resolve) => { releases.push(resolve); }));
    const tr = authenticator(review);
    const pending = Array.from({ length: 20 }, () => tr.authenticate(SA_TOKEN));
    const other = tr.authenticate('another-token');
    expect(review.calls).toHaveLength(2);
    for (const release of releases) release(accepted('alice'));
    const callers = await Promise.all(pending);
    expect(new Set(callers.map((c) => c.user.username))).toEqual(new Set(['alice']));
    await expect(other).resolves.toMatchObject({ user: { username: 'alice' } });
  });

  it('shares a failed in-flight review too, and does not keep it', async () => {
    let fail: (e: Error) => void = () => undefined;
    const review = fakeReview(() => new Promise<TokenReviewResponse>((_resolve, reject) => { fail = reject; }));
    const tr = authenticator(review);
    const pending = Array.from({ length: 5 }, () => refusal(tr.authenticate(SA_TOKEN)));
    fail(new Error('timeout'));
    expect((await Promise.all(pending)).map((e) => e.code)).toEqual(Array(5).fill('review_failed'));
    expect(review.calls).toHaveLength(1);
    const again = tr.authenticate(SA_TOKEN);
    expect(review.calls).toHaveLength(2);
    fail(new Error('timeout'));
    await refusal(again);
  });

  it('evicts the least recently used entry when full', async () => {
    const review = fakeReview((r) => accepted(r.spec.token));
    const tr = authenticator(review, { cacheMaxEntries: 2 });
    await tr.authenticate('a');
    await tr.authenticate('b');
    await tr.authenticate('a');
    await tr.authenticate('c');
    expect(review.calls).toHaveLength(3);
    await tr.authenticate('a');
    expect(review.calls).toHaveLength(3);
    await tr.authenticate('b');
    expect(review.calls).toHaveLength(4);
  });

  it('does not cache a token past its own expiry', async () => {
    let now = Date.now();
    const review = fakeReview(() => accepted('alice'));
    const tr = authenticator(review, { now: () => now });
    const token = jwtExpiringAt(Math.floor(now / 1000) + 3);
    await tr.authenticate(token);
    now += 3_500;
    await tr.authenticate(token);
    expect(review.calls).toHaveLength(2);
  });

  it('does not cache at all with a TTL of 0', async () => {
    const review = fakeReview(() => accepted('alice'));
    const tr = authenticator(review, { cacheTtlMs: 0 });
    await tr.authenticate(SA_TOKEN);
    await tr.authenticate(SA_TOKEN);
    expect(review.calls).toHaveLength(2);
  });

  it.each([
    [{ cacheTtlMs: -1 }, 'cacheTtlMs must be a non-negative integer'],
    [{ cacheMaxEntries: 0 }, 'cacheMaxEntries must be a positive integer'],
  ])('refuses bad options %o with a TypeError', (overrides, message) => {
    expect(() => authenticator(fakeReview(() => ({})), overrides)).toThrow(new TypeError(`TokenReview: ${message}`));
  });
});
