// Port-forward is audited, not recorded: which ports were used. With the v4 WebSocket protocol
// they are in the URL (`ports=`); over SPDY each stream names its port in its SYN_STREAM headers,
// and kubectl ≥ 1.31 tunnels that SPDY inside WebSocket binary messages
// (`SPDY/3.1+portforward.k8s.io`). The headers are read here without touching the forwarded data.
import type { UpgradeTap } from '../forward/upgrade-forward.ts';
import { spdyStreamHeaders } from './spdy-session.ts';
import { OPCODE, WebSocketReader } from './websocket-frames.ts';

export interface PortForwardTap {
  readonly tap: UpgradeTap;
  /** The ports seen, in first-use order. */
  ports(): string[];
}

export function portForwardTap(fromUrl: readonly string[]): PortForwardTap {
  const ports = new Set(fromUrl);
  let read: ((chunk: Buffer) => Map<string, string>[]) | undefined;
  return {
    tap: {
      upgraded: (rawHeaders) => {
        const header = (name: string): string => rawHeaders[rawHeaders.findIndex((v, i) => i % 2 === 0 && v.toLowerCase() === name) + 1] ?? '';
        if (/^spdy\//i.test(header('upgrade'))) {
          read = spdyStreamHeaders();
        } else if (header('sec-websocket-protocol').toLowerCase().startsWith('spdy/3.1+portforward')) {
          const frames = new WebSocketReader();
          const spdy = spdyStreamHeaders();
          read = (chunk) => frames.push(chunk).filter((m) => m.opcode === OPCODE.binary).flatMap((m) => spdy(m.payload));
        }
      },
      fromClient: (chunk) => {
        if (read === undefined) return;
        try {
          for (const headers of read(chunk)) {
            const port = headers.get('port');
            if (port !== undefined) ports.add(port);
          }
        } catch {
          read = undefined; // unreadable: the ports from the URL are all the record will say
        }
      },
      fromServer: () => undefined,
    },
    ports: () => [...ports],
  };
}
