// The one helper every status write goes through: metav1.Condition semantics, where
// lastTransitionTime moves only when a condition's status changes (a new reason or message alone
// keeps it), so `kubectl describe` and Argo CD show how long a state has lasted.
import type { AccessGatewayStatus } from '../../crds/types.gen.ts';

export type Condition = NonNullable<AccessGatewayStatus['conditions']>[number];

export interface DesiredCondition {
  readonly type: string;
  readonly status: Condition['status'];
  readonly reason: string;
  readonly message: string;
}

/**
 * The conditions to write: `desired` in its order, each keeping the previous lastTransitionTime
 * when its status is unchanged; conditions of other types are kept as they were.
 */
export function mergeConditions(
  previous: readonly Condition[] | undefined,
  desired: readonly DesiredCondition[],
  at: { readonly now: Date; readonly generation: number | undefined },
): Condition[] {
  const before = new Map((previous ?? []).map((c) => [c.type, c]));
  const written = desired.map((want): Condition => {
    const had = before.get(want.type);
    const lastTransitionTime = had !== undefined && had.status === want.status ? had.lastTransitionTime : at.now.toISOString();
    return {
      type: want.type,
      status: want.status,
      ...(at.generation === undefined ? {} : { observedGeneration: at.generation }),
      lastTransitionTime,
      reason: want.reason,
      message: want.message,
    };
  });
  const kept = (previous ?? []).filter((c) => !desired.some((d) => d.type === c.type));
  return [...written, ...kept];
}

/** A Kubernetes Event worth a person's attention (`kubectl describe`). */
export interface ConditionEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

/** Condition types whose good state is False; every other type is good when True. */
const GOOD_WHEN_FALSE: ReadonlySet<string> = new Set(['Degraded']);

const isGood = (c: Pick<Condition, 'type' | 'status'>): boolean => (c.status === 'True') !== GOOD_WHEN_FALSE.has(c.type);

/**
 * One Event per condition whose status or reason changed between two writes (a new message alone
 * is not news); the reason is the condition's, the message says which condition and why. Normal
 * when it reached its good state, and also for a step on the way there (`onTheWay`, e.g. a rollout
 * in progress) unless the condition was good before: a healthy start shows no Warning, a
 * regression and a failure a person must fix do.
 */
export function conditionEvents(
  previous: readonly Condition[] | undefined,
  written: readonly Condition[],
  onTheWay: (condition: Condition) => boolean = () => false,
): ConditionEvent[] {
  const before = new Map((previous ?? []).map((c) => [c.type, c]));
  return written
    .filter((c) => { const had = before.get(c.type); return had === undefined || had.status !== c.status || had.reason !== c.reason; })
    .filter((c) => !(before.get(c.type) === undefined && c.status === 'Unknown'))
    .map((c) => {
      const had = before.get(c.type);
      const normal = isGood(c) || (onTheWay(c) && (had === undefined || !isGood(had)));
      return { type: normal ? 'Normal' : 'Warning', reason: c.reason, message: `${c.type}=${c.status}: ${c.message}` };
    });
}
