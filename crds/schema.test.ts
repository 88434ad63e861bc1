// The API reads well in `kubectl explain` and behaves like a Kubernetes API: every field is
// described, every value is bounded (so the API server can bound the cost of CEL rules), every
// rule explains itself, status is a subresource, and the kinds are easy to find.
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CRD_FILES, loadCrds } from './generate-types.ts';

const crds = await loadCrds();

interface Rule { rule: string; message?: string; messageExpression?: string }
interface Schema {
  type?: string; description?: string; enum?: unknown[]; format?: string; maxLength?: number; maxItems?: number;
  maxProperties?: number; required?: string[]; properties?: Record<string, Schema>; items?: Schema;
  additionalProperties?: Schema | boolean; 'x-kubernetes-validations'?: Rule[];
  'x-kubernetes-list-type'?: string; 'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

/** Every schema node below root with its path; metadata is Kubernetes' own. */
function walk(schema: Schema, path: string): [string, Schema][] {
  const nodes: [string, Schema][] = [[path, schema]];
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    if (name !== 'metadata') nodes.push(...walk(child, `${path}.${name}`));
  }
  if (schema.items !== undefined) nodes.push(...walk(schema.items, `${path}[]`));
  if (typeof schema.additionalProperties === 'object') nodes.push(...walk(schema.additionalProperties, `${path}{}`));
  return nodes;
}

/** Paths of properties without a description. */
function undocumented(root: Schema, kind: string): string[] {
  return walk(root, kind).flatMap(([path, node]) =>
    Object.entries(node.properties ?? {})
      .filter(([name, child]) => name !== 'metadata' && (child.description ?? '').trim() === '')
      .map(([name]) => `${path}.${name}`));
}

/** Strings, lists and maps without an upper bound (status is exempt only where no rule reads it). */
function unbounded(root: Schema, kind: string): string[] {
  return walk(root, kind).filter(([path, node]) => {
    if (/^\w+\.(apiVersion|kind)$/.test(path)) return false;
    if (node.type === 'string') return node.maxLength === undefined && node.enum === undefined && node.format !== 'date-time';
    if (node.type === 'array') return node.maxItems === undefined;
    if (node.type === 'object' && typeof node.additionalProperties === 'object') return node.maxProperties === undefined;
    return false;
  }).map(([path]) => path);
}

const expectedColumns: Record<string, string[]> = {
  AccessGateway: ['Ready', 'Replicas', 'Endpoint', 'Age'],
  AccessPolicy: ['Accepted', 'Rules', 'Age'],
  ApprovalRequest: ['Phase', 'Requester', 'Summary', 'Age'],
};

describe.each(crds.map((crd) => [crd.spec.names.kind, crd] as const))('%s CRD', (kind, crd) => {
  const version = crd.spec.versions[0]!;
  const root = version.schema.openAPIV3Schema as Schema;

  it('describes every field', () => {
    expect(undocumented(root, kind)).toEqual([]);
  });

  it('bounds every string, list and map', () => {
    expect(unbounded(root, kind)).toEqual([]);
  });

  it('is structural: no preserve-unknown-fields anywhere', () => {
    expect(walk(root, kind).filter(([, n]) => n['x-kubernetes-preserve-unknown-fields'] === true).map(([p]) => p)).toEqual([]);
  });

  it('gives every CEL rule a message', () => {
    const rules = walk(root, kind).flatMap(([path, n]) => (n['x-kubernetes-validations'] ?? []).map((r) => [path, r] as const));
    expect(rules.length).toBeGreaterThan(0);
    for (const [path, rule] of rules) {
      expect((rule.message ?? rule.messageExpression ?? '').trim(), `${path}: ${rule.rule}`).not.toBe('');
    }
  });

  it('keeps conditions in the standard shape, as a map list keyed by type', () => {
    const conditions = root.properties?.['status']?.properties?.['conditions'];
    expect(conditions?.['x-kubernetes-list-type']).toBe('map');
    expect(conditions?.['x-kubernetes-list-map-keys']).toEqual(['type']);
    expect(conditions?.items?.required).toEqual(['type', 'status', 'lastTransitionTime', 'reason', 'message']);
  });

  it('has a status subresource, a short name, the airlock category and its printer columns', () => {
    expect(version.subresources?.status).toEqual({});
    expect(crd.spec.names.shortNames).toHaveLength(1);
    expect(crd.spec.names.categories).toEqual(['airlock']);
    const columns = (version.additionalPrinterColumns ?? []).map((c) => c.name);
    expect(columns).toEqual(expect.arrayContaining(expectedColumns[kind] ?? ['?']));
    expect(columns.at(-1)).toBe('Age');
  });

  it('is namespaced, in group airlock.dev at v1alpha1, in a file named after it', () => {
    expect(crd.spec.scope).toBe('Namespaced');
    expect(crd.spec.group).toBe('airlock.dev');
    expect(crd.spec.versions.map((v) => [v.name, v.served, v.storage])).toEqual([['v1alpha1', true, true]]);
    expect(crd.metadata.name).toBe(`${crd.spec.names.plural}.airlock.dev`);
    expect(crd.spec.names.listKind).toBe(`${kind}List`);
  });
});

describe('crds/', () => {
  it('holds exactly the CRDs the generator reads, and its Kustomization lists them and the admission policies', async () => {
    const yamlFiles = (await readdir(new URL('.', import.meta.url))).filter((f) => f.endsWith('.yaml')).sort();
    expect(yamlFiles).toEqual([...CRD_FILES].sort());
    expect(crds.map((crd) => `${crd.spec.group}_${crd.spec.names.plural}.yaml`)).toEqual(CRD_FILES);
    const admission = (await readdir(new URL('admission/', import.meta.url))).filter((f) => f.endsWith('.yaml')).sort().map((f) => `admission/${f}`);
    expect(admission).not.toEqual([]);
    const kustomization = parse(await readFile(new URL('Kustomization', import.meta.url), 'utf8')) as { resources: string[] };
    expect(kustomization.resources).toEqual([...CRD_FILES, ...admission]);
  });
});
