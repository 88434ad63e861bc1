// Everything an AccessGateway reconciles into that can be built from the spec alone, in the order
// to apply it (ServiceAccount and RBAC before the pods that use them, config before the
// Deployment that mounts it). Secrets are not here: the credential needs a TokenRequest and the
// TLS Secret an issued certificate (gateway-credential.ts, gateway-tls.ts).
import type { ConfigMap, Deployment, PodDisruptionBudget, Service, ServiceAccount } from './k8s-types.ts';
import type { AccessGateway } from '../../crds/types.gen.ts';
import { renderGatewayConfig } from './gateway-config.ts';
import { buildGatewayConfigMap, configChecksum } from './gateway-configmap.ts';
import { buildGatewayDeployment } from './gateway-deployment.ts';
import { gatewayResourceNames, IN_CLUSTER_SERVER, upstreamCaSource } from './gateway-names.ts';
import { buildGatewayPodDisruptionBudget } from './gateway-pdb.ts';
import { buildGatewayClusterRole, buildGatewayClusterRoleBinding } from './gateway-rbac.ts';
import { buildGatewayMetricsService, buildGatewayService } from './gateway-service.ts';
import { buildGatewayServiceAccount } from './gateway-serviceaccount.ts';
import { gatewayName, gatewayNamespace } from './labels.ts';

export interface GatewayObjects {
  readonly serviceAccount: ServiceAccount;
  readonly clusterRole: Record<string, unknown>;
  readonly clusterRoleBinding: Record<string, unknown>;
  readonly configMap: ConfigMap;
  readonly deployment: Deployment;
  readonly service: Service;
  readonly metricsService: Service;
  /** undefined when replicas ≤ 1: delete any that exists. */
  readonly podDisruptionBudget: PodDisruptionBudget | undefined;
}

export function buildGatewayObjects(gateway: AccessGateway, inputs: { readonly defaultImage: string }): GatewayObjects {
  const identity = { name: gatewayName(gateway), namespace: gatewayNamespace(gateway) };
  const rendered = renderGatewayConfig(gateway, { upstreamServer: IN_CLUSTER_SERVER });
  const names = gatewayResourceNames(gateway);
  return {
    serviceAccount: buildGatewayServiceAccount(gateway),
    clusterRole: buildGatewayClusterRole(identity),
    clusterRoleBinding: buildGatewayClusterRoleBinding(identity),
    configMap: buildGatewayConfigMap(gateway, rendered),
    deployment: buildGatewayDeployment(gateway, {
      defaultImage: inputs.defaultImage,
      configChecksum: configChecksum(rendered),
      credentialSecretName: names.credentialSecret,
      tlsSecretName: names.tlsSecret,
      upstreamCa: upstreamCaSource(gateway),
    }),
    service: buildGatewayService(gateway),
    metricsService: buildGatewayMetricsService(gateway),
    podDisruptionBudget: buildGatewayPodDisruptionBudget(gateway),
  };
}

/** The objects as a list in apply order, without the absent ones. */
export function gatewayObjectList(objects: GatewayObjects): object[] {
  return [
    objects.serviceAccount, objects.clusterRole, objects.clusterRoleBinding, objects.configMap,
    objects.deployment, objects.service, objects.metricsService, objects.podDisruptionBudget,
  ].filter((o) => o !== undefined);
}
