import { describe, expect, it } from 'vitest';
import {
  FAULT_MARKER,
  faultMarker,
  memAccessOp,
  memOpResult,
  memsetWidth,
  ProxyOp,
  proxyOpName,
} from './opcodes.js';

describe('proxy opcodes (M1N1-PROXY.md §8)', () => {
  it('decode every READ/WRITE/SET/CLEAR/MASK op by its name', () => {
    for (const kind of ['WRITE', 'READ', 'SET', 'CLEAR', 'MASK'] as const) {
      for (const width of [8, 16, 32, 64] as const) {
        const op = ProxyOp[`${kind}${width}`];
        expect(memAccessOp(op)).toEqual({ kind: kind.toLowerCase(), width });
      }
    }
    for (const op of [ProxyOp.GET_EXC_COUNT, ProxyOp.WRITEREAD64, ProxyOp.MEMSET8, 0xff, 1.5]) {
      expect(memAccessOp(op)).toBeUndefined();
    }
  });

  it('decode the MEMSET widths', () => {
    expect(
      [ProxyOp.MEMSET8, ProxyOp.MEMSET16, ProxyOp.MEMSET32, ProxyOp.MEMSET64].map(memsetWidth),
    ).toEqual([8, 16, 32, 64]);
    expect(memsetWidth(ProxyOp.MEMCPY8)).toBeUndefined();
    expect(memsetWidth(ProxyOp.WRITE64)).toBeUndefined();
  });

  it('combine SET/CLEAR/MASK as m1n1 does, cut to the width', () => {
    expect(memOpResult('set', 0x0fn, 0x1f0n, 0n, 8)).toBe(0xffn);
    expect(memOpResult('clear', 0xffn, 0x0fn, 0n, 8)).toBe(0xf0n);
    expect(memOpResult('mask', 0xff00n, 0xf0f0n, 0x1_000an, 16)).toBe(0x0f0an);
    expect(memOpResult('set', 0n, (1n << 64n) - 1n, 0n, 64)).toBe((1n << 64n) - 1n);
  });

  it('cut the fault marker to the access width (§6)', () => {
    expect(faultMarker(64)).toBe(FAULT_MARKER);
    expect(faultMarker(32)).toBe(0xabad1dean);
    expect(faultMarker(16)).toBe(0x1dean);
    expect(faultMarker(8)).toBe(0xean);
    expect(proxyOpName(ProxyOp.READ32)).toBe('READ32');
  });
});
