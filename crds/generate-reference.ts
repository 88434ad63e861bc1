// Generates docs/api-reference.md (every field of every kind, with type, default and description)
// from the CRD YAML, so the reference cannot drift from the API. crds/reference.test.ts checks it.
//   node crds/generate-reference.ts          write the file
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { loadCrds } from './generate-types.ts';

export const REFERENCE_FILE = fileURLToPath(new URL('../docs/api-reference.md', import.meta.url));

interface Schema {
  type?: string; description?: string; default?: unknown; enum?: unknown[]; required?: string[];
  properties?: Record<string, Schema>; items?: Schema; additionalProperties?: Schema | boolean;
}

function typeName(s: Schema): string {
  if (s.type === 'array') return `[]${s.items === undefined ? '' : typeName(s.items)}`;
  if (s.type === 'object' && typeof s.additionalProperties === 'object') return `map[string]${typeName(s.additionalProperties)}`;
  if (s.enum !== undefined) return s.enum.map(String).join(' \\| ');
  return s.type ?? 'object';
}

const cell = (text: string): string => text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();

function rows(schema: Schema, path: string): string[] {
  const out: string[] = [];
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    if (name === 'metadata' || name === 'apiVersion' || name === 'kind') continue;
    const childPath = path === '' ? name : `${path}.${name}`;
    const required = schema.required?.includes(name) === true ? ' (required)' : '';
    const dflt = child.default === undefined ? '' : `\`${JSON.stringify(child.default)}\``;
    out.push(`| \`${childPath}\`${required} | ${cell(typeName(child))} | ${dflt} | ${cell(child.description ?? '')} |`);
    out.push(...rows(child, childPath));
    if (child.items !== undefined) out.push(...rows(child.items, `${childPath}[]`));
  }
  return out;
}

export async function renderReference(): Promise<string> {
  const parts = [
    '# Airlock API reference (airlock.dev/v1alpha1)',
    '',
    'Generated from `crds/*.yaml` by `crds/generate-reference.ts` (`npm run generate`); do not edit.',
    'The same text is what `kubectl explain` shows.',
  ];
  for (const crd of await loadCrds()) {
    const version = crd.spec.versions[0];
    const root = version?.schema.openAPIV3Schema as unknown as Schema;
    const names = crd.spec.names as { kind: string; plural: string; shortNames?: string[] };
    parts.push('', `## ${names.kind}`, '', `\`kubectl get ${names.plural}\` (short name \`${names.shortNames?.join(', ') ?? ''}\`, category \`airlock\`).`, '', cell(root.description ?? ''), '');
    parts.push('| field | type | default | description |', '|---|---|---|---|', ...rows(root, ''));
  }
  return `${parts.join('\n')}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rendered = await renderReference();
  if (process.argv.includes('--check')) {
    if ((await readFile(REFERENCE_FILE, 'utf8').catch(() => '')) !== rendered) {
      process.stderr.write('docs/api-reference.md is stale: run `npm run generate`\n');
      process.exit(1);
    }
  } else {
    await writeFile(REFERENCE_FILE, rendered);
    process.stdout.write(`wrote ${REFERENCE_FILE}\n`);
  }
}
