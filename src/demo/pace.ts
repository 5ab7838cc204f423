/**
 * How the demo's virtual time runs. `fast`: the clock jumps to the next timer whenever the
 * program is idle (`VirtualClock.autoAdvance`), so the whole session takes a fraction of a second.
 * `realtime`: the same jumps, one timer at a time, but never past the wall clock (scaled by
 * `rate`), so a person can watch it. Pacing only adds idle time between timers, which neither the
 * simulator nor the host code observes: both paces produce the same events in the same order.
 */

import { macrotask, type VirtualClock } from '../clock.js';

export type Pace = 'fast' | 'realtime';

export interface PaceOptions {
  /** `realtime`: virtual milliseconds per wall millisecond (default 1). */
  readonly rate?: number;
  /** Wall clock in ms (default `performance.now`), for tests. */
  readonly wallNow?: () => number;
}

/** Wall ms between looks at the wall clock once virtual time has caught up with it. */
const TICK_MS = 10;

/** Let `clock` run at `pace` until the returned function is called. */
export function runClock(clock: VirtualClock, pace: Pace, opts: PaceOptions = {}): () => void {
  if (pace === 'fast') return clock.autoAdvance();
  const rate = opts.rate ?? 1;
  if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be > 0: ${rate}`);
  const wallNow = opts.wallNow ?? (() => performance.now());
  const v0 = clock.now();
  const w0 = wallNow();
  let stopped = false;
  let wake: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // A do-nothing timer at the time the wall clock allows: the clock has no way to show its next
  // timer, but every timer due before the marker fires before it (time order, then creation
  // order), so the marker firing says "caught up: wait for the wall clock".
  let marker: ReturnType<VirtualClock['setTimer']> | undefined;
  let caughtUp = false;
  const onMarker = (): void => {
    marker = undefined;
    caughtUp = true;
  };

  const tick = (): Promise<void> =>
    new Promise((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, TICK_MS);
    });

  const loop = async (): Promise<void> => {
    while (!stopped) {
      await macrotask();
      if (stopped) break;
      if (marker === undefined) {
        const allowed = v0 + (wallNow() - w0) * rate;
        marker = clock.setTimer(Math.max(0, allowed - clock.now()), onMarker);
      }
      caughtUp = false;
      clock.runNext();
      if (caughtUp) await tick();
    }
  };
  void loop();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    if (marker !== undefined) clock.clearTimer(marker);
    wake?.();
  };
}
