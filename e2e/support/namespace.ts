// A fresh namespace per test, deleted afterwards; on failure its events are printed first so the
// log says what the cluster saw.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, onTestFailed } from 'vitest';
import { kubectl, kubectlOk } from './kubectl.ts';

export interface TestNamespace {
  /** The current test's namespace; only valid inside a test. */
  readonly name: string;
}

export function useTestNamespace(prefix = 'e2e'): TestNamespace {
  let current: string | undefined;
  beforeEach(async () => {
    current = `${prefix}-${randomBytes(3).toString('hex')}`;
    await kubectlOk(['create', 'namespace', current]);
    const namespace = current;
    onTestFailed(async () => {
      const events = await kubectl(['get', 'events', '-n', namespace, '--sort-by=.lastTimestamp']);
      process.stderr.write(`\n--- events in ${namespace} ---\n${events.stdout}${events.stderr}\n`);
    });
  });
  afterEach(async () => {
    if (current !== undefined) {
      await kubectl(['delete', 'namespace', current, '--wait=false']);
      current = undefined;
    }
  });
  return {
    get name(): string {
      if (current === undefined) throw new Error('useTestNamespace: no namespace outside a test');
      return current;
    },
  };
}
