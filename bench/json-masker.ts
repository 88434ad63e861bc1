// The streaming masker alone, in-process: a generated
// 16 MiB Secret list (10k items with managedFields, three data values each) masked in 64 KiB
// chunks, five times.
//   npm run bench:masker
import { JsonMasker } from '../gateway/mask/json-masker.ts';
import { maskRulesFor } from '../gateway/mask/mask-plan.ts';
import { printUsageOnHelp } from './usage.ts';

printUsageOnHelp('npm run bench:masker');
const items = Array.from({ length: 10_000 }, (_, i) => ({
  metadata: {
    name: `s-${i}`, namespace: 'bench', uid: '6f1c1d1e-0000-4000-8000-000000000001', resourceVersion: String(1000 + i),
    creationTimestamp: '2026-11-26T12:00:00Z', labels: { app: 'bench', tier: 'x' },
    managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: '2026-11-26T12:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { '.': {}, 'f:a': {}, 'f:b': {} }, 'f:type': {} } }],
  },
  data: { a: Buffer.alloc(300, i % 256).toString('base64'), b: Buffer.alloc(500, 7).toString('base64'), c: Buffer.alloc(100, 9).toString('base64') },
  type: 'Opaque',
}));
const doc = Buffer.from(JSON.stringify({ kind: 'SecretList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items }));
const rules = maskRulesFor({ resourceRequest: true, verb: 'list', apiGroup: '', resource: 'secrets', subresource: '', namespace: 'bench', name: '', path: '/api/v1/namespaces/bench/secrets' }, undefined);
const times: number[] = [];
let written = 0;
for (let round = 0; round < 5; round++) {
  const started = performance.now();
  const masker = new JsonMasker(rules);
  written = 0;
  for (let at = 0; at < doc.length; at += 65_536) for (const piece of masker.push(doc.subarray(at, at + 65_536))) written += piece.length;
  for (const piece of masker.end()) written += piece.length;
  times.push(performance.now() - started);
}
const sorted = [...times].sort((a, b) => a - b);
console.log(`masked ${(doc.length / 1048576).toFixed(1)} MiB into ${(written / 1048576).toFixed(1)} MiB: median ${(sorted[2] ?? 0).toFixed(1)} ms, best ${(sorted[0] ?? 0).toFixed(1)} ms of 5`);
