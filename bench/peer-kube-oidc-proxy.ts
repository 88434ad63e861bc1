// kube-oidc-proxy (TremoloSecurity's maintained fork) as the gateway's peer in
// bench/gateway-latency.ts `--peer kube-oidc-proxy=PATH`: the binary at PATH is started from the
// same config file as the gateway process, so both serve the same certificate, trust the same OIDC
// issuer with the same username mapping, reach the same API server with the same token (the
// gateway's ServiceAccount, which may impersonate), and run on the same CPUs. Its own audit log is
// on at level Metadata (the API server's audit backend it embeds: a JSON line per stage, written by
// its blocking log backend, without fsync). Nothing of it is built or committed here: the bench
// takes the binary (BENCHMARKS.md says how it was built).
import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { freePort } from './gateway-process.ts';

export interface PeerProcess { readonly url: string; readonly pid: number; readonly auditFile: string; stop(): Promise<void> }

interface GatewayFile {
  readonly listen: { readonly tlsCertFile: string; readonly tlsKeyFile: string };
  readonly upstream: { readonly server: string; readonly caFile: string; readonly tokenFile: string };
  readonly authentication: { readonly oidc: readonly { readonly issuerURL: string; readonly audiences: readonly string[]; readonly caFile: string; readonly usernameClaim: string; readonly usernamePrefix: string }[] };
}

/** `kube-oidc-proxy=PATH` → PATH; anything else is refused with what is accepted. */
export function peerBinary(peer: string | undefined): string | undefined {
  if (peer === undefined) return undefined;
  const [name, path] = peer.split(/=(.*)/s);
  if (name !== 'kube-oidc-proxy' || path === undefined || path === '') throw new Error(`--peer wants kube-oidc-proxy=PATH (the binary built from TremoloSecurity/kube-oidc-proxy); got ${peer}`);
  return path;
}

/** Starts kube-oidc-proxy beside the gateway (its config file in `gatewayDir`) and waits until a GET through it answers 200. */
export async function startPeer(binary: string, gatewayDir: string, options: { cpus?: string | undefined; ready: (url: string) => Promise<boolean> }): Promise<PeerProcess> {
  const config = parse(readFileSync(join(gatewayDir, 'gateway.yaml'), 'utf8')) as GatewayFile;
  const oidc = config.authentication.oidc[0];
  if (oidc === undefined) throw new Error('the gateway config has no OIDC issuer for the peer to trust');
  const dir = join(gatewayDir, 'kube-oidc-proxy');
  await mkdir(dir, { recursive: true });
  // The token as a file (not a flag, which `ps` would show), re-read as client-go re-reads it.
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'peer',
    clusters: [{ name: 'local', cluster: { server: config.upstream.server, 'certificate-authority': config.upstream.caFile } }],
    users: [{ name: 'gateway', user: { tokenFile: config.upstream.tokenFile } }],
    contexts: [{ name: 'peer', context: { cluster: 'local', user: 'gateway' } }],
  }), { mode: 0o600 });
  const policy = join(dir, 'audit-policy.yaml');
  await writeFile(policy, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n');
  const auditFile = join(dir, 'audit.log');
  const [port, probePort] = [await freePort(), await freePort()];
  const args = [
    `--secure-port=${port}`, '--bind-address=127.0.0.1', `--tls-cert-file=${config.listen.tlsCertFile}`, `--tls-private-key-file=${config.listen.tlsKeyFile}`,
    `--oidc-issuer-url=${oidc.issuerURL}`, `--oidc-client-id=${oidc.audiences[0] ?? ''}`, `--oidc-ca-file=${oidc.caFile}`,
    `--oidc-username-claim=${oidc.usernameClaim}`, `--oidc-username-prefix=${oidc.usernamePrefix}`,
    `--kubeconfig=${kubeconfig}`, `--readiness-probe-port=${probePort}`,
    `--audit-policy-file=${policy}`, `--audit-log-path=${auditFile}`,
  ];
  const log = join(dir, 'stderr.log');
  const stderr = openSync(log, 'a');
  // Its access log (a line per request on stdout) is discarded, as the gateway's stdout is.
  const child = options.cpus === undefined
    ? spawn(binary, args, { stdio: ['ignore', 'ignore', stderr] })
    : spawn('taskset', ['-c', options.cpus, binary, ...args], { stdio: ['ignore', 'ignore', stderr] });
  const url = `https://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`kube-oidc-proxy exited with ${child.exitCode}; see ${log}`);
    if (i >= 300) { child.kill('SIGTERM'); throw new Error(`kube-oidc-proxy not ready after 30 s; see ${log}`); }
    if (await options.ready(url).catch(() => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url, pid: child.pid ?? 0, auditFile,
    stop: () => new Promise((resolve) => { child.once('exit', () => { resolve(); }); child.kill('SIGTERM'); }),
  };
}
