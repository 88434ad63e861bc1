import { describe, expect, it } from 'vitest';
import { AuthenticationError, type AuthenticatedCaller } from '../../core/identity.ts';
import { createAuthenticator } from './authenticator-chain.ts';
import { createOidcAuthenticator, type OidcAuthenticator } from './oidc.ts';
import { createTokenReviewAuthenticator, type TokenReviewAuthenticator } from './token-review.ts';
import { mint, newSigningKey, startTestIssuer } from './test-support.ts';

const GITHUB = 'https://token.actions.githubusercontent.com';
const GITLAB = 'https://gitlab.example.com';

/** A JWT-shaped token naming an issuer; the fakes below never check signatures. */
function jwtFrom(iss: unknown): string {
  const part = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part({ iss, sub: 'x' })}.sig`;
}

function fakeOidc(issuerURL: string, outcome: AuthenticatedCaller | AuthenticationError): OidcAuthenticator & { calls: number } {
  const fake = {
    issuerURL,
    calls: 0,
    authenticate: () => {
      fake.calls += 1;
      return outcome instanceof AuthenticationError ? Promise.reject(outcome) : Promise.resolve(outcome);
    },
    ready: () => true,
    warmUp: () => Promise.resolve(),
  };
  return fake;
}

function fakeTokenReview(outcome: AuthenticatedCaller | AuthenticationError): TokenReviewAuthenticator & { calls: number } {
  const fake = {
    calls: 0,
    authenticate: () => {
      fake.calls += 1;
      return outcome instanceof AuthenticationError ? Promise.reject(outcome) : Promise.resolve(outcome);
    },
  };
  return fake;
}

const oidcCaller = (username: string, groups: string[] = []): AuthenticatedCaller => ({ user: { username, groups, extra: {} }, method: 'oidc', issuer: GITHUB });
const saCaller: AuthenticatedCaller = { user: { username: 'system:serviceaccount:ci:deployer', groups: ['system:serviceaccounts', 'system:authenticated'], extra: {} }, method: 'serviceaccount' };

async function refusal(promise: Promise<unknown>): Promise<AuthenticationError> {
  const outcome = await promise.then(() => undefined, (e: unknown) => e);
  if (!(outcome instanceof AuthenticationError)) throw new Error(`expected an AuthenticationError, got ${String(outcome)}`);
  return outcome;
}

describe('authenticator chain: routing', () => {
  it.each([
    ['a JWT naming the first issuer goes to that issuer', jwtFrom(GITHUB), 'github'],
    ['a JWT naming the second issuer goes to that issuer', jwtFrom(GITLAB), 'gitlab'],
    ['a JWT naming an unknown issuer goes to TokenReview', jwtFrom('https://kubernetes.default.svc'), 'tokenreview'],
    ['a JWT without iss goes to TokenReview', jwtFrom(undefined), 'tokenreview'],
    ['a JWT with a non-string iss goes to TokenReview', jwtFrom(['a']), 'tokenreview'],
    ['an issuer differing only by a trailing slash is another issuer', jwtFrom(`${GITHUB}/`), 'tokenreview'],
    ['an opaque token goes to TokenReview', 'opaque-static-token', 'tokenreview'],
    ['a five-part token (a JWE) goes to TokenReview even when it names the issuer', `${jwtFrom(GITHUB)}.x.y`, 'tokenreview'],
    ['a payload that is not JSON goes to TokenReview', `eyJhbGciOiJSUzI1NiJ9.${Buffer.from('not json').toString('base64url')}.sig`, 'tokenreview'],
    ['a payload that is JSON null goes to TokenReview', `eyJhbGciOiJSUzI1NiJ9.${Buffer.from('null').toString('base64url')}.sig`, 'tokenreview'],
    ['a token with an empty header segment goes to TokenReview', `.${Buffer.from(JSON.stringify({ iss: GITHUB })).toString('base64url')}.sig`, 'tokenreview'],
  ])('%s', async (_name, token, expected) => {
    const github = fakeOidc(GITHUB, oidcCaller('gh'));
    const gitlab = fakeOidc(GITLAB, oidcCaller('gl'));
    const tokenReview = fakeTokenReview(saCaller);
    await createAuthenticator({ oidc: [github, gitlab], tokenReview }).authenticate(token);
    const counts = { github: github.calls, gitlab: gitlab.calls, tokenreview: tokenReview.calls };
    expect(counts).toEqual({ github: 0, gitlab: 0, tokenreview: 0, [expected]: 1 });
  });

  it.each(['expired', 'invalid_signature', 'issuer_unavailable', 'wrong_audience'] as const)(
    'fails closed: a %s refusal from the matching issuer never falls through to TokenReview', async (code) => {
      const tokenReview = fakeTokenReview(saCaller);
      const chain = createAuthenticator({ oidc: [fakeOidc(GITHUB, new AuthenticationError(code, 'refused'))], tokenReview });
      expect((await refusal(chain.authenticate(jwtFrom(GITHUB)))).code).toBe(code);
      expect(tokenReview.calls).toBe(0);
    },
  );

  it.each([
    ['a token of an unknown issuer', jwtFrom('https://elsewhere.example'), 'the token names an issuer that is not configured, and TokenReview is disabled'],
    ['an opaque token', 'opaque', 'the token is not a JWT from a configured issuer, and TokenReview is disabled'],
  ])('refuses %s when TokenReview is disabled', async (_name, token, reason) => {
    const error = await refusal(createAuthenticator({ oidc: [fakeOidc(GITHUB, oidcCaller('gh'))] }).authenticate(token));
    expect(error.code).toBe('invalid_token');
    expect(error.reason).toBe(reason);
  });

  it('refuses an empty token as missing_token', async () => {
    const tokenReview = fakeTokenReview(saCaller);
    expect((await refusal(createAuthenticator({ oidc: [], tokenReview }).authenticate(''))).code).toBe('missing_token');
    expect(tokenReview.calls).toBe(0);
  });

  it('refuses an issuer configured twice', () => {
    expect(() => createAuthenticator({ oidc: [fakeOidc(GITHUB, oidcCaller('a')), fakeOidc(GITHUB, oidcCaller('b'))] })).toThrow(
      new TypeError(`OIDC issuer ${GITHUB} is configured twice`),
    );
  });
});

describe('authenticator chain: groups', () => {
  it.each([
    ['adds system:authenticated to an OIDC caller', fakeOidc(GITHUB, oidcCaller('gh', ['ci:deployers'])), jwtFrom(GITHUB), ['ci:deployers', 'system:authenticated']],
    ['adds it to a caller without groups', fakeOidc(GITHUB, oidcCaller('gh')), jwtFrom(GITHUB), ['system:authenticated']],
    ['does not repeat it for a TokenReview caller that has it', undefined, 'opaque', ['system:serviceaccounts', 'system:authenticated']],
    ['dedupes repeated groups', fakeOidc(GITHUB, oidcCaller('gh', ['a', 'b', 'a'])), jwtFrom(GITHUB), ['a', 'b', 'system:authenticated']],
  ])('%s', async (_name, oidc, token, groups) => {
    const chain = createAuthenticator({ oidc: oidc === undefined ? [] : [oidc], tokenReview: fakeTokenReview(saCaller) });
    expect((await chain.authenticate(token)).user.groups).toEqual(groups);
  });
});

describe('authenticator chain: with the real authenticators', () => {
  it('verifies an issuer\'s token with OIDC and a ServiceAccount token with TokenReview', async () => {
    const key = await newSigningKey('k1');
    const issuer = await startTestIssuer([key]);
    try {
      const reviews: string[] = [];
      const chain = createAuthenticator({
        oidc: [createOidcAuthenticator({ issuerURL: issuer.issuer, audiences: ['airlock'], usernamePrefix: 'ci:', allowInsecureHttp: true })],
        tokenReview: createTokenReviewAuthenticator({
          review: (r) => {
            reviews.push(r.spec.token);
            return Promise.resolve({ status: { authenticated: true, user: { username: 'system:serviceaccount:ci:deployer', groups: ['system:serviceaccounts'] } } });
          },
        }),
      });
      const now = Math.floor(Date.now() / 1000);
      const ci = await mint(key, { claims: { iss: issuer.issuer, aud: 'airlock', sub: 'bot', exp: now + 60 } });
      await expect(chain.authenticate(ci)).resolves.toMatchObject({ method: 'oidc', user: { username: 'ci:bot', groups: ['system:authenticated'] } });
      const forged = await mint(await newSigningKey('k1'), { claims: { iss: issuer.issuer, aud: 'airlock', sub: 'bot', exp: now + 60 } });
      expect((await refusal(chain.authenticate(forged))).code).toBe('invalid_signature');
      await expect(chain.authenticate('sa-token')).resolves.toMatchObject({
        method: 'serviceaccount', user: { username: 'system:serviceaccount:ci:deployer', groups: ['system:serviceaccounts', 'system:authenticated'] },
      });
      expect(reviews).toEqual(['sa-token']);
    } finally {
      await issuer.close();
    }
  });
});
