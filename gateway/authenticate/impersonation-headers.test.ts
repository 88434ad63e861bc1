import { validateHeaderName, validateHeaderValue } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { UserInfo } from '../../core/identity.ts';
import {
  forwardingProblem,
  escapeExtraKey, ImpersonationHeaderError, impersonationHeadersFor, readImpersonationRequest, unescapeExtraKey,
} from './impersonation-headers.ts';

/** What Node's parser hands over for a header whose bytes were `value` in UTF-8. */
const wire = (value: string): string => Buffer.from(value, 'utf8').toString('latin1');

describe('readImpersonationRequest', () => {
  it.each([
    ['no impersonation headers ask for nothing', { accept: ['application/json'] }, undefined],
    ['a user alone', { 'impersonate-user': ['alice'] }, { user: 'alice', groups: [], extra: {} }],
    ['header names match without case', { 'IMPERSONATE-USER': ['alice'], 'Impersonate-Group': ['dev'] }, { user: 'alice', groups: ['dev'], extra: {} }],
    ['each group line is one group, commas included', { 'impersonate-user': ['alice'], 'impersonate-group': ['a, b', 'c'] }, { user: 'alice', groups: ['a, b', 'c'], extra: {} }],
    ['a uid', { 'impersonate-user': ['alice'], 'impersonate-uid': ['1234'] }, { user: 'alice', uid: '1234', groups: [], extra: {} }],
    ['an extra key is lower-cased then unescaped', { 'impersonate-user': ['a'], 'Impersonate-Extra-Authentication.kubernetes.io%2fPod-Name': ['p1'] },
      { user: 'a', groups: [], extra: { 'authentication.kubernetes.io/pod-name': ['p1'] } }],
    ['an escaped upper-case letter survives the lower-casing', { 'impersonate-user': ['a'], 'impersonate-extra-%41cme': ['x'] }, { user: 'a', groups: [], extra: { Acme: ['x'] } }],
    ['each extra line is one value, commas included', { 'impersonate-user': ['a'], 'impersonate-extra-scopes': ['view, edit', 'admin'] },
      { user: 'a', groups: [], extra: { scopes: ['view, edit', 'admin'] } }],
    ['two spellings of one key merge their values', { 'impersonate-user': ['a'], 'impersonate-extra-a': ['1'], 'impersonate-extra-%61': ['2'] },
      { user: 'a', groups: [], extra: { a: ['1', '2'] } }],
    ['a UTF-8 key and UTF-8 values are decoded', { 'impersonate-user': [wire('josé')], 'impersonate-group': [wire('équipe')], 'impersonate-extra-example.com%2f%c3%bcn%c3%afcode': [wire('ü')] },
      { user: 'josé', groups: ['équipe'], extra: { 'example.com/ünïcode': ['ü'] } }],
    ['a service account username is passed through for the identity stage', { 'impersonate-user': ['system:serviceaccount:ci:deployer'] },
      { user: 'system:serviceaccount:ci:deployer', groups: [], extra: {} }],
  ])('%s', (_name, headers, expected) => {
    expect(readImpersonationRequest(headers)).toEqual(expected);
  });

  it.each([
    ['groups without a user', { 'impersonate-group': ['admins'] }, { code: 'user-required', message: 'requested Impersonate-Group without impersonating a user', header: 'Impersonate-User' }],
    ['an extra without a user', { 'impersonate-extra-scopes': ['x'] }, { code: 'user-required', message: 'requested Impersonate-Extra-* without impersonating a user', header: 'Impersonate-User' }],
    ['a uid without a user', { 'impersonate-uid': ['1'] }, { code: 'user-required', message: 'requested Impersonate-Uid without impersonating a user', header: 'Impersonate-User' }],
    ['everything but a user (an empty one)', { 'impersonate-user': [''], 'impersonate-group': ['g'], 'impersonate-uid': ['1'] }, { code: 'user-required', message: 'requested Impersonate-Group, Impersonate-Uid without impersonating a user', header: 'Impersonate-User' }],
    ['two user lines', { 'impersonate-user': ['alice', 'bob'] }, { code: 'multiple-users', message: 'at most one Impersonate-User header is allowed', header: 'Impersonate-User' }],
    ['two user headers differing in case', { 'Impersonate-User': ['alice'], 'impersonate-user': ['bob'] }, { code: 'multiple-users', message: 'at most one Impersonate-User header is allowed', header: 'Impersonate-User' }],
    ['two uid lines', { 'impersonate-user': ['a'], 'impersonate-uid': ['1', '2'] }, { code: 'multiple-uids', message: 'at most one Impersonate-Uid header is allowed', header: 'Impersonate-Uid' }],
    ['an empty user alone', { 'impersonate-user': [''] }, { code: 'empty-value', message: 'the Impersonate-User header is empty', header: 'Impersonate-User' }],
    ['an empty uid', { 'impersonate-user': ['a'], 'impersonate-uid': [''] }, { code: 'empty-value', message: 'the Impersonate-Uid header is empty', header: 'Impersonate-Uid' }],
    ['an empty group', { 'impersonate-user': ['a'], 'impersonate-group': ['dev', ''] }, { code: 'empty-value', message: 'an Impersonate-Group header is empty', header: 'Impersonate-Group' }],
    ['a broken escape in an extra key', { 'impersonate-user': ['a'], 'Impersonate-Extra-a%zz': ['x'] }, { code: 'bad-extra-key', message: 'Impersonate-Extra-a%zz: the extra key must be non-empty, percent-encoded UTF-8', header: 'Impersonate-Extra-a%zz' }],
    ['an extra key that is not UTF-8', { 'impersonate-user': ['a'], 'impersonate-extra-%ff': ['x'] }, { code: 'bad-extra-key', message: 'Impersonate-Extra-%ff: the extra key must be non-empty, percent-encoded UTF-8', header: 'Impersonate-Extra-%ff' }],
    ['an empty extra key', { 'impersonate-user': ['a'], 'impersonate-extra-': ['x'] }, { code: 'bad-extra-key', message: 'Impersonate-Extra-: the extra key must be non-empty, percent-encoded UTF-8', header: 'Impersonate-Extra-' }],
    ['an extra key "__proto__"', { 'impersonate-user': ['a'], 'impersonate-extra-__proto__': ['x'] }, { code: 'bad-extra-key', message: 'Impersonate-Extra-__proto__: the extra key must be non-empty, percent-encoded UTF-8', header: 'Impersonate-Extra-__proto__' }],
    ['a value that is not UTF-8', { 'impersonate-user': ['\u00ff'] }, { code: 'invalid-value', message: 'Impersonate-User is not valid UTF-8', header: 'Impersonate-User' }],
    ['a value that did not come off the wire', { 'impersonate-user': ['\u0101'] }, { code: 'invalid-value', message: 'Impersonate-User is not a raw header value', header: 'Impersonate-User' }],
    ['an unknown impersonation header', { 'impersonate-user': ['a'], 'impersonate-node': ['n1'] }, { code: 'unknown-header', message: 'unknown impersonation header "impersonate-node"', header: 'impersonate-node' }],
  ] as const)('refuses %s', (_name, headers, expected) => {
    const act = (): unknown => readImpersonationRequest(headers);
    expect(act).toThrow(ImpersonationHeaderError);
    expect(act).toThrow(expect.objectContaining(expected) as Error);
  });
});

const identity = (overrides: Partial<UserInfo> = {}): UserInfo => ({ username: 'alice', groups: [], extra: {}, ...overrides });

describe('impersonationHeadersFor', () => {
  it('writes one line per group and per extra value, extra keys sorted and escaped', () => {
    const headers = impersonationHeadersFor(identity({
      uid: 'u-1', groups: ['dev, ops', 'system:authenticated'],
      extra: { scopes: ['view', 'edit'], 'authentication.kubernetes.io/pod-name': ['p1'] },
    }));
    expect(Object.entries(headers)).toEqual([
      ['Impersonate-User', 'alice'],
      ['Impersonate-Uid', 'u-1'],
      ['Impersonate-Group', ['dev, ops']],
      ['Impersonate-Extra-authentication.kubernetes.io%2Fpod-name', ['p1']],
      ['Impersonate-Extra-scopes', ['view', 'edit']],
    ]);
  });

  it.each<[string, UserInfo, string[] | undefined]>([
    ['system:authenticated alone is left for the API server to add', identity({ groups: ['system:authenticated'] }), undefined],
    ['system:authenticated is left out beside other groups', identity({ groups: ['system:authenticated', 'dev'] }), ['dev']],
    ['system:anonymous keeps it (the API server adds nothing to it)', identity({ username: 'system:anonymous', groups: ['system:authenticated'] }), ['system:authenticated']],
    ['a list with system:unauthenticated is sent as it is', identity({ groups: ['system:unauthenticated', 'system:authenticated'] }), ['system:unauthenticated', 'system:authenticated']],
    ['groups without it are sent as they are', identity({ groups: ['dev'] }), ['dev']],
    ['a ServiceAccount with only it keeps it (no groups would get it the ServiceAccount groups)', identity({ username: 'system:serviceaccount:ci:bot', groups: ['system:authenticated'] }), ['system:authenticated']],
    ['a ServiceAccount with its groups leaves it out', identity({ username: 'system:serviceaccount:ci:bot', groups: ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated'] }), ['system:serviceaccounts', 'system:serviceaccounts:ci']],
  ])('groups: %s', (_name, input, expected) => {
    expect(impersonationHeadersFor(input)['Impersonate-Group']).toEqual(expected);
  });

  it.each([
    ['no groups send no group header', identity(), ['Impersonate-User']],
    ['an empty uid sends no uid header', identity({ uid: '' }), ['Impersonate-User']],
    ['an extra with no values sends nothing', identity({ extra: { scopes: [] } }), ['Impersonate-User']],
  ])('%s', (_name, input, names) => {
    expect(Object.keys(impersonationHeadersFor(input))).toEqual(names);
  });

  it('sends UTF-8 bytes, which Node writes from a latin1 string', () => {
    const headers = impersonationHeadersFor(identity({ username: 'josé', groups: ['équipe'] }));
    expect(Buffer.from(headers['Impersonate-User'] as string, 'latin1').toString('utf8')).toBe('josé');
    expect(headers['Impersonate-Group']).toEqual([wire('équipe')]);
  });

  it('produces names and values Node accepts', () => {
    const headers = impersonationHeadersFor(identity({ username: 'jörg', groups: ['g'], extra: { 'example.com/ünïcode key': ['v ü'], 'a%b': ['1'] } }));
    for (const [name, value] of Object.entries(headers)) {
      expect(() => { validateHeaderName(name); }).not.toThrow();
      for (const v of [value].flat()) expect(() => { validateHeaderValue(name, v); }).not.toThrow();
    }
  });

  it.each([
    ['an empty username (the API server would not impersonate at all)', identity({ username: '' }), 'empty-value', 'cannot send an empty Impersonate-User'],
    ['an empty group', identity({ groups: ['a', ''] }), 'empty-value', 'cannot send an empty Impersonate-Group'],
    ['a username with surrounding spaces (trimmed upstream)', identity({ username: ' admin' }), 'invalid-value', 'Impersonate-User has surrounding whitespace or a control character'],
    ['a group with a newline', identity({ groups: ['a\nImpersonate-User: admin'] }), 'invalid-value', 'Impersonate-Group has surrounding whitespace or a control character'],
    ['an empty extra key', identity({ extra: { '': ['x'] } }), 'bad-extra-key', 'cannot send an empty extra key'],
  ] as const)('refuses %s', (_name, input, code, message) => {
    const act = (): unknown => impersonationHeadersFor(input);
    expect(act).toThrow(expect.objectContaining({ name: 'ImpersonationHeaderError', code, message }) as Error);
  });
});

describe('extra key escaping', () => {
  it.each([
    ['a plain key is unchanged', 'scopes', 'scopes'],
    ['"/" is escaped (client-go)', 'authentication.kubernetes.io/pod-name', 'authentication.kubernetes.io%2Fpod-name'],
    ['non-ASCII is escaped byte by byte', 'example.com/ünïcode', 'example.com%2F%C3%BCn%C3%AFcode'],
    ['"%" itself is escaped', 'a%b', 'a%25b'],
    ['a space is escaped', 'a b', 'a%20b'],
    ['token punctuation is kept', "a!#$&'*+-.^_`|~z", "a!#$&'*+-.^_`|~z"],
    ['upper-case letters are escaped so lower-casing cannot change them', 'Example.com/Key', '%45xample.com%2F%4Bey'],
  ])('%s', (_name, key, escaped) => {
    expect(escapeExtraKey(key)).toBe(escaped);
  });

  it.each([
    ['authentication.kubernetes.io/pod-name'], ['example.com/ünïcode'], ['a%b'], ['a b,c;d'], ['Example.com/Key'], ['%41'], ['emoji/🔑'],
  ])('round-trips %s through the API server reading', (key) => {
    expect(unescapeExtraKey(escapeExtraKey(key))).toBe(key);
  });

  it.each([
    ['a plain identity', identity({ uid: 'u', groups: ['a', 'b, c'], extra: { 'example.com/ünïcode': ['ü', 'v'] } })],
    ['a service account with pod extras', identity({ username: 'system:serviceaccount:ci:runner', extra: { 'authentication.kubernetes.io/pod-name': ['runner-0'] } })],
  ])('reads back what it writes: %s', (_name, input) => {
    const distinct = Object.fromEntries(Object.entries(impersonationHeadersFor(input)).map(([n, v]) => [n.toLowerCase(), [v].flat()]));
    expect(readImpersonationRequest(distinct)).toEqual({ user: input.username, ...(input.uid === undefined ? {} : { uid: input.uid }), groups: input.groups, extra: input.extra });
  });
});


describe('forwardingProblem: an identity that could not travel upstream unchanged is refused where it is established', () => {
  it.each([
    ['a no-break space after the username (an OIDC sub can carry one)', identity({ username: 'repo:acme/app:ref:refs/heads/main\u00a0' }), 'the username has surrounding whitespace or a control character'],
    ['a no-break space before a group', identity({ groups: ['\u00a0admins'] }), 'the group "\u00a0admins" has surrounding whitespace or a control character'],
    ['a control character in the uid', identity({ uid: 'a\u0007b' }), 'the uid has surrounding whitespace or a control character'],
    ['a newline in an extra value', identity({ extra: { scopes: ['a\nb'] } }), 'a value of the extra "scopes" has surrounding whitespace or a control character'],
    ['an empty group', identity({ groups: [''] }), 'the group "" is empty'],
    ['an extra with an empty key', identity({ extra: { '': ['x'] } }), 'an extra has an empty key'],
  ])('refuses %s', (_name, input, problem) => {
    expect(forwardingProblem(input)).toBe(`${problem}, so it cannot be passed on to the Kubernetes API server unchanged`);
    // The same identity would have thrown while forwarding: the check and the encoder agree.
    expect(() => impersonationHeadersFor(input)).toThrow(ImpersonationHeaderError);
  });

  it.each([
    ['plain ASCII', identity({ username: 'oidc:ci', groups: ['a b'] })],
    ['UTF-8 names', identity({ username: 'josé', groups: ['gruppe-ü'], extra: { 'k ü': ['v ü'] } })],
  ])('passes %s', (_name, input) => {
    expect(forwardingProblem(input)).toBeUndefined();
    expect(() => impersonationHeadersFor(input)).not.toThrow();
  });

  it('refuses the same problem in a caller\'s own impersonation headers, as a 400', () => {
    const nbsp = Buffer.from('deployer\u00a0', 'utf8').toString('latin1');
    expect(() => readImpersonationRequest({ 'impersonate-user': [nbsp] })).toThrow(expect.objectContaining({
      name: 'ImpersonationHeaderError', code: 'invalid-value',
      message: 'impersonation refused: the username has surrounding whitespace or a control character, so it cannot be passed on to the Kubernetes API server unchanged',
    }) as Error);
  });
});
