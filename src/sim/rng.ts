/**
 * Seeded, reproducible randomness for the simulator (STYLE.md: randomness is injected
 * everywhere). The generator is mulberry32 (Tommy Ettinger, public domain): 32 bits of state,
 * one multiply-xorshift round per output, well known and small enough to check by hand. It is not
 * cryptographic; it only has to make the same seed give the same simulation.
 */

import type { Rng } from './firmware/app.js';

export interface SeededRng extends Rng {
  /** The seed this generator started from (as a uint32). */
  readonly seed: number;
  /**
   * An independent generator derived from this one's next output, so that one component's
   * draws do not shift another's (the fault injector forks the firmware's generator).
   */
  fork(): SeededRng;
}

const TWO32 = 0x1_0000_0000;

/** A mulberry32 generator. Any number is accepted as seed; it is reduced to a uint32. */
export function createRng(seed: number): SeededRng {
  const start = Number.isFinite(seed) ? Math.trunc(seed) >>> 0 : 0;
  let state = start;
  const u32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const float = (): number => u32() / TWO32;
  return {
    seed: start,
    u32,
    float,
    below(n: number): number {
      if (!(n > 1)) return 0;
      return Math.min(Math.floor(float() * Math.floor(n)), Math.floor(n) - 1);
    },
    fork(): SeededRng {
      return createRng((u32() ^ 0x9e37_79b9) >>> 0);
    },
  };
}
