/**
 * Co-processors that reach DRAM without a translating unit (PROTOCOL.md §6.2 "Identity": m1n1-Py
 * without a DART, U-Boot's default): the device address is the physical address.
 *
 * - `identityStrategy`: mode A, host-allocated (16 KiB-aligned, zeroed), reply with the physical
 *   address (ORed with the `asc-dram-mask` when there is one).
 * - `identityIommu`: an `IommuControl` for mode B on such a path. It "translates" only inside
 *   regions the platform declares as the firmware's own (OpenBSD's device-tree memory regions,
 *   §6.3); anywhere else a firmware-announced address is unmapped. Without regions every
 *   firmware-owned buffer is refused with `BUFFER_UNMAPPED` (ROBUSTNESS B24): a firmware must not
 *   be able to point the host at arbitrary physical memory.
 */

import {
  type AddressWindow,
  alignUp,
  badInput,
  checkDramMask,
  checkMaxBytes,
  checkWindow,
  DEVICE_LIMIT,
  type Grant,
  HostSharedBuffer,
  hex,
  isPowerOfTwo,
  isU53,
  or53,
  PAGE_16K,
  plausibleAllocation,
  type Refusal,
  ramIo,
  refuse,
  StrategySkeleton,
  steps,
  zeroFill,
} from './common.js';
import type { BufferRequest, BufferStrategy, HostMemory, IommuControl } from './types.js';

export interface IdentityStrategyOptions {
  readonly memory: HostMemory;
  /** ADT `asc-dram-mask`, ORed into the address replied. */
  readonly dramMask?: number;
  /** Allocation alignment and granule (default 16 KiB). */
  readonly align?: number;
  /** Largest request served (default 1 MiB). */
  readonly maxBytes?: number;
  /** Zero buffers before replying (default true). */
  readonly zero?: boolean;
  /** Firmware-owned requests (IOVA ≠ 0) go here; without it they are `BUFFER_REJECTED`. */
  readonly firmwareOwned?: BufferStrategy;
  readonly name?: string;
}

export function identityStrategy(opts: IdentityStrategyOptions): BufferStrategy {
  const { memory } = opts;
  const mask = checkDramMask(opts.dramMask);
  const align = opts.align ?? PAGE_16K;
  if (!(isPowerOfTwo(align) && align >= 0x1000)) badInput(`alignment ${align}`);
  const zero = opts.zero ?? true;
  const name = opts.name ?? 'identity';

  const hostAllocated = async (req: BufferRequest): Promise<Grant | Refusal> => {
    const size = alignUp(req.bytes, align);
    const paddr = await memory.alloc(size, align);
    if (paddr === undefined) {
      return refuse(
        'BUFFER_ALLOC_FAILED',
        `endpoint ${hex(req.ep)}: host memory exhausted (${hex(size)} bytes)`,
      );
    }
    try {
      if (!plausibleAllocation(paddr, size, align, false)) {
        throw new Error(`HostMemory.alloc returned ${String(paddr)} for ${hex(size)} bytes`);
      }
      if (or53(paddr + size - 1, mask) >= DEVICE_LIMIT) {
        throw new Error(`${hex(paddr)} | asc-dram-mask does not fit 44 bits`);
      }
      if (zero) await zeroFill(memory, paddr, size);
    } catch (e) {
      try {
        await memory.free(paddr);
      } catch {}
      return refuse('BUFFER_ALLOC_FAILED', `endpoint ${hex(req.ep)}: allocation unusable`, e);
    }
    const buffer = new HostSharedBuffer(
      req.ep,
      'identity',
      or53(paddr, mask),
      req.bytes,
      { paddr, allocated: size },
      ramIo(memory, [{ paddr, len: req.bytes }]),
    );
    return { buffer, reply: true, teardown: steps(() => memory.free(paddr)) };
  };

  return new StrategySkeleton({
    name,
    maxBytes: checkMaxBytes(opts.maxBytes),
    hostAllocated,
    delegate: opts.firmwareOwned,
  });
}

export interface IdentityIommuOptions {
  /** Physical regions the firmware owns (device address = physical address inside them). */
  readonly regions?: readonly AddressWindow[];
  /** Granule of the walk (default 4 KiB); every region must be aligned to it. */
  readonly pageSize?: number;
}

/**
 * An `IommuControl` for a path without an IOMMU: `translate` is the identity inside the declared
 * regions and unmapped elsewhere; `map`/`unmap` throw (nothing to program).
 */
export function identityIommu(opts: IdentityIommuOptions = {}): IommuControl {
  const pageSize = opts.pageSize ?? 0x1000;
  if (!isPowerOfTwo(pageSize)) badInput(`page size ${pageSize}`);
  const regions = [...(opts.regions ?? [])];
  // Aligned regions make the page walk exact: a page is inside a region or wholly outside.
  for (const r of regions) checkWindow(r, 'firmware region', pageSize);
  const nothing = async (): Promise<never> =>
    badInput('an identity path has no IOMMU to program; use identityStrategy for mode A');
  return {
    pageSize,
    map: nothing,
    unmap: nothing,
    async translate(iova) {
      if (!isU53(iova)) return undefined;
      for (const r of regions) if (iova >= r.base && iova - r.base < r.size) return iova;
      return undefined;
    },
  };
}
