/**
 * The host-side heap of M1N1-PROXY.md §10: m1n1's tooling carves its own 1 GiB window out of the
 * machine's RAM (128 MiB above m1n1's heap top) and manages it on the host; allocations never
 * reach the device. Buffers handed to co-processors come from here (16 KiB-aligned, DVA =
 * physical address), as do the strings uploaded for proxy calls.
 *
 * First fit over an address-sorted free list, coalescing on free. Addresses are bigint (§13).
 */

import { ErrorCode, RtkitError } from '../errors.js';

/** Allocation granule and default alignment (m1n1's tooling aligns to 64 bytes). */
export const HEAP_DEFAULT_ALIGN = 64;
/** Page size of Apple co-processor buffers (§10): use it as `align` for those. */
export const HEAP_PAGE_ALIGN = 0x4000;

/** Largest alignment accepted: the heap is 1 GiB, and the bit test below is 32-bit. */
const MAX_ALIGN = 2 ** 30;

interface Block {
  addr: bigint;
  size: bigint;
}

const U64_LIMIT = 1n << 64n;

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

export class ProxyHeap {
  readonly base: bigint;
  readonly size: bigint;
  /** Sorted by address, never adjacent (coalesced). */
  private readonly free_: Block[] = [];
  private readonly live = new Map<bigint, bigint>();
  private usedBytes = 0n;

  constructor(base: bigint, size: bigint) {
    if (typeof base !== 'bigint' || typeof size !== 'bigint' || base < 0n || size <= 0n) {
      throw new RtkitError(ErrorCode.BAD_INPUT, `bad heap window ${String(base)}+${String(size)}`, {
        base,
        size,
      });
    }
    if (base + size > U64_LIMIT) {
      throw new RtkitError(ErrorCode.BAD_INPUT, `heap window ${hex(base)}+${hex(size)} wraps`, {
        base,
        size,
      });
    }
    this.base = base;
    this.size = size;
    this.free_.push({ addr: base, size });
  }

  /** Bytes currently allocated (sizes rounded up to the 64-byte granule). */
  get used(): bigint {
    return this.usedBytes;
  }

  /**
   * Allocate `size` bytes aligned to `align` (a power of two, default 64; use HEAP_PAGE_ALIGN for
   * co-processor buffers). Throws BAD_INPUT for a bad size or alignment and BUFFER_OUT_OF_RANGE
   * when no free block fits (the heap is exhausted or too fragmented).
   */
  alloc(size: number, align: number = HEAP_DEFAULT_ALIGN): bigint {
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new RtkitError(ErrorCode.BAD_INPUT, `heap allocation size ${size} is not positive`, {
        size,
      });
    }
    if (
      !Number.isInteger(align) ||
      align <= 0 ||
      align > MAX_ALIGN ||
      (align & (align - 1)) !== 0
    ) {
      throw new RtkitError(
        ErrorCode.BAD_INPUT,
        `heap alignment ${align} is not a power of two up to 2^30`,
        {
          align,
        },
      );
    }
    const a = BigInt(Math.max(align, HEAP_DEFAULT_ALIGN));
    const want = roundUp(BigInt(size), BigInt(HEAP_DEFAULT_ALIGN));
    for (let i = 0; i < this.free_.length; i++) {
      const b = this.free_[i]!;
      const start = roundUp(b.addr, a);
      const end = b.addr + b.size;
      if (start + want > end) continue;
      const pieces: Block[] = [];
      if (start > b.addr) pieces.push({ addr: b.addr, size: start - b.addr });
      if (start + want < end) pieces.push({ addr: start + want, size: end - start - want });
      this.free_.splice(i, 1, ...pieces);
      this.live.set(start, want);
      this.usedBytes += want;
      return start;
    }
    throw new RtkitError(
      ErrorCode.BUFFER_OUT_OF_RANGE,
      `host heap exhausted: no free block of ${size} bytes aligned to ${align} (${this.usedBytes} of ${this.size} bytes in use)`,
      { size, align, used: this.usedBytes, heapSize: this.size },
    );
  }

  /** Return an allocation. A pointer that is not a live allocation (double free) is BAD_INPUT. */
  free(addr: bigint): void {
    const size = typeof addr === 'bigint' ? this.live.get(addr) : undefined;
    if (size === undefined) {
      throw new RtkitError(
        ErrorCode.BAD_INPUT,
        `${typeof addr === 'bigint' ? hex(addr) : String(addr)} is not a live allocation of the host heap (double free or foreign pointer)`,
        { addr },
      );
    }
    this.live.delete(addr);
    this.usedBytes -= size;
    // Binary search for the insertion point keeps free() O(log n) plus the splice.
    let lo = 0;
    let hi = this.free_.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.free_[mid]!.addr < addr) lo = mid + 1;
      else hi = mid;
    }
    const block: Block = { addr, size };
    const prev = this.free_[lo - 1];
    const next = this.free_[lo];
    if (prev !== undefined && prev.addr + prev.size === addr) {
      prev.size += size;
      if (next !== undefined && prev.addr + prev.size === next.addr) {
        prev.size += next.size;
        this.free_.splice(lo, 1);
      }
      return;
    }
    if (next !== undefined && addr + size === next.addr) {
      next.addr = addr;
      next.size += size;
      return;
    }
    this.free_.splice(lo, 0, block);
  }

  /** Size of the live allocation at `addr`, or undefined. */
  sizeOf(addr: bigint): number | undefined {
    const s = this.live.get(addr);
    return s === undefined ? undefined : Number(s);
  }

  /** The free blocks, by address (for tests and diagnostics). */
  freeBlocks(): { addr: bigint; size: bigint }[] {
    return this.free_.map((b) => ({ addr: b.addr, size: b.size }));
  }
}

function roundUp(v: bigint, a: bigint): bigint {
  return ((v + a - 1n) / a) * a;
}
