// Policy masks (rule mask.sessionPatterns) applied to a session's text before it is recorded. A
// pattern can only match what it sees whole, so text is held until its line ends (\n or \r), or
// until 4 KiB are waiting; the held text keeps the time its first byte arrived. Without patterns
// nothing is held.
import { MASKED_TEXT } from '../mask/mask-plan.ts';

export const HOLD_LIMIT = 4096;

export interface TimedText {
  readonly t: number;
  readonly text: string;
}

export class LineMasker {
  private readonly held = new Map<string, TimedText>();
  private readonly patterns: readonly RegExp[];

  constructor(patterns: readonly RegExp[]) {
    this.patterns = patterns.map((p) => (p.global ? p : new RegExp(p.source, `${p.flags}g`)));
  }

  /** `text` with every pattern's matches replaced. */
  mask(text: string): string {
    return this.patterns.reduce((out, pattern) => out.replace(pattern, MASKED_TEXT), text);
  }

  /** The text of `stream` ready to record (masked), possibly none yet. */
  push(stream: string, t: number, text: string): TimedText | undefined {
    if (this.patterns.length === 0) return { t, text };
    const before = this.held.get(stream);
    const all = before === undefined ? { t, text } : { t: before.t, text: before.text + text };
    const end = Math.max(all.text.lastIndexOf('\n'), all.text.lastIndexOf('\r'));
    if (all.text.length >= HOLD_LIMIT) {
      this.held.delete(stream);
      return { t: all.t, text: this.mask(all.text) };
    }
    if (end < 0) {
      this.held.set(stream, all);
      return undefined;
    }
    const rest = all.text.slice(end + 1);
    if (rest === '') this.held.delete(stream);
    else this.held.set(stream, { t, text: rest });
    return { t: all.t, text: this.mask(all.text.slice(0, end + 1)) };
  }

  /** Whatever is still held, masked, per stream (at the end of the session). */
  flush(): [string, TimedText][] {
    const out = [...this.held].map(([stream, held]): [string, TimedText] => [stream, { t: held.t, text: this.mask(held.text) }]);
    this.held.clear();
    return out;
  }
}
