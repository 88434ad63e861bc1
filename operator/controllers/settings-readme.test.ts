// The README's operator settings table and the settings module agree: every variable the operator
// reads is documented with its default, and nothing else is.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from './settings.ts';

describe('README operator settings table', () => {
  it('documents exactly the variables the operator reads, with their defaults', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.split('### Running the operator')[1]?.split('\n### ')[0] ?? '';
    const rows = [...section.matchAll(/^\| `([A-Z_]+)` \| (`[^`]*`|\([^)]*\)) \| /gm)].map((m) => ({ name: m[1], fallback: (m[2] ?? '').replace(/^`|`$/g, '') }));
    expect(rows).toEqual(SETTINGS.map((s) => ({ name: s.name, fallback: s.fallback })));
  });
});
