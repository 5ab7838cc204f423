/**
 * Mode A behind a SART allow-list (PROTOCOL.md §6.2; NVMe/ANS in ML, U-Boot, OpenBSD): the host
 * allocates, enters the range in one of the SART's 16 entries, and replies with the physical
 * address (the SART does not translate).
 *
 * Facts: 16 entries, address and size at 4 KiB granularity, every buffer consumes one entry,
 * entries made by the bootloader are preserved (we only ever revoke the slot we were given).
 * The NVMe clients refuse firmware-owned buffers, so this strategy has no mode B (B24's
 * `BUFFER_REJECTED`). ROBUSTNESS B11: a repeated request must not burn a slot — that is the
 * BufferManager's job; this strategy takes one slot per buffer it grants.
 */

import {
  alignUp,
  checkMaxBytes,
  type Grant,
  HostSharedBuffer,
  hex,
  PAGE_4K,
  PAGE_16K,
  plausibleAllocation,
  type Refusal,
  ramIo,
  refuse,
  StrategySkeleton,
  steps,
  zeroFill,
} from './common.js';
import type { BufferRequest, BufferStrategy, HostMemory, SartControl } from './types.js';

export interface SartStrategyOptions {
  readonly memory: HostMemory;
  readonly sart: SartControl;
  /** Largest request served (default 1 MiB). */
  readonly maxBytes?: number;
  /** Zero buffers before allowing them (default true). */
  readonly zero?: boolean;
  readonly name?: string;
}

export function sartStrategy(opts: SartStrategyOptions): BufferStrategy {
  const { memory, sart } = opts;
  const zero = opts.zero ?? true;
  const name = opts.name ?? 'sart';

  const hostAllocated = async (req: BufferRequest): Promise<Grant | Refusal> => {
    // The entry covers whole 4 KiB units (its granularity); the allocation is 16 KiB-aligned
    // as m1n1, U-Boot and OpenBSD align buffers.
    const size = alignUp(req.bytes, PAGE_4K);
    const paddr = await memory.alloc(size, PAGE_16K);
    if (paddr === undefined) {
      return refuse(
        'BUFFER_ALLOC_FAILED',
        `endpoint ${hex(req.ep)}: host memory exhausted (${hex(size)} bytes)`,
      );
    }
    let slot: number | undefined;
    try {
      // Address 0 is the request's "host allocates", never an answer (M3, B18).
      if (!plausibleAllocation(paddr, size, PAGE_4K, false)) {
        throw new Error(`HostMemory.alloc returned ${String(paddr)} for ${hex(size)} bytes`);
      }
      if (zero) await zeroFill(memory, paddr, size);
      slot = await sart.allow(paddr, size);
    } catch (e) {
      try {
        await memory.free(paddr);
      } catch {}
      return refuse('BUFFER_ALLOC_FAILED', `endpoint ${hex(req.ep)}: SART entry failed`, e);
    }
    if (slot === undefined) {
      await memory.free(paddr);
      return refuse(
        'BUFFER_ALLOC_FAILED',
        `endpoint ${hex(req.ep)}: every SART entry is in use (16, bootloader entries included)`,
      );
    }
    const s = slot;
    const buffer = new HostSharedBuffer(
      req.ep,
      'sart',
      paddr,
      req.bytes,
      { paddr, allocated: size, sartSlot: s },
      ramIo(memory, [{ paddr, len: req.bytes }]),
    );
    return {
      buffer,
      reply: true,
      teardown: steps(
        () => sart.revoke(s),
        () => memory.free(paddr),
      ),
    };
  };

  return new StrategySkeleton({
    name,
    maxBytes: checkMaxBytes(opts.maxBytes),
    hostAllocated,
    firmwareRefusal: (req) =>
      refuse(
        'BUFFER_REJECTED',
        `endpoint ${hex(req.ep)}: firmware-owned buffer at ${hex(req.iova)} refused ` +
          '(behind a SART the host only serves its own buffers, as the NVMe clients do)',
      ),
  });
}
