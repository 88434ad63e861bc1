// The effective identity is derived exactly as kube-apiserver's impersonation filter derives it, so
// policy decides on the identity RBAC will judge.
import { describe, expect, it } from 'vitest';
import { impersonatedUser, impersonationChecks, serviceAccountOf } from './resolve-identity.ts';

const target = (user: string, groups: string[] = []): { user: string; groups: string[]; extra: Record<string, string[]> } => ({ user, groups, extra: {} });

describe('impersonatedUser: the groups the API server gives an impersonated user', () => {
  it.each([
    ['system:anonymous gets system:unauthenticated, never system:authenticated', target('system:anonymous'), ['system:unauthenticated']],
    ['system:anonymous with a group keeps it and gets system:unauthenticated', target('system:anonymous', ['viewers']), ['viewers', 'system:unauthenticated']],
    ['system:anonymous with system:unauthenticated already is not given it twice', target('system:anonymous', ['system:unauthenticated']), ['system:unauthenticated']],
    ['a user gets system:authenticated', target('alice'), ['system:authenticated']],
    ['a user given system:unauthenticated is not also authenticated', target('alice', ['system:unauthenticated']), ['system:unauthenticated']],
    ['a ServiceAccount given no group gets its ServiceAccount groups', target('system:serviceaccount:ci:deployer'), ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated']],
    ['a ServiceAccount-shaped name with an invalid namespace is an ordinary user', target('system:serviceaccount:CI_NS:deployer'), ['system:authenticated']],
    ['one with an extra colon is an ordinary user', target('system:serviceaccount:ci:deployer:x'), ['system:authenticated']],
  ])('%s', (_name, input, groups) => {
    expect(impersonatedUser(input).groups).toEqual(groups);
  });
});

describe('serviceAccountOf: ServiceAccount usernames as the API server splits them', () => {
  it.each([
    ['system:serviceaccount:ci:deployer', { namespace: 'ci', name: 'deployer' }],
    ['system:serviceaccount:kube-system:a.b-c', { namespace: 'kube-system', name: 'a.b-c' }],
    ['system:serviceaccount:Prod:deployer', undefined],
    ['system:serviceaccount:ci:Deployer', undefined],
    ['system:serviceaccount:ci:', undefined],
    ['system:serviceaccount::deployer', undefined],
    [`system:serviceaccount:${'a'.repeat(64)}:deployer`, undefined],
    ['system:serviceaccount:ci:de ployer', undefined],
    ['system:serviceaccounts:ci', undefined],
  ])('%s', (username, expected) => {
    expect(serviceAccountOf(username)).toEqual(expected);
  });

  it('checks an invalid ServiceAccount-shaped name as a user impersonation, as the API server does', () => {
    expect(impersonationChecks(target('system:serviceaccount:CI:x'))[0]).toMatchObject({ resource: 'users', name: 'system:serviceaccount:CI:x' });
    expect(impersonationChecks(target('system:serviceaccount:ci:x'))[0]).toMatchObject({ resource: 'serviceaccounts', namespace: 'ci', name: 'x' });
  });
});
