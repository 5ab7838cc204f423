/**
 * A simulated Mac as m1n1 leaves it for its proxy: a `SimSoc` with the requested co-processors,
 * RAM laid out the way m1n1's host tooling expects (M1N1-PROXY.md §10–§11), iBoot's boot args,
 * an empty CPU-features block and an Apple device tree describing the co-processors. The proxy
 * server (`server.ts`) serves it over a byte link; this class holds the machine's state only.
 *
 *   0x8_0000_0000  RAM base (2 GiB, sparse)
 *   0x8_0000_1000  boot args (revision 2, 736 bytes)
 *   0x8_0000_2000  CPU-features block (20 zero bytes)
 *   0x8_0000_4000  m1n1 base (GET_BASE)
 *   0x8_0008_0000  ADT (at most 512 KiB, inside the first MiB)
 *   0x8_1000_0000  m1n1 heap top (HEAPBLOCK_ALLOC(0), = boot args top_of_kernel_data)
 *   0x8_1800_0000  host heap window, 1 GiB: the tooling's own heap (heap top + 128 MiB)
 *   0x8_6000_0000  SoC DRAM carve-out (256 MiB) and firmware RAM (64 MiB, mode-B buffers)
 *   0x8_8000_0000  end of RAM (below 2^44, so every buffer address fits a 44-bit field)
 *
 * Every co-processor reaches RAM with device address = physical address (`memoryPath:
 * 'identity'`), as m1n1's tooling runs them without programming a DART or SART (§10).
 */

import { ErrorCode, RtkitError } from '../../errors.js';
import { Adt, encodeAdt } from '../../m1n1/adt.js';
import { type BootArgs, encodeBootArgs } from '../../m1n1/boot-args.js';
import { PROFILE_NAMES, type ProfileName } from '../profiles/index.js';
import { type SimCoprocessor, SimSoc } from '../soc.js';
import { type AdtCoprocessor, buildSocAdt } from './adt-image.js';
import { ProxyMemoryMap } from './memory-map.js';

export interface SimulatedMacOptions {
  /** Co-processors, each at its profile's real address, e.g. `['smc']` or `['smc', 'generic']`. */
  readonly profiles: readonly ProfileName[];
  /** Seed of every random choice in the SoC (default 1). */
  readonly seed?: number;
  /** Fault spec per co-processor name (the grammar of docs/sim-firmware.md). */
  readonly faults?: Readonly<Record<string, string>>;
  /** GET_CHIPID and the ADT's chip id (default 0x8103, M1). */
  readonly chipId?: number;
  /** Longest bulk transfer served (default 64 MiB, `DEFAULT_MAX_BULK`). */
  readonly maxBulk?: number;
}

export interface MacLayout {
  readonly ramBase: bigint;
  readonly ramSize: bigint;
  readonly m1n1Base: bigint;
  readonly bootArgs: bigint;
  readonly cpuFeatures: bigint;
  readonly adt: bigint;
  readonly adtSize: number;
  /** m1n1's heap top at boot (HEAPBLOCK_ALLOC(0) before anything was allocated). */
  readonly heapTop: bigint;
  /** Where m1n1's tooling puts its own heap: `heapTop` + 128 MiB, 1 GiB. */
  readonly hostHeap: { readonly base: bigint; readonly size: bigint };
}

const MiB = 1n << 20n;
const RAM_BASE = 0x8_0000_0000n;

/** The fixed part of the memory map (docs/m1n1-server.md). `adtSize` depends on the tree. */
export const MAC_MEMORY = {
  ramBase: RAM_BASE,
  ramSize: 2048n * MiB,
  bootArgs: RAM_BASE + 0x1000n,
  cpuFeatures: RAM_BASE + 0x2000n,
  m1n1Base: RAM_BASE + 0x4000n,
  adt: RAM_BASE + 0x8_0000n,
  /** The ADT must end inside the first MiB of RAM. */
  adtMaxSize: 0x8_0000,
  heapTop: RAM_BASE + 0x1000_0000n,
  /** m1n1's tooling leaves this much above the heap top to m1n1 (proxyutils.py). */
  m1n1HeapReserve: 128n * MiB,
  hostHeapSize: 1024n * MiB,
  /** The SoC's own carve-outs (host-library buffers, firmware-owned windows), clear of the above. */
  socDram: { base: 0x8_6000_0000, size: 256 * 2 ** 20 },
  firmwareRam: { base: 0x8_7000_0000, size: 64 * 2 ** 20 },
} as const;

/** Boot-args revision served: the tooling reads revisions 0–3 (736-byte structure). */
export const MAC_BOOT_ARGS_REVISION = 2;
/** iBoot's kernel virtual base [inferred: any value works, the host only subtracts it]. */
const VIRT_BASE = 0xffff_fe00_0000_0000n;
/** m1n1's heapblock_alloc aligns every block to 64 bytes (src/heapblock.c). */
const HEAP_ALIGN = 64n;

/**
 * ADT node data per profile. The node name is the co-processor name. `iop,ascwrap-v4` is the
 * compatible of the ASC wrappers of M1-era ADTs (m1n1 `src/asc.c`); the power-domain names are
 * [invented] in the PMGR naming style.
 */
const ADT_INFO: Readonly<Record<ProfileName, { compatible: string[]; powerDomain: string }>> = {
  smc: { compatible: ['iop,ascwrap-v4'], powerDomain: 'SMC_FABRIC' },
  ans: { compatible: ['iop,ascwrap-v4'], powerDomain: 'ANS2' },
  dcp: { compatible: ['iop,ascwrap-v4'], powerDomain: 'DISP0_CPU0' },
  mtp: { compatible: ['iop,ascwrap-v4'], powerDomain: 'MTP_CPU' },
  generic: { compatible: ['iop,ascwrap-v4'], powerDomain: 'IOP_GENERIC' },
};

function bad(message: string, details: Record<string, unknown> = {}): RtkitError {
  return new RtkitError(ErrorCode.BAD_INPUT, `SimulatedMac: ${message}`, details);
}

export class SimulatedMac {
  readonly soc: SimSoc;
  readonly layout: MacLayout;
  readonly adtBytes: Uint8Array;
  /** The served ADT, parsed (PMGR_ADT_POWER_* look paths up in it). */
  readonly adt: Adt;
  readonly bootArgs: BootArgs;
  readonly chipId: number;
  /** RAM, SRAM windows and device registers as m1n1 reaches them. */
  readonly memory: ProxyMemoryMap;
  private heapPointer: bigint;

  constructor(opts: SimulatedMacOptions) {
    const chipId = opts.chipId ?? 0x8103;
    if (!Number.isInteger(chipId) || chipId < 0 || chipId > 0xffff_ffff) {
      throw bad(`chip id ${chipId} is not a u32`, { chipId });
    }
    this.chipId = chipId;
    if (opts.profiles.length === 0) throw bad('at least one profile is needed');
    for (const p of opts.profiles) {
      if (!(PROFILE_NAMES as readonly string[]).includes(p)) {
        throw bad(`unknown profile ${JSON.stringify(p)}`, { profile: p });
      }
    }
    if (new Set(opts.profiles).size !== opts.profiles.length) {
      // Two instances of a profile would need a second ASC address nobody documents.
      throw bad('a profile is listed twice', { profiles: opts.profiles });
    }
    const faults = opts.faults ?? {};
    for (const name of Object.keys(faults)) {
      if (!(opts.profiles as readonly string[]).includes(name)) {
        throw bad(`faults name ${JSON.stringify(name)}, which is not a co-processor here`, {
          name,
        });
      }
    }

    this.soc = new SimSoc({
      seed: opts.seed ?? 1,
      dram: MAC_MEMORY.socDram,
      firmwareRam: MAC_MEMORY.firmwareRam,
    });
    const cps: SimCoprocessor[] = opts.profiles.map((profile) => {
      const spec = faults[profile];
      return this.soc.add({
        profile,
        memoryPath: 'identity',
        ...(spec !== undefined ? { faults: spec } : {}),
      });
    });

    const adtCoprocessors: AdtCoprocessor[] = cps.map((cp) => {
      const info = ADT_INFO[cp.profile.name as ProfileName];
      return {
        name: cp.name,
        compatible: info.compatible,
        ascBase: cp.ascBase,
        ascSize: cp.asc.size,
        ...(cp.sram ? { sram: { base: cp.sram.base, size: cp.sram.size } } : {}),
        powerDomain: info.powerDomain,
      };
    });
    this.adtBytes = encodeAdt(
      buildSocAdt({
        chipId,
        ...(chipId === 0x8103 ? { target: 'J274AP' } : {}),
        coprocessors: adtCoprocessors,
      }),
    );
    if (this.adtBytes.length > MAC_MEMORY.adtMaxSize) {
      throw bad(`the ADT is ${this.adtBytes.length} bytes, more than fits the first MiB`);
    }
    this.adt = Adt.parse(this.adtBytes);

    const heapTop = MAC_MEMORY.heapTop;
    this.layout = {
      ramBase: MAC_MEMORY.ramBase,
      ramSize: MAC_MEMORY.ramSize,
      m1n1Base: MAC_MEMORY.m1n1Base,
      bootArgs: MAC_MEMORY.bootArgs,
      cpuFeatures: MAC_MEMORY.cpuFeatures,
      adt: MAC_MEMORY.adt,
      adtSize: this.adtBytes.length,
      heapTop,
      hostHeap: {
        base: heapTop + MAC_MEMORY.m1n1HeapReserve,
        size: MAC_MEMORY.hostHeapSize,
      },
    };
    this.heapPointer = heapTop;

    this.bootArgs = {
      revision: MAC_BOOT_ARGS_REVISION,
      version: MAC_BOOT_ARGS_REVISION,
      virtBase: VIRT_BASE,
      physBase: MAC_MEMORY.ramBase,
      memSize: MAC_MEMORY.ramSize,
      // m1n1 starts its heap here (heapblock_init), so the tooling's fallback agrees with us.
      topOfKernelData: heapTop,
      // No framebuffer: the tooling only reads video.base.
      video: { base: 0n, display: 0n, stride: 0n, width: 0n, height: 0n, depth: 0n },
      machineType: 0,
      devtree: VIRT_BASE + (MAC_MEMORY.adt - MAC_MEMORY.ramBase),
      devtreeSize: this.adtBytes.length,
      cmdline: '',
      bootFlags: 0n,
      memSizeActual: MAC_MEMORY.ramSize,
    };

    this.memory = new ProxyMemoryMap({
      memory: this.soc.memory,
      ram: { base: Number(MAC_MEMORY.ramBase), size: Number(MAC_MEMORY.ramSize) },
      bus: this.soc.bus,
      srams: cps.flatMap((cp) => (cp.sram ? [{ name: `${cp.name}.sram`, region: cp.sram }] : [])),
      ...(opts.maxBulk !== undefined ? { maxBulk: opts.maxBulk } : {}),
    });
    this.soc.memory.write(Number(MAC_MEMORY.bootArgs), encodeBootArgs(this.bootArgs));
    // The CPU-features block is 20 zero bytes: untouched RAM already reads as zeros.
    this.soc.memory.write(Number(MAC_MEMORY.adt), this.adtBytes);
  }

  /** The co-processors, in the order of `profiles`. */
  get coprocessors(): SimCoprocessor[] {
    return [...this.soc.coprocessors.values()];
  }

  /**
   * HEAPBLOCK_ALLOC (m1n1 `heapblock_alloc`): a 64-byte aligned block from the bump heap; 0 bytes
   * returns the current top. m1n1 has no limit; ours keeps the heap below the host heap window
   * (heap top + 128 MiB) and answers 0 beyond it, so m1n1 never hands out the tooling's memory.
   */
  heapAlloc(size: bigint): bigint {
    const block = (this.heapPointer + HEAP_ALIGN - 1n) & ~(HEAP_ALIGN - 1n);
    if (size < 0n || block + size > this.layout.hostHeap.base) return 0n;
    this.heapPointer = block + size;
    return block;
  }
}
