/**
 * The simulated SoC's RAM: the whole 44-bit physical address space, stored sparsely. A page is
 * allocated by the first write that touches it; reading untouched memory yields zeros and
 * allocates nothing, so a test can place buffers anywhere (DRAM starts at 0x8_0000_0000 on M1,
 * PROTOCOL.md §6.1 examples) without paying for the gap.
 *
 * This is the host's and the simulator's own view: misuse throws. The firmware never reaches it
 * directly, only through a DmaPort (identity, DART or SART), which records faults instead.
 */

import { RtkitError } from '../../errors.js';
import type { SyncMmio } from '../../mailbox/types.js';
import { checkSpace, hex, MemoryErrorCode, PHYS_LIMIT } from './address.js';

/** Storage granule. Equal to the DART's default page so a mapped page is one Map lookup. */
const PAGE = 0x4000;
const ZERO_PAGE = new Uint8Array(PAGE);

export class PhysicalMemory {
  /** Bytes per storage page (what `pagesAllocated` counts). */
  static readonly PAGE_SIZE = PAGE;
  /** One past the last valid physical address. */
  static readonly LIMIT = PHYS_LIMIT;

  private readonly pages = new Map<number, Uint8Array>();
  private readonly scratch = new Uint8Array(8);
  private readonly scratchView = new DataView(this.scratch.buffer);

  /** Pages that have been written at least once (each `PAGE_SIZE` bytes). */
  get pagesAllocated(): number {
    return this.pages.size;
  }

  /** A copy of `len` bytes at `addr`. */
  read(addr: number, len: number): Uint8Array {
    checkSpace(addr, len, 'PhysicalMemory.read');
    const out = new Uint8Array(len);
    this.copyOut(addr, out);
    return out;
  }

  /** Fill `dst` (a whole array or a subarray view) from `addr`: a read without allocating. */
  readInto(addr: number, dst: Uint8Array): void {
    checkSpace(addr, dst.length, 'PhysicalMemory.readInto');
    this.copyOut(addr, dst);
  }

  /** Store all of `data` at `addr`. */
  write(addr: number, data: Uint8Array): void {
    checkSpace(addr, data.length, 'PhysicalMemory.write');
    this.copyIn(addr, data);
  }

  /** Store `len` copies of `value` (0–255) at `addr`; filling untouched pages with 0 is free. */
  fill(addr: number, len: number, value = 0): void {
    checkSpace(addr, len, 'PhysicalMemory.fill');
    checkByte(value);
    if (value === 0 && len / PAGE > this.pages.size) {
      // Zeroing a range wider than what was ever written: visit the allocated pages only, so
      // clearing the whole space costs nothing.
      for (const [pn, page] of this.pages) {
        const s = Math.max(addr, pn * PAGE);
        const e = Math.min(addr + len, (pn + 1) * PAGE);
        if (s < e) page.fill(0, s - pn * PAGE, e - pn * PAGE);
      }
      return;
    }
    let pos = 0;
    while (pos < len) {
      const a = addr + pos;
      const pn = Math.floor(a / PAGE);
      const off = a - pn * PAGE;
      const n = Math.min(PAGE - off, len - pos);
      const page = value === 0 ? this.pages.get(pn) : this.page(pn);
      page?.fill(value, off, off + n);
      pos += n;
    }
  }

  readU32(addr: number): number {
    checkSpace(addr, 4, 'PhysicalMemory.readU32');
    this.copyOut(addr, this.scratch.subarray(0, 4));
    return this.scratchView.getUint32(0, true);
  }

  readU64(addr: number): bigint {
    checkSpace(addr, 8, 'PhysicalMemory.readU64');
    this.copyOut(addr, this.scratch);
    return this.scratchView.getBigUint64(0, true);
  }

  /** Little-endian (PROTOCOL.md §0). Accepts [-2^31, 2^32): int32 values are stored as their bits. */
  writeU32(addr: number, value: number): void {
    checkSpace(addr, 4, 'PhysicalMemory.writeU32');
    this.scratchView.setUint32(0, toU32(value), true);
    this.copyIn(addr, this.scratch.subarray(0, 4));
  }

  /** Little-endian. Accepts [-2^63, 2^64): int64 values are stored as their bits. */
  writeU64(addr: number, value: bigint): void {
    checkSpace(addr, 8, 'PhysicalMemory.writeU64');
    this.scratchView.setBigUint64(0, toU64(value), true);
    this.copyIn(addr, this.scratch);
  }

  /**
   * A SyncMmio view of `[base, base + size)` at absolute physical addresses, e.g. for a bus that
   * exposes RAM to the m1n1 proxy. RAM is normal memory, so unaligned accesses are allowed here
   * (unlike the SRAM window, see SramRegion). Accesses that leave the window throw.
   */
  asMmio(base: number, size: number): SyncMmio {
    checkSpace(base, size, 'PhysicalMemory.asMmio');
    const inside = (addr: number, len: number): void => {
      if (!(Number.isSafeInteger(addr) && addr >= base && addr + len <= base + size)) {
        throw new RtkitError(
          MemoryErrorCode.OUT_OF_RANGE,
          `MMIO access ${hex(addr)}+${len} outside RAM window ${hex(base)}+${hex(size)}`,
          { addr, len, base, size },
        );
      }
    };
    return {
      read32: (addr) => {
        inside(addr, 4);
        return this.readU32(addr);
      },
      write32: (addr, value) => {
        inside(addr, 4);
        this.writeU32(addr, value);
      },
      read64: (addr) => {
        inside(addr, 8);
        return this.readU64(addr);
      },
      write64: (addr, value) => {
        inside(addr, 8);
        this.writeU64(addr, value);
      },
    };
  }

  /** Copy out, one `set` per page; untouched pages read as zeros. Range already checked. */
  private copyOut(addr: number, dst: Uint8Array): void {
    const len = dst.length;
    let pos = 0;
    while (pos < len) {
      const a = addr + pos;
      const pn = Math.floor(a / PAGE);
      const off = a - pn * PAGE;
      const n = Math.min(PAGE - off, len - pos);
      const page = this.pages.get(pn) ?? ZERO_PAGE;
      dst.set(page.subarray(off, off + n), pos);
      pos += n;
    }
  }

  /** Copy in, one `set` per page. Range already checked. */
  private copyIn(addr: number, src: Uint8Array): void {
    const len = src.length;
    let pos = 0;
    while (pos < len) {
      const a = addr + pos;
      const pn = Math.floor(a / PAGE);
      const off = a - pn * PAGE;
      const n = Math.min(PAGE - off, len - pos);
      this.page(pn).set(pos === 0 && n === len ? src : src.subarray(pos, pos + n), off);
      pos += n;
    }
  }

  private page(pn: number): Uint8Array {
    let p = this.pages.get(pn);
    if (p === undefined) {
      p = new Uint8Array(PAGE);
      this.pages.set(pn, p);
    }
    return p;
  }
}

function checkByte(value: number): void {
  if (!(Number.isInteger(value) && value >= 0 && value <= 0xff)) {
    throw new RtkitError(MemoryErrorCode.BAD_INPUT, `fill value ${value} is not a byte`, {
      value,
    });
  }
}

/** A register value as its 32 bits; throws BAD_INPUT outside [-2^31, 2^32). */
export function toU32(value: number): number {
  if (!(Number.isInteger(value) && value >= -0x8000_0000 && value <= 0xffff_ffff)) {
    throw new RtkitError(MemoryErrorCode.BAD_INPUT, `${value} is not a 32-bit value`, { value });
  }
  return value >>> 0;
}

/** A register value as its 64 bits; throws BAD_INPUT outside [-2^63, 2^64). */
export function toU64(value: bigint): bigint {
  if (typeof value !== 'bigint' || value < -(1n << 63n) || value >= 1n << 64n) {
    throw new RtkitError(MemoryErrorCode.BAD_INPUT, `${String(value)} is not a 64-bit value`, {
      value: String(value),
    });
  }
  return BigInt.asUintN(64, value);
}
