// What the decoder writes for bodies built field by field: the Go JSON rules it follows (each case
// is also covered by decode-reference.test.ts against apimachinery itself, at random) and the
// reason it gives when it keeps a body as its digest instead.
import { describe, expect, it } from 'vitest';
import { createProtobufBodyDecoder, ProtobufBodyError } from './decode-body.ts';
import { kubernetesBody, ProtoWriter } from './test-support/proto-writer.ts';

const decode = createProtobufBodyDecoder();
const w = (): ProtoWriter => new ProtoWriter();
const meta = (name: string): ProtoWriter => w().bytes(1, name);
const time = (seconds: number): ProtoWriter => w().number(1, seconds);

function reason(body: Buffer): string {
  try {
    decode(body);
  } catch (error) {
    if (error instanceof ProtobufBodyError) return error.reason;
    throw error;
  }
  throw new Error('the body decoded');
}

describe('decoding a Kubernetes protobuf body', () => {
  it.each([
    {
      name: 'a ConfigMap: map fields, bytes as base64, apiVersion and kind from the envelope',
      body: kubernetesBody('v1', 'ConfigMap', w().bytes(1, meta('cm')).bytes(2, w().bytes(1, 'k').bytes(2, 'v')).bytes(3, w().bytes(1, 'bin').bytes(2, Buffer.from([0, 255])))),
      expected: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { k: 'v' }, binaryData: { bin: 'AP8=' } },
    },
    {
      // The empty metadata of a new object: every omitempty field left out, creationTimestamp (omitzero) too.
      name: 'empty fields as kubectl sends them',
      body: kubernetesBody('v1', 'Namespace', w().bytes(1, w().bytes(1, 'ns').bytes(2, '').bytes(3, '').bytes(8, ''))),
      expected: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' }, spec: {}, status: {} },
    },
    {
      name: 'a pointer set to zero is kept; a struct is never left out; a nil pointer or slice without omitempty is null',
      body: kubernetesBody('apps/v1', 'Deployment', w().bytes(2, w().number(1, 0))),
      expected: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: {}, spec: { replicas: 0, selector: null, template: { metadata: {}, spec: { containers: null } }, strategy: {} }, status: {} },
    },
    {
      name: 'an embedded struct inlined (EnvFromSource.configMapRef is a ConfigMapEnvSource embedding LocalObjectReference)',
      body: kubernetesBody('v1', 'PodTemplate', w().bytes(2, w().bytes(2, w().bytes(2, w().bytes(1, 'c').bytes(2, 'img').bytes(19, w().bytes(2, w().bytes(1, w().bytes(1, 'settings')))))))),
      expected: { apiVersion: 'v1', kind: 'PodTemplate', metadata: {}, template: { metadata: {}, spec: { containers: [{ name: 'c', image: 'img', envFrom: [{ configMapRef: { name: 'settings' } }], resources: {} }] } } },
    },
    {
      name: 'times: seconds as RFC 3339 in UTC, an empty Time as null, MicroTime with microseconds',
      body: kubernetesBody('coordination.k8s.io/v1', 'Lease', w().bytes(1, w().bytes(8, time(1700000000)).bytes(9, '')).bytes(2, w().bytes(3, w().number(1, 1700000000).number(2, 123456789)))),
      expected: {
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
        metadata: { creationTimestamp: '2023-11-14T22:13:20Z', deletionTimestamp: null }, spec: { acquireTime: '2023-11-14T22:13:20.123456Z' },
      },
    },
    {
      name: 'IntOrString as a number or a string, Quantity in canonical form',
      body: kubernetesBody('policy/v1', 'PodDisruptionBudget', w().bytes(2, w().bytes(1, w().number(1, 0).number(2, 2)).bytes(3, w().number(1, 1).bytes(3, '50%')))),
      expected: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: {}, spec: { minAvailable: 2, maxUnavailable: '50%' }, status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 } },
    },
    {
      name: 'quantities written as the API server writes them',
      body: kubernetesBody('v1', 'ResourceQuota', w().bytes(2, w().bytes(1, w().bytes(1, 'cpu').bytes(2, w().bytes(1, '1000m'))).bytes(1, w().bytes(1, 'memory').bytes(2, w().bytes(1, '1024Mi'))).bytes(1, w().bytes(1, 'pods').bytes(2, w())))),
      expected: { apiVersion: 'v1', kind: 'ResourceQuota', metadata: {}, spec: { hard: { cpu: '1', memory: '1Gi', pods: '0' } }, status: {} },
    },
    {
      name: 'a RawExtension as the JSON it holds, managedFields as raw JSON',
      body: kubernetesBody('apps/v1', 'ControllerRevision', w().bytes(1, w().bytes(17, w().bytes(1, 'kubectl').bytes(7, w().bytes(1, '{"f:data":{}}')))).bytes(2, w().bytes(1, '{"spec":{"x":[1,2]}}')).number(3, 2)),
      expected: { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:data': {} } }] }, data: { spec: { x: [1, 2] } }, revision: 2 },
    },
    {
      name: 'a singular field sent twice: the last scalar wins, nested messages merge, repeated fields append',
      body: kubernetesBody('v1', 'ConfigMap', w().bytes(1, w().bytes(1, 'first').bytes(14, 'a')).bytes(1, w().bytes(3, 'ns').bytes(1, 'second').bytes(14, 'b'))),
      expected: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'second', namespace: 'ns', finalizers: ['a', 'b'] } },
    },
    {
      name: 'unknown fields skipped (the API server drops them too)',
      body: kubernetesBody('v1', 'ConfigMap', w().bytes(1, meta('cm').number(99, 5).bytes(100, 'x')).tag(1000, 5).raw(Buffer.alloc(4))),
      expected: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } },
    },
    {
      name: 'invalid UTF-8 replaced byte by byte, as Go writes it; odd map keys kept as members',
      body: kubernetesBody('v1', 'ConfigMap', w().bytes(1, w().bytes(1, Buffer.from([0x61, 0xe2, 0x82, 0xff]))).bytes(2, w().bytes(1, '__proto__').bytes(2, 'x'))),
      expected: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a\uFFFD\uFFFD\uFFFD' }, data: JSON.parse('{"__proto__":"x"}') as unknown },
    },
  ])('$name', ({ body, expected }) => {
    expect(decode(body)).toStrictEqual(expected);
  });

  it.each([
    { name: 'no magic', body: Buffer.from('{"kind":"ConfigMap"}'), reason: 'the body does not start with the Kubernetes protobuf magic k8s\\0' },
    { name: 'only the magic', body: Buffer.from('k8s\0'), reason: 'the body has no envelope after its magic' },
    { name: 'a kind the schema lacks', body: kubernetesBody('example.com/v1', 'Widget', w()), reason: 'the decoder has no schema for "example.com/v1" kind "Widget" (built-in types only: not custom resources or aggregated APIs)' },
    { name: 'a kind in another version', body: kubernetesBody('v1', 'Deployment', w()), reason: 'the decoder has no schema for "v1" kind "Deployment" (built-in types only: not custom resources or aggregated APIs)' },
    { name: 'a truncated body', body: kubernetesBody('v1', 'ConfigMap', meta('cm')).subarray(0, -1), reason: 'a length runs past the end of the body (unexpected EOF)' },
    { name: 'a field of the wrong wire type', body: kubernetesBody('v1', 'ConfigMap', w().number(1, 1)), reason: 'field 1 of core.v1.ConfigMap has wire type 0' },
    { name: 'an impossible IntOrString', body: kubernetesBody('policy/v1', 'PodDisruptionBudget', w().bytes(2, w().bytes(1, w().number(1, 2)))), reason: 'an IntOrString has type 2, neither int (0) nor string (1)' },
    { name: 'a quantity that does not parse', body: kubernetesBody('v1', 'ResourceQuota', w().bytes(2, w().bytes(1, w().bytes(1, 'cpu').bytes(2, w().bytes(1, '1KiB'))))), reason: 'the quantity "1KiB" does not have the form of a quantity' },
    { name: 'CBOR in a RawExtension', body: kubernetesBody('apps/v1', 'ControllerRevision', w().bytes(2, w().bytes(1, Buffer.from([0xd9, 0xd9, 0xf7, 0xa0])))), reason: 'a RawExtension holds CBOR, which the decoder does not read' },
    { name: 'a RawExtension that is not JSON', body: kubernetesBody('apps/v1', 'ControllerRevision', w().bytes(2, w().bytes(1, '{"a":'))), reason: 'a RawExtension holds bytes that are not JSON' },
    { name: 'an int64 beyond 2^53', body: kubernetesBody('v1', 'ConfigMap', w().bytes(1, w().number(7, 2n ** 60n))), reason: 'the integer 1152921504606846976 is beyond what JSON numbers hold exactly (±2^53)' },
    { name: 'a time past the year 9999', body: kubernetesBody('v1', 'ConfigMap', w().bytes(1, w().bytes(8, time(253402300800)))), reason: 'a time 253402300800 seconds from 1970 is outside the years 1 to 9999' },
    { name: 'a varint of 11 bytes', body: kubernetesBody('v1', 'ConfigMap', w().bytes(1, w().tag(7, 0).raw(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])))), reason: 'a varint is longer than 10 bytes (integer overflow)' },
    { name: 'an end-group tag', body: kubernetesBody('v1', 'ConfigMap', w().tag(5, 4)), reason: 'wire type "end group" outside a group' },
    { name: 'field number 0', body: kubernetesBody('v1', 'ConfigMap', w().tag(0, 0).varint(1)), reason: 'illegal field number 0' },
  ])('keeps $name as its digest: $reason', ({ body, reason: expected }) => {
    expect(reason(body)).toBe(expected);
  });

  it('skips unknown fields nested in groups however deep, as Go does, without recursing', () => {
    const groups = Buffer.concat([Buffer.alloc(10_000, 0x5b), Buffer.alloc(10_000, 0x5c)]); // field 11, start group / end group
    expect(decode(kubernetesBody('v1', 'ConfigMap', w().bytes(1, meta('cm')).raw(groups)))).toStrictEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } });
    expect(reason(kubernetesBody('v1', 'ConfigMap', w().raw(Buffer.alloc(10, 0x5b))))).toBe('the body ends inside a field (unexpected EOF)');
  });
});
