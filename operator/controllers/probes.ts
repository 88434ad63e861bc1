// /healthz, /readyz and /metrics over plain HTTP, on the addresses the manager's Deployment probes
// and scrapes.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { ListenAddress } from './settings.ts';

export interface ProbeState {
  /** The process is alive and its event loop answers. */
  healthy(): boolean;
  /** The process can do its job: leading with synced caches, or standing by for the lease. */
  ready(): boolean;
}

export function healthServer(state: ProbeState): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const check = path === '/healthz' || path === '/livez' ? state.healthy() : path === '/readyz' ? state.ready() : undefined;
    if (check === undefined) { res.writeHead(404).end('not found\n'); return; }
    res.writeHead(check ? 200 : 503, { 'content-type': 'text/plain' }).end(check ? 'ok\n' : 'not ready\n');
  });
}

export function metricsServer(registry: Registry): Server {
  return createServer((req, res) => {
    if ((req.url ?? '/').split('?')[0] !== '/metrics') { res.writeHead(404).end('not found\n'); return; }
    registry.metrics().then(
      (text) => { res.writeHead(200, { 'content-type': registry.contentType }).end(text); },
      (error: unknown) => { res.writeHead(500).end(`${String(error)}\n`); },
    );
  });
}

/** Listens and resolves with the bound port (useful with port 0). */
export function listen(server: Server, address: ListenAddress): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => { resolve(); });
    server.closeAllConnections();
  });
}
