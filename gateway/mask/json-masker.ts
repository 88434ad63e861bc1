// A streaming JSON masker: replaces string values at given paths, chunk by chunk, without parsing
// the whole body, so a 50 MB list costs no more memory than the longest object key. It reads a
// sequence of JSON values (one object, or a watch stream of newline-separated events), keeps the
// path of the value it is in, and when a string value's path matches a pattern it writes the
// pattern's marker instead of the string. Everything else passes through byte for byte.
//
// Paths are arrays of segments; `*` matches any object key or array index. Patterns are absolute
// (from the top of each value): `mask-plan.ts` combines object roots (`items[*]`, a watch event's
// `object`, a Table row's `object`) with paths within an object.
import { StringDecoder } from 'node:string_decoder';

export type PathPattern = readonly string[];

export interface MaskRule {
  readonly path: PathPattern;
  /** Written (JSON-encoded) in place of the string value. */
  readonly marker: string;
}

interface Frame {
  readonly array: boolean;
  /** Object: the current key (set once its key string ends). Array: the current index. */
  key: string;
  index: number;
  /** Object: the next string is a key. */
  expectingKey: boolean;
}

type StringMode = 'none' | 'key' | 'pass' | 'mask';

/** What can end a run of string content: the closing quote or an escape. */
const STRING_STOP = /["\\]/g;

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

export class JsonMasker {
  readonly #rules: readonly MaskRule[];
  readonly #decoder = new StringDecoder('utf8');
  readonly #frames: Frame[] = [];
  #string: StringMode = 'none';
  #escaped = false;
  #key = '';
  /** Values masked so far (for metrics and tests). */
  masked = 0;

  constructor(rules: readonly MaskRule[]) {
    this.#rules = rules;
  }

  /** Masks one chunk; returns what can be written now. */
  push(chunk: Buffer): string {
    return this.#scan(this.#decoder.write(chunk));
  }

  /** The rest, at the end of the body. */
  end(): string {
    return this.#scan(this.#decoder.end());
  }

  #markerHere(): string | undefined {
    for (const rule of this.#rules) if (matches(this.#frames, rule.path)) return rule.marker;
    return undefined;
  }

  /** Called at a value's first character: arrays advance their index for it. */
  #beforeValue(): void {
    const top = this.#frames.at(-1);
    if (top?.array === true && top.key === 'pending') { top.index += 1; top.key = ''; }
  }

  #scan(text: string): string {
    let out = '';
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
        out += text.slice(from, i) + replaced;
        from = i + 1;
      }
    }
    return out + text.slice(from);
  }

  /**
   * From `i` inside a string: the index of its closing quote, or text.length when the string goes
   * on past this chunk (an escape cut at the chunk's end is remembered in #escaped). Key text read
   * on the way is kept.
   */
  #stringEnd(text: string, i: number): number {
    const key = this.#string === 'key';
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
      STRING_STOP.lastIndex = at;
      const stop = STRING_STOP.exec(text);
      if (stop === null) {
        if (key) this.#key += text.slice(at);
        return text.length;
      }
      if (key) this.#key += text.slice(at, stop.index + 1);
      if (text.charCodeAt(stop.index) === 0x22) return stop.index;
      this.#escaped = true;
      at = stop.index + 1;
    }
  }

  #closeString(): void {
    if (this.#string === 'key') {
      const top = this.#frames.at(-1);
      // The key as written, without its quotes, decoded (escapes included).
      if (top !== undefined) top.key = JSON.parse(`"${this.#key.slice(0, -1)}"`) as string;
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
    if (marker === undefined) { this.#string = 'pass'; return undefined; }
    this.#string = 'mask';
    this.masked += 1;
    return JSON.stringify(marker);
  }
}
