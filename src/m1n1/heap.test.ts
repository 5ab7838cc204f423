import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRtkitError } from '../errors.js';
import { HEAP_PAGE_ALIGN, ProxyHeap } from './heap.js';

const BASE = 0x8_1800_0000n;
const MiB = 1n << 20n;

describe('ProxyHeap', () => {
  it('allocates first fit, aligned, and accounts in 64-byte granules', () => {
    const h = new ProxyHeap(BASE, MiB);
    const a = h.alloc(10);
    const b = h.alloc(100);
    expect(a).toBe(BASE);
    expect(b).toBe(BASE + 64n);
    expect(h.used).toBe(64n + 128n);
    expect(h.sizeOf(b)).toBe(128);
    const c = h.alloc(1, HEAP_PAGE_ALIGN);
    expect(c % 0x4000n).toBe(0n);
    expect(c).toBe(BASE + 0x4000n);
    // The gap before the aligned block is still usable.
    expect(h.alloc(64)).toBe(BASE + 192n);
  });

  it('coalesces freed neighbours back into one block', () => {
    const h = new ProxyHeap(BASE, MiB);
    const ptrs = [h.alloc(100), h.alloc(200), h.alloc(300), h.alloc(400)];
    h.free(ptrs[1]!);
    h.free(ptrs[3]!);
    h.free(ptrs[2]!);
    h.free(ptrs[0]!);
    expect(h.freeBlocks()).toEqual([{ addr: BASE, size: MiB }]);
    expect(h.used).toBe(0n);
  });

  it('reuses a freed hole first', () => {
    const h = new ProxyHeap(BASE, MiB);
    const a = h.alloc(1000);
    h.alloc(1000);
    h.free(a);
    expect(h.alloc(500)).toBe(a);
  });

  it('double free and foreign pointers are BAD_INPUT', () => {
    const h = new ProxyHeap(BASE, MiB);
    const a = h.alloc(64);
    h.free(a);
    expect(() => h.free(a)).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(() => h.free(BASE + 8n)).toThrow(/not a live allocation/);
    expect(() => h.free(12 as unknown as bigint)).toThrow(/not a live allocation/);
  });

  it('exhaustion is BUFFER_OUT_OF_RANGE and leaves the heap usable', () => {
    const h = new ProxyHeap(BASE, 0x10000n);
    const a = h.alloc(0x8000);
    let err: unknown;
    try {
      h.alloc(0x9000);
    } catch (e) {
      err = e;
    }
    expect(isRtkitError(err, 'BUFFER_OUT_OF_RANGE')).toBe(true);
    expect(h.alloc(0x8000)).toBe(BASE + 0x8000n);
    h.free(a);
    expect(h.alloc(0x4000, 0x4000)).toBe(BASE);
  });

  it('refuses bad sizes, alignments and windows', () => {
    const h = new ProxyHeap(BASE, MiB);
    for (const size of [0, -1, 1.5, Number.NaN, 2 ** 60]) {
      expect(() => h.alloc(size)).toThrow();
    }
    for (const align of [0, 3, 48, -64, 2 ** 31, 1.5]) {
      expect(() => h.alloc(64, align)).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    }
    expect(() => new ProxyHeap(-1n, MiB)).toThrow(/bad heap window/);
    expect(() => new ProxyHeap(BASE, 0n)).toThrow(/bad heap window/);
    expect(() => new ProxyHeap((1n << 64n) - 10n, MiB)).toThrow(/wraps/);
  });

  it('keeps allocations disjoint, aligned and inside the window (random alloc/free)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              kind: fc.constant('alloc' as const),
              size: fc.integer({ min: 1, max: 40_000 }),
              alignLog: fc.integer({ min: 0, max: 15 }),
            }),
            fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }),
          ),
          { maxLength: 200 },
        ),
        (ops) => {
          const h = new ProxyHeap(BASE + 0x40n, MiB);
          const live = new Map<bigint, number>();
          for (const op of ops) {
            if (op.kind === 'alloc') {
              const align = 2 ** op.alignLog;
              let p: bigint;
              try {
                p = h.alloc(op.size, align);
              } catch (e) {
                expect(isRtkitError(e, 'BUFFER_OUT_OF_RANGE')).toBe(true);
                continue;
              }
              expect(p % BigInt(Math.max(align, 64))).toBe(0n);
              expect(p >= h.base && p + BigInt(op.size) <= h.base + h.size).toBe(true);
              for (const [q, n] of live) {
                expect(p + BigInt(op.size) <= q || q + BigInt(n) <= p).toBe(true);
              }
              live.set(p, op.size);
            } else if (live.size > 0) {
              const keys = [...live.keys()];
              const k = keys[op.pick % keys.length]!;
              h.free(k);
              live.delete(k);
            }
          }
          let used = 0n;
          for (const n of live.values()) used += ((BigInt(n) + 63n) / 64n) * 64n;
          expect(h.used).toBe(used);
          for (const k of live.keys()) h.free(k);
          expect(h.freeBlocks()).toEqual([{ addr: h.base, size: h.size }]);
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });
});
