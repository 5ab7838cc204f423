// The register declarations against the PROTOCOL.md §1.4/§1.5 synthetic examples.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeControl,
  decodeRecv1,
  encodeControl,
  encodeRecv1,
  isValidEndpoint,
  MboxControl,
  MboxRecv1,
} from './registers.js';

describe('mailbox register fields', () => {
  it('decodes the synthetic CONTROL examples', () => {
    expect(decodeControl(0x0002_0001)).toMatchObject({ enable: true, empty: true, full: false });
    expect(decodeControl(0x0010_4501)).toMatchObject({
      fifoCount: 1,
      rptr: 4,
      wptr: 5,
      empty: false,
    });
  });

  it('decodes the synthetic RECV1 example', () => {
    expect(decodeRecv1(0x0010_4500_0000_0037n)).toEqual({
      ep: 0x37,
      inPtr: 5,
      outPtr: 4,
      inCount: 0,
      outCount: 1,
    });
  });

  it('CONTROL and RECV1 round-trip', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xff_ffff }), (v) => {
        const masked = v & 0xff_ff01;
        expect(encodeControl(decodeControl(masked))).toBe(masked);
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 57n) - 1n }), (v) => {
        const masked = v & 0x01ff_ff00_0000_00ffn;
        expect(encodeRecv1(decodeRecv1(masked))).toBe(masked);
      }),
    );
  });

  it('declares the bit positions of §1.4 and §1.5', () => {
    expect([MboxControl.FULL.lo, MboxControl.EMPTY.lo, MboxControl.OVERFLOW.lo]).toEqual([
      16, 17, 18,
    ]);
    expect([MboxControl.UNDERFLOW.lo, MboxControl.FIFOCNT.hi, MboxControl.FIFOCNT.lo]).toEqual([
      19, 23, 20,
    ]);
    expect([MboxRecv1.OUTCNT.hi, MboxRecv1.OUTCNT.lo, MboxRecv1.INPTR.lo]).toEqual([56, 52, 40]);
  });

  it('endpoints are integers 0–255', () => {
    expect([0, 1, 255].every(isValidEndpoint)).toBe(true);
    expect([-1, 256, 1.5, Number.NaN, '1', 1n].some(isValidEndpoint)).toBe(false);
  });
});
