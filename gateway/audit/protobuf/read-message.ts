// Reads a message's bytes into the values Go's generated Unmarshal would set, field by field, with
// its rules for repeated occurrences: a scalar is overwritten, a repeated field appended to (packed
// or not), a map entry set (its value fresh each time), a nested message merged into what an earlier
// occurrence set, except metav1.Time and MicroTime, whose Unmarshal replaces the whole value. What
// the values become in JSON is render-json.ts's business.
import type { FieldPlan, MessagePlan, MessagePlans } from './message-plan.ts';
import { goString, isValidUtf8 } from './go-text.ts';
import { quantityJson } from './quantity.ts';
import { int32Of, int64Of, ProtobufBodyError, WireReader, WIRE_BYTES, WIRE_VARINT } from './wire.ts';

/** A decoded message: one slot per schema field (undefined: never on the wire). */
export type MessageState = unknown[];
/** A map field's entries, keyed by their (valid UTF-8) keys. */
export type MapState = Map<string, unknown>;

/** A Time or MicroTime sent as zero bytes: Go's zero time, not the Unix epoch. */
export const ZERO_TIME: MessageState = Object.freeze([]) as unknown as MessageState;

/** The Go zero value of a scalar (bytes: nil, which JSON writes as null). */
export function zeroScalar(type: string): unknown {
  return type === 'string' ? '' : type === 'bool' ? false : type === 'bytes' ? undefined : 0;
}

function scalarValue(field: FieldPlan, r: WireReader): unknown {
  switch (field.scalar) {
    case 'int32': return int32Of(r.varint());
    case 'int64': return int64Of(r.varint());
    case 'bool': { const v = r.varint(); return v.lo !== 0 || v.hi !== 0; }
    case 'string': { const { start, end } = r.delimited(); return goString(r.buf, start, end); }
    default: { const { start, end } = r.delimited(); return r.buf.subarray(start, end); }
  }
}

function isVarintScalar(field: FieldPlan): boolean {
  return field.scalar === 'int32' || field.scalar === 'int64' || field.scalar === 'bool';
}

function wireError(field: FieldPlan, wire: number, what = `field ${String(field.number)}`): ProtobufBodyError {
  return new ProtobufBodyError(`${what} of ${field.owner} has wire type ${String(wire)}`);
}

/**
 * Quantity's own Unmarshal parses every string it meets, so a bad one fails the body even when a
 * later one replaces it; the slot keeps the JSON form of the last.
 */
function readQuantityInto(plan: MessagePlan, r: WireReader, state: MessageState): void {
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field !== 1) { r.skip(wire); continue; }
    if (wire !== WIRE_BYTES) throw new ProtobufBodyError(`field 1 of ${plan.name} has wire type ${String(wire)}`);
    const { start, end } = r.delimited();
    state[0] = quantityJson(goString(r.buf, start, end));
  }
}

/**
 * Reads messages of one schema. Reading recurses once per nested message, so at most as deep as
 * the schema's types nest (14 levels today: the generator refuses recursive messages); unknown
 * fields, groups included, are skipped without recursing.
 */
export class MessageReader {
  private readonly plans: MessagePlans;

  constructor(plans: MessagePlans) {
    this.plans = plans;
  }

  /** Reads `buf[start, end)` as a message of this plan. */
  read(plan: MessagePlan, buf: Buffer, bounds: { start: number; end: number }): MessageState {
    const state: MessageState = [];
    this.readInto(plan, new WireReader(buf, bounds.start, bounds.end), state);
    return state;
  }

  private readInto(plan: MessagePlan, r: WireReader, state: MessageState): void {
    while (!r.done) {
      const { field: number, wire } = r.tag();
      const field = plan.byNumber.get(number);
      if (field === undefined) r.skip(wire);
      else this.field(field, wire, r, state);
    }
  }

  private field(field: FieldPlan, wire: number, r: WireReader, state: MessageState): void {
    if (field.map) {
      if (wire !== WIRE_BYTES) throw wireError(field, wire);
      const map = (state[field.index] ?? new Map()) as MapState;
      state[field.index] = map;
      this.mapEntry(field, r, map);
      return;
    }
    const expected = isVarintScalar(field) ? WIRE_VARINT : WIRE_BYTES;
    if (field.repeated) {
      if (wire !== expected && !(isVarintScalar(field) && wire === WIRE_BYTES)) throw wireError(field, wire);
      const list = (state[field.index] ?? []) as unknown[];
      this.repeated(field, wire, r, list);
      // A packed field with no elements leaves Go's slice nil.
      if (list.length > 0) state[field.index] = list;
      return;
    }
    if (wire !== expected) throw wireError(field, wire);
    state[field.index] = field.scalar === undefined ? this.message(field, r, state[field.index] as MessageState | undefined) : scalarValue(field, r);
  }

  /** A nested message's bytes read into `into` (a fresh state when undefined). */
  private message(field: FieldPlan, r: WireReader, into: MessageState | undefined): MessageState {
    const { start, end } = r.delimited();
    const plan = this.plans.plan(field.message);
    if (plan.special === 'Time' || plan.special === 'MicroTime') return start === end ? ZERO_TIME : this.read(plan, r.buf, { start, end });
    const state = into === undefined || into === ZERO_TIME ? [] : into;
    if (plan.special === 'Quantity') readQuantityInto(plan, new WireReader(r.buf, start, end), state);
    else this.readInto(plan, new WireReader(r.buf, start, end), state);
    return state;
  }

  private repeated(field: FieldPlan, wire: number, r: WireReader, list: unknown[]): void {
    if (isVarintScalar(field) && wire === WIRE_BYTES) {
      const { start, end } = r.delimited();
      const packed = new WireReader(r.buf, start, end);
      while (!packed.done) list.push(scalarValue(field, packed));
      return;
    }
    list.push(field.scalar === undefined ? this.message(field, r, undefined) : scalarValue(field, r));
  }

  /** One map entry: key (field 1) and value (field 2), either of them possibly absent. */
  private mapEntry(field: FieldPlan, r: WireReader, map: MapState): void {
    const { start, end } = r.delimited();
    const entry = new WireReader(r.buf, start, end);
    let key = '';
    let value: unknown;
    while (!entry.done) {
      const { field: number, wire } = entry.tag();
      if (number === 1) {
        if (wire !== WIRE_BYTES) throw wireError(field, wire, `a key of map ${field.json}`);
        const bounds = entry.delimited();
        if (!isValidUtf8(r.buf, bounds.start, bounds.end)) throw new ProtobufBodyError(`a map key of ${field.owner}.${field.json} is not valid UTF-8`);
        key = r.buf.toString('utf8', bounds.start, bounds.end);
      } else if (number === 2) {
        if (wire !== (isVarintScalar(field) ? WIRE_VARINT : WIRE_BYTES)) throw wireError(field, wire, `a value of map ${field.json}`);
        value = field.scalar === undefined ? this.message(field, entry, undefined) : scalarValue(field, entry);
      } else {
        entry.skip(wire);
      }
    }
    map.set(key, value ?? this.zeroMapValue(field));
  }

  /** An entry without a value holds the zero value (Go: `mapvalue := &T{}` or `[]byte{}`). */
  private zeroMapValue(field: FieldPlan): unknown {
    if (field.scalar === 'bytes') return Buffer.alloc(0);
    if (field.scalar !== undefined) return zeroScalar(field.scalar);
    const special = this.plans.plan(field.message).special;
    return special === 'Time' || special === 'MicroTime' ? ZERO_TIME : [];
  }
}
