// The gateway's upstream credential: a TokenRequest for the gateway's ServiceAccount, and the
// credential Secret the gateway reads it from. Each token is bound to its own empty **anchor**
// Secret (`<credential>-<issued, base36>`): deleting the anchor revokes exactly that token, while
// the credential Secret (mounted by the pods) keeps its name. After a rotation the previous
// anchors are deleted once the pods have had time to read the new token (the grace period), so an
// old token stops working without failing a request. Issue and expiry times, the current anchor
// and the last forced-rotation request ride along as annotations.
import type { Secret, TokenRequest } from './k8s-types.ts';
import type { AccessGateway } from '../../crds/types.gen.ts';
import { durationMs } from './gateway-config.ts';
import { gatewayResourceNames } from './gateway-names.ts';
import { childMetadata, type GatewayRef } from './labels.ts';

export const CREDENTIAL_ANNOTATIONS = {
  issuedAt: 'airlock.dev/credential-issued-at',
  expiresAt: 'airlock.dev/credential-expires-at',
  /** The anchor Secret the current token is bound to. */
  anchor: 'airlock.dev/credential-anchor',
  /** The value of ROTATE_ANNOTATION last acted on. */
  rotationRequest: 'airlock.dev/rotation-request',
  /** On an old anchor: when it is deleted (its token revoked). */
  retireAfter: 'airlock.dev/retire-after',
} as const;

/** Set (to any new value) on an AccessGateway to rotate its upstream token now. */
export const ROTATE_ANNOTATION = 'airlock.dev/rotate-credentials';
/** Labels anchors with the gateway they belong to. */
export const ANCHOR_LABEL = 'airlock.dev/credential-anchor-of';

export const DEFAULT_TOKEN_TTL = '1h';
export const DEFAULT_ROTATE_AT_PERCENT = 80;

type Gateway = GatewayRef & Pick<AccessGateway, 'spec'>;

/** The token lifetime the spec asks for, in seconds (default 1h). */
export function tokenTtlSeconds(gateway: Pick<AccessGateway, 'spec'>): number {
  return Math.floor(durationMs(gateway.spec.credentials?.tokenTTL ?? DEFAULT_TOKEN_TTL) / 1000);
}

/** When to mint the next token: rotateAt percent of the way from issue to expiry. */
export function credentialRotationTime(issued: { issuedAt: Date; expiresAt: Date }, gateway: Pick<AccessGateway, 'spec'>): Date {
  const percent = gateway.spec.credentials?.rotateAt ?? DEFAULT_ROTATE_AT_PERCENT;
  const lifetime = issued.expiresAt.getTime() - issued.issuedAt.getTime();
  return new Date(issued.issuedAt.getTime() + Math.floor((lifetime * percent) / 100));
}

/** The TokenRequest body, bound to the credential Secret (its uid comes from the API server). */
export function buildTokenRequest(gateway: Gateway, credentialSecret: { name: string; uid: string }): TokenRequest {
  return {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: {
      // Empty: the API server's own audience, the one it accepts for API calls.
      audiences: [],
      expirationSeconds: tokenTtlSeconds(gateway),
      boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name: credentialSecret.name, uid: credentialSecret.uid },
    },
  };
}

/** The empty Secret one token is bound to (owned by the gateway, so deleting the gateway revokes it too). */
export function buildCredentialAnchor(gateway: Gateway, name: string): Secret {
  const metadata = childMetadata(gateway, name, 'credential');
  return { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { ...metadata, labels: { ...metadata.labels, [ANCHOR_LABEL]: gateway.metadata.name ?? '' } } };
}

export function anchorName(gateway: Gateway, issuedAt: Date): string {
  // Milliseconds: two rotations in one second (a forced one right after the first) must not share an anchor.
  return `${gatewayResourceNames(gateway).credentialSecret}-${issuedAt.getTime().toString(36)}`;
}

export function buildGatewayCredentialSecret(gateway: Gateway, token: { token: string; issuedAt: Date; expiresAt: Date; anchor?: string; rotationRequest?: string }): Secret {
  const metadata = childMetadata(gateway, gatewayResourceNames(gateway).credentialSecret, 'credential');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      ...metadata,
      annotations: {
        [CREDENTIAL_ANNOTATIONS.issuedAt]: token.issuedAt.toISOString(),
        [CREDENTIAL_ANNOTATIONS.expiresAt]: token.expiresAt.toISOString(),
        ...(token.anchor === undefined ? {} : { [CREDENTIAL_ANNOTATIONS.anchor]: token.anchor }),
        ...(token.rotationRequest === undefined ? {} : { [CREDENTIAL_ANNOTATIONS.rotationRequest]: token.rotationRequest }),
      },
    },
    data: { token: Buffer.from(token.token, 'utf8').toString('base64') },
  };
}
