/**
 * The RTKit firmware model: a simulated co-processor that behaves like Apple's RTKit firmware
 * as the host sees it through the mailbox (PROTOCOL.md §3–§8), so that host code can be tested
 * without a Mac. It follows the rules of §4.6 (F1–F10) so that every host ordering of §4.2–§4.5
 * works, and records host protocol violations in strict mode without ever aborting (B38).
 *
 *   IopPort (mailbox FIFOs, RUN)      Clock (all delays)      Rng (all randomness)
 *            │                               │
 *   ┌────────▼───────────────────────────────▼──────────────────────────────┐
 *   │ runner: one job at a time (host callbacks, timers, API calls queue)   │
 *   │  inbound ─► faults ─► management │ system EPs 1 2 3 4 8 │ app EPs ─┐ │
 *   │  outbound ◄─ faults ◄─ send() ◄──────────────────────────────────────┘ │
 *   │  backlog: retried on onOutboundSpace                                   │
 *   └───────────────┬───────────────────────────────────────────────────────┘
 *                   │ DmaPort (host buffers, firmware IOVAs) / SRAM
 *
 * Everything is event driven and deterministic: the same seed and the same host inputs give
 * the same messages at the same virtual times.
 */

import type { Clock, TimerHandle } from '../../clock.js';
import type { MailboxMessage } from '../../mailbox/types.js';
import {
  type DecodeContext,
  decode,
  Endpoint,
  encode,
  firstAppEndpoint,
  type Message,
  PowerState,
} from '../../protocol/index.js';
import { writeSyslogEntry } from '../../syslog/index.js';
import { type BootStep, type FaultInjector, toFaultInjector } from '../faults.js';
import type { DmaPort } from '../memory/types.js';
import { createRng } from '../rng.js';
import type { AppEndpoint, FirmwareServices, Rng } from './app.js';
import { composeCrashlog } from './crash.js';
import { MailboxHistory } from './history.js';
import { createIovaAllocator, localMemoryPort } from './memory.js';
import {
  type BufferEndpoint,
  type BufferMode,
  type CrashCause,
  type CrashKind,
  type CrashRecord,
  type FirmwareMemory,
  type FirmwareOptions,
  type FirmwareProfile,
  type FirmwareState,
  type FirmwareTiming,
  type HistoryEntry,
  type IopPowerPhase,
  type ProtocolContext,
  type StrictOptions,
  type SyslogLine,
  type TraceEntry,
  Violation,
  type ViolationRecord,
} from './types.js';

export const DEFAULT_TIMING: FirmwareTiming = {
  helloDelayMs: 1,
  bufferRequestDelayMs: 0.1,
  iopAckDelayMs: 0,
  ioreportEchoDelayMs: 2.5,
  echoTimeoutMs: 1000,
};

const PAGE = 0x1000;
/** Largest IOVA a buffer message can carry: 44 bits (§6.1, §12 row 4). */
const IOVA_LIMIT = 2 ** 44;
/** OSLog SIZE is 20 bits of bytes (§5.5). */
const OSLOG_SIZE_MAX = 2 ** 20 - 1;
/** Syslog lines waiting for the ring (the firmware's own buffer would overwrite the oldest). */
const SYSLOG_QUEUE_MAX = 64;

const BUFFER_REQUEST_KIND = {
  1: 'crashlogBufferRequest',
  2: 'syslogBufferRequest',
  4: 'ioreportBufferRequest',
} as const;

/** Power states of §4.1 (value → the phase a SET_IOP to it leads to). */
const POWER_DOWN: ReadonlyMap<number, IopPowerPhase> = new Map([
  [PowerState.Idle, 'idle'],
  [PowerState.Quiesced, 'quiesced'],
  [PowerState.Sleep, 'sleep'],
  [PowerState.Off, 'off'],
  // QEMU's "OFF" [single source: QEMU]; no Linux host sends it. Treated as SLEEP (restartable
  // with a new handshake) [uncertain].
  [PowerState.QemuOff, 'sleep'],
]);
const KNOWN_POWER_STATES: ReadonlySet<number> = new Set(Object.values(PowerState));

interface BufferState {
  readonly ep: BufferEndpoint;
  readonly mode: BufferMode;
  /** Pages asked for (EP 1/2/4) or bytes (EP 8). */
  readonly requested: number;
  /** Usable bytes: what was requested. */
  readonly bytes: number;
  readonly dma: DmaPort;
  status: 'requested' | 'ready' | 'rejected';
  addr: number;
  /** SIZE for the crash notification: the replied count (mode A), else the requested one. */
  notifySize: number;
  pendingReplies: number;
}

interface SyslogState {
  geometry: { entryCount: number; messageSize: number } | undefined;
  wrapAfter: number;
  initSent: boolean;
  next: number;
  outstanding: bigint | undefined;
  /** The outstanding LOG came from the index fault: do not advance on its echo. */
  outstandingIsFault: boolean;
  echoTimer: TimerHandle | undefined;
  queue: SyslogLine[];
  trickle: TimerHandle | undefined;
  bootLinesQueued: boolean;
  disabled: boolean;
  firstLogSent: boolean;
  /** Regular (not fault-injected) LOGs posted this session. */
  regularSent: number;
  /** The buffer request and INIT that follow STARTEP 2 have been sent. */
  setupSent: boolean;
}

interface EchoState {
  started: boolean;
  outstanding: bigint | undefined;
  timer: TimerHandle | undefined;
  echoTimer: TimerHandle | undefined;
  seq: number;
}

interface OSLogState {
  bootSent: boolean;
  counter: number;
  timer: TimerHandle | undefined;
  outstanding: Map<bigint, TimerHandle | undefined>;
}

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

function newSyslog(): SyslogState {
  return {
    geometry: undefined,
    wrapAfter: 0,
    initSent: false,
    next: 0,
    outstanding: undefined,
    outstandingIsFault: false,
    echoTimer: undefined,
    queue: [],
    trickle: undefined,
    bootLinesQueued: false,
    disabled: false,
    firstLogSent: false,
    regularSent: 0,
    setupSent: false,
  };
}

function newEcho(): EchoState {
  return { started: false, outstanding: undefined, timer: undefined, echoTimer: undefined, seq: 0 };
}

export class RtkitFirmware {
  readonly name: string;
  readonly profile: FirmwareProfile;
  /** Violations are recorded only in strict mode. */
  readonly strict: boolean;
  readonly faults: FaultInjector | undefined;
  readonly timing: FirmwareTiming;

  readonly #port: FirmwareOptions['port'];
  readonly #clock: Clock;
  readonly #rng: Rng;
  readonly #memory: FirmwareMemory;
  readonly #sramPort: DmaPort | undefined;
  readonly #allocateIova: ((ep: number, bytes: number) => number | undefined) | undefined;
  readonly #strictOpts: StrictOptions;
  readonly #appsOption: FirmwareOptions['apps'];
  readonly #background: boolean;
  readonly #crashTriggers: boolean;
  readonly #traceLimit: number;
  readonly #history: MailboxHistory;

  readonly #violations: ViolationRecord[] = [];
  readonly #crashes: CrashRecord[] = [];
  #discardedAtReset = 0;
  #trace: TraceEntry[] = [];
  readonly #errors: { time: number; error: unknown }[] = [];

  // Runner.
  #jobs: (() => void)[] = [];
  #busy = false;
  #disposed = false;
  #backlog: MailboxMessage[] = [];
  readonly #cpuTimers = new Set<TimerHandle>();
  readonly #sessionTimers = new Set<TimerHandle>();
  #cpuEpoch = 0;
  #sessionEpoch = 0;
  /** Fault injection: A2I is not read before this virtual time. */
  #stalledUntil = 0;

  // CPU and power.
  #cpu: 'halted' | 'running' | 'crashed' = 'halted';
  #iop: IopPowerPhase = 'halted';
  #iopState: number | undefined;
  #apState: number | undefined;

  // Handshake (one per CPU start and per wake from SLEEP/QUIESCED).
  #handshake: 'none' | 'hello' | 'epmap' | 'done' = 'none';
  #helloRange = { min: 0, max: 0 };
  #version: number | undefined;
  #minor: number | undefined;
  #firstApp: number = Endpoint.AppBase;
  #endpoints: number[] = [];
  #blocks: { base: number; bitmap: number; last: boolean; word?: bigint }[] = [];
  #blockOutstanding: number | undefined;
  #iopAckDone = false;
  /** The IOP ack delay after the LAST EPMAP reply has passed. */
  #iopAckDue = false;
  #started = new Set<number>();
  #apps = new Map<number, AppEndpoint>();
  #buffers = new Map<number, BufferState>();
  #sramNext = 0;
  /** Firmware-owned (mode B) ranges per endpoint, kept for the firmware's lifetime. */
  readonly #ownedIovas = new Map<number, { addr: number; bytes: number }>();
  #syslog: SyslogState = newSyslog();
  #ioreport: EchoState = newEcho();
  #oslog: OSLogState = { bootSent: false, counter: 0, timer: undefined, outstanding: new Map() };
  #kdebugBuffers: number[] = [];

  constructor(opts: FirmwareOptions) {
    this.name = opts.name;
    this.profile = opts.profile;
    this.#port = opts.port;
    this.#clock = opts.clock;
    this.#rng = opts.rng;
    this.#memory = opts.memory;
    this.timing = { ...DEFAULT_TIMING, ...opts.profile.timing, ...opts.timing };
    this.strict = opts.strict !== undefined && opts.strict !== false;
    this.#strictOpts = typeof opts.strict === 'object' ? opts.strict : {};
    this.#appsOption = opts.apps;
    this.#background = opts.background ?? true;
    this.#crashTriggers = opts.crashTriggers ?? true;
    this.#traceLimit = Math.max(0, Math.floor(opts.traceLimit ?? 10_000));
    this.#history = new MailboxHistory(opts.profile.historyDepth ?? 128);
    const sram = opts.memory.sram;
    this.#sramPort = sram
      ? (sram.dma ?? localMemoryPort(sram.local, `${opts.name}/sram`, () => this.#clock.now()))
      : undefined;
    const window = opts.profile.placement.firmwareIovaWindow;
    this.#allocateIova =
      opts.memory.allocateIova ?? (window ? createIovaAllocator(window) : undefined);
    // The injector draws from its own stream (seeded by the spec, or by one draw from ours).
    this.faults =
      opts.faults === undefined
        ? undefined
        : toFaultInjector(opts.faults, createRng(opts.rng.u32()));

    this.#port.onInbound(() => this.#enter());
    this.#port.onOutboundSpace(() => this.#enter());
    this.#port.onRun((running) =>
      this.#enter(() => (running ? this.#cpuStart() : this.#cpuHalt())),
    );
    this.#port.setCpuStatus({ running: false, idle: false });
  }

  // -------------------------------------------------------------------------------------------
  // Public surface

  /** Protocol violations recorded so far (strict mode). */
  get violations(): readonly ViolationRecord[] {
    return this.#violations;
  }

  /** Every crash, with the crashlog bytes written and the history dumped. */
  get crashes(): readonly CrashRecord[] {
    return this.#crashes;
  }

  /** The mailbox history (what `Cmbx` dumps), oldest first; cleared by a CPU reset. */
  get history(): readonly HistoryEntry[] {
    return this.#history.entries;
  }

  /** Every message dequeued or enqueued, bounded by `traceLimit`. */
  get trace(): readonly TraceEntry[] {
    return this.#trace;
  }

  /** Internal errors caught by the runner (a bug in a model, never a host problem). */
  get errors(): readonly { time: number; error: unknown }[] {
    return this.#errors;
  }

  /** AP→IOP words found in the inbox when the CPU (re)started, and dropped. */
  get discardedAtReset(): number {
    return this.#discardedAtReset;
  }

  get state(): FirmwareState {
    return {
      cpu: this.#cpu,
      handshake: this.#handshake,
      iop: this.#iop,
      iopState: this.#iopState,
      apState: this.#apState,
      version: this.#version,
      minor: this.#minor,
      endpoints: [...this.#endpoints],
      started: [...this.#started].sort((a, b) => a - b),
      buffers: [...this.#buffers.values()].map((b) => ({
        ep: b.ep,
        mode: b.mode,
        status: b.status,
        addr: b.addr,
        bytes: b.bytes,
      })),
      backlog: this.#backlog.length,
      syslogOutstanding: this.#syslog.outstanding,
      kdebugBuffers: [...this.#kdebugBuffers],
    };
  }

  /** Crash now (if running): crashlog written, notification sent. */
  crash(reason = 'crash requested by the simulator', opts: { kind?: CrashKind } = {}): void {
    this.#enter(() => this.#crash(reason, opts.kind ?? 'panic', 'api'));
  }

  /** Queue a syslog line, written once syslog runs (AP ON, ring set up). */
  log(file: string, line: number, text: string): void {
    this.#enter(() => this.#syslogQueue({ file, line, text }));
  }

  /** Send an arbitrary IOP→AP word, bypassing message faults (tests, hostile scenarios). */
  inject(ep: number, msg: bigint): void {
    this.#enter(() => this.#sendRaw(ep, msg));
  }

  /** Stop for good: timers cancelled, apps stopped, port callbacks ignored. */
  dispose(): void {
    this.#enter(() => {
      this.#stopApps();
      this.#cancelAll();
      this.#disposed = true;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Runner: one job at a time, like the single core it models. Host callbacks may arrive while a
  // job runs (a synchronous host reacting inside trySend); they are queued, never nested.

  #enter(job?: () => void): void {
    if (this.#disposed) return;
    if (job !== undefined) this.#jobs.push(job);
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (;;) {
        if (this.#disposed) break;
        const next = this.#jobs.shift();
        if (next !== undefined) {
          this.#safely(next);
          continue;
        }
        this.#flush();
        if (this.#receiveOne()) continue;
        if (this.#jobs.length === 0) break;
      }
    } finally {
      this.#busy = false;
    }
  }

  #safely(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#errors.push({ time: this.#clock.now(), error });
    }
  }

  #schedule(ms: number, fn: () => void, scope: 'cpu' | 'session' = 'session'): TimerHandle {
    const set = scope === 'cpu' ? this.#cpuTimers : this.#sessionTimers;
    const epoch = scope === 'cpu' ? this.#cpuEpoch : this.#sessionEpoch;
    const h = this.#clock.setTimer(ms, () => {
      set.delete(h);
      this.#enter(() => {
        const now = scope === 'cpu' ? this.#cpuEpoch : this.#sessionEpoch;
        if (now === epoch) fn();
      });
    });
    set.add(h);
    return h;
  }

  #cancel(h: TimerHandle | undefined): void {
    if (h === undefined) return;
    this.#clock.clearTimer(h);
    this.#sessionTimers.delete(h);
    this.#cpuTimers.delete(h);
  }

  #cancelSession(): void {
    for (const h of this.#sessionTimers) this.#clock.clearTimer(h);
    this.#sessionTimers.clear();
    this.#sessionEpoch++;
  }

  #cancelAll(): void {
    this.#cancelSession();
    for (const h of this.#cpuTimers) this.#clock.clearTimer(h);
    this.#cpuTimers.clear();
    this.#cpuEpoch++;
  }

  #record(dir: 'ap->iop' | 'iop->ap', ep: number, msg: bigint): void {
    const now = this.#clock.now();
    this.#history.record(now, dir, ep, msg);
    if (this.#traceLimit > 0) {
      this.#trace.push({ time: now, dir, ep, msg });
      if (this.#trace.length > 2 * this.#traceLimit)
        this.#trace = this.#trace.slice(-this.#traceLimit);
    }
  }

  #flush(): void {
    while (this.#backlog.length > 0) {
      const m = this.#backlog[0]!;
      if (!this.#port.trySend(m.ep, m.msg)) return;
      this.#backlog.shift();
      this.#record('iop->ap', m.ep, m.msg);
    }
  }

  #canReceive(): boolean {
    return (
      this.#cpu === 'running' &&
      this.#handshake !== 'none' &&
      this.#iop !== 'off' &&
      this.#clock.now() >= this.#stalledUntil
    );
  }

  #receiveOne(): boolean {
    if (!this.#canReceive()) return false;
    const m = this.#port.receive();
    if (m === undefined) return false;
    this.#record('ap->iop', m.ep, m.msg);
    const deliveries = this.faults
      ? this.faults.filter('in', m.ep, m.msg, this.#ctx('ap->iop'))
      : [{ msg: m.msg, delayMs: 0 }];
    for (const d of deliveries) {
      if (d.delayMs > 0) this.#schedule(d.delayMs, () => this.#dispatch(m.ep, d.msg));
      else this.#dispatch(m.ep, d.msg);
    }
    return true;
  }

  #ctx(dir: 'ap->iop' | 'iop->ap'): DecodeContext {
    return { dir, coproc: this.profile.coproc, version: this.#version, minor: this.#minor };
  }

  /**
   * Queue an IOP→AP message through the message faults. Only a running firmware sends; `dying`
   * lets the crash notification out of a firmware that has just crashed.
   */
  #send(ep: number, msg: bigint, dying = false): void {
    if (this.#cpu !== 'running' && !(dying && this.#cpu === 'crashed')) return;
    const deliveries = this.faults
      ? this.faults.filter('out', ep, msg, this.#ctx('iop->ap'))
      : [{ msg, delayMs: 0 }];
    for (const d of deliveries) {
      if (d.delayMs > 0) this.#schedule(d.delayMs, () => this.#sendRaw(ep, d.msg, dying), 'cpu');
      else this.#sendRaw(ep, d.msg, dying);
    }
  }

  #sendRaw(ep: number, msg: bigint, dying = false): void {
    if (this.#cpu !== 'running' && !(dying && this.#cpu === 'crashed')) return;
    this.#backlog.push({ ep, msg });
    this.#flush();
  }

  #sendMsg(ep: number, m: Message): void {
    this.#send(ep, encode(m));
  }

  #violation(code: string, detail: string, msg?: MailboxMessage): void {
    if (!this.strict) return;
    const v: ViolationRecord =
      msg === undefined
        ? { time: this.#clock.now(), code, detail }
        : { time: this.#clock.now(), code, detail, msg };
    this.#violations.push(v);
    const on = this.#strictOpts.crashOn;
    if (on !== undefined && (on === 'all' || on.includes(code))) {
      this.#crash(`strict mode: ${code}: ${detail}`, 'panic', 'strict-violation');
    }
  }

  #step(step: BootStep): void {
    this.faults?.reached(step);
    if (this.faults?.crashAt(step)) {
      this.#crash(`fault injection: crash at boot step "${step}"`, 'panic', 'fault-injection');
    }
  }

  /**
   * CPU_STATUS: RUNNING while the core executes (not after RUN 1→0, not powered OFF); IDLE while
   * it waits in a low-power state [inferred: the exact meaning of bit 5 is not documented].
   */
  #status(): void {
    const running = this.#cpu !== 'halted' && this.#iop !== 'off';
    const i = this.#iop;
    const idle = i === 'idle' || i === 'quiesced' || i === 'sleep' || i === 'off';
    this.#port.setCpuStatus({ running, idle });
  }

  // -------------------------------------------------------------------------------------------
  // CPU lifecycle

  #cpuStart(): void {
    if (this.#cpu !== 'halted') this.#cpuHalt();
    this.#cpu = 'running';
    this.#stalledUntil = 0;
    this.#iop = 'booting';
    this.#iopState = undefined;
    this.#apState = undefined;
    this.#status();
    this.faults?.attach({
      clock: this.#clock,
      schedule: (ms, fn) => {
        this.#schedule(ms, fn, 'cpu');
      },
      sendRaw: (ep, msg) => this.#sendRaw(ep, msg),
      endpoints: () => this.#endpoints,
      crash: (reason) => this.#crash(reason, 'panic', 'fault-injection'),
      stallInbound: (ms) => {
        this.#stalledUntil = ms === undefined ? Number.POSITIVE_INFINITY : this.#clock.now() + ms;
        if (ms !== undefined) this.#schedule(ms, () => {}, 'cpu');
      },
    });
    this.#schedule(this.timing.helloDelayMs, () => this.#beginHandshake());
  }

  #cpuHalt(): void {
    // Words the host sent to a CPU that was running or dead (crashed) belong to that run: a
    // restarted RTKit cannot know what they meant, so they are dropped when the CPU is halted
    // [inferred]. Words written while halted (a wake queued before RUN, F2) are kept.
    while (this.#port.receive() !== undefined) this.#discardedAtReset++;
    this.#resetSession();
    this.#cancelAll();
    this.#backlog = [];
    this.#history.clear();
    this.#cpu = 'halted';
    this.#iop = 'halted';
    this.#iopState = undefined;
    this.#apState = undefined;
    this.#status();
  }

  /** Forget everything a handshake established (wake from SLEEP/QUIESCED, CPU reset). */
  #resetSession(): void {
    this.#stopApps();
    this.#cancelSession();
    this.#handshake = 'none';
    this.#version = undefined;
    this.#minor = undefined;
    this.#firstApp = Endpoint.AppBase;
    this.#endpoints = [];
    this.#blocks = [];
    this.#blockOutstanding = undefined;
    this.#iopAckDone = false;
    this.#iopAckDue = false;
    this.#started = new Set();
    this.#apps = new Map();
    this.#buffers = new Map();
    this.#sramNext = 0;
    this.#syslog = newSyslog();
    this.#ioreport = newEcho();
    this.#oslog = { bootSent: false, counter: 0, timer: undefined, outstanding: new Map() };
    this.#kdebugBuffers = [];
  }

  /** Stop every started application endpoint; the host must start them again. */
  #stopApps(): void {
    for (const [ep, app] of this.#apps) {
      if (ep >= this.#firstApp && this.#started.delete(ep)) this.#safely(() => app.stop());
    }
  }

  // -------------------------------------------------------------------------------------------
  // Handshake (F1–F4)

  #beginHandshake(): void {
    const p = this.profile.versions;
    this.#helloRange = this.faults ? this.faults.helloVersions(p.min, p.max) : { ...p };
    this.#handshake = 'hello';
    if (!this.faults?.withholds('hello')) {
      this.#sendMsg(0, {
        kind: 'hello',
        minVersion: clamp(this.#helloRange.min, 0xffff),
        maxVersion: clamp(this.#helloRange.max, 0xffff),
      });
      this.#step('hello');
    }
  }

  #onHelloAck(min: number, max: number, raw: MailboxMessage): void {
    if (this.#handshake !== 'hello') {
      this.#violation(
        Violation.UNEXPECTED_HELLO_ACK,
        `HELLO_ACK ${min}/${max} outside the HELLO phase (${this.#handshake})`,
        raw,
      );
      return;
    }
    const r = this.#helloRange;
    let version: number | undefined;
    let minor: number | undefined;
    if (min === 0xffff && max === 0x0bad) {
      // QEMU's NAK form (§12 row 35). QEMU would resend HELLO with a lower maximum; we keep
      // waiting for a usable ack [uncertain: real firmware behaviour unknown].
      this.#violation(Violation.BAD_VERSION, 'HELLO_ACK NAK (0xffff/0x0bad)', raw);
      return;
    }
    if (r.max === 10) {
      // v10 HELLO: MINVER is the minor version; HoolockLinux acks minor/10.
      if (max === 10 && (min === r.min || min === 10)) {
        version = 10;
        minor = r.min;
      }
    } else if (min === max && min >= r.min && min <= r.max) {
      version = min;
    }
    if (version === undefined) {
      this.#violation(
        Violation.BAD_VERSION,
        `HELLO_ACK ${min}/${max} does not pick one version in ${r.min}..${r.max} (F3)`,
        raw,
      );
      return;
    }
    this.#version = version;
    this.#minor = minor;
    this.#firstApp = firstAppEndpoint(version, minor);
    this.#step('hello-ack');
    if (this.#cpu !== 'running') return;
    this.#setupEndpoints();
    this.#handshake = 'epmap';
    this.#sendBlock(0);
    this.#step('epmap');
  }

  #protocol(): ProtocolContext {
    return { version: this.#version ?? 12, minor: this.#minor };
  }

  #setupEndpoints(): void {
    const ctx = this.#protocol();
    const opt = this.#appsOption;
    const apps =
      opt === undefined
        ? (this.profile.apps?.(ctx) ?? [])
        : typeof opt === 'function'
          ? opt(ctx)
          : opt;
    this.#apps = new Map(apps.map((a) => [a.ep, a]));
    const declared = this.profile.endpoints;
    const list = typeof declared === 'function' ? declared(ctx) : declared;
    const set = new Set<number>();
    for (const ep of [...list, ...this.#apps.keys()]) {
      if (Number.isInteger(ep) && ep > 0 && ep <= 0xff) set.add(ep);
    }
    const words = this.faults?.epmapWords();
    if (words !== undefined) {
      this.#epmapFromWords(words);
      return;
    }
    // v10: every EPMAP message is final (HoolockLinux), so only one block (endpoints < 32).
    const v10 = this.#version === 10;
    this.#endpoints = [...set].filter((ep) => !v10 || ep < 32).sort((a, b) => a - b);
    const blocks = new Map<number, number>();
    for (const ep of this.#endpoints) {
      const base = Math.floor(ep / 32);
      blocks.set(base, (blocks.get(base) ?? 0) + 2 ** (ep % 32));
    }
    const entries = [...blocks.entries()];
    this.#blocks = entries.map(([base, bitmap], i) => ({
      base,
      bitmap,
      last: i === entries.length - 1,
    }));
    if (this.#blocks.length === 0) this.#blocks = [{ base: 0, bitmap: 0, last: true }];
  }

  /** Fault injection (B16, B26, B39): exactly these EPMAP words; the map is their union. */
  #epmapFromWords(words: readonly bigint[]): void {
    const eps = new Set<number>();
    this.#blocks = [];
    for (const word of words) {
      const m = decode(0, word, { dir: 'iop->ap' });
      if (m.kind !== 'epmap') continue;
      this.#blocks.push({ base: m.base, bitmap: m.bitmap, last: m.last, word });
      for (let i = 0; i < 32; i++) {
        if (Math.floor(m.bitmap / 2 ** i) % 2 === 1) eps.add(m.base * 32 + i);
      }
    }
    eps.delete(0);
    if (this.#blocks.length === 0) this.#blocks = [{ base: 0, bitmap: 0, last: true }];
    this.#endpoints = [...eps].sort((a, b) => a - b);
  }

  #sendBlock(i: number): void {
    const b = this.#blocks[i]!;
    this.#blockOutstanding = i;
    if (b.word !== undefined) this.#send(0, b.word);
    else this.#sendMsg(0, { kind: 'epmap', bitmap: b.bitmap, base: b.base, last: b.last });
  }

  #onEpmapReply(base: number, last: boolean, more: boolean, raw: MailboxMessage): void {
    const i = this.#blockOutstanding;
    if (this.#handshake !== 'epmap' || i === undefined) {
      this.#violation(
        Violation.UNEXPECTED_EPMAP_REPLY,
        `EPMAP_REPLY base ${base} with no EPMAP block outstanding`,
        raw,
      );
      return;
    }
    const b = this.#blocks[i]!;
    const isLast = i === this.#blocks.length - 1;
    const ok =
      this.#version === 10
        ? base === b.base
        : base === b.base && last === b.last && (b.last || more);
    if (!ok) {
      this.#violation(
        Violation.BAD_EPMAP_REPLY,
        `EPMAP_REPLY base ${base}${last ? ' LAST' : ''}${more ? ' MORE' : ''} for block ${b.base}${
          b.last ? ' (last)' : ''
        }`,
        raw,
      );
    }
    this.#blockOutstanding = undefined;
    if (!isLast) {
      this.#sendBlock(i + 1);
      return;
    }
    this.#handshake = 'done';
    this.#step('epmap-done');
    if (this.#cpu !== 'running') return;
    // F4: the unsolicited IOP ack right after the reply to the LAST block.
    const due = (): void => {
      this.#iopAckDue = true;
      this.#maybeFinishBoot();
    };
    if (this.timing.iopAckDelayMs > 0) this.#schedule(this.timing.iopAckDelayMs, due);
    else due();
  }

  #bootRequirementsMet(): boolean {
    const req = this.profile.bootRequires;
    if (req === undefined) return true;
    for (const ep of req.started ?? []) if (!this.#started.has(ep)) return false;
    for (const ep of req.buffers ?? []) if (this.#buffers.get(ep)?.status !== 'ready') return false;
    return true;
  }

  #maybeFinishBoot(): void {
    if (this.#cpu !== 'running' || !this.#iopAckDue || this.#iopAckDone) return;
    if (this.#iop !== 'booting' || !this.#bootRequirementsMet()) return;
    this.#iopAckDone = true;
    this.#iop = 'on';
    this.#status();
    if (this.faults?.withholds('iop-ack')) return;
    this.#iopState = PowerState.On;
    this.#sendMsg(0, { kind: 'iopPowerStateAck', state: PowerState.On });
    this.#step('iop-ack');
    this.#kick();
  }

  // -------------------------------------------------------------------------------------------
  // Dispatch

  #dispatch(ep: number, msg: bigint): void {
    if (this.#cpu !== 'running') return;
    const raw: MailboxMessage = { ep, msg };
    if (ep === Endpoint.Management) {
      this.#management(msg, raw);
      return;
    }
    if (this.#iop === 'idle' || this.#iop === 'quiesced' || this.#iop === 'sleep') {
      this.#violation(
        Violation.POWER_SEQUENCE,
        `message on endpoint ${hex(ep)} while the IOP is ${this.#iop}`,
        raw,
      );
      return;
    }
    if (ep === Endpoint.Crashlog && this.#crashTriggers) {
      const m = decode(ep, msg, this.#ctx('ap->iop'));
      if (m.kind === 'crashTrigger') {
        const what = m.code === 0x40 ? 'soft' : 'hard';
        this.#crash(
          `debug crash requested by the AP (${what}, ${hex(m.code)})`,
          m.code === 0x40 ? 'panic' : 'abort',
          'host-trigger',
        );
        return;
      }
    }
    if (this.#handshake !== 'done') {
      this.#violation(
        Violation.OUT_OF_ORDER,
        `message on endpoint ${hex(ep)} before the endpoint map is complete`,
        raw,
      );
      return;
    }
    if (!this.#endpoints.includes(ep)) {
      this.#violation(Violation.UNDISCOVERED_ENDPOINT, `message on endpoint ${hex(ep)}`, raw);
      return;
    }
    if (!this.#started.has(ep)) {
      this.#violation(
        Violation.MESSAGE_TO_STOPPED_ENDPOINT,
        `message on endpoint ${hex(ep)}, which is not started`,
        raw,
      );
      return;
    }
    if (ep >= this.#firstApp) {
      const app = this.#apps.get(ep);
      if (app !== undefined) this.#appCall(app, () => app.message(msg));
      return;
    }
    const m = decode(ep, msg, this.#ctx('ap->iop'));
    if (!this.#system(ep, m, raw)) {
      this.#violation(Violation.UNKNOWN_MESSAGE, `${m.kind} on endpoint ${hex(ep)}`, raw);
    }
  }

  /**
   * An AP→IOP message on a started system endpoint (the kind already says which endpoint: each
   * has its own codec); false when it is not one the firmware handles.
   */
  #system(ep: number, m: Message, raw: MailboxMessage): boolean {
    const msg = raw.msg;
    switch (m.kind) {
      case 'crashlogBufferReply':
        this.#onBufferReply(1, m.size, m.iova, raw);
        return true;
      case 'syslogBufferReply':
        this.#onBufferReply(2, m.size, m.iova, raw);
        return true;
      case 'syslogLog':
        this.#onSyslogEcho(msg, raw);
        return true;
      case 'kdebugStart':
        this.#onKdebugStart();
        return true;
      case 'kdebugBuffer1':
      case 'kdebugBuffer2':
        this.#kdebugBuffers.push(m.dva);
        return true;
      case 'ioreportBufferReply':
        this.#onBufferReply(4, m.size, m.iova, raw);
        return true;
      case 'ioreportReport':
      case 'ioreportStart':
        this.#onIoreportEcho(msg, raw);
        return true;
      case 'ioreportQuery':
        // [observed, macOS 15 M2 DCP]: the IOP echoes an AP type 4 a few ms later.
        this.#schedule(this.timing.ioreportEchoDelayMs, () => this.#send(ep, msg));
        return true;
      case 'oslogBufferReply':
        this.#onBufferReply(8, m.size, m.page * PAGE, raw);
        return true;
      case 'oslogCounter':
        this.#onOslogEcho(msg, raw);
        return true;
      default:
        return false;
    }
  }

  #appCall(app: AppEndpoint, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#errors.push({ time: this.#clock.now(), error });
      this.#violation(
        Violation.APP_ERROR,
        `${app.name} (${hex(app.ep)}) threw: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  #management(msg: bigint, raw: MailboxMessage): void {
    const m = decode(0, msg, this.#ctx('ap->iop'));
    const asleep = this.#iop === 'idle' || this.#iop === 'quiesced' || this.#iop === 'sleep';
    if (asleep && m.kind !== 'setIopPowerState' && m.kind !== 'setApPowerState') {
      this.#violation(
        Violation.POWER_SEQUENCE,
        `${m.kind} while the IOP is ${this.#iop}; only power-state requests are handled`,
        raw,
      );
      return;
    }
    switch (m.kind) {
      case 'helloAck':
        this.#onHelloAck(m.minVersion, m.maxVersion, raw);
        return;
      case 'epmapReply':
        this.#onEpmapReply(m.base, m.last, m.more, raw);
        return;
      case 'ping': {
        const extra = this.profile.ping === 'qemu' ? m.extra : 0;
        this.#sendMsg(0, { kind: 'pong', cookie: m.cookie, extra });
        return;
      }
      case 'startEndpoint':
        this.#onStartEndpoint(m.endpoint, raw);
        return;
      case 'stopEndpoint':
        this.#onStopEndpoint(m.endpoint, raw);
        return;
      case 'setIopPowerState':
        this.#onSetIopPower(m.state, raw);
        return;
      case 'setApPowerState':
        this.#onSetApPower(m.state, raw);
        return;
      default:
        this.#violation(Violation.UNKNOWN_MESSAGE, `${m.kind} on the management endpoint`, raw);
    }
  }

  // -------------------------------------------------------------------------------------------
  // STARTEP (F6, F7)

  #onStartEndpoint(ep: number, raw: MailboxMessage): void {
    if (ep === Endpoint.Management) return;
    if (this.#handshake !== 'done') {
      this.#violation(
        Violation.OUT_OF_ORDER,
        `STARTEP ${hex(ep)} before the endpoint map is complete`,
        raw,
      );
      return;
    }
    if (!this.#endpoints.includes(ep)) {
      this.#violation(Violation.UNDISCOVERED_ENDPOINT, `STARTEP for ${hex(ep)}`, raw);
      return;
    }
    if (this.#started.has(ep)) return;
    this.#started.add(ep);
    this.#step('startep');
    if (this.#cpu !== 'running') return;
    if (ep >= this.#firstApp) {
      const app = this.#apps.get(ep);
      if (app !== undefined) this.#appCall(app, () => app.start(this.#services()));
    } else {
      this.#schedule(this.timing.bufferRequestDelayMs, () => this.#startSystemEndpoint(ep));
    }
    this.#maybeFinishBoot();
  }

  #onStopEndpoint(ep: number, raw: MailboxMessage): void {
    if (!this.#endpoints.includes(ep)) {
      this.#violation(Violation.UNDISCOVERED_ENDPOINT, `STARTEP stop for ${hex(ep)}`, raw);
      return;
    }
    if (!this.#started.delete(ep)) return;
    // The firmware's reaction to a stop is undocumented [uncertain]; we stop the endpoint's
    // traffic and keep its buffer (a later start does not request it again).
    const app = this.#apps.get(ep);
    if (app !== undefined && ep >= this.#firstApp) this.#appCall(app, () => app.stop());
    if (ep === Endpoint.Syslog) this.#stopTrickle();
    if (ep === Endpoint.IOReport) this.#cancel(this.#ioreport.timer);
    if (ep === Endpoint.OSLog) this.#cancel(this.#oslog.timer);
  }

  #startSystemEndpoint(ep: number): void {
    if (!this.#started.has(ep)) return;
    switch (ep) {
      case Endpoint.Syslog: {
        const initFirst = this.profile.syslog?.initFirst === true;
        if (initFirst) this.#sendSyslogInit();
        this.#requestBuffer(2);
        if (!initFirst) this.#sendSyslogInit();
        this.#syslog.setupSent = true;
        this.#syslogPump();
        break;
      }
      case Endpoint.Crashlog:
      case Endpoint.IOReport:
      case Endpoint.OSLog:
        this.#requestBuffer(ep);
        break;
      // EP3 stays silent until the AP sends START (§5.3); tracekit has no known messages.
    }
  }

  #services(): FirmwareServices {
    const epoch = this.#sessionEpoch;
    const live = (): boolean => epoch === this.#sessionEpoch && this.#cpu === 'running';
    return {
      clock: this.#clock,
      rng: this.#rng,
      name: this.name,
      send: (ep, msg) =>
        this.#enter(() => {
          if (live()) this.#send(ep, msg);
        }),
      // A no-op until the ring is set up and AP power is ON (app.ts contract).
      syslog: (file, line, text) =>
        this.#enter(() => {
          if (live() && this.#syslogReady()) this.#syslogQueue({ file, line, text });
        }),
      violation: (code, detail) => {
        if (live()) this.#violation(code, detail);
      },
      crash: (reason) =>
        this.#enter(() => {
          if (live()) this.#crash(reason, 'panic', 'application');
        }),
      sram: this.#memory.sram?.local,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Power (§4, F2, F5, F9)

  #onSetIopPower(state: number, raw: MailboxMessage): void {
    if (state === PowerState.On || state === PowerState.Init) {
      this.#wake();
      return;
    }
    const phase = POWER_DOWN.get(state);
    if (phase === undefined) {
      this.#violation(Violation.UNKNOWN_POWER_STATE, `SET_IOP_PWR_STATE ${hex(state)}`, raw);
      return;
    }
    if (this.#iop === 'booting') {
      this.#violation(
        Violation.POWER_SEQUENCE,
        `IOP power-down to ${hex(state)} before boot completed`,
        raw,
      );
    } else if (this.#apState === PowerState.On) {
      this.#violation(
        Violation.POWER_SEQUENCE,
        `IOP power-down to ${hex(state)} while the AP state is still ON (change the AP state first, §4.5)`,
        raw,
      );
    }
    this.#iop = phase;
    this.#pauseBackground();
    if (phase !== 'idle') this.#stopApps();
    const v10early = this.#version === 10 && (this.#minor ?? 0) < 2;
    const ack =
      state === PowerState.Quiesced && v10early && this.profile.v10QuiescedAckOff !== false
        ? PowerState.Off
        : state;
    if (!this.faults?.withholds('power-down-ack')) {
      const acked = this.faults ? this.faults.ackState('iop', ack) : ack;
      this.#iopState = acked;
      this.#sendMsg(0, { kind: 'iopPowerStateAck', state: clamp(acked, 0xffff) });
    }
    this.#status();
  }

  #wake(): void {
    switch (this.#iop) {
      case 'booting':
        // F2: remembered; the end-of-boot ack satisfies it.
        return;
      case 'on':
        if (this.faults?.withholds('iop-ack')) return;
        this.#iopState = PowerState.On;
        this.#sendMsg(0, { kind: 'iopPowerStateAck', state: PowerState.On });
        return;
      case 'idle':
        // §4.5: from IDLE the state is kept, no new HELLO.
        this.#iop = 'on';
        this.#status();
        if (!this.faults?.withholds('iop-ack')) {
          this.#iopState = PowerState.On;
          this.#sendMsg(0, { kind: 'iopPowerStateAck', state: PowerState.On });
        }
        this.#kick();
        return;
      case 'quiesced':
      case 'sleep':
        // F1: a full handshake again, with a new HELLO [inferred].
        this.#resetSession();
        this.#iop = 'booting';
        this.#status();
        this.#schedule(this.timing.helloDelayMs, () => this.#beginHandshake());
        return;
      default:
        return;
    }
  }

  #onSetApPower(state: number, raw: MailboxMessage): void {
    if (!KNOWN_POWER_STATES.has(state)) {
      this.#violation(Violation.UNKNOWN_POWER_STATE, `SET_AP_PWR_STATE ${hex(state)}`, raw);
      return;
    }
    const on = state === PowerState.On;
    if (on && (this.#iop === 'idle' || this.#iop === 'quiesced' || this.#iop === 'sleep')) {
      this.#violation(
        Violation.POWER_SEQUENCE,
        `AP state ON while the IOP is ${this.#iop} (wake the IOP first)`,
        raw,
      );
    }
    this.#apState = state;
    const v10early = this.#version === 10 && (this.#minor ?? 0) < 2;
    const withheld = on && (v10early || this.faults?.withholds('ap-ack') === true);
    if (!withheld) {
      const acked = this.faults ? this.faults.ackState('ap', state) : state;
      this.#sendMsg(0, { kind: 'apPowerStateAck', state: clamp(acked, 0xffff) });
    }
    if (on) {
      this.#step('ap-on');
      this.#kick();
    } else this.#pauseBackground();
  }

  // -------------------------------------------------------------------------------------------
  // Background work: syslog, IOReport, OSLog. Runs only while the IOP is ON and AP power is ON
  // (F7: AP ON "enables syslog").

  #running(): boolean {
    return this.#cpu === 'running' && this.#iop === 'on' && this.#apState === PowerState.On;
  }

  #kick(): void {
    if (!this.#running()) return;
    const s = this.#syslog;
    if (!s.bootLinesQueued) {
      s.bootLinesQueued = true;
      if (this.#background) {
        for (const l of this.profile.syslog?.bootLines ?? []) this.#syslogQueue(l);
      }
      for (const l of this.faults?.syslogLines() ?? []) this.#syslogQueue(l);
    }
    this.#startTrickle();
    this.#syslogPump();
    this.#ioreportPump();
    this.#oslogPump();
  }

  #pauseBackground(): void {
    this.#stopTrickle();
    this.#cancel(this.#ioreport.timer);
    this.#ioreport.timer = undefined;
    this.#cancel(this.#oslog.timer);
    this.#oslog.timer = undefined;
  }

  // --- buffers (§6)

  #requestBuffer(ep: BufferEndpoint): void {
    const spec = this.profile.buffers[ep];
    if (spec === undefined || this.#buffers.has(ep)) return;
    const f = this.faults?.bufferFault(ep);
    const oslog = ep === Endpoint.OSLog;
    let pages = Math.ceil(spec.bytes / PAGE);
    if (f?.pages !== undefined) pages = Math.max(0, Math.floor(f.pages));
    const bytes = oslog
      ? Math.min(f?.pages !== undefined ? pages * PAGE : spec.bytes, OSLOG_SIZE_MAX)
      : Math.min(pages, 0xff) * PAGE;
    let mode = spec.mode;
    let addr = 0;
    if (mode === 'firmware') {
      // The firmware keeps its own memory across handshakes: the same range again.
      const size = Math.max(bytes, PAGE);
      const known = this.#ownedIovas.get(ep);
      const a = known?.bytes === size ? known.addr : this.#allocateIova?.(ep, size);
      if (a !== undefined) this.#ownedIovas.set(ep, { addr: a, bytes: size });
      if (a === undefined) {
        this.#errors.push({ time: this.#clock.now(), error: `no firmware IOVA for EP${ep}` });
        return;
      }
      addr = a;
    } else if (mode === 'sram') {
      const a = this.#sramAlloc(Math.max(bytes, PAGE));
      if (a === undefined) {
        this.#errors.push({ time: this.#clock.now(), error: `no SRAM for EP${ep}` });
        return;
      }
      addr = a;
    }
    if (f?.iova !== undefined) {
      addr = this.#faultIova(f.iova, mode);
      if (addr !== 0 && mode === 'host') mode = 'firmware';
    }
    const dma = mode === 'sram' && this.#sramPort ? this.#sramPort : this.#memory.dma;
    const repeat = Math.max(1, Math.floor(f?.repeat ?? 1));
    const b: BufferState = {
      ep,
      mode,
      requested: oslog ? bytes : Math.min(pages, 0xff),
      bytes,
      dma,
      status: addr === 0 ? 'requested' : 'ready',
      addr,
      notifySize: oslog ? bytes : Math.min(pages, 0xff),
      pendingReplies: addr === 0 ? repeat : 0,
    };
    this.#buffers.set(ep, b);
    const word = oslog
      ? encode({ kind: 'oslogBufferRequest', size: bytes, page: Math.floor(addr / PAGE) })
      : encode({ kind: BUFFER_REQUEST_KIND[ep], size: b.requested, iova: addr });
    for (let i = 0; i < repeat; i++) this.#send(ep, word);
    if (f?.nextPages !== undefined) {
      // B11: one more request with another geometry while the first is live (not used).
      const next = clamp(f.nextPages, 0xff);
      this.#send(
        ep,
        oslog
          ? encode({
              kind: 'oslogBufferRequest',
              size: Math.min(next * PAGE, OSLOG_SIZE_MAX),
              page: Math.floor(addr / PAGE),
            })
          : encode({ kind: BUFFER_REQUEST_KIND[ep], size: next, iova: addr }),
      );
    }
    this.#step('buffer-request');
    if (b.status === 'ready') this.#onBufferReady(ep);
  }

  #faultIova(iova: 'collide' | 'outside' | number, mode: BufferMode): number {
    if (typeof iova === 'number') return Math.min(Math.max(0, Math.floor(iova)), IOVA_LIMIT - PAGE);
    if (iova === 'collide') {
      for (const other of this.#buffers.values()) if (other.addr !== 0) return other.addr;
      const w = this.profile.placement.firmwareIovaWindow;
      return w?.base ?? this.#memory.sram?.local.base ?? PAGE;
    }
    // 'outside': just past the window the firmware may use.
    const sram = this.#memory.sram?.local ?? this.profile.placement.sram;
    if (mode === 'sram' && sram) return sram.base + sram.size;
    const w = this.profile.placement.firmwareIovaWindow;
    if (w) return w.base + w.size;
    return IOVA_LIMIT - PAGE;
  }

  /** Mode C buffers are placed top-down in SRAM, page-aligned [inferred: real layout unknown]. */
  #sramAlloc(bytes: number): number | undefined {
    const s = this.#memory.sram?.local;
    if (s === undefined) return undefined;
    const size = Math.ceil(bytes / PAGE) * PAGE;
    const top = s.base + Math.floor(s.size / PAGE) * PAGE - this.#sramNext;
    if (top - size < s.base) return undefined;
    this.#sramNext += size;
    return top - size;
  }

  #onBufferReply(ep: BufferEndpoint, size: number, addr: number, raw: MailboxMessage): void {
    const b = this.#buffers.get(ep);
    if (b === undefined || b.pendingReplies <= 0) {
      this.#violation(
        Violation.UNEXPECTED_BUFFER_REPLY,
        b === undefined
          ? `buffer reply on endpoint ${hex(ep)} with no request`
          : `buffer reply on endpoint ${hex(ep)}, whose ${b.mode === 'host' ? 'request was already answered' : 'buffer is firmware-owned (no reply expected)'}`,
        raw,
      );
      return;
    }
    b.pendingReplies--;
    if (b.status === 'ready') {
      if (addr !== b.addr) {
        this.#violation(
          Violation.BUFFER_REPLY_INVALID,
          `repeated buffer reply on endpoint ${hex(ep)} changes the address ${hex(b.addr)} → ${hex(addr)}`,
          raw,
        );
      }
      return;
    }
    const unit = ep === Endpoint.OSLog ? 'bytes' : 'pages';
    if (size < b.requested || addr === 0 || addr + b.bytes > IOVA_LIMIT) {
      this.#violation(
        Violation.BUFFER_REPLY_INVALID,
        `buffer reply on endpoint ${hex(ep)}: ${size} ${unit} at ${hex(addr)} for a request of ${b.requested} ${unit}`,
        raw,
      );
      b.status = 'rejected';
      return;
    }
    b.addr = addr;
    b.notifySize = size;
    b.status = 'ready';
    if (!b.dma.check(addr, b.bytes, true)) {
      this.#violation(
        Violation.DMA_FAULT,
        `buffer reply on endpoint ${hex(ep)}: ${hex(b.bytes)} bytes at ${hex(addr)} are not accessible through ${b.dma.name}`,
        raw,
      );
    }
    this.#step('buffer-reply');
    this.#onBufferReady(ep);
  }

  #onBufferReady(ep: BufferEndpoint): void {
    if (this.#cpu !== 'running') return;
    if (ep === Endpoint.OSLog) this.#oslogBoot();
    this.#maybeFinishBoot();
    this.#kick();
  }

  /** A write through a buffer's port, recording DMA_FAULT when refused. */
  #dmaWrite(b: BufferState, offset: number, data: Uint8Array, what: string): boolean {
    if (offset + data.length > b.bytes) return false;
    if (b.dma.write(b.addr + offset, data)) return true;
    this.#violation(
      Violation.DMA_FAULT,
      `${what}: write of ${data.length} bytes at ${hex(b.addr + offset)} refused by ${b.dma.name}`,
    );
    return false;
  }

  // --- syslog (§5.2, §8)

  #sendSyslogInit(): void {
    const p = this.profile.syslog;
    if (p === undefined || this.#syslog.initSent) return;
    const g = this.faults
      ? this.faults.syslogInit(p.entryCount, p.messageSize)
      : { entryCount: p.entryCount, messageSize: p.messageSize, repeat: 1 };
    const init = (entryCount: number, messageSize: number): bigint =>
      encode({
        kind: 'syslogInit',
        entryCount: clamp(entryCount, 0xffff),
        messageSize: clamp(messageSize, 0xffff),
      });
    if (g.repeat === 0) return; // fault injection: no INIT at all (B23 c)
    for (let i = 0; i < g.repeat; i++) this.#send(2, init(g.entryCount, g.messageSize));
    let geometry = { entryCount: g.entryCount, messageSize: g.messageSize };
    if ('reinit' in g && g.reinit !== undefined) {
      geometry = g.reinit;
      this.#send(2, init(geometry.entryCount, geometry.messageSize));
    }
    const s = this.#syslog;
    s.geometry = geometry;
    s.wrapAfter =
      geometry.entryCount === p.entryCount && p.wrapAfter !== undefined
        ? Math.min(p.wrapAfter, geometry.entryCount - 1)
        : geometry.entryCount - 1;
    s.initSent = true;
    this.#step('syslog-init');
    this.#kick();
  }

  #syslogReady(): boolean {
    const s = this.#syslog;
    const g = s.geometry;
    return (
      this.#running() &&
      this.#started.has(Endpoint.Syslog) &&
      !s.disabled &&
      s.initSent &&
      g !== undefined &&
      g.entryCount >= 1 &&
      g.messageSize >= 1 &&
      this.#buffers.get(Endpoint.Syslog)?.status === 'ready'
    );
  }

  #syslogQueue(line: SyslogLine): void {
    const q = this.#syslog.queue;
    q.push(line);
    if (q.length > SYSLOG_QUEUE_MAX) q.shift();
    this.#syslogPump();
  }

  #startTrickle(): void {
    const p = this.profile.syslog;
    const s = this.#syslog;
    if (!this.#background || p === undefined || p.lines.length === 0 || s.trickle !== undefined) {
      return;
    }
    const [lo, hi] = p.intervalMs;
    const tick = (): void => {
      s.trickle = undefined;
      if (!this.#running() || !this.#started.has(Endpoint.Syslog)) return;
      this.#syslogQueue(p.lines[this.#rng.below(p.lines.length)]!);
      s.trickle = this.#schedule(lo + this.#rng.float() * Math.max(0, hi - lo), tick);
    };
    s.trickle = this.#schedule(lo + this.#rng.float() * Math.max(0, hi - lo), tick);
  }

  #stopTrickle(): void {
    this.#cancel(this.#syslog.trickle);
    this.#syslog.trickle = undefined;
  }

  #syslogPump(): void {
    const s = this.#syslog;
    const g = s.geometry;
    const b = this.#buffers.get(Endpoint.Syslog);
    if (!this.#running() || !this.#started.has(Endpoint.Syslog) || s.disabled) return;
    if (s.outstanding !== undefined || !s.setupSent) return;
    // Fault injection (B9, B10, B23, B24): a LOG with a chosen index, sent whatever the INIT and
    // the buffer; nothing is written for it.
    const bad = this.faults?.syslogIndex(s.initSent ? g?.entryCount : undefined, s.regularSent);
    if (bad !== undefined) {
      this.#postLog(clamp(bad, 0xff), true);
      return;
    }
    if (!s.initSent || g === undefined || b === undefined || b.status !== 'ready') return;
    if (s.outstanding !== undefined || g.entryCount < 1 || g.messageSize < 1) return;
    const line = s.queue.shift() ?? this.faults?.burstLine();
    if (line === undefined) return;
    const index = s.next;
    const stride = 0x20 + g.messageSize;
    const offset = index * stride;
    if (offset + stride <= b.bytes) {
      // Read-modify-write of the entry: stale bytes after the NULs stay, as on real firmware.
      const entry = b.dma.read(b.addr + offset, stride);
      if (entry === undefined) {
        this.#violation(
          Violation.DMA_FAULT,
          `syslog entry ${index}: read at ${hex(b.addr + offset)} refused by ${b.dma.name}`,
        );
        s.disabled = true;
        return;
      }
      writeSyslogEntry(entry, 0, { entryCount: 1, messageSize: g.messageSize }, line, line.text);
      if (!this.#dmaWrite(b, offset, entry, `syslog entry ${index}`)) {
        s.disabled = true;
        return;
      }
    }
    // An INIT geometry larger than the buffer (fault injection) leaves entries unwritten; the LOG
    // is still posted, as a confused firmware would (ROBUSTNESS B9).
    this.#postLog(index, false);
  }

  #postLog(index: number, isFault: boolean): void {
    const s = this.#syslog;
    if (!isFault) s.regularSent++;
    const word = encode({ kind: 'syslogLog', index });
    s.outstanding = word;
    s.outstandingIsFault = isFault;
    this.#send(2, word);
    if (!s.firstLogSent) {
      s.firstLogSent = true;
      this.#step('first-log');
    }
    // The step may have crashed the firmware (fault injection): a dead CPU expects no echo.
    if (this.#cpu !== 'running') return;
    if (this.strict) {
      s.echoTimer = this.#schedule(this.#echoTimeout(), () => {
        if (s.outstanding === word) {
          this.#violation(
            Violation.MISSING_ECHO,
            `syslog LOG ${hex(word)} not echoed within ${this.#echoTimeout()} ms; syslog stalls`,
          );
        }
      });
    }
  }

  #echoTimeout(): number {
    return this.#strictOpts.echoTimeoutMs ?? this.timing.echoTimeoutMs;
  }

  #onSyslogEcho(msg: bigint, raw: MailboxMessage): void {
    const s = this.#syslog;
    if (s.outstanding === undefined) {
      this.#violation(
        Violation.UNEXPECTED_ECHO,
        `syslog LOG ${hex(msg)} with none outstanding`,
        raw,
      );
      return;
    }
    if (msg !== s.outstanding) {
      // The firmware keeps waiting for the identical echo (§5.2).
      this.#violation(
        Violation.WRONG_ECHO,
        `syslog echo ${hex(msg)} differs from the LOG ${hex(s.outstanding)}`,
        raw,
      );
      return;
    }
    this.#cancel(s.echoTimer);
    s.echoTimer = undefined;
    s.outstanding = undefined;
    if (!s.outstandingIsFault) s.next = s.next >= s.wrapAfter ? 0 : s.next + 1;
    s.outstandingIsFault = false;
    this.#syslogPump();
  }

  // --- IOReport (§5.4)

  #ioreportPump(): void {
    const p = this.profile.ioreport;
    const st = this.#ioreport;
    if (p === undefined || !this.#background || !this.#running()) return;
    if (!this.#started.has(Endpoint.IOReport) || st.outstanding !== undefined || st.timer) return;
    const b = this.#buffers.get(Endpoint.IOReport);
    if (this.profile.buffers[Endpoint.IOReport] !== undefined && b?.status !== 'ready') return;
    if (!st.started) {
      // m1n1 calls 0xc "start"; ML: "must be ACKed or the co-processor will hang".
      st.started = true;
      this.#postIoreport(encode({ kind: 'ioreportStart', payload: 0 }));
      return;
    }
    st.timer = this.#schedule(p.intervalMs, () => {
      st.timer = undefined;
      if (!this.#running() || !this.#started.has(Endpoint.IOReport)) return;
      st.seq = (st.seq + 1) % 0x1_0000;
      if (b !== undefined && b.status === 'ready') {
        // A small report record: u64 sequence number (content format unknown [inferred]).
        const rec = new Uint8Array(8);
        new DataView(rec.buffer).setBigUint64(0, BigInt(st.seq), true);
        if (!this.#dmaWrite(b, 0, rec, 'ioreport')) return;
      }
      this.#postIoreport(encode({ kind: 'ioreportReport', payload: st.seq }));
    });
  }

  #postIoreport(word: bigint): void {
    const st = this.#ioreport;
    st.outstanding = word;
    this.#send(Endpoint.IOReport, word);
    if (this.strict) {
      st.echoTimer = this.#schedule(this.#echoTimeout(), () => {
        if (st.outstanding === word) {
          this.#violation(
            Violation.MISSING_ECHO,
            `IOReport ${hex(word)} not echoed within ${this.#echoTimeout()} ms`,
          );
        }
      });
    }
  }

  #onIoreportEcho(msg: bigint, raw: MailboxMessage): void {
    const st = this.#ioreport;
    if (st.outstanding === undefined) {
      this.#violation(Violation.UNEXPECTED_ECHO, `IOReport ${hex(msg)} with none outstanding`, raw);
      return;
    }
    if (msg !== st.outstanding) {
      this.#violation(
        Violation.WRONG_ECHO,
        `IOReport echo ${hex(msg)} differs from ${hex(st.outstanding)}`,
        raw,
      );
      // m1n1-Py answers a type 8 with a bare 0x0080000000000000 (§5.4, §12 row 17); the firmware
      // must accept every host, so that counts as the ack. Anything else keeps it waiting.
      const bare = msg === encode({ kind: 'ioreportReport', payload: 0 });
      const was = decode(Endpoint.IOReport, st.outstanding, { dir: 'iop->ap' }).kind;
      if (!(bare && was === 'ioreportReport')) return;
    }
    this.#cancel(st.echoTimer);
    st.echoTimer = undefined;
    st.outstanding = undefined;
    this.#ioreportPump();
  }

  // --- OSLog (§5.5)

  #oslogBoot(): void {
    const st = this.#oslog;
    if (st.bootSent) return;
    st.bootSent = true;
    for (const w of this.profile.oslog?.bootMessages ?? []) this.#send(Endpoint.OSLog, w);
  }

  #oslogPump(): void {
    const p = this.profile.oslog;
    const st = this.#oslog;
    if (p === undefined || p.counterIntervalMs <= 0 || !this.#background || !this.#running())
      return;
    if (!this.#started.has(Endpoint.OSLog) || st.timer !== undefined) return;
    const b = this.#buffers.get(Endpoint.OSLog);
    if (b === undefined || b.status !== 'ready' || b.bytes < 0x40) return;
    st.timer = this.#schedule(p.counterIntervalMs, () => {
      st.timer = undefined;
      if (!this.#running() || !this.#started.has(Endpoint.OSLog)) return;
      // A 32-byte record at the write position [inferred: the OSLog buffer format is unknown].
      const rec = new Uint8Array(32);
      new DataView(rec.buffer).setUint32(0, st.counter, true);
      rec.set(new TextEncoder().encode(`${this.profile.crash.role} oslog`), 8);
      const off = st.counter % (b.bytes - (b.bytes % 32) || 32);
      if (!this.#dmaWrite(b, off, rec, 'oslog')) return;
      st.counter = (st.counter + rec.length) % 0x1_0000_0000;
      const word = encode({ kind: 'oslogCounter', counter: st.counter });
      const timer =
        this.strict && this.#strictOpts.requireOslogEcho !== false
          ? this.#schedule(this.#echoTimeout(), () => {
              if (st.outstanding.has(word)) {
                st.outstanding.delete(word);
                this.#violation(
                  Violation.MISSING_ECHO,
                  `OSLog counter ${hex(word)} not echoed within ${this.#echoTimeout()} ms (HF echoes it)`,
                );
              }
            })
          : undefined;
      st.outstanding.set(word, timer);
      this.#send(Endpoint.OSLog, word);
      this.#oslogPump();
    });
  }

  #onOslogEcho(msg: bigint, raw: MailboxMessage): void {
    const st = this.#oslog;
    if (!st.outstanding.has(msg)) {
      this.#violation(Violation.UNEXPECTED_ECHO, `OSLog ${hex(msg)} with none outstanding`, raw);
      return;
    }
    this.#cancel(st.outstanding.get(msg));
    st.outstanding.delete(msg);
  }

  // --- KDebug (§5.3)

  #onKdebugStart(): void {
    const count = this.profile.kdebug?.entryCount ?? 0x100;
    this.#sendMsg(Endpoint.Debug, { kind: 'kdebugGetBuffer', count });
  }

  // -------------------------------------------------------------------------------------------
  // Crash (§5.1, §7)

  #crash(reason: string, kind: CrashKind, cause: CrashCause): void {
    // A halted or powered-off core cannot crash.
    if (this.#cpu !== 'running' || this.#iop === 'off') return;
    this.#stopApps();
    this.#cancelAll();
    this.#cpu = 'crashed';
    const b = this.#buffers.get(Endpoint.Crashlog);
    const ready = b !== undefined && b.status === 'ready';
    const composed = composeCrashlog(
      {
        profile: this.profile.crash,
        reason,
        kind,
        history: this.#history.entries,
        time: this.#history.timebase.now(this.#clock.now()),
        rng: this.#rng,
      },
      ready ? b.bytes : 3 * PAGE,
    );
    // Fault injection may replace the dump (ROBUSTNESS B1–B7, B22, B37); never beyond the buffer.
    const custom = this.faults?.crashlogBytes(composed.input);
    let bytes: Uint8Array = new Uint8Array(0);
    if (ready) bytes = custom === undefined ? composed.bytes : custom.subarray(0, b.bytes);
    let written = false;
    if (ready && bytes.length > 0) written = this.#dmaWrite(b, 0, bytes, 'crashlog');
    // The notification repeats the buffer's SIZE and IOVA (§5.1). A request that was never
    // answered still gets one (IOVA 0), so crash detection does not depend on the setup (B13).
    const notified = b !== undefined;
    if (b !== undefined) {
      const o = this.faults?.crashNotify();
      const size = clamp(o?.pages ?? b.notifySize, 0xff);
      const iova = Math.min(Math.max(0, Math.floor(o?.iova ?? b.addr)), IOVA_LIMIT - 1);
      this.#send(Endpoint.Crashlog, encode({ kind: 'crashNotification', size, iova }), true);
    }
    const record: CrashRecord = {
      time: this.#clock.now(),
      reason,
      kind,
      cause,
      input: composed.input,
      bytes,
      ...(b !== undefined ? { buffer: { addr: b.addr, bytes: b.bytes, mode: b.mode } } : {}),
      written,
      notified,
      history: composed.entries,
    };
    this.#crashes.push(record);
    this.#status();
  }
}

function clamp(n: number, max: number): number {
  return Math.min(Math.max(0, Math.floor(n)), max);
}
