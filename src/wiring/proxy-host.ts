/**
 * The host library over the m1n1 proxy: find a co-processor in the Apple device tree, power it,
 * and run an unchanged `RtkitSession` on it with every register access and every shared-memory
 * byte crossing the link (M1N1-PROXY.md §9–§10).
 *
 *   RtkitSession ── AscMailboxDriver (polled) ── ProxyMmio ──┐
 *       │  CPU control ───────────────────────── ProxyMmio ──┼── ProxyClient ── ByteLink
 *       └─ buffers: SRAM window (mode C) / identity (mode A) ┘     (REQ_MEMREAD / REQ_MEMWRITE)
 *
 * What works without programming an IOMMU or SART over the link: co-processors whose buffers
 * live in their own SRAM (the SMC) and co-processors that reach DRAM with DVA = physical address
 * (m1n1's tooling without a DART). DART and SART programming over the link is not done yet.
 */

import { ErrorCode, isRtkitError, RtkitError } from '../errors.js';
import type { SessionOptions } from '../host/options.js';
import { RtkitSession } from '../host/session.js';
import {
  type AddressWindow,
  firmwareIovaStrategy,
  identityIommu,
  identityStrategy,
  sramStrategy,
} from '../host/shmem/index.js';
import type { BufferStrategy, HostMemory } from '../host/shmem/types.js';
import type { SramAccess } from '../host/types.js';
import { Adt } from '../m1n1/adt.js';
import type { ProxyClient } from '../m1n1/client.js';
import type { ProxyHeap } from '../m1n1/heap.js';
import { ProxyMmio } from '../m1n1/proxy-mmio.js';
import { readAscCpuStatus } from '../mailbox/asc-cpu.js';
import { AscMailboxDriver } from '../mailbox/asc-driver.js';
import { ASC_MAILBOX_OFFSET } from '../mailbox/registers.js';
import { coprocFromDevice } from '../protocol/coproc.js';

/** Where a co-processor is, as the device tree says. */
export interface ProxyCoprocessorInfo {
  readonly path: string;
  /** Node name (`smc`), also the co-processor profile when we know it. */
  readonly name: string;
  readonly compatible: readonly string[];
  /** ASC register block: `reg[0]` translated to a physical address. */
  readonly ascBase: number;
  /** The SRAM window (`reg[1]`) of co-processors that keep their buffers there (SMC). */
  readonly sram: AddressWindow | undefined;
}

const SRAM_COPROCS = new Set(['smc']);

function safeNumber(v: bigint, what: string, path: string): number {
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RtkitError(
      ErrorCode.ADT_INVALID,
      `${path}: ${what} 0x${v.toString(16)} is out of range`,
      {
        path,
      },
    );
  }
  return Number(v);
}

/** Read `path`'s registers from the device tree (`/arm-io/smc`). */
export function locateCoprocessor(adt: Adt, path: string): ProxyCoprocessorInfo {
  const node = adt.node(path);
  const regs = adt.reg(path);
  if (regs.length === 0) {
    throw new RtkitError(ErrorCode.ADT_NOT_FOUND, `${path} has no reg entries`, {
      path,
      property: 'reg',
    });
  }
  const asc = adt.regAddress(path, 0);
  let sram: AddressWindow | undefined;
  if (SRAM_COPROCS.has(node.name) && regs.length > 1) {
    const w = adt.regAddress(path, 1);
    sram = {
      base: safeNumber(w.addr, 'SRAM base', path),
      size: safeNumber(w.size, 'SRAM size', path),
    };
  }
  let compatible: string[] = [];
  try {
    compatible = adt.strings(path, 'compatible');
  } catch {
    // A node without `compatible` is still usable by path.
  }
  return {
    path,
    name: node.name,
    compatible,
    ascBase: safeNumber(asc.addr, 'ASC base', path),
    sram,
  };
}

/** Host DRAM through the link: allocations from the host-side heap, bytes by bulk transfer. */
export function proxyHostMemory(client: ProxyClient, heap: ProxyHeap): HostMemory {
  return {
    alloc: async (size, align) => {
      try {
        return Number(heap.alloc(size, align));
      } catch {
        return undefined;
      }
    },
    free: async (paddr) => heap.free(BigInt(paddr)),
    read: (paddr, len) => client.memRead(BigInt(paddr), len),
    write: (paddr, data) => client.memWrite(BigInt(paddr), data),
  };
}

/** A co-processor's SRAM window through the link, bounds-checked. */
export function proxySram(client: ProxyClient, window: AddressWindow): SramAccess {
  const check = (addr: number, len: number): void => {
    if (!(addr >= window.base && len >= 0 && addr + len <= window.base + window.size)) {
      throw new RtkitError(
        ErrorCode.BUFFER_OUT_OF_RANGE,
        `0x${addr.toString(16)}+${len} is outside the SRAM window 0x${window.base.toString(16)}+0x${window.size.toString(16)}`,
        { addr, len },
      );
    }
  };
  return {
    base: window.base,
    size: window.size,
    read: async (addr, len) => {
      check(addr, len);
      return client.memRead(BigInt(addr), len);
    },
    write: async (addr, data) => {
      check(addr, data.length);
      await client.memWrite(BigInt(addr), data);
    },
  };
}

/**
 * Buffer strategies over the link: the SRAM window serves every request of a co-processor that
 * has one (mode C); otherwise host buffers at DVA = physical address (identity, mode A), and
 * firmware-owned addresses are refused (no declared regions, ROBUSTNESS B24).
 */
export function proxyStrategies(
  client: ProxyClient,
  heap: ProxyHeap,
  info: ProxyCoprocessorInfo,
): { default: BufferStrategy; byEndpoint: Record<number, BufferStrategy> } {
  const memory = proxyHostMemory(client, heap);
  const firmwareOwned = firmwareIovaStrategy({
    memory,
    iommu: identityIommu({ regions: [] }),
    name: 'firmware-region',
  });
  const hostAllocated = identityStrategy({ memory, firmwareOwned });
  const sram = info.sram ? sramStrategy({ sram: proxySram(client, info.sram) }) : undefined;
  return { default: sram ?? hostAllocated, byEndpoint: {} };
}

export interface ProxyCoprocessorOptions
  extends Omit<SessionOptions, 'transport' | 'strategies' | 'cpu' | 'bufferManager'> {
  /** Device-tree path (`/arm-io/smc`). */
  readonly path: string;
  /** Power the device through PMGR before touching it (default true). */
  readonly power?: boolean;
  /** How often the mailbox is polled for messages from the co-processor (ms; default 1). */
  readonly pollIntervalMs?: number;
  /** A parsed device tree, to avoid fetching it again. */
  readonly adt?: Adt;
}

export interface ProxyCoprocessor {
  readonly info: ProxyCoprocessorInfo;
  readonly session: RtkitSession;
  readonly transport: AscMailboxDriver;
  /**
   * Boot, or wake when the co-processor's CPU already runs (iBoot started it, or an earlier
   * session left it asleep): a running RTKit sends no HELLO until it is woken (Linux's
   * `apple_rtkit_wake` path). A running co-processor that ignores the wake is restarted
   * (CPU reset, then boot).
   */
  start(): Promise<'boot' | 'wake' | 'restart'>;
  /** Close the session and stop polling (the link stays open). */
  close(): Promise<void>;
}

/** Locate, power and attach a session to a co-processor over the link (not booted yet). */
export async function openProxyCoprocessor(
  client: ProxyClient,
  opts: ProxyCoprocessorOptions,
): Promise<ProxyCoprocessor> {
  const { path, power = true, pollIntervalMs = 1, adt: given, ...sessionOpts } = opts;
  const adt = given ?? Adt.parse(await client.readAdtBytes());
  const info = locateCoprocessor(adt, path);
  if (power) await client.pmgrAdtPowerEnable(path);
  const heap = await client.heap();
  const mmio = new ProxyMmio(client);
  const transport = new AscMailboxDriver({
    mmio,
    base: info.ascBase + ASC_MAILBOX_OFFSET,
    pollIntervalMs,
    ...(sessionOpts.clock ? { clock: sessionOpts.clock } : {}),
  });
  const coproc = sessionOpts.coproc ?? coprocFromDevice(info.name);
  const session = new RtkitSession({
    ...sessionOpts,
    ...(coproc ? { coproc } : {}),
    name: sessionOpts.name ?? info.name,
    transport,
    strategies: proxyStrategies(client, heap, info),
    cpu: { mmio, ascBase: info.ascBase },
  });
  return {
    info,
    session,
    transport,
    start: async () => {
      const cpu = await readAscCpuStatus(mmio, info.ascBase);
      if (cpu.running) {
        try {
          await session.wake();
          return 'wake';
        } catch (e) {
          // Running but not asleep (a session that ended without shutdown): it ignores the
          // wake. Restart its CPU and boot from scratch, as after a crash.
          if (!isRtkitError(e, ErrorCode.TIMEOUT)) throw e;
          await session.resetCpu();
        }
      }
      await session.boot();
      return cpu.running ? 'restart' : 'boot';
    },
    close: () => session.close({ transport: true }),
  };
}
