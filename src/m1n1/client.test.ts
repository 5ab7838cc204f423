/**
 * The proxy client against the fake device (src/m1n1/testing/fake-device.ts) over the in-memory
 * link pair, cut whole, into single bytes and at random: every operation, the bootstrap of §7,
 * resynchronisation after trouble (§13), and a hostile device. Time is virtual: a timeout only
 * happens when a test advances the clock.
 */

import { describe, expect, it } from 'vitest';
import { macrotask, VirtualClock } from '../clock.js';
import { isRtkitError } from '../errors.js';
import { type BootArgs, bootArgsSize, encodeBootArgs } from './boot-args.js';
import { DATA_CHECKSUM_DISABLED, m1n1Checksum } from './checksum.js';
import {
  HEAP_GAP,
  HEAP_SIZE,
  ProxyClient,
  type ProxyClientOptions,
  type StaleItem,
} from './client.js';
import { encodeReply, encodeRequest, type M1n1Event, proxyRequest } from './frames.js';
import { FAULT_MARKER, ProxyOp } from './opcodes.js';
import type { DiscardedItem } from './parser.js';
import { FakeDevice, type FakeDeviceOptions } from './testing/fake-device.js';
import { createLinkPair } from './testing/mock-link.js';
import {
  concatBytes as cat,
  DATA_00_0F,
  DATA_DEADBEEF,
  EVENT_IRQTRACE,
  hexBytes,
  REPLY_VECTORS,
  REQUEST_VECTORS,
  toHex,
} from './testing/vectors.js';

const RAM = 0x8_0000_0000n;
const SCRATCH = 0x8_0000_1000n;
/** Outside the fake's RAM: every access faults. */
const HOLE = 0x2_0000_0000n;

type Chunking = 'whole' | 'bytes' | 'random';

async function settle(turns = 30): Promise<void> {
  for (let i = 0; i < turns; i++) await macrotask();
}

/** Byte equality without vitest's per-element diff machinery (slow on megabytes). */
function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const latin1 = (b: Uint8Array) => new TextDecoder('latin1').decode(b);

/** Deterministic bytes (xorshift32). */
function bytes(n: number, seed = 1): Uint8Array {
  let s = seed >>> 0 || 1;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

interface RigOptions {
  chunking?: Chunking;
  seed?: number;
  device?: FakeDeviceOptions;
  client?: ProxyClientOptions;
}

function rig(o: RigOptions = {}) {
  const [host, dev] = createLinkPair({ chunking: o.chunking ?? 'whole', seed: o.seed ?? 7 });
  const device = new FakeDevice(dev, o.device);
  const clock = new VirtualClock();
  const consoleChunks: Uint8Array[] = [];
  const events: M1n1Event[] = [];
  const boots: { reason: number; code: number }[] = [];
  const discarded: DiscardedItem[] = [];
  const stale: StaleItem[] = [];
  const client = new ProxyClient(host, {
    clock,
    onConsole: (b) => consoleChunks.push(b.slice()),
    onEvent: (e) => events.push(e),
    onBoot: (r) => boots.push({ reason: r.reason, code: r.code }),
    onDiscarded: (d) => discarded.push(d),
    onStale: (s) => stale.push(s),
    ...o.client,
  });
  return {
    host,
    dev,
    device,
    clock,
    client,
    events,
    boots,
    discarded,
    stale,
    console: () => latin1(cat(...consoleChunks)),
    consoleBytes: () => cat(...consoleChunks),
  };
}

/** The error a promise rejects with (attached at once: no unhandled rejection). */
function failure(
  p: Promise<unknown>,
): Promise<{ code?: string; details?: Record<string, unknown> }> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => {
      if (!isRtkitError(e)) throw e;
      return e as unknown as { code: string; details: Record<string, unknown> };
    },
  );
}

const CHUNKINGS: Chunking[] = ['whole', 'bytes', 'random'];

// ---------------------------------------------------------------------------------------------

describe('every operation, any chunking', () => {
  for (const chunking of CHUNKINGS) {
    for (const accept of [0n, 1n]) {
      const mode = accept === 1n ? 'checksums off' : 'checksums on';
      it(`${chunking}, ${mode}`, async () => {
        const r = rig({ chunking, seed: 11, device: { acceptFeatures: accept, iodev: 4 } });
        const { client, device } = r;
        await client.bootstrap();
        expect(client.dataChecksums).toBe(accept === 0n);

        expect(await client.proxy(ProxyOp.NOP)).toBe(0n);
        expect(await client.tryProxy(ProxyOp.CALL, 1, 2)).toEqual({ status: -1n, retval: 0n });
        expect(await client.nop()).toBe(accept);

        await client.write8(SCRATCH, 0xabn);
        expect(await client.read8(SCRATCH)).toBe(0xabn);
        await client.write16(SCRATCH + 2n, 0xbeefn);
        expect(await client.read16(SCRATCH + 2n)).toBe(0xbeefn);
        await client.write32(SCRATCH + 4n, 0xdeadbeefn);
        expect(await client.read32(SCRATCH + 4n)).toBe(0xdeadbeefn);
        await client.write64(SCRATCH + 8n, 0x0123_4567_89ab_cdefn);
        expect(await client.read64(SCRATCH + 8n)).toBe(0x0123_4567_89ab_cdefn);
        expect(await client.set32(SCRATCH + 4n, 0x10n)).toBe(0xdeadbeffn);
        expect(await client.clear32(SCRATCH + 4n, 0xffn)).toBe(0xdeadbe00n);
        expect(await client.mask32(SCRATCH + 4n, 0xff00n, 0x42n)).toBe(0xdead0042n);
        expect(await client.set64(SCRATCH + 8n, 1n << 63n)).toBe(0x8123_4567_89ab_cdefn);
        expect(await client.clear64(SCRATCH + 8n, 0xffn)).toBe(0x8123_4567_89ab_cd00n);
        expect(await client.mask64(SCRATCH + 8n, 0xffff_0000n, 0x5n)).toBe(0x8123_4567_0000_cd05n);
        expect(await client.excCount()).toBe(0);

        const data = bytes(3000, 5);
        await client.memWrite(SCRATCH + 0x100n, data);
        expect(await client.memRead(SCRATCH + 0x100n, data.length)).toEqual(data);
        expect(device.peek(SCRATCH + 0x100n, data.length)).toEqual(data);
        expect(await client.memRead(SCRATCH, 0)).toEqual(new Uint8Array(0));

        expect(await client.getBase()).toBe(device.base);
        expect(await client.getBootArgs()).toBe(device.bootArgs);
        expect(await client.chipId()).toBe(0x8103);
        expect(await client.whoami()).toBe(4);
        expect(await client.heapAlloc(0)).toBe(0x8_1000_0000n);

        const heap = await client.heap();
        expect(heap.base).toBe(0x8_1000_0000n + HEAP_GAP);
        await client.pmgrAdtPowerEnable('/arm-io/smc');
        await client.pmgrAdtPowerDisable('/arm-io/smc');
        expect(device.powered).toEqual([
          { op: 'enable', path: '/arm-io/smc' },
          { op: 'disable', path: '/arm-io/smc' },
        ]);
        expect(heap.used).toBe(0n);

        expect(r.discarded).toEqual([]);
        expect(r.stale).toEqual([]);
        expect(client.stats.timeouts).toBe(0);
        expect(client.stats.resyncs).toBe(0);
        expect(client.stats.requests).toBe(device.requests.length);
      });
    }
  }

  it('runs one request at a time, in call order', async () => {
    const r = rig({ chunking: 'random', seed: 3 });
    await r.client.bootstrap();
    const addrs = Array.from({ length: 40 }, (_, i) => SCRATCH + BigInt(4 * i));
    await Promise.all(addrs.map((a, i) => r.client.write32(a, BigInt(i * 3))));
    const values = await Promise.all(addrs.map((a) => r.client.read32(a)));
    expect(values).toEqual(addrs.map((_, i) => BigInt(i * 3)));
    // Each access is its op followed by GET_EXC_COUNT, never interleaved with another access.
    const ops = r.device.proxyOps().slice(1);
    for (let i = 0; i < ops.length; i += 2) expect(ops[i + 1]).toBe(ProxyOp.GET_EXC_COUNT);
    expect(ops.filter((o) => o === ProxyOp.READ32)).toHaveLength(40);
  });

  it('keeps a memWrite header and its data together while other operations queue', async () => {
    const r = rig({ chunking: 'bytes', device: { acceptFeatures: 0n } });
    await r.client.bootstrap();
    const data = bytes(5000, 9);
    const results = await Promise.all([
      r.client.memWrite(SCRATCH, data),
      r.client.read32(SCRATCH),
      r.client.memRead(SCRATCH, 5000),
    ]);
    expect(results[1]).toBe(
      BigInt(data[0]! | (data[1]! << 8) | (data[2]! << 16)) + (BigInt(data[3]!) << 24n),
    );
    expect(results[2]).toEqual(data);
  });
});

describe('wire bytes are the spec worked examples (§2.6, §3)', () => {
  it('requests', async () => {
    const r = rig({ device: { acceptFeatures: 0n } });
    await r.client.nop(1n);
    await r.client.getBase();
    await r.client.proxy(ProxyOp.IODEV_WHOAMI);
    await r.client.excCount();
    await r.client.getBootArgs();
    await r.client.heapAlloc(0);
    await r.client.tryProxy(ProxyOp.GET_CPU_FEATURES, 20);
    await r.client.nop(0n);
    await r.device.poke(0x8_0100_0000n, DATA_00_0F);
    expect(await r.client.memRead(0x8_0100_0000n, 16)).toEqual(DATA_00_0F);
    await r.client.memWrite(0x8_0100_0000n, DATA_DEADBEEF);
    const sent = r.device.rawRequests.map(toHex);
    expect(sent).toEqual(
      [
        REQUEST_VECTORS.nopFeature0,
        REQUEST_VECTORS.getBase,
        REQUEST_VECTORS.whoami,
        REQUEST_VECTORS.getExcCount,
        REQUEST_VECTORS.getBootargs,
        REQUEST_VECTORS.heapblockAlloc0,
        REQUEST_VECTORS.getCpuFeatures20,
        REQUEST_VECTORS.nopNothing,
        REQUEST_VECTORS.memRead16,
        REQUEST_VECTORS.memWriteOn,
      ].map((v) => toHex(hexBytes(v))),
    );
  });

  it('READ32 of 0x23e408114 and a MEMWRITE with checksums off', async () => {
    const r = rig({ device: { acceptFeatures: 1n } });
    r.device.mapMmio(0x2_3e40_0000n, 0x10000n, { read: () => 0x1234n });
    await r.client.nop(1n);
    expect(await r.client.read32(0x2_3e40_8114n)).toBe(0x1234n);
    await r.client.memWrite(0x8_0100_0000n, DATA_DEADBEEF);
    expect(toHex(r.device.rawRequests[1]!)).toBe(toHex(hexBytes(REQUEST_VECTORS.read32)));
    expect(toHex(r.device.rawRequests[3]!)).toBe(toHex(hexBytes(REQUEST_VECTORS.memWriteOff)));
  });

  it('replies of the spec decode to the right results', async () => {
    const r = rig();
    const canned: Record<number, string> = {
      [ProxyOp.GET_BASE]: REPLY_VECTORS.getBase,
      [ProxyOp.IODEV_WHOAMI]: REPLY_VECTORS.whoamiUsb0,
      [ProxyOp.CALL]: REPLY_VECTORS.unknownOpcode,
    };
    r.device.onRequest = (req) => {
      if (req.kind === 'proxy' && canned[Number(req.opcode)]) {
        return hexBytes(canned[Number(req.opcode)]!);
      }
      if (req.kind === 'memread') {
        return cat(hexBytes(REPLY_VECTORS.memReadOn), DATA_00_0F);
      }
      return undefined;
    };
    expect(await r.client.getBase()).toBe(0x8_0000_4000n);
    expect(await r.client.whoami()).toBe(4);
    const e = await failure(r.client.proxy(ProxyOp.CALL));
    expect(e).toMatchObject({ code: 'PROXY_BADCMD', details: { op: 2, name: 'CALL' } });
    expect(await r.client.memRead(0x8_0100_0000n, 16)).toEqual(DATA_00_0F);
  });

  it('a checksum-off MEMREAD reply with its sentinel (§3.1)', async () => {
    const r = rig();
    await r.client.nop(1n);
    r.device.onRequest = () =>
      cat(hexBytes(REPLY_VECTORS.memReadOff), DATA_00_0F, Uint8Array.of(0x10, 0xcc, 0xca, 0xb0));
    expect(await r.client.memRead(0x8_0100_0000n, 16)).toEqual(DATA_00_0F);
  });
});

describe('between and around frames', () => {
  it('hands every console byte to onConsole, with garbage and near-prefixes', async () => {
    for (const chunking of CHUNKINGS) {
      const r = rig({ chunking, seed: 5 });
      const noise = Uint8Array.of(
        ...new TextEncoder().encode('TTY> hello\r\n'),
        0xff,
        0x00,
        0xff,
        0x55,
        0x00,
        0xff,
        0xff,
        0x55,
        0x41,
      );
      r.device.onRequest = () => {
        r.device.send(noise);
        return undefined;
      };
      expect(await r.client.getBase()).toBe(r.device.base);
      r.device.sendConsole('after the reply\n');
      await settle();
      expect(toHex(r.consoleBytes())).toBe(
        toHex(cat(noise, new TextEncoder().encode('after the reply\n'))),
      );
      expect(r.discarded).toEqual([]);
    }
  });

  it('REQ_BOOT notifications before a reply go to onBoot (the spec example)', async () => {
    const r = rig({ chunking: 'bytes' });
    r.device.onRequest = () => {
      r.device.send(hexBytes(REPLY_VECTORS.boot));
      r.device.sendBoot(1, 2, 0x1234n);
      return undefined;
    };
    expect(await r.client.getBase()).toBe(r.device.base);
    expect(r.boots).toEqual([
      { reason: 0, code: 0 },
      { reason: 1, code: 2 },
    ]);
    // And while idle.
    r.device.sendBoot();
    await settle();
    expect(r.boots).toHaveLength(3);
  });

  it('surfaces events, verified; a corrupt one is discarded without failing the operation', async () => {
    const r = rig({ chunking: 'random', seed: 9 });
    const bad = hexBytes(EVENT_IRQTRACE);
    bad[10] = bad[10]! ^ 1;
    r.device.onRequest = () => {
      r.device.send(hexBytes(EVENT_IRQTRACE));
      r.device.send(bad);
      r.device.sendEvent({
        kind: 'mmiotrace',
        flags: 0x62,
        reserved: 0,
        pc: 1n,
        addr: 2n,
        data: 3n,
      });
      return undefined;
    };
    expect(await r.client.getBase()).toBe(r.device.base);
    expect(r.events).toEqual([
      { kind: 'irqtrace', flags: 1, irqType: 0, num: 0x2a },
      { kind: 'mmiotrace', flags: 0x62, reserved: 0, pc: 1n, addr: 2n, data: 3n },
    ]);
    expect(r.discarded.map((d) => d.reason)).toEqual(['checksum']);
  });

  it('accepts events with the disabled-checksum trailer once DISABLE_DATA_CSUMS is on', async () => {
    const r = rig();
    await r.client.nop(1n);
    r.device.sendEvent({ kind: 'irqtrace', flags: 1, irqType: 0, num: 7 });
    await settle();
    expect(r.events).toEqual([{ kind: 'irqtrace', flags: 1, irqType: 0, num: 7 }]);
    expect(r.device.dataChecksums).toBe(false);
    expect(DATA_CHECKSUM_DISABLED).toBe(0xd0decade);
  });
});

describe('recovery (§13)', () => {
  it('a corrupted reply → PROXY_CHECKSUM, then the next operation resyncs and works', async () => {
    for (const chunking of CHUNKINGS) {
      const r = rig({ chunking });
      let once = true;
      r.device.onRequest = (req) =>
        req.kind === 'proxy' && once
          ? (b) => {
              once = false;
              const c = b.slice();
              c[20] = c[20]! ^ 0x40;
              return c;
            }
          : undefined;
      const e = await failure(r.client.getBase());
      expect(e).toMatchObject({ code: 'PROXY_CHECKSUM', details: { op: 'GET_BASE' } });
      expect(await r.client.getBase()).toBe(r.device.base);
      expect(r.client.stats.resyncs).toBe(1);
      expect(r.device.requests.map((q) => q.kind)).toEqual(['proxy', 'nop', 'proxy']);
    }
  });

  it('a CSUMERR answer from the device → PROXY_CHECKSUM (spec example)', async () => {
    const r = rig();
    let once = true;
    r.device.onRequest = () => {
      if (!once) return undefined;
      once = false;
      return hexBytes(REPLY_VECTORS.csumErr);
    };
    const e = await failure(r.client.getBase());
    expect(e).toMatchObject({ code: 'PROXY_CHECKSUM', details: { side: 'device', status: -4 } });
    expect(await r.client.getBase()).toBe(r.device.base);
  });

  it('the device answers a request we corrupted with CSUMERR', async () => {
    const [host, dev] = createLinkPair();
    const device = new FakeDevice(dev);
    // Corrupt the first request on its way.
    const write = host.write.bind(host);
    let n = 0;
    host.write = (b: Uint8Array) => {
      if (n++ === 0) {
        const c = b.slice();
        c[30] = c[30]! ^ 1;
        return write(c);
      }
      return write(b);
    };
    const client = new ProxyClient(host, { clock: new VirtualClock() });
    expect(await failure(client.getBase())).toMatchObject({ code: 'PROXY_CHECKSUM' });
    expect(await client.getBase()).toBe(device.base);
  });

  it('a dropped reply → TRANSPORT_TIMEOUT; the next operation resyncs; the late reply is discarded', async () => {
    const r = rig({ chunking: 'random' });
    let late: Uint8Array | undefined;
    r.device.onRequest = (req) => {
      if (req.kind === 'proxy' && late === undefined) {
        return (b) => {
          late = b;
          return new Uint8Array(0);
        };
      }
      if (req.kind === 'nop' && late !== undefined) {
        // The stale reply shows up just before the resync's answer.
        r.device.send(late);
      }
      return undefined;
    };
    const p = failure(r.client.read32(SCRATCH));
    await settle();
    r.clock.advance(2999);
    await settle();
    r.clock.advance(1);
    expect(await p).toMatchObject({
      code: 'TRANSPORT_TIMEOUT',
      details: { op: 'READ32', timeoutMs: 3000, phase: 'reply' },
    });
    expect(r.client.stats.timeouts).toBe(1);
    expect(await r.client.getBase()).toBe(r.device.base);
    expect(r.client.stats.resyncs).toBe(1);
    expect(r.stale).toHaveLength(1);
    expect(r.stale[0]).toMatchObject({ kind: 'reply', reply: { kind: 'proxy', opcode: 0x105n } });
  });

  it('a timed-out REQ_MEMREAD whose reply and data arrive late: the data is skipped, not parsed', async () => {
    const r = rig({ chunking: 'bytes', device: { acceptFeatures: 0n } });
    // Memory holding what looks like a complete REQ_NOP reply: parsed as frames it would end
    // the resync early.
    r.device.poke(SCRATCH, cat(bytes(10), hexBytes(REPLY_VECTORS.nopNothing), bytes(20)));
    let late: Uint8Array | undefined;
    r.device.onRequest = (req) => {
      if (req.kind === 'memread' && late === undefined) {
        return (b) => {
          late = b;
          return new Uint8Array(0);
        };
      }
      if (req.kind === 'nop' && late !== undefined) r.device.send(late);
      return undefined;
    };
    const p = failure(r.client.memRead(SCRATCH, 66));
    await settle();
    r.clock.advance(3000);
    expect(await p).toMatchObject({ code: 'TRANSPORT_TIMEOUT', details: { op: 'REQ_MEMREAD' } });
    expect(await r.client.getBase()).toBe(r.device.base);
    expect(r.stale.map((s) => s.kind)).toEqual(['reply', 'data']);
    expect(r.discarded).toEqual([]);
  });

  it('bulk data that stops half-way → TRANSPORT_TIMEOUT (phase data), then recovery', async () => {
    const r = rig({ chunking: 'random', device: { acceptFeatures: 0n } });
    let once = true;
    r.device.onRequest = (req) => {
      if (req.kind !== 'memread' || !once) return undefined;
      once = false;
      return (b) => b.subarray(0, 36 + 100);
    };
    const p = failure(r.client.memRead(SCRATCH, 1000));
    await settle();
    r.clock.advance(3000);
    expect(await p).toMatchObject({ code: 'TRANSPORT_TIMEOUT', details: { phase: 'data' } });
    expect(await r.client.memRead(SCRATCH, 1000)).toEqual(r.device.peek(SCRATCH, 1000));
  });

  it('an OK REQ_MEMREAD reply and none of its data → timeout, the resync is not taken for data', async () => {
    for (const accept of [0n, 1n]) {
      const r = rig({ chunking: 'random', device: { acceptFeatures: accept } });
      await r.client.nop();
      let once = true;
      r.device.onRequest = (req) => {
        if (req.kind !== 'memread' || !once) return undefined;
        once = false;
        return (b) => b.subarray(0, 36);
      };
      const p = failure(r.client.memRead(SCRATCH, 1000));
      await settle();
      r.clock.advance(3000);
      expect(await p).toMatchObject({ code: 'TRANSPORT_TIMEOUT', details: { phase: 'data' } });
      expect(r.discarded).toEqual([]);
      expect(await r.client.memRead(SCRATCH, 1000)).toEqual(r.device.peek(SCRATCH, 1000));
      expect(r.client.stats).toMatchObject({ timeouts: 1, resyncs: 1 });
    }
  });

  it('bulk data keeps the wait alive while it flows', async () => {
    const r = rig({ device: { acceptFeatures: 0n } });
    const data = bytes(300, 4);
    r.device.poke(SCRATCH, data);
    let reply: Uint8Array | undefined;
    r.device.onRequest = (req) =>
      req.kind === 'memread'
        ? (b) => {
            reply = b;
            return b.subarray(0, 36 + 100);
          }
        : undefined;
    const p = r.client.memRead(SCRATCH, 300);
    await settle();
    r.clock.advance(2000);
    r.device.send(reply!.subarray(136, 236));
    await settle();
    r.clock.advance(2000);
    r.device.send(reply!.subarray(236));
    expect(await p).toEqual(data);
  });

  it('a resync that meets a device stuck inside a frame sends a second REQ_NOP', async () => {
    const r = rig();
    // Half a request: the device now waits for 30 more bytes, which our first NOP provides.
    await r.host.write(encodeRequest({ kind: 'nop', features: 0n }).subarray(0, 34));
    await settle();
    const p = r.client.resync();
    await settle();
    r.clock.advance(3000);
    await p;
    expect(r.client.stats.resyncs).toBe(1);
    expect(r.client.stats.timeouts).toBe(1);
    // The first REQ_NOP completed the broken frame; only the second is a request.
    expect(r.device.requests.map((q) => q.kind)).toEqual(['nop']);
    // The device answered CSUMERR to the broken frame: stale, not a resync reply.
    expect(r.stale.map((s) => (s.kind === 'reply' ? s.reply.status : 0))).toEqual([-4]);
  });

  it('a silent device: resync gives up after two REQ_NOPs', async () => {
    const r = rig();
    r.device.onRequest = () => 'drop';
    const p = failure(r.client.getBase());
    for (let i = 0; i < 3; i++) {
      await settle();
      r.clock.advance(3000);
    }
    expect(await p).toMatchObject({ code: 'TRANSPORT_TIMEOUT', details: { op: 'GET_BASE' } });
    const q = failure(r.client.getBase());
    for (let i = 0; i < 3; i++) {
      await settle();
      r.clock.advance(3000);
    }
    expect(await q).toMatchObject({ code: 'TRANSPORT_TIMEOUT', details: { op: 'resync' } });
    expect(r.device.requests.map((x) => x.kind)).toEqual(['proxy', 'nop', 'nop']);
  });

  it('endless console text while waiting still times out', async () => {
    const r = rig();
    r.device.onRequest = () => 'drop';
    const p = failure(r.client.getBase());
    for (let t = 0; t < 3000; t += 100) {
      r.device.sendConsole('x'.repeat(50));
      await settle(3);
      r.clock.advance(100);
    }
    expect(await p).toMatchObject({ code: 'TRANSPORT_TIMEOUT' });
  });
});

describe('bulk transfers (§3)', () => {
  for (const accept of [0n, 1n]) {
    it(`1 MiB byte-exact, checksums ${accept ? 'off' : 'on'}`, async () => {
      const r = rig({ chunking: 'random', seed: 17, device: { acceptFeatures: accept } });
      await r.client.bootstrap();
      const data = bytes(1 << 20, 21);
      await r.client.memWrite(0x8_2000_0000n, data);
      expect(same(r.device.peek(0x8_2000_0000n, data.length), data)).toBe(true);
      const back = await r.client.memRead(0x8_2000_0000n, data.length);
      expect(back.length).toBe(data.length);
      expect(m1n1Checksum(back)).toBe(m1n1Checksum(data));
      expect(same(back, data)).toBe(true);
    });
  }

  it('splits transfers into maxTransfer pieces', async () => {
    const r = rig({ chunking: 'random', client: { maxTransfer: 1000 } });
    const data = bytes(4500, 2);
    await r.client.memWrite(SCRATCH, data);
    expect(await r.client.memRead(SCRATCH, 4500)).toEqual(data);
    const sizes = r.device.requests.map((q) =>
      q.kind === 'memread' || q.kind === 'memwrite' ? `${q.kind}:${q.size}` : q.kind,
    );
    expect(sizes).toEqual([
      ...['1000', '1000', '1000', '1000', '500'].map((s) => `memwrite:${s}`),
      ...['1000', '1000', '1000', '1000', '500'].map((s) => `memread:${s}`),
    ]);
  });

  it('a data checksum mismatch → PROXY_DATA; the next operation works', async () => {
    const r = rig({ chunking: 'bytes', device: { acceptFeatures: 0n } });
    r.device.poke(SCRATCH, bytes(64));
    let once = true;
    r.device.onRequest = (req) =>
      req.kind === 'memread' && once
        ? (b) => {
            once = false;
            const c = b.slice();
            c[36 + 5] = c[36 + 5]! ^ 0x80;
            return c;
          }
        : undefined;
    const e = await failure(r.client.memRead(SCRATCH, 64));
    expect(e).toMatchObject({ code: 'PROXY_DATA', details: { reason: 'data-checksum', size: 64 } });
    expect(await r.client.memRead(SCRATCH, 64)).toEqual(bytes(64));
  });

  it('a wrong sentinel (checksums off) → PROXY_DATA; the next operation works', async () => {
    const r = rig({ chunking: 'random', device: { acceptFeatures: 1n } });
    await r.client.nop();
    let once = true;
    r.device.onRequest = (req) =>
      req.kind === 'memread' && once
        ? (b) => {
            once = false;
            const c = b.slice();
            c[c.length - 1] = 0;
            return c;
          }
        : undefined;
    expect(await failure(r.client.memRead(SCRATCH, 32))).toMatchObject({
      code: 'PROXY_DATA',
      details: { reason: 'sentinel' },
    });
    expect(await r.client.read32(SCRATCH)).toBe(0n);
  });

  it('REQ_MEMREAD of an unmapped range → PROXY_STATUS XFRERR; the exception count is cleared', async () => {
    const r = rig();
    const e = await failure(r.client.memRead(HOLE, 16));
    expect(e).toMatchObject({
      code: 'PROXY_STATUS',
      details: { status: -3, statusName: 'XFRERR', addr: HOLE, size: 16, exceptions: 1 },
    });
    expect(await r.client.read32(SCRATCH)).toBe(0n);
    expect(r.console()).toContain('Exception');
  });

  for (const accept of [0n, 1n]) {
    it(`XFRERR on REQ_MEMWRITE: the device parses our data as frames; we resync (checksums ${accept ? 'off' : 'on'})`, async () => {
      const r = rig({ chunking: 'random', seed: 23, device: { acceptFeatures: accept } });
      await r.client.nop();
      // The data happens to hold a valid WRITE32 request: m1n1 executes it (§3.2).
      const smuggled = encodeRequest(proxyRequest(ProxyOp.WRITE32, 0x8_0000_3000n, 0xcafen));
      const data = cat(bytes(40), smuggled, bytes(40, 3));
      const e = await failure(r.client.memWrite(HOLE, data));
      expect(e).toMatchObject({
        code: 'PROXY_STATUS',
        details: { status: -3, statusName: 'XFRERR', addr: HOLE, size: data.length, exceptions: 2 },
      });
      expect(r.device.peek(0x8_0000_3000n, 4)).toEqual(Uint8Array.of(0xfe, 0xca, 0, 0));
      expect(r.stale).toHaveLength(1);
      expect(r.stale[0]).toMatchObject({ kind: 'reply', reply: { kind: 'proxy', opcode: 0x101n } });
      expect(r.client.stats.resyncs).toBe(1);
      expect(await r.client.read32(0x8_0000_3000n)).toBe(0xcafen);
      expect(r.client.stats.resyncs).toBe(1);
    });
  }

  it('REQ_MEMWRITE rejected by a data checksum mismatch → PROXY_STATUS after a resync', async () => {
    const r = rig({ device: { acceptFeatures: 0n } });
    // A link that flips one data byte on the way to the device.
    const write = r.host.write.bind(r.host);
    let n = 0;
    r.host.write = (b: Uint8Array) => {
      if (n++ === 1) {
        const c = b.slice();
        c[0] = c[0]! ^ 1;
        return write(c);
      }
      return write(b);
    };
    const e = await failure(r.client.memWrite(SCRATCH, bytes(100)));
    expect(e).toMatchObject({ code: 'PROXY_STATUS', details: { status: -3, exceptions: 0 } });
    await r.client.memWrite(SCRATCH, bytes(100));
    expect(r.device.peek(SCRATCH, 100)).toEqual(bytes(100));
  });

  it('refuses impossible ranges before sending anything', async () => {
    const r = rig();
    await expect(r.client.memRead(-1n, 4)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(r.client.memRead((1n << 64n) - 2n, 4)).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
    await expect(r.client.memRead(0n, -1)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(r.client.memRead(0n, 2 ** 31)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(r.client.memWrite(0n, [1, 2] as unknown as Uint8Array)).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
    expect(r.device.requests).toEqual([]);
  });
});

describe('bootstrap (§7)', () => {
  it('USB (iodev 4): WHOAMI, then REQ_NOP negotiation; no baud switch', async () => {
    const r = rig({ chunking: 'bytes', device: { iodev: 4, acceptFeatures: 1n } });
    await r.client.bootstrap();
    expect(r.device.rawRequests.map(toHex)).toEqual(
      [REQUEST_VECTORS.whoami, REQUEST_VECTORS.nopFeature0].map((v) => toHex(hexBytes(v))),
    );
    expect(r.client.iodev).toBe(4);
    expect(r.client.dataChecksums).toBe(false);
    expect(r.host.baudRates).toEqual([]);
  });

  it('UART (iodev 0): GET_CHIPID, REQ_NOP, SET_BAUD with the link switched, then REQ_NOP', async () => {
    for (const chunking of CHUNKINGS) {
      const r = rig({ chunking, device: { iodev: 0, acceptFeatures: 0n } });
      await r.client.bootstrap();
      expect(r.device.rawRequests.map(toHex)).toEqual(
        [
          REQUEST_VECTORS.whoami,
          `ff55aa01 13000000${' 00000000'.repeat(13)} ${toHex(checksumOfProxy(ProxyOp.GET_CHIPID))}`,
          REQUEST_VECTORS.nopFeature0,
          REQUEST_VECTORS.setBaud,
          REQUEST_VECTORS.nopFeature0,
        ].map((v) => toHex(hexBytes(v))),
      );
      expect(r.host.baudRates).toEqual([1_500_000]);
      expect(r.dev.baudRates).toEqual([1_500_000]);
      expect(r.client.iodev).toBe(0);
      expect(r.client.dataChecksums).toBe(true);
      const pattern = toHex(Uint8Array.of(0xf0, 0xa5, 0x5a, 0x00)).repeat(16);
      expect(toHex(r.consoleBytes())).toContain(pattern);
      expect(r.console()).toContain('Changing baud rate to 1500000');
    }
  });

  it('old m1n1 without IODEV_WHOAMI: switches baud like a UART', async () => {
    const r = rig({ device: { unknownOps: [ProxyOp.IODEV_WHOAMI], acceptFeatures: 0n } });
    await r.client.bootstrap();
    expect(r.client.iodev).toBeUndefined();
    expect(r.device.proxyOps()).toEqual([
      ProxyOp.IODEV_WHOAMI,
      ProxyOp.GET_CHIPID,
      ProxyOp.SET_BAUD,
    ]);
    expect(r.host.baudRates).toEqual([1_500_000]);
  });

  it('SET_BAUD unknown: the link goes back to 115200', async () => {
    const r = rig({ device: { iodev: 0, unknownOps: [ProxyOp.SET_BAUD] } });
    await r.client.bootstrap();
    expect(r.host.baudRates).toEqual([1_500_000, 115_200]);
  });

  it('no answer to WHOAMI within 150 ms: switch to 1500000 and resync', async () => {
    const r = rig({ chunking: 'random' });
    let late: Uint8Array | undefined;
    let sent = false;
    r.device.onRequest = (req) => {
      if (req.kind === 'proxy' && late === undefined) {
        return (b) => {
          late = b;
          return new Uint8Array(0);
        };
      }
      // The WHOAMI answer comes late, before the resync's: discarded.
      if (req.kind === 'nop' && late !== undefined && !sent) {
        sent = true;
        r.device.send(late);
      }
      return undefined;
    };
    const p = r.client.bootstrap();
    await settle();
    r.clock.advance(149);
    await settle();
    expect(r.client.stats.timeouts).toBe(0);
    r.clock.advance(1);
    await p;
    expect(r.stale).toHaveLength(1);
    expect(r.host.baudRates).toEqual([1_500_000]);
    expect(r.client.iodev).toBeUndefined();
    expect(r.client.stats.resyncs).toBe(1);
    expect(r.device.requests.map((q) => q.kind)).toEqual(['proxy', 'nop', 'nop']);
    expect(r.client.dataChecksums).toBe(false);
    expect(await r.client.getBase()).toBe(r.device.base);
  });

  it('the UART switch times out: the link still ends at 1500000', async () => {
    const r = rig({ device: { iodev: 0 } });
    r.device.onRequest = (req) =>
      req.kind === 'proxy' && Number(req.opcode) === ProxyOp.GET_CHIPID ? 'drop' : undefined;
    const p = r.client.bootstrap();
    await settle();
    r.clock.advance(150);
    await p;
    expect(r.host.baudRates).toEqual([1_500_000]);
    expect(r.client.stats.resyncs).toBe(1);
  });

  it('baudSwitch: false skips SET_BAUD', async () => {
    const r = rig({ device: { iodev: 0, acceptFeatures: 0n }, client: { baudSwitch: false } });
    await r.client.bootstrap();
    expect(r.device.proxyOps()).toEqual([ProxyOp.IODEV_WHOAMI]);
    expect(r.host.baudRates).toEqual([]);
  });

  it("dataChecksums 'on' offers nothing; 'off' requires the device to accept", async () => {
    const on = rig({ device: { acceptFeatures: 1n }, client: { dataChecksums: 'on' } });
    await on.client.bootstrap();
    expect(on.client.dataChecksums).toBe(true);
    expect(on.device.requests.at(-1)).toEqual({ kind: 'nop', features: 0n });

    const off = rig({ device: { acceptFeatures: 1n }, client: { dataChecksums: 'off' } });
    await off.client.bootstrap();
    expect(off.client.dataChecksums).toBe(false);

    const refused = rig({ device: { acceptFeatures: 0n }, client: { dataChecksums: 'off' } });
    expect(await failure(refused.client.bootstrap())).toMatchObject({ code: 'PROXY_PROTOCOL' });
  });

  it('ProxyClient.connect bootstraps; a dead device fails it with TRANSPORT_TIMEOUT', async () => {
    const [host, dev] = createLinkPair();
    const device = new FakeDevice(dev);
    const client = await ProxyClient.connect(host, { clock: new VirtualClock() });
    expect(client.iodev).toBe(4);
    expect(device.requests).toHaveLength(2);

    const [h2, d2] = createLinkPair();
    const silent = new FakeDevice(d2);
    silent.onRequest = () => 'drop';
    const clock = new VirtualClock();
    const p = failure(ProxyClient.connect(h2, { clock }));
    for (let i = 0; i < 4; i++) {
      await settle();
      clock.advance(3000);
    }
    expect(await p).toMatchObject({ code: 'TRANSPORT_TIMEOUT' });
    expect(h2.closed).toBe(false);
  });
});

function checksumOfProxy(op: number): Uint8Array {
  const b = encodeRequest(proxyRequest(op));
  return b.subarray(60);
}

describe('proxy status and exceptions (§6, §8)', () => {
  it('unknown opcode → PROXY_BADCMD; tryProxy returns the inner status', async () => {
    const r = rig();
    expect(await failure(r.client.proxy(0x1234))).toMatchObject({
      code: 'PROXY_BADCMD',
      details: { op: 0x1234, name: 'op 0x1234' },
    });
    expect(await r.client.tryProxy(0x1234)).toEqual({ status: -1n, retval: 0n });
    expect(await r.client.getBase()).toBe(r.device.base);
  });

  it('a fault → PROXY_EXCEPTION; a MARK-looking value without a fault is just a value', async () => {
    const r = rig();
    expect(await failure(r.client.read32(HOLE))).toMatchObject({
      code: 'PROXY_EXCEPTION',
      details: { op: 'READ32', addr: HOLE, exceptions: 1 },
    });
    expect(await failure(r.client.write64(HOLE, 5n))).toMatchObject({
      code: 'PROXY_EXCEPTION',
      details: { op: 'WRITE64', exceptions: 1 },
    });
    await r.client.write64(SCRATCH, FAULT_MARKER);
    expect(await r.client.read64(SCRATCH)).toBe(FAULT_MARKER);
    expect(await r.client.read32(SCRATCH)).toBe(FAULT_MARKER & 0xffff_ffffn);
    expect(r.console()).toContain('Exception taken');
  });

  it('checkExceptions: false sends no GET_EXC_COUNT and returns the MARK value', async () => {
    const r = rig({ client: { checkExceptions: false } });
    expect(await r.client.read32(HOLE)).toBe(FAULT_MARKER & 0xffff_ffffn);
    expect(r.device.proxyOps()).toEqual([ProxyOp.READ32]);
    expect(await r.client.excCount()).toBe(1);
  });

  it('refuses misaligned and out-of-range accesses locally', async () => {
    const r = rig();
    await expect(r.client.read32(SCRATCH + 2n)).rejects.toMatchObject({ code: 'MMIO_ALIGNMENT' });
    await expect(r.client.read64(SCRATCH + 4n)).rejects.toMatchObject({ code: 'MMIO_ALIGNMENT' });
    await expect(r.client.write16(SCRATCH + 1n, 0n)).rejects.toMatchObject({
      code: 'MMIO_ALIGNMENT',
    });
    await expect(r.client.write8(SCRATCH, 0x100n)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(r.client.write32(SCRATCH, -1n)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(r.client.read32(1n << 64n)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(r.client.proxy(ProxyOp.NOP, 1, 2, 3, 4, 5, 6, 7)).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
    await expect(r.client.proxy(ProxyOp.NOP, 1.5)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(r.client.proxy(ProxyOp.NOP, 1n << 64n)).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
    expect(r.device.requests).toEqual([]);
    // Negative arguments go out as two's complement, as m1n1's tooling sends them.
    await r.client.proxy(ProxyOp.NOP, -1);
    expect(r.device.requests[0]).toMatchObject({ args: [(1n << 64n) - 1n, 0n, 0n, 0n, 0n, 0n] });
  });
});

const VIRT = 0xffff_fe00_0700_4000n;
const ADT_PHYS = 0x8_0001_0000n;

/** Boot args whose ADT is at ADT_PHYS. */
function bootArgs(rev: number, devtreeSize: number, devtree = VIRT + (ADT_PHYS - RAM)): BootArgs {
  return {
    revision: rev,
    version: 2,
    virtBase: VIRT,
    physBase: RAM,
    memSize: 0x2_0000_0000n,
    topOfKernelData: 0x8_0400_0000n,
    video: { base: 1n, display: 2n, stride: 3n, width: 4n, height: 5n, depth: 6n },
    machineType: 0x12,
    devtree,
    devtreeSize,
    cmdline: 'debug=0x14e serial=3',
    bootFlags: 0x77n,
    memSizeActual: 0x4_0000_0000n,
  };
}

/** The layout itself is checked against §11.2 in boot-args.test.ts. */
function bootArgsBytes(rev: number, devtreeSize: number, devtree?: bigint): Uint8Array {
  return encodeBootArgs(bootArgs(rev, devtreeSize, devtree));
}

describe('boot args and the ADT (§11.2)', () => {
  for (const rev of [1, 2, 3]) {
    it(`revision ${rev}: two READ8s, one REQ_MEMREAD of the right size, every field`, async () => {
      const r = rig({ chunking: 'random' });
      const adt = bytes(0x1234, rev);
      r.device.poke(r.device.bootArgs, bootArgsBytes(rev, adt.length));
      r.device.poke(ADT_PHYS, adt);
      const ba = await r.client.readBootArgs();
      expect(ba).toEqual({ address: r.device.bootArgs, ...bootArgs(rev, adt.length) });
      const kinds = r.device.requests.map((q) =>
        q.kind === 'proxy' ? Number(q.opcode) : `${q.kind}:${q.kind === 'memread' ? q.size : ''}`,
      );
      expect(kinds).toEqual([
        ProxyOp.GET_BOOTARGS,
        ProxyOp.READ8,
        ProxyOp.GET_EXC_COUNT,
        ProxyOp.READ8,
        ProxyOp.GET_EXC_COUNT,
        `memread:${bootArgsSize(rev)}`,
      ]);
      expect(bootArgsSize(rev)).toBe([384, 384, 736, 1152][rev]);
      expect(await r.client.readAdtBytes()).toEqual(adt);
    });
  }

  it('revision 0 parses like 1; a misaligned structure is fine', async () => {
    const r = rig();
    r.device.bootArgs = 0x8_0000_0801n;
    r.device.poke(r.device.bootArgs, bootArgsBytes(0, 16));
    expect((await r.client.readBootArgs()).revision).toBe(0);
  });

  it('revision 4 → PROXY_PROTOCOL without reading the structure', async () => {
    const r = rig();
    r.device.poke(r.device.bootArgs, Uint8Array.of(4, 0));
    expect(await failure(r.client.readBootArgs())).toMatchObject({
      code: 'PROXY_PROTOCOL',
      details: { revision: 4 },
    });
    expect(r.device.requests.some((q) => q.kind === 'memread')).toBe(false);
  });

  it('a hostile devtree_size or address → ADT_INVALID, nothing huge is read', async () => {
    const r = rig();
    r.device.poke(r.device.bootArgs, bootArgsBytes(2, 0xffff_ffff));
    expect(await failure(r.client.readAdtBytes())).toMatchObject({
      code: 'ADT_INVALID',
      details: { reason: 'size', size: 0xffff_ffff },
    });
    r.device.poke(r.device.bootArgs, bootArgsBytes(2, 0));
    expect(await failure(r.client.readAdtBytes())).toMatchObject({ code: 'ADT_INVALID' });
    r.device.poke(r.device.bootArgs, bootArgsBytes(2, 64, 0x1000n));
    expect(await failure(r.client.readAdtBytes())).toMatchObject({
      code: 'ADT_INVALID',
      details: { reason: 'address' },
    });
    expect(r.device.requests.filter((q) => q.kind === 'memread')).toHaveLength(3);
  });

  it('boot args in a hole → PROXY_EXCEPTION from the revision READ8', async () => {
    const r = rig({ device: { bootArgs: HOLE } });
    expect(await failure(r.client.readBootArgs())).toMatchObject({ code: 'PROXY_EXCEPTION' });
  });
});

describe('host heap (§10) and PMGR', () => {
  it('HEAPBLOCK_ALLOC(0) + 128 MiB, 1 GiB; made once', async () => {
    const r = rig();
    const [a, b] = await Promise.all([r.client.heap(), r.client.heap()]);
    expect(a).toBe(b);
    expect(a.base).toBe(0x8_1000_0000n + (128n << 20n));
    expect(a.size).toBe(HEAP_SIZE);
    expect(r.device.proxyOps()).toEqual([ProxyOp.HEAPBLOCK_ALLOC]);
  });

  it('falls back to the boot args when HEAPBLOCK_ALLOC is unknown, as the tooling', async () => {
    const r = rig({ device: { unknownOps: [ProxyOp.HEAPBLOCK_ALLOC] } });
    const b = encodeBootArgs({ ...bootArgs(1, 0), topOfKernelData: 0x8_0123_4567n });
    r.device.poke(r.device.bootArgs, b);
    const heap = await r.client.heap();
    // base + round_up(top_of_kernel_data, 64 KiB) − phys_base, then the 128 MiB gap.
    expect(heap.base).toBe(r.device.base + 0x8_0124_0000n - RAM + (128n << 20n));
  });

  it('heapBase overrides (M1N1HEAP); a hostile heap top → PROXY_PROTOCOL, retried next time', async () => {
    const fixed = rig({ client: { heapBase: 0x9_0000_0000n } });
    expect((await fixed.client.heap()).base).toBe(0x9_0000_0000n);
    expect(fixed.device.requests).toEqual([]);

    const r = rig({ device: { heapTop: (1n << 64n) - 0x1000n } });
    expect(await failure(r.client.heap())).toMatchObject({ code: 'PROXY_PROTOCOL' });
    r.device.heapTop = 0x8_1000_0000n;
    expect((await r.client.heap()).base).toBe(0x8_1000_0000n + HEAP_GAP);
  });

  it('PMGR_ADT_POWER_ENABLE uploads the NUL-terminated path and frees it', async () => {
    const r = rig({ chunking: 'bytes' });
    await r.client.pmgrAdtPowerEnable('/arm-io/smc');
    const heap = await r.client.heap();
    const write = r.device.requests.find((q) => q.kind === 'memwrite');
    expect(write).toMatchObject({ kind: 'memwrite', addr: heap.base, size: 12n });
    expect(latin1(r.device.peek(heap.base, 12))).toBe('/arm-io/smc\0');
    const call = r.device.requests.find(
      (q) => q.kind === 'proxy' && Number(q.opcode) === ProxyOp.PMGR_ADT_POWER_ENABLE,
    );
    expect(call).toMatchObject({ args: [heap.base, 0n, 0n, 0n, 0n, 0n] });
    expect(heap.used).toBe(0n);
  });

  it('a non-zero PMGR result → PROXY_STATUS with the signed value; bad paths → BAD_INPUT', async () => {
    const r = rig({ device: { pmgrResult: (1n << 64n) - 2n } });
    expect(await failure(r.client.pmgrAdtPowerEnable('/arm-io/ans'))).toMatchObject({
      code: 'PROXY_STATUS',
      details: { op: 'PMGR_ADT_POWER_ENABLE', path: '/arm-io/ans', retval: -2n },
    });
    expect((await r.client.heap()).used).toBe(0n);
    await expect(r.client.pmgrAdtPowerEnable('arm-io')).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
    await expect(r.client.pmgrAdtPowerEnable('/a\0b')).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
  });
});

describe('a hostile device', () => {
  function answerOnce(r: ReturnType<typeof rig>, bytesOut: Uint8Array): void {
    let once = true;
    r.device.onRequest = () => {
      if (!once) return undefined;
      once = false;
      return bytesOut;
    };
  }

  it('a reply of the wrong type → PROXY_PROTOCOL; the next operation works', async () => {
    const r = rig();
    answerOnce(r, hexBytes(REPLY_VECTORS.memWriteOn));
    expect(await failure(r.client.getBase())).toMatchObject({
      code: 'PROXY_PROTOCOL',
      details: { expected: 'REQ_PROXY', got: 'REQ_MEMWRITE' },
    });
    expect(await r.client.getBase()).toBe(r.device.base);
  });

  it('a reply of an unknown type (BADCMD frame) → PROXY_PROTOCOL', async () => {
    const r = rig();
    answerOnce(r, hexBytes(REPLY_VECTORS.badCmd));
    expect(await failure(r.client.getBase())).toMatchObject({ code: 'PROXY_PROTOCOL' });
    expect(await r.client.getBase()).toBe(r.device.base);
  });

  it('a non-OK REQ_BOOT while waiting is a protocol error, not a notification', async () => {
    const r = rig();
    answerOnce(
      r,
      encodeReply({ kind: 'boot', status: -2, reason: 0, code: 0, info: 0n, reserved: 0n }),
    );
    expect(await failure(r.client.getBase())).toMatchObject({ code: 'PROXY_PROTOCOL' });
    expect(r.boots).toEqual([]);
  });

  it('an opcode echo that does not match → PROXY_PROTOCOL', async () => {
    const r = rig();
    answerOnce(
      r,
      encodeReply({ kind: 'proxy', status: 0, opcode: 5n, proxyStatus: 0n, retval: 0n }),
    );
    expect(await failure(r.client.getBase())).toMatchObject({
      code: 'PROXY_PROTOCOL',
      details: { echoed: 5n },
    });
    expect(await r.client.getBase()).toBe(r.device.base);
  });

  it('frame status INVAL → PROXY_STATUS; a strange inner status → PROXY_STATUS', async () => {
    const r = rig();
    answerOnce(
      r,
      encodeReply({ kind: 'proxy', status: -2, opcode: 4n, proxyStatus: 0n, retval: 0n }),
    );
    expect(await failure(r.client.getBase())).toMatchObject({
      code: 'PROXY_STATUS',
      details: { status: -2, statusName: 'INVAL' },
    });
    answerOnce(
      r,
      encodeReply({ kind: 'proxy', status: 0, opcode: 4n, proxyStatus: -7n, retval: 0n }),
    );
    expect(await failure(r.client.getBase())).toMatchObject({
      code: 'PROXY_STATUS',
      details: { proxyStatus: -7n },
    });
  });

  it('a REQ_NOP enabling a feature we did not offer → PROXY_PROTOCOL', async () => {
    const r = rig();
    answerOnce(r, encodeReply({ kind: 'nop', status: 0, features: 3n }));
    expect(await failure(r.client.nop(1n))).toMatchObject({ code: 'PROXY_PROTOCOL' });
    expect(await r.client.getBase()).toBe(r.device.base);
  });

  it('WHOAMI or GET_CHIPID answering beyond 32 bits → PROXY_PROTOCOL', async () => {
    const r = rig({ device: { iodev: 4 } });
    r.device.onRequest = (req) =>
      req.kind === 'proxy'
        ? encodeReply({
            kind: 'proxy',
            status: 0,
            opcode: req.opcode,
            proxyStatus: 0n,
            retval: 1n << 40n,
          })
        : undefined;
    expect(await failure(r.client.bootstrap())).toMatchObject({ code: 'PROXY_PROTOCOL' });
    expect(await failure(r.client.chipId())).toMatchObject({ code: 'PROXY_PROTOCOL' });
  });

  it('a REQ_MEMWRITE reply with a different data checksum → PROXY_DATA', async () => {
    const r = rig({ device: { acceptFeatures: 0n } });
    r.device.onRequest = (req) =>
      req.kind === 'memwrite'
        ? (b) => encodeReply({ kind: 'memwrite', status: 0, dataChecksum: 1 }).subarray(0, b.length)
        : undefined;
    expect(await failure(r.client.memWrite(SCRATCH, bytes(8)))).toMatchObject({
      code: 'PROXY_DATA',
    });
  });

  it('an event header announcing kilobytes does not swallow the replies behind it', async () => {
    const r = rig({ chunking: 'random' });
    let once = true;
    r.device.onRequest = () => {
      if (once) {
        once = false;
        // REQ_EVENT with length 0xffff: more than the client accepts, discarded at once.
        r.device.send(Uint8Array.of(0xff, 0x55, 0xaa, 0x05, 0xff, 0xff, 0x01, 0x00));
      }
      return undefined;
    };
    expect(await r.client.getBase()).toBe(r.device.base);
    expect(r.discarded.map((d) => d.reason)).toEqual(['event-too-long']);
  });

  it('a bogus event of moderate length is given up at the timeout and the client recovers', async () => {
    const r = rig();
    let once = true;
    r.device.onRequest = () => {
      if (once) {
        once = false;
        r.device.send(Uint8Array.of(0xff, 0x55, 0xaa, 0x05, 0x00, 0x0f, 0x01, 0x00));
      }
      return undefined;
    };
    const p = failure(r.client.getBase());
    await settle();
    r.clock.advance(3000);
    expect(await p).toMatchObject({ code: 'TRANSPORT_TIMEOUT' });
    expect(await r.client.getBase()).toBe(r.device.base);
  });

  it('garbage bytes of every value in random chunks never hang an operation', async () => {
    for (let seed = 1; seed <= 8; seed++) {
      const r = rig({ chunking: 'random', seed });
      let n = 0;
      r.device.onRequest = (req) => {
        if (req.kind === 'proxy' && n++ < 3) r.device.send(bytes(500, seed * 31 + n));
        return undefined;
      };
      for (let i = 0; i < 4; i++) {
        const p = r.client.getBase().then(
          (v) => ({ ok: true as const, v }),
          (e: unknown) => ({ ok: false as const, e }),
        );
        await settle();
        r.clock.advance(3000);
        await settle();
        r.clock.advance(3000);
        await settle();
        r.clock.advance(3000);
        const out = await p;
        if (!out.ok) expect(isRtkitError(out.e)).toBe(true);
      }
      expect(await r.client.getBase()).toBe(r.device.base);
    }
  });
});

describe('closing', () => {
  it('close() rejects the pending and queued operations and later ones with TRANSPORT_CLOSED', async () => {
    const r = rig();
    r.device.onRequest = () => 'drop';
    const a = failure(r.client.getBase());
    const b = failure(r.client.read32(SCRATCH));
    await settle();
    await r.client.close();
    expect(await a).toMatchObject({ code: 'TRANSPORT_CLOSED' });
    expect(await b).toMatchObject({ code: 'TRANSPORT_CLOSED' });
    expect(await failure(r.client.getBase())).toMatchObject({ code: 'TRANSPORT_CLOSED' });
    expect(r.host.closed).toBe(true);
    expect(r.clock.pending).toBe(0);
  });

  it('the peer hanging up rejects the waiting operation', async () => {
    const r = rig();
    r.device.onRequest = () => 'drop';
    const a = failure(r.client.getBase());
    await settle();
    await r.dev.close();
    await settle();
    expect(await a).toMatchObject({ code: 'TRANSPORT_CLOSED' });
  });

  it('console text is still delivered after the last operation', async () => {
    const r = rig();
    await r.client.getBase();
    r.device.sendConsole('bye\n');
    await settle();
    expect(r.console()).toBe('bye\n');
  });

  it('a throwing callback does not break the receive loop', async () => {
    const [host, dev] = createLinkPair();
    const device = new FakeDevice(dev);
    const client = new ProxyClient(host, {
      clock: new VirtualClock(),
      onConsole: () => {
        throw new Error('boom');
      },
    });
    device.onRequest = () => {
      device.sendConsole('text');
      return undefined;
    };
    expect(await client.getBase()).toBe(device.base);
  });
});

describe('options', () => {
  it('refuses a bad timeout or transfer size', () => {
    const [host] = createLinkPair();
    expect(() => new ProxyClient(host, { timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => new ProxyClient(host, { maxTransfer: 0 })).toThrow(/maxTransfer/);
  });

  it('uses the given timeout for replies', async () => {
    const r = rig({ client: { timeoutMs: 500 } });
    r.device.onRequest = () => 'drop';
    const p = failure(r.client.getBase());
    await settle();
    r.clock.advance(500);
    expect(await p).toMatchObject({ code: 'TRANSPORT_TIMEOUT', details: { timeoutMs: 500 } });
  });
});
