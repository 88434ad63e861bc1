// The README's configuration table and the config module agree: every key the parser reads is
// documented, and every documented key is read.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseGatewayConfig } from './gateway-config.ts';
import { GATEWAY_CONFIG_KEYS, keyPaths } from './known-keys.ts';

function leafPaths(value: unknown, path: string): string[] {
  if (Array.isArray(value)) return value.length === 0 || typeof value[0] !== 'object' ? [path] : leafPaths(value[0], `${path}[]`);
  if (value !== null && typeof value === 'object' && !(path.endsWith('requiredClaims'))) {
    return Object.entries(value).flatMap(([k, v]) => leafPaths(v, path === '' ? k : `${path}.${k}`));
  }
  return [path];
}

describe('README gateway configuration table', () => {
  it('documents exactly the keys the config module reads', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.split('## Gateway configuration')[1]?.split('\n## ')[0] ?? '';
    const documented = [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    const full = parseGatewayConfig({
      name: 'n', listen: { tlsCertFile: '/c', tlsKeyFile: '/k' }, upstream: { server: 'https://k', tokenFile: '/t', caFile: '/ca' },
      authentication: { oidc: [{ issuerURL: 'https://i', discoveryURL: 'https://d', audiences: ['a'], usernamePrefix: '', groupsClaim: 'g', caFile: '/ca', requiredClaims: { a: 'b' }, claimsForPolicy: ['x'] }] },
      audit: { file: { path: '/a' }, webhook: { url: 'https://w', caFile: '/ca' }, checkpointKeyFile: '/key' },
      recording: { dir: '/r' },
    });
    expect(documented.sort()).toEqual(leafPaths(full, '').sort());
    // The list the parser checks files against is the same list.
    expect(keyPaths(GATEWAY_CONFIG_KEYS).sort()).toEqual(documented.sort());
  });
});
