// Random protobuf bodies for the decoder's property tests, generated from the schema: any kind,
// fields present or not, singular fields sent twice (Go merges them), repeated numbers packed or
// not, map entries without a key or a value, unknown fields, invalid UTF-8, zero and extreme
// numbers, and each special type in its odd forms (an empty Time, a non-canonical Quantity, an
// IntOrString of an impossible type, a RawExtension that is not JSON).
import { createMessagePlans, type FieldPlan, type MessagePlans } from '../message-plan.ts';
import type { ProtobufSchema } from '../schema-types.ts';
import { kubernetesBody, ProtoWriter } from './proto-writer.ts';

export type Rng = () => number;

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)] as T;
}

const STRINGS: readonly (string | Buffer)[] = [
  '', 'a', 'web-1', 'é☃', '😀 x', 'x'.repeat(40), '__proto__', 'constructor', 'a"b\\c<d>&',
  Buffer.from([0xff]), Buffer.from([0x61, 0xe2, 0x82]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xc0, 0xaf, 0x62]),
];
const KEYS = ['', 'a', 'b', 'app.kubernetes.io/name', '__proto__', 'é'];
const INT32 = [0, 1, -1, 7, 80, 2147483647, -2147483648];
const INT64: readonly (number | bigint)[] = [0, 1, -1, 30, 9007199254740991, -9007199254740991, 1700000000];
const TIME_SECONDS: readonly (number | bigint)[] = [0, 1, 1700000000, -62135596800, -62135596799, 253402300799, -1];
const RAW_JSON = ['{"a":1}', '[]', '"x"', 'null', ' {"b":[1,2,{"c":null}]}', '{"f:metadata":{"f:name":{}}}', '12', 'true', 'nope', '{"a":', ''];

/** A quantity string: mostly the forms people write, sometimes malformed. */
export function randomQuantity(rng: Rng): string {
  const sign = pick(rng, ['', '', '', '-', '+']);
  const digits = (n: number): string => Array.from({ length: n }, () => String(Math.floor(rng() * 10))).join('');
  const whole = pick(rng, ['0', '1', '10', '100', '1000', '1024', '1536', '3', '07', digits(1 + Math.floor(rng() * 25))]);
  const fraction = rng() < 0.3 ? `.${pick(rng, ['', '0', '5', '25', '000', digits(1 + Math.floor(rng() * 12))])}` : '';
  const suffix = pick(rng, ['', '', 'n', 'u', 'm', 'k', 'M', 'G', 'T', 'P', 'E', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'e3', 'E-2', 'e+10', 'e-20', 'e400', 'i', 'KiB', 'e', 'mm', 'x']);
  return rng() < 0.03 ? pick(rng, ['', '.', '-', '+.', '0', '00', '.5', '1.', 'Ki', ' 1']) : `${sign}${whole}${fraction}${suffix}`;
}

function randomString(rng: Rng): Buffer {
  return Buffer.from(pick(rng, STRINGS));
}

function randomInt(rng: Rng, pool: readonly (number | bigint)[], range: number): number | bigint {
  if (rng() < 0.02) return 2n ** 60n; // beyond 2^53: refused by the decoder, written by Go
  return rng() < 0.7 ? pick(rng, pool) : Math.floor((rng() - 0.5) * range);
}

class BodyGenerator {
  private readonly plans: MessagePlans;
  private readonly rng: Rng;
  private readonly maxDepth: number;

  constructor(plans: MessagePlans, rng: Rng, maxDepth: number) {
    this.plans = plans;
    this.rng = rng;
    this.maxDepth = maxDepth;
  }

  message(name: string, depth: number): ProtoWriter {
    const plan = this.plans.plan(name);
    const w = new ProtoWriter();
    if (plan.special !== undefined) return this.special(plan.special, w);
    if (depth <= this.maxDepth) {
      for (const field of [...plan.fields].sort(() => this.rng() - 0.5)) {
        if (this.rng() < (plan.slice ? 0.8 : 0.45)) this.field(w, field, depth);
      }
    }
    if (this.rng() < 0.05) this.unknownField(w);
    return w;
  }

  private special(kind: string, w: ProtoWriter): ProtoWriter {
    const rng = this.rng;
    switch (kind) {
      case 'Time': case 'MicroTime':
        if (rng() < 0.15) return w;
        if (rng() < 0.9) w.number(1, pick(rng, TIME_SECONDS));
        if (rng() < 0.5) w.number(2, pick(rng, [0, 1, 999, 1000, 1500, 999999999, -1, -1500, 1000000000]));
        return w;
      case 'Quantity': return rng() < 0.1 ? w : w.bytes(1, randomQuantity(rng));
      case 'IntOrString':
        if (rng() < 0.8) w.number(1, rng() < 0.03 ? 2 : pick(rng, [0, 1]));
        if (rng() < 0.7) w.number(2, pick(rng, INT32));
        if (rng() < 0.7) w.bytes(3, randomString(rng));
        return w;
      case 'Duration': return w.number(1, randomInt(rng, INT64, 1e12));
      default: // RawExtension, FieldsV1
        return rng() < 0.15 ? w : w.bytes(1, pick(rng, RAW_JSON));
    }
  }

  private value(w: ProtoWriter, field: FieldPlan, number: number, depth: number): void {
    const rng = this.rng;
    switch (field.scalar) {
      case 'string': w.bytes(number, randomString(rng)); break;
      case 'bytes': w.bytes(number, Buffer.from(Array.from({ length: Math.floor(rng() * 6) }, () => Math.floor(rng() * 256)))); break;
      case 'int32': w.number(number, randomInt(rng, INT32, 1e6)); break;
      case 'int64': w.number(number, randomInt(rng, INT64, 1e12)); break;
      case 'bool': w.number(number, pick(rng, [0, 1, 1, 2])); break;
      default: w.bytes(number, this.message(field.message, depth + 1));
    }
  }

  private mapEntries(w: ProtoWriter, field: FieldPlan, depth: number): void {
    const rng = this.rng;
    for (let i = Math.floor(rng() * 3); i > 0; i--) {
      const entry = new ProtoWriter();
      if (rng() < 0.9) entry.bytes(1, pick(rng, KEYS));
      if (rng() < 0.9) this.value(entry, field, 2, depth);
      w.bytes(field.number, entry);
    }
  }

  private field(w: ProtoWriter, field: FieldPlan, depth: number): void {
    const rng = this.rng;
    if (field.map) {
      this.mapEntries(w, field, depth);
      return;
    }
    const numeric = field.scalar === 'int32' || field.scalar === 'int64' || field.scalar === 'bool';
    const count = field.repeated ? 1 + Math.floor(rng() * 3) : rng() < 0.15 ? 2 : 1;
    if (field.repeated && numeric && rng() < 0.5) {
      const packed = new ProtoWriter();
      for (let i = 0; i < count; i++) packed.varint(field.scalar === 'bool' ? pick(rng, [0, 1]) : randomInt(rng, field.scalar === 'int32' ? INT32 : INT64, 1e6));
      w.bytes(field.number, packed);
      return;
    }
    for (let i = 0; i < count; i++) this.value(w, field, field.number, depth);
  }

  private unknownField(w: ProtoWriter): void {
    const number = pick(this.rng, [99, 1000, 536870911]);
    switch (pick(this.rng, [0, 1, 2, 5])) {
      case 0: w.number(number, 12345); break;
      case 1: w.tag(number, 1).raw(Buffer.alloc(8, 7)); break;
      case 5: w.tag(number, 5).raw(Buffer.alloc(4, 7)); break;
      default: w.bytes(number, 'unknown');
    }
  }
}

export interface RandomBody { readonly apiVersion: string; readonly kind: string; readonly body: Buffer }

/** Random bodies of random kinds of the schema. */
export function randomBodies(schema: ProtobufSchema, rng: Rng, count: number, maxDepth = 5): RandomBody[] {
  const generator = new BodyGenerator(createMessagePlans(schema), rng, maxDepth);
  return Array.from({ length: count }, () => {
    const apiVersion = pick(rng, Object.keys(schema.kinds));
    const kind = pick(rng, Object.keys(schema.kinds[apiVersion] ?? {}));
    const message = schema.kinds[apiVersion]?.[kind] ?? '';
    return { apiVersion, kind, body: kubernetesBody(apiVersion, kind, generator.message(message, 0)) };
  });
}
