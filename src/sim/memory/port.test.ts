// One contract suite for the DmaPort interface (STYLE.md: "one contract test suite per
// interface, run against every implementation"), plus the identity port's own cases.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../clock.js';
import { isRtkitError } from '../../errors.js';
import { applyDramMask, stripDramMask } from './address.js';
import { Dart } from './dart.js';
import { FaultList } from './faults.js';
import { PhysicalMemory } from './physical.js';
import { identityPort } from './port.js';
import { Sart } from './sart.js';
import { SramRegion } from './sram.js';
import type { DmaFaultKind, DmaPort } from './types.js';

const DRAM = 0x8_0000_0000;
const P = 0x4000;
const MASK_LOW = 0xf0_0000_0000; // bits [39:36]
const MASK_HIGH = 0xf00_0000_0000; // bits [43:40]

interface Fixture {
  port: DmaPort;
  faults: FaultList;
  clock: VirtualClock;
  /** Device addresses [lo, hi) are accessible both ways; the bytes just outside are denied. */
  lo: number;
  hi: number;
  denied: DmaFaultKind;
  /** The host's view of device bytes (inside [lo, hi)). */
  hostRead(dev: number, len: number): Uint8Array;
  /** Host RAM pages allocated, where the backing is RAM. */
  pages(): number;
}

type Factory = () => Fixture;

function ram(): { mem: PhysicalMemory; faults: FaultList; clock: VirtualClock } {
  return { mem: new PhysicalMemory(), faults: new FaultList(), clock: new VirtualClock(42) };
}

const fixtures: Record<string, Factory> = {
  'identity + dram mask': () => {
    const { mem, faults, clock } = ram();
    const port = identityPort(mem, faults, { name: 'p', clock, dramMask: MASK_LOW });
    return {
      port,
      faults,
      clock,
      // Exactly the device addresses whose bits [39:36] are all set and [43:40] clear.
      lo: MASK_LOW,
      hi: 0x100_0000_0000,
      denied: 'unmapped',
      hostRead: (dev, len) => mem.read(stripDramMask(dev, MASK_LOW)!, len),
      pages: () => mem.pagesAllocated,
    };
  },
  'dart (non-contiguous pages)': () => {
    const { mem, faults, clock } = ram();
    const dart = new Dart();
    const IOVA = 0x8000_0000;
    dart.map(2, IOVA, DRAM + 9 * P, P);
    dart.map(2, IOVA + P, DRAM + 3 * P, 2 * P);
    const port = dart.port(2, mem, faults, { name: 'p', clock });
    return {
      port,
      faults,
      clock,
      lo: IOVA,
      hi: IOVA + 3 * P,
      denied: 'unmapped',
      hostRead: (dev, len) => {
        const out = new Uint8Array(len);
        for (let i = 0; i < len; ) {
          const n = Math.min(len - i, P - ((dev + i) % P));
          mem.readInto(dart.translate(2, dev + i, false)!, out.subarray(i, i + n));
          i += n;
        }
        return out;
      },
      pages: () => mem.pagesAllocated,
    };
  },
  'dart + dram mask': () => {
    const { mem, faults, clock } = ram();
    const dart = new Dart({ pageSize: 4096 });
    dart.map(0, 0x1000, DRAM, 0x2000);
    const port = dart.port(0, mem, faults, { name: 'p', clock, dramMask: MASK_HIGH });
    return {
      port,
      faults,
      clock,
      lo: applyDramMask(0x1000, MASK_HIGH),
      hi: applyDramMask(0x3000, MASK_HIGH),
      denied: 'unmapped',
      hostRead: (dev, len) => mem.read(DRAM + stripDramMask(dev, MASK_HIGH)! - 0x1000, len),
      pages: () => mem.pagesAllocated,
    };
  },
  'sart (two adjacent entries)': () => {
    const { mem, faults, clock } = ram();
    const sart = new Sart();
    sart.allow(DRAM + 0x2000, 0x3000);
    sart.allow(DRAM, 0x2000);
    const port = sart.port(mem, faults, { name: 'p', clock });
    return {
      port,
      faults,
      clock,
      lo: DRAM,
      hi: DRAM + 0x5000,
      denied: 'sart-denied',
      hostRead: (dev, len) => mem.read(dev, len),
      pages: () => mem.pagesAllocated,
    };
  },
  'sart + dram mask': () => {
    const { mem, faults, clock } = ram();
    const sart = new Sart();
    sart.allow(DRAM, 0x1000);
    const port = sart.port(mem, faults, { name: 'p', clock, dramMask: MASK_HIGH });
    return {
      port,
      faults,
      clock,
      lo: applyDramMask(DRAM, MASK_HIGH),
      hi: applyDramMask(DRAM + 0x1000, MASK_HIGH),
      denied: 'sart-denied',
      hostRead: (dev, len) => mem.read(dev - MASK_HIGH, len),
      pages: () => mem.pagesAllocated,
    };
  },
  sram: () => {
    const faults = new FaultList();
    const clock = new VirtualClock(42);
    const sram = new SramRegion({ base: 0x23_4000_0000, size: 0x1000 });
    return {
      port: sram.port(faults, { name: 'p', clock }),
      faults,
      clock,
      lo: sram.base,
      hi: sram.end,
      denied: 'out-of-window',
      hostRead: (dev, len) => sram.read(dev, len),
      pages: () => 0,
    };
  },
};

for (const [name, make] of Object.entries(fixtures)) {
  describe(`DmaPort contract: ${name}`, () => {
    it('writes and reads back inside the accessible range, at both ends', () => {
      const f = make();
      const data = Uint8Array.of(1, 2, 3, 4, 5);
      expect(f.port.write(f.lo, data)).toBe(true);
      expect(f.port.write(f.hi - 5, data)).toBe(true);
      expect(f.port.read(f.lo, 5)).toEqual(data);
      expect(f.port.read(f.hi - 5, 5)).toEqual(data);
      expect(f.hostRead(f.lo, 5)).toEqual(data);
      expect(f.port.check(f.lo, 5, true)).toBe(true);
      expect(f.faults.faults).toEqual([]);
    });

    it('read returns a copy', () => {
      const f = make();
      f.port.write(f.lo, Uint8Array.of(7));
      const r = f.port.read(f.lo, 1)!;
      r[0] = 0;
      expect(f.port.read(f.lo, 1)).toEqual(Uint8Array.of(7));
    });

    it('denies the bytes just outside, records one fault each, writes nothing', () => {
      const f = make();
      const pages = f.pages();
      expect(f.port.write(f.hi, Uint8Array.of(1))).toBe(false);
      expect(f.port.write(f.hi - 2, Uint8Array.of(1, 2, 3))).toBe(false);
      expect(f.port.write(f.lo - 1, Uint8Array.of(1, 2))).toBe(false);
      expect(f.port.read(f.lo - 1, 1)).toBeUndefined();
      expect(f.pages()).toBe(pages);
      expect(f.hostRead(f.lo, 1)).toEqual(new Uint8Array(1));
      expect(f.hostRead(f.hi - 2, 2)).toEqual(new Uint8Array(2));
      expect(f.faults.faults).toEqual([
        expect.objectContaining({ kind: f.denied, addr: f.hi, len: 1, write: true }),
        expect.objectContaining({ kind: f.denied, addr: f.hi - 2, len: 3, write: true }),
        expect.objectContaining({ kind: f.denied, addr: f.lo - 1, len: 2, write: true }),
        expect.objectContaining({ kind: f.denied, addr: f.lo - 1, len: 1, write: false }),
      ]);
      for (const x of f.faults.faults) {
        expect(x.port).toBe('p');
        expect(x.time).toBe(42);
        expect(x.detail.length).toBeGreaterThan(0);
      }
    });

    it('check() answers without recording', () => {
      const f = make();
      expect(f.port.check(f.hi, 1, false)).toBe(false);
      expect(f.port.check(f.lo - 1, 2, true)).toBe(false);
      expect(f.port.check(-1, 1, false)).toBe(false);
      expect(f.faults.faults).toEqual([]);
    });

    it('malformed device ranges are out-of-range faults', () => {
      const f = make();
      for (const [addr, len] of [
        [-1, 1],
        [2 ** 44, 1],
        [Number.NaN, 1],
        [f.lo + 0.5, 1],
        [f.lo, -1],
        [f.lo, 0.5],
        [2 ** 44 - 1, 2],
      ] as const) {
        expect(f.port.read(addr, len)).toBeUndefined();
      }
      expect(f.port.write(2 ** 44, new Uint8Array(0))).toBe(false);
      expect(f.faults.faults.map((x) => x.kind)).toEqual(Array(8).fill('out-of-range'));
    });

    it('zero-length accesses inside succeed and touch nothing', () => {
      const f = make();
      expect(f.port.read(f.lo, 0)).toEqual(new Uint8Array(0));
      expect(f.port.write(f.lo, new Uint8Array(0))).toBe(true);
      expect(f.faults.faults).toEqual([]);
    });

    it('property: an access succeeds iff it lies inside; the host sees exactly what succeeded', () => {
      const span = 0x3000;
      fc.assert(
        fc.property(
          fc.array(
            fc.record({
              at: fc.integer({ min: -64, max: span + 64 }),
              bytes: fc.uint8Array({ minLength: 0, maxLength: 300 }),
              read: fc.boolean(),
            }),
            { maxLength: 25 },
          ),
          (ops) => {
            const f = make();
            const top = Math.min(f.hi, f.lo + span + 400);
            const model = new Uint8Array(top - f.lo);
            let denied = 0;
            for (const o of ops) {
              const a = f.lo + o.at;
              const inside = a >= f.lo && a + o.bytes.length <= f.hi;
              if (o.read) {
                const r = f.port.read(a, o.bytes.length);
                expect(r !== undefined).toBe(inside || o.bytes.length === 0);
                if (r !== undefined && inside) {
                  expect([...r]).toEqual([...model.subarray(o.at, o.at + o.bytes.length)]);
                }
                if (r === undefined) denied++;
              } else {
                const ok = f.port.write(a, o.bytes);
                const zeroOk = o.bytes.length === 0 && a >= 0;
                expect(ok).toBe(inside || zeroOk);
                if (ok && inside) model.set(o.bytes, o.at);
                if (!ok) denied++;
              }
            }
            expect(f.faults.faults).toHaveLength(denied);
            expect([...f.hostRead(f.lo, model.length)]).toEqual([...model]);
          },
        ),
        { numRuns: 60 },
      );
    });
  });
}

describe('identityPort', () => {
  it('maps device address to physical address across the space', () => {
    const mem = new PhysicalMemory();
    const faults = new FaultList();
    const port = identityPort(mem, faults);
    expect(port.name).toBe('identity');
    expect(port.write(2 ** 44 - 2, Uint8Array.of(1, 2))).toBe(true);
    expect(mem.read(2 ** 44 - 2, 2)).toEqual(Uint8Array.of(1, 2));
    expect(port.write(0, Uint8Array.of(3))).toBe(true);
    expect(faults.faults).toEqual([]);
  });

  it('a range whose last byte leaves the dram-mask window faults as a whole', () => {
    const mem = new PhysicalMemory();
    const faults = new FaultList();
    const port = identityPort(mem, faults, { dramMask: MASK_LOW });
    // 0xff_ffff_ffff + 1 carries out of the mask bits.
    expect(port.write(0xff_ffff_fffe, Uint8Array.of(1, 2, 3))).toBe(false);
    expect(mem.pagesAllocated).toBe(0);
    expect(faults.faults[0]!.detail).toContain('asc-dram-mask');
  });

  it('bounds the length of a read, so a hostile length cannot exhaust memory', () => {
    const mem = new PhysicalMemory();
    const faults = new FaultList();
    const port = identityPort(mem, faults, { maxRead: 16 });
    expect(port.read(0x1000, 16)).toHaveLength(16);
    expect(port.read(0x1000, 17)).toBeUndefined();
    expect(identityPort(mem, faults).read(0, 2 ** 43)).toBeUndefined();
    expect(faults.faults.map((f) => f.kind)).toEqual(['out-of-range', 'out-of-range']);
    expect(faults.faults[0]!.detail).toContain('maxRead');
  });

  it('rejects an invalid mask', () => {
    const mem = new PhysicalMemory();
    const faults = new FaultList();
    for (const dramMask of [-1, 2 ** 44, 0.5]) {
      let err: unknown;
      try {
        identityPort(mem, faults, { dramMask });
      } catch (e) {
        err = e;
      }
      expect(isRtkitError(err, 'BAD_INPUT')).toBe(true);
    }
  });
});

describe('dram mask helpers', () => {
  it('round-trip 44-bit addresses', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 36 - 1 }),
        fc.integer({ min: 0, max: 255 }),
        (a, m) => {
          const mask = m * 2 ** 36;
          const dev = applyDramMask(a, mask);
          expect(dev).toBe(a + mask);
          expect(stripDramMask(dev, mask)).toBe(a);
          if (mask !== 0) expect(stripDramMask(a, mask)).toBeUndefined();
        },
      ),
    );
  });
});
