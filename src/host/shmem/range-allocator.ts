/**
 * A first-fit allocator of page-aligned ranges inside one window: the IOMMU strategy's IOVA
 * space (m1n1 gives each DART stream `0x8000_0000–0x9000_0000`, PROTOCOL.md §6.2). Deterministic
 * (lowest fitting address), never returns 0 (a window starting at 0 gives up its first page:
 * 0 in a buffer message means "host, please allocate", §6.1, ROBUSTNESS B18), and exhaustion is
 * `undefined`, never a sentinel (B25).
 */

import { alignUp, badInput, checkWindow, hex } from './common.js';

export class RangeAllocator {
  readonly base: number;
  readonly size: number;
  readonly granule: number;
  /** Free ranges [start, end), sorted and never adjacent. */
  private readonly free_: [number, number][] = [];
  private readonly live_ = new Map<number, number>();

  constructor(window: { base: number; size: number }, granule: number) {
    checkWindow(window, 'IOVA window', granule);
    this.base = window.base;
    this.size = window.size;
    this.granule = granule;
    const start = window.base === 0 ? granule : window.base;
    const end = window.base + window.size;
    if (start < end) this.free_.push([start, end]);
  }

  get live(): number {
    return this.live_.size;
  }

  /** The lowest free range of `size` bytes (rounded to the granule), or undefined. */
  alloc(size: number): number | undefined {
    const n = alignUp(size, this.granule);
    for (let i = 0; i < this.free_.length; i++) {
      const [s, e] = this.free_[i]!;
      if (e - s < n) continue;
      if (s + n === e) this.free_.splice(i, 1);
      else this.free_[i]![0] = s + n;
      this.live_.set(s, n);
      return s;
    }
    return undefined;
  }

  free(addr: number): void {
    const n = this.live_.get(addr);
    if (n === undefined) badInput(`IOVA ${hex(addr)} is not allocated`);
    this.live_.delete(addr);
    const s = addr;
    const e = addr + n;
    let i = 0;
    while (i < this.free_.length && this.free_[i]![0] < s) i++;
    const prev = this.free_[i - 1];
    const next = this.free_[i];
    const joinPrev = prev !== undefined && prev[1] === s;
    const joinNext = next !== undefined && next[0] === e;
    if (joinPrev && joinNext) {
      prev[1] = next[1];
      this.free_.splice(i, 1);
    } else if (joinPrev) prev[1] = e;
    else if (joinNext) next[0] = s;
    else this.free_.splice(i, 0, [s, e]);
  }
}
