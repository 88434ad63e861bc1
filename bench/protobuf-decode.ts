// How long the audit decoder takes to turn a protobuf request body into JSON (audit level Request
// only): the schema's first load, then a typical Deployment as kubectl sends it, the same
// Deployment as the API server stores it (status, managedFields), and large ConfigMaps.
//
//   node bench/protobuf-decode.ts [iterations=2000]
//
// Prints one line per body: size, median and p99 microseconds per decode, and JSON.parse of the
// same object's JSON for scale.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createProtobufBodyDecoder } from '../gateway/audit/protobuf/decode-body.ts';
import { SCHEMA_JSON } from '../gateway/audit/protobuf/schema.gen.ts';
import { kubernetesBody, ProtoWriter } from '../gateway/audit/protobuf/test-support/proto-writer.ts';

const iterations = Number(process.argv[2] ?? 2000);
const fixtures = new URL('../gateway/audit/protobuf/testdata/', import.meta.url);
const writes = JSON.parse(readFileSync(new URL('kubectl-writes.json', fixtures), 'utf8')) as { command: string; body: string }[];
const stored = JSON.parse(readFileSync(new URL('api-server-objects.json', fixtures), 'utf8')) as { path: string; protobuf: string }[];

function configMap(keys: number, valueBytes: number): Buffer {
  const data = new ProtoWriter().bytes(1, new ProtoWriter().bytes(1, 'large').bytes(3, 'team-a'));
  const value = 'x'.repeat(valueBytes);
  for (let i = 0; i < keys; i++) data.bytes(2, new ProtoWriter().bytes(1, `key-${String(i)}`).bytes(2, value));
  return kubernetesBody('v1', 'ConfigMap', data);
}

const bodies: { name: string; body: Buffer }[] = [
  { name: 'Deployment as kubectl create deployment sends it', body: Buffer.from(writes.find((w) => w.command.startsWith('create deployment'))?.body ?? '', 'base64') },
  { name: 'Deployment as the API server stores it', body: Buffer.from(stored.find((o) => o.path.includes('/deployments/'))?.protobuf ?? '', 'base64') },
  { name: 'ConfigMap, 1000 keys of 1 KiB', body: configMap(1000, 1024) },
  { name: 'ConfigMap, one 3 MiB value', body: configMap(1, 3 * 1024 * 1024 - 200) },
];

const decode = createProtobufBodyDecoder();
const loadStart = performance.now();
decode(bodies[0]?.body ?? Buffer.alloc(0));
process.stdout.write(`first decode (parses the ${String(SCHEMA_JSON.length)}-byte schema): ${(performance.now() - loadStart).toFixed(1)} ms\n`);

function timings(run: () => unknown, count: number): number[] {
  for (let i = 0; i < Math.min(200, count); i++) run();
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    run();
    times.push((performance.now() - start) * 1000);
  }
  return times.sort((a, b) => a - b);
}

const at = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

for (const { name, body } of bodies) {
  const count = body.length > 1_000_000 ? Math.max(20, Math.floor(iterations / 50)) : iterations;
  const json = JSON.stringify(decode(body));
  const ours = timings(() => decode(body), count);
  const parse = timings(() => JSON.parse(json) as unknown, count);
  process.stdout.write(`${name}: ${String(body.length)} bytes, decode median ${at(ours, 0.5).toFixed(1)} µs, p99 ${at(ours, 0.99).toFixed(1)} µs (JSON.parse of its ${String(json.length)}-byte JSON: median ${at(parse, 0.5).toFixed(1)} µs)\n`);
}
