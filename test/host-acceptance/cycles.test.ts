// Acceptance: 100 boot/crash/recover/shutdown cycles through the registers, on a DART
// co-processor with host-allocated buffers (mtp), a DART co-processor with firmware-owned
// buffers in a pre-mapped window (dcp) and a SART co-processor (ans). After the loop every
// resource the host touched is back where it started: DRAM allocations, the co-processor's DART
// stream (minus the firmware's pre-mapped window), non-reserved SART entries, listeners on the
// ASC and on the AbortSignal passed to every operation, the session's queues and deadlines, the
// virtual clock's timers, and the heap after a forced GC.
import { getEventListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../../src/clock.js';
import type { ProfileName } from '../../src/sim/profiles/index.js';
import { type AccRig, accRig, disposeAccRigs, dmaProblems, mappingProblems } from './rig.js';

afterEach(disposeAccRigs);

const CYCLES = 100;

/** A full GC: `--expose-gc`, or the flag set at run time (as src/bench/host.ts does). */
function gc(): boolean {
  let f = (globalThis as { gc?: () => void }).gc;
  if (f === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      f = runInNewContext('gc') as () => void;
    } catch {
      return false;
    }
  }
  f();
  f();
  return true;
}

/** Listener lists of the simulated ASC (test knobs: private fields read for leak checks). */
function ascListeners(r: AccRig): Record<string, number> {
  const a = r.cp.asc as unknown as {
    inboundListeners: unknown[];
    spaceListeners: unknown[];
    runListeners: unknown[];
    taps: unknown[];
    lineListeners: unknown[][];
    irqSubscribers: number;
  };
  return {
    inbound: a.inboundListeners.length,
    space: a.spaceListeners.length,
    run: a.runListeners.length,
    taps: a.taps.length,
    lines: a.lineListeners.reduce((n, l) => n + l.length, 0),
    irqSubscribers: a.irqSubscribers,
  };
}

/**
 * What the witnesses retain by design is emptied between cycles, so the heap figure is the
 * host's: the simulator's crash records (each with its crashlog) and message trace (plain arrays
 * the firmware only appends to), and this rig's wire log, warning list and grant history.
 */
function dropWitnessRecords(r: AccRig, warningCodes: Set<string>): void {
  (r.cp.firmware.crashes as unknown[]).length = 0;
  (r.cp.firmware.trace as unknown[]).length = 0;
  for (const w of r.warnings) warningCodes.add(w.code);
  r.warnings.length = 0;
  r.wire.length = 0;
  r.ledger.forgetReleased();
}

interface Snapshot {
  dramLive: number;
  dramBytes: number;
  dartPages: number;
  dartAll: number;
  sartEntries: number;
  asc: Record<string, number>;
  abortListeners: number;
  timers: number;
  queued: number;
  deadlines: number;
  driverBuffered: number;
  managerEntries: number;
  heap: number;
}

function snapshot(r: AccRig, signal: AbortSignal, heap: boolean): Snapshot {
  if (heap) gc();
  return {
    dramLive: r.soc.dram.live,
    dramBytes: r.soc.dram.liveBytes,
    dartPages: r.cp.dartStream === undefined ? 0 : r.soc.dart.mappedPagesIn(r.cp.dartStream),
    dartAll: r.soc.dart.mappedPages,
    sartEntries: r.soc.sart.entries().filter((e) => !e.reserved).length,
    asc: ascListeners(r),
    abortListeners: getEventListeners(signal, 'abort').length,
    timers: r.clock.pending,
    queued: r.session.stats.queued,
    deadlines: r.session.stats.deadlines,
    driverBuffered: r.driver.stats.buffered,
    managerEntries: r.session.buffers!.entries().length,
    heap: heap ? process.memoryUsage().heapUsed : 0,
  };
}

describe(`${CYCLES} boot/crash/recover/shutdown cycles`, () => {
  for (const profile of ['mtp', 'dcp', 'ans'] as const satisfies readonly ProfileName[]) {
    it(`${profile}: every resource returns to its initial value; nothing grows`, async () => {
      const r = accRig({ profile, strict: true, soc: { record: false } });
      const s = r.session;
      const ac = new AbortController();
      const signal = ac.signal;
      const warningCodes = new Set<string>();
      let crashEvents = 0;
      s.on('crash', () => {
        crashEvents++;
      });
      const initial = snapshot(r, signal, false);
      // The firmware's pre-mapped window (dcp) is the bootloader's, not the host's.
      const premapped = initial.dartPages;
      let early: Snapshot | undefined;
      const t0 = performance.now();
      for (let i = 0; i < CYCLES; i++) {
        // Bring-up: the first time from reset, later from SLEEP (the firmware restarts).
        if (i === 0) await s.boot({ signal });
        else await s.wake({ signal });
        await sleep(r.clock, 300);
        expect(mappingProblems(r, premapped)).toEqual([]);
        await s.ping({ signal });
        // Crash through m1n1's EP1 trigger; the crash log is copied and parsed.
        await s.send(1, 0x40n, { signal });
        await sleep(r.clock, 5);
        expect(s.crashed).toBe(true);
        await s.recover({ signal });
        await sleep(r.clock, 50);
        expect(s.running).toBe(true);
        await s.shutdown({ signal });
        expect(r.soc.dram.live).toBe(initial.dramLive);
        dropWitnessRecords(r, warningCodes);
        if (i === 39) early = snapshot(r, signal, true);
      }
      const wall = performance.now() - t0;
      const end = snapshot(r, signal, true);
      expect(crashEvents).toBe(CYCLES);
      expect(r.soc.violations()).toEqual([]);
      expect(dmaProblems(r)).toEqual([]);
      expect(r.ledger.live).toEqual([]);
      // Two bring-ups a cycle, each serving every buffer the profile asks for (3 or 4).
      expect(r.ledger.total).toBeGreaterThanOrEqual(CYCLES * 2 * 3);
      // MTP announces OSLog types 3/4/5 at every boot (fixture): reported, nothing else.
      expect([...warningCodes]).toEqual(profile === 'mtp' ? ['UNKNOWN_MESSAGE'] : []);
      // Back to the initial values.
      expect({ ...end, heap: 0, timers: 0 }).toEqual({ ...initial, heap: 0, timers: 0 });
      expect(early!.asc).toEqual(initial.asc);
      // Virtual-clock timers at the same point of a cycle: no more than after 40 cycles.
      expect(end.timers).toBeLessThanOrEqual(early!.timers);
      // Heap after GC: 60 more cycles may not retain more than 1 MiB (≈ 17 KiB a cycle).
      const growth = end.heap - early!.heap;
      expect(growth).toBeLessThan(1 << 20);
      console.info(
        `${profile}: ${CYCLES} cycles in ${wall.toFixed(0)} ms; heap ${(early!.heap / 2 ** 20).toFixed(1)} → ${(end.heap / 2 ** 20).toFixed(1)} MiB (${(growth / 1024).toFixed(0)} KiB over 60 cycles); ${r.ledger.total} buffers granted and released`,
      );
    });
  }
});
