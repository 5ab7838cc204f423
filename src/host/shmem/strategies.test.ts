// What each strategy does beyond the shared contract, against the in-memory fakes.
import { describe, expect, it } from 'vitest';
import { isRtkitError } from '../../errors.js';
import type { HostSharedBuffer } from './common.js';
import { fakeHostMemory, fakeIommu, fakeMmio, fakeSart } from './fakes.js';
import { firmwareIovaStrategy } from './firmware-iova.js';
import { identityIommu, identityStrategy } from './identity.js';
import { iommuStrategy } from './iommu.js';
import { sartStrategy } from './sart.js';
import { mmioSram, sramStrategy } from './sram.js';
import type { BufferDecision, SharedBuffer } from './types.js';

const WINDOW = { base: 0x8000_0000, size: 0x10_0000 };

function ok(d: BufferDecision): SharedBuffer & HostSharedBuffer {
  if (!d.ok) throw new Error(`${d.code}: ${d.message}`);
  return d.buffer as SharedBuffer & HostSharedBuffer;
}

async function thrownCode(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
    return undefined;
  } catch (e) {
    return isRtkitError(e) ? e.code : String(e);
  }
}

describe('iommuStrategy (mode A through an IOMMU)', () => {
  it('maps a page-rounded, zeroed allocation at a window IOVA and replies with it', async () => {
    const memory = fakeHostMemory();
    const iommu = fakeIommu();
    await memory.write(0x8_0000_0000, new Uint8Array(0x4000).fill(0xee));
    const s = iommuStrategy({ memory, iommu, iovaWindow: WINDOW });
    const b = ok(await s.acquire({ ep: 1, bytes: 0x1000, iova: 0 }));
    expect(b.device).toBe(0x8000_0000);
    expect(b.placement).toEqual({ paddr: 0x8_0000_0000, allocated: 0x4000, iova: 0x8000_0000 });
    expect(await iommu.translate(0x8000_0000)).toBe(0x8_0000_0000);
    expect(memory.allocations.get(0x8_0000_0000)).toBe(0x4000);
    // Zeroed before mapping: the whole page, not only the bytes granted.
    expect(memory.peek(0x8_0000_0000, 0x4000)).toEqual(new Uint8Array(0x4000));
    const b2 = ok(await s.acquire({ ep: 2, bytes: 0x5000, iova: 0 }));
    expect(b2.device).toBe(0x8000_4000);
    expect(b2.placement.allocated).toBe(0x8000);
  });

  it('applies the asc-dram-mask to the address replied, not to the mapping', async () => {
    const iommu = fakeIommu();
    const s = iommuStrategy({
      memory: fakeHostMemory(),
      iommu,
      iovaWindow: WINDOW,
      dramMask: 0x100_0000_0000,
    });
    const b = ok(await s.acquire({ ep: 1, bytes: 0x1000, iova: 0 }));
    expect(b.device).toBe(0x100_8000_0000);
    expect(b.placement.iova).toBe(0x8000_0000);
    expect(iommu.calls[0]).toBe('map 0x80000000 0x800000000 0x4000 rw');
  });

  it('rejects a mask that overlaps the window or does not fit 44 bits (construction)', async () => {
    const base = { memory: fakeHostMemory(), iommu: fakeIommu(), iovaWindow: WINDOW };
    expect(await thrownCode(() => iommuStrategy({ ...base, dramMask: 0x8000_0000 }))).toBe(
      'BAD_INPUT',
    );
    expect(await thrownCode(() => iommuStrategy({ ...base, dramMask: 2 ** 44 }))).toBe('BAD_INPUT');
    expect(
      await thrownCode(() =>
        iommuStrategy({ ...base, iovaWindow: { base: 0x1000, size: 0x4000 } }),
      ),
    ).toBe('BAD_INPUT');
  });

  it('never hands out IOVA 0, even from a window starting at 0 (B18)', async () => {
    const s = iommuStrategy({
      memory: fakeHostMemory(),
      iommu: fakeIommu(),
      iovaWindow: { base: 0, size: 0x8000 },
    });
    expect(ok(await s.acquire({ ep: 1, bytes: 0x1000, iova: 0 })).device).toBe(0x4000);
    expect(await s.acquire({ ep: 2, bytes: 0x1000, iova: 0 })).toMatchObject({
      ok: false,
      code: 'BUFFER_ALLOC_FAILED',
    });
  });

  it('firmware-given IOVA: BUFFER_REJECTED, or the firmware-owned strategy when configured', async () => {
    const memory = fakeHostMemory();
    const iommu = fakeIommu();
    const plain = iommuStrategy({ memory, iommu, iovaWindow: WINDOW });
    expect(await plain.acquire({ ep: 2, bytes: 0x1000, iova: 0xa000_0000 })).toMatchObject({
      ok: false,
      code: 'BUFFER_REJECTED',
    });
    await iommu.map(0xa000_0000, 0x8_0010_0000, 0x4000, 'rw');
    const fw = firmwareIovaStrategy({ memory, iommu });
    const both = iommuStrategy({ memory, iommu, iovaWindow: WINDOW, firmwareOwned: fw });
    const d = await both.acquire({ ep: 2, bytes: 0x1000, iova: 0xa000_0000 });
    expect(d).toMatchObject({ ok: true, reply: false, buffer: { mode: 'firmware-iova' } });
    expect(both.live).toBe(1);
    expect(fw.live).toBe(1);
    await both.release(ok(d));
    expect(both.live).toBe(0);
    expect(fw.live).toBe(0);
  });

  it('exhaustion and failures: BUFFER_ALLOC_FAILED, nothing leaked, the IOVA reusable', async () => {
    const memory = fakeHostMemory({ maxLive: 1 });
    const iommu = fakeIommu();
    const s = iommuStrategy({ memory, iommu, iovaWindow: WINDOW });
    const a = ok(await s.acquire({ ep: 1, bytes: 0x1000, iova: 0 }));
    expect(await s.acquire({ ep: 2, bytes: 0x1000, iova: 0 })).toMatchObject({
      ok: false,
      code: 'BUFFER_ALLOC_FAILED',
    });
    await s.release(a);
    iommu.failNext('map');
    const failed = await s.acquire({ ep: 2, bytes: 0x1000, iova: 0 });
    expect(failed).toMatchObject({ ok: false, code: 'BUFFER_ALLOC_FAILED' });
    expect(failed.ok === false && isRtkitError(failed.cause, 'FAKE_FAILURE')).toBe(true);
    expect(memory.allocations.size).toBe(0);
    memory.failNext('alloc');
    expect(await s.acquire({ ep: 2, bytes: 0x1000, iova: 0 })).toMatchObject({
      code: 'BUFFER_ALLOC_FAILED',
    });
    // The same IOVA again: the failed attempts gave theirs back.
    expect(ok(await s.acquire({ ep: 2, bytes: 0x1000, iova: 0 })).device).toBe(0x8000_0000);
    expect(s.live).toBe(1);
  });

  it('release unmaps before it frees; a failed unmap keeps the memory and can be retried', async () => {
    const memory = fakeHostMemory();
    const iommu = fakeIommu();
    const s = iommuStrategy({ memory, iommu, iovaWindow: WINDOW });
    const b = ok(await s.acquire({ ep: 1, bytes: 0x1000, iova: 0 }));
    iommu.failNext('unmap');
    expect(await thrownCode(() => s.release(b))).toBe('FAKE_FAILURE');
    expect(s.live).toBe(1);
    expect(memory.allocations.size).toBe(1);
    expect(b.released).toBe(true);
    await s.release(b);
    expect(s.live).toBe(0);
    expect(memory.allocations.size).toBe(0);
    expect(iommu.pages.size).toBe(0);
    expect(iommu.calls.filter((c) => c.startsWith('unmap'))).toHaveLength(2);
  });

  it('host accesses go to the physical pages, never beyond the granted bytes (M4)', async () => {
    const memory = fakeHostMemory();
    const s = iommuStrategy({ memory, iommu: fakeIommu(), iovaWindow: WINDOW });
    const b = ok(await s.acquire({ ep: 1, bytes: 0x1000, iova: 0 }));
    const before = memory.accesses.length;
    await b.write(0, new Uint8Array(0x1000).fill(1));
    await b.read(0, 0x1000);
    for (const a of memory.accesses.slice(before)) {
      expect(a.addr).toBeGreaterThanOrEqual(0x8_0000_0000);
      expect(a.addr + a.len).toBeLessThanOrEqual(0x8_0000_1000);
    }
  });
});

describe('sartStrategy (mode A behind the allow-list)', () => {
  it('one entry per buffer at 4 KiB granularity, the physical address replied', async () => {
    const memory = fakeHostMemory();
    const sart = fakeSart();
    const s = sartStrategy({ memory, sart });
    const b = ok(await s.acquire({ ep: 1, bytes: 0x5000, iova: 0 }));
    expect(b.device).toBe(0x8_0000_0000);
    expect(b.placement).toMatchObject({ paddr: 0x8_0000_0000, sartSlot: 0, allocated: 0x5000 });
    expect(sart.slots[0]).toEqual({ paddr: 0x8_0000_0000, size: 0x5000, reserved: false });
    await s.release(b);
    expect(sart.used).toBe(0);
    expect(memory.allocations.size).toBe(0);
  });

  it('16 entries with the bootloader’s: the next request frees its memory, ALLOC_FAILED', async () => {
    const memory = fakeHostMemory({ size: 0x100_0000 });
    const sart = fakeSart();
    sart.reserve(0x1_0000_0000, 0x4000);
    sart.reserve(0x1_0001_0000, 0x1000);
    const s = sartStrategy({ memory, sart });
    const granted: SharedBuffer[] = [];
    for (let i = 0; i < 14; i++)
      granted.push(ok(await s.acquire({ ep: i, bytes: 0x1000, iova: 0 })));
    const d = await s.acquire({ ep: 20, bytes: 0x1000, iova: 0 });
    expect(d).toMatchObject({ ok: false, code: 'BUFFER_ALLOC_FAILED' });
    expect(d.ok === false && d.message).toMatch(/SART/);
    expect(memory.allocations.size).toBe(14);
    for (const b of granted) await s.release(b);
    expect(sart.used).toBe(2);
    expect(sart.slots[0]).toMatchObject({ reserved: true, paddr: 0x1_0000_0000 });
    expect(memory.allocations.size).toBe(0);
  });

  it('refuses firmware-owned buffers (as the NVMe clients do) and address 0 (M3)', async () => {
    const s = sartStrategy({ memory: fakeHostMemory(), sart: fakeSart() });
    expect(await s.acquire({ ep: 2, bytes: 0x1000, iova: 0x8_0100_0000 })).toMatchObject({
      ok: false,
      code: 'BUFFER_REJECTED',
    });
    const zero = fakeHostMemory({ bogus: 0 });
    const z = sartStrategy({ memory: zero, sart: fakeSart() });
    expect(await z.acquire({ ep: 1, bytes: 0x1000, iova: 0 })).toMatchObject({
      ok: false,
      code: 'BUFFER_ALLOC_FAILED',
    });
  });
});

describe('identityStrategy and identityIommu', () => {
  it('replies with the physical address (| mask); mode B only inside declared regions', async () => {
    const memory = fakeHostMemory();
    const s = identityStrategy({ memory, dramMask: 0x100_0000_0000 });
    const b = ok(await s.acquire({ ep: 1, bytes: 0x1000, iova: 0 }));
    expect(b.device).toBe(0x108_0000_0000);
    expect(await s.acquire({ ep: 2, bytes: 0x1000, iova: 0x8_0100_0000 })).toMatchObject({
      code: 'BUFFER_REJECTED',
    });

    const none = identityStrategy({
      memory,
      firmwareOwned: firmwareIovaStrategy({ memory, iommu: identityIommu() }),
    });
    // B24: no mode-B mapping configured → BUFFER_UNMAPPED.
    expect(await none.acquire({ ep: 2, bytes: 0x1000, iova: 0x8_0100_0000 })).toMatchObject({
      code: 'BUFFER_UNMAPPED',
    });
    const region = { base: 0x8_0010_0000, size: 0x4000 };
    const some = identityStrategy({
      memory,
      firmwareOwned: firmwareIovaStrategy({ memory, iommu: identityIommu({ regions: [region] }) }),
    });
    const fb = ok(await some.acquire({ ep: 2, bytes: 0x4000, iova: 0x8_0010_0000 }));
    expect(fb.placement.segments).toEqual([{ paddr: 0x8_0010_0000, len: 0x4000 }]);
    expect(await some.acquire({ ep: 4, bytes: 0x5000, iova: 0x8_0010_0000 })).toMatchObject({
      code: 'BUFFER_UNMAPPED',
    });
    expect(await thrownCode(() => identityIommu().map(0, 0, 0x1000, 'rw'))).toBe('BAD_INPUT');
    expect(
      await thrownCode(() => identityIommu({ regions: [{ base: 0x800, size: 0x1000 }] })),
    ).toBe('BAD_INPUT');
  });
});

describe('firmwareIovaStrategy (mode B)', () => {
  async function setup(pageSize = 0x1000) {
    const memory = fakeHostMemory();
    const iommu = fakeIommu({ pageSize });
    return { memory, iommu };
  }

  it('reads and writes page by page through non-contiguous pages; no reply', async () => {
    const { memory, iommu } = await setup();
    await iommu.map(0x1000_0000, 0x8_0000_3000, 0x1000, 'rw');
    await iommu.map(0x1000_1000, 0x8_0000_0000, 0x1000, 'rw');
    await iommu.map(0x1000_2000, 0x8_0000_1000, 0x1000, 'rw');
    const s = firmwareIovaStrategy({ memory, iommu });
    const d = await s.acquire({ ep: 2, bytes: 0x3000, iova: 0x1000_0000 });
    expect(d).toMatchObject({ ok: true, reply: false });
    const b = ok(d);
    expect(b.device).toBe(0x1000_0000);
    // The last two pages are physically adjacent: one run.
    expect(b.placement.segments).toEqual([
      { paddr: 0x8_0000_3000, len: 0x1000 },
      { paddr: 0x8_0000_0000, len: 0x2000 },
    ]);
    const data = Uint8Array.from({ length: 0x20 }, (_, i) => i + 1);
    await b.write(0xff0, data);
    expect(memory.peek(0x8_0000_3ff0, 0x10)).toEqual(data.subarray(0, 0x10));
    expect(memory.peek(0x8_0000_0000, 0x10)).toEqual(data.subarray(0x10));
    expect(await b.read(0xff0, 0x20)).toEqual(data);
    // Release drops the host's view only: the mapping is the firmware's.
    await s.release(b);
    expect(iommu.pages.size).toBe(3);
    expect(iommu.calls.filter((c) => c.startsWith('unmap'))).toEqual([]);
  });

  it('B24: any unmapped page → BUFFER_UNMAPPED', async () => {
    const { memory, iommu } = await setup();
    await iommu.map(0x1000_0000, 0x8_0000_0000, 0x1000, 'rw');
    await iommu.map(0x1000_2000, 0x8_0000_2000, 0x1000, 'rw');
    const s = firmwareIovaStrategy({ memory, iommu });
    const d = await s.acquire({ ep: 2, bytes: 0x3000, iova: 0x1000_0000 });
    expect(d).toMatchObject({ ok: false, code: 'BUFFER_UNMAPPED' });
    expect(d.ok === false && d.message).toContain('0x10001000');
    expect(await s.acquire({ ep: 2, bytes: 0x1000, iova: 0x801000000 })).toMatchObject({
      code: 'BUFFER_UNMAPPED',
    });
  });

  it('B15: OSLog page 0x12345 → 0x12345000 + 0x4000, translated (16 KiB IOMMU pages)', async () => {
    const { memory, iommu } = await setup(0x4000);
    await iommu.map(0x1234_4000, 0x8_0010_0000, 0x8000, 'rw');
    const s = firmwareIovaStrategy({ memory, iommu });
    const b = ok(await s.acquire({ ep: 8, bytes: 0x4000, iova: 0x12345 * 0x1000 }));
    expect(b.device).toBe(0x1234_5000);
    expect(b.placement.segments).toEqual([{ paddr: 0x8_0010_1000, len: 0x4000 }]);
  });

  it('M5: the optional window and the 44-bit space bound the range → BUFFER_OUT_OF_WINDOW', async () => {
    const { memory, iommu } = await setup();
    await iommu.map(0xa000_0000, 0x8_0000_0000, 0x4000, 'rw');
    const s = firmwareIovaStrategy({
      memory,
      iommu,
      window: { base: 0xa000_0000, size: 0x4000 },
    });
    expect(ok(await s.acquire({ ep: 1, bytes: 0x4000, iova: 0xa000_0000 })).bytes).toBe(0x4000);
    for (const [iova, bytes] of [
      [0xa000_1000, 0x4000],
      [0x9fff_f000, 0x2000],
      [0xb000_0000, 0x1000],
      [2 ** 44 - 0x1000, 0x2000],
      [2 ** 53 - 1, 0x1000],
    ] as const) {
      expect(await s.acquire({ ep: 2, bytes, iova })).toMatchObject({
        code: 'BUFFER_OUT_OF_WINDOW',
      });
    }
  });

  it('strips the asc-dram-mask; an IOVA without it is unmapped', async () => {
    const { memory, iommu } = await setup();
    await iommu.map(0xa000_0000, 0x8_0000_0000, 0x1000, 'rw');
    const s = firmwareIovaStrategy({ memory, iommu, dramMask: 0x100_0000_0000 });
    const b = ok(await s.acquire({ ep: 2, bytes: 0x1000, iova: 0x100_a000_0000 }));
    expect(b.device).toBe(0x100_a000_0000);
    expect(b.placement.iova).toBe(0xa000_0000);
    await b.write(0, Uint8Array.of(9));
    expect(memory.peek(0x8_0000_0000, 1)).toEqual(Uint8Array.of(9));
    expect(await s.acquire({ ep: 4, bytes: 0x1000, iova: 0xa000_0000 })).toMatchObject({
      code: 'BUFFER_UNMAPPED',
    });
  });

  it('B35: a mapping hook describing another address (or too little) → BUFFER_MAP_MISMATCH', async () => {
    const { memory, iommu } = await setup();
    const seg = [{ paddr: 0x8_0000_0000, len: 0x1000 }];
    const s = firmwareIovaStrategy({
      memory,
      iommu,
      map: async (iova, bytes) =>
        iova === 0x8_0100_0000
          ? { device: 0x8_0100_4000, segments: seg }
          : iova === 0x8_0200_0000
            ? { device: iova, segments: [{ paddr: 0x8_0000_0000, len: bytes - 1 }] }
            : iova === 0x8_0300_0000
              ? { device: iova, segments: [{ paddr: 0x8_0000_0000, len: 0x10000 }] }
              : undefined,
    });
    expect(await s.acquire({ ep: 2, bytes: 0x1000, iova: 0x8_0100_0000 })).toMatchObject({
      code: 'BUFFER_MAP_MISMATCH',
    });
    expect(await s.acquire({ ep: 2, bytes: 0x1000, iova: 0x8_0200_0000 })).toMatchObject({
      code: 'BUFFER_MAP_MISMATCH',
    });
    expect(await s.acquire({ ep: 2, bytes: 0x1000, iova: 0x8_0400_0000 })).toMatchObject({
      code: 'BUFFER_UNMAPPED',
    });
    // A longer mapping is cut to the request: the grant never widens (M4).
    const b = ok(await s.acquire({ ep: 2, bytes: 0x1000, iova: 0x8_0300_0000 }));
    expect(b.placement.segments).toEqual([{ paddr: 0x8_0000_0000, len: 0x1000 }]);
    expect(s.live).toBe(1);
  });

  it('IOVA 0: BUFFER_REJECTED, or the fallback mode-A strategy', async () => {
    const { memory, iommu } = await setup();
    const alone = firmwareIovaStrategy({ memory, iommu });
    expect(await alone.acquire({ ep: 1, bytes: 0x1000, iova: 0 })).toMatchObject({
      code: 'BUFFER_REJECTED',
    });
    const modeA = iommuStrategy({ memory, iommu, iovaWindow: WINDOW });
    const withFallback = firmwareIovaStrategy({ memory, iommu, fallback: modeA });
    const d = await withFallback.acquire({ ep: 1, bytes: 0x1000, iova: 0 });
    expect(d).toMatchObject({ ok: true, reply: true, buffer: { mode: 'iommu' } });
    await withFallback.release(ok(d));
    expect(modeA.live).toBe(0);
    expect(memory.allocations.size).toBe(0);
  });

  it('a translation that throws becomes BUFFER_ALLOC_FAILED, never an exception', async () => {
    const { memory, iommu } = await setup();
    iommu.failNext('translate');
    const s = firmwareIovaStrategy({ memory, iommu });
    const d = await s.acquire({ ep: 2, bytes: 0x1000, iova: 0x1000 });
    expect(d).toMatchObject({ ok: false, code: 'BUFFER_ALLOC_FAILED' });
  });
});

describe('sramStrategy and mmioSram (mode C)', () => {
  const BASE = 0x2_3fe0_0000;
  const SIZE = 0x10_0000;

  it('inside the window: no reply, accesses through 32-bit MMIO', async () => {
    const { mmio, bytes, log } = fakeMmio(BASE, SIZE);
    const s = sramStrategy({ sram: mmioSram(mmio, BASE, SIZE) });
    const d = await s.acquire({ ep: 2, bytes: 0x2000, iova: BASE + SIZE - 0x2000 });
    expect(d).toMatchObject({ ok: true, reply: false });
    const b = ok(d);
    await b.write(0x1ffd, Uint8Array.of(0xaa, 0xbb, 0xcc));
    expect(bytes.slice(SIZE - 3)).toEqual(Uint8Array.of(0xaa, 0xbb, 0xcc));
    expect(await b.read(0x1ffe, 2)).toEqual(Uint8Array.of(0xbb, 0xcc));
    expect(log.every((a) => a.addr % 4 === 0)).toBe(true);
    await s.release(b);
    expect(s.live).toBe(0);
  });

  it("ML's check: outside, straddling, overflowing → BUFFER_OUT_OF_WINDOW; IOVA 0 rejected", async () => {
    const { mmio } = fakeMmio(BASE, SIZE);
    const s = sramStrategy({ sram: mmioSram(mmio, BASE, SIZE) });
    const zero = await s.acquire({ ep: 1, bytes: 0x1000, iova: 0 });
    expect(zero).toMatchObject({ code: 'BUFFER_REJECTED' });
    expect(zero.ok === false && zero.message).toContain('RTKit wants a RAM buffer');
    for (const [iova, bytes] of [
      [BASE - 0x1000, 0x1000],
      [BASE - 1, 0x1000],
      [BASE + SIZE - 0xfff, 0x1000],
      [BASE + SIZE, 0x1000],
      [2 ** 53 - 1, 0x1000],
      [2 ** 53 - 1, 1],
      [2 ** 44, 0x1000],
    ] as const) {
      const d = await s.acquire({ ep: 2, bytes, iova });
      expect(d, `${iova}+${bytes}`).toMatchObject({ ok: false, code: 'BUFFER_OUT_OF_WINDOW' });
      expect(d.ok === false && d.message).toContain('RTKit buffer request outside SRAM region');
    }
    expect(ok(await s.acquire({ ep: 2, bytes: 0x1000, iova: BASE + SIZE - 0x1000 })).bytes).toBe(
      0x1000,
    );
    expect(ok(await s.acquire({ ep: 4, bytes: 0x10, iova: BASE })).bytes).toBe(0x10);
  });

  it('mmioSram: bounds-checked before the bus; unaligned edges merged', async () => {
    const { mmio, bytes, log } = fakeMmio(BASE, 0x100);
    const sram = mmioSram(mmio, BASE, 0x100);
    bytes.set([1, 2, 3, 4, 5, 6, 7, 8]);
    await sram.write(BASE + 1, Uint8Array.of(0xa1, 0xa2, 0xa3, 0xa4, 0xa5));
    expect(bytes.slice(0, 8)).toEqual(Uint8Array.of(1, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 7, 8));
    expect(await sram.read(BASE + 3, 3)).toEqual(Uint8Array.of(0xa3, 0xa4, 0xa5));
    const n = log.length;
    for (const [addr, len] of [
      [BASE - 4, 4],
      [BASE + 0xfd, 4],
      [BASE + 0x100, 1],
      [2 ** 53 - 1, 1],
      [BASE, -1],
    ] as const) {
      expect(await thrownCode(() => sram.read(addr, len))).toBe('BUFFER_OUT_OF_RANGE');
    }
    expect(await thrownCode(() => sram.write(BASE + 0xff, Uint8Array.of(1, 2)))).toBe(
      'BUFFER_OUT_OF_RANGE',
    );
    expect(log.length).toBe(n);
    expect(await thrownCode(() => mmioSram(mmio, BASE + 2, 0x100))).toBe('BAD_INPUT');
  });
});
