import { describe, expect, it } from 'vitest';
import { createRng } from './rng.js';

describe('createRng (mulberry32)', () => {
  it('same seed, same sequence; different seeds differ', () => {
    const a = createRng(42);
    const b = createRng(42);
    const xs = Array.from({ length: 100 }, () => a.u32());
    expect(Array.from({ length: 100 }, () => b.u32())).toEqual(xs);
    const c = createRng(43);
    expect(Array.from({ length: 100 }, () => c.u32())).not.toEqual(xs);
  });

  it('matches the reference mulberry32 for seed 0', () => {
    // Reference outputs of the published algorithm (state += 0x6d2b79f5; two xorshift-multiply
    // rounds; final xorshift), computed independently with BigInt arithmetic below.
    const ref = (seed: number, n: number): number[] => {
      let s = BigInt(seed);
      const out: number[] = [];
      const M = 0xffffffffn;
      const imul = (x: bigint, y: bigint) => (x * y) & M;
      for (let i = 0; i < n; i++) {
        s = (s + 0x6d2b79f5n) & M;
        let t = s;
        t = imul(t ^ (t >> 15n), t | 1n);
        t = (t ^ ((t + imul(t ^ (t >> 7n), t | 61n)) & M)) & M;
        out.push(Number((t ^ (t >> 14n)) & M));
      }
      return out;
    };
    const r = createRng(0);
    expect(Array.from({ length: 8 }, () => r.u32())).toEqual(ref(0, 8));
  });

  it('float in [0, 1), below(n) in [0, n)', () => {
    const r = createRng(7);
    for (let i = 0; i < 10_000; i++) {
      const f = r.float();
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
      const b = r.below(10);
      expect(Number.isInteger(b) && b >= 0 && b < 10).toBe(true);
    }
    expect(r.below(0)).toBe(0);
    expect(r.below(1)).toBe(0);
  });

  it('below(n) is roughly uniform', () => {
    const r = createRng(1);
    const counts = new Array(8).fill(0);
    for (let i = 0; i < 80_000; i++) counts[r.below(8)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });

  it('fork gives an independent, reproducible stream', () => {
    const a = createRng(5).fork();
    const b = createRng(5).fork();
    expect(a.u32()).toBe(b.u32());
    expect(a.seed).not.toBe(5);
    expect(createRng(-1).seed).toBe(0xffffffff);
    expect(createRng(Number.NaN).seed).toBe(0);
  });
});
