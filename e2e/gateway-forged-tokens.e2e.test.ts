// Forged and misaddressed tokens are refused at the wire with 401, and nothing is forwarded:
// the real kubectl, the real issuer's key where an attacker could not have it, real HTTP.
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk } from './support/kubectl.ts';
import { CI_CLIENT, startTestGateway, type TestGateway } from './support/gateway.ts';

const NS = 'airlock-forged-e2e';
let gw: TestGateway;

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

beforeAll(async () => {
  await installCrds();
  await kubectl(['create', 'namespace', NS]);
  await kubectlOk(['apply', '-f', '-'], { input: stringify({
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'everything', namespace: NS },
    spec: { subjects: [{ group: { name: 'system:authenticated' } }], rules: [{ name: 'all', action: 'Allow' }] },
  }) });
  gw = await startTestGateway({ name: 'forged', policyNamespace: NS, defaultAction: 'Deny' });
}, 120_000);

afterAll(async () => {
  await gw.stop();
  await kubectl(['delete', 'namespace', NS, '--wait=false']);
});

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: gw.oidc.issuer, aud: gw.oidc.audience, sub: CI_CLIENT.clientId, iat: now, exp: now + 300, repository: 'acme/payments', ...overrides };
}

describe('gateway: forged tokens', () => {
  it('accepts a well-formed token from the issuer (the control case)', async () => {
    const kubeconfig = await gw.kubeconfigFor(await gw.oidc.sign(claims()), 'good');
    const result = await kubectl(['get', '--raw', '/version'], { kubeconfig });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('gitVersion');
  });

  const cases: [string, () => Promise<string>][] = [
    ['alg none', () => Promise.resolve(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`)],
    ['HS256 signed with the issuer\'s public key', () => {
      const head = `${b64({ alg: 'HS256', typ: 'JWT', kid: 'e2e-1' })}.${b64(claims())}`;
      return Promise.resolve(`${head}.${createHmac('sha256', gw.oidc.publicKeyPem).update(head).digest('base64url')}`);
    }],
    ['a key the issuer never published (unknown kid)', () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      return new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', kid: 'attacker' }).sign(privateKey);
    }],
    ['the issuer\'s kid with another key', () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      return new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', kid: 'e2e-1' }).sign(privateKey);
    }],
    ['an expired token', () => gw.oidc.sign(claims({ iat: Math.floor(Date.now() / 1000) - 3600, exp: Math.floor(Date.now() / 1000) - 600 }))],
    ['a token not valid yet', () => gw.oidc.sign(claims({ nbf: Math.floor(Date.now() / 1000) + 3600 }))],
    ['a token for another audience', () => gw.oidc.sign(claims({ aud: 'https://someone-else.example' }))],
    ['a tampered payload', async () => {
      const [h, , s] = (await gw.oidc.sign(claims())).split('.');
      return `${h ?? ''}.${b64(claims({ sub: 'cluster-admin' }))}.${s ?? ''}`;
    }],
    ['a token naming another issuer (falls to TokenReview, which refuses it)', () => gw.oidc.sign(claims({ iss: 'https://evil.example' }))],
  ];

  it.each(cases)('refuses %s with 401', async (name, make) => {
    const kubeconfig = await gw.kubeconfigFor(await make(), `forged-${name.replace(/\W+/g, '-')}`);
    const result = await kubectl(['get', '--raw', '/version'], { kubeconfig });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Unauthorized/);
  });
});
