/**
 * Small in-memory implementations of the hardware interfaces, for unit tests of the strategies,
 * the BufferManager and the session (no simulator needed). Each records what it was asked to do
 * and can be told to fail, so tests can check error paths and that nothing leaked.
 */

import { RtkitError } from '../../errors.js';
import type { Mmio } from '../../mailbox/types.js';
import { alignUp, hex, inWindow, isPowerOfTwo, isU53 } from './common.js';
import type { HostMemory, IommuControl, SartControl } from './types.js';

export interface FakeHostMemory extends HostMemory {
  /** Live allocations: address → rounded size. */
  readonly allocations: ReadonlyMap<number, number>;
  /** Successful allocations since creation. */
  readonly allocated: number;
  /** Every CPU access, in order. */
  readonly accesses: readonly { addr: number; len: number; write: boolean }[];
  /** Make the next call of a method throw (once). */
  failNext(method: 'alloc' | 'free' | 'read' | 'write'): void;
  /** Raw bytes at an address (test inspection, not logged). */
  peek(addr: number, len: number): Uint8Array;
}

export interface FakeHostMemoryOptions {
  readonly base?: number;
  readonly size?: number;
  /** Allocation granule (default 16 KiB). */
  readonly granule?: number;
  /** Most live allocations (ROBUSTNESS B25's "capacity 2 buffers"). */
  readonly maxLive?: number;
  /** Return this instead of a real address (a misbehaving allocator). */
  readonly bogus?: number;
}

/** RAM `[base, base + size)` with a first-fit allocator; accesses outside it throw. */
export function fakeHostMemory(opts: FakeHostMemoryOptions = {}): FakeHostMemory {
  const base = opts.base ?? 0x8_0000_0000;
  const size = opts.size ?? 0x40_0000;
  const granule = opts.granule ?? 0x4000;
  const maxLive = opts.maxLive ?? Number.POSITIVE_INFINITY;
  const bytes = new Uint8Array(size);
  const live = new Map<number, number>();
  const accesses: { addr: number; len: number; write: boolean }[] = [];
  const failing = new Set<string>();
  let allocated = 0;
  const maybeFail = (m: string): void => {
    if (failing.delete(m)) throw new RtkitError('FAKE_FAILURE', `fake HostMemory.${m} failed`);
  };
  const offset = (addr: number, len: number): number => {
    if (!(isU53(addr) && isU53(len) && inWindow(addr, len, base, size))) {
      throw new RtkitError('MEMORY_OUT_OF_RANGE', `fake RAM access ${hex(addr)}+${hex(len)}`);
    }
    return addr - base;
  };
  return {
    get allocations() {
      return live;
    },
    get allocated() {
      return allocated;
    },
    accesses,
    failNext(m) {
      failing.add(m);
    },
    peek(addr, len) {
      const o = offset(addr, len);
      return bytes.slice(o, o + len);
    },
    async alloc(n, align) {
      maybeFail('alloc');
      if (!(isU53(n) && n > 0 && isPowerOfTwo(align))) throw new RtkitError('BAD_INPUT', 'alloc');
      if (live.size >= maxLive) return undefined;
      if (opts.bogus !== undefined) return opts.bogus;
      const rounded = alignUp(n, granule);
      const sorted = [...live.entries()].sort(([a], [b]) => a - b);
      let at = alignUp(base === 0 ? granule : base, Math.max(align, granule));
      for (const [a, s] of sorted) {
        if (at + rounded <= a) break;
        at = Math.max(at, alignUp(a + s, Math.max(align, granule)));
      }
      if (at + rounded > base + size) return undefined;
      live.set(at, rounded);
      allocated++;
      return at;
    },
    async free(addr) {
      maybeFail('free');
      if (!live.delete(addr)) throw new RtkitError('MEMORY_FREE_INVALID', `free ${hex(addr)}`);
    },
    async read(addr, len) {
      maybeFail('read');
      const o = offset(addr, len);
      accesses.push({ addr, len, write: false });
      return bytes.slice(o, o + len);
    },
    async write(addr, data) {
      maybeFail('write');
      const o = offset(addr, data.length);
      accesses.push({ addr, len: data.length, write: true });
      bytes.set(data, o);
    },
  };
}

export interface FakeIommu extends IommuControl {
  /** IOVA page → physical page address. */
  readonly pages: ReadonlyMap<number, number>;
  readonly calls: readonly string[];
  failNext(method: 'map' | 'unmap' | 'translate'): void;
}

/** A page table; `map` over a mapped page or misaligned arguments throws, as the DART does. */
export function fakeIommu(opts: { pageSize?: number } = {}): FakeIommu {
  const pageSize = opts.pageSize ?? 0x4000;
  const pages = new Map<number, number>();
  const calls: string[] = [];
  const failing = new Set<string>();
  const maybeFail = (m: string): void => {
    if (failing.delete(m)) throw new RtkitError('FAKE_FAILURE', `fake IOMMU ${m} failed`);
  };
  const aligned = (...xs: number[]): void => {
    for (const x of xs) {
      if (!(isU53(x) && x % pageSize === 0)) {
        throw new RtkitError('MEMORY_MISALIGNED', `${hex(x)} is not page-aligned`);
      }
    }
  };
  return {
    pageSize,
    pages,
    calls,
    failNext(m) {
      failing.add(m);
    },
    async map(iova, paddr, size, perms) {
      calls.push(`map ${hex(iova)} ${hex(paddr)} ${hex(size)} ${perms}`);
      maybeFail('map');
      aligned(iova, paddr, size);
      for (let o = 0; o < size; o += pageSize) {
        if (pages.has(iova + o)) throw new RtkitError('DART_OVERLAP', `${hex(iova + o)} mapped`);
      }
      for (let o = 0; o < size; o += pageSize) pages.set(iova + o, paddr + o);
    },
    async unmap(iova, size) {
      calls.push(`unmap ${hex(iova)} ${hex(size)}`);
      maybeFail('unmap');
      aligned(iova, size);
      for (let o = 0; o < size; o += pageSize) pages.delete(iova + o);
    },
    async translate(iova) {
      maybeFail('translate');
      if (!isU53(iova)) return undefined;
      const off = iova % pageSize;
      const p = pages.get(iova - off);
      return p === undefined ? undefined : p + off;
    },
  };
}

export interface FakeSart extends SartControl {
  /** Slot → entry; undefined = free. */
  readonly slots: readonly ({ paddr: number; size: number; reserved: boolean } | undefined)[];
  readonly used: number;
  /** A bootloader entry in the lowest free slot (must survive everything). */
  reserve(paddr: number, size: number): number;
}

/** 16 slots at 4 KiB granularity; revoking a free or reserved slot throws. */
export function fakeSart(): FakeSart {
  const slots: ({ paddr: number; size: number; reserved: boolean } | undefined)[] = new Array(
    16,
  ).fill(undefined);
  const take = (paddr: number, size: number, reserved: boolean): number | undefined => {
    if (!(isU53(paddr) && isU53(size) && size > 0 && paddr % 0x1000 === 0 && size % 0x1000 === 0))
      throw new RtkitError('MEMORY_MISALIGNED', `SART ${hex(paddr)}+${hex(size)}`);
    const i = slots.indexOf(undefined);
    if (i < 0) return undefined;
    slots[i] = { paddr, size, reserved };
    return i;
  };
  return {
    slots,
    get used() {
      return slots.filter((s) => s !== undefined).length;
    },
    reserve(paddr, size) {
      const i = take(paddr, size, true);
      if (i === undefined) throw new RtkitError('BAD_INPUT', 'SART full');
      return i;
    },
    async allow(paddr, size) {
      return take(paddr, size, false);
    },
    async revoke(slot) {
      const s = slots[slot];
      if (s === undefined) throw new RtkitError('SART_SLOT_INVALID', `slot ${slot}`);
      if (s.reserved) throw new RtkitError('SART_SLOT_RESERVED', `slot ${slot}`);
      slots[slot] = undefined;
    },
  };
}

export interface FakeMmio {
  readonly mmio: Mmio;
  /** The device memory; index 0 is address `base`. */
  readonly bytes: Uint8Array;
  /** Every access, in order. */
  readonly log: readonly { addr: number; write: boolean }[];
}

/**
 * Little-endian device memory behind the Mmio contract that, like the SMC's SRAM, accepts only
 * aligned 32-bit accesses inside `[base, base + size)` (anything else throws).
 */
export function fakeMmio(base: number, size: number): FakeMmio {
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  const log: { addr: number; write: boolean }[] = [];
  const off = (addr: number): number => {
    if (!(isU53(addr) && addr % 4 === 0 && inWindow(addr, 4, base, size))) {
      throw new RtkitError('MMIO_UNMAPPED', `fake MMIO access at ${hex(addr)}`);
    }
    return addr - base;
  };
  const no64 = async (): Promise<never> => {
    throw new RtkitError('MMIO_ALIGNMENT', 'fake MMIO: 64-bit access');
  };
  return {
    bytes,
    log,
    mmio: {
      async read32(addr) {
        log.push({ addr, write: false });
        return view.getUint32(off(addr), true);
      },
      async write32(addr, value) {
        log.push({ addr, write: true });
        view.setUint32(off(addr), value, true);
      },
      read64: no64,
      write64: no64,
    },
  };
}
