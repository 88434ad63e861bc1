// Connection limits on a real TLS server on loopback: the caps close connections at accept while
// those already open keep working; which addresses count as one client.
import { createServer, type Server } from 'node:https';
import { mkdtemp, readFile } from 'node:fs/promises';
import { connect as connectTcp, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensurePki, issueServingCertificate } from '../../hack/controlplane/pki.ts';
import { parseGatewayConfig, type GatewayLimits } from '../../core/config/gateway-config.ts';
import { clientAddressKey, connectionTimeouts, guardConnections } from './connection-limits.ts';
import type { LimitName } from './limit-names.ts';

let tls: { cert: Buffer; key: Buffer; ca: Buffer };
let server: Server | undefined;
const sockets: TLSSocket[] = [];

beforeAll(async () => {
  const pki = await ensurePki({ dir: await mkdtemp(join(tmpdir(), 'airlock-limits-')), servingIps: [] });
  const cert = await issueServingCertificate(pki, 'gateway', { ips: ['127.0.0.1'] });
  tls = { cert: await readFile(cert.cert), key: await readFile(cert.key), ca: await readFile(pki.caCert) };
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => { if (server === undefined) resolve(); else server.close(() => { resolve(); }); });
  server = undefined;
});

function limits(overrides: Record<string, unknown>): GatewayLimits {
  return parseGatewayConfig({
    name: 'n', listen: { tlsCertFile: '/c', tlsKeyFile: '/k' }, upstream: { server: 'https://k', tokenFile: '/t' }, audit: { level: 'None' }, limits: overrides,
  }).limits;
}

async function start(config: GatewayLimits, refused: LimitName[]): Promise<number> {
  server = createServer({ cert: tls.cert, key: tls.key, ...connectionTimeouts(config) }, (_req, res) => { res.end('ok'); });
  guardConnections(server, config, (l) => { refused.push(l); });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A TLS connection from `localAddress`: 'open' once the handshake is done, 'refused' if it is closed first. */
function open(port: number, localAddress: string): Promise<{ outcome: 'open' | 'refused'; socket: TLSSocket }> {
  return new Promise((resolve) => {
    const socket = connect({ socket: connectTcp({ port, host: '127.0.0.1', localAddress }), host: '127.0.0.1', ca: tls.ca });
    sockets.push(socket);
    socket.once('secureConnect', () => { resolve({ outcome: 'open', socket }); });
    socket.once('error', () => { resolve({ outcome: 'refused', socket }); });
    socket.once('close', () => { resolve({ outcome: 'refused', socket }); });
  });
}

/** One GET on an open connection; resolves with the answer's status line. */
function get(socket: TLSSocket): Promise<string> {
  return new Promise((resolve) => {
    socket.once('data', (d: Buffer) => { resolve(d.toString().split('\r\n')[0] ?? ''); });
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  });
}

describe('connection limits', () => {
  it('closes a connection over the per-address cap at accept; the address\'s open ones and other addresses keep working', async () => {
    const refused: LimitName[] = [];
    const port = await start(limits({ maxConnections: 10, maxConnectionsPerClientIP: 2 }), refused);
    const first = await open(port, '127.0.0.1');
    const second = await open(port, '127.0.0.1');
    expect([first.outcome, second.outcome]).toEqual(['open', 'open']);
    expect((await open(port, '127.0.0.1')).outcome).toBe('refused');
    expect((await open(port, '127.0.0.2')).outcome).toBe('open');
    expect(await get(first.socket)).toBe('HTTP/1.1 200 OK');
    expect(refused).toEqual(['connections-per-ip']);
    // A closed connection frees its place.
    second.socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await open(port, '127.0.0.1')).outcome).toBe('open');
  });

  it('closes a connection over the total cap at accept, whatever its address', async () => {
    const refused: LimitName[] = [];
    const port = await start(limits({ maxConnections: 2, maxConnectionsPerClientIP: 0 }), refused);
    const first = await open(port, '127.0.0.1');
    await open(port, '127.0.0.2');
    expect((await open(port, '127.0.0.3')).outcome).toBe('refused');
    expect(await get(first.socket)).toBe('HTTP/1.1 200 OK');
    expect(refused).toEqual(['connections']);
  });

  it('sets Node\'s timeouts from the configuration, checking header deadlines often enough to keep them', () => {
    expect(connectionTimeouts(limits({ tlsHandshakeTimeoutSeconds: 5, headersTimeoutSeconds: 2, idleTimeoutSeconds: 7 }))).toEqual({
      handshakeTimeout: 5000, headersTimeout: 2000, requestTimeout: 0, keepAliveTimeout: 7000, connectionsCheckingInterval: 500,
    });
    expect(connectionTimeouts(limits({})).connectionsCheckingInterval).toBe(1000);
  });
});

describe('clientAddressKey', () => {
  it.each([
    ['10.1.2.3', '10.1.2.3'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['2001:db8:aa:bb:1:2:3:4', '2001:db8:aa:bb::/64'],
    ['2001:db8:aa:bb::9', '2001:db8:aa:bb::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:DB8:0:0:ffff::1%eth0', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    [undefined, ''],
  ])('%s counts as %s', (address, key) => {
    expect(clientAddressKey(address)).toBe(key);
  });

  it('counts every address of one /64 as one client, and neighbouring /64s apart', () => {
    expect(clientAddressKey('2001:db8:1:2::a')).toBe(clientAddressKey('2001:db8:1:2:ffff:ffff:ffff:ffff'));
    expect(clientAddressKey('2001:db8:1:2::a')).not.toBe(clientAddressKey('2001:db8:1:3::a'));
  });
});
