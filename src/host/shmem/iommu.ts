/**
 * Mode A through an IOMMU (PROTOCOL.md §6.2, "IOMMU (DART)"; AS DCP, m1n1): the host allocates
 * memory, maps it at an IOVA of its own choosing inside a window of the co-processor's stream,
 * and replies with that IOVA, ORed with the ADT `asc-dram-mask` when there is one (m1n1-C).
 *
 * Facts: m1n1 allocates IOVAs per stream from `0x8000_0000–0x9000_0000`; DCP on M2 needs IOVAs
 * below 2^36 (m1n1 masks `[35:0]`); buffers are aligned to 16 KiB by m1n1, U-Boot and OpenBSD.
 * Ours: the allocation is rounded up to the IOMMU page, so two buffers never share a page (a
 * mapping must not expose a neighbour), and it is zeroed before it is mapped.
 */

import {
  type AddressWindow,
  alignUp,
  and53,
  badInput,
  checkDramMask,
  checkMaxBytes,
  checkWindow,
  DEVICE_LIMIT,
  type Grant,
  HostSharedBuffer,
  hex,
  or53,
  plausibleAllocation,
  type Refusal,
  ramIo,
  refuse,
  StrategySkeleton,
  steps,
  zeroFill,
} from './common.js';
import { RangeAllocator } from './range-allocator.js';
import type { BufferRequest, BufferStrategy, HostMemory, IommuControl } from './types.js';

export interface IommuStrategyOptions {
  readonly memory: HostMemory;
  readonly iommu: IommuControl;
  /** IOVAs handed out, e.g. m1n1's `{ base: 0x8000_0000, size: 0x1000_0000 }`. */
  readonly iovaWindow: AddressWindow;
  /** ADT `asc-dram-mask`: ORed into every address replied. Must not overlap the window. */
  readonly dramMask?: number;
  /** Largest request served (default 1 MiB). */
  readonly maxBytes?: number;
  /** Zero buffers before mapping them (default true). */
  readonly zero?: boolean;
  /**
   * Firmware-owned requests (IOVA ≠ 0) go here, e.g. a `firmwareIovaStrategy`. Without it they
   * are refused with `BUFFER_REJECTED`: this strategy does not take mode B.
   */
  readonly firmwareOwned?: BufferStrategy;
  readonly name?: string;
}

export function iommuStrategy(opts: IommuStrategyOptions): BufferStrategy {
  const { memory, iommu } = opts;
  const ps = iommu.pageSize;
  if (!(ps === 0x1000 || ps === 0x4000 || ps === 0x10000)) badInput(`IOMMU page size ${ps}`);
  const mask = checkDramMask(opts.dramMask);
  checkWindow(opts.iovaWindow, 'IOVA window', ps);
  const top = opts.iovaWindow.base + opts.iovaWindow.size - 1;
  if (mask !== 0 && (and53(opts.iovaWindow.base, mask) !== 0 || and53(top, mask) !== 0)) {
    badInput(`asc-dram-mask ${hex(mask)} overlaps the IOVA window`, { mask });
  }
  if (or53(top, mask) >= DEVICE_LIMIT) badInput('IOVA window | asc-dram-mask exceeds 44 bits');
  const iovas = new RangeAllocator(opts.iovaWindow, ps);
  const zero = opts.zero ?? true;
  const name = opts.name ?? 'iommu';

  const hostAllocated = async (req: BufferRequest): Promise<Grant | Refusal> => {
    const size = alignUp(req.bytes, ps);
    const iova = iovas.alloc(size);
    if (iova === undefined) {
      return refuse(
        'BUFFER_ALLOC_FAILED',
        `endpoint ${hex(req.ep)}: no room for ${hex(size)} bytes in the IOVA window`,
      );
    }
    let paddr: number | undefined;
    let mapped = false;
    try {
      const p = await memory.alloc(size, ps);
      if (p === undefined) {
        iovas.free(iova);
        return refuse(
          'BUFFER_ALLOC_FAILED',
          `endpoint ${hex(req.ep)}: host memory exhausted (${hex(size)} bytes)`,
        );
      }
      paddr = p;
      if (!plausibleAllocation(p, size, ps, true)) {
        throw new Error(`HostMemory.alloc returned ${String(p)} for ${hex(size)} bytes`);
      }
      if (zero) await zeroFill(memory, p, size);
      await iommu.map(iova, p, size, 'rw');
      mapped = true;
    } catch (e) {
      // Undo in reverse; if undoing fails too, leak rather than reuse memory the IOP may reach.
      try {
        if (mapped) await iommu.unmap(iova, size);
        if (paddr !== undefined) await memory.free(paddr);
        iovas.free(iova);
      } catch {}
      return refuse('BUFFER_ALLOC_FAILED', `endpoint ${hex(req.ep)}: mapping failed`, e);
    }
    const p = paddr;
    const buffer = new HostSharedBuffer(
      req.ep,
      'iommu',
      or53(iova, mask),
      req.bytes,
      { paddr: p, allocated: size, iova },
      ramIo(memory, [{ paddr: p, len: req.bytes }]),
    );
    return {
      buffer,
      reply: true,
      teardown: steps(
        () => iommu.unmap(iova, size),
        () => memory.free(p),
        async () => iovas.free(iova),
      ),
    };
  };

  return new StrategySkeleton({
    name,
    maxBytes: checkMaxBytes(opts.maxBytes),
    hostAllocated,
    delegate: opts.firmwareOwned,
  });
}
