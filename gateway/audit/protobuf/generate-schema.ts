// Generates gateway/audit/protobuf/schema.gen.json from k8s.io/api and k8s.io/apimachinery at the
// version the local control plane runs (hack/versions.env):
//   node gateway/audit/protobuf/generate-schema.ts          write the file (npm run generate:protobuf)
//   node gateway/audit/protobuf/generate-schema.ts --check  exit 1 if it is stale
// schema.test.ts runs the same comparison in every unit test run.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildSchema } from './generate/build-schema.ts';
import { loadSchemaSources } from './generate/module-sources.ts';
import { SCHEMA_FILE, type ProtobufSchema } from './schema.ts';

/** The file's text: compact, one message (and one apiVersion) per line so that diffs read well. */
export function renderSchema(schema: ProtobufSchema): string {
  const entries = (record: Readonly<Record<string, unknown>>): string =>
    Object.entries(record).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',\n');
  return [
    `{"source":${JSON.stringify(schema.source)},`,
    `"typeMeta":${JSON.stringify(schema.typeMeta)},`,
    `"slices":${JSON.stringify(schema.slices)},`,
    `"kinds":{\n${entries(schema.kinds)}},`,
    `"messages":{\n${entries(schema.messages)}}}`,
    '',
  ].join('\n');
}

/** The schema file as the pinned modules produce it today. */
export async function generateSchemaText(): Promise<string> {
  return renderSchema(buildSchema(await loadSchemaSources()));
}

async function main(): Promise<void> {
  const text = await generateSchemaText();
  const path = fileURLToPath(SCHEMA_FILE);
  if (process.argv.includes('--check')) {
    const committed = await readFile(path, 'utf8').catch(() => '');
    if (committed !== text) {
      process.stderr.write(`${path} is stale: run npm run generate:protobuf\n`);
      process.exitCode = 1;
    }
    return;
  }
  await writeFile(path, text);
  process.stdout.write(`wrote ${path} (${Buffer.byteLength(text)} bytes)\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
