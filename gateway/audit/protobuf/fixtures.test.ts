// The decoder on real bytes captured once from kubectl v1.36.3 and the API server
// (testdata/capture-fixtures.ts): kubectl's own protobuf writes must decode to exactly the JSON
// kubectl prints for the same object (--dry-run=client -o json: Go's encoding/json of the object
// it serialised), and objects of many kinds as the API server returns them in protobuf must decode
// to exactly what it returns for them in JSON. e2e/audit-protobuf.e2e.test.ts does the same live.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createProtobufBodyDecoder } from './decode-body.ts';

interface KubectlWrite { command: string; body: string; kubectlJson: unknown }
interface ServerObject { path: string; protobuf: string; json: unknown }

const load = (name: string): unknown => JSON.parse(readFileSync(new URL(`testdata/${name}`, import.meta.url), 'utf8'));
const writes = load('kubectl-writes.json') as KubectlWrite[];
const objects = load('api-server-objects.json') as ServerObject[];
const decode = createProtobufBodyDecoder();

describe('kubectl\'s protobuf writes', () => {
  it.each(writes.map((w) => [w.command, w] as const))('kubectl %s: the JSON kubectl prints for the object', (_command, write) => {
    expect(decode(Buffer.from(write.body, 'base64'))).toStrictEqual(write.kubectlJson);
  });
});

describe('objects as the API server stores them', () => {
  it.each(objects.map((o) => [o.path, o] as const))('GET %s: protobuf decodes to the JSON the API server returns', (_path, object) => {
    expect(decode(Buffer.from(object.protobuf, 'base64'))).toStrictEqual(object.json);
  });
});
