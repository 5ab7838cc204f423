import { describe, expect, it } from 'vitest';
import { isRtkitError } from '../errors.js';
import type { SyncMmio } from '../mailbox/types.js';
import { asyncMmio, MmioBus } from './bus.js';

/** A device that answers with the address it saw and records writes. */
function probe(): SyncMmio & { writes: [number, number | bigint][] } {
  const writes: [number, number | bigint][] = [];
  return {
    writes,
    read32: (a) => a % 0x1_0000_0000,
    write32: (a, v) => {
      writes.push([a, v]);
    },
    read64: (a) => BigInt(a),
    write64: (a, v) => {
      writes.push([a, v]);
    },
  };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('MmioBus', () => {
  it('routes absolute addresses to the device mapped there, unchanged', () => {
    const bus = new MmioBus();
    const a = probe();
    const b = probe();
    bus.map(0x2_3e40_0000, 0xc000, a, 'smc');
    bus.map(0x1000, 0x100, b, 'low');
    expect(bus.read64(0x2_3e40_8830)).toBe(0x2_3e40_8830n);
    expect(bus.read32(0x10fc)).toBe(0x10fc);
    bus.write64(0x2_3e40_8800, 5n);
    bus.write32(0x1000, 7);
    expect(a.writes).toEqual([[0x2_3e40_8800, 5n]]);
    expect(b.writes).toEqual([[0x1000, 7]]);
    expect(bus.regions()).toEqual([
      { base: 0x1000, size: 0x100, name: 'low' },
      { base: 0x2_3e40_0000, size: 0xc000, name: 'smc' },
    ]);
    expect(bus.find(0x2_3e40_0044)?.name).toBe('smc');
    expect(bus.find(0x2000)).toBeUndefined();
  });

  it('an unmapped access is MMIO_UNMAPPED naming the address', () => {
    const bus = new MmioBus();
    bus.map(0x1000, 0x100, probe(), 'dev');
    for (const [fn, addr] of [
      [() => bus.read32(0xffc), '0xffc'],
      [() => bus.write64(0x1100, 0n), '0x1100'],
      [() => bus.read64(0x10fc), '0x10fc'], // straddles the end of the mapping
      [() => bus.read32(-4), '-4'],
      [() => bus.read32(1.5), '1.5'],
    ] as const) {
      const e = thrown(fn) as { message: string; details: { addr: number } };
      expect(isRtkitError(e, 'MMIO_UNMAPPED')).toBe(true);
      expect(e.message).toContain(addr);
    }
  });

  it('overlapping, duplicate-named and malformed mappings are rejected', () => {
    const bus = new MmioBus();
    bus.map(0x1000, 0x100, probe(), 'a');
    expect(
      isRtkitError(
        thrown(() => bus.map(0x10f0, 0x20, probe(), 'b')),
        'BAD_INPUT',
      ),
    ).toBe(true);
    expect(
      isRtkitError(
        thrown(() => bus.map(0xf00, 0x101, probe(), 'b')),
        'BAD_INPUT',
      ),
    ).toBe(true);
    expect(
      isRtkitError(
        thrown(() => bus.map(0x2000, 0x10, probe(), 'a')),
        'BAD_INPUT',
      ),
    ).toBe(true);
    expect(
      isRtkitError(
        thrown(() => bus.map(0x3000, 0, probe(), 'c')),
        'BAD_INPUT',
      ),
    ).toBe(true);
    expect(
      isRtkitError(
        thrown(() => bus.map(-1, 4, probe(), 'c')),
        'BAD_INPUT',
      ),
    ).toBe(true);
    // Adjacent is fine.
    bus.map(0x1100, 0x100, probe(), 'b');
    bus.map(0xf00, 0x100, probe(), 'c');
    expect(bus.regions().map((r) => r.name)).toEqual(['c', 'a', 'b']);
  });

  it('unmap removes a mapping (and the routing cache)', () => {
    const bus = new MmioBus();
    bus.map(0x1000, 0x100, probe(), 'a');
    expect(bus.read32(0x1000)).toBe(0x1000);
    expect(bus.unmap('a')).toBe(true);
    expect(bus.unmap('a')).toBe(false);
    expect(
      isRtkitError(
        thrown(() => bus.read32(0x1000)),
        'MMIO_UNMAPPED',
      ),
    ).toBe(true);
  });

  it('finds the right device among many', () => {
    const bus = new MmioBus();
    for (let i = 0; i < 50; i++) bus.map(0x10_0000 * (50 - i), 0x1000, probe(), `d${i}`);
    for (let i = 1; i <= 50; i++) expect(bus.find(0x10_0000 * i + 0x800)?.name).toBe(`d${50 - i}`);
  });
});

describe('asyncMmio', () => {
  it('answers with settled promises and turns throws into rejections', async () => {
    const bus = new MmioBus();
    const dev = probe();
    bus.map(0x1000, 0x100, dev, 'dev');
    const m = asyncMmio(bus);
    expect(await m.read32(0x1004)).toBe(0x1004);
    expect(await m.read64(0x1008)).toBe(0x1008n);
    await m.write32(0x1000, 1);
    await m.write64(0x1008, 2n);
    expect(dev.writes).toEqual([
      [0x1000, 1],
      [0x1008, 2n],
    ]);
    // No synchronous throw: the error arrives as a rejection.
    const p = m.read32(0x5000);
    await expect(p).rejects.toMatchObject({ code: 'MMIO_UNMAPPED' });
    await expect(m.write64(0x5000, 0n)).rejects.toMatchObject({ code: 'MMIO_UNMAPPED' });
  });
});
