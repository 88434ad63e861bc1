// Writes a decoded message as the JSON value Go's encoding/json writes for the same Go value:
// fields by their JSON names in declaration order, embedded structs inlined, omitempty and omitzero
// as Go applies them (a nil pointer, slice or map, or a zero scalar, is left out; a struct never
// is), nil without omitempty as null, bytes as base64, and the special types in their own forms.
import { isUtf8 } from 'node:buffer';
import type { FieldPlan, MessagePlan, MessagePlans } from './message-plan.ts';
import { ZERO_TIME, zeroScalar, type MapState, type MessageState } from './read-message.ts';
import { formatDuration, formatMicroTime, formatTime } from './go-time.ts';
import { ProtobufBodyError } from './wire.ts';

type JsonObject = Record<string, unknown>;

/** Sets a member even when its name is `__proto__` (a map key may be anything). */
function setOwn(target: JsonObject, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function scalarJson(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'bigint') throw new ProtobufBodyError(`the integer ${value.toString()} is beyond what JSON numbers hold exactly (±2^53)`);
  return value;
}

function isZeroScalar(value: unknown): boolean {
  return value === '' || value === 0 || value === false;
}

function slotOf(plan: MessagePlan, state: MessageState | undefined, number: number): unknown {
  const field = plan.byNumber.get(number);
  return field === undefined || state === undefined ? undefined : state[field.index];
}

/** Bytes written as JSON by a RawExtension or FieldsV1: kept only when they are JSON. */
function embeddedJson(raw: Buffer, what: string): unknown {
  // Go copies invalid UTF-8 inside embedded JSON through untouched; no JS string can say that.
  if (!isUtf8(raw)) throw new ProtobufBodyError(`a ${what} holds bytes that are not UTF-8`);
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new ProtobufBodyError(`a ${what} holds bytes that are not JSON`);
  }
}

// The first bytes by which apimachinery tells CBOR (which it would convert) from JSON.
const CBOR_SELF_DESCRIBED = Buffer.from([0xd9, 0xd9, 0xf7]);
const RAW_EXTENSION_JSON_STARTS = new Set('\t\r\n {["tfn-0123456789'.split('').map((c) => c.charCodeAt(0)));

function rawExtensionJson(raw: Buffer | undefined): unknown {
  if (raw === undefined) return null;
  if (raw.subarray(0, 3).equals(CBOR_SELF_DESCRIBED)) throw new ProtobufBodyError('a RawExtension holds CBOR, which the decoder does not read');
  if (!RAW_EXTENSION_JSON_STARTS.has(raw[0] ?? -1)) throw new ProtobufBodyError('a RawExtension holds neither JSON nor CBOR');
  return embeddedJson(raw, 'RawExtension');
}

function fieldsV1Json(raw: Buffer | undefined): unknown {
  if (raw === undefined || raw.length === 0) return null;
  const first = raw[0] ?? 0;
  if (first === 0xf6 || (first >= 0xa0 && first <= 0xbf) || (first >= 0xc6 && first <= 0xdb)) {
    throw new ProtobufBodyError('managedFields hold CBOR, which the decoder does not read');
  }
  return embeddedJson(raw, 'FieldsV1');
}

function intOrStringJson(plan: MessagePlan, state: MessageState | undefined): unknown {
  const type = slotOf(plan, state, 1) ?? 0;
  if (type === 0) return scalarJson(slotOf(plan, state, 2) ?? 0);
  if (type === 1) return slotOf(plan, state, 3) ?? '';
  throw new ProtobufBodyError(`an IntOrString has type ${typeof type === 'number' || typeof type === 'bigint' ? type.toString() : '?'}, neither int (0) nor string (1)`);
}

function timeSeconds(value: unknown): number {
  if (typeof value === 'bigint') throw new ProtobufBodyError(`a time ${value.toString()} seconds from 1970 is outside the years 1 to 9999`);
  return (value ?? 0) as number;
}

function specialJson(plan: MessagePlan, state: MessageState | undefined): unknown {
  switch (plan.special) {
    case 'Time':
      return state === undefined || state === ZERO_TIME ? null : formatTime(timeSeconds(slotOf(plan, state, 1)));
    case 'MicroTime':
      return state === undefined || state === ZERO_TIME ? null : formatMicroTime(timeSeconds(slotOf(plan, state, 1)), (slotOf(plan, state, 2) ?? 0) as number);
    case 'Duration': {
      const nanos = slotOf(plan, state, 1) ?? 0;
      return formatDuration(BigInt(nanos as number | bigint));
    }
    // Read (and checked) as it arrived: the slot holds its JSON form already.
    case 'Quantity': return state?.[0] ?? '0';
    case 'IntOrString': return intOrStringJson(plan, state);
    case 'RawExtension': return rawExtensionJson(slotOf(plan, state, 1) as Buffer | undefined);
    default: return fieldsV1Json(slotOf(plan, state, 1) as Buffer | undefined);
  }
}

export class JsonRenderer {
  private readonly plans: MessagePlans;

  constructor(plans: MessagePlans) {
    this.plans = plans;
  }

  /** The JSON value of a message; `state` undefined is the Go zero value of its type. */
  message(plan: MessagePlan, state: MessageState | undefined): unknown {
    if (plan.special !== undefined) return specialJson(plan, state);
    const [items] = plan.fields;
    if (plan.slice && items !== undefined) return ((state?.[items.index] ?? []) as unknown[]).map((v) => this.element(items, v));
    const out: JsonObject = {};
    for (const field of plan.fields) this.field(out, field, state?.[field.index]);
    return out;
  }

  /** One element of a repeated field or one map value. */
  private element(field: FieldPlan, value: unknown): unknown {
    return field.scalar === undefined ? this.message(this.plans.plan(field.message), value as MessageState) : scalarJson(value);
  }

  private field(out: JsonObject, field: FieldPlan, value: unknown): void {
    if (field.hidden) return;
    if (field.inline) {
      Object.assign(out, this.message(this.plans.plan(field.message), value as MessageState | undefined));
      return;
    }
    if (this.isNillable(field)) this.nillable(out, field, value);
    else if (field.scalar !== undefined) this.scalar(out, field, value ?? zeroScalar(field.scalar));
    else this.struct(out, field, value as MessageState | undefined);
  }

  /** Go values that can be nil (pointers, slices, maps, bytes): absent is nil. */
  private isNillable(field: FieldPlan): boolean {
    return field.repeated || field.map || field.pointer || field.scalar === 'bytes' || this.isSlice(field);
  }

  /** nil is left out by omitempty and omitzero, else null; an empty collection is left out by omitempty. */
  private nillable(out: JsonObject, field: FieldPlan, value: unknown): void {
    if (value === undefined) {
      if (!field.omitempty && !field.omitzero) setOwn(out, field.json, null);
    } else if (!(field.omitempty && this.isEmptyCollection(field, value))) {
      setOwn(out, field.json, this.present(field, value));
    }
  }

  private scalar(out: JsonObject, field: FieldPlan, value: unknown): void {
    if (!((field.omitempty || field.omitzero) && isZeroScalar(value))) setOwn(out, field.json, scalarJson(value));
  }

  /** A struct: omitempty never leaves it out; omitzero (on Time and MicroTime only) when it is zero. */
  private struct(out: JsonObject, field: FieldPlan, value: MessageState | undefined): void {
    const json = this.message(this.plans.plan(field.message), value);
    if (!(field.omitzero && json === null)) setOwn(out, field.json, json);
  }

  private isSlice(field: FieldPlan): boolean {
    return field.scalar === undefined && this.plans.plan(field.message).slice;
  }

  /** For omitempty: an empty (not nil) slice, map or byte string. */
  private isEmptyCollection(field: FieldPlan, value: unknown): boolean {
    if (field.pointer) return false;
    if (Buffer.isBuffer(value)) return value.length === 0;
    if (field.map) return (value as MapState).size === 0;
    if (field.repeated) return (value as unknown[]).length === 0;
    if (this.isSlice(field)) return ((value as MessageState)[0] as unknown[] | undefined ?? []).length === 0;
    return false;
  }

  private present(field: FieldPlan, value: unknown): unknown {
    if (field.repeated) return (value as unknown[]).map((v) => this.element(field, v));
    if (field.map) {
      const out: JsonObject = {};
      for (const [key, v] of value as MapState) setOwn(out, key, this.element(field, v));
      return out;
    }
    return this.element(field, value);
  }
}
