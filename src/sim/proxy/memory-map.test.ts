import { describe, expect, it } from 'vitest';
import { MmioBus } from '../bus.js';
import { SimAsc } from '../mailbox/asc.js';
import { PhysicalMemory } from '../memory/physical.js';
import { SramRegion } from '../memory/sram.js';
import { type Access, type MemoryFault, ProxyMemoryMap } from './memory-map.js';

const RAM = { base: 0x8_0000_0000, size: 0x10_0000 };
const SRAM = { base: 0x2_3fe0_0000, size: 0x1000 };
const ASC = 0x2_3e40_0000;

function map(maxBulk?: number) {
  const memory = new PhysicalMemory();
  const bus = new MmioBus();
  const asc = new SimAsc({ base: ASC, name: 'smc' });
  bus.map(asc.base, asc.size, asc, 'smc.asc');
  const sram = new SramRegion(SRAM);
  bus.map(sram.base, sram.size, sram, 'smc.sram');
  const m = new ProxyMemoryMap({
    memory,
    ram: RAM,
    bus,
    srams: [{ name: 'smc.sram', region: sram }],
    ...(maxBulk !== undefined ? { maxBulk } : {}),
  });
  return { m, memory, sram, asc };
}

function value<T>(a: Access<T>): T {
  if (!a.ok) throw new Error(`unexpected fault: ${a.fault.reason}`);
  return a.value;
}

function faultOf<T>(a: Access<T>): MemoryFault {
  if (a.ok) throw new Error('expected a fault');
  return a.fault;
}

const ramBase = BigInt(RAM.base);
const ramEnd = BigInt(RAM.base + RAM.size);
const sramBase = BigInt(SRAM.base);

describe('ProxyMemoryMap', () => {
  it('lists its regions by address and finds the one holding an address', () => {
    const { m } = map();
    expect(m.regions.map((r) => [r.kind, r.name])).toEqual([
      ['mmio', 'smc.asc'],
      ['sram', 'smc.sram'],
      ['ram', 'ram'],
    ]);
    expect(m.regionOf(ramBase + 5n)?.kind).toBe('ram');
    expect(m.regionOf(sramBase)?.kind).toBe('sram');
    expect(m.regionOf(BigInt(ASC) + 0x44n)?.name).toBe('smc.asc');
    expect(m.regionOf(0n)).toBeUndefined();
    expect(m.regionOf(1n << 50n)).toBeUndefined();
    expect(m.regionOf(-1n)).toBeUndefined();
  });

  it('RAM: every width, unaligned, little-endian; values truncated to the width', () => {
    const { m, memory } = map();
    expect(m.write(ramBase + 3n, 64, 0x1_1122_3344_5566_7788n)).toBeUndefined();
    expect(memory.readU64(RAM.base + 3)).toBe(0x1122_3344_5566_7788n);
    expect(value(m.read(ramBase + 3n, 32))).toBe(0x5566_7788n);
    expect(value(m.read(ramBase + 5n, 16))).toBe(0x5566n);
    expect(value(m.read(ramBase + 10n, 8))).toBe(0x11n);
    expect(m.write(ramBase, 8, 0x1ffn)).toBeUndefined();
    expect(value(m.read(ramBase, 8))).toBe(0xffn);
    expect(m.write(ramBase, 16, -1n)).toBeUndefined();
    expect(value(m.read(ramBase, 16))).toBe(0xffffn);
  });

  it('RAM accesses running off the end fault', () => {
    const { m } = map();
    expect(faultOf(m.read(ramEnd - 4n, 64)).reason).toMatch(/runs past the end of RAM/);
    expect(m.write(ramEnd - 1n, 16, 0n)?.write).toBe(true);
  });

  it('SRAM: naturally aligned accesses of any width, through the region', () => {
    const { m, sram } = map();
    expect(m.write(sramBase + 8n, 32, 0xdead_beefn)).toBeUndefined();
    expect(sram.bytes.subarray(8, 12)).toEqual(Uint8Array.of(0xef, 0xbe, 0xad, 0xde));
    expect(value(m.read(sramBase + 10n, 16))).toBe(0xdeadn);
    expect(value(m.read(sramBase + 11n, 8))).toBe(0xden);
    expect(value(m.read(sramBase + 8n, 64))).toBe(0xdead_beefn);
    expect(m.write(sramBase + 1n, 16, 0n)?.reason).toMatch(/not 2-byte aligned/);
    expect(faultOf(m.read(sramBase + 4n, 64)).reason).toMatch(/not 8-byte aligned/);
    expect(faultOf(m.read(sramBase + BigInt(SRAM.size) - 2n, 32)).reason).toMatch(/past the SRAM/);
  });

  it('device registers: 32 and 64 bits through the bus; 8 and 16 bits fault', () => {
    const { m, asc } = map();
    expect(m.write(BigInt(ASC) + 0x44n, 32, 0x10n)).toBeUndefined();
    expect(asc.runBit).toBe(true);
    expect(value(m.read(BigInt(ASC) + 0x44n, 32))).toBe(0x10n);
    expect(value(m.read(BigInt(ASC) + 0x8830n, 64))).toBe(0n);
    const f = faultOf(m.read(BigInt(ASC) + 0x44n, 8));
    expect(f).toMatchObject({ bytes: 1, write: false });
    expect(f.reason).toMatch(/8-bit access to device registers smc.asc/);
    expect(m.write(BigInt(ASC) + 0x44n, 16, 0n)?.reason).toMatch(/16-bit access/);
    // An offset the ASC does not model: the bus error becomes the reason.
    expect(faultOf(m.read(BigInt(ASC) + 0x4n, 32)).reason).toMatch(/MMIO_UNMAPPED|no register|0x/);
  });

  it('unmapped and out-of-space addresses fault with the address', () => {
    const { m } = map();
    expect(faultOf(m.read(0x1000n, 32))).toMatchObject({ addr: 0x1000n, bytes: 4 });
    expect(faultOf(m.read((1n << 44n) - 2n, 32)).reason).toMatch(/outside the physical address/);
    expect(faultOf(m.read((1n << 64n) - 1n, 8)).reason).toMatch(/outside/);
    expect(faultOf(m.read(-8n, 64)).reason).toMatch(/outside/);
  });

  it('bulk transfers: RAM and one SRAM window, whole or not at all', () => {
    const { m, sram } = map(0x1000);
    expect(m.writeBytes(ramBase + 0x10n, Uint8Array.of(1, 2, 3))).toBeUndefined();
    expect(value(m.readBytes(ramBase + 0x10n, 3n))).toEqual(Uint8Array.of(1, 2, 3));
    expect(value(m.readBytes(ramBase, 0n))).toEqual(new Uint8Array(0));
    expect(m.writeBytes(sramBase + 1n, Uint8Array.of(9, 9))).toBeUndefined();
    expect(sram.bytes.subarray(0, 4)).toEqual(Uint8Array.of(0, 9, 9, 0));
    expect(faultOf(m.readBytes(ramEnd - 2n, 4n)).addr).toBe(ramEnd);
    expect(faultOf(m.readBytes(sramBase + 0xffen, 4n)).addr).toBe(sramBase + 0x1000n);
    expect(faultOf(m.readBytes(BigInt(ASC), 4n)).reason).toMatch(/device registers smc.asc/);
    expect(faultOf(m.readBytes(0x1000n, 4n)).reason).toMatch(/no memory or device/);
    expect(faultOf(m.readBytes(ramBase, 0x1001n)).reason).toMatch(/exceeds the simulator's limit/);
    expect(m.writeBytes(ramBase, new Uint8Array(0x1001))?.reason).toMatch(/limit/);
    expect(faultOf(m.readBytes(ramBase, 1n << 63n)).reason).toMatch(/limit/);
  });

  it('fill: MEMSET semantics on RAM, SRAM and registers', () => {
    const { m, memory, sram, asc } = map();
    expect(m.fill(ramBase, 16, 0xabcdn, 7n)).toBeUndefined();
    expect(memory.read(RAM.base, 8)).toEqual(
      Uint8Array.of(0xcd, 0xab, 0xcd, 0xab, 0xcd, 0xab, 0, 0),
    );
    expect(m.fill(ramBase, 8, 0n, 8n)).toBeUndefined();
    expect(memory.readU64(RAM.base)).toBe(0n);
    // A large zero fill of untouched RAM allocates nothing.
    const pages = memory.pagesAllocated;
    expect(m.fill(ramBase + 0x8_0000n, 64, 0n, 0x8_0000n)).toBeUndefined();
    expect(memory.pagesAllocated).toBe(pages);
    // Partly outside: the part inside is written, then the fault.
    const f = m.fill(ramEnd - 4n, 32, 0x1111_1111n, 12n);
    expect(f?.addr).toBe(ramEnd);
    expect(memory.readU32(Number(ramEnd) - 4)).toBe(0x1111_1111);
    expect(m.fill(sramBase, 64, 0x0102_0304_0506_0708n, 16n)).toBeUndefined();
    expect(sram.read64(SRAM.base + 8)).toBe(0x0102_0304_0506_0708n);
    expect(m.fill(sramBase + 2n, 32, 1n, 4n)?.reason).toMatch(/aligned/);
    expect(m.fill(BigInt(ASC) + 0x44n, 32, 0x10n, 4n)).toBeUndefined();
    expect(asc.runBit).toBe(true);
    expect(m.fill(BigInt(ASC) + 0x44n, 8, 0n, 1n)?.reason).toMatch(/8-bit/);
    expect(m.fill(0x1000n, 32, 0n, 1n << 62n)?.addr).toBe(0x1000n);
    expect(m.fill(ramBase, 8, 0n, 0x20_0000n)?.reason).toMatch(/no memory at/);
    expect(map(0x1000).m.fill(ramBase, 8, 0n, 0x1001n)?.reason).toMatch(/limit/);
    expect(m.fill(ramBase, 32, 0n, 3n)).toBeUndefined();
  });
});
