// The upstream credential: a TokenRequest for the gateway's ServiceAccount, bound to the credential
// Secret it is stored in (deleting the Secret, or the gateway that owns it, invalidates the token),
// minted again at the spec's rotateAt fraction of its lifetime. Issue and expiry ride on the
// Secret's annotations, so a restarted operator knows when to rotate without decoding the token.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { AccessGateway } from '../../crds/types.gen.ts';
import { applyObject, type ObjectApi } from '../apply.ts';
import { buildGatewayCredentialSecret, buildTokenRequest, credentialRotationTime, CREDENTIAL_ANNOTATIONS } from '../resources/gateway-credential.ts';
import { gatewayResourceNames } from '../resources/gateway-names.ts';
import type { TokenRequest } from '../resources/k8s-types.ts';
import { childMetadata } from '../resources/labels.ts';
import { isNotFound } from '../runtime/api-errors.ts';

/** Mints a token for a ServiceAccount (CoreV1Api.createNamespacedServiceAccountToken underneath). */
export type TokenMinter = (ref: { namespace: string; serviceAccount: string }, request: TokenRequest) => Promise<{ token: string; expiresAt: Date }>;

export interface CredentialDeps {
  readonly objects: ObjectApi & { read(spec: KubernetesObject): Promise<KubernetesObject> };
  readonly mintToken: TokenMinter;
}

export interface IssuedCredential {
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  readonly rotateAfter: Date;
  /** A token was minted by this call. */
  readonly minted: boolean;
}

async function readSecret(deps: CredentialDeps, namespace: string, name: string): Promise<KubernetesObject & { data?: Record<string, string> } | undefined> {
  try {
    const header: object = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace } };
    return await deps.objects.read(header);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

function issuedFrom(secret: KubernetesObject & { data?: Record<string, string> } | undefined): { issuedAt: Date; expiresAt: Date } | undefined {
  const annotations = secret?.metadata?.annotations ?? {};
  const issuedAt = Date.parse(annotations[CREDENTIAL_ANNOTATIONS.issuedAt] ?? '');
  const expiresAt = Date.parse(annotations[CREDENTIAL_ANNOTATIONS.expiresAt] ?? '');
  if (Number.isNaN(issuedAt) || Number.isNaN(expiresAt) || (secret?.data?.['token'] ?? '') === '') return undefined;
  return { issuedAt: new Date(issuedAt), expiresAt: new Date(expiresAt) };
}

/** Keeps a valid token in the credential Secret; mints one when missing or due for rotation. */
export async function ensureCredential(gateway: AccessGateway, deps: CredentialDeps, now: Date): Promise<IssuedCredential> {
  const names = gatewayResourceNames(gateway);
  const namespace = gateway.metadata.namespace ?? '';
  const current = await readSecret(deps, namespace, names.credentialSecret);
  const issued = issuedFrom(current);
  if (issued !== undefined) {
    const rotateAfter = credentialRotationTime(issued, gateway);
    if (now.getTime() < rotateAfter.getTime()) return { ...issued, rotateAfter, minted: false };
  }
  // The token binds to the Secret's uid, so the Secret must exist first (empty on first issue).
  const secret = current ?? await applyObject<KubernetesObject>(deps.objects, {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: childMetadata(gateway, names.credentialSecret, 'credential'),
  });
  const uid = secret.metadata?.uid ?? '';
  const minted = await deps.mintToken({ namespace, serviceAccount: names.serviceAccount }, buildTokenRequest(gateway, { name: names.credentialSecret, uid }));
  await applyObject(deps.objects, buildGatewayCredentialSecret(gateway, { token: minted.token, issuedAt: now, expiresAt: minted.expiresAt }));
  const fresh = { issuedAt: now, expiresAt: minted.expiresAt };
  return { ...fresh, rotateAfter: credentialRotationTime(fresh, gateway), minted: true };
}
