import { describe, expect, it } from 'vitest';
import { buildGatewayCredentialSecret, buildTokenRequest, credentialRotationTime, tokenTtlSeconds } from './gateway-credential.ts';
import { sampleGateway, withSpec } from './testdata/gateway.ts';

describe('gateway credential', () => {
  it.each([
    ['absent (default 1h)', undefined, 3600],
    ['30m', { tokenTTL: '30m' }, 1800],
    ['1h30m', { tokenTTL: '1h30m' }, 5400],
  ])('asks for a token that lives as long as tokenTTL says: %s', (_what, credentials, seconds) => {
    expect(tokenTtlSeconds(sampleGateway(withSpec({ credentials })))).toBe(seconds);
  });

  it.each([
    ['absent (80%)', undefined, '2026-01-01T00:48:00.000Z'],
    ['50%', { rotateAt: 50 }, '2026-01-01T00:30:00.000Z'],
    ['10%', { rotateAt: 10 }, '2026-01-01T00:06:00.000Z'],
  ])('rotates at rotateAt percent of the lifetime: %s', (_what, credentials, when) => {
    const issued = { issuedAt: new Date('2026-01-01T00:00:00Z'), expiresAt: new Date('2026-01-01T01:00:00Z') };
    expect(credentialRotationTime(issued, sampleGateway(withSpec({ credentials }))).toISOString()).toBe(when);
  });

  it('binds the TokenRequest to the credential Secret, so deleting the Secret revokes the token', () => {
    expect(buildTokenRequest(sampleGateway(), { name: 'ci-gateway-credential', uid: 'u-1' })).toEqual({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: [], expirationSeconds: 3600, boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name: 'ci-gateway-credential', uid: 'u-1' } },
    });
  });

  it('stores the token under key "token" with its issue and expiry times as annotations', () => {
    const secret = buildGatewayCredentialSecret(sampleGateway(), {
      token: 'eyJ.token', issuedAt: new Date('2026-01-01T00:00:00Z'), expiresAt: new Date('2026-01-01T01:00:00Z'),
    });
    expect(secret).toMatchObject({
      type: 'Opaque',
      metadata: {
        name: 'ci-gateway-credential',
        annotations: { 'airlock.dev/credential-issued-at': '2026-01-01T00:00:00.000Z', 'airlock.dev/credential-expires-at': '2026-01-01T01:00:00.000Z' },
      },
    });
    expect(Buffer.from(secret.data!['token']!, 'base64').toString()).toBe('eyJ.token');
  });
});
