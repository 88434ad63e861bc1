import { describe, expect, it } from 'vitest';
import { MAX_RECORDED_DEPTH, unrecordableReason } from './recordable-value.ts';

const nested = (levels: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = i % 2 === 0 ? [value] : { k: value };
  return value;
};

describe('unrecordableReason', () => {
  it.each([
    { name: 'a Kubernetes object', value: { kind: 'ConfigMap', data: { a: '1' }, n: 1.5, ok: true, none: null }, reason: undefined },
    { name: 'Infinity', value: { a: [1, Infinity] }, reason: 'the body holds a number JSON cannot carry (Infinity)' },
    { name: '-Infinity', value: { a: -Infinity }, reason: 'the body holds a number JSON cannot carry (-Infinity)' },
    { name: 'NaN', value: NaN, reason: 'the body holds a number JSON cannot carry (NaN)' },
    { name: `${String(MAX_RECORDED_DEPTH)} nested containers`, value: nested(MAX_RECORDED_DEPTH), reason: undefined },
    { name: `${String(MAX_RECORDED_DEPTH + 1)} nested containers`, value: nested(MAX_RECORDED_DEPTH + 1), reason: `the body nests deeper than ${String(MAX_RECORDED_DEPTH)} levels` },
    { name: 'a million nested arrays (without recursing)', value: nested(1_000_000), reason: `the body nests deeper than ${String(MAX_RECORDED_DEPTH)} levels` },
  ])('$name: $reason', ({ value, reason }) => {
    expect(unrecordableReason(value)).toBe(reason);
  });
});
