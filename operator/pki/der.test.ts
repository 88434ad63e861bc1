import { describe, expect, it } from 'vitest';
import { children, namedBits, oid, readElement, sequence, time, tlv, unsignedInteger, utf8String } from './der.ts';

const hex = (buffer: Buffer): string => buffer.toString('hex');

describe('DER writing', () => {
  it.each([
    [0, '0400'],
    [127, `047f${'00'.repeat(127)}`],
    [128, `048180${'00'.repeat(128)}`],
    [300, `0482012c${'00'.repeat(300)}`],
  ])('encodes a length of %i in the shortest form', (length, expected) => {
    expect(hex(tlv(0x04, Buffer.alloc(length)))).toBe(expected);
  });

  it.each([
    ['00', '020100'],
    ['7f', '02017f'],
    ['80', '02020080'],
    ['0000ff', '020200ff'],
    ['000001', '020101'],
  ])('encodes the unsigned integer %s minimally and positive', (input, expected) => {
    expect(hex(unsignedInteger(Buffer.from(input, 'hex')))).toBe(expected);
  });

  it.each([
    ['1.2.840.10045.4.3.2', '06082a8648ce3d040302'], // ecdsa-with-SHA256
    ['2.5.29.17', '0603551d11'], // subjectAltName
    ['1.3.6.1.5.5.7.3.1', '06082b06010505070301'], // serverAuth
  ])('encodes the OID %s', (dotted, expected) => {
    expect(hex(oid(dotted))).toBe(expected);
  });

  it('refuses a malformed OID', () => {
    expect(() => oid('1.2.x')).toThrow(/not an OID/);
  });

  it.each([
    [[0], '03020780'], // digitalSignature
    [[0, 5, 6], '03020186'], // digitalSignature, keyCertSign, cRLSign
    [[8], '0303070080'], // decipherOnly: second byte
    [[], '030100'],
  ])('encodes the named bits %j with the unused-bit count DER requires', (bits, expected) => {
    expect(hex(namedBits(bits))).toBe(expected);
  });

  it.each([
    ['2026-06-01T12:34:56.789Z', '170d3236303630313132333435365a'],
    ['2049-12-31T23:59:59Z', `170d${Buffer.from('491231235959Z').toString('hex')}`],
    ['2050-01-01T00:00:00Z', `180f${Buffer.from('20500101000000Z').toString('hex')}`],
  ])('writes %s as UTCTime before 2050 and GeneralizedTime after', (iso, expected) => {
    expect(hex(time(new Date(iso)))).toBe(expected);
  });
});

describe('DER reading', () => {
  it('splits a constructed value into the children it was built from', () => {
    const parts = [utf8String('a'), oid('2.5.4.3'), sequence(utf8String('nested'), tlv(0x04, Buffer.alloc(200)))];
    const read = children(readElement(sequence(...parts)));
    expect(read.map((child) => hex(child.encoded))).toEqual(parts.map(hex));
    expect(read[2]?.content.length).toBe(parts[2]!.length - 3);
  });

  it.each([
    ['a truncated header', '30'],
    ['content shorter than its length', '300500'],
    ['an indefinite length', '308000'],
  ])('refuses %s', (_what, input) => {
    expect(() => readElement(Buffer.from(input, 'hex'))).toThrow(RangeError);
  });
});
