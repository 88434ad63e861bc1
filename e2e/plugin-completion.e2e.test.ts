// `kubectl airlock <TAB>` in kubectl's own completion: the real kubectl (1.26 or later) finds
// kubectl_complete-airlock beside the plugin on PATH and reads its answer; ApprovalRequest names
// come from the real API server, with the namespace the user typed.
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk } from './support/kubectl.ts';
import { useTestNamespace } from './support/namespace.ts';

const PATH = `${process.cwd()}/plugin/bin:${process.env['PATH'] ?? ''}`;

async function completeWith(words: string[]): Promise<string[]> {
  const result = await kubectl(['__complete', ...words], { env: { PATH } });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim().split('\n');
}

describe('kubectl completes the plugin through kubectl_complete-airlock', () => {
  const ns = useTestNamespace('e2e-completion');
  beforeAll(installCrds);

  it('completes the plugin\'s subcommands and flags', async () => {
    expect(await completeWith(['airlock', 'ap'])).toEqual(['approve\tApprove an ApprovalRequest as yourself (without NAME: list what you may decide)', ':4']);
    expect(await completeWith(['airlock', 'deny', '--rea'])).toEqual(['--reason', ':4']);
  });

  it('completes the names of ApprovalRequests in the namespace given, for airlock approve and for approve', async () => {
    const fixture = parse(await readFile('crds/testdata/airlock_v1alpha1_approvalrequest.yaml', 'utf8')) as { metadata: Record<string, unknown>; spec: { request: { summary: string } } };
    fixture.metadata['namespace'] = ns.name;
    await kubectlOk(['apply', '--server-side', '-f', '-'], { input: stringify(fixture) });
    const name = String(fixture.metadata['name']);
    expect(await completeWith(['airlock', 'approve', '-n', ns.name, ''])).toEqual([`${name}\t${fixture.spec.request.summary}`, ':4']);
    expect((await completeWith(['approve', '-n', ns.name, 'pay']))[0]).toMatch(new RegExp(`^${name}\\t`));
    expect(await completeWith(['approve', '-n', ns.name, 'zzz'])).toEqual([':4']);
  });
});
