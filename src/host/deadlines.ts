/**
 * Many deadlines, one clock timer. A request/reply round trip must not cost a `setTimeout` and a
 * `clearTimeout` (that alone would cap the session far below its 500 000 round trips per second):
 * entries are kept in arrival order, the clock timer is armed for the earliest live deadline, and
 * settled entries are dropped lazily — from the head as new ones arrive (replies mostly come in
 * order) and in a sweep when the timer fires.
 */

import type { Clock, TimerHandle } from '../clock.js';
import { Queue } from '../mailbox/queue.js';

export interface Deadline {
  /** Absolute time on the clock (ms). */
  readonly deadline: number;
  /** True once settled by anybody: the queue forgets it. */
  readonly done: boolean;
  /** Called once when the deadline passes while not done. */
  expire(): void;
}

export class DeadlineQueue {
  readonly #clock: Clock;
  #items = new Queue<Deadline>();
  #timer: TimerHandle | undefined;
  #armedAt = Number.POSITIVE_INFINITY;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Entries held (live or not yet swept): for leak tests. */
  get size(): number {
    return this.#items.length;
  }

  add(d: Deadline): void {
    const q = this.#items;
    for (let head = q.peek(); head?.done; head = q.peek()) q.shift();
    q.push(d);
    if (d.deadline < this.#armedAt) this.#arm(d.deadline);
  }

  /** Forget everything (the owner settles the entries itself). */
  clear(): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    this.#items = new Queue<Deadline>();
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#armedAt = at;
    this.#timer = this.#clock.setTimer(at - this.#clock.now(), () => this.#fire());
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    const keep = new Queue<Deadline>();
    const due: Deadline[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (let d = this.#items.shift(); d !== undefined; d = this.#items.shift()) {
      if (d.done) continue;
      if (d.deadline <= now) due.push(d);
      else {
        keep.push(d);
        if (d.deadline < next) next = d.deadline;
      }
    }
    this.#items = keep;
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
    for (const d of due) if (!d.done) d.expire();
  }
}
