// The one duration parser: the CRDs' duration fields (grantTTL, timeout, tokenTTL, flushInterval),
// the operator's settings and the gateway's config all use it. Each field's own unit set is the
// CRD's pattern (e.g. tokenTTL has no `ms`); this accepts any sequence of the four units.
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const WHOLE = /^(?:\d+(?:ms|s|m|h))+$/;
const PART = /(\d+)(ms|s|m|h)/g;

/** "250ms", "90s", "15m", "1h30m" to milliseconds; undefined for anything else (also "", "10", "1d"). */
export function parseDuration(text: string | undefined): number | undefined {
  if (text === undefined || !WHOLE.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) total += Number(amount) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
  return Number.isSafeInteger(total) ? total : undefined;
}
