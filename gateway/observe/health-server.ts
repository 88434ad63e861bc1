// A plain-HTTP side port for probes and scraping, kept off the TLS port callers use:
// /healthz (the process serves), /readyz (credential loaded, policies synced, not draining),
// /metrics (Prometheus text).
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  readonly name: string;
  /** undefined when ready, else why not. */
  readonly check: () => string | undefined;
}

export function createHealthServer(registry: Registry, checks: readonly ReadinessCheck[]): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz' || path === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/readyz') {
      const failing = checks.map((c) => ({ name: c.name, problem: c.check() })).filter((c) => c.problem !== undefined);
      const body = checks.map((c) => `[${failing.some((f) => f.name === c.name) ? '-' : '+'}]${c.name}`).join('\n');
      const detail = failing.map((f) => `${f.name}: ${f.problem ?? ''}`).join('\n');
      res.writeHead(failing.length === 0 ? 200 : 503, { 'content-type': 'text/plain' })
        .end(`${body}\n${failing.length === 0 ? 'ok' : detail}\n`);
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': registry.contentType }).end(text);
      }, () => { res.writeHead(500).end(); });
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
}
