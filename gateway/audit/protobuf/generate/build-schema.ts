// Builds the decoder's schema from the sources: each proto message's fields (number, type,
// repeated or map) joined by field number with its Go struct's fields (JSON name, omitempty,
// omitzero, pointer, inlined), plus the index of kinds from each package's register.go. Every
// mismatch between the two sources, and every Go construct the decoder has no rule for, stops the
// generator with the message and field named: the decoder must never meet a shape it would guess at.
import { SCALAR_TYPES, type ProtobufSchema, type ScalarType, type SchemaField } from '../schema-types.ts';
import { readGoFile, structFields, type GoField, type GoPackage, type GoStruct } from './go-structs.ts';
import { parseProtoFile, type ProtoField, type ProtoFile, type ProtoMessage } from './proto-file.ts';
import { parseMetaRegisterFile, parseRegisterFile, type MetaRegistration, type Registration } from './register-file.ts';
import type { SchemaSources, SourcePackage } from './module-sources.ts';

/** Messages the decoder renders itself (their Go types have their own JSON or protobuf code). */
export const SPECIAL_MESSAGES = new Set([
  'meta.v1.Time', 'meta.v1.MicroTime', 'meta.v1.Duration', 'meta.v1.FieldsV1',
  'resource.Quantity', 'intstr.IntOrString', 'runtime.RawExtension',
]);
/** Messages with a JSON form of their own the decoder does not implement: no field may use them. */
const UNSUPPORTED_MESSAGES = new Set(['meta.v1.GroupVersion', 'resource.QuantityValue', 'runtime.Unknown']);

export class SchemaBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaBuildError';
  }
}

// k8s.io.api.core.v1 → core.v1; k8s.io.apimachinery.pkg.apis.meta.v1 → meta.v1.
const SHORT_PREFIXES = ['k8s.io.api.', 'k8s.io.apimachinery.pkg.apis.', 'k8s.io.apimachinery.pkg.api.', 'k8s.io.apimachinery.pkg.util.', 'k8s.io.apimachinery.pkg.'];

function shortPackage(pkg: string): string {
  const prefix = SHORT_PREFIXES.find((p) => pkg.startsWith(p));
  if (prefix === undefined) throw new SchemaBuildError(`unexpected proto package ${pkg}`);
  return pkg.slice(prefix.length);
}

interface Parsed {
  readonly source: SourcePackage;
  readonly proto: ProtoFile;
  readonly short: string;
  readonly go: GoPackage;
}

function parsePackage(source: SourcePackage): Parsed {
  const proto = parseProtoFile(source.proto, `${source.importPath}/generated.proto`);
  const go = { structs: new Map<string, GoStruct>(), named: new Map<string, string>(), defined: new Map<string, { importPath: string; name: string }>() };
  for (const file of source.goFiles) readGoFile(file.text, `${source.importPath}/${file.name}`, go);
  return { source, proto, short: shortPackage(proto.package), go };
}

/** A field's message type as the schema names it, resolved against its package. */
function resolveType(field: ProtoField, pkg: Parsed, known: ReadonlySet<string>, where: string): string {
  if ((SCALAR_TYPES as readonly string[]).includes(field.type)) return field.type;
  const full = field.type.startsWith('.') ? field.type.slice(1) : `${pkg.proto.package}.${field.type}`;
  const lastDot = full.lastIndexOf('.');
  const name = `${shortPackage(full.slice(0, lastDot))}.${full.slice(lastDot + 1)}`;
  if (!known.has(name)) throw new SchemaBuildError(`${where}: unknown type ${field.type}`);
  if (UNSUPPORTED_MESSAGES.has(name)) throw new SchemaBuildError(`${where}: uses ${name}, whose JSON form the decoder does not implement`);
  return name;
}

interface JsonTag { readonly name: string; readonly omitempty: boolean; readonly omitzero: boolean; readonly hidden: boolean }

function jsonTag(field: GoField): JsonTag {
  if (field.json === '-') return { name: '', omitempty: false, omitzero: false, hidden: true };
  const [name = '', ...options] = (field.json ?? '').split(',');
  return { name, omitempty: options.includes('omitempty'), omitzero: options.includes('omitzero'), hidden: false };
}

function protobufNumber(field: GoField, where: string): number {
  const number = Number((field.protobuf ?? '').split(',')[1]);
  if (!Number.isInteger(number) || number <= 0) throw new SchemaBuildError(`${where}: cannot read the protobuf tag "${field.protobuf ?? ''}"`);
  return number;
}

interface FieldContext {
  readonly pkg: Parsed;
  /** Every package by import path, for types defined as another package's struct. */
  readonly packages: ReadonlyMap<string, Parsed>;
  readonly known: ReadonlySet<string>;
  readonly slices: ReadonlySet<string>;
  readonly where: string;
}

/** The Go shape checks: the decoder knows nil-versus-empty rules for exactly these shapes. */
function checkGoShape(proto: ProtoField, goType: string, type: string, ctx: FieldContext): void {
  const base = goType.replace(/^\*/, '');
  const pointer = goType.startsWith('*');
  const fail = (why: string): never => { throw new SchemaBuildError(`${ctx.where}: Go type ${goType} ${why}`); };
  if (goType.includes(']*')) fail('holds pointers, which the decoder has no rule for');
  if (proto.label === 'repeated') {
    if (pointer || !base.startsWith('[]')) fail('is not a slice but the proto field is repeated');
    return;
  }
  if (proto.label === 'map') {
    if (pointer || base.startsWith('[]')) fail('is not a map but the proto field is');
    return;
  }
  if (type === 'bytes' && goType !== '[]byte') fail('is not []byte but the proto type is bytes');
  if (ctx.slices.has(type) && pointer) fail('points to a slice type');
  if (type !== 'bytes' && base.startsWith('[]')) fail('is a slice but the proto field is not repeated');
}

function fieldFlags(proto: ProtoField, go: GoField, tag: JsonTag, inline: boolean): string {
  return [
    proto.label === 'repeated' ? 'r' : '', proto.label === 'map' ? 'm' : '', go.type.startsWith('*') ? 'p' : '',
    tag.omitempty ? 'o' : '', tag.omitzero ? 'z' : '', inline ? 'i' : '', tag.hidden ? 'h' : '',
  ].join('');
}

const isScalar = (type: string): boolean => (SCALAR_TYPES as readonly string[]).includes(type);

/** Inlining and omitzero: the decoder has rules for embedded structs and for omitzero on scalars, pointers and times. */
function checkJsonOptions(proto: ProtoField, go: GoField, type: string, where: string): void {
  const tag = jsonTag(go);
  const inline = go.embedded && tag.name === '' && !tag.hidden;
  if (inline && (go.type.startsWith('*') || isScalar(type) || proto.label !== 'optional')) {
    throw new SchemaBuildError(`${where}: only embedded structs can be inlined`);
  }
  if (tag.omitzero && !isScalar(type) && !go.type.startsWith('*') && type !== 'meta.v1.Time' && type !== 'meta.v1.MicroTime') {
    throw new SchemaBuildError(`${where}: omitzero on ${type} has no rule in the decoder`);
  }
}

function schemaField(proto: ProtoField, go: GoField, ctx: FieldContext): SchemaField {
  const where = `${ctx.where}.${go.name}`;
  if (proto.label === 'map' && proto.keyType !== 'string') throw new SchemaBuildError(`${where}: map keys of type ${proto.keyType ?? '?'} are not supported`);
  const type = resolveType(proto, ctx.pkg, ctx.known, where);
  checkGoShape(proto, go.type, type, { ...ctx, where });
  checkJsonOptions(proto, go, type, where);
  const tag = jsonTag(go);
  const inline = go.embedded && tag.name === '' && !tag.hidden;
  const jsonName = inline || tag.hidden ? '' : tag.name === '' ? go.name : tag.name;
  return [proto.number, jsonName, type, fieldFlags(proto, go, tag, inline)];
}

/** A Go field without a protobuf tag is never on the wire: only TypeMeta and `json:"-"` may be. */
function checkUntagged(go: GoField, where: string): 'typeMeta' | 'skip' {
  const tag = jsonTag(go);
  if (go.embedded && go.name === 'TypeMeta' && tag.name === '') return 'typeMeta';
  if (tag.hidden || go.protobuf === '-') return 'skip';
  throw new SchemaBuildError(`${where}.${go.name}: a JSON field with no protobuf tag`);
}

interface BuiltMessage { readonly fields: SchemaField[]; readonly typeMeta: boolean }

function buildMessage(message: ProtoMessage, ctx: FieldContext): BuiltMessage {
  const defined = ctx.pkg.go.defined.get(message.name);
  const struct = defined === undefined ? ctx.pkg.go.structs.get(message.name) : ctx.packages.get(defined.importPath)?.go.structs.get(defined.name);
  if (struct === undefined) throw new SchemaBuildError(`${ctx.where}: no Go struct ${message.name}`);
  const byNumber = new Map(message.fields.map((f) => [f.number, f]));
  const fields: SchemaField[] = [];
  let typeMeta = false;
  for (const go of structFields(struct)) {
    if (go.protobuf === undefined || go.protobuf === '-') {
      if (checkUntagged(go, ctx.where) === 'typeMeta') typeMeta = true;
      continue;
    }
    const number = protobufNumber(go, `${ctx.where}.${go.name}`);
    const proto = byNumber.get(number);
    if (proto === undefined) throw new SchemaBuildError(`${ctx.where}.${go.name}: protobuf field ${number} is not in the proto message`);
    const tagName = go.protobuf.split(',').find((part) => part.startsWith('name='));
    if (tagName !== undefined && tagName !== `name=${proto.name}`) throw new SchemaBuildError(`${ctx.where}.${go.name}: Go and proto disagree on field ${number}'s name`);
    byNumber.delete(number);
    fields.push(schemaField(proto, go, ctx));
  }
  const missing = [...byNumber.values()].map((f) => f.name);
  if (missing.length > 0) throw new SchemaBuildError(`${ctx.where}: proto fields without a Go field: ${missing.join(', ')}`);
  return { fields, typeMeta };
}

/** A slice message (`ExtraValue []string`) is one repeated field whose type matches the Go slice. */
function buildSliceMessage(message: ProtoMessage, goType: string, ctx: FieldContext): SchemaField[] {
  const [only, ...rest] = message.fields;
  if (only === undefined || rest.length > 0 || only.number !== 1 || only.label !== 'repeated' || !goType.startsWith('[]')) {
    throw new SchemaBuildError(`${ctx.where}: a Go slice type whose message is not a single repeated field 1`);
  }
  return [[1, '', resolveType(only, ctx.pkg, ctx.known, ctx.where), 'r']];
}

function specialFields(message: ProtoMessage, ctx: FieldContext): SchemaField[] {
  return message.fields.map((f) => [f.number, f.name, resolveType(f, ctx.pkg, ctx.known, ctx.where), f.label === 'repeated' ? 'r' : '']);
}

function kindIndex(parsed: readonly Parsed[], messages: Readonly<Record<string, unknown>>): Record<string, Record<string, string>> {
  const metaPkg = parsed.find((p) => p.short === 'meta.v1');
  if (metaPkg?.source.register === undefined) throw new SchemaBuildError('apimachinery meta/v1 has no register.go');
  const meta: MetaRegistration = parseMetaRegisterFile(metaPkg.source.register, `${metaPkg.source.importPath}/register.go`);
  const kinds: Record<string, Record<string, string>> = {};
  const add = (apiVersion: string, kind: string, message: string): void => {
    // A kind whose Go type has no proto message (Table) cannot arrive as protobuf.
    if (!(message in messages)) return;
    kinds[apiVersion] ??= {};
    (kinds[apiVersion])[kind] = message;
  };
  for (const kind of [...meta.optionsKinds, ...meta.metaKinds]) add('meta.k8s.io/v1', kind, `meta.v1.${kind}`);
  for (const kind of meta.unversionedKinds) add('v1', kind, `meta.v1.${kind}`);
  for (const pkg of parsed) {
    if (pkg.source.register === undefined || !pkg.source.importPath.startsWith('k8s.io/api/')) continue;
    const reg: Registration = parseRegisterFile(pkg.source.register, `${pkg.source.importPath}/register.go`);
    const apiVersion = reg.group === '' ? reg.version : `${reg.group}/${reg.version}`;
    for (const k of reg.kinds) add(apiVersion, k.kind, `${k.from === 'metav1' ? 'meta.v1' : pkg.short}.${k.kind}`);
    if (reg.addsMetaTypes) for (const kind of ['WatchEvent', ...meta.optionsKinds]) add(apiVersion, kind, `meta.v1.${kind}`);
  }
  return kinds;
}

/** Go drops JSON names that inlining makes ambiguous; the decoder does not, so none may exist. */
function checkJsonNames(messages: Readonly<Record<string, readonly SchemaField[]>>): void {
  const names = (message: string): string[] => (messages[message] ?? []).flatMap(([, json, type, flags]) =>
    flags.includes('i') ? names(type) : flags.includes('h') ? [] : [json]);
  for (const message of Object.keys(messages)) {
    if (SPECIAL_MESSAGES.has(message)) continue;
    const all = names(message);
    const repeated = all.filter((n, i) => all.indexOf(n) !== i);
    if (repeated.length > 0) throw new SchemaBuildError(`${message}: JSON names used twice once inlined: ${repeated.join(', ')}`);
  }
}

/** The decoder recurses once per nested message: a message that contains itself would let a body choose the depth. */
function checkNoRecursion(messages: Readonly<Record<string, readonly SchemaField[]>>): void {
  const done = new Set<string>();
  const visit = (message: string, path: readonly string[]): void => {
    if (path.includes(message)) throw new SchemaBuildError(`recursive message: ${[...path, message].join(' → ')}`);
    if (done.has(message)) return;
    for (const [, , type] of messages[message] ?? []) if (type in messages) visit(type, [...path, message]);
    done.add(message);
  };
  for (const message of Object.keys(messages)) visit(message, []);
}

function sortedRecord<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The schema for these sources. */
export function buildSchema(sources: SchemaSources): ProtobufSchema {
  const parsed = sources.packages.map(parsePackage);
  const packages = new Map(parsed.map((p) => [p.source.importPath, p]));
  const known = new Set(parsed.flatMap((p) => p.proto.messages.map((m) => `${p.short}.${m.name}`)));
  const slices = new Set(parsed.flatMap((p) => p.proto.messages.filter((m) => p.go.named.get(m.name)?.startsWith('[]') === true).map((m) => `${p.short}.${m.name}`)));
  const messages: Record<string, readonly SchemaField[]> = {};
  const typeMeta: string[] = [];
  for (const pkg of parsed) {
    for (const message of pkg.proto.messages) {
      const name = `${pkg.short}.${message.name}`;
      if (name in messages) throw new SchemaBuildError(`two packages shorten to the message name ${name}`);
      const ctx: FieldContext = { pkg, packages, known, slices, where: name };
      if (SPECIAL_MESSAGES.has(name)) messages[name] = specialFields(message, ctx);
      else if (slices.has(name)) messages[name] = buildSliceMessage(message, pkg.go.named.get(message.name) ?? '', ctx);
      else if (UNSUPPORTED_MESSAGES.has(name)) messages[name] = specialFields(message, ctx);
      else {
        const built = buildMessage(message, ctx);
        messages[name] = built.fields;
        if (built.typeMeta) typeMeta.push(name);
      }
    }
  }
  checkJsonNames(messages);
  checkNoRecursion(messages);
  return {
    source: `k8s.io/api@${sources.version} k8s.io/apimachinery@${sources.version}`,
    messages: sortedRecord(messages),
    typeMeta: typeMeta.sort(),
    slices: [...slices].sort(),
    kinds: sortedRecord(Object.fromEntries(Object.entries(kindIndex(parsed, messages)).map(([v, k]) => [v, sortedRecord(k)]))),
  };
}

export type { ScalarType };
