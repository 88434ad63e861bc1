import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderTypes, TYPES_FILE } from './generate-types.ts';

describe('generated API types', () => {
  it('match the CRD YAML (run `npm run generate` after changing crds/*.yaml)', async () => {
    const committed = await readFile(TYPES_FILE, 'utf8');
    expect(committed, 'crds/types.gen.ts is stale: run `npm run generate`').toBe(await renderTypes());
  }, 30_000);
});
