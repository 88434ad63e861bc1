// Free loopback ports and the address the API server advertises.
import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Ports } from './components.ts';

/** Asks the kernel for a free port on 127.0.0.1. There is a small window before the component
 * binds it; components fail loudly if it was taken, and start() reports that. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => { resolve(port); });
    });
  });
}

export async function allocatePorts(): Promise<Ports> {
  const ports = new Set<number>();
  while (ports.size < 6) ports.add(await freePort());
  const [etcdClient, etcdPeer, apiserver, controllerManager, scheduler, kwok] = [...ports] as [number, number, number, number, number, number];
  return { etcdClient, etcdPeer, apiserver, controllerManager, scheduler, kwok };
}

/** kube-apiserver refuses a loopback advertise address; it is only written into the `kubernetes`
 * Service endpoints, never listened on, so any non-loopback address of this machine will do. */
export function advertiseAddress(): string {
  const override = process.env['AIRLOCK_ADVERTISE_ADDRESS'];
  if (override !== undefined && override !== '') return override;
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) {
      if (a.family === 'IPv4' && !a.internal) return a.address;
    }
  }
  // No external interface (a sandbox with loopback only): a documentation-range address works
  // because nothing connects to it.
  return '192.0.2.10';
}
