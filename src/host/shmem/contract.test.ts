// One contract suite for every BufferStrategy (STYLE.md: one suite per interface, run against
// every implementation), here over the in-memory fakes; src/wiring/sim-host.test.ts runs the
// strategies against the simulator's memory units.
import { describe, expect, it } from 'vitest';
import { isRtkitError } from '../../errors.js';
import { HostSharedBuffer, ShmemErrorCode } from './common.js';
import { fakeHostMemory, fakeIommu, fakeMmio, fakeSart } from './fakes.js';
import { firmwareIovaStrategy } from './firmware-iova.js';
import { identityStrategy } from './identity.js';
import { iommuStrategy } from './iommu.js';
import { sartStrategy } from './sart.js';
import { mmioSram, sramStrategy } from './sram.js';
import type { BufferMode, BufferStrategy, SharedBuffer } from './types.js';

interface Env {
  strategy: BufferStrategy;
  /** A request this strategy serves, at `bytes`. */
  iova: (bytes: number) => number;
  mode: BufferMode;
  reply: boolean;
  /** Host-allocated buffers start zeroed. */
  zeroed: boolean;
  maxBytes: number;
}

const SRAM_BASE = 0x2_3fe0_0000;

const envs: Record<string, () => Env> = {
  iommu: () => ({
    strategy: iommuStrategy({
      memory: fakeHostMemory(),
      iommu: fakeIommu(),
      iovaWindow: { base: 0x8000_0000, size: 0x100_0000 },
      maxBytes: 0x40000,
    }),
    iova: () => 0,
    mode: 'iommu',
    reply: true,
    zeroed: true,
    maxBytes: 0x40000,
  }),
  sart: () => ({
    strategy: sartStrategy({ memory: fakeHostMemory(), sart: fakeSart(), maxBytes: 0x40000 }),
    iova: () => 0,
    mode: 'sart',
    reply: true,
    zeroed: true,
    maxBytes: 0x40000,
  }),
  identity: () => ({
    strategy: identityStrategy({ memory: fakeHostMemory(), maxBytes: 0x40000 }),
    iova: () => 0,
    mode: 'identity',
    reply: true,
    zeroed: true,
    maxBytes: 0x40000,
  }),
  'firmware-iova': () => {
    const memory = fakeHostMemory();
    const iommu = fakeIommu({ pageSize: 0x1000 });
    // 64 pages at IOVA 0x1000_0000, physically in reverse order (not contiguous).
    for (let i = 0; i < 64; i++) {
      void iommu.map(0x1000_0000 + i * 0x1000, 0x8_0000_0000 + (63 - i) * 0x1000, 0x1000, 'rw');
    }
    return {
      strategy: firmwareIovaStrategy({ memory, iommu, maxBytes: 0x40000 }),
      iova: () => 0x1000_0000,
      mode: 'firmware-iova',
      reply: false,
      zeroed: false,
      maxBytes: 0x40000,
    };
  },
  sram: () => {
    const { mmio } = fakeMmio(SRAM_BASE, 0x10_0000);
    return {
      strategy: sramStrategy({ sram: mmioSram(mmio, SRAM_BASE, 0x10_0000), maxBytes: 0x40000 }),
      iova: () => SRAM_BASE + 0x1000,
      mode: 'sram',
      reply: false,
      zeroed: false,
      maxBytes: 0x40000,
    };
  },
};

async function grant(env: Env, bytes: number, ep = 2): Promise<SharedBuffer> {
  const d = await env.strategy.acquire({ ep, bytes, iova: env.iova(bytes) });
  if (!d.ok) throw new Error(`${d.code}: ${d.message}`);
  return d.buffer;
}

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return isRtkitError(e) ? e.code : String(e);
  }
}

for (const [name, make] of Object.entries(envs)) {
  describe(`BufferStrategy contract: ${name}`, () => {
    it('M1: size 0, a size above maxBytes and malformed numbers are BUFFER_REJECTED', async () => {
      const env = make();
      const iova = env.iova(0x1000);
      for (const bytes of [0, env.maxBytes + 1, -4096, 1.5, Number.NaN, 2 ** 60]) {
        const d = await env.strategy.acquire({ ep: 1, bytes, iova });
        expect(d).toMatchObject({ ok: false, code: 'BUFFER_REJECTED' });
      }
      for (const bad of [-1, 0.5, Number.NaN]) {
        const d = await env.strategy.acquire({ ep: 1, bytes: 0x1000, iova: bad });
        expect(d).toMatchObject({ ok: false, code: 'BUFFER_REJECTED' });
      }
      expect(env.strategy.live).toBe(0);
    });

    it('grants exactly the requested size, with the expected mode, reply and address', async () => {
      const env = make();
      const d = await env.strategy.acquire({ ep: 4, bytes: 0x3000, iova: env.iova(0x3000) });
      expect(d.ok).toBe(true);
      if (!d.ok) return;
      expect(d.reply).toBe(env.reply);
      expect(d.buffer).toMatchObject({ ep: 4, mode: env.mode, bytes: 0x3000 });
      expect(d.buffer.device).not.toBe(0);
      expect(env.strategy.live).toBe(1);
    });

    it('serves maxBytes exactly', async () => {
      const env = make();
      const b = await grant(env, env.maxBytes);
      expect(b.bytes).toBe(env.maxBytes);
    });

    it('reads back what was written, at any offset inside the buffer', async () => {
      const env = make();
      const b = await grant(env, 0x3000);
      if (env.zeroed) expect(await b.read(0, 0x3000)).toEqual(new Uint8Array(0x3000));
      const data = Uint8Array.from({ length: 0x1801 }, (_, i) => (i * 7 + 1) & 0xff);
      await b.write(0x7ff, data);
      expect(await b.read(0x7ff, data.length)).toEqual(data);
      await b.write(0x3000 - 3, Uint8Array.of(1, 2, 3));
      expect(await b.read(0x2ffd, 3)).toEqual(Uint8Array.of(1, 2, 3));
      expect(await b.read(0x3000, 0)).toEqual(new Uint8Array(0));
    });

    it('M4: an access past the end (or malformed) throws BUFFER_OUT_OF_RANGE', async () => {
      const env = make();
      const b = await grant(env, 0x1000);
      for (const [off, len] of [
        [0, 0x1001],
        [0x1000, 1],
        [0xfff, 2],
        [-1, 1],
        [0.5, 1],
        [2 ** 53 - 1, 2],
        [1, Number.MAX_SAFE_INTEGER],
      ] as const) {
        expect(await code(b.read(off, len))).toBe(ShmemErrorCode.BUFFER_OUT_OF_RANGE);
      }
      expect(await code(b.write(0xfff, Uint8Array.of(1, 2)))).toBe('BUFFER_OUT_OF_RANGE');
      expect(await code(b.write(-1, Uint8Array.of(1)))).toBe('BUFFER_OUT_OF_RANGE');
    });

    it('release: live back to 0, later accesses refused, a second release is a no-op', async () => {
      const env = make();
      const a = await grant(env, 0x1000, 1);
      const b = await grant(env, 0x1000, 2);
      // Host allocations never share an address (B18); firmware-owned ones are what was asked.
      if (env.reply) expect(a.device).not.toBe(b.device);
      expect(env.strategy.live).toBe(2);
      await env.strategy.release(a);
      expect(env.strategy.live).toBe(1);
      expect((a as HostSharedBuffer).released).toBe(true);
      expect(await code(a.read(0, 1))).toBe(ShmemErrorCode.BUFFER_RELEASED);
      expect(await code(a.write(0, Uint8Array.of(1)))).toBe(ShmemErrorCode.BUFFER_RELEASED);
      await env.strategy.release(a);
      await env.strategy.release(b);
      expect(env.strategy.live).toBe(0);
    });

    it('refuses to release a buffer it did not grant', async () => {
      const env = make();
      const other = new HostSharedBuffer(
        1,
        'sram',
        0x1000,
        0x1000,
        {},
        {
          read: async () => new Uint8Array(0),
          write: async () => {},
        },
      );
      expect(await code(env.strategy.release(other))).toBe('BAD_INPUT');
    });
  });
}
