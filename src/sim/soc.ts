/**
 * A simulated Apple SoC: physical memory with a DART and a SART, an MMIO bus, and any number of
 * RTKit co-processors, each with its ASC register block, its optional SRAM window and a firmware
 * model. The host side reaches everything through `soc.mmio` — the same `Mmio` contract the
 * m1n1 proxy implements — so host code cannot tell the simulator from a Mac.
 *
 *   host code ── Mmio ──► MmioBus ──► SimAsc (CPU_CONTROL, mailbox) ◄── IopPort ── RtkitFirmware
 *                            └──────► SramRegion                          │ DmaPort
 *   host buffers: PhysicalMemory + PageAllocator ◄── Dart / Sart / identity ◄┘
 *
 * Time is a VirtualClock and randomness a seeded generator, so one seed and the same host
 * inputs give a byte-identical trace (`traceLines()`).
 */

import { VirtualClock } from '../clock.js';
import type { MailboxVariant } from '../mailbox/registers.js';
import type { Mmio } from '../mailbox/types.js';
import { hex64 } from '../protocol/word.js';
import { formatTraceEntry, formatTraceHeader } from '../trace/jsonl.js';
import { asyncMmio, MmioBus } from './bus.js';
import type { FaultInjector, FaultSpec } from './faults.js';
import { RtkitFirmware } from './firmware/firmware.js';
import type { FirmwareMemory, FirmwareProfile, StrictOptions } from './firmware/types.js';
import { SimAsc } from './mailbox/asc.js';
import {
  Dart,
  FaultList,
  identityPort,
  PageAllocator,
  PhysicalMemory,
  Sart,
  SramRegion,
} from './memory/index.js';
import type { DmaPort } from './memory/types.js';
import { getProfile, type ProfileName } from './profiles/index.js';
import { createRng } from './rng.js';

export interface SocOptions {
  /** Seed of every random choice (firmware timing jitter, hostile faults). Default 1. */
  seed?: number;
  clock?: VirtualClock;
  /** Strict mode for every co-processor (default true): protocol violations are recorded. */
  strict?: boolean | StrictOptions;
  /** Host DRAM carve-out for buffers the host allocates (default 0x8_0000_0000, 256 MiB). */
  dram?: { base: number; size: number; maxLive?: number };
  /** Physical carve-out backing firmware-owned (mode B) IOVA windows. */
  firmwareRam?: { base: number; size: number };
  /** Record every mailbox message as a trace line (default true). */
  record?: boolean;
}

export interface CoprocessorOptions {
  profile: ProfileName | FirmwareProfile;
  /** Instance name (default: the profile name). */
  name?: string;
  faults?: FaultSpec | string | FaultInjector;
  strict?: boolean | StrictOptions;
  /** Mailbox variant (default asc-v4) and FIFO depth (default 16). */
  variant?: MailboxVariant;
  depth?: number;
  /** RECV1 bookkeeping bits (default plain zeros). */
  recv1?: 'plain' | 'realistic';
  /** Background traffic: syslog trickle, IOReport, OSLog counters (default true). */
  background?: boolean;
  /** Override the profile's ASC base (to place two instances of one profile). */
  ascBase?: number;
  /**
   * Override the profile's memory path. `identity`: device address = physical address, no DART or
   * SART in between, as m1n1's Python tooling runs co-processors without a DART (M1N1-PROXY.md
   * §10); firmware-owned (mode B) buffers then come from the firmware RAM carve-out at their
   * physical addresses.
   */
  memoryPath?: 'identity';
}

export class SimCoprocessor {
  constructor(
    readonly name: string,
    readonly profile: FirmwareProfile,
    readonly asc: SimAsc,
    readonly firmware: RtkitFirmware,
    readonly dma: DmaPort,
    readonly sram: SramRegion | undefined,
    readonly dartStream: number | undefined,
  ) {}

  get ascBase(): number {
    return this.asc.base;
  }

  get mailboxBase(): number {
    return this.asc.mailboxBase;
  }
}

const MAX_TRACE_LINES = 1_000_000;
const IDENTITY_PATH = { kind: 'identity' } as const;

export class SimSoc {
  readonly clock: VirtualClock;
  readonly bus = new MmioBus();
  /** The host's view: the Mmio contract over the bus. */
  readonly mmio: Mmio;
  readonly memory = new PhysicalMemory();
  readonly dart = new Dart();
  readonly sart = new Sart();
  /** Every DMA fault of every co-processor. */
  readonly faults = new FaultList({ cap: 4096 });
  /** Host DRAM for buffers the host allocates (modes A with DART or SART). */
  readonly dram: PageAllocator;
  readonly coprocessors = new Map<string, SimCoprocessor>();
  private readonly seed: number;
  private readonly strict: boolean | StrictOptions;
  private readonly record: boolean;
  private readonly firmwareRam: PageAllocator;
  private readonly lines: string[] = [];
  private droppedLines = 0;

  constructor(opts: SocOptions = {}) {
    this.clock = opts.clock ?? new VirtualClock();
    this.mmio = asyncMmio(this.bus);
    this.seed = opts.seed ?? 1;
    this.strict = opts.strict ?? true;
    this.record = opts.record ?? true;
    const dram = opts.dram ?? { base: 0x8_0000_0000, size: 256 << 20 };
    this.dram = new PageAllocator({
      base: dram.base,
      size: dram.size,
      ...(dram.maxLive !== undefined ? { maxLive: dram.maxLive } : {}),
    });
    const fw = opts.firmwareRam ?? { base: 0x9_0000_0000, size: 64 << 20 };
    this.firmwareRam = new PageAllocator({ base: fw.base, size: fw.size });
  }

  /** Add a co-processor; its firmware waits for the host to set CPU_CONTROL.RUN. */
  add(opts: CoprocessorOptions): SimCoprocessor {
    const profile = typeof opts.profile === 'string' ? getProfile(opts.profile) : opts.profile;
    const name = opts.name ?? profile.name;
    if (this.coprocessors.has(name)) throw new Error(`co-processor ${name} already exists`);
    const place = profile.placement;
    const asc = new SimAsc({
      base: opts.ascBase ?? place.ascBase,
      name,
      ...(opts.variant ? { variant: opts.variant } : {}),
      ...(opts.depth ? { depth: opts.depth } : {}),
      ...(opts.recv1 ? { recv1: opts.recv1 } : {}),
    });
    this.bus.map(asc.base, asc.size, asc, `${name}.asc`);

    let sram: SramRegion | undefined;
    if (place.sram) {
      sram = new SramRegion({ base: place.sram.base, size: place.sram.size });
      this.bus.map(sram.base, sram.size, sram, `${name}.sram`);
    }

    const portOpts = { clock: this.clock };
    let dma: DmaPort;
    let dartStream: number | undefined;
    const path = opts.memoryPath === 'identity' ? IDENTITY_PATH : place.memoryPath;
    switch (path.kind) {
      case 'dart':
        dartStream = path.stream;
        // Co-processors sharing a profile get their own stream (a DART stream per device).
        if (this.streamsInUse().has(dartStream)) dartStream = this.freeStream();
        dma = this.dart.port(dartStream, this.memory, this.faults, {
          ...portOpts,
          name: `${name}/dart`,
        });
        break;
      case 'sart':
        dma = this.sart.port(this.memory, this.faults, { ...portOpts, name: `${name}/sart` });
        break;
      default:
        dma = identityPort(this.memory, this.faults, { ...portOpts, name: `${name}/identity` });
    }

    let allocateIova: FirmwareMemory['allocateIova'];
    const win = place.firmwareIovaWindow;
    if (win && (dartStream !== undefined || opts.memoryPath === 'identity')) {
      // Mode B: the firmware's own memory, mapped in its DART stream as the bootloader would;
      // without a DART the firmware uses the carve-out at its physical addresses.
      const paddr = this.firmwareRam.alloc(win.size);
      if (paddr === undefined) throw new Error(`${name}: no firmware RAM for its IOVA window`);
      if (dartStream !== undefined) this.dart.map(dartStream, win.base, paddr, win.size, 'rw');
      const base = dartStream !== undefined ? win.base : paddr;
      let next = base;
      allocateIova = (_ep, bytes) => {
        const at = Math.ceil(next / 0x4000) * 0x4000;
        if (!(bytes > 0) || at + bytes > base + win.size) return undefined;
        next = at + Math.ceil(bytes / 0x4000) * 0x4000;
        return at;
      };
    }

    const memory: FirmwareMemory = {
      dma,
      ...(allocateIova ? { allocateIova } : {}),
      ...(sram
        ? {
            sram: {
              local: sram,
              dma: sram.port(this.faults, { name: `${name}/sram`, clock: this.clock }),
            },
          }
        : {}),
    };

    const firmware = new RtkitFirmware({
      name,
      port: asc,
      clock: this.clock,
      rng: createRng(this.seed * 7919 + this.coprocessors.size),
      profile,
      memory,
      strict: opts.strict ?? this.strict,
      ...(opts.faults !== undefined ? { faults: opts.faults } : {}),
      ...(opts.background !== undefined ? { background: opts.background } : {}),
    });

    if (this.record) {
      asc.onTraffic((dir, ep, msg) => {
        if (this.lines.length >= MAX_TRACE_LINES) {
          this.droppedLines++;
          return;
        }
        this.lines.push(
          formatTraceEntry({ t: this.clock.now() / 1000, dir, ep, msg, coproc: name }),
        );
      });
    }

    const cp = new SimCoprocessor(name, profile, asc, firmware, dma, sram, dartStream);
    this.coprocessors.set(name, cp);
    return cp;
  }

  get(name: string): SimCoprocessor {
    const cp = this.coprocessors.get(name);
    if (!cp) throw new Error(`no co-processor ${name}`);
    return cp;
  }

  /** The recorded session in our trace format (docs/trace-format.md), header first. */
  traceLines(): string[] {
    const header = formatTraceHeader({ source: `rtkit simulator, seed ${this.seed}` });
    return [header, ...this.lines];
  }

  /** Lines not recorded because the trace reached its cap. */
  get droppedTraceLines(): number {
    return this.droppedLines;
  }

  /** Every strict-mode violation of every co-processor, with its name. */
  violations(): { coproc: string; code: string; detail: string; time: number; msg?: string }[] {
    const out: { coproc: string; code: string; detail: string; time: number; msg?: string }[] = [];
    for (const cp of this.coprocessors.values()) {
      for (const v of cp.firmware.violations) {
        out.push({
          coproc: cp.name,
          code: v.code,
          detail: v.detail,
          time: v.time,
          ...(v.msg
            ? {
                msg: `${v.msg.ep}:${hex64(Number(v.msg.msg >> 32n), Number(v.msg.msg & 0xffff_ffffn))}`,
              }
            : {}),
        });
      }
    }
    return out;
  }

  private streamsInUse(): Set<number> {
    const s = new Set<number>();
    for (const cp of this.coprocessors.values())
      if (cp.dartStream !== undefined) s.add(cp.dartStream);
    return s;
  }

  private freeStream(): number {
    const used = this.streamsInUse();
    for (let i = 0; i < 16; i++) if (!used.has(i)) return i;
    throw new Error('no free DART stream');
  }
}
