// The API reads well in `kubectl explain` and behaves like a Kubernetes API: every field is
// described, status is a subresource, and the kinds are easy to find.
import { describe, expect, it } from 'vitest';
import { loadCrds } from './generate-types.ts';

const crds = await loadCrds();

interface Schema { description?: string; properties?: Record<string, Schema>; items?: Schema; additionalProperties?: Schema | boolean }

/** Paths of properties without a description (metadata is Kubernetes' own). */
function undocumented(schema: Schema, path: string): string[] {
  const missing: string[] = [];
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const childPath = `${path}.${name}`;
    if (name === 'metadata') continue;
    if ((child.description ?? '').trim() === '') missing.push(childPath);
    missing.push(...undocumented(child, childPath));
    if (child.items !== undefined) missing.push(...undocumented(child.items, `${childPath}[]`));
  }
  return missing;
}

describe.each(crds.map((crd) => [crd.spec.names.kind, crd] as const))('%s CRD', (_kind, crd) => {
  const version = crd.spec.versions[0] as unknown as {
    schema: { openAPIV3Schema: Schema }; subresources?: { status?: object }; additionalPrinterColumns?: { name: string }[];
  };

  it('describes every field', () => {
    expect(undocumented(version.schema.openAPIV3Schema, crd.spec.names.kind)).toEqual([]);
  });

  it('has a status subresource, a short name, the airlock category and printer columns', () => {
    const names = crd.spec.names as { shortNames?: string[]; categories?: string[] };
    expect(version.subresources?.status).toEqual({});
    expect(names.shortNames?.length).toBe(1);
    expect(names.categories).toEqual(['airlock']);
    expect(version.additionalPrinterColumns?.map((c) => c.name)).toContain('Age');
  });

  it('is in group airlock.dev at v1alpha1', () => {
    expect(crd.spec.group).toBe('airlock.dev');
    expect(crd.spec.versions.map((v) => v.name)).toEqual(['v1alpha1']);
  });
});
