// Reads the Go declarations of Kubernetes API types: each struct's fields with their `json` and
// `protobuf` tags, and named slice and map types. The proto files say what is on the wire; only the
// Go types say what the API server writes as JSON (the JSON name, omitempty, whether a field is a
// pointer, inlined embedded structs), so the generator reads both. API types are written in a
// regular style (one field per line, tags in back quotes); a line that does not fit it is refused.

export interface GoField {
  /** The Go field name, or the type name for an embedded field. */
  readonly name: string;
  /** The type as written: `*int32`, `[]Container`, `map[string]string`, `metav1.ObjectMeta`. */
  readonly type: string;
  readonly embedded: boolean;
  /** The json tag, undefined when the field has none. */
  readonly json?: string;
  /** The protobuf tag, undefined when the field has none. */
  readonly protobuf?: string;
}

export interface GoPackage {
  /** Struct name → its body, read into fields only for the structs that are proto messages. */
  readonly structs: ReadonlyMap<string, GoStruct>;
  /** Named types that are not structs: `ExtraValue` → `[]string`, `ResourceList` → `map[...]...`. */
  readonly named: ReadonlyMap<string, string>;
  /** Types defined as another package's struct (`type MatchCondition v1.MatchCondition`) → its import path and name. */
  readonly defined: ReadonlyMap<string, { readonly importPath: string; readonly name: string }>;
}

export interface GoStruct {
  readonly body: string;
  /** Where it is declared, for errors. */
  readonly where: string;
}

export class GoSyntaxError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'GoSyntaxError';
  }
}

/** The source with comments replaced by spaces (newlines kept), string and rune literals intact. */
export function stripGoComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    const next = text[i + 1] ?? '';
    if (c === '/' && next === '/') {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === '"' || c === '\'' || c === '`') {
      const stop = literalEnd(text, i);
      out += text.slice(i, stop);
      i = stop;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function literalEnd(text: string, start: number): number {
  const quote = text[start];
  let i = start + 1;
  while (i < text.length && text[i] !== quote) i += quote !== '`' && text[i] === '\\' ? 2 : 1;
  return i + 1;
}

const FIELD = /^(?:([A-Za-z_]\w*)\s+)?([^\s`]\S*?)(?:\s+`([^`]*)`)?$/;

function tagValue(tags: string, key: string): string | undefined {
  const match = new RegExp(`(?:^|\\s)${key}:"([^"]*)"`).exec(tags);
  return match?.[1];
}

function parseFieldLine(line: string, where: string): GoField {
  const match = FIELD.exec(line);
  if (match === null) throw new GoSyntaxError(where, `cannot read the struct field "${line}"`);
  const [, name, type = '', tags = ''] = match;
  const embedded = name === undefined;
  const json = tagValue(tags, 'json');
  const protobuf = tagValue(tags, 'protobuf');
  return {
    name: embedded ? type.replace(/^\*/, '').replace(/^\w+\./, '') : name,
    type,
    embedded,
    ...(json === undefined ? {} : { json }),
    ...(protobuf === undefined ? {} : { protobuf }),
  };
}

function structBody(code: string, open: number, where: string): { body: string; end: number } {
  let depth = 1;
  let i = open + 1;
  for (; i < code.length && depth > 0; i++) {
    if (code[i] === '{') depth++;
    else if (code[i] === '}') depth--;
  }
  if (depth !== 0) throw new GoSyntaxError(where, 'unterminated struct');
  return { body: code.slice(open + 1, i - 1), end: i };
}

const TYPE_DECL = /^type\s+([A-Z]\w*)\s+(struct\s*\{|[^\n=]+)/gm;

/** The file's imports: alias (or the path's last element) → import path. */
function imports(code: string): Map<string, string> {
  const found = new Map<string, string>();
  const blocks = [...code.matchAll(/^import\s*\(([^)]*)\)/gm)].map((m) => m[1] ?? '');
  blocks.push(...[...code.matchAll(/^import\s+((?:\w+\s+)?"[^"]+")/gm)].map((m) => m[1] ?? ''));
  for (const block of blocks) {
    for (const m of block.matchAll(/(?:(\w+)\s+)?"([^"]+)"/g)) {
      const path = m[2] ?? '';
      found.set(m[1] ?? path.slice(path.lastIndexOf('/') + 1), path);
    }
  }
  return found;
}

export interface GoPackageBuilder {
  readonly structs: Map<string, GoStruct>;
  readonly named: Map<string, string>;
  readonly defined: Map<string, { readonly importPath: string; readonly name: string }>;
}

/** Adds the exported types declared in one Go file to `into`. */
export function readGoFile(text: string, file: string, into: GoPackageBuilder): void {
  const code = stripGoComments(text);
  const imported = imports(code);
  for (const match of code.matchAll(TYPE_DECL)) {
    const [, name = '', rest = ''] = match;
    if (!rest.startsWith('struct')) {
      const type = rest.trim();
      const other = /^(\w+)\.([A-Z]\w*)$/.exec(type);
      const importPath = other === null ? undefined : imported.get(other[1] ?? '');
      if (other !== null && importPath !== undefined) into.defined.set(name, { importPath, name: other[2] ?? '' });
      else into.named.set(name, type);
      continue;
    }
    const where = `${file} (type ${name})`;
    into.structs.set(name, { body: structBody(code, match.index + match[0].length - 1, where).body, where });
  }
}

/** A struct's fields, one per line; an anonymous struct or a line in another style is refused. */
export function structFields(struct: GoStruct): GoField[] {
  if (struct.body.includes('{')) throw new GoSyntaxError(struct.where, 'anonymous structs are not supported');
  return struct.body.split('\n').map((l) => l.trim()).filter((l) => l !== '').map((l) => parseFieldLine(l, struct.where));
}
