/**
 * Time is injected everywhere (STYLE.md): the host session, the simulator and the transports
 * take a Clock. `systemClock` is real time; `VirtualClock` is deterministic time for tests and
 * the simulator, where a 1 s protocol timeout costs no wall time.
 */

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Milliseconds (fractions allowed); only differences are meaningful. */
  now(): number;
  /** Call `fn` once, `ms` from now (ms ≤ 0: at the next opportunity, never synchronously). */
  setTimer(ms: number, fn: () => void): TimerHandle;
  clearTimer(h: TimerHandle): void;
}

let nextSystemId = 1;

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    const h = { id: nextSystemId++, t };
    return h;
  },
  clearTimer(h) {
    clearTimeout((h as { t?: ReturnType<typeof setTimeout> }).t);
  },
};

/** Resolve after `ms` on `clock`; rejects with the signal's reason when aborted. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clock.clearTimer(h);
      reject(signal!.reason);
    };
    const h = clock.setTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface Pending {
  id: number;
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * Deterministic time. Timers fire in (time, creation order) order when the clock is advanced,
 * either explicitly (`advance`, `runNext`) or by `autoAdvance`, which jumps to the next timer
 * whenever the program is otherwise idle (all promise jobs and I/O callbacks have run).
 */
export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private nextId = 1;
  private readonly queue: Pending[] = [];
  private readonly live = new Set<number>();

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    const p: Pending = { id, at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    // Binary insertion keeps the queue sorted by (at, seq).
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const q = this.queue[mid]!;
      if (q.at < p.at || (q.at === p.at && q.seq < p.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, p);
    this.live.add(id);
    return { id };
  }

  clearTimer(h: TimerHandle): void {
    this.live.delete(h.id);
  }

  /** Timers still scheduled. */
  get pending(): number {
    let n = 0;
    for (const p of this.queue) if (this.live.has(p.id)) n++;
    return n;
  }

  /** Fire the earliest timer, moving time to it. False when none is left. */
  runNext(): boolean {
    while (this.queue.length > 0) {
      const p = this.queue.shift()!;
      if (!this.live.delete(p.id)) continue;
      if (p.at > this.t) this.t = p.at;
      p.fn();
      return true;
    }
    return false;
  }

  /** Move time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.t + Math.max(0, ms);
    for (;;) {
      const p = this.queue[0];
      if (p === undefined || p.at > end) break;
      this.queue.shift();
      if (!this.live.delete(p.id)) continue;
      this.t = p.at;
      p.fn();
    }
    this.t = end;
  }

  /**
   * Let async code run against virtual time: whenever everything else is idle, jump to the next
   * timer. Returns a function that stops it. Stops by itself after `maxIdleTurns` turns with no
   * timer left (default: never).
   */
  autoAdvance(opts: { maxIdleTurns?: number } = {}): () => void {
    let stopped = false;
    let idle = 0;
    const loop = async (): Promise<void> => {
      while (!stopped) {
        await macrotask();
        if (stopped) break;
        if (!this.runNext()) {
          idle++;
          if (opts.maxIdleTurns !== undefined && idle >= opts.maxIdleTurns) break;
        } else idle = 0;
      }
    };
    void loop();
    return () => {
      stopped = true;
    };
  }
}

/** Yield until pending promise jobs and already-queued I/O callbacks have run. */
export function macrotask(): Promise<void> {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown };
  if (typeof g.setImmediate === 'function') {
    return new Promise((resolve) => {
      g.setImmediate!(resolve);
    });
  }
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(0);
  });
}
