// Pacing of virtual time: `fast` jumps from timer to timer; `realtime` never lets virtual time
// get ahead of the (here: stubbed) wall clock, and stops when told.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock.js';
import { runClock } from './pace.js';

async function eventually(ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('runClock', () => {
  it('fast: timers fire as soon as the program is idle', async () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    for (const at of [10, 1000, 60_000]) clock.setTimer(at, () => fired.push(clock.now()));
    const stop = runClock(clock, 'fast');
    await eventually(() => fired.length === 3);
    stop();
    expect(fired).toEqual([10, 1000, 60_000]);
  });

  it('realtime: a timer fires only once the wall clock has reached it (rate-scaled)', async () => {
    const clock = new VirtualClock();
    let wall = 0;
    const fired: number[] = [];
    clock.setTimer(0, () => fired.push(clock.now()));
    clock.setTimer(50, () => fired.push(clock.now()));
    clock.setTimer(60, () => fired.push(clock.now()));
    clock.setTimer(5000, () => fired.push(clock.now()));
    const stop = runClock(clock, 'realtime', { rate: 2, wallNow: () => wall });
    // Due now: at once. The rest waits for the wall clock, however long it takes.
    await eventually(() => fired.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(fired).toEqual([0]);
    // 2 virtual ms per wall ms: 25 wall ms reach the timer at 50, not the one at 60.
    wall = 25;
    await eventually(() => fired.length === 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(fired).toEqual([0, 50]);
    // Virtual time follows the wall clock between timers too.
    expect(clock.now()).toBe(50);
    wall = 30;
    await eventually(() => fired.length === 3);
    wall = 2499;
    await new Promise((r) => setTimeout(r, 100));
    expect(fired).toEqual([0, 50, 60]);
    expect(clock.now()).toBe(4998);
    wall = 2500;
    await eventually(() => fired.length === 4);
    expect(fired).toEqual([0, 50, 60, 5000]);
    stop();
  });

  it('realtime: stop() ends a wait at once; nothing fires afterwards', async () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    clock.setTimer(0, () => fired.push(1));
    clock.setTimer(1_000_000, () => fired.push(2));
    const stop = runClock(clock, 'realtime', { wallNow: () => 0 });
    await eventually(() => fired.length === 1);
    stop();
    await new Promise((r) => setTimeout(r, 150));
    expect(fired).toEqual([1]);
    expect(clock.pending).toBe(1);
    expect(() => runClock(clock, 'realtime', { rate: 0 })).toThrow(RangeError);
  });
});
