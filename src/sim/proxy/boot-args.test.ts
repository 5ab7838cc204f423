import { describe, expect, it } from 'vitest';
import { type BootArgs, bootArgsSize, decodeBootArgs, encodeBootArgs } from './boot-args.js';

const ARGS: BootArgs = {
  revision: 2,
  version: 2,
  virtBase: 0xffff_fe00_0000_0000n,
  physBase: 0x8_0000_0000n,
  memSize: 0x8000_0000n,
  topOfKernelData: 0x8_1000_0000n,
  video: { base: 1n, display: 2n, stride: 3n, width: 4n, height: 5n, depth: 6n },
  machineType: 7,
  devtree: 0xffff_fe00_0008_0000n,
  devtreeSize: 0x1234,
  cmdline: 'debug=1',
  bootFlags: 8n,
  memSizeActual: 0x8000_0000n,
};

describe('boot args', () => {
  it('have the sizes the tooling reads per revision (M1N1-PROXY.md §11.2)', () => {
    expect([0, 1, 2, 3].map(bootArgsSize)).toEqual([384, 384, 736, 1152]);
    expect(() => bootArgsSize(4)).toThrow(/revision 4/);
  });

  it('put every field at its tgtypes.py offset', () => {
    const b = encodeBootArgs(ARGS);
    const v = new DataView(b.buffer);
    expect(b.length).toBe(736);
    expect(v.getUint16(0, true)).toBe(2);
    expect(v.getBigUint64(8, true)).toBe(ARGS.virtBase);
    expect(v.getBigUint64(16, true)).toBe(ARGS.physBase);
    expect(v.getBigUint64(32, true)).toBe(ARGS.topOfKernelData);
    expect(v.getBigUint64(40, true)).toBe(1n);
    expect(v.getBigUint64(80, true)).toBe(6n);
    expect(v.getUint32(88, true)).toBe(7);
    expect(v.getBigUint64(96, true)).toBe(ARGS.devtree);
    expect(v.getUint32(104, true)).toBe(0x1234);
    expect(String.fromCharCode(...b.subarray(108, 115))).toBe('debug=1');
    expect(b[115]).toBe(0);
    expect(v.getBigUint64(108 + 608 + 4, true)).toBe(8n);
    expect(v.getBigUint64(108 + 608 + 12, true)).toBe(ARGS.memSizeActual);
  });

  it('round-trip for every revision', () => {
    for (const revision of [0, 1, 2, 3]) {
      const a = { ...ARGS, revision };
      const bytes = encodeBootArgs(a);
      expect(bytes.length).toBe(bootArgsSize(revision));
      expect(decodeBootArgs(bytes)).toEqual(a);
    }
  });

  it('refuse what they cannot hold, and short or newer structures', () => {
    expect(() => encodeBootArgs({ ...ARGS, cmdline: 'é' })).toThrow(/ASCII/);
    expect(() => encodeBootArgs({ ...ARGS, cmdline: 'x'.repeat(608) })).toThrow(/shorter/);
    expect(() => encodeBootArgs({ ...ARGS, memSize: -1n })).toThrow(/u64/);
    expect(() => encodeBootArgs({ ...ARGS, version: 0x10000 })).toThrow(/version/);
    expect(() => decodeBootArgs(new Uint8Array(1))).toThrow(/shorter/);
    expect(() => decodeBootArgs(encodeBootArgs(ARGS).subarray(0, 700))).toThrow(/needs 736/);
    const newer = encodeBootArgs(ARGS);
    newer[0] = 4;
    expect(() => decodeBootArgs(newer)).toThrow(/revision 4/);
  });
});
