import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BootArgs,
  BootArgsOffset,
  bootArgsCmdlineLength,
  bootArgsSize,
  checkBootArgsRevision,
  decodeBootArgs,
  encodeBootArgs,
  MAX_BOOT_ARGS_REVISION,
  parseBootArgs,
} from './boot-args.js';

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

/** `boot_flags` per revision, as §11.2 lays it out: cmdline at 108, its length, 4 bytes pad. */
const FLAGS_AT: readonly number[] = [108 + 256 + 4, 108 + 256 + 4, 108 + 608 + 4, 108 + 1024 + 4];

function fail(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}

describe('boot args (M1N1-PROXY.md §11.2)', () => {
  it('have the sizes and command lines the tooling reads per revision', () => {
    expect([0, 1, 2, 3].map(bootArgsSize)).toEqual([384, 384, 736, 1152]);
    expect([0, 1, 2, 3].map(bootArgsCmdlineLength)).toEqual([256, 256, 608, 1024]);
    expect(MAX_BOOT_ARGS_REVISION).toBe(3);
    for (const bad of [4, -1, 1.5, Number.NaN]) {
      expect(fail(() => bootArgsSize(bad))).toMatchObject({ code: 'BAD_INPUT' });
    }
  });

  it('name the offsets of §11.2', () => {
    expect(BootArgsOffset).toEqual({
      revision: 0,
      version: 2,
      virtBase: 8,
      physBase: 16,
      memSize: 24,
      topOfKernelData: 32,
      video: 40,
      machineType: 88,
      devtree: 96,
      devtreeSize: 104,
      cmdline: 108,
    });
  });

  for (const revision of [0, 1, 2, 3]) {
    it(`revision ${revision}: every field at its §11.2 offset`, () => {
      const b = encodeBootArgs({ ...ARGS, revision });
      const v = new DataView(b.buffer);
      expect(b.length).toBe(bootArgsSize(revision));
      expect(v.getUint16(0, true)).toBe(revision);
      expect(v.getUint16(2, true)).toBe(2);
      expect(Array.from(b.subarray(4, 8))).toEqual([0, 0, 0, 0]);
      expect(v.getBigUint64(8, true)).toBe(ARGS.virtBase);
      expect(v.getBigUint64(16, true)).toBe(ARGS.physBase);
      expect(v.getBigUint64(24, true)).toBe(ARGS.memSize);
      expect(v.getBigUint64(32, true)).toBe(ARGS.topOfKernelData);
      expect([40, 48, 56, 64, 72, 80].map((at) => v.getBigUint64(at, true))).toEqual([
        1n,
        2n,
        3n,
        4n,
        5n,
        6n,
      ]);
      expect(v.getUint32(88, true)).toBe(7);
      expect(v.getBigUint64(96, true)).toBe(ARGS.devtree);
      expect(v.getUint32(104, true)).toBe(0x1234);
      expect(String.fromCharCode(...b.subarray(108, 115))).toBe('debug=1');
      const flagsAt = FLAGS_AT[revision]!;
      expect(b.subarray(115, flagsAt).every((x) => x === 0)).toBe(true);
      expect(v.getBigUint64(flagsAt, true)).toBe(8n);
      expect(v.getBigUint64(flagsAt + 8, true)).toBe(ARGS.memSizeActual);
      expect(flagsAt + 16).toBe(b.length);
    });
  }

  it('round-trip for revisions 0–3 (property)', () => {
    const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
    const args = fc.integer({ min: 0, max: 3 }).chain((revision) =>
      fc.record({
        revision: fc.constant(revision),
        version: fc.integer({ min: 0, max: 0xffff }),
        virtBase: u64,
        physBase: u64,
        memSize: u64,
        topOfKernelData: u64,
        video: fc.record({
          base: u64,
          display: u64,
          stride: u64,
          width: u64,
          height: u64,
          depth: u64,
        }),
        machineType: u32,
        devtree: u64,
        devtreeSize: u32,
        cmdline: fc.string({
          unit: fc.integer({ min: 1, max: 0x7f }).map((c) => String.fromCharCode(c)),
          maxLength: bootArgsCmdlineLength(revision) - 1,
        }),
        bootFlags: u64,
        memSizeActual: u64,
      }),
    );
    fc.assert(
      fc.property(args, (a) => {
        expect(decodeBootArgs(encodeBootArgs(a))).toEqual(a);
      }),
      { seed: 20_110, numRuns: 300 },
    );
    // Edge values: every field at its maximum, the longest command line each revision holds.
    for (const revision of [0, 1, 2, 3]) {
      const max: BootArgs = {
        revision,
        version: 0xffff,
        virtBase: (1n << 64n) - 1n,
        physBase: (1n << 64n) - 1n,
        memSize: 1n << 63n,
        topOfKernelData: (1n << 64n) - 1n,
        video: { ...ARGS.video, depth: (1n << 64n) - 1n },
        machineType: 0xffff_ffff,
        devtree: (1n << 64n) - 1n,
        devtreeSize: 0xffff_ffff,
        cmdline: 'x'.repeat(bootArgsCmdlineLength(revision) - 1),
        bootFlags: (1n << 64n) - 1n,
        memSizeActual: (1n << 64n) - 1n,
      };
      expect(decodeBootArgs(encodeBootArgs(max))).toEqual(max);
    }
  });

  it('decode: revision 4 and short buffers → PROXY_PROTOCOL', () => {
    const newer = encodeBootArgs(ARGS);
    newer[0] = 4;
    expect(fail(() => decodeBootArgs(newer))).toMatchObject({
      code: 'PROXY_PROTOCOL',
      details: { revision: 4 },
    });
    expect(() => parseBootArgs(Uint8Array.of(4, 0))).toThrow(/revision 4 is newer than 3/);
    for (const length of [0, 1]) {
      expect(fail(() => decodeBootArgs(new Uint8Array(length)))).toMatchObject({
        code: 'PROXY_PROTOCOL',
        details: { length },
      });
    }
    expect(() => parseBootArgs(Uint8Array.of(1, 0))).toThrow(/384 bytes, got 2/);
    expect(fail(() => decodeBootArgs(encodeBootArgs(ARGS).subarray(0, 735)))).toMatchObject({
      code: 'PROXY_PROTOCOL',
      details: { revision: 2, length: 735 },
    });
    expect(() => checkBootArgsRevision(3)).not.toThrow();
    expect(fail(() => checkBootArgsRevision(0xffff, { address: 1n }))).toMatchObject({
      code: 'PROXY_PROTOCOL',
      details: { revision: 0xffff, address: 1n },
    });
  });

  it('decode: reads a misaligned view, ignores trailing bytes, stops the command line at NUL', () => {
    const b = encodeBootArgs({ ...ARGS, revision: 0 });
    const big = new Uint8Array(b.length + 9);
    big.set(b, 1);
    big[big.length - 1] = 0xff;
    expect(decodeBootArgs(big.subarray(1))).toEqual({ ...ARGS, revision: 0 });
    // No NUL at all: the whole field (a device may fill it).
    const full = encodeBootArgs({ ...ARGS, revision: 1, cmdline: '' });
    full.fill(0x41, 108, 108 + 256);
    expect(decodeBootArgs(full).cmdline).toBe('A'.repeat(256));
  });

  it('encode: refuses what a field cannot hold (ENCODE_INVALID)', () => {
    const cases: [Partial<BootArgs>, RegExp][] = [
      [{ cmdline: 'é' }, /ASCII/],
      [{ cmdline: 'a\0b' }, /ASCII/],
      [{ cmdline: 'x'.repeat(608) }, /shorter than 608/],
      [{ memSize: -1n }, /memSize -1 is not a u64/],
      [{ devtree: 1n << 64n }, /devtree .* is not a u64/],
      [{ version: 0x10000 }, /version 65536 is not a u16/],
      [{ devtreeSize: 2 ** 32 }, /devtreeSize .* is not a u32/],
      [{ machineType: -1 }, /machineType -1 is not a u32/],
      [{ revision: 4 }, /revision 4 is not 0–3/],
      [{ video: { ...ARGS.video, width: -2n } }, /video.width -2 is not a u64/],
    ];
    for (const [patch, message] of cases) {
      const e = fail(() => encodeBootArgs({ ...ARGS, ...patch }));
      expect(e).toMatchObject({ code: 'ENCODE_INVALID' });
      expect(String((e as Error).message)).toMatch(message);
    }
  });
});
