// Names of everything a gateway owns, in one place, so the builders, the reconciler and the tests
// agree. Derived only from the gateway's name and spec, never from a random suffix: a second
// reconcile (or a second operator after a failover) computes the same names and finds the objects.
import type { AccessGateway } from '../../crds/types.gen.ts';
import { gatewayServiceAccountName } from '../../core/gateway-names.ts';
import { gatewayName, gatewayNamespace, type GatewayRef } from './labels.ts';

/** The API server the gateway forwards to when spec.upstream.server is absent. */
export const IN_CLUSTER_SERVER = 'https://kubernetes.default.svc';

/** The ConfigMap every namespace has (published by kube-controller-manager) with the cluster CA. */
export const KUBE_ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';

/** The per-namespace CA the operator issues gateway serving certificates from. */
export const GATEWAY_CA_SECRET = 'airlock-gateway-ca';

/** Longest gateway name whose derived names stay valid (`<name>-metrics` is a 63-character DNS label). */
export const MAX_GATEWAY_NAME_LENGTH = 55;

export interface GatewayResourceNames {
  readonly deployment: string;
  readonly service: string;
  readonly metricsService: string;
  readonly configMap: string;
  readonly credentialSecret: string;
  readonly tlsSecret: string;
  readonly podDisruptionBudget: string;
  readonly serviceAccount: string;
  readonly caSecret: string;
}

/** The Secret the gateway serves TLS from: the user's (mode Secret) or the operator's. */
export function gatewayTlsSecretName(gateway: Pick<AccessGateway, 'metadata' | 'spec'>): string {
  const tls = gateway.spec.tls;
  if (tls?.mode === 'Secret') {
    if (tls.secretName === undefined || tls.secretName === '') {
      throw new TypeError(`AccessGateway ${gateway.metadata.name ?? ''}: tls.mode Secret needs tls.secretName`);
    }
    return tls.secretName;
  }
  return `${gateway.metadata.name ?? ''}-tls`;
}

export function gatewayResourceNames(gateway: GatewayRef & Pick<AccessGateway, 'spec'>): GatewayResourceNames {
  const name = gatewayName(gateway);
  return {
    deployment: name,
    service: name,
    metricsService: `${name}-metrics`,
    configMap: `${name}-config`,
    credentialSecret: `${name}-credential`,
    tlsSecret: gatewayTlsSecretName(gateway),
    podDisruptionBudget: name,
    serviceAccount: gatewayServiceAccountName({ name, namespace: gatewayNamespace(gateway) }),
    caSecret: GATEWAY_CA_SECRET,
  };
}

/**
 * Why a gateway name cannot be used, or undefined. The Service is named after the gateway, so the
 * name must be a DNS-1035 label short enough for the `-metrics` Service too. (The CRD allows any
 * object name; the reconciler reports this as Degraded/InvalidSpec.)
 */
export function gatewayNameProblem(name: string): string | undefined {
  if (name.length > MAX_GATEWAY_NAME_LENGTH) {
    return `name "${name}" is ${name.length} characters; a gateway name is at most ${MAX_GATEWAY_NAME_LENGTH} so that its Services' names stay valid DNS labels`;
  }
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
    return `name "${name}" is not a DNS label (lower-case letters, digits and '-', starting with a letter); the gateway's Service is named after it`;
  }
  return undefined;
}

/** Where the gateway's upstream CA bundle (key ca.crt) comes from. */
export type UpstreamCaSource = { readonly kind: 'ConfigMap' | 'Secret'; readonly name: string };

/**
 * The in-cluster API server is trusted through kube-root-ca.crt (the pod has no automounted
 * ServiceAccount volume to take it from); a remote server through spec.upstream.caSecretRef.
 * undefined: a remote server signed by a public CA, trusted through the system store.
 */
export function upstreamCaSource(gateway: Pick<AccessGateway, 'spec'>): UpstreamCaSource | undefined {
  const upstream = gateway.spec.upstream;
  if (upstream?.server === undefined || upstream.server === '') return { kind: 'ConfigMap', name: KUBE_ROOT_CA_CONFIGMAP };
  if (upstream.caSecretRef !== undefined) return { kind: 'Secret', name: upstream.caSecretRef.name };
  return undefined;
}
