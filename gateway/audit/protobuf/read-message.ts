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

// Reading recurses once per nested message, so at most as deep as the schema's types nest (14
// levels today: the generator refuses recursive messages); unknown fields, groups included, are
// skipped without recursing.
interface Context {
  readonly plans: MessagePlans;
}

function wireError(plan: MessagePlan, field: FieldPlan, wire: number): ProtobufBodyError {
  return new ProtobufBodyError(`field ${String(field.number)} of ${plan.name} has wire type ${String(wire)}`);
}

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

/** A nested message's bytes read into `into` (a fresh state when undefined). */
function messageValue(field: FieldPlan, r: WireReader, into: MessageState | undefined, ctx: Context): MessageState {
  const { start, end } = r.delimited();
  const plan = ctx.plans.plan(field.message);
  if (plan.special === 'Time' || plan.special === 'MicroTime') {
    if (start === end) return ZERO_TIME;
    return readMessage(plan, r.buf, { start, end }, ctx);
  }
  const state = into === undefined || into === ZERO_TIME ? [] : into;
  if (plan.special === 'Quantity') readQuantityInto(plan, new WireReader(r.buf, start, end), state);
  else readMessageInto(plan, new WireReader(r.buf, start, end), state, ctx);
  return state;
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

function readRepeated(field: FieldPlan, wire: number, r: WireReader, list: unknown[], ctx: Context): void {
  if (isVarintScalar(field) && wire === WIRE_BYTES) {
    const { start, end } = r.delimited();
    const packed = new WireReader(r.buf, start, end);
    while (!packed.done) list.push(scalarValue(field, packed));
    return;
  }
  if (field.scalar !== undefined) list.push(scalarValue(field, r));
  else list.push(messageValue(field, r, undefined, ctx));
}

/** One map entry: key (field 1) and value (field 2), either of them possibly absent. */
function readMapEntry(plan: MessagePlan, field: FieldPlan, r: WireReader, map: MapState, ctx: Context): void {
  const { start, end } = r.delimited();
  const entry = new WireReader(r.buf, start, end);
  let key = '';
  let value: unknown;
  while (!entry.done) {
    const { field: number, wire } = entry.tag();
    if (number === 1) {
      if (wire !== WIRE_BYTES) throw new ProtobufBodyError(`a map key of ${plan.name}.${field.json} has wire type ${String(wire)}`);
      const bounds = entry.delimited();
      if (!isValidUtf8(r.buf, bounds.start, bounds.end)) throw new ProtobufBodyError(`a map key of ${plan.name}.${field.json} is not valid UTF-8`);
      key = r.buf.toString('utf8', bounds.start, bounds.end);
    } else if (number === 2) {
      if (wire !== (isVarintScalar(field) ? WIRE_VARINT : WIRE_BYTES)) throw new ProtobufBodyError(`a map value of ${plan.name}.${field.json} has wire type ${String(wire)}`);
      value = field.scalar === undefined ? messageValue(field, entry, undefined, ctx) : scalarValue(field, entry);
    } else {
      entry.skip(wire);
    }
  }
  map.set(key, value ?? zeroMapValue(field, ctx));
}

/** An entry without a value holds the zero value (Go: `mapvalue := &T{}` or `[]byte{}`). */
function zeroMapValue(field: FieldPlan, ctx: Context): unknown {
  if (field.scalar === 'bytes') return Buffer.alloc(0);
  if (field.scalar !== undefined) return zeroScalar(field.scalar);
  const special = ctx.plans.plan(field.message).special;
  return special === 'Time' || special === 'MicroTime' ? ZERO_TIME : [];
}

function readField(plan: MessagePlan, field: FieldPlan, wire: number, r: WireReader, state: MessageState, ctx: Context): void {
  if (field.map) {
    if (wire !== WIRE_BYTES) throw wireError(plan, field, wire);
    const map = (state[field.index] ?? new Map()) as MapState;
    state[field.index] = map;
    readMapEntry(plan, field, r, map, ctx);
    return;
  }
  const expected = isVarintScalar(field) ? WIRE_VARINT : WIRE_BYTES;
  if (field.repeated) {
    if (wire !== expected && !(isVarintScalar(field) && wire === WIRE_BYTES)) throw wireError(plan, field, wire);
    const list = (state[field.index] ?? []) as unknown[];
    readRepeated(field, wire, r, list, ctx);
    // A packed field with no elements leaves Go's slice nil.
    if (list.length > 0) state[field.index] = list;
    return;
  }
  if (wire !== expected) throw wireError(plan, field, wire);
  state[field.index] = field.scalar === undefined ? messageValue(field, r, state[field.index] as MessageState | undefined, ctx) : scalarValue(field, r);
}

function readMessageInto(plan: MessagePlan, r: WireReader, state: MessageState, ctx: Context): void {
  while (!r.done) {
    const { field: number, wire } = r.tag();
    const field = plan.byNumber.get(number);
    if (field === undefined) r.skip(wire);
    else readField(plan, field, wire, r, state, ctx);
  }
}

/** Reads `buf[start, end)` as a message of this plan. */
export function readMessage(plan: MessagePlan, buf: Buffer, bounds: { start: number; end: number }, ctx: Context): MessageState {
  const state: MessageState = [];
  readMessageInto(plan, new WireReader(buf, bounds.start, bounds.end), state, ctx);
  return state;
}
