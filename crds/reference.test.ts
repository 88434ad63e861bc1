import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { REFERENCE_FILE, renderReference } from './generate-reference.ts';

describe('docs/api-reference.md', () => {
  it('matches the CRD YAML (run `npm run generate` after changing crds/*.yaml)', async () => {
    const committed = await readFile(REFERENCE_FILE, 'utf8');
    expect(committed === await renderReference(), 'docs/api-reference.md is stale: run `npm run generate`').toBe(true);
  });
});
