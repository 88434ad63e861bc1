// Installs the Airlock CRDs (idempotent; server-side apply) and waits until they are served and
// their schemas are published to OpenAPI (what `kubectl explain` reads, a few seconds later than
// Established).
import { kubectl, kubectlOk } from './kubectl.ts';

export const CRD_NAMES = ['accessgateways.airlock.dev', 'accesspolicies.airlock.dev', 'approvalrequests.airlock.dev'];

export async function installCrds(): Promise<void> {
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', 'crds/']);
  await kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', ...CRD_NAMES.map((n) => `crd/${n}`)]);
  const deadline = Date.now() + 30_000;
  for (const name of CRD_NAMES) {
    const kind = name.split('.')[0] ?? '';
    while ((await kubectl(['explain', `${kind}.spec`])).code !== 0) {
      if (Date.now() > deadline) throw new Error(`kubectl explain ${kind} still fails 30 s after the CRD was established`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
