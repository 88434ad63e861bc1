// Reads the subset of proto2 that go-to-protobuf writes (Kubernetes' generated.proto files): a
// package, imports, options and flat messages of optional, repeated and map fields. Anything else
// (nested messages, enums, oneofs, field options) is refused rather than skipped, so that a new
// construct in a later Kubernetes version stops the generator instead of producing a wrong schema.

export interface ProtoField {
  readonly name: string;
  readonly number: number;
  readonly label: 'optional' | 'repeated' | 'map';
  /** A scalar (`string`, `int64`...) or a message name as written (`.k8s.io.api.core.v1.Pod`, `Pod`). */
  readonly type: string;
  /** For maps: the key's scalar type. */
  readonly keyType?: string;
}

export interface ProtoMessage {
  readonly name: string;
  readonly fields: readonly ProtoField[];
}

export interface ProtoFile {
  readonly package: string;
  readonly messages: readonly ProtoMessage[];
}

export class ProtoSyntaxError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'ProtoSyntaxError';
  }
}

const TOKEN = /\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/|"(?:[^"\\]|\\.)*"|[A-Za-z_.][A-Za-z0-9_.]*|\d+|[{};=<>,[\]()]/y;

function tokenize(text: string, file: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(text);
    if (match === null) throw new ProtoSyntaxError(file, `unexpected character at offset ${at}: ${JSON.stringify(text.slice(at, at + 20))}`);
    const token = match[0];
    if (/^\s/.test(token) || token.startsWith('//') || token.startsWith('/*')) continue;
    tokens.push(token);
  }
  return tokens;
}

class Tokens {
  private at = 0;
  private readonly tokens: readonly string[];
  private readonly file: string;

  constructor(tokens: readonly string[], file: string) {
    this.tokens = tokens;
    this.file = file;
  }

  get done(): boolean { return this.at >= this.tokens.length; }

  peek(): string { return this.tokens[this.at] ?? ''; }

  next(): string {
    if (this.done) throw new ProtoSyntaxError(this.file, 'unexpected end of file');
    return this.tokens[this.at++] ?? '';
  }

  expect(token: string): void {
    const got = this.next();
    if (got !== token) throw this.error(`expected ${token}, found ${got}`);
  }

  /** Skips to just past the next `;` (an option or import whose value is not needed). */
  skipStatement(): void {
    while (this.next() !== ';');
  }

  error(message: string): ProtoSyntaxError { return new ProtoSyntaxError(this.file, message); }
}

function parseNumber(t: Tokens): number {
  const token = t.next();
  if (!/^\d+$/.test(token)) throw t.error(`expected a field number, found ${token}`);
  return Number(token);
}

function parseField(t: Tokens): ProtoField {
  const first = t.next();
  if (first === 'map') {
    t.expect('<');
    const keyType = t.next();
    t.expect(',');
    const type = t.next();
    t.expect('>');
    const name = t.next();
    t.expect('=');
    const number = parseNumber(t);
    t.expect(';');
    return { name, number, label: 'map', type, keyType };
  }
  if (first !== 'optional' && first !== 'repeated') throw t.error(`unsupported field label or construct "${first}"`);
  const type = t.next();
  const name = t.next();
  t.expect('=');
  const number = parseNumber(t);
  const end = t.next();
  if (end !== ';') throw t.error(`field ${name}: field options are not supported (found ${end})`);
  return { name, number, label: first, type };
}

function parseMessage(t: Tokens): ProtoMessage {
  const name = t.next();
  t.expect('{');
  const fields: ProtoField[] = [];
  while (t.peek() !== '}') fields.push(parseField(t));
  t.expect('}');
  return { name, fields };
}

/** Parses one generated.proto file; `file` names it in errors. */
export function parseProtoFile(text: string, file: string): ProtoFile {
  const t = new Tokens(tokenize(text, file), file);
  let pkg: string | undefined;
  const messages: ProtoMessage[] = [];
  while (!t.done) {
    const keyword = t.next();
    switch (keyword) {
      case 'syntax': case 'import': case 'option':
        t.skipStatement();
        break;
      case 'package':
        pkg = t.next();
        t.expect(';');
        break;
      case 'message':
        messages.push(parseMessage(t));
        break;
      default:
        throw t.error(`unsupported top-level construct "${keyword}"`);
    }
  }
  if (pkg === undefined) throw new ProtoSyntaxError(file, 'no package statement');
  return { package: pkg, messages };
}
