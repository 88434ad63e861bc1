// The shape of the protobuf schema (schema.gen.ts), shared by the generator and the decoder.

export const SCALAR_TYPES = ['string', 'int32', 'int64', 'bool', 'bytes'] as const;
export type ScalarType = (typeof SCALAR_TYPES)[number];

/**
 * One field: its number on the wire, its JSON name ('' when inlined), its type (a scalar or a
 * message name) and flags, each a letter:
 * r repeated, m map (string keys), p a Go pointer (absent is nil, not the zero value),
 * o omitempty, z omitzero, i inlined into the parent's JSON, h never written as JSON (`json:"-"`).
 */
export type SchemaField = readonly [number: number, json: string, type: string, flags: string];

export interface ProtobufSchema {
  /** The modules the schema was generated from. */
  readonly source: string;
  /** Message name (`core.v1.ConfigMap`, `meta.v1.ObjectMeta`) → its fields in Go declaration order. */
  readonly messages: Readonly<Record<string, readonly SchemaField[]>>;
  /** Messages whose Go type inlines metav1.TypeMeta: as a body, apiVersion and kind come from the envelope. */
  readonly typeMeta: readonly string[];
  /** Messages whose Go type is a slice (`ExtraValue []string`): JSON arrays of their field 1. */
  readonly slices: readonly string[];
  /** apiVersion → kind → message. */
  readonly kinds: Readonly<Record<string, Readonly<Record<string, string>>>>;
}
