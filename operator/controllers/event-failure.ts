// An Event that could not be recorded. Events are best effort (the status write they accompany
// succeeded), so the failure is one line with the error described, never the response's headers
// and body; and only at debug while the API server is away, busy or refusing, since the outage
// itself is logged, once per interval, by the controller runtime (issue 20: during an outage each
// interrupted reconcile logged its Event's whole ApiException).
import type { Logger } from 'pino';
import { describeError, errorClass } from '../../core/runtime/api-errors.ts';

export function logEventFailure(log: Logger, error: unknown, fields: Readonly<Record<string, unknown>>): void {
  const entry = { ...fields, err: describeError(error) };
  if (errorClass(error) === 'other') log.warn(entry, 'could not record an event');
  else log.debug(entry, 'could not record an event');
}
