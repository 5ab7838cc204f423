/**
 * The simulated ASC register block of one co-processor (PROTOCOL.md §1.2–§1.8): CPU_CONTROL and
 * CPU_STATUS at the ASC base, the mailbox at base + 0x8000 in one of three register layouts, two
 * bounded FIFOs, the host-facing interrupt lines and the IOP-facing port the firmware model uses.
 *
 *   host driver ──Mmio──> MmioBus ──SyncMmio──> SimAsc ──IopPort──> firmware model
 *                                                 │
 *                                      interrupts (recv-not-empty, ...), traffic tap
 *
 * Register accesses follow the "Simulator rules" of §1.6: SEND1 enqueues (with the last SEND0),
 * RECV1 dequeues, RECV0 has no side effect, an empty RECV0/RECV1 reads 0, a SEND1 write while
 * FULL drops the message and latches OVERFLOW. Model decisions not taken from a source are
 * listed in docs/mailbox.md.
 */

import { RtkitError } from '../../errors.js';
import type { MailboxInterrupts } from '../../mailbox/interrupts.js';
import {
  ASC_CPU_CONTROL,
  ASC_CPU_STATUS,
  ASC_MAILBOX_OFFSET,
  ASC_MAILBOX_SIZE,
  CpuControl,
  CpuStatus,
  ENDPOINT_WORDS,
  IRQ_LINE_BIT,
  isValidEndpoint,
  isValidMsg0,
  M3Irq,
  MAILBOX_IRQ_LINES,
  MAILBOX_LAYOUTS,
  type MailboxIrqLine,
  type MailboxVariant,
} from '../../mailbox/registers.js';
import type { MailboxMessage } from '../../mailbox/types.js';
import { type FifoCounters, MailboxFifo } from './fifo.js';
import type { IopPort } from './iop-port.js';

export type TrafficDirection = 'ap->iop' | 'iop->ap';
export type TrafficTap = (dir: TrafficDirection, ep: number, msg: bigint) => void;
export type FifoName = 'a2i' | 'i2a';

export interface SimAscOptions {
  /** Physical address of the ASC block; the device decodes absolute addresses. Default 0. */
  base?: number;
  variant?: MailboxVariant;
  /** Entries per FIFO, 1–16; default 16. */
  depth?: number;
  /**
   * What RECV1 reads carry above the endpoint: `plain` zeros (default) or `realistic`
   * bookkeeping (§1.5 interpretation).
   */
  recv1?: 'plain' | 'realistic';
  /** Mailbox block offset from the ASC base; default 0x8000. */
  mailboxOffset?: number;
  /**
   * Accesses to offsets inside the block where no register is modelled: `fault` (default) throws
   * MMIO_UNMAPPED, `raz` reads zero and ignores writes (counted in `counters.unimplemented`).
   */
  unimplemented?: 'fault' | 'raz';
  /** For error messages and traces. */
  name?: string;
  /**
   * A firmware hook or tap threw. The error never reaches the host's register access (the host
   * did nothing wrong); default: kept in `hookErrors`.
   */
  onHookError?: (error: unknown, hook: string) => void;
}

export interface SimAscCounters {
  a2i: FifoCounters;
  i2a: FifoCounters;
  /** Accesses to unmodelled offsets in `raz` mode. */
  unimplemented: number;
  /** Exceptions thrown by hooks and taps (caught). */
  hookErrors: number;
}

// Register ids in the decode table. HIGH marks the upper word of a 64-bit register.
const R_NONE = 0;
const R_A2I_CONTROL = 1;
const R_I2A_CONTROL = 2;
const R_A2I_SEND0 = 3;
const R_A2I_SEND1 = 4;
const R_A2I_RECV0 = 5;
const R_A2I_RECV1 = 6;
const R_I2A_SEND0 = 7;
const R_I2A_SEND1 = 8;
const R_I2A_RECV0 = 9;
const R_I2A_RECV1 = 10;
const R_IRQ_ENABLE = 11;
const R_IRQ_ACK = 12;
const R_CPU_CONTROL = 13;
const R_CPU_STATUS = 14;
const HIGH = 0x40;
const FIRST_WIDE = R_A2I_SEND0;
const LAST_WIDE = R_I2A_RECV1;

const REG_NAMES: Record<number, string> = {
  [R_A2I_CONTROL]: 'A2I_CONTROL',
  [R_I2A_CONTROL]: 'I2A_CONTROL',
  [R_A2I_SEND0]: 'A2I_SEND0',
  [R_A2I_SEND1]: 'A2I_SEND1',
  [R_A2I_RECV0]: 'A2I_RECV0',
  [R_A2I_RECV1]: 'A2I_RECV1',
  [R_I2A_SEND0]: 'I2A_SEND0',
  [R_I2A_SEND1]: 'I2A_SEND1',
  [R_I2A_RECV0]: 'I2A_RECV0',
  [R_I2A_RECV1]: 'I2A_RECV1',
  [R_IRQ_ENABLE]: 'IRQ_ENABLE',
  [R_IRQ_ACK]: 'IRQ_ACK',
  [R_CPU_CONTROL]: 'CPU_CONTROL',
  [R_CPU_STATUS]: 'CPU_STATUS',
};

const RUN = CpuControl.RUN.maskLo;
const IRQ_BITS = 0xf;
const A2I_EMPTY = M3Irq.A2I_EMPTY.maskLo;
const A2I_NOT_EMPTY = M3Irq.A2I_NOT_EMPTY.maskLo;
const I2A_EMPTY = M3Irq.I2A_EMPTY.maskLo;
const I2A_NOT_EMPTY = M3Irq.I2A_NOT_EMPTY.maskLo;
const RECV1_HI_SHIFT = 32n;

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

type Listener<A extends unknown[]> = (...args: A) => void;

export class SimAsc implements IopPort {
  readonly base: number;
  readonly size: number;
  readonly variant: MailboxVariant;
  readonly name: string;
  /** Physical address of the mailbox block (what the host driver takes as its base). */
  readonly mailboxBase: number;
  /** The host-facing interrupt lines (§1.8), for notification-mode drivers. */
  readonly interrupts: MailboxInterrupts;
  /** Exceptions thrown by hooks and taps, oldest first (at most 100 kept). */
  readonly hookErrors: { hook: string; error: unknown }[] = [];

  private readonly a2i: MailboxFifo;
  private readonly i2a: MailboxFifo;
  private readonly table: Uint8Array;
  private readonly realistic: boolean;
  private readonly raz: boolean;
  private readonly isM3: boolean;
  private readonly onHookError: ((e: unknown, hook: string) => void) | undefined;

  private a2iLatch = 0n;
  private i2aLatch = 0n;
  private cpuControl = 0;
  private running = false;
  private idle = false;
  private unimplementedCount = 0;
  private hookErrorCount = 0;

  // Interrupt state: bit i = line i in device-tree order (= M3 IRQ bit i).
  private irqEnable = 0;
  private irqLatched: number;
  private irqCond: number;
  private irqOut = 0;
  private irqSubscribers = 0;
  private readonly lineListeners: Listener<[boolean]>[][] = [[], [], [], []];

  private readonly inboundListeners: Listener<[]>[] = [];
  private readonly spaceListeners: Listener<[]>[] = [];
  private readonly runListeners: Listener<[boolean]>[] = [];
  private readonly taps: TrafficTap[] = [];

  constructor(opts: SimAscOptions = {}) {
    const base = opts.base ?? 0;
    if (!Number.isSafeInteger(base) || base < 0) {
      throw new RtkitError('BAD_INPUT', `ASC base must be a non-negative integer`, { base });
    }
    const mboxOff = opts.mailboxOffset ?? ASC_MAILBOX_OFFSET;
    if (!Number.isInteger(mboxOff) || mboxOff < 0x100 || mboxOff % 0x100 !== 0) {
      throw new RtkitError('BAD_INPUT', 'mailbox offset must be a multiple of 0x100', {
        mailboxOffset: mboxOff,
      });
    }
    this.base = base;
    this.variant = opts.variant ?? 'asc-v4';
    this.name = opts.name ?? 'asc';
    this.size = mboxOff + ASC_MAILBOX_SIZE;
    this.mailboxBase = base + mboxOff;
    const depth = opts.depth ?? 16;
    this.a2i = new MailboxFifo(depth);
    this.i2a = new MailboxFifo(depth);
    this.realistic = opts.recv1 === 'realistic';
    this.raz = opts.unimplemented === 'raz';
    this.isM3 = this.variant === 'm3-v2';
    this.onHookError = opts.onHookError;
    this.irqCond = this.condition();
    // Both "empty" conditions hold at reset; on M3 they are latched (and masked by IRQ_ENABLE = 0).
    this.irqLatched = this.isM3 ? this.irqCond : 0;

    const layout = MAILBOX_LAYOUTS[this.variant];
    if (layout === undefined) {
      throw new RtkitError('BAD_INPUT', `unknown mailbox variant ${String(this.variant)}`);
    }
    this.table = new Uint8Array(this.size >>> 2);
    const put = (off: number, id: number, wide: boolean): void => {
      this.table[off >>> 2] = id;
      if (wide) this.table[(off + 4) >>> 2] = id | HIGH;
    };
    put(ASC_CPU_CONTROL, R_CPU_CONTROL, false);
    put(ASC_CPU_STATUS, R_CPU_STATUS, false);
    put(mboxOff + layout.a2iControl, R_A2I_CONTROL, false);
    put(mboxOff + layout.i2aControl, R_I2A_CONTROL, false);
    put(mboxOff + layout.a2iSend0, R_A2I_SEND0, true);
    put(mboxOff + layout.a2iSend1, R_A2I_SEND1, true);
    put(mboxOff + layout.a2iRecv0, R_A2I_RECV0, true);
    put(mboxOff + layout.a2iRecv1, R_A2I_RECV1, true);
    put(mboxOff + layout.i2aSend0, R_I2A_SEND0, true);
    put(mboxOff + layout.i2aSend1, R_I2A_SEND1, true);
    put(mboxOff + layout.i2aRecv0, R_I2A_RECV0, true);
    put(mboxOff + layout.i2aRecv1, R_I2A_RECV1, true);
    if (layout.irqEnable !== undefined) put(mboxOff + layout.irqEnable, R_IRQ_ENABLE, false);
    if (layout.irqAck !== undefined) put(mboxOff + layout.irqAck, R_IRQ_ACK, false);

    this.interrupts = {
      level: (line) => this.lineLevel(line),
      subscribe: (line, fn) => this.subscribeLine(line, fn),
    };
  }

  // ---------------------------------------------------------------- SyncMmio (host side)

  read32(addr: number): number {
    const id = this.decode(addr, 4, false);
    switch (id) {
      case R_A2I_CONTROL:
        return this.a2i.control();
      case R_I2A_CONTROL:
        return this.i2a.control();
      case R_CPU_CONTROL:
        return this.cpuControl;
      case R_CPU_STATUS:
        return this.cpuStatus();
      case R_IRQ_ENABLE:
        return this.irqEnable;
      case R_IRQ_ACK:
        // [inferred] reading the ack register shows the latched (pending) conditions.
        return this.irqLatched;
      default:
        return 0;
    }
  }

  write32(addr: number, value: number): void {
    const id = this.decode(addr, 4, true);
    const v = value >>> 0;
    switch (id) {
      case R_A2I_CONTROL:
        this.a2i.writeControl(v);
        return;
      case R_I2A_CONTROL:
        this.i2a.writeControl(v);
        return;
      case R_CPU_CONTROL:
        this.writeCpuControl(v);
        return;
      case R_IRQ_ENABLE:
        this.irqEnable = v & IRQ_BITS;
        this.refreshLines();
        return;
      case R_IRQ_ACK:
        this.ackIrq(v & IRQ_BITS);
        return;
      default:
      // CPU_STATUS is read-only; unmodelled offsets in raz mode are ignored.
    }
  }

  read64(addr: number): bigint {
    const id = this.decode(addr, 8, false);
    switch (id) {
      case R_I2A_RECV0:
        return this.i2a.peekMsg();
      case R_I2A_RECV1:
        return this.dequeueRecv1(this.i2a, true);
      case R_A2I_RECV0:
        return this.a2i.peekMsg();
      case R_A2I_RECV1:
        return this.dequeueRecv1(this.a2i, false);
      default:
        // SEND registers are write-only: they read as zero.
        return 0n;
    }
  }

  write64(addr: number, value: bigint): void {
    const id = this.decode(addr, 8, true);
    switch (id) {
      case R_A2I_SEND0:
        this.a2iLatch = BigInt.asUintN(64, value);
        return;
      case R_A2I_SEND1:
        this.hostEnqueue(value);
        return;
      case R_I2A_SEND0:
        this.i2aLatch = BigInt.asUintN(64, value);
        return;
      case R_I2A_SEND1:
        this.iopRegisterEnqueue(value);
        return;
      default:
      // RECV registers are read-only: writes are ignored.
    }
  }

  // ---------------------------------------------------------------- IopPort (firmware side)

  trySend(ep: number, msg: bigint): boolean {
    if (!isValidEndpoint(ep)) {
      throw new RtkitError('ENDPOINT_INVALID', `endpoint ${String(ep)} is not 0–255`, { ep });
    }
    if (!isValidMsg0(msg)) {
      throw new RtkitError('BAD_INPUT', 'msg0 must be a 64-bit unsigned bigint', {
        msg: String(msg),
      });
    }
    if (!this.i2a.push(ep, msg)) return false;
    this.afterI2aEnqueue(ep, msg);
    return true;
  }

  receive(): MailboxMessage | undefined {
    const f = this.a2i;
    if (f.empty) return undefined;
    const m: MailboxMessage = { ep: f.peekEp(), msg: f.peekMsg() };
    f.drop();
    this.refreshLines();
    return m;
  }

  /** Adds a listener (several may be registered); returns a function that removes it. */
  onInbound(fn: () => void): () => void {
    return addListener(this.inboundListeners, fn);
  }

  /** Adds a listener; returns a function that removes it. */
  onOutboundSpace(fn: () => void): () => void {
    return addListener(this.spaceListeners, fn);
  }

  /** Adds a listener; returns a function that removes it. */
  onRun(fn: (running: boolean) => void): () => void {
    return addListener(this.runListeners, fn);
  }

  setCpuStatus(status: { running: boolean; idle: boolean }): void {
    this.running = status.running;
    this.idle = status.idle;
  }

  // ---------------------------------------------------------------- test and trace knobs

  /**
   * Call `fn` once for every message that enters a FIFO (never for an overflowed write), before
   * the firmware hears of it. Returns a function that removes the tap.
   */
  onTraffic(fn: TrafficTap): () => void {
    return addListener(this.taps, fn);
  }

  /**
   * Make a FIFO report FULL and refuse writes regardless of its fill level (ROBUSTNESS B30, "Send
   * space"). Releasing the I2A hold tells the firmware there is room (onOutboundSpace).
   */
  holdFull(fifo: FifoName, hold: boolean): void {
    const f = fifo === 'a2i' ? this.a2i : this.i2a;
    const was = f.holdFull;
    f.holdFull = hold;
    if (was && !hold && fifo === 'i2a' && !f.full)
      this.emit(this.spaceListeners, 'onOutboundSpace');
  }

  /** Empty both FIFOs, clear their flags and pointers and the M3 IRQ state; counters are kept. */
  resetMailbox(): void {
    this.a2i.reset();
    this.i2a.reset();
    this.a2iLatch = 0n;
    this.i2aLatch = 0n;
    this.irqEnable = 0;
    this.irqCond = this.condition();
    this.irqLatched = this.isM3 ? this.irqCond : 0;
    this.refreshLines();
  }

  /** Test knob: put an empty FIFO's pointers at `ptr` (mod 16), e.g. to reproduce a dump. */
  setPointers(fifo: FifoName, ptr: number): void {
    (fifo === 'a2i' ? this.a2i : this.i2a).setPointers(ptr);
  }

  /** Entries queued in a FIFO. */
  queued(fifo: FifoName): number {
    return (fifo === 'a2i' ? this.a2i : this.i2a).count;
  }

  /** Whether CPU_CONTROL.RUN is set. */
  get runBit(): boolean {
    return (this.cpuControl & RUN) !== 0;
  }

  get counters(): SimAscCounters {
    return {
      a2i: { ...this.a2i.counters },
      i2a: { ...this.i2a.counters },
      unimplemented: this.unimplementedCount,
      hookErrors: this.hookErrorCount,
    };
  }

  // ---------------------------------------------------------------- internals

  /** Register id at `addr` for an access of `width` bytes; throws on a bad access. */
  private decode(addr: number, width: 4 | 8, write: boolean): number {
    const off = addr - this.base;
    if (!(off >= 0 && off + width <= this.size)) {
      throw new RtkitError('MMIO_UNMAPPED', `${hex(addr)} is outside ${this.name}`, {
        addr,
        width,
        write,
        device: this.name,
      });
    }
    if (off % width !== 0) {
      throw new RtkitError(
        'MMIO_ALIGNMENT',
        `${width * 8}-bit access at ${hex(addr)} is not ${width}-byte aligned`,
        { addr, width, write, device: this.name },
      );
    }
    const id = this.table[off >>> 2]!;
    const wide = (id & ~HIGH) >= FIRST_WIDE && (id & ~HIGH) <= LAST_WIDE;
    if (id !== R_NONE && ((id & HIGH) !== 0 || wide !== (width === 8))) {
      const reg = REG_NAMES[id & ~HIGH] ?? '?';
      throw new RtkitError(
        'MMIO_ALIGNMENT',
        `${width * 8}-bit access at ${hex(addr)} to ${wide ? 64 : 32}-bit register ${reg}`,
        { addr, width, write, register: reg, device: this.name },
      );
    }
    if (id === R_NONE) {
      if (!this.raz) {
        throw new RtkitError('MMIO_UNMAPPED', `no register at ${hex(addr)} in ${this.name}`, {
          addr,
          width,
          write,
          device: this.name,
        });
      }
      this.unimplementedCount++;
    }
    return id;
  }

  private cpuStatus(): number {
    return (
      (this.running ? CpuStatus.RUNNING.maskLo : CpuStatus.STOPPED.maskLo) |
      (this.idle ? CpuStatus.IDLE.maskLo : 0)
    );
  }

  private writeCpuControl(v: number): void {
    const wasRun = (this.cpuControl & RUN) !== 0;
    this.cpuControl = v;
    const run = (v & RUN) !== 0;
    if (run === wasRun) return;
    // CPU_STATUS follows RUN by default so that a block without firmware stays consistent;
    // the firmware may refine it from its onRun hook.
    this.running = run;
    for (const fn of this.runListeners.slice()) {
      try {
        fn(run);
      } catch (e) {
        this.hookError(e, 'onRun');
      }
    }
  }

  private hostEnqueue(msg1: bigint): void {
    const f = this.a2i;
    if (f.full) {
      f.recordOverflow();
      return;
    }
    // The AP writes the endpoint and zeros elsewhere (§1.1); other bits are not modelled.
    const ep = msg1 <= 0xffn && msg1 >= 0n ? Number(msg1) : Number(BigInt.asUintN(8, msg1));
    const msg = this.a2iLatch;
    f.push(ep, msg);
    if (this.taps.length !== 0) this.tap('ap->iop', ep, msg);
    this.refreshLines();
    const ls = this.inboundListeners;
    if (ls.length === 1) {
      try {
        ls[0]!();
      } catch (e) {
        this.hookError(e, 'onInbound');
      }
    } else if (ls.length !== 0) this.emit(ls, 'onInbound');
  }

  private iopRegisterEnqueue(msg1: bigint): void {
    const f = this.i2a;
    if (f.full) {
      f.recordOverflow();
      return;
    }
    const ep = Number(BigInt.asUintN(8, msg1));
    f.push(ep, this.i2aLatch);
    this.afterI2aEnqueue(ep, this.i2aLatch);
  }

  private afterI2aEnqueue(ep: number, msg: bigint): void {
    if (this.taps.length !== 0) this.tap('iop->ap', ep, msg);
    this.refreshLines();
  }

  private dequeueRecv1(f: MailboxFifo, hostSide: boolean): bigint {
    if (f.empty) {
      f.recordUnderflow();
      return 0n;
    }
    const ep = f.peekEp();
    const v = this.realistic
      ? (BigInt(f.peekRecv1High()) << RECV1_HI_SHIFT) | ENDPOINT_WORDS[ep]!
      : ENDPOINT_WORDS[ep]!;
    f.drop();
    this.refreshLines();
    if (hostSide) {
      const ls = this.spaceListeners;
      if (ls.length === 1) {
        try {
          ls[0]!();
        } catch (e) {
          this.hookError(e, 'onOutboundSpace');
        }
      } else if (ls.length !== 0) this.emit(ls, 'onOutboundSpace');
    }
    return v;
  }

  private tap(dir: TrafficDirection, ep: number, msg: bigint): void {
    for (const fn of this.taps) {
      try {
        fn(dir, ep, msg);
      } catch (e) {
        this.hookError(e, 'onTraffic');
      }
    }
  }

  private emit(ls: Listener<[]>[], hook: string): void {
    for (const fn of ls.slice()) {
      try {
        fn();
      } catch (e) {
        this.hookError(e, hook);
      }
    }
  }

  private hookError(error: unknown, hook: string): void {
    this.hookErrorCount++;
    if (this.hookErrors.length < 100) this.hookErrors.push({ hook, error });
    if (this.onHookError) {
      try {
        this.onHookError(error, hook);
      } catch {
        // a failing error handler has nowhere left to report to
      }
    }
  }

  // ---------------------------------------------------------------- interrupts (§1.8)

  /** Raw conditions, bit i = line i: send-empty, send-not-empty, recv-empty, recv-not-empty. */
  private condition(): number {
    return (
      (this.a2i.empty ? A2I_EMPTY : A2I_NOT_EMPTY) | (this.i2a.empty ? I2A_EMPTY : I2A_NOT_EMPTY)
    );
  }

  private output(): number {
    return this.isM3 ? this.irqLatched & this.irqEnable : this.irqCond;
  }

  /** Recompute the lines after a FIFO or IRQ register change; notify subscribers of edges. */
  private refreshLines(): void {
    if (this.irqSubscribers === 0 && !this.isM3) return;
    const c = this.condition();
    // M3 [inferred]: a condition that becomes true latches until acknowledged.
    if (this.isM3) this.irqLatched |= c & ~this.irqCond;
    this.irqCond = c;
    this.setOutput(this.output());
  }

  private ackIrq(bits: number): void {
    // Acknowledging clears the latch; a condition that still holds latches again at once, so a
    // driver that acks before the FIFO is empty sees the line drop and rise again.
    this.irqCond = this.condition();
    this.irqLatched &= ~bits;
    this.setOutput(this.output());
    this.irqLatched |= bits & this.irqCond;
    this.setOutput(this.output());
  }

  private setOutput(out: number): void {
    const changed = out ^ this.irqOut;
    if (changed === 0) return;
    this.irqOut = out;
    if (this.irqSubscribers === 0) return;
    for (let i = 0; i < 4; i++) {
      const bit = 1 << i;
      if ((changed & bit) === 0) continue;
      const level = (out & bit) !== 0;
      for (const fn of this.lineListeners[i]!.slice()) {
        try {
          fn(level);
        } catch (e) {
          this.hookError(e, `irq:${MAILBOX_IRQ_LINES[i]}`);
        }
      }
    }
  }

  private lineLevel(line: MailboxIrqLine): boolean {
    const bit = IRQ_LINE_BIT[line];
    if (!this.isM3) return (this.condition() & bit) !== 0;
    return (this.irqLatched & this.irqEnable & bit) !== 0;
  }

  private subscribeLine(line: MailboxIrqLine, fn: (level: boolean) => void): () => void {
    const i = MAILBOX_IRQ_LINES.indexOf(line);
    if (i < 0) throw new RtkitError('BAD_INPUT', `unknown interrupt line ${String(line)}`);
    if (this.irqSubscribers === 0 && !this.isM3) {
      // Lines are not tracked while nobody listens; start from the current levels.
      this.irqCond = this.condition();
      this.irqOut = this.irqCond;
    }
    this.irqSubscribers++;
    const remove = addListener(this.lineListeners[i]!, fn);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      remove();
      this.irqSubscribers--;
    };
  }
}

function addListener<F>(list: F[], fn: F): () => void {
  list.push(fn);
  return () => {
    const i = list.indexOf(fn);
    if (i >= 0) list.splice(i, 1);
  };
}
