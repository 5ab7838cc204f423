/**
 * A direct in-process `MailboxTransport` pair, for unit tests of code above the mailbox: what
 * one end sends the other receives, with the semantics of the register-level driver (ordering,
 * exactly-once delivery, buffering before a receiver is set, throwing receivers, send timeouts
 * under backpressure, close). No registers, no polling loop: space and arrivals are signalled
 * directly, and only a blocked send uses a timer.
 */

import type { Clock, TimerHandle } from '../clock.js';
import { systemClock } from '../clock.js';
import { RtkitError } from '../errors.js';
import { Inbox } from './inbox.js';
import { Queue } from './queue.js';
import { isValidEndpoint, isValidMsg0 } from './registers.js';
import type { MailboxMessage, MailboxTransport, SendOptions } from './types.js';

/** `auto`: arrivals are delivered on a microtask. `poll`: only when `poll()` is called. */
export type ChannelDelivery = 'auto' | 'poll';
export type ChannelSide = 'ap' | 'iop';

export interface ChannelPairOptions {
  /** Time source for send timeouts; default the system clock. */
  clock?: Clock;
  /**
   * Messages each direction holds before a sender waits (like a hardware FIFO); default
   * unbounded. Messages leave the FIFO when the receiving end drains it, even before a
   * receiver is set (they are then buffered at that end).
   */
  depth?: number;
  /** Default send timeout (ms); 500. */
  timeoutMs?: number;
  delivery?: { ap?: ChannelDelivery; iop?: ChannelDelivery };
  /** Called once per message that enters a FIFO (e.g. for a trace). */
  onTraffic?: (dir: 'ap->iop' | 'iop->ap', ep: number, msg: bigint) => void;
}

export interface ChannelPair {
  /** The host's end: sends AP→IOP, receives IOP→AP. */
  readonly ap: ChannelEnd;
  /** The co-processor's end. */
  readonly iop: ChannelEnd;
}

export function createChannelPair(opts: ChannelPairOptions = {}): ChannelPair {
  const depth = opts.depth ?? Number.POSITIVE_INFINITY;
  if (!(depth === Number.POSITIVE_INFINITY || (Number.isInteger(depth) && depth >= 1))) {
    throw new RtkitError('BAD_INPUT', 'channel depth must be a positive integer', { depth });
  }
  const timeoutMs = opts.timeoutMs ?? 500;
  if (!(Number.isFinite(timeoutMs) && timeoutMs >= 0)) {
    throw new RtkitError('BAD_INPUT', 'timeoutMs must be a non-negative number', { timeoutMs });
  }
  const clock = opts.clock ?? systemClock;
  const toIop = new Lane(depth, 'ap->iop', opts.onTraffic);
  const toAp = new Lane(depth, 'iop->ap', opts.onTraffic);
  const ap = new ChannelEnd('ap', toIop, toAp, opts.delivery?.ap ?? 'auto', clock, timeoutMs);
  const iop = new ChannelEnd('iop', toAp, toIop, opts.delivery?.iop ?? 'auto', clock, timeoutMs);
  ap.peer = iop;
  iop.peer = ap;
  return { ap, iop };
}

class Lane {
  readonly fifo = new Queue<MailboxMessage>();
  holdFull = false;

  constructor(
    readonly depth: number,
    readonly dir: 'ap->iop' | 'iop->ap',
    readonly tap: ChannelPairOptions['onTraffic'],
  ) {}

  get full(): boolean {
    return this.holdFull || this.fifo.length >= this.depth;
  }

  put(m: MailboxMessage): void {
    this.fifo.push(m);
    if (this.tap !== undefined) {
      try {
        this.tap(this.dir, m.ep, m.msg);
      } catch {
        // a trace tap must not break the link
      }
    }
  }
}

interface Blocked {
  readonly m: MailboxMessage;
  readonly timeoutMs: number;
  done: boolean;
  timer: TimerHandle | undefined;
  resolve: () => void;
  reject: (e: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const RESOLVED: Promise<void> = Promise.resolve();

function closedError(peer: boolean): RtkitError {
  return new RtkitError(
    'TRANSPORT_CLOSED',
    peer ? 'the other end of the channel is closed' : 'the channel end is closed',
    { peer },
  );
}

export class ChannelEnd implements MailboxTransport {
  /** @internal The other end; set by createChannelPair. */
  peer!: ChannelEnd;

  private isClosed = false;
  private readonly blocked = new Queue<Blocked>();
  private readonly inbox = new Inbox(
    () => this.receiver,
    (e) => {
      this.receiverErrorCount++;
      try {
        this.onError?.(e);
      } catch {
        // nowhere left to report to
      }
    },
  );
  private receiver: ((m: MailboxMessage) => void) | undefined;
  private onError: ((e: unknown) => void) | undefined;
  private drainScheduled = false;
  private receiverErrorCount = 0;

  constructor(
    readonly side: ChannelSide,
    private readonly out: Lane,
    private readonly inn: Lane,
    private readonly delivery: ChannelDelivery,
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  /** Messages in the FIFO towards this end, not yet drained. */
  get pending(): number {
    return this.inn.fifo.length;
  }

  /** Messages drained but not yet delivered (no receiver set). */
  get buffered(): number {
    return this.inbox.length;
  }

  get receiverErrors(): number {
    return this.receiverErrorCount;
  }

  /** Test knob: this end's sends see a full FIFO until released (ROBUSTNESS B30). */
  holdFull(hold: boolean): void {
    this.out.holdFull = hold;
    if (!hold) this.onSpace();
  }

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
    if (this.isClosed) return Promise.reject(closedError(false));
    if (this.peer.isClosed) return Promise.reject(closedError(true));
    const signal = opts?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const m: MailboxMessage = { ep, msg };
    if (this.blocked.length === 0 && !this.out.full) {
      this.out.put(m);
      this.peer.arrived();
      return RESOLVED;
    }
    const timeoutMs = opts?.timeoutMs ?? this.timeoutMs;
    return new Promise<void>((resolve, reject) => {
      const b: Blocked = {
        m,
        timeoutMs,
        done: false,
        timer: undefined,
        resolve,
        reject,
        signal,
        onAbort: undefined,
      };
      b.timer = this.clock.setTimer(timeoutMs, () => {
        b.timer = undefined;
        this.finish(
          b,
          new RtkitError('TRANSPORT_TIMEOUT', `channel FIFO stayed full for ${timeoutMs} ms`, {
            ep,
            msg: `0x${msg.toString(16).padStart(16, '0')}`,
            timeoutMs,
          }),
        );
      });
      if (signal !== undefined) {
        b.onAbort = () => this.finish(b, signal.reason);
        signal.addEventListener('abort', b.onAbort, { once: true });
      }
      this.blocked.push(b);
    });
  }

  setReceiver(fn: (m: MailboxMessage) => void, onError?: (e: unknown) => void): void {
    this.receiver = fn;
    this.onError = onError;
    if (this.inbox.length !== 0) queueMicrotask(() => this.deliver());
  }

  poll(): Promise<number> {
    if (this.isClosed) return Promise.reject(closedError(false));
    return Promise.resolve(this.drain());
  }

  close(): Promise<void> {
    if (!this.isClosed) {
      this.isClosed = true;
      this.failBlocked(closedError(false));
      // Nobody will drain this end again: the other side's blocked sends cannot complete.
      this.peer.failBlocked(closedError(true));
    }
    return RESOLVED;
  }

  // ---------------------------------------------------------------- internals

  /** A message entered the FIFO towards this end. */
  private arrived(): void {
    if (this.delivery !== 'auto' || this.drainScheduled || this.isClosed) return;
    this.drainScheduled = true;
    queueMicrotask(() => {
      this.drainScheduled = false;
      if (!this.isClosed) this.drain();
    });
  }

  /** Move everything from the FIFO into the inbox, deliver, then tell the sender about space. */
  private drain(): number {
    const fifo = this.inn.fifo;
    let n = 0;
    for (let m = fifo.shift(); m !== undefined; m = fifo.shift()) {
      this.inbox.push(m);
      n++;
      this.deliver();
    }
    if (n !== 0) this.peer.onSpace();
    return n;
  }

  /** Room in this end's outgoing FIFO: complete blocked sends in order. */
  private onSpace(): void {
    let moved = false;
    while (!this.out.full) {
      const b = this.blocked.shift();
      if (b === undefined) break;
      if (b.done) continue;
      this.out.put(b.m);
      moved = true;
      this.finish(b, undefined);
    }
    if (moved) this.peer.arrived();
  }

  private finish(b: Blocked, error: unknown): void {
    if (b.done) return;
    b.done = true;
    if (b.timer !== undefined) this.clock.clearTimer(b.timer);
    b.timer = undefined;
    if (b.onAbort !== undefined) b.signal?.removeEventListener('abort', b.onAbort);
    if (error === undefined) b.resolve();
    else b.reject(error);
  }

  private failBlocked(e: RtkitError): void {
    for (let b = this.blocked.shift(); b !== undefined; b = this.blocked.shift()) this.finish(b, e);
  }

  private deliver(): void {
    this.inbox.deliver();
  }
}
