// Limits on connections, before any request: how many may be open (in total and per client
// address), how long a TLS handshake and a request's headers may take, and how long a keep-alive
// connection may wait for its next request. Node enforces the timeouts; this module sets them from
// the configuration and adds the per-address cap, the refusal counts and the answers.
//
// A connection over a cap is closed at accept, before its TLS handshake: refusing costs nothing, so
// a flood cannot turn refusals into CPU work, and connections already open keep working. A single
// unauthenticated flood is bounded here, since per-caller caps need a verified identity.
import type { Server, ServerOptions } from 'node:https';
import { isIPv4, isIPv6, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { GatewayLimits } from '../../core/config/gateway-config.ts';
import type { LimitName } from './limit-names.ts';

type TimeoutOptions = Pick<ServerOptions, 'handshakeTimeout' | 'headersTimeout' | 'requestTimeout' | 'keepAliveTimeout' | 'connectionsCheckingInterval'>;

/** The server options that carry the limits' timeouts (given at construction: Node reads some only then). */
export function connectionTimeouts(limits: GatewayLimits): TimeoutOptions {
  const headersMs = limits.headersTimeoutSeconds * 1000;
  return {
    handshakeTimeout: limits.tlsHandshakeTimeoutSeconds * 1000,
    headersTimeout: headersMs,
    // Node's whole-request timeout would also answer a body's deadline, but without a Status and
    // without the idle gap; body-deadlines.ts does both.
    requestTimeout: 0,
    keepAliveTimeout: limits.idleTimeoutSeconds * 1000,
    // Node checks header deadlines on this period (30 s by default, so a 10 s deadline could last 40).
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersMs / 4))),
  };
}

/**
 * The key a connection counts under for the per-address cap: the IPv4 address (also when mapped
 * into IPv6), or the /64 of an IPv6 address, since one host is routinely given a whole /64.
 */
export function clientAddressKey(address: string | undefined): string {
  if (address === undefined) return '';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped !== undefined) return mapped;
  if (isIPv4(address) || !isIPv6(address)) return address;
  return `${ipv6Groups(address).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, expanded ("::" filled, zone and embedded IPv4 read). */
function ipv6Groups(address: string): string[] {
  const bare = address.split('%')[0] ?? '';
  const [head = '', tail] = bare.split('::');
  const part = (text: string): string[] => (text === '' ? [] : text.split(':').flatMap((g) => {
    if (!g.includes('.')) return [Number.parseInt(g, 16).toString(16)];
    const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
    return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
  }));
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  return [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
}

export interface ConnectionGuard {
  /** Open connections per client address key. */
  readonly perAddress: ReadonlyMap<string, number>;
  /** Records that a response was written on this socket: a timeout then closes it without a status line. */
  readonly answered: (socket: Duplex) => void;
}

const CLIENT_ERROR_ANSWERS: Readonly<Record<string, string>> = {
  ERR_HTTP_REQUEST_TIMEOUT: 'HTTP/1.1 408 Request Timeout',
  HPE_HEADER_OVERFLOW: 'HTTP/1.1 431 Request Header Fields Too Large',
};

/** Applies the connection caps to a server built with connectionTimeouts(limits). */
export function guardConnections(server: Server, limits: GatewayLimits, refused: (limit: LimitName) => void): ConnectionGuard {
  server.maxConnections = limits.maxConnections;
  server.on('drop', () => { refused('connections'); });
  const perAddress = new Map<string, number>();
  if (limits.maxConnectionsPerClientIP > 0) {
    server.on('connection', (socket: Socket) => {
      const key = clientAddressKey(socket.remoteAddress);
      const open = perAddress.get(key) ?? 0;
      if (open >= limits.maxConnectionsPerClientIP) {
        refused('connections-per-ip');
        // The TLS layer already wraps the socket; it sees a reset and gives up without a handshake.
        socket.destroy();
        return;
      }
      perAddress.set(key, open + 1);
      socket.once('close', () => {
        const left = (perAddress.get(key) ?? 1) - 1;
        if (left === 0) perAddress.delete(key);
        else perAddress.set(key, left);
      });
    });
  }
  server.on('tlsClientError', (error: NodeJS.ErrnoException) => {
    if (error.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') refused('tls-handshake-timeout');
  });
  // Sockets on which a response was written: a status line written there now could land inside a
  // response still in flight (a pipelined request), so they are only closed.
  const answeredSockets = new WeakSet<Duplex>();
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') refused('headers-timeout');
    const line = CLIENT_ERROR_ANSWERS[error.code ?? ''] ?? 'HTTP/1.1 400 Bad Request';
    if (socket.writable && !answeredSockets.has(socket) && error.code !== 'ECONNRESET') {
      socket.end(`${line}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    socket.destroy();
  });
  return { perAddress, answered: (socket) => { answeredSockets.add(socket); } };
}
