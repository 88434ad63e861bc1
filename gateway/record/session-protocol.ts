// Which protocol an exec or attach connection speaks, and keeping it to ones the recorder can read.
// The client offers (WebSocket: Sec-WebSocket-Protocol, comma-separated; SPDY: one
// X-Stream-Protocol-Version line per version), the API server picks one in its 101 answer.
import type { OutgoingHttpHeaders } from 'node:http';
import type { SessionReader } from './session-events.ts';
import { READABLE_SPDY_PROTOCOLS, spdySessionReader } from './spdy-session.ts';
import { READABLE_WEBSOCKET_PROTOCOLS, websocketSessionReader } from './websocket-channels.ts';

const WS_PROTOCOL = 'sec-websocket-protocol';
const SPDY_PROTOCOL = 'x-stream-protocol-version';

function values(header: OutgoingHttpHeaders[string]): string[] {
  if (header === undefined) return [];
  const lines = Array.isArray(header) ? header : [String(header)];
  return lines.flatMap((line) => line.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

export type Offer =
  | { readonly readable: true; readonly headers: OutgoingHttpHeaders }
  | { readonly readable: false; readonly offered: readonly string[] };

/**
 * The upstream headers with only the protocols the recorder can read left in the offer (so a
 * session that must be recorded cannot negotiate one it cannot), or why none is left.
 */
export function readableOffer(headers: OutgoingHttpHeaders): Offer {
  const ws = values(headers[WS_PROTOCOL]);
  const spdy = values(headers[SPDY_PROTOCOL]);
  const out: OutgoingHttpHeaders = { ...headers };
  if (ws.length > 0) {
    const kept = ws.filter((p) => (READABLE_WEBSOCKET_PROTOCOLS as readonly string[]).includes(p));
    if (kept.length === 0) return { readable: false, offered: ws };
    out[WS_PROTOCOL] = kept.join(', ');
    return { readable: true, headers: out };
  }
  if (spdy.length > 0) {
    const kept = spdy.filter((p) => (READABLE_SPDY_PROTOCOLS as readonly string[]).includes(p));
    if (kept.length === 0) return { readable: false, offered: spdy };
    out[SPDY_PROTOCOL] = kept;
    return { readable: true, headers: out };
  }
  return { readable: false, offered: [] };
}

/** A reader for the protocol the API server chose (from its 101 answer's raw headers), or undefined. */
export function sessionReaderFor(rawHeaders: readonly string[]): SessionReader | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    const value = (rawHeaders[i + 1] ?? '').trim();
    if (name === WS_PROTOCOL) return websocketSessionReader(value);
    if (name === SPDY_PROTOCOL) return spdySessionReader(value);
  }
  return undefined;
}
