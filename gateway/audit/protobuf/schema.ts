// The compact schema of Kubernetes' protobuf types that the audit decoder reads (schema.gen.ts,
// written by generate-schema.ts from the generated.proto and Go files of k8s.io/api and
// k8s.io/apimachinery). It is JSON text in a module, so the build emits it with the code (no asset
// to copy into the image); it is parsed on first use: only a gateway at audit level Request that
// receives a protobuf body needs it.
import { SCHEMA_JSON } from './schema.gen.ts';
import type { ProtobufSchema } from './schema-types.ts';

export { SCALAR_TYPES, type ProtobufSchema, type ScalarType, type SchemaField } from './schema-types.ts';

let loaded: ProtobufSchema | undefined;

/** The checked-in schema, parsed once. */
export function protobufSchema(): ProtobufSchema {
  loaded ??= JSON.parse(SCHEMA_JSON) as ProtobufSchema;
  return loaded;
}
