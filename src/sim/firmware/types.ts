/**
 * Types of the RTKit firmware model: what a profile says about one real co-processor, what the
 * SoC hands the firmware (mailbox port, clock, randomness, memory), and what tests read back
 * (violations, crashes, the mailbox history). Behaviour: `firmware.ts`; docs/sim-firmware.md.
 */

import type { Clock } from '../../clock.js';
import type { CrashlogInput } from '../../crashlog/index.js';
import type { MailboxMessage } from '../../mailbox/types.js';
import type { Direction } from '../../protocol/index.js';
import type { FaultInjector, FaultSpec } from '../faults.js';
import type { IopPort } from '../mailbox/iop-port.js';
import type { DmaPort } from '../memory/types.js';
import type { AppEndpoint, LocalMemory, Rng } from './app.js';

// ---------------------------------------------------------------------------------------------
// Memory

/** A device-address window `[base, base + size)`. */
export interface AddressWindow {
  readonly base: number;
  readonly size: number;
}

/**
 * Where a system endpoint's buffer lives (PROTOCOL.md §6):
 *  - `host`: mode A. The request carries IOVA 0; the host allocates and replies with the device
 *    address; the firmware uses it through `FirmwareMemory.dma`.
 *  - `firmware`: mode B. The firmware owns the memory: the request carries an IOVA from
 *    `FirmwareMemory.allocateIova` (the SoC pre-maps it); the host maps it and sends no reply.
 *  - `sram`: mode C. The request carries an address inside the co-processor's SRAM
 *    (`FirmwareMemory.sram`); no reply.
 */
export type BufferMode = 'host' | 'firmware' | 'sram';

export interface BufferSpec {
  readonly mode: BufferMode;
  /** Bytes the firmware asks for. EP 1/2/4 requests carry whole 4 KiB pages (rounded up). */
  readonly bytes: number;
}

/** The system endpoints that ask for buffers: crashlog, syslog, ioreporting, oslog. */
export type BufferEndpoint = 1 | 2 | 4 | 8;

/** What the SoC gives the firmware to reach memory. */
export interface FirmwareMemory {
  /**
   * Host-provided buffers (mode A) and firmware-owned IOVAs (mode B): the co-processor's view
   * of memory through its DART, SART or an identity path.
   */
  readonly dma: DmaPort;
  /**
   * Mode B: a firmware-owned range of `bytes` for endpoint `ep`, already mapped by the SoC;
   * `undefined` when none is left. Without it the firmware allocates from the profile's
   * `placement.firmwareIovaWindow` (which the SoC must then map as a whole).
   */
  readonly allocateIova?: (ep: number, bytes: number) => number | undefined;
  /**
   * Mode C: the co-processor's SRAM. `dma` addresses SRAM by device address (`local.base`
   * upwards); without it the firmware accesses `local.bytes` directly, bounds-checked.
   */
  readonly sram?: { readonly local: LocalMemory; readonly dma?: DmaPort };
}

// ---------------------------------------------------------------------------------------------
// Profiles

/** One syslog line as the firmware would log it (`file:line` context, message text). */
export interface SyslogLine {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

export interface SyslogProfile {
  /** INIT entry count (kept < 256 so the ML and m1n1 field layouts agree, §5.2). */
  readonly entryCount: number;
  /** INIT message size in bytes (DCP: 0x80, observed through truncation at 127 characters). */
  readonly messageSize: number;
  /** Highest index used before wrapping to 0 (DCP: 0x3e [observed]); default entryCount − 1. */
  readonly wrapAfter?: number;
  /** Send INIT before the buffer request (default false: request first, §12 row 19). */
  readonly initFirst?: boolean;
  /** Lines logged once, when AP power first goes ON after a handshake. */
  readonly bootLines?: readonly SyslogLine[];
  /** The steady trickle: lines picked at random (seeded) while AP power is ON. */
  readonly lines: readonly SyslogLine[];
  /** Virtual ms between trickle lines, uniform in `[min, max]`. */
  readonly intervalMs: readonly [number, number];
}

export interface IOReportProfile {
  /** Virtual ms between type-8 reports after the initial type 0xc. */
  readonly intervalMs: number;
}

export interface OSLogProfile {
  /** Raw IOP→AP words sent once the OSLog buffer is set up (MTP's unknown types 3/4/5). */
  readonly bootMessages?: readonly bigint[];
  /** Virtual ms between type-2 write-counter messages while AP power is ON; 0 = none. */
  readonly counterIntervalMs: number;
}

export interface KdebugProfile {
  /** COUNT of the GETBUF sent after an AP START (m1n1 allocates COUNT × 0x20 bytes). */
  readonly entryCount: number;
}

/** What goes into a crash dump besides the live state. */
export interface CrashProfile {
  /** `Cver` text, e.g. `RTKit: RTKit-2413.41.1.release - Client: local-t600xdcp.release`. */
  readonly versionString: string;
  /** Panic role as macOS prints it (`DCP`, `SMC`, `ANS`, ...). */
  readonly role: string;
  /** RTKit task names for `Crtk`; the first is the faulting task unless a crash names one. */
  readonly tasks: readonly string[];
  /** Base of the firmware text, for plausible PC/LR/return addresses. */
  readonly textBase: number;
}

/** Data the SoC needs to place the co-processor. */
export interface ProfilePlacement {
  /** SoC the addresses come from (`t8103`, `t6000`, `t6020`). */
  readonly soc: string;
  /** Device name as Linux prints it (`231c00000.dcp`). */
  readonly deviceName: string;
  /** ASC register block base (CPU_CONTROL at +0x44, mailbox at +0x8000). */
  readonly ascBase: number;
  /** The co-processor's SRAM window, when it has one the host can see. */
  readonly sram?: AddressWindow;
  /** How the co-processor reaches DRAM. */
  readonly memoryPath:
    | { readonly kind: 'dart'; readonly stream: number }
    | { readonly kind: 'sart' }
    | { readonly kind: 'identity' };
  /** IOVA window for firmware-owned (mode B) buffers, pre-mapped by the SoC. */
  readonly firmwareIovaWindow?: AddressWindow;
  /** Other device nodes worth knowing (NVMe controller, SART), name → base. */
  readonly related?: Readonly<Record<string, number>>;
}

/** The negotiated protocol, passed to version-dependent parts of a profile. */
export interface ProtocolContext {
  readonly version: number;
  /** v10 minor version (HoolockLinux's reading of the HELLO MINVER), else undefined. */
  readonly minor: number | undefined;
}

export interface FirmwareTiming {
  /** From RUN 0→1 (or a wake from SLEEP/QUIESCED) to HELLO. */
  readonly helloDelayMs: number;
  /** From an endpoint's STARTEP to its buffer request / syslog INIT. */
  readonly bufferRequestDelayMs: number;
  /** From the reply to the LAST EPMAP block to the unsolicited IOP ack (F4: "right after"). */
  readonly iopAckDelayMs: number;
  /** IOReport type-4 echo delay (observed 2–3 ms on an M2 DCP under macOS). */
  readonly ioreportEchoDelayMs: number;
  /** Strict mode: how long an echo (syslog LOG, IOReport 8/0xc, OSLog 2) may take. */
  readonly echoTimeoutMs: number;
}

export interface FirmwareProfile {
  /** Short name (`generic`, `smc`, `ans`, `dcp`, `mtp`). */
  readonly name: string;
  /** Co-processor name for decode contexts (`DecodeContext.coproc`). */
  readonly coproc: string;
  /** Which real co-processor this models, in one sentence. */
  readonly description: string;
  /** Where the modelled facts come from. */
  readonly sources: readonly string[];
  /**
   * HELLO range. When `max` is 10, `min` is the v10 minor version (HoolockLinux: the HELLO of a
   * v10 firmware carries its minor in MINVER).
   */
  readonly versions: { readonly min: number; readonly max: number };
  /** The endpoint map (EPMAP), for the negotiated protocol. App models' endpoints are added. */
  readonly endpoints: readonly number[] | ((ctx: ProtocolContext) => readonly number[]);
  /** Application endpoint models, created for each handshake. */
  readonly apps?: (ctx: ProtocolContext) => readonly AppEndpoint[];
  /** Buffer requests of the system endpoints. An endpoint without an entry asks for none. */
  readonly buffers: Readonly<Partial<Record<BufferEndpoint, BufferSpec>>>;
  readonly syslog?: SyslogProfile;
  /** Send IOReport 0xc and then type-8 reports after AP ON, each expecting its echo. */
  readonly ioreport?: IOReportProfile;
  readonly oslog?: OSLogProfile;
  readonly kdebug?: KdebugProfile;
  /**
   * F4's optional switch: the IOP ack 0x20 that ends boot is held back until these endpoints
   * are started and these buffers served (macOS 13 NVMe firmware: crashlog and ioreport).
   */
  readonly bootRequires?: {
    readonly started?: readonly number[];
    readonly buffers?: readonly BufferEndpoint[];
  };
  /** v10.0/10.1 (F9): ack a QUIESCED request with OFF (default true for those minors). */
  readonly v10QuiescedAckOff?: boolean;
  /** PING echo: real hardware echoes [31:0] only; QEMU also [47:32] (§3.6). */
  readonly ping?: 'real' | 'qemu';
  readonly crash: CrashProfile;
  readonly placement: ProfilePlacement;
  readonly timing?: Partial<FirmwareTiming>;
  /** Mailbox history entries kept for `Cmbx` (default 128). */
  readonly historyDepth?: number;
}

// ---------------------------------------------------------------------------------------------
// Strict mode

/** Violation codes the firmware records (apps may record their own strings too). */
export const Violation = {
  /** A HELLO_ACK outside the HELLO phase (QEMU asserts; B38). */
  UNEXPECTED_HELLO_ACK: 'UNEXPECTED_HELLO_ACK',
  /** An EPMAP_REPLY with no EPMAP block outstanding (B38). */
  UNEXPECTED_EPMAP_REPLY: 'UNEXPECTED_EPMAP_REPLY',
  /** An EPMAP_REPLY whose BASE or LAST/MORE does not match the block it answers. */
  BAD_EPMAP_REPLY: 'BAD_EPMAP_REPLY',
  /** HELLO_ACK with MINVER ≠ MAXVER or outside the HELLO range (F3), or the NAK form. */
  BAD_VERSION: 'BAD_VERSION',
  /** No echo within the echo timeout (syslog LOG, IOReport 8/0xc, OSLog 2). */
  MISSING_ECHO: 'MISSING_ECHO',
  /** An echo that differs from the outstanding message. */
  WRONG_ECHO: 'WRONG_ECHO',
  /** An echo-type message when nothing is outstanding. */
  UNEXPECTED_ECHO: 'UNEXPECTED_ECHO',
  /** A message to an endpoint that is discovered but not started (or stopped). */
  MESSAGE_TO_STOPPED_ENDPOINT: 'MESSAGE_TO_STOPPED_ENDPOINT',
  /** A message or STARTEP for an endpoint not in the EPMAP (F6). */
  UNDISCOVERED_ENDPOINT: 'UNDISCOVERED_ENDPOINT',
  /** A buffer reply with too few pages (F8 allows more), IOVA 0, or a changed address. */
  BUFFER_REPLY_INVALID: 'BUFFER_REPLY_INVALID',
  /** A buffer reply when none is expected (mode B/C request, or no request outstanding). */
  UNEXPECTED_BUFFER_REPLY: 'UNEXPECTED_BUFFER_REPLY',
  /** A DmaPort access failed, or a replied buffer is not accessible. */
  DMA_FAULT: 'DMA_FAULT',
  /** Power or lifecycle order broken: IOP down while AP ON, traffic while asleep, ... */
  POWER_SEQUENCE: 'POWER_SEQUENCE',
  /** A power state value not in §4.1. */
  UNKNOWN_POWER_STATE: 'UNKNOWN_POWER_STATE',
  /** A message before the handshake allows it (e.g. STARTEP before the EPMAP is done). */
  OUT_OF_ORDER: 'OUT_OF_ORDER',
  /** An unknown type, or a known type in the wrong direction (F10). */
  UNKNOWN_MESSAGE: 'UNKNOWN_MESSAGE',
  /** An application endpoint model threw; the firmware carried on. */
  APP_ERROR: 'APP_ERROR',
} as const;
export type ViolationCode = (typeof Violation)[keyof typeof Violation];

export interface ViolationRecord {
  /** Virtual time (ms). */
  readonly time: number;
  /** A {@link Violation} code, or an application model's own code. */
  readonly code: string;
  readonly detail: string;
  /** The AP→IOP message concerned, when there is one. */
  readonly msg?: MailboxMessage;
}

export interface StrictOptions {
  /** Echo timeout (default: the profile's timing, 1000 ms). */
  readonly echoTimeoutMs?: number;
  /** Record OSLog type-2 counters that are never echoed (HF's behaviour; default true). */
  readonly requireOslogEcho?: boolean;
  /** Crash the co-processor when one of these is recorded (`'all'`: any). */
  readonly crashOn?: 'all' | readonly string[];
}

// ---------------------------------------------------------------------------------------------
// History and crashes

/** One message in the firmware's mailbox history (what `Cmbx` dumps). */
export interface HistoryEntry {
  /** Virtual time (ms) of the dequeue / successful enqueue. */
  readonly time: number;
  readonly dir: Direction;
  readonly ep: number;
  readonly msg: bigint;
  /** IOP timebase (24 MHz ticks [inferred]); bit 0 = direction, odd = AP→IOP (§7.4). */
  readonly timestamp: bigint;
}

export type CrashKind = 'panic' | 'abort' | 'serror';

export type CrashCause =
  | 'api'
  | 'fault-injection'
  | 'host-trigger'
  | 'strict-violation'
  | 'application';

export interface CrashRecord {
  readonly time: number;
  readonly reason: string;
  readonly kind: CrashKind;
  readonly cause: CrashCause;
  /** The sections as built (after trimming to the buffer). */
  readonly input: CrashlogInput;
  /**
   * The crashlog composed for the buffer (never longer than it; empty without a buffer).
   * `written` says whether the DmaPort accepted it.
   */
  readonly bytes: Uint8Array;
  /** The crashlog buffer, when one was set up. */
  readonly buffer?: { readonly addr: number; readonly bytes: number; readonly mode: BufferMode };
  /** The bytes reached the buffer (false: no buffer, or the DmaPort refused). */
  readonly written: boolean;
  /** The EP1 notification was queued. */
  readonly notified: boolean;
  /** The history entries in `Cmbx`, oldest first (the tail of `history` at the crash). */
  readonly history: readonly HistoryEntry[];
}

// ---------------------------------------------------------------------------------------------
// Options

export interface FirmwareOptions {
  /** Co-processor instance name for logs and traces (`smc`, `dcp0`). */
  readonly name: string;
  readonly port: IopPort;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly profile: FirmwareProfile;
  readonly memory: FirmwareMemory;
  /** Record protocol violations (B38). `true` = defaults. */
  readonly strict?: boolean | StrictOptions;
  /** Fault injection: a spec, its compact string form, or a prepared injector. */
  readonly faults?: FaultSpec | string | FaultInjector;
  /** Application endpoint models replacing the profile's. */
  readonly apps?: readonly AppEndpoint[] | ((ctx: ProtocolContext) => readonly AppEndpoint[]);
  /** Background traffic (syslog trickle, IOReport, OSLog counters). Default true. */
  readonly background?: boolean;
  /** Treat m1n1's EP1 values 0x40/0x22 as "crash now" (§5.1). Default true. */
  readonly crashTriggers?: boolean;
  /** Overrides of the profile's timing. */
  readonly timing?: Partial<FirmwareTiming>;
  /** Keep at most this many entries in `trace` (default 10 000; 0 = none). */
  readonly traceLimit?: number;
}

/** One message on the wire as the firmware saw it, for tests and the viewer. */
export interface TraceEntry {
  readonly time: number;
  readonly dir: Direction;
  readonly ep: number;
  readonly msg: bigint;
}

export type IopPowerPhase = 'halted' | 'booting' | 'on' | 'idle' | 'quiesced' | 'sleep' | 'off';

/** A snapshot of the firmware's state. */
export interface FirmwareState {
  readonly cpu: 'halted' | 'running' | 'crashed';
  /** Where the management handshake is. */
  readonly handshake: 'none' | 'hello' | 'epmap' | 'done';
  readonly iop: IopPowerPhase;
  /** Last IOP state acked (undefined before the first ack of a CPU run). */
  readonly iopState: number | undefined;
  /** Last AP state set by the host (undefined before the first). */
  readonly apState: number | undefined;
  readonly version: number | undefined;
  readonly minor: number | undefined;
  readonly endpoints: readonly number[];
  readonly started: readonly number[];
  readonly buffers: readonly {
    readonly ep: number;
    readonly mode: BufferMode;
    readonly status: 'requested' | 'ready' | 'rejected';
    readonly addr: number;
    readonly bytes: number;
  }[];
  /** Messages waiting for I2A FIFO space. */
  readonly backlog: number;
  /** Syslog LOG waiting for its echo, if any. */
  readonly syslogOutstanding: bigint | undefined;
  /** Device addresses the AP gave for KDebug buffers (§5.3), in arrival order. */
  readonly kdebugBuffers: readonly number[];
}

export type { AppEndpoint, LocalMemory, Rng };
