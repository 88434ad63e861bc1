// A Kubernetes protobuf body (`application/vnd.kubernetes.protobuf`, what kubectl and client-go
// send for built-in types) as the JSON the API server writes for the same object. The body is the
// 4-byte magic `k8s\0` and a runtime.Unknown envelope: the object's apiVersion and kind, and its
// message bytes. The kind's message comes from the generated schema (schema.gen.ts); a kind the
// schema does not have (a custom resource, an aggregated API's type), a malformed body or a value
// with no exact JSON form throws ProtobufBodyError saying why: nothing is guessed.
import { createMessagePlans, type MessagePlans } from './message-plan.ts';
import { MessageReader } from './read-message.ts';
import { JsonRenderer } from './render-json.ts';
import { protobufSchema, type ProtobufSchema } from './schema.ts';
import { ProtobufBodyError } from './wire.ts';

export { ProtobufBodyError };

export const KUBERNETES_PROTOBUF_MAGIC = Buffer.from('k8s\0', 'latin1');

export type ProtobufBodyDecoder = (body: Buffer) => unknown;

function envelope(plans: MessagePlans, reader: MessageReader, body: Buffer): { apiVersion: string; kind: string; raw: Buffer } {
  if (body.length < KUBERNETES_PROTOBUF_MAGIC.length || !body.subarray(0, 4).equals(KUBERNETES_PROTOBUF_MAGIC)) {
    throw new ProtobufBodyError('the body does not start with the Kubernetes protobuf magic k8s\\0');
  }
  if (body.length === KUBERNETES_PROTOBUF_MAGIC.length) throw new ProtobufBodyError('the body has no envelope after its magic');
  const unknown = plans.plan('runtime.Unknown');
  const state = reader.read(unknown, body, { start: 4, end: body.length });
  const typeMetaField = unknown.byNumber.get(1);
  const rawField = unknown.byNumber.get(2);
  const typeMeta = typeMetaField === undefined ? undefined : state[typeMetaField.index] as unknown[] | undefined;
  const typePlan = plans.plan('runtime.TypeMeta');
  const text = (n: number): string => {
    const field = typePlan.byNumber.get(n);
    return field === undefined ? '' : (typeMeta?.[field.index] ?? '') as string;
  };
  const raw = (rawField === undefined ? undefined : state[rawField.index]) as Buffer | undefined;
  return { apiVersion: text(1), kind: text(2), raw: raw ?? Buffer.alloc(0) };
}

/** A decoder over a schema (the checked-in one by default, loaded on the first call). */
export function createProtobufBodyDecoder(schema?: ProtobufSchema): ProtobufBodyDecoder {
  let plans: MessagePlans | undefined;
  let reader: MessageReader | undefined;
  let renderer: JsonRenderer | undefined;
  return (body) => {
    plans ??= createMessagePlans(schema ?? protobufSchema());
    reader ??= new MessageReader(plans);
    renderer ??= new JsonRenderer(plans);
    const { apiVersion, kind, raw } = envelope(plans, reader, body);
    const message = plans.messageFor(apiVersion, kind);
    if (message === undefined) {
      throw new ProtobufBodyError(`the decoder has no schema for ${JSON.stringify(apiVersion)} kind ${JSON.stringify(kind)} (built-in types only: not custom resources or aggregated APIs)`);
    }
    const plan = plans.plan(message);
    const object = renderer.message(plan, reader.read(plan, raw, { start: 0, end: raw.length }));
    // The API server sets apiVersion and kind from the envelope (TypeMeta is never on the wire).
    return plan.typeMeta ? { apiVersion, kind, ...(object as Record<string, unknown>) } : object;
  };
}
