/**
 * The host side of an ASC mailbox over any `Mmio` (PROTOCOL.md §1.6): the register-level
 * `MailboxTransport`. The same code runs over the simulated SoC's bus in process and over the
 * m1n1 proxy.
 *
 *  - send: poll A2I_CONTROL until FULL = 0 (waiting on the injected clock between polls, bounded
 *    by the send's timeout), then write SEND0 = msg0 and SEND1 = endpoint. One send at a time,
 *    in call order.
 *  - receive: read I2A_CONTROL; while not EMPTY read RECV0 then RECV1 (which dequeues);
 *    endpoint = RECV1 & 0xff, bookkeeping ignored (§1.5). Drains are serialised so that two
 *    drains never interleave their RECV0/RECV1 pairs.
 *  - modes: `poll()` on demand, a periodic poll on the clock (`pollIntervalMs`), and/or
 *    notification mode (drain whenever the recv-not-empty line rises; `interrupts`).
 *
 * Received messages go into an unbounded queue before anything can fail, and are delivered in
 * order; a throwing receiver is reported and delivery continues (ROBUSTNESS B29).
 */

import type { Clock, TimerHandle } from '../clock.js';
import { macrotask, systemClock } from '../clock.js';
import { isRtkitError, RtkitError } from '../errors.js';
import { Inbox } from './inbox.js';
import type { MailboxInterrupts } from './interrupts.js';
import { Queue } from './queue.js';
import {
  ENDPOINT_WORDS,
  isValidEndpoint,
  isValidMsg0,
  M3Irq,
  MAILBOX_LAYOUTS,
  type MailboxVariant,
  MboxControl,
} from './registers.js';
import type { MailboxMessage, MailboxTransport, Mmio, SendOptions } from './types.js';

export interface AscMailboxDriverOptions {
  mmio: Mmio;
  /** Physical address of the mailbox block (ASC base + 0x8000). */
  base: number;
  /** Register layout; default `asc-v4`. */
  variant?: MailboxVariant;
  /** Time source for send timeouts and poll intervals; default the system clock. */
  clock?: Clock;
  /** Default send timeout (ms); 500, as Linux. */
  timeoutMs?: number;
  /** Interval between A2I_CONTROL polls while the FIFO is FULL (ms); default 1. */
  sendPollMs?: number;
  /** Poll for received messages every this many ms on the clock; default off. */
  pollIntervalMs?: number;
  /** Notification mode: drain when the recv-not-empty line rises. */
  interrupts?: MailboxInterrupts;
  /** Most messages read by one drain before it yields (a firmware that refills forever). */
  maxDrain?: number;
}

export interface AscMailboxDriverStats {
  /** Messages written to SEND1. */
  sent: number;
  /** Messages read from RECV1. */
  received: number;
  /** Received, not yet delivered (no receiver yet). */
  buffered: number;
  /** Drains run (poll, periodic or notification). */
  drains: number;
  sendTimeouts: number;
  receiverErrors: number;
  /** Errors of background drains (periodic, notification) and of a failing onError. */
  backgroundErrors: number;
}

const FULL = MboxControl.FULL.maskLo;
const EMPTY = MboxControl.EMPTY.maskLo;
const I2A_NOT_EMPTY = M3Irq.I2A_NOT_EMPTY.maskLo;

const QUEUED = 0;
const WRITING = 1;
const SETTLED = 2;

interface PendingSend {
  readonly ep: number;
  readonly msg: bigint;
  readonly deadline: number;
  readonly timeoutMs: number;
  state: number;
  resolve: () => void;
  reject: (e: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

function hex64(v: bigint): string {
  return `0x${v.toString(16).padStart(16, '0')}`;
}

function closedError(): RtkitError {
  return new RtkitError('TRANSPORT_CLOSED', 'the mailbox transport is closed');
}

export class AscMailboxDriver implements MailboxTransport {
  readonly variant: MailboxVariant;
  readonly base: number;

  private readonly mmio: Mmio;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly sendPollMs: number;
  private readonly maxDrain: number;
  private readonly a2iControl: number;
  private readonly a2iSend0: number;
  private readonly a2iSend1: number;
  private readonly i2aControl: number;
  private readonly i2aRecv0: number;
  private readonly i2aRecv1: number;
  private readonly irqAck: number | undefined;
  private readonly irqEnable: number | undefined;

  private isClosed = false;
  private closing: Promise<void> | undefined;

  // send side
  private readonly sends = new Queue<PendingSend>();
  private pumping: Promise<void> | undefined;
  private waitTimer: TimerHandle | undefined;
  private waitWake: (() => void) | undefined;

  // receive side
  private readonly inbox = new Inbox(
    () => this.receiver,
    (e) => {
      this.counts.receiverErrors++;
      this.report(e);
    },
  );
  private receiver: ((m: MailboxMessage) => void) | undefined;
  private onError: ((e: unknown) => void) | undefined;
  private rxTail: Promise<unknown> = Promise.resolve();
  private drainRequested = false;
  private ackIrq = false;
  private pollTimer: TimerHandle | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly background: boolean;

  private readonly counts = {
    sent: 0,
    received: 0,
    drains: 0,
    sendTimeouts: 0,
    receiverErrors: 0,
    backgroundErrors: 0,
  };

  constructor(opts: AscMailboxDriverOptions) {
    const variant = opts.variant ?? 'asc-v4';
    const layout = MAILBOX_LAYOUTS[variant];
    if (layout === undefined) {
      throw new RtkitError('BAD_INPUT', `unknown mailbox variant ${String(variant)}`);
    }
    if (!Number.isSafeInteger(opts.base) || opts.base < 0) {
      throw new RtkitError('BAD_INPUT', 'mailbox base must be a non-negative integer', {
        base: opts.base,
      });
    }
    this.variant = variant;
    this.base = opts.base;
    this.mmio = opts.mmio;
    this.clock = opts.clock ?? systemClock;
    this.timeoutMs = positive(opts.timeoutMs, 500, 'timeoutMs', true);
    this.sendPollMs = positive(opts.sendPollMs, 1, 'sendPollMs', false);
    this.maxDrain = positive(opts.maxDrain, 1024, 'maxDrain', false);
    const b = opts.base;
    this.a2iControl = b + layout.a2iControl;
    this.a2iSend0 = b + layout.a2iSend0;
    this.a2iSend1 = b + layout.a2iSend1;
    this.i2aControl = b + layout.i2aControl;
    this.i2aRecv0 = b + layout.i2aRecv0;
    this.i2aRecv1 = b + layout.i2aRecv1;
    this.irqAck = layout.irqAck === undefined ? undefined : b + layout.irqAck;
    this.irqEnable = layout.irqEnable === undefined ? undefined : b + layout.irqEnable;
    this.background = opts.interrupts !== undefined || opts.pollIntervalMs !== undefined;

    if (opts.interrupts !== undefined) {
      const irq = opts.interrupts;
      this.ackIrq = this.irqAck !== undefined;
      this.unsubscribe = irq.subscribe('recv-not-empty', (level) => {
        if (level) this.requestDrain();
      });
      if (this.irqEnable !== undefined) {
        // M3: the line is masked until IRQ_ENABLE has its bit (read-modify-write).
        const en = this.irqEnable;
        this.rxTail = this.rxTail
          .then(async () => {
            const v = await this.mmio.read32(en);
            await this.mmio.write32(en, (v | I2A_NOT_EMPTY) >>> 0);
          })
          .then(noop, (e: unknown) => this.reportBackground(e));
      }
      // Messages may already be waiting; a level-triggered line would have told us.
      this.requestDrain();
    }
    if (opts.pollIntervalMs !== undefined) {
      const every = positive(opts.pollIntervalMs, 1, 'pollIntervalMs', false);
      const tick = (): void => {
        this.pollTimer = undefined;
        if (this.isClosed) return;
        this.queueDrain().then(
          () => this.armPoll(every, tick),
          (e: unknown) => {
            this.reportBackground(e);
            this.armPoll(every, tick);
          },
        );
      };
      this.armPoll(every, tick);
    }
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get stats(): AscMailboxDriverStats {
    return { ...this.counts, buffered: this.inbox.length };
  }

  // ---------------------------------------------------------------- send

  send(ep: number, msg: bigint, opts?: SendOptions): Promise<void> {
    if (!isValidEndpoint(ep)) {
      return Promise.reject(
        new RtkitError('ENDPOINT_INVALID', `endpoint ${String(ep)} is not an integer 0–255`, {
          ep,
        }),
      );
    }
    if (!isValidMsg0(msg)) {
      return Promise.reject(
        new RtkitError('BAD_INPUT', 'msg0 must be a bigint in [0, 2^64)', { msg: String(msg) }),
      );
    }
    if (this.isClosed) return Promise.reject(closedError());
    const signal = opts?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const timeoutMs = opts?.timeoutMs ?? this.timeoutMs;
    return new Promise<void>((resolve, reject) => {
      const s: PendingSend = {
        ep,
        msg,
        timeoutMs,
        deadline: this.clock.now() + timeoutMs,
        state: QUEUED,
        resolve,
        reject,
        signal,
        onAbort: undefined,
      };
      // No abort listener yet: most sends are written within a few microtasks, and a listener
      // per send costs more than the send. The pump checks `aborted` before committing a word
      // and arms listeners only when it has to wait for FIFO space (armAborts).
      this.sends.push(s);
      if (this.pumping === undefined) this.pumping = this.pump();
    });
  }

  private async pump(): Promise<void> {
    const q = this.sends;
    const mmio = this.mmio;
    for (;;) {
      const s = q.peek();
      if (s === undefined) break;
      if (s.state !== QUEUED) {
        q.shift();
        continue;
      }
      if (s.signal?.aborted) {
        this.settle(s, s.signal.reason);
        continue;
      }
      try {
        let ctl = await mmio.read32(this.a2iControl);
        while ((ctl & FULL) !== 0 && s.state === QUEUED) {
          // Sends queued meanwhile must be abortable at once too.
          this.armAborts();
          const now = this.clock.now();
          this.expire(now);
          if (s.state !== QUEUED) break;
          await this.waitFor(Math.min(this.sendPollMs, s.deadline - now));
          if (s.state !== QUEUED) break;
          ctl = await mmio.read32(this.a2iControl);
        }
        if (s.state !== QUEUED) continue;
        if (s.signal?.aborted) {
          this.settle(s, s.signal.reason);
          continue;
        }
        // Committed: a message is never half-written, whatever happens meanwhile.
        s.state = WRITING;
        await mmio.write64(this.a2iSend0, s.msg);
        await mmio.write64(this.a2iSend1, ENDPOINT_WORDS[s.ep]!);
        this.counts.sent++;
        this.settle(s, undefined);
      } catch (e) {
        this.settle(s, e);
      }
    }
    this.pumping = undefined;
  }

  /** While the FIFO is full, an abort must reject at once: listen on every waiting send. */
  private armAborts(): void {
    for (const s of this.sends) {
      const signal = s.signal;
      if (s.state !== QUEUED || signal === undefined || s.onAbort !== undefined) continue;
      if (signal.aborted) {
        this.settle(s, signal.reason);
        continue;
      }
      s.onAbort = () => {
        if (s.state !== QUEUED) return;
        this.settle(s, signal.reason);
        this.wake();
      };
      signal.addEventListener('abort', s.onAbort, { once: true });
    }
  }

  /** Reject every queued send whose deadline has passed (only checked while the FIFO is full). */
  private expire(now: number): void {
    for (const s of this.sends) {
      if (s.state === QUEUED && now >= s.deadline) {
        this.counts.sendTimeouts++;
        this.settle(
          s,
          new RtkitError(
            'TRANSPORT_TIMEOUT',
            `mailbox send FIFO stayed full for ${s.timeoutMs} ms`,
            { ep: s.ep, msg: hex64(s.msg), timeoutMs: s.timeoutMs },
          ),
        );
      }
    }
  }

  private settle(s: PendingSend, error: unknown): void {
    if (s.state === SETTLED) return;
    s.state = SETTLED;
    if (s.onAbort !== undefined) s.signal?.removeEventListener('abort', s.onAbort);
    if (error === undefined) s.resolve();
    else s.reject(error);
  }

  /** Sleep on the clock; `wake()` ends the sleep early (abort, close). */
  private waitFor(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waitWake = resolve;
      this.waitTimer = this.clock.setTimer(Math.max(0, ms), () => {
        this.waitTimer = undefined;
        this.waitWake = undefined;
        resolve();
      });
    });
  }

  private wake(): void {
    if (this.waitTimer !== undefined) this.clock.clearTimer(this.waitTimer);
    this.waitTimer = undefined;
    const w = this.waitWake;
    this.waitWake = undefined;
    w?.();
  }

  // ---------------------------------------------------------------- receive

  setReceiver(fn: (m: MailboxMessage) => void, onError?: (e: unknown) => void): void {
    this.receiver = fn;
    this.onError = onError;
    if (this.inbox.length !== 0) queueMicrotask(() => this.deliver());
  }

  poll(): Promise<number> {
    if (this.isClosed) return Promise.reject(closedError());
    return this.queueDrain();
  }

  /** Run a drain after every drain already queued (two drains never interleave). */
  private queueDrain(): Promise<number> {
    const p = this.rxTail.then(() => this.drain());
    this.rxTail = p.then(noop, noop);
    return p;
  }

  /** Notification: coalesce into one queued drain. */
  private requestDrain(): void {
    if (this.drainRequested || this.isClosed) return;
    this.drainRequested = true;
    this.queueDrain().then(noop, (e: unknown) => this.reportBackground(e));
  }

  private async drain(): Promise<number> {
    this.drainRequested = false;
    if (this.isClosed) return 0;
    this.counts.drains++;
    const mmio = this.mmio;
    let n = 0;
    for (;;) {
      if (this.isClosed) break;
      if (n >= this.maxDrain) {
        // The firmware keeps refilling: let the rest of the program run, then carry on.
        if (this.background) void macrotask().then(() => this.requestDrain());
        break;
      }
      const ctl = await mmio.read32(this.i2aControl);
      if ((ctl & EMPTY) !== 0) {
        if (!this.ackIrq) break;
        // M3: acknowledge, then look again: a message that arrived meanwhile re-latches the line
        // but a driver must not rely on seeing that edge.
        await mmio.write32(this.irqAck!, I2A_NOT_EMPTY);
        const again = await mmio.read32(this.i2aControl);
        if ((again & EMPTY) !== 0) break;
        continue;
      }
      const msg = await mmio.read64(this.i2aRecv0);
      const msg1 = await mmio.read64(this.i2aRecv1);
      // Bits above [7:0] are FIFO bookkeeping on real hardware (§1.5): never part of the endpoint.
      const ep = msg1 <= 0xffn ? Number(msg1) : Number(msg1 & 0xffn);
      n++;
      this.counts.received++;
      this.inbox.push({ ep, msg });
      this.deliver();
    }
    return n;
  }

  private deliver(): void {
    this.inbox.deliver();
  }

  private report(e: unknown): void {
    const h = this.onError;
    if (h === undefined) return;
    try {
      h(e);
    } catch {
      this.counts.backgroundErrors++;
    }
  }

  private reportBackground(e: unknown): void {
    if (isRtkitError(e, 'TRANSPORT_CLOSED')) return;
    this.counts.backgroundErrors++;
    this.report(e);
  }

  private armPoll(every: number, tick: () => void): void {
    if (this.isClosed) return;
    this.pollTimer = this.clock.setTimer(every, tick);
  }

  // ---------------------------------------------------------------- close

  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.isClosed = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.pollTimer !== undefined) this.clock.clearTimer(this.pollTimer);
    this.pollTimer = undefined;
    for (const s of this.sends) if (s.state === QUEUED) this.settle(s, closedError());
    this.wake();
    const pump = this.pumping ?? Promise.resolve();
    this.closing = Promise.all([pump, this.rxTail]).then(noop, noop);
    return this.closing;
  }
}

function noop(): void {}

function positive(v: number | undefined, dflt: number, name: string, zeroOk: boolean): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!zeroOk && v === 0)) {
    throw new RtkitError(
      'BAD_INPUT',
      `${name} must be a ${zeroOk ? 'non-negative' : 'positive'} number`,
      {
        [name]: v,
      },
    );
  }
  return v;
}
