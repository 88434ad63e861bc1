import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.ts';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250], ['10s', 10_000], ['90s', 90_000], ['2h', 7_200_000], ['15m', 900_000], ['1h30m', 5_400_000], ['1m30s500ms', 90_500], ['0s', 0], ['168h', 604_800_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([undefined, '', '10', '1d', '1.5h', '-1s', '1h ', ' 1h', '1H', 'ms', '1hm', `${'9'.repeat(30)}h`])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});
