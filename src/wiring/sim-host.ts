/**
 * Adapters from the simulated SoC to the host library's hardware interfaces, so host code runs
 * unchanged against the simulator (and, through other adapters, the m1n1 proxy). Host and
 * simulator never import each other (STYLE.md); this directory is where they meet.
 *
 *   host/shmem strategies ── HostMemory ──► soc.dram (PageAllocator) + soc.memory (PhysicalMemory)
 *                         ── IommuControl ► soc.dart, one stream
 *                         ── SartControl ─► soc.sart
 *                         ── SramAccess ──► soc.mmio (32-bit MMIO into the SRAM window)
 */

import { RtkitError } from '../errors.js';
import type { SessionOptions } from '../host/options.js';
import { RtkitSession } from '../host/session.js';
import {
  type AddressWindow,
  firmwareIovaStrategy,
  identityIommu,
  identityStrategy,
  iommuStrategy,
  mmioSram,
  sartStrategy,
  sramStrategy,
} from '../host/shmem/index.js';
import type { BufferStrategy, HostMemory, IommuControl, SartControl } from '../host/shmem/types.js';
import type { SramAccess } from '../host/types.js';
import { AscMailboxDriver } from '../mailbox/asc-driver.js';
import type { SimCoprocessor, SimSoc } from '../sim/soc.js';

export interface SimHostMemoryOptions {
  /**
   * Make a CPU read fail (reject with `MEMORY_READ_FAILED`) when this returns true, e.g. to
   * test a crash-log copy that fails (ROBUSTNESS B12).
   */
  readonly failRead?: (paddr: number, len: number) => boolean;
}

/** Host DRAM: allocation from `soc.dram`, CPU access to `soc.memory`. */
export function simHostMemory(soc: SimSoc, opts: SimHostMemoryOptions = {}): HostMemory {
  return {
    alloc: async (size, align) => soc.dram.alloc(size, align),
    free: async (paddr) => soc.dram.free(paddr),
    read: async (paddr, len) => {
      if (opts.failRead?.(paddr, len)) {
        throw new RtkitError('MEMORY_READ_FAILED', `simulated read failure at ${hex(paddr)}`, {
          paddr,
          len,
        });
      }
      return soc.memory.read(paddr, len);
    },
    write: async (paddr, data) => soc.memory.write(paddr, data),
  };
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/**
 * One DART stream. `translate` reports the mapping whatever its device permission: the host's
 * CPU reaches the physical page directly, not through the DART.
 */
export function simIommu(soc: SimSoc, stream: number): IommuControl {
  const dart = soc.dart;
  return {
    pageSize: dart.pageSize,
    map: async (iova, paddr, size, perms) => dart.map(stream, iova, paddr, size, perms),
    unmap: async (iova, size) => {
      dart.unmap(stream, iova, size);
    },
    translate: async (iova) => dart.lookup(stream, iova)?.paddr,
  };
}

export function simSart(soc: SimSoc): SartControl {
  return {
    allow: async (paddr, size) => soc.sart.allow(paddr, size),
    revoke: async (slot) => soc.sart.revoke(slot),
  };
}

/** A co-processor's SRAM window through the SoC's MMIO bus. */
export function simSram(soc: SimSoc, window: AddressWindow): SramAccess {
  return mmioSram(soc.mmio, window.base, window.size);
}

export interface SimStrategyOptions {
  /** Host memory (default `simHostMemory(soc)`), e.g. one with read failures. */
  readonly memory?: HostMemory;
  /** Host IOVA window on a DART path (default m1n1's `0x8000_0000–0x9000_0000`, §6.2). */
  readonly iovaWindow?: AddressWindow;
  /**
   * `asc-dram-mask`. The SoC's own DMA ports carry none, so only tests that build their own
   * port with the same mask may set it.
   */
  readonly dramMask?: number;
  readonly maxBytes?: number;
  /** Identity path: physical regions the firmware may announce as its own (mode B). */
  readonly firmwareRegions?: readonly AddressWindow[];
}

/** The strategies for one co-processor, usable directly as a BufferManager selection. */
export interface SimStrategies {
  readonly default: BufferStrategy;
  readonly byEndpoint: Partial<Record<number, BufferStrategy>>;
  /** Mode A on the co-processor's memory path (IOMMU, SART or identity). */
  readonly hostAllocated: BufferStrategy;
  /** Mode B, when the path has one (DART: translation; identity: declared regions only). */
  readonly firmwareOwned: BufferStrategy | undefined;
  /** Mode C, when the placement has an SRAM window. */
  readonly sram: BufferStrategy | undefined;
  /** The DART stream's control, on a DART path. */
  readonly iommu: IommuControl | undefined;
}

/** m1n1's per-stream IOVA range for host allocations (§6.2). */
export const M1N1_IOVA_WINDOW: AddressWindow = { base: 0x8000_0000, size: 0x1000_0000 };

/**
 * Pick the strategies a host driver would use for `cp`, from its placement only (what a device
 * tree says), never from the firmware model's own buffer specs:
 *  - DART path: IOMMU mode A; firmware-owned IOVAs (mode B) are translated through the same
 *    stream, limited to the placement's firmware IOVA window when it names one.
 *  - SART path: SART mode A; mode B refused (as the NVMe clients do).
 *  - identity path: identity mode A; mode B only inside `firmwareRegions` (none by default, so
 *    `BUFFER_UNMAPPED`, ROBUSTNESS B24).
 *  - an SRAM window: every endpoint is served from SRAM (mode C), IOVA 0 refused, as ML's SMC
 *    client does; the path's mode A stays available as `hostAllocated`.
 * Which mode a request gets is decided by the request itself (IOVA 0 or not, §6).
 */
export function strategiesFor(
  soc: SimSoc,
  cp: SimCoprocessor,
  opts: SimStrategyOptions = {},
): SimStrategies {
  const memory = opts.memory ?? simHostMemory(soc);
  const place = cp.profile.placement;
  const common = {
    ...(opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {}),
  };
  const mask = opts.dramMask !== undefined ? { dramMask: opts.dramMask } : {};
  let hostAllocated: BufferStrategy;
  let firmwareOwned: BufferStrategy | undefined;
  let iommu: IommuControl | undefined;
  switch (place.memoryPath.kind) {
    case 'dart': {
      const stream = cp.dartStream ?? place.memoryPath.stream;
      iommu = simIommu(soc, stream);
      const win = place.firmwareIovaWindow;
      firmwareOwned = firmwareIovaStrategy({
        memory,
        iommu,
        ...(win ? { window: { base: win.base, size: win.size } } : {}),
        ...mask,
        ...common,
      });
      hostAllocated = iommuStrategy({
        memory,
        iommu,
        iovaWindow: opts.iovaWindow ?? M1N1_IOVA_WINDOW,
        firmwareOwned,
        ...mask,
        ...common,
      });
      break;
    }
    case 'sart':
      hostAllocated = sartStrategy({ memory, sart: simSart(soc), ...common });
      break;
    default:
      firmwareOwned = firmwareIovaStrategy({
        memory,
        iommu: identityIommu({ regions: opts.firmwareRegions ?? [] }),
        name: 'firmware-region',
        ...mask,
        ...common,
      });
      hostAllocated = identityStrategy({ memory, firmwareOwned, ...mask, ...common });
  }
  const sram = place.sram ? sramStrategy({ sram: simSram(soc, place.sram), ...common }) : undefined;
  return {
    default: sram ?? hostAllocated,
    byEndpoint: {},
    hostAllocated,
    firmwareOwned,
    sram,
    iommu,
  };
}

export interface SimSessionOptions
  extends Omit<SessionOptions, 'transport' | 'strategies' | 'cpu' | 'clock' | 'bufferManager'> {
  /** How buffers are served (default: `strategiesFor(soc, cp)`). */
  readonly strategyOptions?: SimStrategyOptions;
}

export interface SimSession {
  readonly session: RtkitSession;
  /** The register-level mailbox driver, in notification mode on the ASC's interrupt lines. */
  readonly transport: AscMailboxDriver;
  readonly strategies: SimStrategies;
}

/**
 * A host session on one simulated co-processor, wired as a driver would on a Mac: the
 * register-level mailbox over the SoC's MMIO, CPU control through the ASC, the buffer strategies
 * of its memory path, and the SoC's clock.
 */
export function simSession(
  soc: SimSoc,
  cp: SimCoprocessor,
  opts: SimSessionOptions = {},
): SimSession {
  const { strategyOptions, ...sessionOpts } = opts;
  const transport = new AscMailboxDriver({
    mmio: soc.mmio,
    base: cp.mailboxBase,
    clock: soc.clock,
    interrupts: cp.asc.interrupts,
  });
  const strategies = strategiesFor(soc, cp, strategyOptions);
  const session = new RtkitSession({
    coproc: cp.profile.coproc,
    name: cp.name,
    ...sessionOpts,
    transport,
    clock: soc.clock,
    strategies,
    cpu: { mmio: soc.mmio, ascBase: cp.ascBase },
  });
  return { session, transport, strategies };
}
