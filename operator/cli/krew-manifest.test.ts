// The krew manifest draft (config/krew/airlock.yaml) names what exists: the plugin's name is the
// file's name and not a bare verb (krew's naming guide), and every platform's `bin` is the
// launcher in this repository, executable, so an archive of the checkout's layout works.
import { accessSync, constants, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const manifest = parse(readFileSync(new URL('../../config/krew/airlock.yaml', import.meta.url), 'utf8')) as {
  apiVersion: string; kind: string; metadata: { name: string };
  spec: { version: string; shortDescription: string; platforms: { selector: { matchLabels: Record<string, string> }; uri: string; sha256: string; bin: string }[] };
};

describe('config/krew/airlock.yaml', () => {
  it('is a krew v1alpha2 Plugin named airlock, as its file, with a v-prefixed semver', () => {
    expect([manifest.apiVersion, manifest.kind, manifest.metadata.name]).toEqual(['krew.googlecontainertools.github.com/v1alpha2', 'Plugin', 'airlock']);
    expect(manifest.spec.version).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(manifest.spec.shortDescription.length).toBeLessThanOrEqual(60);
  });

  it.each(manifest.spec.platforms.map((p) => [`${p.selector.matchLabels['os'] ?? ''}/${p.selector.matchLabels['arch'] ?? ''}`, p] as const))('%s runs the repository\'s launcher', (_platform, p) => {
    expect(p.bin).toBe('operator/cli/bin/kubectl-airlock');
    expect(() => { accessSync(fileURLToPath(new URL(`../../${p.bin}`, import.meta.url)), constants.X_OK); }).not.toThrow();
    expect(p.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(p.uri).toContain(`${p.selector.matchLabels['os'] ?? ''}-${p.selector.matchLabels['arch'] ?? ''}.tar.gz`);
  });
});
