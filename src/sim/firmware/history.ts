/**
 * The firmware's mailbox history: every message it dequeued from A2I or enqueued to I2A, in that
 * order, stamped in the IOP timebase with the direction in bit 0 (odd = AP→IOP, PROTOCOL.md
 * §7.4). A crash dumps its tail as `Cmbx`.
 */

import type { Direction } from '../../protocol/index.js';
import type { HistoryEntry } from './types.js';

/**
 * Timebase ticks per virtual millisecond. Apple SoCs run a 24 MHz system counter, and the
 * `Cmbx`/`Ctim` values of the #142 fixture advance at a rate consistent with it [inferred].
 */
export const IOP_TICKS_PER_MS = 24_000;

/** The IOP timebase: monotonic ticks derived from virtual time. */
export class IopTimebase {
  #last = -1n;

  /** Ticks at virtual time `now` (never below an earlier stamp). */
  now(now: number): bigint {
    const t = BigInt(Math.max(0, Math.floor(now * IOP_TICKS_PER_MS)));
    return t > this.#last ? t : this.#last;
  }

  /**
   * A fresh stamp for a message: strictly after the previous one, bit 0 set for AP→IOP and
   * clear for IOP→AP (macOS prints `[RX]` for odd stamps, the IOP's view).
   */
  stamp(now: number, dir: Direction): bigint {
    const bit = dir === 'ap->iop' ? 1n : 0n;
    let t = (this.now(now) & ~1n) | bit;
    while (t <= this.#last) t += 2n;
    this.#last = t;
    return t;
  }

  reset(): void {
    this.#last = -1n;
  }
}

/** A bounded ring of history entries, oldest first. */
export class MailboxHistory {
  readonly depth: number;
  readonly timebase = new IopTimebase();
  #entries: HistoryEntry[] = [];

  constructor(depth: number) {
    this.depth = Math.max(0, Math.floor(depth));
  }

  record(now: number, dir: Direction, ep: number, msg: bigint): HistoryEntry {
    const e: HistoryEntry = { time: now, dir, ep, msg, timestamp: this.timebase.stamp(now, dir) };
    if (this.depth > 0) {
      this.#entries.push(e);
      if (this.#entries.length > this.depth) this.#entries.shift();
    }
    return e;
  }

  get entries(): readonly HistoryEntry[] {
    return this.#entries;
  }

  /** The last `n` entries, oldest first. */
  tail(n: number): HistoryEntry[] {
    return n <= 0 ? [] : this.#entries.slice(-n);
  }

  /** A CPU reset loses the IOP's memory. */
  clear(): void {
    this.#entries = [];
    this.timebase.reset();
  }
}
