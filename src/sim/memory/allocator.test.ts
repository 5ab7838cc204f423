import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRtkitError } from '../../errors.js';
import { PageAllocator } from './allocator.js';

const DRAM = 0x8_0000_0000;
const K16 = 0x4000;

function throwsCode(fn: () => unknown, code: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(isRtkitError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
}

describe('PageAllocator', () => {
  it('hands out aligned, distinct, non-zero addresses, rounded to the granule', () => {
    const a = new PageAllocator({ base: DRAM, size: 16 * K16 });
    const x = a.alloc(0x1000)!;
    const y = a.alloc(0x1000)!;
    expect(x).toBe(DRAM);
    expect(y).toBe(DRAM + K16);
    expect(a.lookup(x)).toEqual({ addr: x, size: K16, requested: 0x1000 });
    expect(a.live).toBe(2);
    expect(a.liveBytes).toBe(2 * K16);
    expect(a.allocations).toBe(2);
  });

  it('never returns 0 even when the range starts at 0 (B18)', () => {
    const a = new PageAllocator({ base: 0, size: 4 * K16 });
    const got = [a.alloc(1), a.alloc(1), a.alloc(1), a.alloc(1)];
    expect(got).toEqual([K16, 2 * K16, 3 * K16, undefined]);
    const small = new PageAllocator({ base: 0, size: 0x4000, granule: 0x1000 });
    expect(small.alloc(0x1000, 0x1000)).toBe(0x1000);
  });

  it('B25: a two-buffer allocator refuses the third request with undefined, not an address', () => {
    const a = new PageAllocator({ base: DRAM, size: 64 * K16, maxLive: 2 });
    const x = a.alloc(0x1000);
    const y = a.alloc(0x1000);
    expect(x).toBeDefined();
    expect(y).toBeDefined();
    expect(a.alloc(0x1000)).toBeUndefined();
    expect(a.failures).toBe(1);
    a.free(x!);
    expect(a.alloc(0x1000)).toBe(x);
  });

  it('enforces a byte capacity and the range end', () => {
    const a = new PageAllocator({ base: DRAM, size: 8 * K16, capacity: 3 * K16 });
    expect(a.alloc(2 * K16)).toBe(DRAM);
    expect(a.alloc(2 * K16)).toBeUndefined();
    expect(a.alloc(K16)).toBe(DRAM + 2 * K16);
    const b = new PageAllocator({ base: DRAM, size: 2 * K16 });
    expect(b.alloc(3 * K16)).toBeUndefined();
    expect(b.alloc(2 ** 50)).toBeUndefined();
  });

  it('honours alignments above the granule and reuses the gap it leaves', () => {
    const a = new PageAllocator({ base: DRAM + K16, size: 16 * K16 });
    expect(a.alloc(K16, 4 * K16)).toBe(DRAM + 4 * K16);
    expect(a.alloc(K16)).toBe(DRAM + K16);
  });

  it('coalesces freed neighbours so the whole range is available again', () => {
    const a = new PageAllocator({ base: DRAM, size: 8 * K16 });
    const xs = Array.from({ length: 8 }, () => a.alloc(K16)!);
    for (const i of [1, 3, 0, 2, 7, 5, 6, 4]) a.free(xs[i]!);
    expect(a.live).toBe(0);
    expect(a.liveBytes).toBe(0);
    expect(a.alloc(8 * K16)).toBe(DRAM);
  });

  it('throws on misuse', () => {
    const a = new PageAllocator({ base: DRAM, size: 8 * K16 });
    const x = a.alloc(1)!;
    a.free(x);
    throwsCode(() => a.free(x), 'MEMORY_FREE_INVALID');
    throwsCode(() => a.free(DRAM + 1), 'MEMORY_FREE_INVALID');
    throwsCode(() => a.alloc(0), 'BAD_INPUT');
    throwsCode(() => a.alloc(1.5), 'BAD_INPUT');
    throwsCode(() => a.alloc(1, 3), 'BAD_INPUT');
    throwsCode(() => new PageAllocator({ base: DRAM + 1, size: K16 }), 'MEMORY_MISALIGNED');
    throwsCode(() => new PageAllocator({ base: 2 ** 44, size: K16 }), 'MEMORY_OUT_OF_RANGE');
    throwsCode(() => new PageAllocator({ base: 0, size: K16, granule: 3 }), 'BAD_INPUT');
  });

  it('is deterministic', () => {
    const run = (): (number | undefined)[] => {
      const a = new PageAllocator({ base: DRAM, size: 32 * K16 });
      const out: (number | undefined)[] = [];
      for (let i = 0; i < 10; i++) out.push(a.alloc((i % 3) * 0x3000 + 1));
      a.free(out[2]!);
      a.free(out[5]!);
      out.push(a.alloc(0x5000), a.alloc(1, 0x10000));
      return out;
    };
    expect(run()).toEqual(run());
  });

  it('property: allocations never overlap, never are 0, stay aligned and in range', () => {
    type Op = { kind: 'alloc'; size: number; alignLog: number } | { kind: 'free'; pick: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constant('alloc' as const),
        size: fc.integer({ min: 1, max: 5 * K16 }),
        alignLog: fc.integer({ min: 12, max: 17 }),
      }),
      fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(0, DRAM),
        fc.integer({ min: 1, max: 64 }),
        fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
        fc.array(op, { maxLength: 80 }),
        (base, pages, maxLive, ops) => {
          const size = pages * K16;
          const a = new PageAllocator({ base, size, maxLive });
          const live = new Map<number, number>();
          for (const o of ops) {
            if (o.kind === 'free') {
              const keys = [...live.keys()];
              if (keys.length === 0) continue;
              const k = keys[o.pick % keys.length]!;
              a.free(k);
              live.delete(k);
              continue;
            }
            const align = 2 ** o.alignLog;
            const x = a.alloc(o.size, align);
            if (x === undefined) {
              if (maxLive === undefined || live.size < maxLive) {
                // Refused below the live limit: there must really be no aligned gap.
                const rounded = Math.ceil(o.size / K16) * K16;
                const taken = [...live].sort((p, q) => p[0] - q[0]);
                let from = base === 0 ? K16 : base;
                for (const [s, e] of [...taken, [base + size, base + size] as const]) {
                  const at = Math.ceil(from / align) * align;
                  expect(at + rounded > s, `gap at ${from.toString(16)}`).toBe(true);
                  from = Math.max(from, e);
                }
              }
              continue;
            }
            expect(x).not.toBe(0);
            expect(x % align).toBe(0);
            expect(x).toBeGreaterThanOrEqual(base);
            const end = x + Math.ceil(o.size / K16) * K16;
            expect(end).toBeLessThanOrEqual(base + size);
            for (const [s, e] of live) expect(end <= s || x >= e).toBe(true);
            live.set(x, end);
            if (maxLive !== undefined) expect(live.size).toBeLessThanOrEqual(maxLive);
          }
          expect(a.live).toBe(live.size);
          expect(a.liveBytes).toBe([...live].reduce((n, [s, e]) => n + e - s, 0));
        },
      ),
      { numRuns: 300 },
    );
  });
});
