// Port-forward is audited, not recorded: which ports were used. With the v4 WebSocket protocol
// they are in the URL (`ports=`); over SPDY each stream names its port in its SYN_STREAM headers,
// and kubectl ≥ 1.31 tunnels that SPDY inside WebSocket binary messages
// (`SPDY/3.1+portforward.k8s.io`). The headers are read here without touching the forwarded data.
//
// Bytes that cannot be read stop the reading: the ports read so far are all the record will say.
// Bytes that cross one of the readers' caps (read-limit.ts), or a port header that is not a port
// number, end the connection instead. No kube client sends them. If the gateway only stopped
// reading, a caller could hide which ports it used next.
import type { UpgradeTap } from '../forward/upgrade-forward.ts';
import { ReadLimitError } from './read-limit.ts';
import { spdyStreamHeaders } from './spdy-session.ts';
import { OPCODE, WebSocketReader } from './websocket-frames.ts';

export interface PortForwardTap {
  readonly tap: UpgradeTap;
  /** The ports seen, in first-use order. */
  ports(): string[];
}

/** A TCP port as the kubelet parses it (strconv.ParseUint(port, 10, 16)); kept short, so the set of ports stays small. */
const PORT = /^[0-9]{1,5}$/;

function headerReader(rawHeaders: readonly string[]): ((chunk: Buffer) => Map<string, string>[]) | undefined {
  const header = (name: string): string => rawHeaders[rawHeaders.findIndex((v, i) => i % 2 === 0 && v.toLowerCase() === name) + 1] ?? '';
  if (/^spdy\//i.test(header('upgrade'))) return spdyStreamHeaders();
  if (!header('sec-websocket-protocol').toLowerCase().startsWith('spdy/3.1+portforward')) return undefined;
  const frames = new WebSocketReader();
  const spdy = spdyStreamHeaders();
  return (chunk) => frames.push(chunk).filter((m) => m.opcode === OPCODE.binary).flatMap((m) => spdy(m.payload));
}

export function portForwardTap(fromUrl: readonly string[]): PortForwardTap {
  const ports = new Set(fromUrl);
  let read: ((chunk: Buffer) => Map<string, string>[]) | undefined;
  let kill: () => void = () => undefined;
  const take = (chunk: Buffer): void => {
    for (const headers of (read ?? (() => []))(chunk)) {
      const port = headers.get('port');
      if (port === undefined) continue;
      if (!PORT.test(port)) throw new ReadLimitError('port-forward-port', 'a port-forward stream names a port that is not a port number');
      ports.add(port);
    }
  };
  return {
    tap: {
      upgraded: (rawHeaders, end) => {
        kill = end;
        read = headerReader(rawHeaders);
      },
      fromClient: (chunk) => {
        if (read === undefined) return;
        try {
          take(chunk);
        } catch (error) {
          read = undefined;
          if (error instanceof ReadLimitError) kill();
        }
      },
      fromServer: () => undefined,
    },
    ports: () => [...ports],
  };
}
