// asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/): a JSON header line, then one JSON
// array per event: [seconds since start, code, data]. Codes used here: "o" output (stdout and
// stderr, as the terminal showed them), "i" input (stdin), "r" resize ("COLSxROWS"), "m" marker
// (the session's end, with its exit status). Players ignore what they do not know, and the
// header's "airlock" object is such an extension.
import { StringDecoder } from 'node:string_decoder';

export interface CastHeader {
  readonly version: 2;
  readonly width: number;
  readonly height: number;
  /** Unix seconds when the session began. */
  readonly timestamp: number;
  readonly command?: string;
  readonly title?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly airlock: SessionMetadata;
}

/** Who ran what where, copied from the request's audit record so a recording stands alone. */
export interface SessionMetadata {
  /** The audit id of the request that opened the session; the recording file is named after it. */
  readonly auditID: string;
  readonly user: string;
  /** The identity the session ran as, when the caller impersonated someone. */
  readonly effectiveUser?: string;
  readonly namespace: string;
  readonly pod: string;
  readonly container?: string;
  readonly subresource: 'exec' | 'attach';
  readonly tty: boolean;
  readonly stdin: boolean;
  readonly protocol?: string;
  readonly gateway?: string;
}

export type CastEvent = readonly [number, 'o' | 'i' | 'r' | 'm', string];

export function castHeaderLine(header: CastHeader): string {
  return `${JSON.stringify(header)}\n`;
}

export function castEventLine(event: CastEvent): string {
  return `${JSON.stringify([Math.round(event[0] * 1e6) / 1e6, event[1], event[2]])}\n`;
}

/** Decodes each stream's bytes as UTF-8 without splitting a character across events. */
export class StreamText {
  private readonly decoders = new Map<string, StringDecoder>();

  text(stream: string, bytes: Buffer): string {
    let decoder = this.decoders.get(stream);
    if (decoder === undefined) {
      decoder = new StringDecoder('utf8');
      this.decoders.set(stream, decoder);
    }
    return decoder.write(bytes);
  }
}

/** A resize message's terminal size as asciicast writes it, or undefined for a malformed one. */
export function resizeText(json: string): string | undefined {
  try {
    const size = JSON.parse(json) as { Width?: unknown; Height?: unknown };
    return typeof size.Width === 'number' && typeof size.Height === 'number' ? `${size.Width}x${size.Height}` : undefined;
  } catch {
    return undefined;
  }
}

/** The exit status from the error channel's metav1.Status: 0 on Success, the ExitCode cause otherwise. */
export function exitCodeOf(statusJson: string): number | undefined {
  try {
    const status = JSON.parse(statusJson) as { status?: string; details?: { causes?: { reason?: string; message?: string }[] } };
    if (status.status === 'Success') return 0;
    const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
    const code = Number(cause?.message);
    return Number.isInteger(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

export interface ParsedCast {
  readonly header: CastHeader;
  readonly events: CastEvent[];
}

/** Reads a recording back; throws with the line number on anything malformed. */
export function parseCast(text: string): ParsedCast {
  const lines = text.split('\n').filter((line) => line !== '');
  const [first, ...rest] = lines;
  if (first === undefined) throw new Error('empty recording');
  const header = JSON.parse(first) as Partial<CastHeader>;
  if (header.version !== 2 || header.airlock === undefined) throw new Error('line 1: not an asciicast v2 header written by Airlock');
  const events = rest.map((line, i) => {
    const event = JSON.parse(line) as unknown;
    if (!Array.isArray(event) || event.length !== 3 || typeof event[0] !== 'number' || typeof event[2] !== 'string') throw new Error(`line ${i + 2}: not an event`);
    return event as unknown as CastEvent;
  });
  return { header: header as CastHeader, events };
}
