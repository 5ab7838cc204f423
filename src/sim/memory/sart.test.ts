import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRtkitError } from '../../errors.js';
import { FaultList } from './faults.js';
import { PhysicalMemory } from './physical.js';
import { SART_ENTRIES, Sart } from './sart.js';

const DRAM = 0x8_0000_0000;

function throwsCode(fn: () => unknown, code: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(isRtkitError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
}

describe('Sart: host side', () => {
  it('B36: allow (0x800000000, 0x5000) reads back exactly, from separate fields', () => {
    const sart = new Sart();
    const slot = sart.allow(0x8_0000_0000, 0x5000)!;
    expect(slot).toBe(0);
    expect(sart.entry(slot)).toEqual({
      slot: 0,
      paddr: 0x8_0000_0000,
      size: 0x5000,
      reserved: false,
    });
    // CONFIG: flags 0xff in [31:24], size 5 (4 KiB units) in [23:0]; PADDR: 0x800000000 >> 12.
    expect(sart.registers(slot)).toEqual({ config: 0xff00_0005, paddr: 0x80_0000 });
    expect(sart.find(0x8_0000_0000, 0x5000)).toBe(0);
  });

  it('B36: each field uses its own shift (a swapped shift would break this read-back)', () => {
    const sart = new Sart({ addrShift: 14, sizeShift: 12 });
    const slot = sart.allow(0x8_0000_0000, 0x5000)!;
    expect(sart.entry(slot)).toMatchObject({ paddr: 0x8_0000_0000, size: 0x5000 });
    expect(sart.registers(slot)).toEqual({ config: 0xff00_0005, paddr: 0x20_0000 });
    throwsCode(() => sart.allow(0x8_0000_1000, 0x1000), 'MEMORY_MISALIGNED');
  });

  it('property: every aligned entry that fits reads back exactly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: 1, max: 2 ** 24 - 1 }),
        (pfn, pages) => {
          const paddr = pfn * 0x1000;
          const size = pages * 0x1000;
          const sart = new Sart();
          if (paddr + size > 2 ** 44) {
            throwsCode(() => sart.allow(paddr, size), 'MEMORY_OUT_OF_RANGE');
            return;
          }
          const slot = sart.allow(paddr, size)!;
          expect(sart.entry(slot)).toMatchObject({ paddr, size });
        },
      ),
    );
  });

  it('has exactly 16 slots; the 17th allow returns undefined', () => {
    const sart = new Sart();
    const slots = Array.from({ length: SART_ENTRIES }, (_, i) =>
      sart.allow(DRAM + i * 0x4000, 0x4000),
    );
    expect(slots).toEqual([...Array(16).keys()]);
    expect(sart.usedSlots).toBe(16);
    expect(sart.allow(DRAM + 0x100000, 0x1000)).toBeUndefined();
    sart.revoke(7);
    expect(sart.usedSlots).toBe(15);
    expect(sart.allow(DRAM + 0x100000, 0x1000)).toBe(7);
  });

  it('bootloader entries survive revokeAll and refuse revoke', () => {
    const sart = new Sart();
    const boot = sart.reserve(0x9_0000_0000, 0x10000)!;
    const a = sart.allow(DRAM, 0x4000)!;
    const b = sart.allow(DRAM + 0x4000, 0x4000)!;
    expect([boot, a, b]).toEqual([0, 1, 2]);
    const before = sart.registers(boot);
    expect(sart.revokeAll()).toBe(2);
    expect(sart.entries()).toEqual([
      { slot: 0, paddr: 0x9_0000_0000, size: 0x10000, reserved: true },
    ]);
    expect(sart.registers(boot)).toEqual(before);
    throwsCode(() => sart.revoke(boot), 'SART_SLOT_RESERVED');
    expect(sart.usedSlots).toBe(1);
    expect(sart.allow(DRAM, 0x4000)).toBe(1);
  });

  it('rejects misuse', () => {
    const sart = new Sart();
    throwsCode(() => sart.allow(DRAM + 0x800, 0x1000), 'MEMORY_MISALIGNED');
    throwsCode(() => sart.allow(DRAM, 0x1800), 'MEMORY_MISALIGNED');
    throwsCode(() => sart.allow(DRAM, 0), 'BAD_INPUT');
    throwsCode(() => sart.allow(DRAM, -0x1000), 'BAD_INPUT');
    throwsCode(() => sart.allow(DRAM, 2 ** 24 * 0x1000), 'MEMORY_OUT_OF_RANGE');
    throwsCode(() => sart.allow(2 ** 44, 0x1000), 'MEMORY_OUT_OF_RANGE');
    throwsCode(() => sart.revoke(3), 'SART_SLOT_INVALID');
    throwsCode(() => sart.revoke(16), 'SART_SLOT_INVALID');
    throwsCode(() => sart.registers(-1), 'SART_SLOT_INVALID');
    throwsCode(() => new Sart({ addrShift: 40 }), 'BAD_INPUT');
    expect(sart.usedSlots).toBe(0);
    expect(sart.entry(99)).toBeUndefined();
  });
});

describe('Sart: firmware port', () => {
  it('allows accesses inside an entry; device address = physical address', () => {
    const sart = new Sart();
    const mem = new PhysicalMemory();
    const faults = new FaultList();
    sart.allow(DRAM, 0x3000);
    const port = sart.port(mem, faults, { name: 'ans/sart' });
    expect(port.write(DRAM + 0x2ffc, Uint8Array.of(1, 2, 3, 4))).toBe(true);
    expect(mem.read(DRAM + 0x2ffc, 4)).toEqual(Uint8Array.of(1, 2, 3, 4));
    expect(port.read(DRAM, 0x3000)).toHaveLength(0x3000);
    expect(faults.faults).toEqual([]);
  });

  it('outside every entry, or partly outside, is sart-denied and writes nothing', () => {
    const sart = new Sart();
    const mem = new PhysicalMemory();
    const faults = new FaultList();
    sart.allow(DRAM, 0x1000);
    const port = sart.port(mem, faults, { name: 'ans/sart' });
    expect(port.write(DRAM + 0x10000, Uint8Array.of(1))).toBe(false);
    expect(port.write(DRAM + 0xffe, Uint8Array.of(1, 2, 3))).toBe(false);
    expect(port.read(DRAM - 1, 2)).toBeUndefined();
    expect(mem.pagesAllocated).toBe(0);
    expect(faults.faults.map((f) => [f.kind, f.port, f.addr])).toEqual([
      ['sart-denied', 'ans/sart', DRAM + 0x10000],
      ['sart-denied', 'ans/sart', DRAM + 0xffe],
      ['sart-denied', 'ans/sart', DRAM - 1],
    ]);
    expect(faults.faults[1]!.detail).toContain('0x800001000');
  });

  it('after revoke, a previously valid buffer faults', () => {
    const sart = new Sart();
    const mem = new PhysicalMemory();
    const faults = new FaultList();
    const slot = sart.allow(DRAM, 0x4000)!;
    const port = sart.port(mem, faults);
    expect(port.write(DRAM, Uint8Array.of(1))).toBe(true);
    sart.revoke(slot);
    expect(port.write(DRAM, Uint8Array.of(2))).toBe(false);
    expect(mem.read(DRAM, 1)).toEqual(Uint8Array.of(1));
    sart.allow(DRAM, 0x4000);
    sart.revokeAll();
    expect(port.check(DRAM, 1, false)).toBe(false);
    expect(faults.faults.map((f) => f.kind)).toEqual(['sart-denied']);
  });

  it('an access may span adjacent entries by default, not with singleEntry', () => {
    const sart = new Sart();
    const mem = new PhysicalMemory();
    const faults = new FaultList();
    sart.allow(DRAM + 0x1000, 0x1000);
    sart.allow(DRAM, 0x1000);
    sart.allow(DRAM + 0x1000, 0x2000); // overlapping the first
    const loose = sart.port(mem, faults);
    const strict = sart.port(mem, faults, { singleEntry: true });
    expect(loose.write(DRAM + 0xff0, new Uint8Array(0x20))).toBe(true);
    expect(loose.check(DRAM, 0x3000, true)).toBe(true);
    expect(loose.check(DRAM, 0x3001, true)).toBe(false);
    expect(strict.write(DRAM + 0xff0, new Uint8Array(0x20))).toBe(false);
    expect(strict.check(DRAM + 0x1000, 0x2000, true)).toBe(true);
    expect(faults.faults).toHaveLength(1);
    expect(faults.faults[0]!.detail).toContain('one SART entry');
  });

  it('B11 shape: one buffer uses one slot; slots are counted', () => {
    const sart = new Sart();
    sart.reserve(0x9_0000_0000, 0x4000);
    sart.allow(DRAM, 0x4000);
    expect(sart.usedSlots).toBe(2);
    expect(sart.entries().filter((e) => !e.reserved)).toHaveLength(1);
  });
});
