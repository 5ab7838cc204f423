/**
 * The physical address space as m1n1 sees it on the simulated Mac: one RAM window (sparse
 * `PhysicalMemory`), the co-processors' SRAM windows, and device registers on the SoC's MMIO bus
 * (ASC blocks). Every proxy memory operation of the server goes through here
 * (docs/m1n1-server.md, "Memory map").
 *
 * Nothing here throws for a bad address: an access that real hardware would fault on returns a
 * `MemoryFault`, and the server turns it into what m1n1's exception guard does (M1N1-PROXY.md §6).
 *
 * Width rules (ours, documented in docs/m1n1-server.md):
 *  - RAM is normal memory: any width, any alignment, bulk copies.
 *  - SRAM is device memory: naturally aligned accesses of any width (the SramRegion rule), bulk
 *    copies (what m1n1's byte loops over the SMC's shared buffer amount to).
 *  - Other devices (ASC register blocks): 32- and 64-bit accesses through the bus only. 8- and
 *    16-bit accesses fault, and so do bulk transfers (m1n1 would read the registers byte by byte,
 *    with side effects such as a RECV1 dequeue).
 */

import type { AccessWidth } from '../../m1n1/opcodes.js';
import type { MmioBus } from '../bus.js';
import { PHYS_LIMIT } from '../memory/address.js';
import type { PhysicalMemory } from '../memory/physical.js';
import type { SramRegion } from '../memory/sram.js';

/** The proxy ops' access widths (m1n1/opcodes.ts), re-exported for the simulator's API. */
export type { AccessWidth };
export type RegionKind = 'ram' | 'sram' | 'mmio';

export interface MapRegion {
  readonly kind: RegionKind;
  readonly name: string;
  readonly base: number;
  readonly size: number;
}

/** Why an access faulted (what m1n1's exception report would be about). */
export interface MemoryFault {
  /** Address of the first byte that faulted. */
  readonly addr: bigint;
  /** Access size in bytes (1 for bulk transfers, which m1n1 does byte by byte). */
  readonly bytes: number;
  readonly write: boolean;
  readonly reason: string;
}

export type Access<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly fault: MemoryFault };

export interface ProxyMemoryMapOptions {
  readonly memory: PhysicalMemory;
  /** The RAM window (physical addresses). */
  readonly ram: { readonly base: number; readonly size: number };
  /** Device registers; SRAM windows mapped on it as well are reached through `srams`. */
  readonly bus: MmioBus;
  readonly srams?: readonly { readonly name: string; readonly region: SramRegion }[];
  /**
   * Longest bulk operation (REQ_MEMREAD, REQ_MEMWRITE, MEMSET), in bytes; longer ones fault at
   * their first byte instead of allocating. Default 64 MiB (`DEFAULT_MAX_BULK`).
   */
  readonly maxBulk?: number;
}

/** Default limit of one bulk transfer: far above an ADT (~1 MiB) or an RTKit buffer (~1 MiB). */
export const DEFAULT_MAX_BULK = 64 * 1024 * 1024;

const LIMIT = BigInt(PHYS_LIMIT);
/** Pattern chunk for MEMSET on RAM: one 16 KiB storage page per write. */
const FILL_CHUNK = 0x4000;

function hex(a: bigint | number): string {
  return `0x${a.toString(16)}`;
}

function fault(addr: bigint, bytes: number, write: boolean, reason: string): MemoryFault {
  return { addr, bytes, write, reason };
}

function failed<T>(f: MemoryFault): Access<T> {
  return { ok: false, fault: f };
}

export class ProxyMemoryMap {
  readonly maxBulk: number;
  private readonly memory: PhysicalMemory;
  private readonly ramBase: number;
  private readonly ramEnd: number;
  private readonly bus: MmioBus;
  private readonly srams: readonly { readonly name: string; readonly region: SramRegion }[];
  private readonly scratch = new Uint8Array(8);
  private readonly scratchView = new DataView(this.scratch.buffer);

  constructor(opts: ProxyMemoryMapOptions) {
    this.memory = opts.memory;
    this.ramBase = opts.ram.base;
    this.ramEnd = opts.ram.base + opts.ram.size;
    this.bus = opts.bus;
    this.srams = opts.srams ?? [];
    this.maxBulk = opts.maxBulk ?? DEFAULT_MAX_BULK;
  }

  /** RAM, the SRAM windows and the bus's devices, by address. */
  get regions(): MapRegion[] {
    const srams = new Set(this.srams.map((s) => s.region.base));
    const out: MapRegion[] = [
      { kind: 'ram', name: 'ram', base: this.ramBase, size: this.ramEnd - this.ramBase },
      ...this.srams.map(
        (s): MapRegion => ({
          kind: 'sram',
          name: s.name,
          base: s.region.base,
          size: s.region.size,
        }),
      ),
      ...this.bus
        .regions()
        .filter((r) => !srams.has(r.base))
        .map((r): MapRegion => ({ kind: 'mmio', name: r.name, base: r.base, size: r.size })),
    ];
    return out.sort((a, b) => a.base - b.base);
  }

  /** The region holding `addr`, if any. */
  regionOf(addr: bigint): MapRegion | undefined {
    if (addr < 0n || addr >= LIMIT) return undefined;
    const a = Number(addr);
    if (a >= this.ramBase && a < this.ramEnd) {
      return { kind: 'ram', name: 'ram', base: this.ramBase, size: this.ramEnd - this.ramBase };
    }
    const s = this.sramAt(a);
    if (s) return { kind: 'sram', name: s.name, base: s.region.base, size: s.region.size };
    const r = this.bus.find(a);
    return r ? { kind: 'mmio', name: r.name, base: r.base, size: r.size } : undefined;
  }

  /** A load of `width` bits; the value is zero-extended. */
  read(addr: bigint, width: AccessWidth): Access<bigint> {
    const bytes = width / 8;
    const a = this.place(addr, bytes, false);
    if (typeof a !== 'number') return failed(a);
    if (a >= this.ramBase && a < this.ramEnd) {
      if (a + bytes > this.ramEnd) return failed(this.pastRam(addr, bytes, false));
      this.memory.readInto(a, this.scratch.subarray(0, bytes));
      return { ok: true, value: this.fromScratch(width) };
    }
    const s = this.sramAt(a);
    if (s) return this.sramRead(s.region, addr, a, width);
    if (width < 32) return failed(this.narrowDevice(addr, bytes, false));
    try {
      const v = width === 32 ? BigInt(this.bus.read32(a)) : this.bus.read64(a);
      return { ok: true, value: v };
    } catch (e) {
      return failed(fault(addr, bytes, false, errorText(e)));
    }
  }

  /** A store of the low `width` bits of `value`. */
  write(addr: bigint, width: AccessWidth, value: bigint): MemoryFault | undefined {
    const bytes = width / 8;
    const v = BigInt.asUintN(width, value);
    const a = this.place(addr, bytes, true);
    if (typeof a !== 'number') return a;
    if (a >= this.ramBase && a < this.ramEnd) {
      if (a + bytes > this.ramEnd) return this.pastRam(addr, bytes, true);
      this.toScratch(width, v);
      this.memory.write(a, this.scratch.subarray(0, bytes));
      return undefined;
    }
    const s = this.sramAt(a);
    if (s) return this.sramWrite(s.region, addr, a, width, v);
    if (width < 32) return this.narrowDevice(addr, bytes, true);
    try {
      if (width === 32) this.bus.write32(a, Number(v));
      else this.bus.write64(a, v);
      return undefined;
    } catch (e) {
      return fault(addr, bytes, true, errorText(e));
    }
  }

  /** `size` bytes at `addr` (REQ_MEMREAD); faults unless the whole range is RAM or one SRAM. */
  readBytes(addr: bigint, size: bigint): Access<Uint8Array> {
    const span = this.bulkSpan(addr, size, false);
    if (!span.ok) return failed(span.fault);
    const { a, n } = span.value;
    if (n === 0) return { ok: true, value: new Uint8Array(0) };
    if (a >= this.ramBase) return { ok: true, value: this.memory.read(a, n) };
    return { ok: true, value: this.sramAt(a)!.region.read(a, n) };
  }

  /** Store all of `data` at `addr` (REQ_MEMWRITE); same rules as `readBytes`. */
  writeBytes(addr: bigint, data: Uint8Array): MemoryFault | undefined {
    const span = this.bulkSpan(addr, BigInt(data.length), true);
    if (!span.ok) return span.fault;
    const { a, n } = span.value;
    if (n === 0) return undefined;
    if (a >= this.ramBase) this.memory.write(a, data);
    else this.sramAt(a)!.region.write(a, data);
    return undefined;
  }

  /**
   * MEMSET: `floor(size / (width / 8))` stores of `pattern` from `addr` upwards. Stops at the
   * first fault (m1n1's RETURN guard), with the stores before it done.
   */
  fill(addr: bigint, width: AccessWidth, pattern: bigint, size: bigint): MemoryFault | undefined {
    const bytes = width / 8;
    if (size < 0n) return fault(addr, bytes, true, `MEMSET size ${size} is negative`);
    const count = size / BigInt(bytes);
    if (count === 0n) return undefined;
    const total = count * BigInt(bytes);
    const region = this.regionOf(addr);
    if (region === undefined || region.kind === 'mmio') {
      // Device registers: one store at a time, as the CPU would, until the block ends.
      for (let i = 0n; i < count; i++) {
        const f = this.write(addr + i * BigInt(bytes), width, pattern);
        if (f) return f;
      }
      return undefined;
    }
    if (total > BigInt(this.maxBulk)) {
      return fault(addr, bytes, true, `MEMSET of ${total} bytes exceeds the simulator's limit`);
    }
    const a = Number(addr);
    const end = region.base + region.size;
    const inside = Math.min(Number(total), end - a);
    const whole = inside - (inside % bytes);
    if (region.kind === 'sram' && a % bytes !== 0) {
      return fault(addr, bytes, true, `SRAM store at ${hex(addr)} is not ${bytes}-byte aligned`);
    }
    this.fillBytes(region, a, whole, width, BigInt.asUintN(width, pattern));
    if (whole < Number(total)) {
      return fault(BigInt(a + whole), bytes, true, `no memory at ${hex(a + whole)}`);
    }
    return undefined;
  }

  private fillBytes(
    region: MapRegion,
    a: number,
    len: number,
    width: AccessWidth,
    pattern: bigint,
  ): void {
    if (len === 0) return;
    const unit = width / 8;
    if (region.kind === 'ram' && (pattern === 0n || width === 8)) {
      // One byte value: the sparse fill (a zero fill of untouched RAM costs nothing).
      this.memory.fill(a, len, Number(pattern & 0xffn));
      return;
    }
    const chunk = new Uint8Array(Math.min(FILL_CHUNK, len));
    this.toScratch(width, pattern);
    for (let i = 0; i < chunk.length; i++) chunk[i] = this.scratch[i % unit]!;
    for (let pos = 0; pos < len; pos += chunk.length) {
      const part = chunk.subarray(0, Math.min(chunk.length, len - pos));
      if (region.kind === 'ram') this.memory.write(a + pos, part);
      else this.sramAt(a)!.region.write(a + pos, part);
    }
  }

  /** The address as a number when `[addr, addr + bytes)` is inside the physical space. */
  private place(addr: bigint, bytes: number, write: boolean): number | MemoryFault {
    if (addr < 0n || addr + BigInt(bytes) > LIMIT) {
      return fault(
        addr,
        bytes,
        write,
        `${hex(addr)} is outside the physical address space [0, 2^44)`,
      );
    }
    return Number(addr);
  }

  private bulkSpan(addr: bigint, size: bigint, write: boolean): Access<{ a: number; n: number }> {
    if (size > BigInt(this.maxBulk)) {
      return failed(
        fault(addr, 1, write, `transfer of ${size} bytes exceeds the simulator's limit`),
      );
    }
    const n = Number(size);
    const a = this.place(addr, Math.max(n, 1), write);
    if (typeof a !== 'number') return failed(a);
    if (n === 0) return { ok: true, value: { a, n } };
    if (a >= this.ramBase && a < this.ramEnd) {
      if (a + n <= this.ramEnd) return { ok: true, value: { a, n } };
      return failed(fault(BigInt(this.ramEnd), 1, write, `no memory at ${hex(this.ramEnd)}`));
    }
    const s = this.sramAt(a);
    if (s) {
      if (s.region.contains(a, n)) return { ok: true, value: { a, n } };
      return failed(fault(BigInt(s.region.end), 1, write, `no memory at ${hex(s.region.end)}`));
    }
    const r = this.bus.find(a);
    if (r) {
      return failed(
        fault(
          addr,
          1,
          write,
          `byte access to device registers ${r.name} at ${hex(addr)} (bulk transfers reach RAM and SRAM only)`,
        ),
      );
    }
    return failed(fault(addr, 1, write, `no memory or device at ${hex(addr)}`));
  }

  private sramAt(a: number): { readonly name: string; readonly region: SramRegion } | undefined {
    for (const s of this.srams) if (a >= s.region.base && a < s.region.end) return s;
    return undefined;
  }

  private sramRead(r: SramRegion, addr: bigint, a: number, width: AccessWidth): Access<bigint> {
    const bytes = width / 8;
    const f = this.sramCheck(r, addr, a, bytes, false);
    if (f) return failed(f);
    if (width === 32) return { ok: true, value: BigInt(r.read32(a)) };
    if (width === 64) return { ok: true, value: r.read64(a) };
    this.scratch.set(r.bytes.subarray(a - r.base, a - r.base + bytes));
    return { ok: true, value: this.fromScratch(width) };
  }

  private sramWrite(
    r: SramRegion,
    addr: bigint,
    a: number,
    width: AccessWidth,
    v: bigint,
  ): MemoryFault | undefined {
    const bytes = width / 8;
    const f = this.sramCheck(r, addr, a, bytes, true);
    if (f) return f;
    if (width === 32) r.write32(a, Number(v));
    else if (width === 64) r.write64(a, v);
    else {
      this.toScratch(width, v);
      r.bytes.set(this.scratch.subarray(0, bytes), a - r.base);
    }
    return undefined;
  }

  private sramCheck(
    r: SramRegion,
    addr: bigint,
    a: number,
    bytes: number,
    write: boolean,
  ): MemoryFault | undefined {
    if (!r.contains(a, bytes)) {
      return fault(addr, bytes, write, `${hex(addr)}+${bytes} runs past the SRAM window`);
    }
    if (a % bytes !== 0) {
      // Device memory: AArch64 faults on unaligned accesses (sram.ts explains).
      return fault(addr, bytes, write, `SRAM access at ${hex(addr)} is not ${bytes}-byte aligned`);
    }
    return undefined;
  }

  private pastRam(addr: bigint, bytes: number, write: boolean): MemoryFault {
    return fault(addr, bytes, write, `${hex(addr)}+${bytes} runs past the end of RAM`);
  }

  private narrowDevice(addr: bigint, bytes: number, write: boolean): MemoryFault {
    const r = this.bus.find(Number(addr));
    if (r === undefined) return fault(addr, bytes, write, `no memory or device at ${hex(addr)}`);
    return fault(
      addr,
      bytes,
      write,
      `${bytes * 8}-bit access to device registers ${r.name} at ${hex(addr)} (they take 32- and 64-bit accesses)`,
    );
  }

  private fromScratch(width: AccessWidth): bigint {
    const v = this.scratchView;
    switch (width) {
      case 8:
        return BigInt(v.getUint8(0));
      case 16:
        return BigInt(v.getUint16(0, true));
      case 32:
        return BigInt(v.getUint32(0, true));
      default:
        return v.getBigUint64(0, true);
    }
  }

  private toScratch(width: AccessWidth, value: bigint): void {
    const v = this.scratchView;
    switch (width) {
      case 8:
        v.setUint8(0, Number(value & 0xffn));
        return;
      case 16:
        v.setUint16(0, Number(value & 0xffffn), true);
        return;
      case 32:
        v.setUint32(0, Number(value & 0xffff_ffffn), true);
        return;
      default:
        v.setBigUint64(0, BigInt.asUintN(64, value), true);
    }
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
