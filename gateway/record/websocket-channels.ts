// The Kubernetes channel protocols over WebSocket (exec, attach): each binary message starts with
// its channel byte (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize); base64.channel.k8s.io sends
// the channel as an ASCII digit and the data as base64 text; v5 adds [255, channel] to close one
// stream. Empty messages prime a channel and carry nothing.
import type { SessionEvent, SessionReader, StreamName } from './session-events.ts';
import { OPCODE, WebSocketReader, type WebSocketMessage } from './websocket-frames.ts';

const CHANNELS: readonly StreamName[] = ['stdin', 'stdout', 'stderr', 'error', 'resize'];
const CLOSE_CHANNEL = 255;

/** The subprotocols this reader understands, most capable first. */
export const READABLE_WEBSOCKET_PROTOCOLS = [
  'v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io',
  'v4.base64.channel.k8s.io', 'v3.base64.channel.k8s.io', 'v2.base64.channel.k8s.io', 'base64.channel.k8s.io',
] as const;

function decode(message: WebSocketMessage, base64: boolean): SessionEvent[] {
  if (message.opcode !== OPCODE.binary && message.opcode !== OPCODE.text) return [];
  if (message.payload.length === 0) return [];
  const first = message.payload[0] ?? 0;
  if (!base64 && first === CLOSE_CHANNEL) {
    const closed = CHANNELS[message.payload[1] ?? -1];
    return closed === undefined ? [] : [{ kind: 'end', stream: closed }];
  }
  const stream = CHANNELS[base64 ? first - 0x30 : first];
  if (stream === undefined) return [];
  const rest = message.payload.subarray(1);
  const data = base64 ? Buffer.from(rest.toString('latin1'), 'base64') : Buffer.from(rest);
  return data.length === 0 ? [] : [{ kind: 'data', stream, data }];
}

/** A reader for a negotiated subprotocol, or undefined when it is not one of READABLE_WEBSOCKET_PROTOCOLS. */
export function websocketSessionReader(protocol: string): SessionReader | undefined {
  if (!(READABLE_WEBSOCKET_PROTOCOLS as readonly string[]).includes(protocol)) return undefined;
  const base64 = protocol.includes('base64');
  const client = new WebSocketReader();
  const server = new WebSocketReader();
  return {
    protocol: `${protocol} (WebSocket)`,
    fromClient: (chunk) => client.push(chunk).flatMap((m) => decode(m, base64)),
    fromServer: (chunk) => server.push(chunk).flatMap((m) => decode(m, base64)),
  };
}
