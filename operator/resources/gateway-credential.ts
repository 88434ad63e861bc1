// The gateway's upstream credential: a TokenRequest for the gateway's ServiceAccount, bound to the
// credential Secret that holds the token (deleting the Secret, or the gateway that owns it,
// invalidates the token), and that Secret. The token is the only thing the gateway reads from it;
// issue and expiry times ride along as annotations so a restarted operator knows when to rotate
// without decoding the token. Order: create the Secret empty (it needs a uid to bind to), request
// the token bound to it, then write the token into it. Revoking at once means replacing the
// Secret: the old uid's tokens stop working when it is deleted.
import type { Secret, TokenRequest } from './k8s-types.ts';
import type { AccessGateway } from '../../crds/types.gen.ts';
import { durationMs } from './gateway-config.ts';
import { gatewayResourceNames } from './gateway-names.ts';
import { childMetadata, type GatewayRef } from './labels.ts';

export const CREDENTIAL_ANNOTATIONS = {
  issuedAt: 'airlock.dev/credential-issued-at',
  expiresAt: 'airlock.dev/credential-expires-at',
} as const;

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

export function buildGatewayCredentialSecret(gateway: Gateway, token: { token: string; issuedAt: Date; expiresAt: Date }): Secret {
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
      },
    },
    data: { token: Buffer.from(token.token, 'utf8').toString('base64') },
  };
}
