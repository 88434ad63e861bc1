// Watches the AccessPolicies a gateway selects and keeps a compiled index current: a change is
// in effect within a second, with no restart. Until the first list completes the store is not
// ready, and the gateway refuses requests (fail closed) rather than deciding on no policies.
import { CustomObjectsApi, makeInformer, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { runInformer } from '../../core/runtime/informer-runner.ts';
import type { CompiledPolicies, PolicySource } from '../../core/policy/compile.ts';
import { PolicyIndex } from '../../core/policy/policy-index.ts';
import { ACCESSPOLICY_PLURAL, GROUP, VERSION } from '../../crds/types.gen.ts';

export interface PolicyStore {
  current(): CompiledPolicies;
  ready(): boolean;
  stop(): Promise<void>;
}

export interface PolicyStoreOptions {
  readonly kubeConfig: KubeConfig;
  /** '' watches every namespace. */
  readonly namespace: string;
  /** Label selector syntax; '' selects every AccessPolicy. */
  readonly labelSelector: string;
  readonly onCompiled?: (compiled: CompiledPolicies) => void;
  /** The watch's failures and recoveries are logged here (rate-limited by the informer runner). */
  readonly log: Logger;
  /** Coalesces bursts of events into one compile. */
  readonly debounceMs?: number;
}

type PolicyObject = KubernetesObject & PolicySource;

const PLURAL = ACCESSPOLICY_PLURAL;

export async function watchPolicies(options: PolicyStoreOptions): Promise<PolicyStore> {
  const api = options.kubeConfig.makeApiClient(CustomObjectsApi);
  const selector = options.labelSelector === '' ? undefined : options.labelSelector;
  const path = options.namespace === ''
    ? `/apis/${GROUP}/${VERSION}/${PLURAL}`
    : `/apis/${GROUP}/${VERSION}/namespaces/${options.namespace}/${PLURAL}`;
  const list = async (): Promise<{ items: PolicyObject[]; metadata?: { resourceVersion?: string } }> => {
    const common = { group: GROUP, version: VERSION, plural: PLURAL, ...(selector === undefined ? {} : { labelSelector: selector }) };
    const result: unknown = options.namespace === ''
      ? await api.listClusterCustomObject(common)
      : await api.listNamespacedCustomObject({ ...common, namespace: options.namespace });
    return result as { items: PolicyObject[] };
  };
  const informer = makeInformer<PolicyObject>(options.kubeConfig, path, list, selector);
  // Only the policies that changed are compiled again (policy-index.ts), so a burst of changes
  // does not hold the event loop for a recompilation of every policy per change.
  const index = new PolicyIndex();
  let isReady = false;
  let timer: NodeJS.Timeout | undefined;
  const recompile = (): void => {
    timer = undefined;
    index.sync(informer.list());
    isReady = true;
    options.onCompiled?.(index.compiled());
  };
  const schedule = (): void => { timer ??= setTimeout(recompile, options.debounceMs ?? 50); };
  informer.on('change', schedule);
  informer.on('connect', schedule);
  // client-node stops an informer on errors other than 410 and timeouts; the runtime's runner
  // restarts it with the operator's backoff (within half a second of an API server that is back).
  const runner = runInformer(informer, { name: 'accesspolicies', log: options.log, onRecovered: schedule });
  if (!(await runner.waitForSync())) throw new Error('the AccessPolicy watch stopped before its first list');
  recompile();
  return {
    current: () => index.compiled(),
    ready: () => isReady,
    stop: async () => {
      if (timer !== undefined) clearTimeout(timer);
      await runner.stop();
    },
  };
}
