// Generates crds/types.gen.ts from the CRD YAML, the single source of truth for the API.
//   node crds/generate-types.ts          write the file
//   node crds/generate-types.ts --check  exit 1 if it is stale
// crds/types.test.ts runs the check in every test run.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compile, type JSONSchema } from 'json-schema-to-typescript';
import { parse } from 'yaml';

export const CRD_FILES = ['airlock.dev_accessgateways.yaml', 'airlock.dev_accesspolicies.yaml', 'airlock.dev_approvalrequests.yaml'];
export const TYPES_FILE = fileURLToPath(new URL('types.gen.ts', import.meta.url));

interface Crd {
  spec: {
    group: string;
    names: { kind: string; plural: string; shortNames?: string[] };
    versions: { name: string; storage: boolean; schema: { openAPIV3Schema: { properties: Record<string, JSONSchema> } } }[];
  };
}

export async function loadCrds(): Promise<Crd[]> {
  return Promise.all(CRD_FILES.map(async (f) => parse(await readFile(new URL(f, import.meta.url), 'utf8')) as Crd));
}

/** Kubernetes-only keywords mean nothing to a type generator; drop them so output stays stable. */
function plainSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(plainSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k.startsWith('x-kubernetes-') || k === 'default') continue;
    out[k] = plainSchema(v);
  }
  if (out['type'] === 'object' && out['additionalProperties'] === undefined) out['additionalProperties'] = false;
  return out;
}

async function typeOf(schema: JSONSchema, name: string): Promise<string> {
  return compile(plainSchema(schema) as JSONSchema, name, {
    bannerComment: '',
    additionalProperties: false,
    strictIndexSignatures: true,
    format: true,
    maxItems: -1,
    declareExternallyReferenced: true,
  });
}

export async function renderTypes(): Promise<string> {
  const parts = [
    '// Generated from crds/*.yaml by crds/generate-types.ts; do not edit. Run `npm run generate`.',
    "import type { V1ObjectMeta } from '@kubernetes/client-node';",
    '',
  ];
  const crds = await loadCrds();
  const group = crds[0]?.spec.group ?? '';
  const version = crds[0]?.spec.versions.find((v) => v.storage)?.name ?? '';
  parts.push(`export const GROUP = '${group}';`, `export const VERSION = '${version}';`, `export const API_VERSION = '${group}/${version}';`, '');
  for (const crd of crds) {
    const { kind, plural } = crd.spec.names;
    const props = crd.spec.versions.find((v) => v.storage)?.schema.openAPIV3Schema.properties ?? {};
    parts.push(`export const ${kind.toUpperCase()}_PLURAL = '${plural}';`);
    if (props['spec'] !== undefined) parts.push(await typeOf(props['spec'], `${kind}Spec`));
    if (props['status'] !== undefined) parts.push(await typeOf(props['status'], `${kind}Status`));
    parts.push(
      `export interface ${kind} {`,
      `  apiVersion: '${group}/${version}';`,
      `  kind: '${kind}';`,
      '  metadata: V1ObjectMeta;',
      `  spec: ${kind}Spec;`,
      ...(props['status'] === undefined ? [] : [`  status?: ${kind}Status;`]),
      '}',
      '',
    );
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
