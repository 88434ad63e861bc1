// A streaming JSON masker: replaces string values at given paths, chunk by chunk, without parsing
// the whole body, so a 50 MB list costs no more memory than the longest object key. It reads a
// sequence of JSON values (one object, or a watch stream of newline-separated events), keeps the
// path of the value it is in, and when a string value's path matches a pattern (or the string is
// inside an object or array whose path matches one) it writes the pattern's marker instead of the
// string. Everything else passes through byte for byte, so the JSON keeps its shape and types.
//
// Paths are arrays of segments; `*` matches any object key or array index. Patterns are absolute
// (from the top of each value): `mask-plan.ts` combines object roots (`items[*]`, a watch event's
// `object`, a Table row's `object`) with paths within an object.
import { isAscii } from 'node:buffer';

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

/**
 * The rules as a trie of their paths. A container's place in it is the list of nodes its path
 * reaches (more than one only when a literal segment and `*` overlap); an empty list means no rule
 * can match anything inside, and the masker skips the container without reading its keys.
 */
interface TrieNode {
  readonly literal: Map<string, TrieNode>;
  any: TrieNode | undefined;
  /** Rules whose path ends here, with their order (the first that applies wins). */
  readonly rules: { readonly rule: MaskRule; readonly order: number; readonly marker: Buffer }[];
  /**
   * Where everything inside a container at this node is, when unconditional rules end here: a
   * node that leads to itself under any key and carries those rules, so a path that names an
   * object or array masks every string in it.
   */
  below: TrieNode | undefined;
  /** Precomputed steps, so walking a known path allocates nothing. */
  anyStep: readonly TrieNode[];
  readonly literalStep: Map<string, readonly TrieNode[]>;
}

const NOWHERE: readonly TrieNode[] = [];

function trieNode(): TrieNode {
  return { literal: new Map(), any: undefined, rules: [], below: undefined, anyStep: NOWHERE, literalStep: new Map() };
}

function buildTrie(rules: readonly MaskRule[]): TrieNode {
  const root = trieNode();
  rules.forEach((rule, order) => {
    let node = root;
    for (const segment of rule.path) {
      let next = segment === '*' ? node.any : node.literal.get(segment);
      if (next === undefined) {
        next = trieNode();
        if (segment === '*') node.any = next; else node.literal.set(segment, next);
      }
      node = next;
    }
    node.rules.push({ rule, order, marker: Buffer.from(JSON.stringify(rule.marker), 'utf8') });
  });
  const finish = (node: TrieNode): void => {
    const unconditional = node.rules.filter((entry) => entry.rule.when === undefined);
    if (unconditional.length > 0) {
      const below = trieNode();
      below.rules.push(...unconditional);
      below.anyStep = [below];
      node.below = below;
    }
    const extra = [...(node.any === undefined ? [] : [node.any]), ...(node.below === undefined ? [] : [node.below])];
    node.anyStep = extra.length === 0 ? NOWHERE : extra;
    for (const [key, child] of node.literal) node.literalStep.set(key, [child, ...extra]);
    for (const child of node.literal.values()) finish(child);
    if (node.any !== undefined) finish(node.any);
  };
  finish(root);
  return root;
}

interface CompiledRules {
  readonly root: readonly TrieNode[];
  readonly siblingKey: string | undefined;
}

/** Tries by rule list: the same list (mask-plan.ts keeps one per policy rule) is compiled once. */
const compiledRules = new WeakMap<readonly MaskRule[], CompiledRules>();

function compile(rules: readonly MaskRule[]): CompiledRules {
  let compiled = compiledRules.get(rules);
  if (compiled === undefined) {
    const keys = new Set(rules.flatMap((r) => (r.when === undefined ? [] : [r.when.key])));
    if (keys.size > 1) throw new TypeError(`conditional mask rules must share one sibling key, got ${[...keys].join(', ')}`);
    compiled = { root: [buildTrie(rules)], siblingKey: [...keys][0] };
    compiledRules.set(rules, compiled);
  }
  return compiled;
}

/** The nodes reached from `states` by one more segment (an object key, or an array index). */
function step(states: readonly TrieNode[], key: string | number): readonly TrieNode[] {
  if (states.length === 1) {
    const node = states[0] as TrieNode;
    if (node.literal.size === 0) return node.anyStep;
    return node.literalStep.get(String(key)) ?? node.anyStep;
  }
  return [...new Set(states.flatMap((node) => step([node], key)))];
}

interface Frame {
  readonly array: boolean;
  /** Where this container is in the rule trie (never empty: dead containers get no frame). */
  readonly states: readonly TrieNode[];
  /** Object: the current key (set once its key string ends). */
  key: string;
  /** Array: the current index; `pending` until the next value starts. */
  index: number;
  pending: boolean;
  /** Object: the next string is a key. */
  expectingKey: boolean;
  /** Object: the string value of the conditions' sibling key, once read. */
  sibling: string | undefined;
}

type StringMode = 'none' | 'key' | 'pass' | 'mask' | 'sibling';

/**
 * Masks a stream of bytes. Works on each chunk as a latin1 string (one byte, one character), so
 * positions in the text are positions in the bytes and the output is slices of the input plus the
 * markers: JSON's structure is ASCII and UTF-8 never uses ASCII bytes inside a multi-byte character,
 * so only keys and condition values (decoded when read) care about the encoding.
 */
export class JsonMasker {
  /** The sibling key conditional rules look at (one per masker), if any. */
  readonly #siblingKey: string | undefined;
  readonly #root: readonly TrieNode[];
  readonly #frames: Frame[] = [];
  #top: Frame | undefined;
  /** Nesting depth inside a container no rule reaches (0: not in one). */
  #dead = 0;
  #string: StringMode = 'none';
  #escaped = false;
  /** Key or condition text so far (latin1), and where it starts in the current chunk. */
  #key = '';
  #keyFrom = 0;
  #keyNotAscii = false;
  #chunkAscii = true;
  /** Values masked so far (for metrics and tests). */
  masked = 0;

  constructor(rules: readonly MaskRule[]) {
    const compiled = compile(rules);
    this.#root = compiled.root;
    this.#siblingKey = compiled.siblingKey;
  }

  /** Masks one chunk; returns the pieces to write now, in order (slices of `chunk` and markers). */
  push(chunk: Buffer): Buffer[] {
    const pieces: Buffer[] = [];
    this.#chunkAscii = isAscii(chunk);
    this.#walk(chunk.toString('latin1'), (from, to, marker) => {
      if (to > from) pieces.push(chunk.subarray(from, to));
      if (marker !== undefined) pieces.push(marker);
    });
    return pieces;
  }

  /** The end of the body: nothing is held back between chunks, so there is nothing left to write. */
  end(): Buffer[] {
    return [];
  }

  /**
   * Walks one chunk and reports what to write as runs of it: `emit(from, to, marker)` writes
   * text[from, to) then the marker, if any. The last call covers the rest.
   */
  #walk(text: string, emit: (from: number, to: number, marker: Buffer | undefined) => void): void {
    let from = 0;
    this.#keyFrom = 0;
    for (let i = 0; i < text.length; i++) {
      if (this.#string !== 'none') {
        // Inside a string: jump to the closing quote (most bytes are string content).
        const end = this.#stringEnd(text, i);
        // A masked string's characters, closing quote included, are swallowed: the marker
        // (quoted) was written when it opened.
        if (this.#string === 'mask') from = Math.min(text.length, end + 1);
        if (end >= text.length) break;
        i = end;
        this.#closeString(text, end);
        continue;
      }
      const c = text.charCodeAt(i);
      if (this.#dead > 0) {
        this.#skipping(c);
        continue;
      }
      const marker = this.#structural(c, i);
      if (marker !== undefined) {
        emit(from, i, marker);
        from = i + 1;
      }
    }
    if (this.#string === 'key' || this.#string === 'sibling') {
      this.#key += text.slice(this.#keyFrom);
      this.#keyNotAscii ||= !this.#chunkAscii;
    }
    emit(from, text.length, undefined);
  }

  /** A character outside strings in a container no rule reaches: only nesting and strings count. */
  #skipping(c: number): void {
    if (c === 0x22) this.#string = 'pass';
    else if (c === 0x7b || c === 0x5b) this.#dead += 1;
    else if (c === 0x7d || c === 0x5d) this.#dead -= 1;
  }

  /**
   * From `i` inside a string: the index of its closing quote, or text.length when the string goes
   * on past this chunk (a backslash at the chunk's end is remembered in #escaped). A quote closes
   * the string when an even number of backslashes comes right before it.
   */
  #stringEnd(text: string, i: number): number {
    let at = i;
    if (this.#escaped) {
      // The character after a backslash never ends the string.
      this.#escaped = false;
      at += 1;
    }
    for (;;) {
      if (at >= text.length) return text.length;
      const quote = text.indexOf('"', at);
      if (quote < 0) {
        this.#escaped = backslashesBefore(text, text.length, at) % 2 === 1;
        return text.length;
      }
      if (backslashesBefore(text, quote, at) % 2 === 0) return quote;
      at = quote + 1;
    }
  }

  #closeString(text: string, quote: number): void {
    if (this.#string === 'key' || this.#string === 'sibling') {
      // The text as written, without its quotes, decoded (escapes included; most have none).
      let raw = this.#key + text.slice(this.#keyFrom, quote);
      if (this.#keyNotAscii || !this.#chunkAscii) raw = Buffer.from(raw, 'latin1').toString('utf8');
      const value = raw.includes('\\') ? JSON.parse(`"${raw}"`) as string : raw;
      const top = this.#top;
      if (top !== undefined && this.#string === 'key') top.key = value;
      else if (top !== undefined) top.sibling = value;
      this.#key = '';
      this.#keyNotAscii = false;
    }
    this.#string = 'none';
  }

  /** Handles a character outside strings; returns the marker when it starts a masked string. */
  #structural(c: number, i: number): Buffer | undefined {
    const top = this.#top;
    switch (c) {
      case 0x7b: // {
      case 0x5b: // [
        this.#open(c === 0x5b, this.#statesForValue(top));
        return undefined;
      case 0x7d: case 0x5d: // } ]
        this.#frames.pop();
        this.#top = this.#frames.at(-1);
        return undefined;
      case 0x2c: // ,
        if (top?.array === true) top.pending = true;
        else if (top !== undefined) top.expectingKey = true;
        return undefined;
      case 0x3a: // :
        if (top !== undefined) top.expectingKey = false;
        return undefined;
      case 0x22: // "
        return this.#openString(top, i);
      default:
        if (c > 0x20 && top?.pending === true) { top.pending = false; top.index += 1; }
        return undefined;
    }
  }

  /** Where a value starting now is in the trie (the array's index advances for it). */
  #statesForValue(top: Frame | undefined): readonly TrieNode[] {
    if (top === undefined) return this.#root;
    if (!top.array) return step(top.states, top.key);
    if (top.pending) { top.pending = false; top.index += 1; }
    return step(top.states, top.index);
  }

  #open(array: boolean, states: readonly TrieNode[]): void {
    if (states.length === 0) { this.#dead = 1; return; }
    const frame: Frame = { array, states, key: '', index: -1, pending: array, expectingKey: !array, sibling: undefined };
    this.#frames.push(frame);
    this.#top = frame;
  }

  #openString(top: Frame | undefined, i: number): Buffer | undefined {
    if (top !== undefined && !top.array && top.expectingKey) {
      this.#string = 'key';
      this.#keyFrom = i + 1;
      return undefined;
    }
    const marker = top === undefined ? undefined : this.#markerFor(this.#statesForValue(top), top);
    if (marker === undefined) {
      const sibling = top !== undefined && !top.array && top.key === this.#siblingKey;
      this.#string = sibling ? 'sibling' : 'pass';
      if (sibling) this.#keyFrom = i + 1;
      return undefined;
    }
    this.#string = 'mask';
    this.masked += 1;
    return marker;
  }

  /** The marker of the first rule that ends at these nodes and applies, if any. */
  #markerFor(states: readonly TrieNode[], top: Frame): Buffer | undefined {
    let best: { readonly order: number; readonly marker: Buffer } | undefined;
    for (const node of states) {
      for (const entry of node.rules) {
        if (best !== undefined && best.order < entry.order) continue;
        const when = entry.rule.when;
        if (when === undefined || top.sibling === undefined || when.pattern.test(top.sibling)) best = entry;
      }
    }
    return best?.marker;
  }
}

/** How many backslashes come right before `end` in text, not looking before `from`. */
function backslashesBefore(text: string, end: number, from: number): number {
  let n = 0;
  while (end - n - 1 >= from && text.charCodeAt(end - n - 1) === 0x5c) n += 1;
  return n;
}

/**
 * The same masking on a parsed value (audit request bodies), with the same rules and the same
 * reading of conditions: a sibling counts once it has appeared earlier in its object. Returns a
 * copy; the input is not changed.
 */
export function maskParsed(value: unknown, rules: readonly MaskRule[]): unknown {
  if (rules.length === 0) return value;
  const ruleAt = (path: readonly string[], sibling: string | undefined, inherited: number): number => {
    let best = inherited;
    rules.forEach((r, order) => {
      if (order >= best || r.path.length !== path.length || !r.path.every((seg, i) => seg === '*' || seg === path[i])) return;
      if (r.when === undefined || sibling === undefined || r.when.pattern.test(sibling)) best = order;
    });
    return best;
  };
  // `inherited`: the first unconditional rule that names a container this value is inside.
  const walk = (node: unknown, path: string[], sibling: string | undefined, inherited: number): unknown => {
    if (typeof node === 'string') return rules[ruleAt(path, sibling, inherited)]?.marker ?? node;
    if (node === null || typeof node !== 'object') return node;
    let inside = inherited;
    rules.forEach((r, order) => {
      if (order < inside && r.when === undefined && r.path.length === path.length && r.path.every((seg, i) => seg === '*' || seg === path[i])) inside = order;
    });
    if (Array.isArray(node)) return node.map((item: unknown, i) => walk(item, [...path, String(i)], undefined, inside));
    const out: Record<string, unknown> = {};
    let seen: string | undefined;
    for (const [key, item] of Object.entries(node)) {
      const masked = walk(item, [...path, key], seen, inside);
      // Assigning `__proto__` would set the copy's prototype and drop the member.
      if (key === '__proto__') Object.defineProperty(out, key, { value: masked, enumerable: true, writable: true, configurable: true });
      else out[key] = masked;
      if (typeof item === 'string' && rules.some((r) => r.when?.key === key)) seen = item;
    }
    return out;
  };
  return walk(value, [], undefined, rules.length);
}
