// A value the gateway showed masked must never be written back as if it were real: `kubectl get
// secret db -o yaml | kubectl replace -f -` through the gateway would otherwise store the mask
// placeholder over the real password. A write whose body holds a placeholder as a whole value, in
// any field of any resource, is refused with a validation error naming the field, before it is
// forwarded or held for approval. The placeholders are distinctive enough that no real value is
// expected to equal one; a body the gateway cannot read (protobuf, CBOR) that contains one
// anywhere is refused too, since the field cannot be told.
import { MASKED_BASE64, MASKED_TEXT } from './mask-plan.ts';

const PLACEHOLDERS: readonly string[] = [MASKED_TEXT, MASKED_BASE64];
const PLACEHOLDER_BYTES: readonly Buffer[] = PLACEHOLDERS.map((p) => Buffer.from(p, 'utf8'));

/** A field of the body that holds a placeholder, as the API server writes field paths. */
export interface PlaceholderField {
  readonly field: string;
  readonly value: string;
}

export type PlaceholderCheck =
  | { readonly found: false }
  | { readonly found: true; readonly fields: readonly PlaceholderField[]; readonly kind?: string; readonly name?: string };

/** Reads a body as the value it encodes; throws when it is not that encoding. */
export type BodyDecoder = (text: string) => unknown;

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (IDENTIFIER.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${key}]`;
}

function collect(node: unknown, path: string, found: PlaceholderField[]): void {
  if (typeof node === 'string') {
    if (PLACEHOLDERS.includes(node)) found.push({ field: path === '' ? '(body)' : path, value: node });
    return;
  }
  if (Array.isArray(node)) { node.forEach((item: unknown, i) => { collect(item, child(path, i), found); }); return; }
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) collect(value, child(path, key), found);
}

/** A JSON patch's operations name their target by JSON pointer: report that, not the array index. */
function collectJsonPatch(ops: unknown, found: PlaceholderField[]): void {
  if (!Array.isArray(ops)) { collect(ops, '', found); return; }
  for (const op of ops) {
    const target = (op as { path?: unknown } | null)?.path;
    const base = typeof target === 'string' ? target.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).reduce<string>((p, s) => child(p, s), '') : '';
    collect((op as { value?: unknown } | null)?.value, base, found);
  }
}

function metadataOf(value: unknown): { kind?: string; name?: string } {
  const object = value as { kind?: unknown; metadata?: { name?: unknown } } | null;
  const kind = typeof object?.kind === 'string' ? object.kind : undefined;
  const name = typeof object?.metadata?.name === 'string' ? object.metadata.name : undefined;
  return { ...(kind === undefined ? {} : { kind }), ...(name === undefined ? {} : { name }) };
}

/**
 * Whether a write body carries a mask placeholder as a whole value, and where. Most bodies are
 * answered by one byte search; only a body that contains a placeholder is decoded.
 */
export function findPlaceholders(body: Buffer, contentType: string | undefined, decodeYaml: BodyDecoder): PlaceholderCheck {
  if (!PLACEHOLDER_BYTES.some((p) => body.includes(p))) return { found: false };
  const type = mediaType(contentType);
  let value: unknown;
  try {
    if (type.endsWith('json')) value = JSON.parse(body.toString('utf8')) as unknown;
    else if (type.endsWith('yaml')) value = decodeYaml(body.toString('utf8'));
    else return { found: true, fields: [{ field: '(body)', value: MASKED_TEXT }] };
  } catch {
    // Not the encoding it claims: the API server will refuse it, and so does the gateway, since
    // it cannot say the placeholder is not a value.
    return { found: true, fields: [{ field: '(body)', value: MASKED_TEXT }] };
  }
  const fields: PlaceholderField[] = [];
  if (type === 'application/json-patch+json') collectJsonPatch(value, fields); else collect(value, '', fields);
  return fields.length === 0 ? { found: false } : { found: true, fields, ...metadataOf(value) };
}

/** The explanation a refused field carries, as kubectl prints it after the field path. */
export function placeholderMessage(value: string): string {
  return `Invalid value: ${JSON.stringify(value)}: this is the placeholder Airlock shows instead of a masked value; `
    + 'writing it back would replace the real value. Leave the field out, or write the real value';
}
