// The schema's messages turned into lookup tables for the decoder, built on first use of each
// message and kept for the life of the schema.
import { SCALAR_TYPES, type ProtobufSchema, type ScalarType } from './schema-types.ts';
import { ProtobufBodyError } from './wire.ts';

export type SpecialKind = 'Time' | 'MicroTime' | 'Duration' | 'FieldsV1' | 'Quantity' | 'IntOrString' | 'RawExtension';

const SPECIALS: Readonly<Record<string, SpecialKind>> = {
  'meta.v1.Time': 'Time', 'meta.v1.MicroTime': 'MicroTime', 'meta.v1.Duration': 'Duration', 'meta.v1.FieldsV1': 'FieldsV1',
  'resource.Quantity': 'Quantity', 'intstr.IntOrString': 'IntOrString', 'runtime.RawExtension': 'RawExtension',
};

export interface FieldPlan {
  /** The message the field belongs to (for errors). */
  readonly owner: string;
  /** Where the field's value is kept in a decoded message (its position in the schema). */
  readonly index: number;
  readonly number: number;
  readonly json: string;
  /** The scalar type, or undefined for a message field. */
  readonly scalar: ScalarType | undefined;
  /** The message type of a message field. */
  readonly message: string;
  readonly repeated: boolean;
  readonly map: boolean;
  readonly pointer: boolean;
  readonly omitempty: boolean;
  readonly omitzero: boolean;
  readonly inline: boolean;
  readonly hidden: boolean;
}

export interface MessagePlan {
  readonly name: string;
  readonly fields: readonly FieldPlan[];
  readonly byNumber: ReadonlyMap<number, FieldPlan>;
  readonly special: SpecialKind | undefined;
  /** A Go slice type: its JSON is the array of field 1. */
  readonly slice: boolean;
  /** As a body, it carries apiVersion and kind (from the envelope). */
  readonly typeMeta: boolean;
}

export interface MessagePlans {
  plan(name: string): MessagePlan;
  /** The message for an envelope's apiVersion and kind, if the schema has it. */
  messageFor(apiVersion: string, kind: string): string | undefined;
}

export function createMessagePlans(schema: ProtobufSchema): MessagePlans {
  const plans = new Map<string, MessagePlan>();
  const slices = new Set(schema.slices);
  const typeMeta = new Set(schema.typeMeta);
  const build = (name: string): MessagePlan => {
    if (!Object.hasOwn(schema.messages, name)) throw new ProtobufBodyError(`the schema has no message ${name}`);
    const fields = (schema.messages[name] ?? []).map(([number, json, type, flags], index): FieldPlan => ({
      owner: name, index, number, json,
      scalar: (SCALAR_TYPES as readonly string[]).includes(type) ? type as ScalarType : undefined,
      message: type,
      repeated: flags.includes('r'), map: flags.includes('m'), pointer: flags.includes('p'),
      omitempty: flags.includes('o'), omitzero: flags.includes('z'), inline: flags.includes('i'), hidden: flags.includes('h'),
    }));
    return {
      name, fields, byNumber: new Map(fields.map((f) => [f.number, f])),
      special: Object.hasOwn(SPECIALS, name) ? SPECIALS[name] : undefined,
      slice: slices.has(name), typeMeta: typeMeta.has(name),
    };
  };
  return {
    plan: (name) => {
      let plan = plans.get(name);
      if (plan === undefined) { plan = build(name); plans.set(name, plan); }
      return plan;
    },
    messageFor: (apiVersion, kind) => {
      const kinds = Object.hasOwn(schema.kinds, apiVersion) ? schema.kinds[apiVersion] : undefined;
      return kinds !== undefined && Object.hasOwn(kinds, kind) ? kinds[kind] : undefined;
    },
  };
}
