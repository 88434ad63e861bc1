import { describe, expect, it } from 'vitest';
import { compileUserPattern } from '../../core/policy/user-pattern.ts';
import { HOLD_LIMIT, LineMasker } from './line-masker.ts';

describe('LineMasker', () => {
  const masker = (): LineMasker => new LineMasker([compileUserPattern('AKIA[0-9A-Z]{16}'), compileUserPattern('(?i)password=\\S+')]);

  it('passes text through untouched and unheld without patterns', () => {
    expect(new LineMasker([]).push('o', 1, 'partial')).toEqual({ t: 1, text: 'partial' });
  });

  it('masks a secret split across chunks, holding the line until it ends, at its first time', () => {
    const m = masker();
    expect(m.push('o', 1, 'key: AKIA12345')).toBeUndefined();
    expect(m.push('o', 2, '67890ABCDEF and PASSWORD=hunter2\nnext')).toEqual({ t: 1, text: 'key: ***MASKED*** and ***MASKED***\n' });
    expect(m.flush()).toEqual([['o', { t: 2, text: 'next' }]]);
  });

  it('keeps streams apart and ends lines at \\r as terminals do', () => {
    const m = masker();
    expect(m.push('i', 1, 'password=x')).toBeUndefined();
    expect(m.push('o', 2, 'ok\r')).toEqual({ t: 2, text: 'ok\r' });
    expect(m.push('i', 3, '\r')).toEqual({ t: 1, text: '***MASKED***\r' });
  });

  it('lets go of a line that never ends once 4 KiB wait', () => {
    const m = masker();
    expect(m.push('o', 1, 'x'.repeat(HOLD_LIMIT - 1))).toBeUndefined();
    expect(m.push('o', 2, 'AKIA1234567890ABCDEF')?.text).toBe(`${'x'.repeat(HOLD_LIMIT - 1)}***MASKED***`);
  });
});

describe('compileUserPattern', () => {
  it.each([
    ['(?i)token', 'TOKEN', true],
    ['token', 'TOKEN', false],
  ])('compiles %s (RE2 inline (?i) as the i flag): matches %s is %s', (pattern, text, matches) => {
    expect(compileUserPattern(pattern).test(text)).toBe(matches);
  });

  it.each([['(unclosed'], ['(?i)'], ['']])('refuses %j', (pattern) => {
    expect(() => compileUserPattern(pattern)).toThrow(SyntaxError);
  });
});

describe('maskCommandInUri', () => {
  it('masks exec command arguments and leaves the rest of the URI alone', async () => {
    const { maskCommandInUri } = await import('./session-target.ts');
    const uri = '/api/v1/namespaces/a/pods/p/exec?command=sh&command=-c&command=curl+-H+token%3Dsk-abcd1234&stdout=true';
    expect(maskCommandInUri(uri, [compileUserPattern('sk-[a-z0-9]{8}')])).toBe('/api/v1/namespaces/a/pods/p/exec?stdout=true&command=sh&command=-c&command=curl+-H+token%3D***MASKED***');
    expect(maskCommandInUri('/api/v1/pods', [compileUserPattern('x')])).toBe('/api/v1/pods');
    expect(maskCommandInUri(uri, [])).toBe(uri);
  });
});
