import { describe, expect, it } from 'vitest';
import { AuthenticationError } from './identity.ts';
import { bearerTokenFrom } from './bearer-token.ts';

describe('bearer token from the Authorization header', () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc', 'abc'],
    ['BEARER   abc  ', 'abc'],
  ])('reads %j', (header, token) => {
    expect(bearerTokenFrom({ authorization: header })).toBe(token);
  });

  it.each([
    ['no header', undefined, 'no Authorization header'],
    ['an empty header', '', 'no Authorization header'],
    ['Basic credentials', 'Basic YWxpY2U6c2VjcmV0', 'the Authorization header does not carry a bearer token'],
    ['a scheme without a token', 'Bearer', 'the Authorization header does not carry a bearer token'],
    ['two tokens', 'Bearer a b', 'the Authorization header does not carry a bearer token'],
  ])('refuses %s as missing_token, without repeating the header', (_name, header, reason) => {
    const read = (): string => bearerTokenFrom(header === undefined ? {} : { authorization: header });
    expect(read).toThrow(AuthenticationError);
    expect(read).toThrow(`authentication failed (missing_token): ${reason}`);
  });
});
