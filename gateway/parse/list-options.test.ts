import { describe, expect, it } from 'vitest';
import { fieldSelectorName, readListOptions } from './list-options.ts';

const query = (pairs: Record<string, string[]>): ReadonlyMap<string, readonly string[]> => new Map(Object.entries(pairs));

describe('fieldSelectorName', () => {
  it.each([
    ['no terms name nothing', '', ''],
    ['a single equality names the object', 'metadata.name=web', 'web'],
    ['a double equals is the same operator', 'metadata.name==web', 'web'],
    ['an inequality names nothing', 'metadata.name!=web', ''],
    ['another field names nothing', 'spec.nodeName=n1', ''],
    ['a conjunct on metadata.name names the object', 'status.phase=Running,metadata.name=web', 'web'],
    ['the byte-wise smallest metadata.name term wins', 'metadata.name=web,metadata.name=api', 'api'],
    ['"==" sorts before "=x" and wins', 'metadata.name=b,metadata.name==a', 'a'],
    ['empty terms are skipped', ',metadata.name=web,', 'web'],
    ['escaped commas and equals are part of the value', 'metadata.name=a\\,b\\=c\\\\d', 'a,b=c\\d'],
    ['an escaped comma does not split terms', 'metadata.name=a\\,spec.x', 'a,spec.x'],
    ['spaces are not trimmed from the field', 'metadata.name =web', ''],
    ['an empty value is an exact match on ""', 'metadata.name=', ''],
  ])('%s', (_name, selector, expected) => {
    expect(fieldSelectorName(selector)).toBe(expected);
  });

  it.each([
    ['a term without an operator', 'metadata.name=web,foo'],
    ['an unescaped "=" in a value', 'metadata.name=a=b'],
    ['an unescaped "=" after an escaped comma', 'metadata.name=a\\,spec.x=y'],
    ['an unknown escape', 'metadata.name=a\\b'],
    ['a trailing backslash', 'metadata.name=a\\'],
  ])('does not parse %s', (_name, selector) => {
    expect(fieldSelectorName(selector)).toBeUndefined();
  });
});

describe('readListOptions', () => {
  it.each([
    ['nothing set is a list', {}, { verb: 'list', name: '' }],
    ['watch=true with a name selector', { watch: ['true'], fieldSelector: ['metadata.name=a'] }, { verb: 'watch', name: 'a' }],
    ['a name that could not be a path segment is dropped', { fieldSelector: ['metadata.name=a%b'] }, { verb: 'list', name: '' }],
    ['"." is dropped', { fieldSelector: ['metadata.name=.'] }, { verb: 'list', name: '' }],
    ['a signed limit decodes', { limit: ['+500'], fieldSelector: ['metadata.name=a'] }, { verb: 'list', name: 'a' }],
    ['a limit past 64 bits fails to decode and drops the name', { limit: ['9223372036854775808'], fieldSelector: ['metadata.name=a'] }, { verb: 'list', name: '' }],
    ['the smallest 64-bit limit still decodes', { limit: ['-9223372036854775808'], fieldSelector: ['metadata.name=a'] }, { verb: 'list', name: 'a' }],
    ['an underscore in an integer fails to decode', { timeoutSeconds: ['1_0'], watch: ['1'] }, { verb: 'watch', name: '' }],
    ['the fallback still reads watch=FALSE as false', { watch: ['FALSE'], limit: ['x'] }, { verb: 'list', name: '' }],
    ['an unknown parameter does not matter', { pretty: ['true'], fieldSelector: ['metadata.name=a'] }, { verb: 'list', name: 'a' }],
  ])('%s', (_name, pairs, expected) => {
    expect(readListOptions(query(pairs))).toEqual(expected);
  });
});
