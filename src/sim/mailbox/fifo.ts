/**
 * One direction of a simulated ASC mailbox: a bounded FIFO with the hardware's 4-bit pointers,
 * sticky OVERFLOW/UNDERFLOW flags and the CONTROL register view (PROTOCOL.md §1.4, §1.6).
 *
 * Pointers count every enqueue/dequeue mod 16 whatever the depth, so `FIFOCNT = (WPTR − RPTR)
 * mod 16` always holds, as in real dumps. With the default depth of 16 a full FIFO therefore
 * shows WPTR == RPTR and FIFOCNT 0, exactly like an empty one: FULL and EMPTY tell them apart.
 */

import { RtkitError } from '../../errors.js';
import {
  MBOX_MAX_DEPTH,
  MBOX_PTR_MOD,
  MboxControl,
  MboxRecv1,
  recv1High,
} from '../../mailbox/registers.js';

const ENABLE = MboxControl.ENABLE.maskLo;
const FULL = MboxControl.FULL.maskLo;
const EMPTY = MboxControl.EMPTY.maskLo;
const OVERFLOW = MboxControl.OVERFLOW.maskLo;
const UNDERFLOW = MboxControl.UNDERFLOW.maskLo;
const WPTR_SHIFT = MboxControl.WPTR.lo;
const RPTR_SHIFT = MboxControl.RPTR.lo;
const CNT_SHIFT = MboxControl.FIFOCNT.lo;
const CNT_MASK = MboxControl.FIFOCNT.max;
const PTR_MASK = MBOX_PTR_MOD - 1;

export interface FifoCounters {
  /** Messages that entered the FIFO. */
  enqueued: number;
  /** Messages that left it. */
  dequeued: number;
  /** SEND1 writes while FULL (message dropped). */
  overflows: number;
  /** RECV1 reads while EMPTY (read 0). */
  underflows: number;
}

export class MailboxFifo {
  readonly depth: number;
  private readonly msgs: bigint[];
  private readonly eps: Uint8Array;
  private head = 0;
  private n = 0;
  private wptr = 0;
  private rptr = 0;
  private overflowFlag = false;
  private underflowFlag = false;
  /** Test knob: report FULL (and refuse writes) regardless of the fill level. */
  holdFull = false;
  readonly counters: FifoCounters = { enqueued: 0, dequeued: 0, overflows: 0, underflows: 0 };

  constructor(depth: number) {
    if (!Number.isInteger(depth) || depth < 1 || depth > MBOX_MAX_DEPTH) {
      throw new RtkitError('BAD_INPUT', `mailbox FIFO depth must be 1–${MBOX_MAX_DEPTH}`, {
        depth,
      });
    }
    this.depth = depth;
    this.msgs = new Array<bigint>(depth).fill(0n);
    this.eps = new Uint8Array(depth);
  }

  get count(): number {
    return this.n;
  }

  get full(): boolean {
    return this.holdFull || this.n >= this.depth;
  }

  get empty(): boolean {
    return this.n === 0;
  }

  /** Enqueue; false (and nothing changes) when full. Does not touch OVERFLOW. */
  push(ep: number, msg: bigint): boolean {
    if (this.holdFull || this.n >= this.depth) return false;
    let i = this.head + this.n;
    if (i >= this.depth) i -= this.depth;
    this.msgs[i] = msg;
    this.eps[i] = ep;
    this.n++;
    this.wptr = (this.wptr + 1) & PTR_MASK;
    this.counters.enqueued++;
    return true;
  }

  /** A write that hit a full FIFO: the message is dropped and OVERFLOW latches. */
  recordOverflow(): void {
    this.overflowFlag = true;
    this.counters.overflows++;
  }

  /** A dequeuing read of an empty FIFO: it reads 0 and UNDERFLOW latches. */
  recordUnderflow(): void {
    this.underflowFlag = true;
    this.counters.underflows++;
  }

  /** msg0 of the oldest entry, 0n when empty. No side effect. */
  peekMsg(): bigint {
    return this.n === 0 ? 0n : this.msgs[this.head]!;
  }

  /** Endpoint of the oldest entry, 0 when empty. */
  peekEp(): number {
    return this.n === 0 ? 0 : this.eps[this.head]!;
  }

  /**
   * High half of the RECV1 value for the oldest entry in "realistic" mode (§1.5 interpretation):
   * INPTR = write index, OUTPTR = slot being read, INCNT = 0, OUTCNT = entries including this one.
   */
  peekRecv1High(): number {
    return recv1High(this.wptr, this.rptr, 0, Math.min(this.n, MboxRecv1.OUTCNT.max));
  }

  /** Drop the oldest entry (caller checked it exists). */
  drop(): void {
    this.msgs[this.head] = 0n;
    this.head++;
    if (this.head === this.depth) this.head = 0;
    this.n--;
    this.rptr = (this.rptr + 1) & PTR_MASK;
    this.counters.dequeued++;
  }

  /** The CONTROL register. */
  control(): number {
    let v = ENABLE | (this.wptr << WPTR_SHIFT) | (this.rptr << RPTR_SHIFT);
    v |= ((this.n % MBOX_PTR_MOD) & CNT_MASK) << CNT_SHIFT;
    if (this.holdFull || this.n >= this.depth) v |= FULL;
    if (this.n === 0) v |= EMPTY;
    if (this.overflowFlag) v |= OVERFLOW;
    if (this.underflowFlag) v |= UNDERFLOW;
    return v >>> 0;
  }

  /** A write to CONTROL: OVERFLOW and UNDERFLOW are write-one-to-clear; other bits read-only. */
  writeControl(v: number): void {
    if (v & OVERFLOW) this.overflowFlag = false;
    if (v & UNDERFLOW) this.underflowFlag = false;
  }

  /** Empty the FIFO, zero the pointers and clear the flags (not the counters or holdFull). */
  reset(): void {
    this.msgs.fill(0n);
    this.eps.fill(0);
    this.head = 0;
    this.n = 0;
    this.wptr = 0;
    this.rptr = 0;
    this.overflowFlag = false;
    this.underflowFlag = false;
  }

  /** Test knob: move both pointers to `ptr` (FIFO must be empty), to reproduce dump values. */
  setPointers(ptr: number): void {
    if (this.n !== 0) throw new RtkitError('BAD_INPUT', 'FIFO must be empty to move its pointers');
    this.wptr = ptr & PTR_MASK;
    this.rptr = ptr & PTR_MASK;
  }
}
