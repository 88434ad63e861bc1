// A streaming JSON masker: replaces string values at given paths, chunk by chunk, without parsing
// the whole body, so a 50 MB list costs no more memory than the longest object key. It reads a
// sequence of JSON values (one object, or a watch stream of newline-separated events), keeps the
// path of the value it is in, and when a string value's path matches a pattern it writes the
// pattern's marker instead of the string. Everything else passes through byte for byte.
//
// Paths are arrays of segments; `*` matches any object key or array index. Patterns are absolute
// (from the top of each value): `mask-plan.ts` combines object roots (`items[*]`, a watch event's
// `object`, a Table row's `object`) with paths within an object.
import { isAscii } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';

export type PathPattern = readonly string[];

export interface MaskRule {
  readonly path: PathPattern;
  /** Written (JSON-encoded) in place of the string value. */
  readonly marker: string;
  /**
   * Only when a sibling string matches, e.g. an env entry's `name`. A sibling not seen yet (it
   * comes later in the object) counts as a match: masking too much is the safe mistake.
   */
  readonly when?: { readonly key: string; readonly pattern: RegExp };
}

interface Frame {
  readonly array: boolean;
  /** Object: the current key (set once its key string ends). Array: the current index. */
  key: string;
  index: number;
  /** Object: the next string is a key. */
  expectingKey: boolean;
  /** Object: the string value of the conditions' sibling key, once read. */
  sibling?: string;
}

type StringMode = 'none' | 'key' | 'pass' | 'mask' | 'sibling';


/** Matches `path` (the frames' keys) against a pattern without building the path. */
function matches(frames: readonly Frame[], pattern: PathPattern): boolean {
  if (frames.length !== pattern.length) return false;
  for (let i = 0; i < frames.length; i++) {
    const segment = pattern[i];
    const frame = frames[i];
    if (segment === '*' || frame === undefined) continue;
    if ((frame.array ? String(frame.index) : frame.key) !== segment) return false;
  }
  return true;
}

function ruleApplies(rule: MaskRule, frames: readonly Frame[]): boolean {
  if (!matches(frames, rule.path)) return false;
  if (rule.when === undefined) return true;
  const sibling = frames.at(-1)?.sibling;
  return sibling === undefined || rule.when.pattern.test(sibling);
}

export class JsonMasker {
  /** The sibling key conditional rules look at (one per masker), if any. */
  readonly #siblingKey: string | undefined;
  readonly #decoder = new StringDecoder('utf8');
  readonly #frames: Frame[] = [];
  #string: StringMode = 'none';
  /** Every chunk so far was ASCII, so the decoder holds no partial character. */
  #asciiSoFar = true;
  #backslashText = '';
  #backslash = -1;
  /** Rules by path length: a value is only compared with rules as deep as it is. */
  readonly #byDepth = new Map<number, MaskRule[]>();
  #escaped = false;
  #key = '';
  /** Values masked so far (for metrics and tests). */
  masked = 0;

  constructor(rules: readonly MaskRule[]) {
    for (const rule of rules) {
      const list = this.#byDepth.get(rule.path.length);
      if (list === undefined) this.#byDepth.set(rule.path.length, [rule]); else list.push(rule);
    }
    const keys = new Set(rules.flatMap((r) => (r.when === undefined ? [] : [r.when.key])));
    if (keys.size > 1) throw new TypeError(`conditional mask rules must share one sibling key, got ${[...keys].join(', ')}`);
    this.#siblingKey = [...keys][0];
  }

  /** Masks one chunk; returns what can be written now. */
  push(chunk: Buffer): string {
    this.#asciiSoFar &&= isAscii(chunk);
    return this.#scan(this.#decoder.write(chunk));
  }

  /**
   * Masks one chunk; returns the bytes to write now. While every chunk so far has been ASCII (API
   * JSON nearly always is: non-ASCII is escaped) the output is made of slices of the input, with
   * no string built and encoded again; otherwise it goes through text.
   */
  pushBytes(chunk: Buffer): Buffer {
    if (!this.#asciiSoFar || !isAscii(chunk)) {
      this.#asciiSoFar = false;
      return Buffer.from(this.#scan(this.#decoder.write(chunk)), 'utf8');
    }
    const pieces: Buffer[] = [];
    this.#walk(chunk.toString('latin1'), (from, to, after) => {
      if (to > from) pieces.push(chunk.subarray(from, to));
      if (after !== '') pieces.push(Buffer.from(after, 'utf8'));
    });
    return pieces.length === 1 ? (pieces[0] ?? Buffer.alloc(0)) : Buffer.concat(pieces);
  }

  /** The rest, at the end of the body. */
  end(): string {
    return this.#scan(this.#decoder.end());
  }

  #markerHere(): string | undefined {
    const candidates = this.#byDepth.get(this.#frames.length);
    if (candidates === undefined) return undefined;
    for (const rule of candidates) if (ruleApplies(rule, this.#frames)) return rule.marker;
    return undefined;
  }

  /** Called at a value's first character: arrays advance their index for it. */
  #beforeValue(): void {
    const top = this.#frames.at(-1);
    if (top?.array === true && top.key === 'pending') { top.index += 1; top.key = ''; }
  }

  #scan(text: string): string {
    let out = '';
    this.#walk(text, (from, to, replacement) => { out += text.slice(from, to) + replacement; });
    return out;
  }

  /**
   * Walks one chunk of text and reports what to write as runs of it: `emit(from, to, after)`
   * writes text[from, to) then `after` (a marker, or ''). The last call covers the rest.
   */
  #walk(text: string, emit: (from: number, to: number, after: string) => void): void {
    let from = 0;
    for (let i = 0; i < text.length; i++) {
      if (this.#string !== 'none') {
        // Inside a string: jump to the closing quote (most bytes are string content).
        const end = this.#stringEnd(text, i);
        // A masked string's characters, closing quote included, are swallowed: the marker
        // (quoted) was written when it opened.
        if (this.#string === 'mask') from = Math.min(text.length, end + 1);
        if (end >= text.length) break;
        i = end;
        this.#closeString();
        continue;
      }
      const replaced = this.#structural(text.charCodeAt(i));
      if (replaced !== undefined) {
        emit(from, i, replaced);
        from = i + 1;
      }
    }
    emit(from, text.length, '');
  }

  /**
   * From `i` inside a string: the index of its closing quote, or text.length when the string goes
   * on past this chunk (an escape cut at the chunk's end is remembered in #escaped). Key text read
   * on the way is kept.
   */
  #stringEnd(text: string, i: number): number {
    const key = this.#string === 'key' || this.#string === 'sibling';
    let at = i;
    for (;;) {
      if (this.#escaped) {
        if (at >= text.length) return text.length;
        // The character after a backslash never ends the string.
        this.#escaped = false;
        if (key) this.#key += text[at] ?? '';
        at += 1;
      }
      if (at >= text.length) return text.length;
      const quote = text.indexOf('"', at);
      const backslash = this.#nextBackslash(text, at);
      if (backslash >= 0 && (quote < 0 || backslash < quote)) {
        if (key) this.#key += text.slice(at, backslash + 1);
        this.#escaped = true;
        at = backslash + 1;
        continue;
      }
      if (quote < 0) {
        if (key) this.#key += text.slice(at);
        return text.length;
      }
      if (key) this.#key += text.slice(at, quote + 1);
      return quote;
    }
  }

  /**
   * The next backslash at or after `at` in this chunk, or -1. Backslashes are rare in API JSON, so
   * the position is searched once and kept until passed: a search per string would rescan the
   * rest of the chunk every time.
   */
  #nextBackslash(text: string, at: number): number {
    if (this.#backslashText !== text || (this.#backslash >= 0 && this.#backslash < at)) {
      this.#backslashText = text;
      this.#backslash = text.indexOf('\\', at);
    }
    return this.#backslash;
  }

  #closeString(): void {
    if (this.#string === 'key' || this.#string === 'sibling') {
      const top = this.#frames.at(-1);
      // The text as written, without its quotes, decoded (escapes included; most have none).
      const raw = this.#key.slice(0, -1);
      const value = raw.includes('\\') ? JSON.parse(`"${raw}"`) as string : raw;
      if (top !== undefined && this.#string === 'key') top.key = value;
      else if (top !== undefined) top.sibling = value;
      this.#key = '';
    }
    this.#string = 'none';
  }

  /** Handles a character outside strings; returns replacement text when it starts a masked string. */
  #structural(c: number): string | undefined {
    const top = this.#frames.at(-1);
    switch (c) {
      case 0x7b: // {
        this.#beforeValue();
        this.#frames.push({ array: false, key: '', index: 0, expectingKey: true });
        return undefined;
      case 0x5b: // [
        this.#beforeValue();
        this.#frames.push({ array: true, key: 'pending', index: -1, expectingKey: false });
        return undefined;
      case 0x7d: case 0x5d: // } ]
        this.#frames.pop();
        return undefined;
      case 0x2c: // ,
        if (top?.array === true) top.key = 'pending';
        else if (top !== undefined) top.expectingKey = true;
        return undefined;
      case 0x3a: // :
        if (top !== undefined) top.expectingKey = false;
        return undefined;
      case 0x22: // "
        return this.#openString(top);
      default:
        if (c > 0x20) this.#beforeValue();
        return undefined;
    }
  }

  #openString(top: Frame | undefined): string | undefined {
    if (top !== undefined && !top.array && top.expectingKey) {
      this.#string = 'key';
      this.#key = '';
      return undefined;
    }
    this.#beforeValue();
    const marker = this.#markerHere();
    if (marker === undefined) {
      const sibling = top !== undefined && !top.array && top.key === this.#siblingKey;
      this.#string = sibling ? 'sibling' : 'pass';
      if (sibling) this.#key = '';
      return undefined;
    }
    this.#string = 'mask';
    this.masked += 1;
    return JSON.stringify(marker);
  }
}

/**
 * The same masking on a parsed value (audit request bodies), with the same rules and the same
 * reading of conditions: a sibling counts once it has appeared earlier in its object. Returns a
 * copy; the input is not changed.
 */
export function maskParsed(value: unknown, rules: readonly MaskRule[]): unknown {
  if (rules.length === 0) return value;
  const walk = (node: unknown, path: string[], sibling: string | undefined): unknown => {
    if (typeof node === 'string') {
      const rule = rules.find((r) => r.path.length === path.length && r.path.every((seg, i) => seg === '*' || seg === path[i])
        && (r.when === undefined || sibling === undefined || r.when.pattern.test(sibling)));
      return rule === undefined ? node : rule.marker;
    }
    if (Array.isArray(node)) return node.map((item: unknown, i) => walk(item, [...path, String(i)], undefined));
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    let seen: string | undefined;
    for (const [key, item] of Object.entries(node)) {
      out[key] = walk(item, [...path, key], seen);
      if (typeof item === 'string' && rules.some((r) => r.when?.key === key)) seen = item;
    }
    return out;
  };
  return walk(value, [], undefined);
}
