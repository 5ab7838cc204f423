// BufferManager: the per-endpoint rules of PROTOCOL.md §6.5 and the ROBUSTNESS recipes B11, B14,
// B15, B18, B25, with the strategies over in-memory fakes.
import { describe, expect, it } from 'vitest';
import { isRtkitError } from '../../errors.js';
import { decode, encode, hex64Of } from '../../protocol/index.js';
import { HostSharedBuffer } from './common.js';
import { fakeHostMemory, fakeIommu, fakeSart } from './fakes.js';
import { firmwareIovaStrategy } from './firmware-iova.js';
import { identityStrategy } from './identity.js';
import { iommuStrategy } from './iommu.js';
import {
  BufferManager,
  type BufferOutcome,
  bufferReplyWord,
  bufferRequestFromMessage,
} from './manager.js';
import { sartStrategy } from './sart.js';
import type { BufferStrategy } from './types.js';

const iop = { dir: 'iop->ap' as const };

function request(ep: number, word: bigint) {
  const req = bufferRequestFromMessage(ep, decode(ep, word, iop));
  if (req === undefined) throw new Error(`not a buffer request: ${hex64Of(word)}`);
  return req;
}

function replyHex(o: BufferOutcome): string | undefined {
  return 'reply' in o && o.reply !== undefined ? hex64Of(o.reply) : undefined;
}

function identityManager(opts: { base?: number; maxLive?: number } = {}) {
  const memory = fakeHostMemory({
    ...(opts.base !== undefined ? { base: opts.base } : {}),
    ...(opts.maxLive !== undefined ? { maxLive: opts.maxLive } : {}),
  });
  const strategy = identityStrategy({ memory });
  return { memory, strategy, manager: new BufferManager({ default: strategy }) };
}

describe('bufferRequestFromMessage', () => {
  it('EP 1/2/4: pages → bytes; EP 8: bytes and page number → address (B15)', () => {
    expect(request(2, 0x0010100000000000n)).toEqual({ ep: 2, bytes: 0x1000, iova: 0 });
    expect(request(4, 0x0010300801000000n)).toEqual({ ep: 4, bytes: 0x3000, iova: 0x801000000 });
    expect(request(1, 0x001ff00000000000n)).toEqual({ ep: 1, bytes: 0xff000, iova: 0 });
    expect(request(8, 0x0104000000012345n)).toEqual({ ep: 8, bytes: 0x4000, iova: 0x12345000 });
    expect(request(8, 0x0104000000000000n)).toEqual({ ep: 8, bytes: 0x4000, iova: 0 });
  });

  it('anything else is not a request: crash notifications (B17), LOGs, another endpoint', () => {
    const crash = decode(1, 0x0010100800000000n, { ...iop, crashlogArmed: true });
    expect(crash.kind).toBe('crashNotification');
    expect(bufferRequestFromMessage(1, crash)).toBeUndefined();
    expect(bufferRequestFromMessage(2, decode(2, 0x005000000000002an, iop))).toBeUndefined();
    expect(bufferRequestFromMessage(4, decode(2, 0x0010100000000000n, iop))).toBeUndefined();
  });
});

describe('bufferReplyWord', () => {
  const at = (device: number) =>
    new HostSharedBuffer(
      1,
      'identity',
      device,
      0x2000,
      {},
      {
        read: async () => new Uint8Array(0),
        write: async () => {},
      },
    );

  it('§6.1 example: 2 pages at 0x800004000 → 0x0010200800004000, the requested count echoed', () => {
    const req = request(1, 0x0010200000000000n);
    expect(hex64Of(bufferReplyWord(1, at(0x800004000), req))).toBe('0x0010200800004000');
    expect(hex64Of(bufferReplyWord(2, at(0x800004000), { ...req, ep: 2 }))).toBe(
      '0x0010200800004000',
    );
    // The widest address the 44-bit field carries (§6.1, §12 row 4).
    expect(hex64Of(bufferReplyWord(4, at(0xfff_ffff_f000), { ...req, ep: 4 }))).toBe(
      '0x00102ffffffff000',
    );
  });

  it('B14: OSLog reply in its own layout, never the obsolete type-3 ACK', () => {
    const req = request(8, 0x0104000000000000n);
    const w = bufferReplyWord(8, at(0x801004000), req);
    expect(hex64Of(w)).toBe('0x0104000000801004');
    expect(w).not.toBe(0x0300000000000000n);
    expect(decode(8, w, { dir: 'ap->iop' })).toMatchObject({
      kind: 'oslogBufferReply',
      size: 0x4000,
      page: 0x801004,
    });
  });

  it('M3 and misuse: address 0, an unaligned OSLog address, a non-buffer endpoint throw', () => {
    const req = { ep: 1, bytes: 0x1000, iova: 0 };
    for (const [ep, dev] of [
      [1, 0],
      [8, 0x801004800],
      [3, 0x801000000],
      [0x20, 0x801000000],
    ] as const) {
      let err: unknown;
      try {
        bufferReplyWord(ep, at(dev), { ...req, ep });
      } catch (e) {
        err = e;
      }
      expect(isRtkitError(err, 'BAD_INPUT')).toBe(true);
    }
  });
});

describe('BufferManager', () => {
  it('B11: 20 identical requests → 20 identical replies, one allocation; a 2-page request is BUSY', async () => {
    const { manager, memory } = identityManager();
    const replies = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const o = await manager.handle(request(2, 0x0010100000000000n));
      expect(o.kind).toBe(i === 0 ? 'granted' : 'repeat');
      replies.add(replyHex(o)!);
    }
    expect(replies.size).toBe(1);
    expect([...replies][0]).toBe('0x0010100800000000');
    expect(manager.allocations).toBe(1);
    expect(memory.allocated).toBe(1);
    const busy = await manager.handle(request(2, 0x0010200000000000n));
    expect(busy).toMatchObject({ kind: 'busy', code: 'BUFFER_BUSY' });
    expect(replyHex(busy)).toBeUndefined();
    expect(manager.get(2)?.bytes).toBe(0x1000);
    expect(manager.stats()).toMatchObject({ live: 1, allocations: 1, repeats: 19, busy: 1 });
  });

  it('B11 with the SART strategy: one slot used for 20 requests', async () => {
    const sart = fakeSart();
    const manager = new BufferManager({
      default: sartStrategy({ memory: fakeHostMemory(), sart }),
    });
    for (let i = 0; i < 20; i++) await manager.handle(request(2, 0x0010100000000000n));
    expect(sart.used).toBe(1);
    expect(manager.allocations).toBe(1);
  });

  it('B18: EP1 and EP4 get distinct non-zero addresses', async () => {
    const { manager } = identityManager();
    const a = await manager.handle(request(1, 0x0010100000000000n));
    const b = await manager.handle(request(4, 0x0010100000000000n));
    expect(a.kind === 'granted' && b.kind === 'granted').toBe(true);
    const da = manager.get(1)!.device;
    const db = manager.get(4)!.device;
    expect(da).not.toBe(0);
    expect(db).not.toBe(0);
    expect(da).not.toBe(db);
    expect(replyHex(a)).toBe('0x0010100800000000');
    expect(replyHex(b)).toBe('0x0010100800004000');
  });

  it('B25: allocator capacity 2 → EP1, EP2 replied; EP4 BUFFER_ALLOC_FAILED and no reply', async () => {
    const { manager } = identityManager({ maxLive: 2 });
    const out = [];
    for (const ep of [1, 2, 4]) out.push(await manager.handle(request(ep, 0x0010100000000000n)));
    expect(out.map((o) => o.kind)).toEqual(['granted', 'granted', 'refused']);
    expect(out[2]).toMatchObject({ code: 'BUFFER_ALLOC_FAILED' });
    expect(replyHex(out[2]!)).toBeUndefined();
    expect(manager.get(4)).toBeUndefined();
    // A refusal does not occupy the endpoint: once memory is back, the request succeeds.
    await manager.release(1);
    expect((await manager.handle(request(4, 0x0010100000000000n))).kind).toBe('granted');
  });

  it('B14 through the manager: 16 KiB OSLog buffer at 0x801004000 → 0x0104000000801004', async () => {
    const { manager } = identityManager({ base: 0x8_0100_4000 });
    const o = await manager.handle(request(8, 0x0104000000000000n));
    expect(replyHex(o)).toBe('0x0104000000801004');
  });

  it('M1: size 0 → BUFFER_REJECTED, no reply, nothing held', async () => {
    const { manager } = identityManager();
    const o = await manager.handle(request(1, 0x0010000000000000n));
    expect(o).toMatchObject({ kind: 'refused', code: 'BUFFER_REJECTED' });
    expect(manager.live).toBe(0);
  });

  it('mode B repeats send nothing; B15 through the manager', async () => {
    const memory = fakeHostMemory();
    const iommu = fakeIommu({ pageSize: 0x1000 });
    await iommu.map(0x1234_5000, 0x8_0000_0000, 0x4000, 'rw');
    const manager = new BufferManager({ default: firmwareIovaStrategy({ memory, iommu }) });
    const a = await manager.handle(request(8, 0x0104000000012345n));
    const b = await manager.handle(request(8, 0x0104000000012345n));
    expect(a).toMatchObject({ kind: 'granted', reply: undefined });
    expect(b).toMatchObject({ kind: 'repeat', reply: undefined });
    expect(manager.get(8)).toMatchObject({ device: 0x1234_5000, bytes: 0x4000 });
  });

  it('serves requests in arrival order: concurrent repeats see the first grant', async () => {
    const { manager, memory } = identityManager();
    const all = await Promise.all(
      [0, 1, 2].map(() => manager.handle(request(2, 0x0010100000000000n))),
    );
    expect(all.map((o) => o.kind)).toEqual(['granted', 'repeat', 'repeat']);
    expect(memory.allocated).toBe(1);
  });

  it('M6: releaseAll frees, unmaps and forgets everything; keep: true keeps them alive', async () => {
    const memory = fakeHostMemory();
    const iommu = fakeIommu();
    const strategy = iommuStrategy({
      memory,
      iommu,
      iovaWindow: { base: 0x8000_0000, size: 0x10_0000 },
    });
    const manager = new BufferManager({ default: strategy });
    for (const ep of [1, 2, 4]) await manager.handle(request(ep, 0x0010100000000000n));
    expect(await manager.releaseAll({ keep: true })).toBe(0);
    expect(manager.live).toBe(3);
    expect(manager.entries().every((e) => e.retained)).toBe(true);
    expect(iommu.pages.size).toBe(3);
    // Still the same buffer for an identical request after a failed shutdown.
    expect((await manager.handle(request(1, 0x0010100000000000n))).kind).toBe('repeat');
    expect(await manager.releaseAll()).toBe(3);
    expect(manager.live).toBe(0);
    expect(strategy.live).toBe(0);
    expect(iommu.pages.size).toBe(0);
    expect(memory.allocations.size).toBe(0);
    expect(manager.stats().releases).toBe(3);
    // After a reinit the endpoint is free for a new buffer.
    expect((await manager.handle(request(1, 0x0010200000000000n))).kind).toBe('granted');
  });

  it('a failed release keeps that buffer live, releases the others, and rejects', async () => {
    const memory = fakeHostMemory();
    const iommu = fakeIommu();
    const manager = new BufferManager({
      default: iommuStrategy({ memory, iommu, iovaWindow: { base: 0x8000_0000, size: 0x10_0000 } }),
    });
    for (const ep of [1, 2]) await manager.handle(request(ep, 0x0010100000000000n));
    iommu.failNext('unmap');
    let err: unknown;
    try {
      await manager.releaseAll();
    } catch (e) {
      err = e;
    }
    expect(isRtkitError(err, 'BUFFER_RELEASE_FAILED')).toBe(true);
    expect((err as { details: { endpoints: number[] } }).details.endpoints).toEqual([1]);
    expect(manager.entries().map((e) => e.ep)).toEqual([1]);
    expect(memory.allocations.size).toBe(1);
    expect(await manager.releaseAll()).toBe(1);
    expect(memory.allocations.size).toBe(0);
  });

  it('per-endpoint selection: byEndpoint, a function, no strategy → BUFFER_REJECTED', async () => {
    const memory = fakeHostMemory();
    const a = identityStrategy({ memory, name: 'a' });
    const b = identityStrategy({ memory, name: 'b' });
    const m1 = new BufferManager({ default: a, byEndpoint: { 4: b } });
    await m1.handle(request(1, 0x0010100000000000n));
    await m1.handle(request(4, 0x0010100000000000n));
    expect(m1.entries().map((e) => e.strategy)).toEqual(['a', 'b']);
    const m2 = new BufferManager((ep) => (ep === 2 ? b : undefined));
    expect((await m2.handle(request(2, 0x0010100000000000n))).kind).toBe('granted');
    expect(await m2.handle(request(1, 0x0010100000000000n))).toMatchObject({
      kind: 'refused',
      code: 'BUFFER_REJECTED',
    });
  });

  it('a misbehaving strategy never produces a reply with address 0 or an exception (M3)', async () => {
    const memory = fakeHostMemory();
    let released = 0;
    const zero: BufferStrategy = {
      name: 'zero',
      live: 0,
      acquire: async (req) => ({
        ok: true,
        reply: true,
        buffer: new HostSharedBuffer(
          req.ep,
          'identity',
          0,
          req.bytes,
          {},
          {
            read: async () => new Uint8Array(0),
            write: async () => {},
          },
        ),
      }),
      release: async () => {
        released++;
      },
    };
    const throwing: BufferStrategy = {
      name: 'throwing',
      live: 0,
      acquire: async () => {
        throw new Error('boom');
      },
      release: async () => {},
    };
    const m = new BufferManager({ default: zero, byEndpoint: { 2: throwing } });
    const o = await m.handle(request(1, 0x0010100000000000n));
    expect(o).toMatchObject({ kind: 'refused', code: 'BUFFER_ALLOC_FAILED' });
    expect(released).toBe(1);
    const t = await m.handle(request(2, 0x0010100000000000n));
    expect(t).toMatchObject({ kind: 'refused', code: 'BUFFER_ALLOC_FAILED' });
    expect(t.kind === 'refused' && t.message).toContain('boom');
    expect(m.live).toBe(0);
    expect(memory.allocations.size).toBe(0);
  });

  it('handleMessage: undefined for anything that is not a buffer request', async () => {
    const { manager } = identityManager();
    expect(manager.handleMessage(2, decode(2, 0x0080000080000040n, iop))).toBeUndefined();
    const o = await manager.handleMessage(2, decode(2, 0x0010100000000000n, iop));
    expect(o?.kind).toBe('granted');
    expect(o && replyHex(o)).toBe(
      hex64Of(encode({ kind: 'syslogBufferReply', size: 1, iova: 0x8_0000_0000 })),
    );
  });
});
