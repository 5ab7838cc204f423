// The shared-memory strategies against the simulated SoC's memory units, through the wiring
// adapters. The simulator is the witness: its firmware-side DmaPorts record a fault for every
// access the host did not allow (docs/sim-memory.md), so "the IOP can use this buffer" and "the
// IOP can no longer reach it" are both checked by the hardware model, not by the host's word.
import { afterEach, describe, expect, it } from 'vitest';
import {
  BufferManager,
  type BufferOutcome,
  bufferRequestFromMessage,
  firmwareIovaStrategy,
  type HostSharedBuffer,
  sartStrategy,
} from '../host/shmem/index.js';
import type { BufferRequest, SharedBuffer } from '../host/shmem/types.js';
import { decode, hex64Of, type Message } from '../protocol/index.js';
import { SMC_SRAM } from '../sim/profiles/smc.js';
import { SimSoc, type SocOptions } from '../sim/soc.js';
import { MiniHost } from '../sim/testing/mini-host.js';
import { simHostMemory, simIommu, simSart, simSram, strategiesFor } from './sim-host.js';

let stops: (() => void)[] = [];
afterEach(() => {
  for (const s of stops) s();
  stops = [];
});

function req(ep: number, word: bigint): BufferRequest {
  const r = bufferRequestFromMessage(ep, decode(ep, word, { dir: 'iop->ap' }));
  if (r === undefined) throw new Error(`not a buffer request ${hex64Of(word)}`);
  return r;
}

function setup(profile: 'mtp' | 'ans' | 'generic' | 'dcp' | 'smc', socOpts: SocOptions = {}) {
  const soc = new SimSoc(socOpts);
  const cp = soc.add({ profile });
  const strategies = strategiesFor(soc, cp);
  const manager = new BufferManager(strategies);
  return { soc, cp, strategies, manager };
}

function granted(o: BufferOutcome): SharedBuffer & HostSharedBuffer {
  if (o.kind !== 'granted' && o.kind !== 'repeat')
    throw new Error(`${o.kind}: ${JSON.stringify(o)}`);
  return o.buffer as SharedBuffer & HostSharedBuffer;
}

const ONE_PAGE = 0x0010100000000000n;
const page = (n: number) => Uint8Array.from({ length: 4096 }, (_, i) => (i + n) & 0xff);

describe('adapters', () => {
  it('simHostMemory: allocation from soc.dram, access to soc.memory', async () => {
    const soc = new SimSoc();
    const mem = simHostMemory(soc);
    const a = await mem.alloc(0x1000, 0x4000);
    expect(a).toBe(0x8_0000_0000);
    await mem.write(a!, Uint8Array.of(1, 2, 3));
    expect(soc.memory.read(a!, 3)).toEqual(Uint8Array.of(1, 2, 3));
    expect(await mem.read(a!, 3)).toEqual(Uint8Array.of(1, 2, 3));
    expect(soc.dram.live).toBe(1);
    await mem.free(a!);
    expect(soc.dram.live).toBe(0);
  });

  it('simHostMemory: optional read failures reach the buffer reader (B12 setups)', async () => {
    const soc = new SimSoc();
    const cp = soc.add({ profile: 'mtp' });
    const memory = simHostMemory(soc, { failRead: (paddr) => paddr === 0x8_0000_0000 });
    const manager = new BufferManager(strategiesFor(soc, cp, { memory }));
    const b = granted(await manager.handle(req(1, ONE_PAGE)));
    let code: unknown;
    try {
      await b.read(0, 4096);
    } catch (e) {
      code = (e as { code?: unknown }).code;
    }
    expect(code).toBe('MEMORY_READ_FAILED');
  });

  it('simIommu: one DART stream; translate ignores the device permission', async () => {
    const soc = new SimSoc();
    const io = simIommu(soc, 3);
    expect(io.pageSize).toBe(soc.dart.pageSize);
    await io.map(0x8000_0000, 0x8_0000_0000, 0x4000, 'r');
    expect(await io.translate(0x8000_0123)).toBe(0x8_0000_0123);
    expect(soc.dart.mappedPagesIn(3)).toBe(1);
    await io.unmap(0x8000_0000, 0x4000);
    expect(await io.translate(0x8000_0000)).toBeUndefined();
    expect(await io.translate(2 ** 53 - 1)).toBeUndefined();
  });

  it('simSram: SRAM through 32-bit MMIO on the bus', async () => {
    const soc = new SimSoc();
    const cp = soc.add({ profile: 'smc' });
    const sram = simSram(soc, SMC_SRAM);
    await sram.write(SMC_SRAM.base + 2, Uint8Array.of(7, 8, 9));
    expect(cp.sram!.bytes.slice(0, 6)).toEqual(Uint8Array.of(0, 0, 7, 8, 9, 0));
    expect(await sram.read(SMC_SRAM.base + 3, 2)).toEqual(Uint8Array.of(8, 9));
  });

  it('strategiesFor picks by placement', () => {
    const names = (p: 'mtp' | 'ans' | 'generic' | 'dcp' | 'smc') => {
      const s = setup(p).strategies;
      return [s.default.name, s.hostAllocated.name, s.firmwareOwned?.name, s.sram?.name];
    };
    expect(names('mtp')).toEqual(['iommu', 'iommu', 'firmware-iova', undefined]);
    expect(names('dcp')).toEqual(['iommu', 'iommu', 'firmware-iova', undefined]);
    expect(names('ans')).toEqual(['sart', 'sart', undefined, undefined]);
    expect(names('generic')).toEqual(['identity', 'identity', 'firmware-region', undefined]);
    expect(names('smc')).toEqual(['sram', 'identity', 'firmware-region', 'sram']);
  });
});

describe('mode A on every memory path', () => {
  for (const profile of ['mtp', 'ans', 'generic'] as const) {
    it(`${profile}: B18 — EP1 and EP4 get distinct non-zero addresses the IOP can write 4096 bytes at`, async () => {
      const { soc, cp, manager } = setup(profile);
      const a = granted(await manager.handle(req(1, ONE_PAGE)));
      const b = granted(await manager.handle(req(4, ONE_PAGE)));
      expect(a.device).not.toBe(0);
      expect(b.device).not.toBe(0);
      expect(a.device).not.toBe(b.device);
      expect(cp.dma.write(a.device, page(1))).toBe(true);
      expect(cp.dma.write(b.device, page(2))).toBe(true);
      expect(soc.faults.faults).toEqual([]);
      // The host sees what the IOP wrote, through its own (physical) view.
      expect(await a.read(0, 4096)).toEqual(page(1));
      expect(await b.read(0, 4096)).toEqual(page(2));
    });
  }

  for (const profile of ['mtp', 'ans'] as const) {
    it(`${profile}: revocation — after release and releaseAll the IOP's DMA faults`, async () => {
      const { soc, cp, manager, strategies } = setup(profile);
      const a = granted(await manager.handle(req(1, ONE_PAGE)));
      const b = granted(await manager.handle(req(2, ONE_PAGE)));
      const c = granted(await manager.handle(req(4, ONE_PAGE)));
      await manager.release(1);
      expect(cp.dma.write(a.device, page(0))).toBe(false);
      expect(cp.dma.write(b.device, page(0))).toBe(true);
      await manager.releaseAll();
      for (const buf of [b, c]) {
        expect(cp.dma.write(buf.device, page(0))).toBe(false);
        expect(cp.dma.read(buf.device, 16)).toBeUndefined();
      }
      const kind = profile === 'mtp' ? 'unmapped' : 'sart-denied';
      expect(soc.faults.faults.map((f) => f.kind)).toEqual([kind, kind, kind, kind, kind]);
      expect(soc.dram.live).toBe(0);
      expect(strategies.default.live).toBe(0);
      expect(soc.dart.mappedPages + soc.sart.usedSlots).toBe(0);
    });
  }

  it('B25: DRAM capacity 2 buffers → replies on EP1 and EP2; EP4 BUFFER_ALLOC_FAILED, no reply', async () => {
    for (const profile of ['mtp', 'ans', 'generic'] as const) {
      const { soc, manager } = setup(profile, {
        dram: { base: 0x8_0000_0000, size: 0x100_0000, maxLive: 2 },
      });
      const out = [];
      for (const ep of [1, 2, 4]) out.push(await manager.handle(req(ep, ONE_PAGE)));
      expect(out.map((o) => o.kind)).toEqual(['granted', 'granted', 'refused']);
      expect(out[2]).toMatchObject({ code: 'BUFFER_ALLOC_FAILED' });
      expect('reply' in out[2]!).toBe(false);
      // Nothing half-done is left behind by the refused request.
      expect(soc.dram.live).toBe(2);
      expect(soc.dart.mappedPages).toBe(profile === 'mtp' ? 2 : 0);
      expect(soc.sart.usedSlots).toBe(profile === 'ans' ? 2 : 0);
    }
  });

  it('B11 (SART): 20 identical requests → 20 identical replies, 1 allocation, 1 slot; 2 pages → BUSY', async () => {
    const { soc, manager } = setup('ans');
    const replies = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const o = await manager.handle(req(2, ONE_PAGE));
      if (o.kind !== 'granted' && o.kind !== 'repeat') throw new Error(o.kind);
      replies.add(hex64Of(o.reply!));
    }
    expect([...replies]).toEqual(['0x0010100800000000']);
    expect(soc.dram.allocations).toBe(1);
    expect(soc.sart.usedSlots).toBe(1);
    const busy = await manager.handle(req(2, 0x0010200000000000n));
    expect(busy).toMatchObject({ kind: 'busy', code: 'BUFFER_BUSY' });
    expect(soc.dram.allocations).toBe(1);
    expect(soc.sart.usedSlots).toBe(1);
  });

  it('B36: a 5-page SART buffer reads back exactly (0x800000000, 0x5000); bootloader slots untouched', async () => {
    const soc = new SimSoc();
    const boot = soc.sart.reserve(0x1_0000_0000, 0x4000)!;
    const strategy = sartStrategy({ memory: simHostMemory(soc), sart: simSart(soc) });
    const manager = new BufferManager({ default: strategy });
    const b = granted(await manager.handle(req(1, 0x0010500000000000n)));
    const slot = b.placement.sartSlot!;
    expect(slot).not.toBe(boot);
    expect(soc.sart.entry(slot)).toEqual({
      slot,
      paddr: 0x8_0000_0000,
      size: 0x5000,
      reserved: false,
    });
    expect(soc.sart.registers(slot)).toEqual({ config: 0xff00_0005, paddr: 0x80_0000 });
    // The rest of the 16 entries (straight from the strategy: the manager has one per endpoint),
    // then one too many.
    const more: SharedBuffer[] = [];
    for (let i = 0; i < 14; i++) {
      const d = await strategy.acquire({ ep: 0x20 + i, bytes: 0x1000, iova: 0 });
      if (!d.ok) throw new Error(d.message);
      more.push(d.buffer);
    }
    expect(soc.sart.usedSlots).toBe(16);
    expect(await manager.handle(req(2, ONE_PAGE))).toMatchObject({
      code: 'BUFFER_ALLOC_FAILED',
    });
    expect(soc.dram.live).toBe(15);
    for (const m of more) await strategy.release(m);
    await manager.releaseAll();
    expect(soc.sart.entries()).toEqual([
      { slot: boot, paddr: 0x1_0000_0000, size: 0x4000, reserved: true },
    ]);
    expect(soc.dram.live).toBe(0);
  });

  it('asc-dram-mask: ORed into the reply, stripped for access; the masked IOP port reaches the buffer', async () => {
    const soc = new SimSoc();
    const cp = soc.add({ profile: 'mtp' });
    const mask = 2 ** 40;
    const manager = new BufferManager(strategiesFor(soc, cp, { dramMask: mask }));
    const o = await manager.handle(req(1, ONE_PAGE));
    expect(o.kind === 'granted' && hex64Of(o.reply!)).toBe('0x0010110080000000');
    const b = granted(o);
    expect(b.device).toBe(mask + 0x8000_0000);
    const port = soc.dart.port(cp.dartStream!, soc.memory, soc.faults, { dramMask: mask });
    expect(port.write(b.device, page(5))).toBe(true);
    expect(await b.read(0, 4096)).toEqual(page(5));
    // Without the mask the IOP would not reach DRAM at all.
    expect(port.write(0x8000_0000, page(5))).toBe(false);
    // Mode B: the announced IOVA carries the mask and is stripped before the DART walk.
    soc.dart.map(cp.dartStream!, 0xa000_0000, 0x9_1000_0000, 0x4000, 'rw');
    const fw = granted(await manager.handle({ ep: 2, bytes: 0x1000, iova: mask + 0xa000_0000 }));
    expect(port.write(fw.device, page(6))).toBe(true);
    expect(await fw.read(0, 4096)).toEqual(page(6));
    expect(await manager.handle({ ep: 4, bytes: 0x1000, iova: 0xa000_0000 })).toMatchObject({
      code: 'BUFFER_UNMAPPED',
    });
  });
});

describe('mode B through the DART', () => {
  it('B15: OSLog page 0x12345 → 0x12345000 + 0x4000 through the stream, no reply', async () => {
    const { soc, cp, manager } = setup('mtp');
    // 16 KiB DART pages: the firmware's range starts mid-page.
    soc.dart.map(cp.dartStream!, 0x1234_4000, 0x9_0000_0000, 0x8000, 'rw');
    const o = await manager.handle(req(8, 0x0104000000012345n));
    expect(o).toMatchObject({ kind: 'granted', reply: undefined });
    const b = granted(o);
    expect(b).toMatchObject({ mode: 'firmware-iova', device: 0x1234_5000, bytes: 0x4000 });
    expect(b.placement.segments).toEqual([{ paddr: 0x9_0000_1000, len: 0x4000 }]);
    const data = Uint8Array.from({ length: 0x4000 }, (_, i) => (i * 3) & 0xff);
    expect(cp.dma.write(0x1234_5000, data)).toBe(true);
    expect(await b.read(0, 0x4000)).toEqual(data);
    expect(soc.faults.faults).toEqual([]);
    // Release drops the host's view, not the firmware's own mapping.
    await manager.releaseAll();
    expect(soc.dart.translate(cp.dartStream!, 0x1234_5000, true)).toBe(0x9_0000_1000);
  });

  it("DCP: the profile's firmware window is honoured (inside mapped, outside OUT_OF_WINDOW)", async () => {
    const { cp, manager } = setup('dcp');
    const win = cp.profile.placement.firmwareIovaWindow!;
    const b = granted(await manager.handle({ ep: 2, bytes: 0x3000, iova: win.base }));
    expect(cp.dma.write(win.base + 0x2000, page(9))).toBe(true);
    expect(await b.read(0x2000, 4096)).toEqual(page(9));
    expect(await manager.handle({ ep: 4, bytes: 0x1000, iova: win.base + win.size })).toMatchObject(
      { code: 'BUFFER_OUT_OF_WINDOW' },
    );
  });

  it('B24: nothing mapped at the announced IOVA → BUFFER_UNMAPPED (DART and identity paths)', async () => {
    for (const profile of ['mtp', 'generic'] as const) {
      const { manager } = setup(profile);
      const o = await manager.handle(req(2, 0x0010100801000000n));
      expect(o).toMatchObject({ kind: 'refused', code: 'BUFFER_UNMAPPED' });
      expect(manager.get(2)).toBeUndefined();
    }
    // ANS (behind a SART) does not take firmware-owned buffers at all.
    const { manager } = setup('ans');
    expect(await manager.handle(req(2, 0x0010100801000000n))).toMatchObject({
      code: 'BUFFER_REJECTED',
    });
  });

  it('B35: a mode-B hook that yields a buffer at 0x801004000 for 0x801000000 → BUFFER_MAP_MISMATCH', async () => {
    const soc = new SimSoc();
    const cp = soc.add({ profile: 'mtp' });
    soc.dart.map(cp.dartStream!, 0x8_0100_4000, 0x9_0000_0000, 0x4000, 'rw');
    const iommu = simIommu(soc, cp.dartStream!);
    const strategy = firmwareIovaStrategy({
      memory: simHostMemory(soc),
      iommu,
      // A careless driver hook: looks up the mapping it knows, whatever was asked.
      map: async () => ({
        device: 0x8_0100_4000,
        segments: [{ paddr: (await iommu.translate(0x8_0100_4000))!, len: 0x4000 }],
      }),
    });
    const manager = new BufferManager({ default: strategy });
    const o = await manager.handle(req(2, 0x0010100801000000n));
    expect(o).toMatchObject({ kind: 'refused', code: 'BUFFER_MAP_MISMATCH' });
    expect(manager.get(2)).toBeUndefined();
    expect(strategy.live).toBe(0);
  });
});

describe('mode C: the SMC SRAM window', () => {
  it("inside: no reply, the firmware's SRAM writes read back through MMIO", async () => {
    const { soc, cp, manager } = setup('smc');
    const at = SMC_SRAM.base + SMC_SRAM.size - 0x2000;
    const o = await manager.handle({ ep: 2, bytes: 0x2000, iova: at });
    expect(o).toMatchObject({ kind: 'granted', reply: undefined });
    const b = granted(o);
    const port = cp.sram!.port(soc.faults);
    expect(port.write(at + 0x1000, page(4))).toBe(true);
    expect(await b.read(0x1000, 4096)).toEqual(page(4));
    await b.write(0x10, Uint8Array.of(0xde, 0xad));
    expect(port.read(at + 0x10, 2)).toEqual(Uint8Array.of(0xde, 0xad));
  });

  it('outside, straddling, overflowing → BUFFER_OUT_OF_WINDOW; IOVA 0 → BUFFER_REJECTED', async () => {
    const { manager } = setup('smc');
    const end = SMC_SRAM.base + SMC_SRAM.size;
    for (const iova of [end, end - 0x1000 + 4, SMC_SRAM.base - 0x1000, 2 ** 53 - 1]) {
      expect(await manager.handle({ ep: 2, bytes: 0x1000, iova })).toMatchObject({
        kind: 'refused',
        code: 'BUFFER_OUT_OF_WINDOW',
      });
    }
    expect(await manager.handle(req(1, ONE_PAGE))).toMatchObject({ code: 'BUFFER_REJECTED' });
  });
});

describe('end to end: the simulated firmware served by the BufferManager', () => {
  for (const profile of ['dcp', 'ans', 'smc', 'generic', 'mtp'] as const) {
    it(`${profile}: every buffer ready, no violation, no fault; after releaseAll the IOP faults`, async () => {
      const soc = new SimSoc({ seed: 5 });
      stops.push(soc.clock.autoAdvance());
      const cp = soc.add({ profile });
      const manager = new BufferManager(strategiesFor(soc, cp));
      const host = new MiniHost(soc, cp);
      const outcomes: BufferOutcome[] = [];
      // Replace MiniHost's hand-written buffer service with the manager (test-only patch).
      Object.assign(host, {
        serveBuffer(ep: number, _bytes: number, _iova: number, _reply: (d: number) => Message) {
          // MiniHost queues each message before serving it: the request is the newest one.
          const last = host.inbox[host.inbox.length - 1]!;
          const r = bufferRequestFromMessage(ep, last.m);
          if (r === undefined) throw new Error(`not a buffer request: ${last.m.kind}`);
          void manager.handle(r).then(async (o) => {
            outcomes.push(o);
            if ((o.kind === 'granted' || o.kind === 'repeat') && o.reply !== undefined) {
              await host.driver.send(ep, o.reply);
            }
          });
        },
      });
      await host.boot({ ordering: 'linux' });
      await host.idle(1500);
      expect(soc.violations()).toEqual([]);
      expect(soc.faults.faults).toEqual([]);
      const wanted = Object.keys(cp.profile.buffers).map(Number);
      expect(outcomes.map((o) => o.kind)).toEqual(wanted.map(() => 'granted'));
      expect(cp.firmware.state.buffers.every((b) => b.status === 'ready')).toBe(true);
      expect(manager.entries().map((e) => e.ep)).toEqual(wanted);
      // The firmware has logged into the syslog buffer (when its profile logs anything).
      if (cp.profile.syslog?.bootLines?.length) {
        const syslog = manager.get(2)!;
        expect((await syslog.read(0, 0x40)).some((x) => x !== 0)).toBe(true);
      }

      await host.setPower(0x10, 0x01);
      await manager.releaseAll();
      expect(manager.live).toBe(0);
      expect(soc.dram.live).toBe(0);
      expect(soc.dart.mappedPagesIn(cp.dartStream ?? 0)).toBe(
        profile === 'dcp' ? 0x0100_0000 / soc.dart.pageSize : 0,
      );
      expect(soc.sart.usedSlots).toBe(0);
      if (profile === 'mtp' || profile === 'ans') {
        const dev = cp.firmware.state.buffers.find((b) => b.ep === 1)!.addr;
        expect(cp.dma.write(dev, page(0))).toBe(false);
        expect(soc.faults.faults.length).toBe(1);
      }
      await host.close();
    });
  }
});
