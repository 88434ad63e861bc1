// Generates crds/types.gen.ts from the CRD YAML, the single source of truth for the API.
//   node crds/generate-types.ts          write the file
//   node crds/generate-types.ts --check  exit 1 if it is stale
// crds/types.test.ts runs the same comparison in every unit test run.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compile, type JSONSchema } from 'json-schema-to-typescript';
import { parse } from 'yaml';

export const CRD_FILES = ['airlock.dev_accessgateways.yaml', 'airlock.dev_accesspolicies.yaml', 'airlock.dev_approvalrequests.yaml'];
export const TYPES_FILE = fileURLToPath(new URL('types.gen.ts', import.meta.url));

export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema: { openAPIV3Schema: JSONSchema & { properties: Record<string, JSONSchema> } };
  subresources?: { status?: object; scale?: object };
  additionalPrinterColumns?: { name: string; type: string; jsonPath: string; priority?: number; description?: string }[];
}

export interface Crd {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames?: string[]; categories?: string[] };
    versions: CrdVersion[];
  };
}

/** The CRDs, parsed strictly (a repeated key is an error, not a silently dropped rule). */
export async function loadCrds(): Promise<Crd[]> {
  return Promise.all(CRD_FILES.map(async (f) => parse(await readFile(new URL(f, import.meta.url), 'utf8'), { uniqueKeys: true }) as Crd));
}

function storageVersion(crd: Crd): CrdVersion {
  const version = crd.spec.versions.find((v) => v.storage);
  if (version === undefined) throw new Error(`${crd.metadata.name}: no storage version`);
  return version;
}

/** Kubernetes-only keywords mean nothing to a type generator; drop them so the output stays stable. */
function plainSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(plainSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k.startsWith('x-kubernetes-') || k === 'default') continue;
    out[k] = plainSchema(v);
  }
  // A structural schema prunes unknown fields, so the type should not invite them either.
  if (out['type'] === 'object' && out['additionalProperties'] === undefined) out['additionalProperties'] = false;
  return out;
}

async function typeOf(schema: JSONSchema, name: string): Promise<string> {
  return compile(plainSchema(schema) as JSONSchema, name, {
    bannerComment: '',
    additionalProperties: false,
    strictIndexSignatures: true,
    format: true,
    // Plain arrays, not non-empty tuples: callers build these from ordinary arrays.
    ignoreMinAndMaxItems: true,
    declareExternallyReferenced: true,
  });
}

async function kindTypes(crd: Crd, apiVersion: string): Promise<string[]> {
  const { kind, listKind, plural } = crd.spec.names;
  const props = storageVersion(crd).schema.openAPIV3Schema.properties;
  const spec = props['spec'];
  const status = props['status'];
  if (spec === undefined) throw new Error(`${crd.metadata.name}: the schema has no spec`);
  return [
    `export const ${kind.toUpperCase()}_PLURAL = '${plural}';`,
    await typeOf(spec, `${kind}Spec`),
    ...(status === undefined ? [] : [await typeOf(status, `${kind}Status`)]),
    `/** ${apiVersion} ${kind} (\`kubectl explain ${kind.toLowerCase()}\`). */`,
    `export interface ${kind} {`,
    `  apiVersion: '${apiVersion}';`,
    `  kind: '${kind}';`,
    '  metadata: V1ObjectMeta;',
    `  spec: ${kind}Spec;`,
    ...(status === undefined ? [] : [`  status?: ${kind}Status;`]),
    '}',
    '',
    `export interface ${listKind} {`,
    `  apiVersion: '${apiVersion}';`,
    `  kind: '${listKind}';`,
    '  metadata: V1ListMeta;',
    `  items: ${kind}[];`,
    '}',
    '',
  ];
}

/** The text of crds/types.gen.ts as the current YAML defines it. */
export async function renderTypes(): Promise<string> {
  const crds = await loadCrds();
  const first = crds[0];
  if (first === undefined) throw new Error('no CRDs');
  const group = first.spec.group;
  const version = storageVersion(first).name;
  const apiVersion = `${group}/${version}`;
  const parts = [
    '// Generated from crds/*.yaml by crds/generate-types.ts; do not edit. Run `npm run generate`.',
    "import type { V1ListMeta, V1ObjectMeta } from '@kubernetes/client-node';",
    '',
    `export const GROUP = '${group}';`,
    `export const VERSION = '${version}';`,
    `export const API_VERSION = '${apiVersion}';`,
    '',
  ];
  for (const crd of crds) {
    if (crd.spec.group !== group || storageVersion(crd).name !== version) {
      throw new Error(`${crd.metadata.name}: every CRD must be ${apiVersion}`);
    }
    parts.push(...(await kindTypes(crd, apiVersion)));
  }
  return `${parts.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rendered = await renderTypes();
  if (process.argv.includes('--check')) {
    const current = await readFile(TYPES_FILE, 'utf8').catch(() => '');
    if (current !== rendered) {
      process.stderr.write('crds/types.gen.ts is stale: run `npm run generate`\n');
      process.exit(1);
    }
  } else {
    await writeFile(TYPES_FILE, rendered);
    process.stdout.write(`wrote ${TYPES_FILE}\n`);
  }
}
