// Gateway-only names: what the API server is asked to act as, how impersonation rights are judged
// under them, and which names a caller may never bring.
import { describe, expect, it } from 'vitest';
import type { UserInfo } from '../../core/identity.ts';
import { defaultGatewayOnlyPrefix, forwardedIdentity, forwardedTarget, gatewayOnlyPrefixProblem, reservedNameProblem, type IdentityForwarding } from '../../core/forwarded-identity.ts';
import { impersonationHeadersFor } from './impersonation-headers.ts';
import { resolveEffectiveIdentity, type AccessReviewer, type ResourceAttributes } from './resolve-identity.ts';

const GATEWAY_ONLY: IdentityForwarding = { forwardAs: 'GatewayOnly', prefix: 'airlock:airlock-system:ci:' };
const CALLER: IdentityForwarding = { forwardAs: 'Caller', prefix: 'airlock:airlock-system:ci:' };

const sa: UserInfo = {
  username: 'system:serviceaccount:ci:deployer', uid: 'sa-uid',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated'],
  extra: { 'authentication.kubernetes.io/pod-name': ['runner-0'] },
};

describe('forwardedIdentity', () => {
  it('prefixes the username, the uid and every group, and keeps the extras', () => {
    expect(forwardedIdentity(sa, GATEWAY_ONLY)).toEqual({
      username: 'airlock:airlock-system:ci:system:serviceaccount:ci:deployer', uid: 'airlock:airlock-system:ci:sa-uid',
      groups: ['airlock:airlock-system:ci:system:serviceaccounts', 'airlock:airlock-system:ci:system:serviceaccounts:ci', 'airlock:airlock-system:ci:system:authenticated'],
      extra: { 'authentication.kubernetes.io/pod-name': ['runner-0'] },
    });
  });

  it('leaves the identity alone in mode Caller', () => {
    expect(forwardedIdentity(sa, CALLER)).toBe(sa);
  });

  it('sends no unprefixed user, group or uid header', () => {
    const headers = impersonationHeadersFor(forwardedIdentity(sa, GATEWAY_ONLY));
    const values = [headers['Impersonate-User'], headers['Impersonate-Uid'], headers['Impersonate-Group']].flat();
    expect(values.length).toBe(5);
    for (const value of values) expect(value).toMatch(/^airlock:airlock-system:ci:/);
  });

  it('is one-to-one: a name that already has the prefix gets a second one, never the same name as another', () => {
    const plain = forwardedIdentity({ ...sa, username: 'alice' }, GATEWAY_ONLY).username;
    const lookalike = forwardedIdentity({ ...sa, username: `${GATEWAY_ONLY.prefix}alice` }, GATEWAY_ONLY).username;
    expect(lookalike).not.toBe(plain);
    expect(lookalike).toBe(`${GATEWAY_ONLY.prefix}${GATEWAY_ONLY.prefix}alice`);
  });
});

describe('the prefix', () => {
  it('defaults to one naming the gateway', () => {
    expect(defaultGatewayOnlyPrefix({ namespace: 'team-a', name: 'ci' })).toBe('airlock:team-a:ci:');
  });

  it.each([
    ['', 'end with ":"'],
    [':', 'end with ":"'],
    ['airlock', 'end with ":"'],
    ['system:airlock:', 'system:'],
    ['air lock:', 'printable ASCII'],
  ])('refuses %j', (prefix, problem) => {
    expect(gatewayOnlyPrefixProblem(prefix)).toContain(problem);
  });

  it('accepts the default and a shared one', () => {
    expect(gatewayOnlyPrefixProblem('airlock:team-a:ci:')).toBeUndefined();
    expect(gatewayOnlyPrefixProblem('airlock-prod:')).toBeUndefined();
  });
});

describe('reservedNameProblem: names only the gateway gives', () => {
  it.each([
    ['a username', { username: 'airlock:airlock-system:ci:alice', groups: [] }, 'the username'],
    ['a uid', { username: 'alice', uid: 'airlock:airlock-system:ci:1', groups: [] }, 'the uid'],
    ['a group', { username: 'alice', groups: ['devs', 'airlock:airlock-system:ci:admins'] }, 'the group'],
  ])('refuses %s inside the prefix', (_name, identity, what) => {
    expect(reservedNameProblem(identity, GATEWAY_ONLY)).toMatch(new RegExp(`^${what} .*reserved`));
  });

  it('accepts names outside it, and anything in mode Caller', () => {
    expect(reservedNameProblem(sa, GATEWAY_ONLY)).toBeUndefined();
    expect(reservedNameProblem({ username: 'airlock:airlock-system:ci:alice', groups: [] }, CALLER)).toBeUndefined();
  });
});

describe('impersonation under gateway-only names', () => {
  /** Allows exactly the (user, attributes) pairs listed, and records what it was asked. */
  function reviewer(allowed: readonly [string, ResourceAttributes['resource'], string][]): AccessReviewer & { asked: string[] } {
    const asked: string[] = [];
    const review: AccessReviewer = (user, a) => {
      asked.push(`${user.username} ${a.resource} ${a.name}`);
      return Promise.resolve(allowed.some(([u, r, n]) => u === user.username && r === a.resource && n === a.name));
    };
    return Object.assign(review, { asked });
  }

  it('judges the prefixed caller impersonating the prefixed target, as the API server would see them', async () => {
    const review = reviewer([[`${GATEWAY_ONLY.prefix}${sa.username}`, 'users', `${GATEWAY_ONLY.prefix}alice`]]);
    const effective = await resolveEffectiveIdentity(sa, { user: 'alice', groups: [], extra: {} }, review, GATEWAY_ONLY);
    expect(effective.username).toBe('alice');
    expect(review.asked).toEqual([`${GATEWAY_ONLY.prefix}${sa.username} users ${GATEWAY_ONLY.prefix}alice`]);
  });

  it('refuses when only the caller\'s own name may impersonate, naming the name to bind', async () => {
    const review = reviewer([[sa.username, 'users', 'alice']]);
    await expect(resolveEffectiveIdentity(sa, { user: 'alice', groups: [], extra: {} }, review, GATEWAY_ONLY))
      .rejects.toThrow(`User "${GATEWAY_ONLY.prefix}${sa.username}" cannot impersonate resource "users"`);
  });

  it('checks a ServiceAccount target as a prefixed user, which it has become', () => {
    const target = forwardedTarget({ user: 'system:serviceaccount:ci:other', groups: ['g'], uid: 'u', extra: { k: ['v'] } }, GATEWAY_ONLY);
    expect(target).toEqual({ user: `${GATEWAY_ONLY.prefix}system:serviceaccount:ci:other`, groups: [`${GATEWAY_ONLY.prefix}g`], uid: `${GATEWAY_ONLY.prefix}u`, extra: { k: ['v'] } });
  });

  it('keeps the caller\'s own names in mode Caller', async () => {
    const review = reviewer([[sa.username, 'users', 'alice']]);
    await expect(resolveEffectiveIdentity(sa, { user: 'alice', groups: [], extra: {} }, review, CALLER)).resolves.toMatchObject({ username: 'alice' });
  });
});
