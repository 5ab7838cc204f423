import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../clock.js';
import { isRtkitError } from '../../errors.js';
import type { SyncMmio } from '../../mailbox/types.js';
import type { LocalMemory } from '../firmware/app.js';
import { FaultList } from './faults.js';
import { SramRegion } from './sram.js';

// An SMC-like window; the address is made up, only its shape matters.
const BASE = 0x23_4000_0000;
const SIZE = 0x4000;

function throwsCode(fn: () => unknown, code: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(isRtkitError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
}

describe('SramRegion', () => {
  it('is a SyncMmio device and a LocalMemory', () => {
    const sram = new SramRegion({ base: BASE, size: SIZE });
    const mmio: SyncMmio = sram;
    const local: LocalMemory = sram;
    expect(local.bytes).toHaveLength(SIZE);
    mmio.write32(BASE + 4, 0x11223344);
    mmio.write64(BASE + SIZE - 8, 0x0102030405060708n);
    expect([...sram.bytes.subarray(4, 8)]).toEqual([0x44, 0x33, 0x22, 0x11]);
    expect(mmio.read32(BASE + 4)).toBe(0x11223344);
    expect(mmio.read64(BASE + SIZE - 8)).toBe(0x0102030405060708n);
    mmio.write32(BASE, -2);
    expect(mmio.read32(BASE)).toBe(0xfffffffe);
    sram.write(BASE + 0x101, Uint8Array.of(9, 8));
    expect(sram.read(BASE + 0x100, 4)).toEqual(Uint8Array.of(0, 9, 8, 0));
  });

  it('host accesses outside the region or misaligned throw', () => {
    const sram = new SramRegion({ base: BASE, size: SIZE });
    throwsCode(() => sram.read32(BASE - 4), 'MEMORY_OUT_OF_RANGE');
    throwsCode(() => sram.read32(BASE + SIZE), 'MEMORY_OUT_OF_RANGE');
    throwsCode(() => sram.read64(BASE + SIZE - 4), 'MEMORY_OUT_OF_RANGE');
    throwsCode(() => sram.write32(BASE + 2, 0), 'MEMORY_MISALIGNED');
    throwsCode(() => sram.read64(BASE + 4), 'MEMORY_MISALIGNED');
    throwsCode(() => sram.write32(BASE, 2 ** 32), 'BAD_INPUT');
    throwsCode(() => sram.write(BASE + SIZE - 1, Uint8Array.of(1, 2)), 'MEMORY_OUT_OF_RANGE');
    throwsCode(() => new SramRegion({ base: BASE, size: 0 }), 'BAD_INPUT');
    throwsCode(() => new SramRegion({ base: 2 ** 44 - 4, size: 8 }), 'MEMORY_OUT_OF_RANGE');
    expect(sram.bytes.every((b) => b === 0)).toBe(true);
  });

  it('the firmware port sees the same bytes at physical addresses', () => {
    const sram = new SramRegion({ base: BASE, size: SIZE });
    const faults = new FaultList();
    const port = sram.port(faults, { name: 'smc/sram' });
    sram.write32(BASE + 0x40, 0xa1b2c3d4);
    expect(port.read(BASE + 0x40, 4)).toEqual(Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1));
    expect(port.write(BASE + SIZE - 3, Uint8Array.of(1, 2, 3))).toBe(true);
    expect(sram.read(BASE + SIZE - 3, 3)).toEqual(Uint8Array.of(1, 2, 3));
    expect(port.read(BASE, SIZE)).toHaveLength(SIZE);
    expect(faults.faults).toEqual([]);
  });

  it('past the SRAM window is an out-of-window fault that writes nothing', () => {
    const sram = new SramRegion({ base: BASE, size: SIZE });
    const faults = new FaultList();
    const port = sram.port(faults, { name: 'smc/sram', clock: new VirtualClock(5) });
    expect(port.write(BASE + SIZE - 2, Uint8Array.of(1, 2, 3))).toBe(false);
    expect(port.write(BASE - 1, Uint8Array.of(1, 2))).toBe(false);
    expect(port.read(BASE + SIZE, 1)).toBeUndefined();
    expect(port.read(0, 4)).toBeUndefined();
    expect(port.check(BASE, SIZE + 1, false)).toBe(false);
    expect(sram.bytes.every((b) => b === 0)).toBe(true);
    expect(faults.faults.map((f) => f.kind)).toEqual([
      'out-of-window',
      'out-of-window',
      'out-of-window',
      'out-of-window',
    ]);
    expect(faults.faults[0]).toMatchObject({
      time: 5,
      port: 'smc/sram',
      addr: BASE + SIZE - 2,
      len: 3,
      write: true,
    });
  });

  it('ignores a dram mask smuggled in through a wider options object', () => {
    const sram = new SramRegion({ base: BASE, size: SIZE });
    const faults = new FaultList();
    const opts = { name: 'smc/sram', dramMask: 2 ** 43 };
    const port = sram.port(faults, opts);
    expect(port.write(BASE, Uint8Array.of(1))).toBe(true);
  });
});
