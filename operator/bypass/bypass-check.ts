// The bypass report as an AccessGateway condition: NoBypass True when find-bypass.ts finds no path
// around the gateway, False (reason BypassFound, with the count and the paths) otherwise; a
// transition is an Event like any condition's. The check makes API calls (a SubjectAccessReview per
// rule attribute), so its result is kept per gateway for `intervalMs` and reconciles in between
// reuse it: a fix shows within one interval.
import type { AccessGateway } from '../../crds/types.gen.ts';
import type { DesiredCondition } from '../controllers/conditions.ts';
import type { BypassFinding } from '../../core/bypass/find-bypass.ts';

export const NO_BYPASS = 'NoBypass';

export function bypassCondition(gateway: AccessGateway, findings: readonly BypassFinding[]): DesiredCondition {
  const command = `kubectl airlock bypass ${gateway.metadata.name ?? ''} -n ${gateway.metadata.namespace ?? ''}`;
  if (findings.length === 0) {
    return { type: NO_BYPASS, status: 'True', reason: 'NoneFound', message: 'No path around the gateway found for the subjects of its AccessPolicies.' };
  }
  const listed = findings.slice(0, 5).map((f) => `${f.kind} ${f.subject}`).join('; ');
  return {
    type: NO_BYPASS, status: 'False', reason: 'BypassFound',
    message: `${findings.length} path(s) around the gateway: ${listed}${findings.length > 5 ? `; and ${findings.length - 5} more` : ''}. \`${command}\` lists each with its fix.`,
  };
}

export interface BypassCheck {
  /** The NoBypass condition for the gateway, from a check at most `intervalMs` old. */
  condition(gateway: AccessGateway): Promise<DesiredCondition>;
  readonly intervalMs: number;
  forget(key: string): void;
}

export function createBypassCheck(options: { find: (gateway: AccessGateway) => Promise<readonly BypassFinding[]>; intervalMs: number; now: () => number }): BypassCheck {
  const last = new Map<string, { at: number; condition: DesiredCondition }>();
  return {
    intervalMs: options.intervalMs,
    async condition(gateway) {
      const key = `${gateway.metadata.namespace ?? ''}/${gateway.metadata.name ?? ''}`;
      const known = last.get(key);
      if (known !== undefined && options.now() - known.at < options.intervalMs) return known.condition;
      let condition: DesiredCondition;
      try {
        condition = bypassCondition(gateway, await options.find(gateway));
      } catch (error) {
        // Not a reason to fail the reconcile: the gateway works; only the report is missing.
        condition = { type: NO_BYPASS, status: 'Unknown', reason: 'CheckFailed', message: `The bypass check failed: ${error instanceof Error ? error.message.slice(0, 300) : 'unknown error'}; it is retried.` };
      }
      last.set(key, { at: options.now(), condition });
      return condition;
    },
    forget(key) { last.delete(key); },
  };
}
