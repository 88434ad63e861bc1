// Fewer, larger pieces: the API server streams a large LIST as one HTTP chunk per object (about
// 2 KiB each), and every piece relayed on its own costs a Buffer, a pass through the masker, an
// HTTP chunk header, a TLS record and a syscall. A Coalescer gathers what arrives in one turn of
// the event loop (until setImmediate, i.e. after every socket read that was ready) or up to
// `limit` bytes, and releases it as one buffer. Nothing waits for input that has not arrived yet,
// so a watch event or a small answer is not delayed.

/** Gathers buffers and releases them as one, at most one event-loop turn later. */
export class Coalescer {
  readonly #limit: number;
  readonly #release: (batch: Buffer) => void;
  #pending: Buffer[] = [];
  #size = 0;
  #timer: NodeJS.Immediate | undefined;

  constructor(limit: number, release: (batch: Buffer) => void) {
    this.#limit = limit;
    this.#release = release;
  }

  add(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#pending.push(chunk);
    this.#size += chunk.length;
    if (this.#size >= this.#limit) this.flush();
    else this.#timer ??= setImmediate(() => { this.#timer = undefined; this.flush(); });
  }

  /** Releases what is gathered now (at the end of the body, or when enough is gathered). */
  flush(): void {
    if (this.#timer !== undefined) { clearImmediate(this.#timer); this.#timer = undefined; }
    if (this.#size === 0) return;
    const batch = this.#pending.length === 1 ? this.#pending[0] ?? Buffer.alloc(0) : Buffer.concat(this.#pending, this.#size);
    this.#pending = [];
    this.#size = 0;
    this.#release(batch);
  }

  /** Drops what is gathered (the body was cut). */
  discard(): void {
    if (this.#timer !== undefined) { clearImmediate(this.#timer); this.#timer = undefined; }
    this.#pending = [];
    this.#size = 0;
  }
}
