/**
 * A deterministic first-fit allocator for host-side buffers inside one physical (or IOVA) range,
 * e.g. a DRAM carve-out from which the host serves mode-A buffer requests (PROTOCOL.md §6.2).
 *
 * - Never returns 0: a reply with IOVA 0 is the NB/OB bug of ROBUSTNESS B18, and 0 means "host,
 *   please allocate" in a request (§6.1). A range starting at 0 loses its first granule.
 * - Exhaustion is `undefined`, never a sentinel number (B25: OB returned ENOMEM = 12 as an
 *   address). Limits: the range itself, `capacity` bytes, `maxLive` allocations (B25's recipe
 *   uses "allocator capacity 2 buffers").
 * - Sizes are rounded up to the granule (default 16 KiB, the Apple DART page) so two buffers
 *   never share a page: mapping one through an IOMMU must not expose its neighbour. m1n1, U-Boot
 *   and OpenBSD also align buffers to 16 KiB (§6.2).
 */

import { RtkitError } from '../../errors.js';
import { alignUp, checkSpace, hex, isAligned, isPowerOfTwo, MemoryErrorCode } from './address.js';

export interface PageAllocatorOptions {
  /** First address of the range. */
  readonly base: number;
  /** Bytes in the range. */
  readonly size: number;
  /** Allocation sizes are rounded up to this power of two; base and size must be multiples. */
  readonly granule?: number | undefined;
  /** Most live bytes (rounded sizes). Default: the range size. */
  readonly capacity?: number | undefined;
  /** Most live allocations. Default: unlimited. */
  readonly maxLive?: number | undefined;
}

export interface Allocation {
  readonly addr: number;
  /** Bytes reserved (the request rounded up to the granule). */
  readonly size: number;
  /** Bytes requested. */
  readonly requested: number;
}

export class PageAllocator {
  readonly base: number;
  readonly size: number;
  readonly granule: number;
  readonly capacity: number;
  readonly maxLive: number;

  /** Free ranges as [start, end) pairs, sorted, never adjacent (merged on free). */
  private readonly free_: [number, number][] = [];
  private readonly live_ = new Map<number, Allocation>();
  private liveBytes_ = 0;
  private allocations_ = 0;
  private failures_ = 0;

  constructor(opts: PageAllocatorOptions) {
    const granule = opts.granule ?? 0x4000;
    if (!isPowerOfTwo(granule)) badInput(`granule ${granule} must be a power of two`);
    checkSpace(opts.base, opts.size, 'PageAllocator range');
    if (!isAligned(opts.base, granule) || !isAligned(opts.size, granule)) {
      throw new RtkitError(
        MemoryErrorCode.MISALIGNED,
        `allocator range ${hex(opts.base)}+${hex(opts.size)} is not ${hex(granule)}-aligned`,
        { base: opts.base, size: opts.size, granule },
      );
    }
    const capacity = opts.capacity ?? opts.size;
    const maxLive = opts.maxLive ?? Number.POSITIVE_INFINITY;
    if (!(Number.isSafeInteger(capacity) && capacity >= 0)) badInput(`capacity ${capacity}`);
    if (!(maxLive === Number.POSITIVE_INFINITY || (Number.isSafeInteger(maxLive) && maxLive >= 0)))
      badInput(`maxLive ${maxLive}`);
    this.base = opts.base;
    this.size = opts.size;
    this.granule = granule;
    this.capacity = capacity;
    this.maxLive = maxLive;
    const start = opts.base === 0 ? granule : opts.base;
    const end = opts.base + opts.size;
    if (start < end) this.free_.push([start, end]);
  }

  /** Live allocations. */
  get live(): number {
    return this.live_.size;
  }

  /** Bytes held by live allocations (rounded sizes). */
  get liveBytes(): number {
    return this.liveBytes_;
  }

  /** Successful allocations since creation (ROBUSTNESS B11's "allocator counter"). */
  get allocations(): number {
    return this.allocations_;
  }

  /** Allocations refused since creation. */
  get failures(): number {
    return this.failures_;
  }

  /**
   * Reserve `size` bytes aligned to `align` (a power of two; default 16 KiB). Undefined when the
   * range, the capacity or the live-allocation limit is exhausted. Deterministic: the lowest
   * fitting address.
   */
  alloc(size: number, align = 0x4000): number | undefined {
    if (!(Number.isSafeInteger(size) && size > 0)) badInput(`allocation size ${size}`);
    if (!isPowerOfTwo(align)) badInput(`alignment ${align} must be a power of two`);
    const rounded = alignUp(size, this.granule);
    if (this.live_.size >= this.maxLive || this.liveBytes_ + rounded > this.capacity) {
      this.failures_++;
      return undefined;
    }
    for (let i = 0; i < this.free_.length; i++) {
      const [s, e] = this.free_[i]!;
      const a = alignUp(s, Math.max(align, this.granule));
      if (a + rounded > e) continue;
      const pieces: [number, number][] = [];
      if (s < a) pieces.push([s, a]);
      if (a + rounded < e) pieces.push([a + rounded, e]);
      this.free_.splice(i, 1, ...pieces);
      this.live_.set(a, { addr: a, size: rounded, requested: size });
      this.liveBytes_ += rounded;
      this.allocations_++;
      return a;
    }
    this.failures_++;
    return undefined;
  }

  /** Release a live allocation. Throws MEMORY_FREE_INVALID for anything else (double free). */
  free(addr: number): void {
    const a = this.live_.get(addr);
    if (a === undefined) {
      throw new RtkitError(
        MemoryErrorCode.FREE_INVALID,
        `free(${hex(addr)}): not a live allocation`,
        { addr },
      );
    }
    this.live_.delete(addr);
    this.liveBytes_ -= a.size;
    this.release(a.addr, a.addr + a.size);
  }

  /** The live allocation starting at `addr`. */
  lookup(addr: number): Allocation | undefined {
    return this.live_.get(addr);
  }

  /** Live allocations in address order. */
  list(): Allocation[] {
    return [...this.live_.values()].sort((x, y) => x.addr - y.addr);
  }

  private release(s: number, e: number): void {
    // Binary search for the first free range after [s, e), then merge with both neighbours.
    let lo = 0;
    let hi = this.free_.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.free_[mid]![0] < s) lo = mid + 1;
      else hi = mid;
    }
    const prev = this.free_[lo - 1];
    const next = this.free_[lo];
    const joinPrev = prev !== undefined && prev[1] === s;
    const joinNext = next !== undefined && next[0] === e;
    if (joinPrev && joinNext) {
      prev[1] = next[1];
      this.free_.splice(lo, 1);
    } else if (joinPrev) prev[1] = e;
    else if (joinNext) next[0] = s;
    else this.free_.splice(lo, 0, [s, e]);
  }
}

function badInput(msg: string): never {
  throw new RtkitError(MemoryErrorCode.BAD_INPUT, msg);
}
