// Reads a SPDY/3.1 connection carrying a Kubernetes remote-command session (kubectl's fallback,
// `X-Stream-Protocol-Version: v4.channel.k8s.io` and older). The client opens one stream per
// remote-command stream with a SYN_STREAM whose `streamtype` header names it (error, stdin,
// stdout, stderr, resize); data frames then flow on those stream ids, FIN ends one. Header blocks
// are zlib streams against the SPDY dictionary, one per direction for the whole connection.
//
// Frame layout (draft-mbelshe-httpbis-spdy-00, 2.2): 8 bytes; a control frame has the top bit set,
// then a 15-bit version and a 16-bit type; a data frame has a 31-bit stream id; both then carry
// 8 bits of flags and a 24-bit length.
import type { SessionEvent, SessionReader, StreamName } from './session-events.ts';
import { HeaderInflater, PORT_FORWARD_HEADER_LIMITS, REMOTE_COMMAND_HEADER_LIMITS, SpdyFrameError, type HeaderLimits } from './spdy-header-inflater.ts';
import { ByteQueue } from './byte-queue.ts';

const CONTROL = { synStream: 1, synReply: 2, headers: 8 } as const;
const FLAG_FIN = 0x01;
const STREAM_NAMES: ReadonlySet<string> = new Set(['stdin', 'stdout', 'stderr', 'error', 'resize']);

/** The remote-command versions this reader understands (they share the framing and the stream types). */
export const READABLE_SPDY_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;

export { SpdyFrameError };

/** Name/value pairs of a decompressed SPDY/3 header block (names are lower case on the wire). */
export function parseHeaderBlock(block: Buffer): Map<string, string> {
  const headers = new Map<string, string>();
  if (block.length < 4) throw new SpdyFrameError('a SPDY header block is truncated');
  const count = block.readUInt32BE(0);
  let offset = 4;
  const text = (): string => {
    if (offset + 4 > block.length) throw new SpdyFrameError('a SPDY header block is truncated');
    const length = block.readUInt32BE(offset);
    if (offset + 4 + length > block.length) throw new SpdyFrameError('a SPDY header block is truncated');
    const value = block.toString('latin1', offset + 4, offset + 4 + length);
    offset += 4 + length;
    return value;
  };
  for (let i = 0; i < count; i++) {
    const name = text();
    headers.set(name, text());
  }
  return headers;
}

interface Frame {
  readonly control: boolean;
  /** Control: the frame type; data: the stream id. */
  readonly typeOrStream: number;
  readonly flags: number;
  readonly body: Buffer;
}

/** Splits one direction's bytes into frames as they arrive. */
class FrameReader {
  private readonly pending = new ByteQueue();

  push(chunk: Buffer): Frame[] {
    this.pending.push(chunk);
    const frames: Frame[] = [];
    while (this.pending.length >= 8) {
      const head = this.pending.peek(8);
      const length = head.readUIntBE(5, 3);
      if (this.pending.length < 8 + length) break;
      const control = ((head[0] ?? 0) & 0x80) !== 0;
      if (control && (head.readUInt16BE(0) & 0x7fff) !== 3) throw new SpdyFrameError(`SPDY version ${head.readUInt16BE(0) & 0x7fff} is not 3`);
      const typeOrStream = control ? head.readUInt16BE(2) : head.readUInt32BE(0) & 0x7fffffff;
      const flags = head[4] ?? 0;
      this.pending.take(8);
      frames.push({ control, typeOrStream, flags, body: this.pending.take(length) });
    }
    return frames;
  }
}

/**
 * The header block of a SYN_STREAM, SYN_REPLY or HEADERS frame, undefined for other control
 * frames. Every header block advances the direction's zlib stream, so each must pass through here.
 */
function controlHeaders(frame: Frame, inflater: HeaderInflater): Map<string, string> | undefined {
  const offset = frame.typeOrStream === CONTROL.synStream ? 10 : frame.typeOrStream === CONTROL.synReply || frame.typeOrStream === CONTROL.headers ? 4 : -1;
  if (offset < 0 || frame.body.length < offset) return undefined;
  return parseHeaderBlock(inflater.next(frame.body.subarray(offset)));
}

/** A reader for one SPDY/3.1 remote-command connection. */
export function spdySessionReader(protocol: string, limits: HeaderLimits = REMOTE_COMMAND_HEADER_LIMITS): SessionReader | undefined {
  if (!(READABLE_SPDY_PROTOCOLS as readonly string[]).includes(protocol)) return undefined;
  const streams = new Map<number, StreamName>();
  const side = (): { frames: FrameReader; headers: HeaderInflater } => ({ frames: new FrameReader(), headers: new HeaderInflater(limits) });
  const client = side();
  const server = side();
  const read = (from: ReturnType<typeof side>, chunk: Buffer): SessionEvent[] => {
    const events: SessionEvent[] = [];
    for (const frame of from.frames.push(chunk)) {
      if (frame.control) {
        const type = controlHeaders(frame, from.headers)?.get('streamtype');
        if (frame.typeOrStream === CONTROL.synStream && type !== undefined && STREAM_NAMES.has(type)) {
          streams.set(frame.body.readUInt32BE(0) & 0x7fffffff, type as StreamName);
        }
        continue;
      }
      const stream = streams.get(frame.typeOrStream);
      if (stream === undefined) continue;
      if (frame.body.length > 0) events.push({ kind: 'data', stream, data: frame.body });
      if ((frame.flags & FLAG_FIN) !== 0) events.push({ kind: 'end', stream });
    }
    return events;
  };
  return {
    protocol: `${protocol} (SPDY/3.1)`,
    fromClient: (chunk) => read(client, chunk),
    fromServer: (chunk) => read(server, chunk),
  };
}

/**
 * Reads the SYN_STREAM headers a SPDY client sends, and nothing else: port-forward names its
 * ports there (`port`), not in the URL, and is audited without reading its data.
 */
export function spdyStreamHeaders(limits: HeaderLimits = PORT_FORWARD_HEADER_LIMITS): (chunk: Buffer) => Map<string, string>[] {
  const frames = new FrameReader();
  const headers = new HeaderInflater(limits);
  return (chunk) => {
    const out: Map<string, string>[] = [];
    for (const frame of frames.push(chunk)) {
      const block = frame.control ? controlHeaders(frame, headers) : undefined;
      if (block !== undefined && frame.typeOrStream === CONTROL.synStream) out.push(block);
    }
    return out;
  };
}
