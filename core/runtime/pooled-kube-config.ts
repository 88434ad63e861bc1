// A KubeConfig whose API calls share one connection pool. client-node 2.0.1 builds a new undici
// Agent for every request (KubeConfig.applySecurityAuthentication): every API call opened its
// own TLS connection, with a full handshake for the API server to pay, and kept it open until the
// idle timeout. At 1,000 policies and 30 gateways that was most of the operator's memory (its RSS
// barely moved when its caches shrank) and much of the API server's CPU (issue 20). Here the
// first Agent made for a given API server and TLS material is kept and every later request goes
// through it; new TLS material (a rotated client certificate or CA) gets a new Agent and the old
// one is closed once its requests finish. Bearer tokens travel in headers, not in the Agent, so a
// rotated ServiceAccount token is still read for each request.
import { createHash } from 'node:crypto';
import { bufferFromFileOrString, KubeConfig, type RequestContext } from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

export class PooledKubeConfig extends KubeConfig {
  private pooled: { readonly key: string; readonly dispatcher: Dispatcher } | undefined;

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    // None: plain HTTP or the global dispatcher; nothing to pool.
    if (fresh === undefined) return;
    const key = this.tlsMaterialKey();
    if (this.pooled?.key !== key) {
      const old = this.pooled?.dispatcher;
      this.pooled = { key, dispatcher: fresh };
      // Lets requests in flight on the old one finish, then closes its connections.
      void old?.close().catch(() => undefined);
      return;
    }
    // The Agent made for this request has opened nothing yet: dropping it costs nothing.
    context.setDispatcher(this.pooled.dispatcher);
  }

  /** What the Agent's TLS depends on: the API server and the CA, client certificate and key in force now. */
  private tlsMaterialKey(): string {
    const cluster = this.getCurrentCluster();
    const user = this.getCurrentUser();
    const hash = createHash('sha256');
    for (const part of [
      cluster?.server, cluster?.proxyUrl, String(cluster?.skipTLSVerify), cluster?.tlsServerName,
      bufferFromFileOrString(cluster?.caFile, cluster?.caData), bufferFromFileOrString(user?.certFile, user?.certData), bufferFromFileOrString(user?.keyFile, user?.keyData),
    ]) hash.update(part ?? '').update('\0');
    return hash.digest('base64url');
  }
}
