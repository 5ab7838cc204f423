import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../clock.js';
import { isRtkitError } from '../../errors.js';
import { applyDramMask } from './address.js';
import { Dart } from './dart.js';
import { FaultList } from './faults.js';
import { PhysicalMemory } from './physical.js';

const DRAM = 0x8_0000_0000;
const P = 0x4000;
const IOVA = 0x8000_0000; // m1n1's per-stream IOVA window starts here (PROTOCOL.md §6.2)

function throwsCode(fn: () => unknown, code: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(isRtkitError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
}

function setup(): { dart: Dart; mem: PhysicalMemory; faults: FaultList } {
  return { dart: new Dart(), mem: new PhysicalMemory(), faults: new FaultList() };
}

describe('Dart: host side', () => {
  it('maps, translates with permissions, and counts pages', () => {
    const { dart } = setup();
    dart.map(1, IOVA, DRAM + 4 * P, 2 * P, 'rw');
    dart.map(1, IOVA + 4 * P, DRAM, P, 'r');
    expect(dart.mappedPages).toBe(3);
    expect(dart.mappedPagesIn(1)).toBe(3);
    expect(dart.mappedPagesIn(0)).toBe(0);
    expect(dart.translate(1, IOVA + P + 5, true)).toBe(DRAM + 5 * P + 5);
    expect(dart.translate(1, IOVA + 4 * P + 8, false)).toBe(DRAM + 8);
    expect(dart.translate(1, IOVA + 4 * P + 8, true)).toBeUndefined();
    expect(dart.translate(0, IOVA, false)).toBeUndefined();
    expect(dart.translate(1, -1, false)).toBeUndefined();
    expect(dart.translate(1, 2 ** 60, false)).toBeUndefined();
    expect(dart.translate(1, 0.5, false)).toBeUndefined();
    expect(dart.lookup(1, IOVA + 4 * P)).toEqual({ paddr: DRAM, perms: 'r' });
    expect(dart.mappings(1)).toEqual([
      { stream: 1, iova: IOVA, paddr: DRAM + 4 * P, size: 2 * P, perms: 'rw' },
      { stream: 1, iova: IOVA + 4 * P, paddr: DRAM, size: P, perms: 'r' },
    ]);
  });

  it('rejects misaligned, overlapping, out-of-space maps and bad streams, mapping nothing', () => {
    const { dart } = setup();
    dart.map(0, IOVA + 2 * P, DRAM, P);
    throwsCode(() => dart.map(0, IOVA + 1, DRAM, P), 'MEMORY_MISALIGNED');
    throwsCode(() => dart.map(0, IOVA, DRAM + 0x1000, P), 'MEMORY_MISALIGNED');
    throwsCode(() => dart.map(0, IOVA, DRAM, 0x1000), 'MEMORY_MISALIGNED');
    throwsCode(() => dart.map(0, IOVA, DRAM, 0), 'BAD_INPUT');
    throwsCode(() => dart.map(0, IOVA, DRAM, 3 * P), 'DART_OVERLAP');
    expect(dart.mappedPages).toBe(1); // the overlap check is atomic
    throwsCode(() => dart.map(0, 2 ** 36 - P, DRAM, 2 * P), 'MEMORY_OUT_OF_RANGE');
    throwsCode(() => dart.map(0, IOVA, 2 ** 44 - P, 2 * P), 'MEMORY_OUT_OF_RANGE');
    throwsCode(() => dart.map(16, IOVA, DRAM, P), 'DART_STREAM_INVALID');
    throwsCode(() => dart.map(-1, IOVA, DRAM, P), 'DART_STREAM_INVALID');
    throwsCode(() => dart.translate(1.5, IOVA, false), 'DART_STREAM_INVALID');
    throwsCode(() => dart.map(0, IOVA, DRAM, P, 'x' as never), 'BAD_INPUT');
    throwsCode(() => dart.unmap(0, IOVA + 1, P), 'MEMORY_MISALIGNED');
    // The same IOVA in another stream is independent.
    dart.map(1, IOVA + 2 * P, DRAM + P, P);
    expect(dart.mappedPages).toBe(2);
  });

  it('unmap removes pages and returns the count; unmapAll per stream or all', () => {
    const { dart } = setup();
    dart.map(0, IOVA, DRAM, 4 * P);
    dart.map(2, IOVA, DRAM, 2 * P);
    expect(dart.unmap(0, IOVA + P, 2 * P)).toBe(2);
    expect(dart.unmap(0, IOVA + P, 2 * P)).toBe(0);
    expect(dart.unmap(0, 0, 2 ** 36)).toBe(2); // sparse walk over a huge range
    expect(dart.mappedPages).toBe(2);
    dart.map(3, 0, DRAM, P);
    expect(dart.unmapAll(2)).toBe(2);
    expect(dart.unmapAll()).toBe(1);
    expect(dart.mappedPages).toBe(0);
  });

  it('supports 4 KiB pages and larger IOVA spaces', () => {
    const dart = new Dart({ pageSize: 4096, iovaBits: 44, streams: 2 });
    dart.map(1, 2 ** 43, DRAM + 0x1000, 0x1000, 'w');
    expect(dart.translate(1, 2 ** 43 + 0xfff, true)).toBe(DRAM + 0x1fff);
    throwsCode(() => dart.map(1, 0x800, DRAM, 0x1000), 'MEMORY_MISALIGNED');
    throwsCode(() => dart.map(2, 0, DRAM, 0x1000), 'DART_STREAM_INVALID');
    throwsCode(() => new Dart({ pageSize: 8192 as 4096 }), 'BAD_INPUT');
    throwsCode(() => new Dart({ iovaBits: 45 }), 'BAD_INPUT');
  });
});

describe('Dart: firmware port', () => {
  it('copies through non-contiguous physical pages', () => {
    const { dart, mem, faults } = setup();
    dart.map(0, IOVA, DRAM + 8 * P, P);
    dart.map(0, IOVA + P, DRAM + 2 * P, P);
    const port = dart.port(0, mem, faults);
    const data = Uint8Array.from({ length: 100 }, (_, i) => i + 1);
    expect(port.write(IOVA + P - 50, data)).toBe(true);
    expect(mem.read(DRAM + 9 * P - 50, 50)).toEqual(data.subarray(0, 50));
    expect(mem.read(DRAM + 2 * P, 50)).toEqual(data.subarray(50));
    expect(port.read(IOVA + P - 50, 100)).toEqual(data);
    expect(port.name).toBe('dart/0');
    expect(faults.faults).toEqual([]);
  });

  it('an unmapped IOVA is a recorded fault that writes nothing', () => {
    const { dart, mem, faults } = setup();
    const clock = new VirtualClock(1234);
    const port = dart.port(3, mem, faults, { name: 'dcp/dart', clock });
    expect(port.write(IOVA, Uint8Array.of(1, 2, 3))).toBe(false);
    expect(port.read(IOVA, 3)).toBeUndefined();
    expect(mem.pagesAllocated).toBe(0);
    expect(faults.faults).toHaveLength(2);
    expect(faults.faults[0]).toMatchObject({
      time: 1234,
      port: 'dcp/dart',
      kind: 'unmapped',
      addr: IOVA,
      len: 3,
      write: true,
    });
    expect(faults.faults[1]).toMatchObject({ kind: 'unmapped', write: false });
  });

  it('a write through a read-only mapping is a permission fault; so is a read of write-only', () => {
    const { dart, mem, faults } = setup();
    dart.map(0, IOVA, DRAM, P, 'r');
    dart.map(0, IOVA + P, DRAM + P, P, 'w');
    mem.write(DRAM, Uint8Array.of(7, 7, 7, 7));
    const port = dart.port(0, mem, faults);
    expect(port.write(IOVA, Uint8Array.of(1, 2, 3, 4))).toBe(false);
    expect(mem.read(DRAM, 4)).toEqual(Uint8Array.of(7, 7, 7, 7));
    expect(port.read(IOVA, 4)).toEqual(Uint8Array.of(7, 7, 7, 7));
    expect(port.read(IOVA + P, 4)).toBeUndefined();
    expect(port.write(IOVA + P, Uint8Array.of(9))).toBe(true);
    expect(port.check(IOVA, 4, true)).toBe(false);
    expect(port.check(IOVA, 4, false)).toBe(true);
    expect(faults.faults.map((f) => [f.kind, f.write])).toEqual([
      ['permission', true],
      ['permission', false],
    ]);
  });

  it('an access straddling a mapped and an unmapped page faults as a whole', () => {
    const { dart, mem, faults } = setup();
    dart.map(0, IOVA, DRAM, P);
    const port = dart.port(0, mem, faults);
    const data = new Uint8Array(64).fill(0xee);
    expect(port.write(IOVA + P - 32, data)).toBe(false);
    expect(mem.pagesAllocated).toBe(0);
    expect(port.read(IOVA + P - 32, 64)).toBeUndefined();
    // And the mirror image: unmapped first page, mapped second.
    dart.map(0, IOVA + 3 * P, DRAM + P, P);
    expect(port.write(IOVA + 3 * P - 1, Uint8Array.of(1, 2))).toBe(false);
    expect(mem.pagesAllocated).toBe(0);
    expect(faults.faults.map((f) => f.kind)).toEqual(['unmapped', 'unmapped', 'unmapped']);
    expect(faults.faults[0]!.detail).toContain(`0x${(IOVA + P).toString(16)}`);
  });

  it('a read-only page after a writable one makes the whole write a permission fault', () => {
    const { dart, mem, faults } = setup();
    dart.map(0, IOVA, DRAM, P, 'rw');
    dart.map(0, IOVA + P, DRAM + P, P, 'r');
    const port = dart.port(0, mem, faults);
    expect(port.write(IOVA + P - 2, Uint8Array.of(1, 2, 3, 4))).toBe(false);
    expect(mem.pagesAllocated).toBe(0);
    expect(faults.faults[0]!.kind).toBe('permission');
  });

  it('after unmap, a previously valid buffer faults', () => {
    const { dart, mem, faults } = setup();
    dart.map(0, IOVA, DRAM, 2 * P);
    const port = dart.port(0, mem, faults);
    expect(port.write(IOVA + 16, Uint8Array.of(1))).toBe(true);
    dart.unmap(0, IOVA, 2 * P);
    expect(port.write(IOVA + 16, Uint8Array.of(2))).toBe(false);
    expect(port.read(IOVA + 16, 1)).toBeUndefined();
    expect(mem.read(DRAM + 16, 1)).toEqual(Uint8Array.of(1));
    dart.map(0, IOVA, DRAM, 2 * P);
    dart.unmapAll();
    expect(port.check(IOVA, 1, false)).toBe(false);
    expect(faults.faults.map((f) => f.kind)).toEqual(['unmapped', 'unmapped']);
  });

  it('out-of-range device addresses fault as out-of-range; zero-length accesses succeed', () => {
    const { dart, mem, faults } = setup();
    const port = dart.port(0, mem, faults);
    expect(port.read(-1, 1)).toBeUndefined();
    expect(port.read(2 ** 44, 1)).toBeUndefined();
    expect(port.read(1.5, 1)).toBeUndefined();
    expect(port.read(0, -1)).toBeUndefined();
    expect(port.write(2 ** 44 - 1, Uint8Array.of(1, 2))).toBe(false);
    expect(faults.faults.every((f) => f.kind === 'out-of-range')).toBe(true);
    expect(faults.faults).toHaveLength(5);
    // Inside 2^44 but beyond the 36-bit IOVA space: not mapped.
    expect(port.read(2 ** 40, 1)).toBeUndefined();
    expect(faults.faults[5]!.kind).toBe('unmapped');
    expect(port.read(IOVA, 0)).toEqual(new Uint8Array(0));
    expect(port.write(IOVA, new Uint8Array(0))).toBe(true);
    expect(port.check(IOVA, 0, true)).toBe(true);
    expect(faults.faults).toHaveLength(6);
  });

  it('dram mask round trip: the IOP uses iova | mask, the port strips it', () => {
    const { dart, mem, faults } = setup();
    const mask = 0xf0_0000_0000; // bits [39:36], above the 36-bit IOVA space
    dart.map(0, IOVA, DRAM, P);
    const port = dart.port(0, mem, faults, { dramMask: mask });
    const dev = applyDramMask(IOVA, mask);
    expect(dev).toBe(0xf0_8000_0000);
    expect(port.write(dev + 8, Uint8Array.of(0xaa, 0xbb))).toBe(true);
    expect(mem.read(DRAM + 8, 2)).toEqual(Uint8Array.of(0xaa, 0xbb));
    expect(dart.translate(0, dev - mask + 8, false)).toBe(DRAM + 8);
    // The bare IOVA (mask bits missing) never reaches the DART.
    expect(port.read(IOVA + 8, 2)).toBeUndefined();
    // Some but not all mask bits.
    expect(port.read(IOVA + 0x10_0000_0000, 1)).toBeUndefined();
    expect(faults.faults).toHaveLength(2);
    expect(faults.faults[0]).toMatchObject({ kind: 'unmapped', addr: IOVA + 8 });
    expect(faults.faults[0]!.detail).toContain('asc-dram-mask');
    // A mask overlapping the IOVA bits would make stripping ambiguous.
    throwsCode(() => dart.port(0, mem, faults, { dramMask: 0x8000_0000 }), 'BAD_INPUT');
    throwsCode(() => dart.port(0, mem, faults, { dramMask: 2 ** 44 }), 'BAD_INPUT');
  });

  it('property: the port agrees with translate() and a reference page table', () => {
    const pageIdx = fc.integer({ min: 0, max: 7 });
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('map' as const),
        page: pageIdx,
        n: fc.integer({ min: 1, max: 3 }),
        phys: fc.integer({ min: 0, max: 31 }),
        perms: fc.constantFrom('r' as const, 'w' as const, 'rw' as const),
      }),
      fc.record({
        kind: fc.constant('unmap' as const),
        page: pageIdx,
        n: fc.integer({ min: 1, max: 3 }),
      }),
      fc.record({
        kind: fc.constant('write' as const),
        off: fc.integer({ min: 0, max: 8 * P }),
        len: fc.integer({ min: 0, max: 2 * P }),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const { dart, mem, faults } = setup();
        const port = dart.port(5, mem, faults);
        const table = new Map<number, { phys: number; perms: string }>();
        for (const o of ops) {
          if (o.kind === 'map') {
            const clash = Array.from({ length: o.n }, (_, i) => o.page + i).some((p) =>
              table.has(p),
            );
            let threw = false;
            try {
              dart.map(5, IOVA + o.page * P, DRAM + o.phys * P, o.n * P, o.perms);
            } catch (e) {
              threw = isRtkitError(e, 'DART_OVERLAP');
            }
            expect(threw).toBe(clash);
            if (!clash) {
              for (let i = 0; i < o.n; i++)
                table.set(o.page + i, { phys: o.phys + i, perms: o.perms });
            }
          } else if (o.kind === 'unmap') {
            let n = 0;
            for (let i = 0; i < o.n; i++) if (table.delete(o.page + i)) n++;
            expect(dart.unmap(5, IOVA + o.page * P, o.n * P)).toBe(n);
          } else {
            const first = Math.floor(o.off / P);
            const last = Math.floor((o.off + o.len - 1) / P);
            let ok = true;
            for (let p = first; o.len > 0 && p <= last; p++) {
              ok &&= table.get(p)?.perms.includes('w') ?? false;
            }
            const before = mem.pagesAllocated;
            const data = new Uint8Array(o.len).fill(0x5c);
            expect(port.write(IOVA + o.off, data)).toBe(ok);
            if (!ok) expect(mem.pagesAllocated).toBe(before);
          }
          expect(dart.mappedPages).toBe(table.size);
        }
        for (let p = 0; p < 10; p++) {
          const e = table.get(p);
          expect(dart.translate(5, IOVA + p * P + 3, false)).toBe(
            e?.perms.includes('r') ? DRAM + e.phys * P + 3 : undefined,
          );
        }
      }),
      { numRuns: 200 },
    );
  });
});
