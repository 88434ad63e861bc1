import { describe, expect, it } from 'vitest';
import { parseRequestTarget, percentDecode, RequestInfoError } from './request-target.ts';

describe('parseRequestTarget', () => {
  it.each([
    ['the root has no segments', '/', '/', []],
    ['a trailing slash stays in the path but adds no segment', '/apis/', '/apis/', ['apis']],
    ['segments are decoded once', '/api/v1/namespaces/a%20b', '/api/v1/namespaces/a b', ['api', 'v1', 'namespaces', 'a b']],
    ['UTF-8 escapes decode to one character', '/api/v1/configmaps/%C3%BC', '/api/v1/configmaps/ü', ['api', 'v1', 'configmaps', 'ü']],
    ['an encoded "%" stays a literal "%"', '/x/%25zz', '/x/%zz', ['x', '%zz']],
  ])('%s', (_name, raw, path, segments) => {
    const target = parseRequestTarget(raw);
    expect(target).not.toBeInstanceOf(RequestInfoError);
    expect(target).toMatchObject({ path, segments });
  });

  it.each([
    ['values keep their order, keys their first appearance', 'b=1&a=2&b=3', [['b', ['1', '3']], ['a', ['2']]]],
    ['a key without "=" has an empty value', 'watch&pretty=', [['watch', ['']], ['pretty', ['']]]],
    ['"+" is a space and "%2B" a plus', 'command=echo+a%2Bb', [['command', ['echo a+b']]]],
    ['empty pairs are skipped', '&&a=1&', [['a', ['1']]]],
    ['only the first "=" splits', 'fieldSelector=metadata.name=a', [['fieldSelector', ['metadata.name=a']]]],
    ['encoded newlines in exec commands are kept', 'command=sh&command=-c&command=echo%0Adone', [['command', ['sh', '-c', 'echo\ndone']]]],
  ])('query: %s', (_name, rawQuery, entries) => {
    const target = parseRequestTarget(`/api/v1/pods?${rawQuery}`);
    if (target instanceof RequestInfoError) throw target;
    expect([...target.query.entries()]).toEqual(entries);
  });
});

describe('percentDecode', () => {
  it.each([
    ['a plain string is returned as is', 'abc', false, 'abc'],
    ['"+" is literal in a path', 'a+b', false, 'a+b'],
    ['"+" is a space in a query', 'a+b', true, 'a b'],
    ['escapes accept either hex case', '%c3%BC', false, 'ü'],
    ['a broken escape is refused', '%g0', false, undefined],
    ['a lone continuation byte is refused', '%80', false, undefined],
    ['a raw non-ASCII character is refused', 'ü%20', false, undefined],
  ])('%s', (_name, raw, plusIsSpace, expected) => {
    expect(percentDecode(raw, plusIsSpace)).toBe(expected);
  });
});
