// `kubectl port-forward` as a test drives it: start it, learn the local port it chose, send bytes
// through it and read the answer (kwok's simulated pods echo).
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

export async function roundTripThroughPortForward(
  kubectl: { path: string; kubeconfig: string; env?: Readonly<Record<string, string>> },
  target: { namespace: string; pod: string; port: number },
  payload: string,
): Promise<string> {
  const child = spawn(kubectl.path, ['port-forward', '-n', target.namespace, `pod/${target.pod}`, `:${target.port}`, '--address', '127.0.0.1'], {
    env: { ...process.env, KUBECONFIG: kubectl.kubeconfig, ...kubectl.env },
  });
  try {
    const localPort = await new Promise<number>((resolve, reject) => {
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.once('exit', (code) => { reject(new Error(`kubectl port-forward exited ${code}: ${stderr}`)); });
      createInterface({ input: child.stdout }).on('line', (line) => {
        const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(line);
        if (match?.[1] !== undefined) resolve(Number(match[1]));
      });
    });
    return await new Promise<string>((resolve, reject) => {
      const socket = connect(localPort, '127.0.0.1', () => { socket.write(payload); });
      let received = '';
      socket.on('data', (d: Buffer) => {
        received += d.toString();
        if (received.length >= payload.length) { socket.end(); resolve(received); }
      });
      socket.on('error', reject);
      setTimeout(() => { socket.destroy(); reject(new Error(`port-forward answered "${received}" within 10 s`)); }, 10_000).unref();
    });
  } finally {
    child.kill();
  }
}
