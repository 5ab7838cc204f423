import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DATA_CHECKSUM_DISABLED, dataChecksumField, m1n1Checksum } from './checksum.js';
import { CHECKSUM_VECTORS, DATA_00_0F, DATA_DEADBEEF } from './testing/vectors.js';

describe('m1n1Checksum (M1N1-PROXY.md §2.2)', () => {
  for (const v of CHECKSUM_VECTORS) {
    it(`${v.name} → 0x${v.checksum.toString(16)}`, () => {
      expect(m1n1Checksum(v.input)).toBe(v.checksum);
    });
  }

  it('matches the §3 data checksums', () => {
    expect(m1n1Checksum(DATA_00_0F)).toBe(0x58dc10ca);
    expect(m1n1Checksum(DATA_DEADBEEF)).toBe(0xca6bd27e);
  });

  it('agrees with a bigint reference and honours start/end', () => {
    const reference = (b: Uint8Array): number => {
      let s = 0xdeadbeefn;
      for (const x of b) s = (s * 31337n + BigInt(x ^ 0x5a)) & 0xffff_ffffn;
      return Number(s ^ 0xaddedbadn);
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (b, x, y) => {
        const lo = Math.min(x, y) % (b.length + 1);
        const hi = Math.max(lo, Math.max(x, y) % (b.length + 1));
        const got = m1n1Checksum(b, lo, hi);
        expect(got).toBe(reference(b.subarray(lo, hi)));
        expect(got >>> 0).toBe(got);
      }),
    );
  });

  it('uses 0xD0DECADE as the field value when data checksums are off', () => {
    expect(dataChecksumField(DATA_DEADBEEF, true)).toBe(0xca6bd27e);
    expect(dataChecksumField(DATA_DEADBEEF, false)).toBe(DATA_CHECKSUM_DISABLED);
  });
});
