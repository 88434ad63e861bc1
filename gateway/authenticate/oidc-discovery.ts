// OpenID Connect discovery for one issuer (openid-client), checked the way kube-apiserver checks
// it: the document's `issuer` must equal the configured issuer URL exactly, character for character.
import * as client from 'openid-client';
import { AuthenticationError } from '../../core/identity.ts';
import type { FetchLike } from './ca-fetch.ts';

export interface IssuerMetadata {
  readonly issuer: string;
  readonly jwksUri: URL;
}

export interface DiscoveryOptions {
  readonly issuerURL: string;
  /** Used as is (it must contain `/.well-known/`); its document must still name `issuerURL`. */
  readonly discoveryURL?: string;
  readonly allowInsecureHttp: boolean;
  readonly timeoutSeconds: number;
  readonly fetch?: FetchLike;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown error';
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}

export async function discoverIssuer(options: DiscoveryOptions): Promise<IssuerMetadata> {
  const where = options.discoveryURL ?? options.issuerURL;
  let config: client.Configuration;
  try {
    // The client ID is required by the API but unused: the gateway is a resource server.
    config = await client.discovery(new URL(where), 'airlock-gateway', undefined, undefined, {
      timeout: options.timeoutSeconds,
      // Tests and local issuers only; the config refuses http:// issuers without the flag.
      // eslint-disable-next-line @typescript-eslint/no-deprecated
      ...(options.allowInsecureHttp ? { execute: [client.allowInsecureRequests] } : {}),
      ...(options.fetch === undefined ? {} : { [client.customFetch]: options.fetch }),
    });
  } catch (error) {
    throw new AuthenticationError('issuer_unavailable', `discovery at ${where} failed: ${describe(error)}`, { cause: error });
  }
  const metadata = config.serverMetadata();
  // openid-client compares normalised URLs, skips the check for a /.well-known/ URL, and lets some
  // hosted issuers' templated issuers through; the issuer a token names must match exactly.
  if (metadata.issuer !== options.issuerURL) {
    throw new AuthenticationError('issuer_unavailable', `discovery at ${where} names issuer "${metadata.issuer}", not the configured "${options.issuerURL}"`);
  }
  if (metadata.jwks_uri === undefined) {
    throw new AuthenticationError('issuer_unavailable', `discovery at ${where} has no jwks_uri`);
  }
  let jwksUri: URL;
  try {
    jwksUri = new URL(metadata.jwks_uri);
  } catch {
    throw new AuthenticationError('issuer_unavailable', `discovery at ${where} has an invalid jwks_uri`);
  }
  if (jwksUri.protocol !== 'https:' && !(options.allowInsecureHttp && jwksUri.protocol === 'http:')) {
    throw new AuthenticationError('issuer_unavailable', `jwks_uri ${jwksUri.href} must use https`);
  }
  return { issuer: metadata.issuer, jwksUri };
}
