// The compact schema of Kubernetes' protobuf types that the audit decoder reads
// (schema.gen.json, written by generate-schema.ts from the generated.proto and Go files of
// k8s.io/api and k8s.io/apimachinery). It is loaded on first use: only a gateway at audit level
// Request that receives a protobuf body needs it.
import { readFileSync } from 'node:fs';

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

export const SCHEMA_FILE = new URL('schema.gen.json', import.meta.url);

let loaded: ProtobufSchema | undefined;

/** The checked-in schema, read once. */
export function protobufSchema(): ProtobufSchema {
  loaded ??= JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as ProtobufSchema;
  return loaded;
}
