// The floor of any Node.js gateway on this machine, for `bench/gateway-latency.ts --gateway bare`:
// a TLS-terminating reverse proxy with nothing else in it. It reads the gateway's own config file
// (listen certificate, upstream server, CA and token), answers /readyz on the health port, and
// forwards every request with the gateway's token and `Impersonate-User: <user>` over a keep-alive
// pool, piping the response back. No authentication, policy, audit, metrics or logs: whatever the
// real gateway costs above this process is ours; what this process costs is Node's and the kernel's.
//
//   node bench/bare-proxy.ts --config DIR/gateway-process.yaml --user oidc:ci
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { Agent, createServer, request } from 'node:https';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';

const { values } = parseArgs({ options: { config: { type: 'string' }, user: { type: 'string' } } });
if (values.config === undefined || values.user === undefined) throw new Error('usage: bare-proxy.ts --config FILE --user NAME');

interface Config {
  readonly listen: { readonly address: string; readonly port: number; readonly tlsCertFile: string; readonly tlsKeyFile: string };
  readonly health: { readonly port: number };
  readonly upstream: { readonly server: string; readonly caFile: string; readonly tokenFile: string };
}
const config = parse(readFileSync(values.config, 'utf8')) as Config;
const upstream = new URL(config.upstream.server);
const agent = new Agent({ keepAlive: true, maxSockets: 256, ca: readFileSync(config.upstream.caFile) });
const authorization = `Bearer ${readFileSync(config.upstream.tokenFile, 'utf8').trim()}`;
const user = values.user;

const server = createServer({ cert: readFileSync(config.listen.tlsCertFile), key: readFileSync(config.listen.tlsKeyFile) }, (req, res) => {
  const headers = { ...req.headers, host: upstream.host, authorization, 'impersonate-user': user };
  const out = request({ hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers, agent }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  out.on('error', () => { res.destroy(); });
  req.pipe(out);
});
server.listen(config.listen.port, config.listen.address);
createHttpServer((_req, res) => { res.end('ok'); }).listen(config.health.port, '127.0.0.1');
// A normal exit, so `--cpu-prof` writes its profile.
process.once('SIGTERM', () => { process.exit(0); });
