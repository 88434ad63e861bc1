// A client-node KubeConfig for the gateway's own watches, authenticated with the same rotating
// token file as forwarding (client-node's tokenFile provider re-reads it every minute).
import { KubeConfig } from '@kubernetes/client-node';

export function gatewayKubeConfig(options: { server: string; caFile?: string; tokenFile: string }): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'upstream', server: options.server, skipTLSVerify: false, ...(options.caFile === undefined ? {} : { caFile: options.caFile }) }],
    users: [{ name: 'gateway', authProvider: { name: 'tokenFile', config: { tokenFile: options.tokenFile } } }],
    contexts: [{ name: 'gateway', cluster: 'upstream', user: 'gateway' }],
    currentContext: 'gateway',
  });
  return kc;
}
