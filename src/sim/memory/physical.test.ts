import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRtkitError } from '../../errors.js';
import { PHYS_LIMIT } from './address.js';
import { PhysicalMemory } from './physical.js';

const PAGE = PhysicalMemory.PAGE_SIZE;
const DRAM = 0x8_0000_0000;

function throwsCode(fn: () => unknown, code: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(isRtkitError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
}

// toEqual on large typed arrays is slow; compare directly.
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

describe('PhysicalMemory', () => {
  it('reads zeros from untouched memory without allocating', () => {
    const m = new PhysicalMemory();
    expect(m.read(DRAM, 100)).toEqual(new Uint8Array(100));
    expect(m.readU32(0)).toBe(0);
    expect(m.readU64(PHYS_LIMIT - 8)).toBe(0n);
    expect(m.pagesAllocated).toBe(0);
  });

  it('allocates on first write, per touched page', () => {
    const m = new PhysicalMemory();
    m.write(DRAM + PAGE - 2, Uint8Array.of(1, 2, 3, 4));
    expect(m.pagesAllocated).toBe(2);
    expect(m.read(DRAM + PAGE - 3, 6)).toEqual(Uint8Array.of(0, 1, 2, 3, 4, 0));
    m.write(DRAM, new Uint8Array(0));
    m.fill(DRAM + 10 * PAGE, PAGE, 0);
    expect(m.pagesAllocated).toBe(2);
  });

  it('copies across many pages, one set per page', () => {
    const m = new PhysicalMemory();
    const data = Uint8Array.from({ length: 3 * PAGE + 17 }, (_, i) => (i * 7) & 0xff);
    m.write(DRAM + 5, data);
    expect(m.pagesAllocated).toBe(4);
    expect(sameBytes(m.read(DRAM + 5, data.length), data)).toBe(true);
    const into = new Uint8Array(data.length + 2);
    m.readInto(DRAM + 4, into.subarray(1, 1 + data.length + 1));
    expect(sameBytes(into.subarray(2, 2 + data.length), data)).toBe(true);
  });

  it('returns copies, not views', () => {
    const m = new PhysicalMemory();
    m.write(DRAM, Uint8Array.of(9));
    const r = m.read(DRAM, 1);
    r[0] = 1;
    expect(m.read(DRAM, 1)[0]).toBe(9);
  });

  it('reads and writes little-endian words across a page boundary', () => {
    const m = new PhysicalMemory();
    m.writeU32(DRAM + PAGE - 2, 0x11223344);
    expect(m.read(DRAM + PAGE - 2, 4)).toEqual(Uint8Array.of(0x44, 0x33, 0x22, 0x11));
    expect(m.readU32(DRAM + PAGE - 2)).toBe(0x11223344);
    m.writeU64(DRAM + 2 * PAGE - 3, 0x0102030405060708n);
    expect(m.readU64(DRAM + 2 * PAGE - 3)).toBe(0x0102030405060708n);
    expect(m.read(DRAM + 2 * PAGE - 3, 8)).toEqual(Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1));
    m.writeU32(DRAM, -1);
    expect(m.readU32(DRAM)).toBe(0xffffffff);
    m.writeU64(DRAM, -1n);
    expect(m.readU64(DRAM)).toBe(0xffff_ffff_ffff_ffffn);
  });

  it('accepts the last byte of the address space and nothing beyond', () => {
    const m = new PhysicalMemory();
    m.write(PHYS_LIMIT - 1, Uint8Array.of(0xab));
    expect(m.read(PHYS_LIMIT - 1, 1)).toEqual(Uint8Array.of(0xab));
    m.writeU32(PHYS_LIMIT - 4, 0xcafebabe);
    expect(m.readU32(PHYS_LIMIT - 4)).toBe(0xcafebabe);
    throwsCode(() => m.write(PHYS_LIMIT - 1, Uint8Array.of(1, 2)), 'MEMORY_OUT_OF_RANGE');
    throwsCode(() => m.read(PHYS_LIMIT, 0), 'MEMORY_OUT_OF_RANGE');
    throwsCode(() => m.readU32(PHYS_LIMIT - 3), 'MEMORY_OUT_OF_RANGE');
    throwsCode(() => m.readU64(PHYS_LIMIT - 7), 'MEMORY_OUT_OF_RANGE');
    throwsCode(() => m.read(-1, 1), 'MEMORY_OUT_OF_RANGE');
    throwsCode(() => m.read(1.5, 1), 'MEMORY_OUT_OF_RANGE');
    throwsCode(() => m.read(Number.NaN, 1), 'MEMORY_OUT_OF_RANGE');
    throwsCode(() => m.read(0, -1), 'MEMORY_OUT_OF_RANGE');
    throwsCode(() => m.read(0, 0.5), 'MEMORY_OUT_OF_RANGE');
    // The failed writes touched nothing (0xca is the top byte of 0xcafebabe).
    expect(m.read(PHYS_LIMIT - 1, 1)).toEqual(Uint8Array.of(0xca));
  });

  it('rejects register values that are not 32/64-bit', () => {
    const m = new PhysicalMemory();
    throwsCode(() => m.writeU32(0, 2 ** 32), 'BAD_INPUT');
    throwsCode(() => m.writeU32(0, 1.5), 'BAD_INPUT');
    throwsCode(() => m.writeU64(0, 1n << 64n), 'BAD_INPUT');
    throwsCode(() => m.fill(0, 1, 256), 'BAD_INPUT');
    expect(m.pagesAllocated).toBe(0);
  });

  it('fill writes a byte value over page boundaries', () => {
    const m = new PhysicalMemory();
    m.fill(DRAM + PAGE - 1, 3, 0x5a);
    expect(m.read(DRAM + PAGE - 2, 5)).toEqual(Uint8Array.of(0, 0x5a, 0x5a, 0x5a, 0));
    m.fill(DRAM + PAGE, 1, 0);
    expect(m.read(DRAM + PAGE - 1, 3)).toEqual(Uint8Array.of(0x5a, 0, 0x5a));
    // Zeroing (almost) the whole space only visits allocated pages.
    m.fill(DRAM + PAGE - 1, PHYS_LIMIT - DRAM - PAGE + 1, 0);
    expect(m.read(DRAM + PAGE - 2, 4)).toEqual(new Uint8Array(4));
    expect(m.pagesAllocated).toBe(2);
  });

  it('asMmio is a window at absolute addresses', () => {
    const m = new PhysicalMemory();
    const io = m.asMmio(DRAM, 0x100);
    io.write32(DRAM + 4, 0xdeadbeef);
    io.write64(DRAM + 0xf8, 0x1122334455667788n);
    expect(m.readU32(DRAM + 4)).toBe(0xdeadbeef);
    expect(io.read64(DRAM + 0xf8)).toBe(0x1122334455667788n);
    expect(io.read32(DRAM + 1)).toBe(0xef000000);
    throwsCode(() => io.read32(DRAM + 0xfd), 'MEMORY_OUT_OF_RANGE');
    throwsCode(() => io.write32(DRAM - 4, 0), 'MEMORY_OUT_OF_RANGE');
  });

  it('matches a byte-map model under random writes straddling pages', () => {
    const window = 3 * PAGE;
    const base = DRAM + 7 * PAGE;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            off: fc.integer({ min: 0, max: window - 1 }),
            bytes: fc.uint8Array({ minLength: 0, maxLength: 600 }),
          }),
          { maxLength: 30 },
        ),
        fc.integer({ min: 0, max: window - 1 }),
        fc.integer({ min: 0, max: 2000 }),
        (writes, rOff, rLen) => {
          const m = new PhysicalMemory();
          const model = new Uint8Array(window + 600);
          for (const w of writes) {
            m.write(base + w.off, w.bytes);
            model.set(w.bytes, w.off);
          }
          const got = m.read(base + rOff, rLen);
          const want = new Uint8Array(rLen);
          want.set(model.subarray(rOff, Math.min(rOff + rLen, model.length)));
          expect(sameBytes(got, want)).toBe(true);
          expect(m.pagesAllocated).toBeLessThanOrEqual(4);
        },
      ),
      { numRuns: 200 },
    );
  });
});
