// The upstream credential: a TokenRequest for the gateway's ServiceAccount, bound to the credential
// Secret it is stored in (deleting the Secret, or the gateway that owns it, invalidates the token),
// minted again at the spec's rotateAt fraction of its lifetime. Issue and expiry ride on the
// Secret's annotations, so a restarted operator knows when to rotate without decoding the token.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { AccessGateway } from '../../crds/types.gen.ts';
import { applyObject, type ObjectApi } from '../apply.ts';
import {
  anchorName, buildCredentialAnchor, buildGatewayCredentialSecret, buildTokenRequest, credentialRotationTime, CREDENTIAL_ANNOTATIONS, ROTATE_ANNOTATION,
} from '../resources/gateway-credential.ts';
import { gatewayResourceNames } from '../resources/gateway-names.ts';
import type { TokenRequest } from '../resources/k8s-types.ts';
import { isNotFound } from '../../core/runtime/api-errors.ts';
import { readSecret } from './read-secret.ts';

/** Mints a token for a ServiceAccount (CoreV1Api.createNamespacedServiceAccountToken underneath). */
export type TokenMinter = (ref: { namespace: string; serviceAccount: string }, request: TokenRequest) => Promise<{ token: string; expiresAt: Date }>;

export interface CredentialDeps {
  readonly objects: ObjectApi & { read(spec: KubernetesObject): Promise<KubernetesObject> };
  readonly mintToken: TokenMinter;
  /** Lists and deletes a gateway's anchor Secrets (old tokens are revoked by deleting them); absent: never revoked early. */
  readonly anchors?: {
    list(namespace: string, gateway: string): Promise<KubernetesObject[]>;
    delete(anchor: KubernetesObject): Promise<unknown>;
  };
  /** How long an old token keeps working after a rotation (the pods read the new one meanwhile). */
  readonly revokeAfterMs?: number;
}

export interface IssuedCredential {
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  readonly rotateAfter: Date;
  /** A token was minted by this call. */
  readonly minted: boolean;
  /** When an old token is next due for revocation, if any is pending. */
  readonly nextRevocation?: Date;
}

function issuedFrom(secret: KubernetesObject & { data?: Record<string, string> } | undefined): { issuedAt: Date; expiresAt: Date } | undefined {
  const annotations = secret?.metadata?.annotations ?? {};
  const issuedAt = Date.parse(annotations[CREDENTIAL_ANNOTATIONS.issuedAt] ?? '');
  const expiresAt = Date.parse(annotations[CREDENTIAL_ANNOTATIONS.expiresAt] ?? '');
  if (Number.isNaN(issuedAt) || Number.isNaN(expiresAt) || (secret?.data?.['token'] ?? '') === '') return undefined;
  return { issuedAt: new Date(issuedAt), expiresAt: new Date(expiresAt) };
}

/** The ROTATE_ANNOTATION value not yet acted on, if any. */
function rotationRequested(gateway: AccessGateway, current: KubernetesObject | undefined): string | undefined {
  const requested = gateway.metadata.annotations?.[ROTATE_ANNOTATION];
  if (requested === undefined || requested === '') return undefined;
  return requested === current?.metadata?.annotations?.[CREDENTIAL_ANNOTATIONS.rotationRequest] ? undefined : requested;
}

/** Mints a token bound to a new anchor Secret and writes it to the credential Secret. */
async function mint(gateway: AccessGateway, deps: CredentialDeps, at: { now: Date; rotationRequest: string | undefined }): Promise<IssuedCredential> {
  const names = gatewayResourceNames(gateway);
  // Each token binds to its own anchor Secret, so it can be revoked alone.
  const anchor = await applyObject<KubernetesObject>(deps.objects, buildCredentialAnchor(gateway, anchorName(gateway, at.now)));
  const request = buildTokenRequest(gateway, { name: anchor.metadata?.name ?? '', uid: anchor.metadata?.uid ?? '' });
  const minted = await deps.mintToken({ namespace: gateway.metadata.namespace ?? '', serviceAccount: names.serviceAccount }, request);
  await applyObject(deps.objects, buildGatewayCredentialSecret(gateway, {
    token: minted.token, issuedAt: at.now, expiresAt: minted.expiresAt, anchor: anchor.metadata?.name ?? '',
    ...(at.rotationRequest === undefined ? {} : { rotationRequest: at.rotationRequest }),
  }));
  const fresh = { issuedAt: at.now, expiresAt: minted.expiresAt };
  return { ...fresh, rotateAfter: credentialRotationTime(fresh, gateway), minted: true };
}

/**
 * Keeps a valid token in the credential Secret; mints one when missing, due for rotation, or
 * asked for with the rotate annotation; then revokes tokens of earlier anchors past their grace.
 */
export async function ensureCredential(gateway: AccessGateway, deps: CredentialDeps, now: Date): Promise<IssuedCredential> {
  const current = await readSecret(deps.objects, gateway.metadata.namespace ?? '', gatewayResourceNames(gateway).credentialSecret);
  const annotations = current?.metadata?.annotations ?? {};
  const issued = issuedFrom(current);
  const forced = rotationRequested(gateway, current);
  const rotateAfter = issued === undefined ? undefined : credentialRotationTime(issued, gateway);
  const keep = issued !== undefined && rotateAfter !== undefined && forced === undefined && now.getTime() < rotateAfter.getTime();
  const result = keep ? { ...issued, rotateAfter, minted: false } : await mint(gateway, deps, { now, rotationRequest: forced ?? annotations[CREDENTIAL_ANNOTATIONS.rotationRequest] });
  const currentAnchor = result.minted ? anchorName(gateway, now) : annotations[CREDENTIAL_ANNOTATIONS.anchor];
  const nextRevocation = await revokeOldAnchors(gateway, deps, { now, currentAnchor });
  return nextRevocation === undefined ? result : { ...result, nextRevocation };
}

/** What to do with one old anchor: mark it (first seen old), delete it (grace over), or wait. */
async function retireAnchor(gateway: AccessGateway, deps: CredentialDeps, args: { anchor: KubernetesObject; now: Date; grace: number }): Promise<number | undefined> {
  const { anchor, now } = args;
  const marked = Date.parse(anchor.metadata?.annotations?.[CREDENTIAL_ANNOTATIONS.retireAfter] ?? '');
  if (Number.isNaN(marked)) {
    const retireAfter = now.getTime() + args.grace;
    const desired = buildCredentialAnchor(gateway, anchor.metadata?.name ?? '');
    await applyObject(deps.objects, { ...desired, metadata: { ...desired.metadata, annotations: { [CREDENTIAL_ANNOTATIONS.retireAfter]: new Date(retireAfter).toISOString() } } });
    return retireAfter;
  }
  if (marked > now.getTime()) return marked;
  await deps.anchors?.delete(anchor).catch((error: unknown) => { if (!isNotFound(error)) throw error; });
  return undefined;
}

/**
 * Marks anchors other than the current one with a retire-after time (now + grace) and deletes those
 * past it, revoking their tokens. Returns the next retire-after time still pending.
 */
async function revokeOldAnchors(gateway: AccessGateway, deps: CredentialDeps, at: { now: Date; currentAnchor: string | undefined }): Promise<Date | undefined> {
  if (deps.anchors === undefined || at.currentAnchor === undefined) return undefined;
  const pending: number[] = [];
  for (const anchor of await deps.anchors.list(gateway.metadata.namespace ?? '', gateway.metadata.name ?? '')) {
    if (anchor.metadata?.name === at.currentAnchor) continue;
    const next = await retireAnchor(gateway, deps, { anchor, now: at.now, grace: deps.revokeAfterMs ?? 120_000 });
    if (next !== undefined) pending.push(next);
  }
  return pending.length === 0 ? undefined : new Date(Math.min(...pending));
}
