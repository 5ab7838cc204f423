/**
 * The proxy server byte by byte: every worked example of M1N1-PROXY.md reproduced exactly, each
 * served opcode, the bulk transfers in both checksum modes (with m1n1's MEMWRITE sharp edge),
 * framing under any chunking, hostile input, time, and link handling.
 */

import { describe, expect, it } from 'vitest';
import { macrotask } from '../../clock.js';
import { DATA_CHECKSUM_DISABLED, m1n1Checksum } from '../../m1n1/checksum.js';
import {
  decodeReply,
  encodeRequest,
  type M1n1Reply,
  type M1n1Request,
  proxyRequest,
} from '../../m1n1/frames.js';
import { FAULT_MARKER, ProxyOp } from '../../m1n1/opcodes.js';
import { type ReplyItem, ReplyParser } from '../../m1n1/parser.js';
import { createLinkPair, type MockEnd } from '../../m1n1/testing/mock-link.js';
import {
  concatBytes as cat,
  DATA_00_0F,
  DATA_DEADBEEF,
  hexBytes,
  REPLY_VECTORS,
  REQUEST_VECTORS,
  toHex,
} from '../../m1n1/testing/vectors.js';
import { createRng } from '../rng.js';
import { ProxyServer, type ProxyServerOptions } from './server.js';
import { SimulatedMac, type SimulatedMacOptions } from './simulated-mac.js';

const MAX_TURNS = 500;
const SENTINEL = Uint8Array.of(0x10, 0xcc, 0xca, 0xb0);
const SMC_ASC = 0x2_3e40_0000n;
const SMC_SRAM = 0x2_3fe0_0000n;
const UNMAPPED = 0x1000n;
const U64 = (1n << 64n) - 1n;
const RAM_END = 0x8_8000_0000n;

const latin1 = (b: Uint8Array | number[]): string => String.fromCharCode(...b);

/** The host end: every received byte, and the same bytes parsed as replies. */
class TestHost {
  readonly raw: number[] = [];
  private readonly parser = new ReplyParser();
  private taken = 0;
  console = '';

  constructor(readonly link: MockEnd) {
    link.onData((chunk) => {
      for (const b of chunk) this.raw.push(b);
      this.parser.feed(chunk);
    });
  }

  send(...parts: (Uint8Array | M1n1Request)[]): Promise<void> {
    return this.link.write(
      cat(...parts.map((p) => (p instanceof Uint8Array ? p : encodeRequest(p)))),
    );
  }

  /** Exactly the next `n` raw bytes (for byte-exact comparisons). */
  async bytes(n: number): Promise<Uint8Array> {
    for (let i = 0; i < MAX_TURNS && this.raw.length - this.taken < n; i++) await macrotask();
    if (this.raw.length - this.taken < n) {
      throw new Error(`wanted ${n} bytes, have ${this.raw.length - this.taken}`);
    }
    const out = Uint8Array.from(this.raw.slice(this.taken, this.taken + n));
    this.taken += n;
    return out;
  }

  /** Everything received and not taken yet, after the link went quiet. */
  async rest(): Promise<Uint8Array> {
    for (let i = 0; i < 20; i++) await macrotask();
    const out = Uint8Array.from(this.raw.slice(this.taken));
    this.taken = this.raw.length;
    return out;
  }

  /** The next reply, console text collected on the way; `data` for a MEMREAD's bytes. */
  async reply(
    dataSize?: number,
    checksums = true,
  ): Promise<{ reply: M1n1Reply; data?: Uint8Array }> {
    const item = await this.item();
    if (item.kind !== 'reply') throw new Error(`expected a reply, got ${item.kind}`);
    if (dataSize === undefined || item.reply.kind !== 'memread' || item.reply.status !== 0) {
      return { reply: item.reply };
    }
    this.parser.readData(dataSize, { checksums, expected: item.reply.dataChecksum });
    const data = await this.item();
    if (data.kind !== 'data' || !data.valid) throw new Error('bad bulk data');
    return { reply: item.reply, data: data.data };
  }

  private async item(): Promise<ReplyItem> {
    for (let i = 0; i < MAX_TURNS; i++) {
      const item = this.parser.next();
      if (item?.kind === 'console') {
        this.console += latin1(item.bytes);
        continue;
      }
      if (item) return item;
      await macrotask();
    }
    throw new Error('no reply');
  }

  /** REQ_PROXY round trip: the reply's retval (inner status must be OK unless `raw`). */
  async call(op: number, ...args: (number | bigint)[]): Promise<bigint> {
    const r = await this.proxy(op, ...args);
    if (r.proxyStatus !== 0n) throw new Error(`S_BADCMD for ${op}`);
    return r.retval;
  }

  async proxy(op: number | bigint, ...args: (number | bigint)[]) {
    await this.send(proxyRequest(op, ...args));
    const { reply } = await this.reply();
    if (reply.kind !== 'proxy') throw new Error('not a proxy reply');
    expect(reply.status).toBe(0);
    expect(reply.opcode).toBe(BigInt(op));
    return reply;
  }
}

interface Rig {
  mac: SimulatedMac;
  server: ProxyServer;
  host: TestHost;
  hostEnd: MockEnd;
  device: MockEnd;
}

function rig(
  opts: ProxyServerOptions = {},
  macOpts: Partial<SimulatedMacOptions> = {},
  chunking: 'whole' | 'bytes' | 'random' = 'whole',
): Rig {
  const mac = new SimulatedMac({ profiles: ['smc'], ...macOpts });
  const server = new ProxyServer(mac, { time: 'manual', ...opts });
  const [hostEnd, device] = createLinkPair({ chunking, seed: 11 });
  const host = new TestHost(hostEnd);
  server.attach(device);
  return { mac, server, host, hostEnd, device };
}

const reqHex = (k: keyof typeof REQUEST_VECTORS) => hexBytes(REQUEST_VECTORS[k]);
const repHex = (k: keyof typeof REPLY_VECTORS) => toHex(hexBytes(REPLY_VECTORS[k]));

describe('worked examples (M1N1-PROXY.md §2.6, §3)', () => {
  it('GET_BASE returns 0x800004000', async () => {
    const { host } = rig();
    await host.send(reqHex('getBase'));
    expect(toHex(await host.bytes(36))).toBe(repHex('getBase'));
  });

  it('IODEV_WHOAMI returns 4 (USB0) on USB', async () => {
    const { host } = rig({ iodev: 'usb' });
    await host.send(reqHex('whoami'));
    expect(toHex(await host.bytes(36))).toBe(repHex('whoamiUsb0'));
  });

  it('REQ_NOP: feature bit 0 accepted on USB, refused on a UART, nothing offered', async () => {
    const usb = rig({ iodev: 'usb' });
    await usb.host.send(reqHex('nopFeature0'));
    expect(toHex(await usb.host.bytes(36))).toBe(repHex('nopAccepted'));
    expect(usb.server.dataChecksumsDisabled).toBe(true);
    await usb.host.send(reqHex('nopNothing'));
    expect(toHex(await usb.host.bytes(36))).toBe(repHex('nopNothing'));
    expect(usb.server.dataChecksumsDisabled).toBe(false);

    const uart = rig({ iodev: 'uart', bootNotification: false });
    await uart.host.send(reqHex('nopFeature0'));
    expect(toHex(await uart.host.bytes(36))).toBe(repHex('nopNothing'));
  });

  it('an unknown opcode (0x002, CALL) gets the inner S_BADCMD', async () => {
    const { host } = rig();
    await host.send(proxyRequest(ProxyOp.CALL));
    expect(toHex(await host.bytes(36))).toBe(repHex('unknownOpcode'));
  });

  it('a REQ_PROXY with a bad checksum gets CSUMERR', async () => {
    const { host, server } = rig();
    const bad = reqHex('getBase');
    bad[63]! ^= 1;
    await host.send(bad);
    expect(toHex(await host.bytes(36))).toBe(repHex('csumErr'));
    expect(server.stats.badChecksums).toBe(1);
  });

  it('a valid frame of unknown type 6 gets BADCMD', async () => {
    const { host } = rig();
    await host.send({ kind: 'unknown', type: 6, payload: new Uint8Array(56) });
    expect(toHex(await host.bytes(36))).toBe(repHex('badCmd'));
  });

  it('a UART sends the startup notification when a link attaches', async () => {
    const { host } = rig({ iodev: 'uart' });
    expect(toHex(await host.bytes(36))).toBe(repHex('boot'));
  });

  it('REQ_MEMREAD of 16 bytes, checksums on and off, and a fault', async () => {
    const { mac, host } = rig();
    mac.soc.memory.write(0x8_0100_0000, DATA_00_0F);
    await host.send(reqHex('memRead16'));
    expect(toHex(await host.bytes(36 + 16))).toBe(repHex('memReadOn') + toHex(DATA_00_0F));

    await host.send(reqHex('nopFeature0'));
    await host.bytes(36);
    await host.send(reqHex('memRead16'));
    expect(toHex(await host.bytes(36 + 16 + 4))).toBe(
      repHex('memReadOff') + toHex(DATA_00_0F) + toHex(SENTINEL),
    );

    await host.send({ kind: 'memread', addr: UNMAPPED, size: 16n });
    const out = await host.rest();
    // The exception report first (console text), then the reply: no data, no sentinel.
    expect(toHex(out.subarray(out.length - 36))).toBe(repHex('memReadFault'));
    expect(latin1(out.subarray(0, out.length - 36))).toMatch(/^Exception: data abort/);
  });

  it('REQ_MEMWRITE of de ad be ef, checksums on and off', async () => {
    const { mac, host } = rig();
    await host.send(reqHex('memWriteOn'), DATA_DEADBEEF);
    expect(toHex(await host.bytes(36))).toBe(repHex('memWriteOn'));
    expect(mac.soc.memory.read(0x8_0100_0000, 4)).toEqual(DATA_DEADBEEF);

    mac.soc.memory.fill(0x8_0100_0000, 4, 0);
    await host.send(reqHex('nopFeature0'));
    await host.bytes(36);
    await host.send(reqHex('memWriteOff'), DATA_DEADBEEF, SENTINEL);
    expect(toHex(await host.bytes(36))).toBe(repHex('memWriteOff'));
    expect(mac.soc.memory.read(0x8_0100_0000, 4)).toEqual(DATA_DEADBEEF);
  });

  it('the other request vectors: READ32, GET_EXC_COUNT, GET_BOOTARGS, HEAPBLOCK_ALLOC(0), GET_CPU_FEATURES(20)', async () => {
    const { mac, host } = rig();
    const expectRet = async (k: keyof typeof REQUEST_VECTORS, value: bigint) => {
      await host.send(reqHex(k));
      const { reply } = await host.reply();
      expect(reply).toMatchObject({ kind: 'proxy', status: 0, proxyStatus: 0n, retval: value });
    };
    await expectRet('read32', BigInt(mac.soc.bus.read32(0x2_3e40_8114)));
    await expectRet('getExcCount', 0n);
    await expectRet('getBootargs', mac.layout.bootArgs);
    await expectRet('heapblockAlloc0', mac.layout.heapTop);
    await expectRet('getCpuFeatures20', mac.layout.cpuFeatures);
  });

  it('SET_BAUD(1500000, 16, 0x005aa5f0) on a UART: text, switch, pattern, then the reply', async () => {
    const { host, device } = rig({ iodev: 'uart', bootNotification: false });
    await host.send(reqHex('setBaud'));
    const text = 'Changing baud rate to 1500000...\n';
    const out = await host.bytes(text.length + 64 + 36);
    expect(latin1(out.subarray(0, text.length))).toBe(text);
    expect(toHex(out.subarray(text.length, text.length + 64))).toBe('f0a55a00'.repeat(16));
    const r = decodeReply(out.subarray(text.length + 64));
    expect(r).toMatchObject({ ok: true, value: { kind: 'proxy', opcode: 5n, retval: 0n } });
    expect(device.baudRates).toEqual([1_500_000]);
  });
});

describe('REQ_PROXY operations', () => {
  it('READ/WRITE of every width on RAM, unaligned included', async () => {
    const { mac, host } = rig();
    const a = 0x8_0200_0001n;
    await host.call(ProxyOp.WRITE64, a, 0x1122_3344_5566_7788n);
    expect(await host.call(ProxyOp.READ64, a)).toBe(0x1122_3344_5566_7788n);
    expect(await host.call(ProxyOp.READ32, a)).toBe(0x5566_7788n);
    expect(await host.call(ProxyOp.READ16, a + 3n)).toBe(0x4455n);
    expect(await host.call(ProxyOp.READ8, a + 7n)).toBe(0x11n);
    await host.call(ProxyOp.WRITE32, a, 0xffff_ffff_aabb_ccddn);
    await host.call(ProxyOp.WRITE16, a + 4n, 0x1_eeffn);
    await host.call(ProxyOp.WRITE8, a + 6n, 0x99n);
    expect(mac.soc.memory.readU64(Number(a))).toBe(0x1199_eeff_aabb_ccddn);
    expect(await host.call(ProxyOp.GET_EXC_COUNT)).toBe(0n);
  });

  it('SET, CLEAR and MASK return the new value, truncated to the width', async () => {
    const { mac, host } = rig();
    const a = 0x8_0200_0000n;
    mac.soc.memory.writeU32(Number(a), 0x0f0f_0f0f);
    expect(await host.call(ProxyOp.SET32, a, 0x1_f000_0000n)).toBe(0xff0f_0f0fn);
    expect(await host.call(ProxyOp.CLEAR32, a, 0x0000_000fn)).toBe(0xff0f_0f00n);
    expect(await host.call(ProxyOp.MASK32, a, 0xff00_0000n, 0x12n)).toBe(0x000f_0f12n);
    expect(mac.soc.memory.readU32(Number(a))).toBe(0x000f_0f12);
    expect(await host.call(ProxyOp.SET8, a, 0x1_80n)).toBe(0x92n);
    expect(await host.call(ProxyOp.CLEAR16, a, 0x0f00n)).toBe(0x0092n);
    expect(await host.call(ProxyOp.MASK64, a, U64, 0x55n)).toBe(0x55n);
    expect(await host.call(ProxyOp.SET64, a, 1n << 63n)).toBe((1n << 63n) | 0x55n);
  });

  it('reaches ASC registers with 32- and 64-bit accesses; RUN starts the firmware', async () => {
    const { mac, host } = rig();
    const cp = mac.soc.get('smc');
    expect(await host.call(ProxyOp.READ32, SMC_ASC + 0x44n)).toBe(0n);
    await host.call(ProxyOp.SET32, SMC_ASC + 0x44n, 0x10n);
    expect(cp.asc.runBit).toBe(true);
    // The firmware's HELLO is due 1 ms later; the manual clock is ours to move.
    mac.soc.clock.advance(2);
    expect((await host.call(ProxyOp.READ32, SMC_ASC + 0x8114n)) & (1n << 17n)).toBe(0n);
    expect(await host.call(ProxyOp.READ64, SMC_ASC + 0x8830n)).toBe(0x0010_0000_000c_000bn);
    expect((await host.call(ProxyOp.READ64, SMC_ASC + 0x8838n)) & 0xffn).toBe(0n);
    expect(await host.call(ProxyOp.GET_EXC_COUNT)).toBe(0n);
  });

  it('8-bit ASC accesses and unmapped addresses fault: marker, skipped store, exc_count, report', async () => {
    const { host, server } = rig();
    expect(await host.call(ProxyOp.READ8, SMC_ASC + 0x44n)).toBe(0xean);
    expect(host.console).toContain('8-bit access to device registers smc.asc');
    expect(await host.call(ProxyOp.READ64, UNMAPPED)).toBe(FAULT_MARKER);
    expect(await host.call(ProxyOp.READ32, UNMAPPED)).toBe(0xabad_1dean);
    expect(await host.call(ProxyOp.READ16, UNMAPPED)).toBe(0x1dean);
    expect(await host.call(ProxyOp.WRITE32, UNMAPPED, 1n)).toBe(0n);
    expect(server.exceptionCount).toBe(5);
    expect(await host.call(ProxyOp.GET_EXC_COUNT)).toBe(5n);
    expect(await host.call(ProxyOp.GET_EXC_COUNT)).toBe(0n);
    // SET: the load faults (marker) and so does the store of the result.
    expect(await host.call(ProxyOp.SET32, UNMAPPED, 0x1000_0000n)).toBe(0xbbad_1dean);
    expect(await host.call(ProxyOp.GET_EXC_COUNT)).toBe(2n);
    expect(host.console).toContain('Recovering from exception (guard MARK)');
    expect(host.console).toContain('Recovering from exception (guard SKIP)');
    expect(server.stats.exceptions).toBe(7);
    // Addresses beyond the 44-bit space, up to 2^64 − 1.
    expect(await host.call(ProxyOp.READ64, U64)).toBe(FAULT_MARKER);
  });

  it('SRAM: any width, naturally aligned; bulk reads', async () => {
    const { host } = rig();
    await host.call(ProxyOp.WRITE32, SMC_SRAM + 4n, 0xdead_beefn);
    expect(await host.call(ProxyOp.READ8, SMC_SRAM + 7n)).toBe(0xden);
    expect(await host.call(ProxyOp.READ16, SMC_SRAM + 4n)).toBe(0xbeefn);
    expect(await host.call(ProxyOp.READ64, SMC_SRAM)).toBe(0xdead_beef_0000_0000n);
    expect(await host.call(ProxyOp.GET_EXC_COUNT)).toBe(0n);
    expect(await host.call(ProxyOp.READ32, SMC_SRAM + 2n)).toBe(0xabad_1dean);
    expect(await host.call(ProxyOp.GET_EXC_COUNT)).toBe(1n);
    await host.send({ kind: 'memread', addr: SMC_SRAM, size: 8n });
    const { data } = await host.reply(8);
    expect(data).toEqual(Uint8Array.of(0, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde));
  });

  it('MEMSET of each width; stops at the first fault', async () => {
    const { mac, host } = rig();
    const a = 0x8_0300_0000n;
    await host.call(ProxyOp.MEMSET32, a, 0x1122_3344n, 10n);
    expect(toHex(mac.soc.memory.read(Number(a), 12))).toBe('4433221144332211' + '00000000');
    await host.call(ProxyOp.MEMSET64, a, 0n, 16n);
    expect(mac.soc.memory.readU64(Number(a))).toBe(0n);
    await host.call(ProxyOp.MEMSET8, RAM_END - 2n, 0xaan, 4n);
    expect(toHex(mac.soc.memory.read(Number(RAM_END) - 2, 2))).toBe('aaaa');
    expect(await host.call(ProxyOp.GET_EXC_COUNT)).toBe(1n);
    await host.call(ProxyOp.MEMSET16, SMC_SRAM, 0xbeefn, 4n);
    expect(await host.call(ProxyOp.READ32, SMC_SRAM)).toBe(0xbeef_beefn);
    await host.call(ProxyOp.MEMSET8, SMC_ASC, 0n, 4n);
    expect(await host.call(ProxyOp.GET_EXC_COUNT)).toBe(1n);
  });

  it('SET_EXC_GUARD clears the count and keeps the mode', async () => {
    const { host, server } = rig();
    await host.call(ProxyOp.READ8, UNMAPPED);
    expect(await host.call(ProxyOp.SET_EXC_GUARD, 0x102n)).toBe(0n);
    expect(server.exceptionGuard).toBe(0x102n);
    expect(await host.call(ProxyOp.GET_EXC_COUNT)).toBe(0n);
  });

  it('HEAPBLOCK_ALLOC bumps from the heap top in 64-byte blocks, never into the host heap', async () => {
    const { mac, host } = rig();
    const top = mac.layout.heapTop;
    expect(await host.call(ProxyOp.HEAPBLOCK_ALLOC, 0)).toBe(top);
    expect(await host.call(ProxyOp.HEAPBLOCK_ALLOC, 100)).toBe(top);
    expect(await host.call(ProxyOp.HEAPBLOCK_ALLOC, 0)).toBe(top + 128n);
    expect(await host.call(ProxyOp.HEAPBLOCK_ALLOC, 1n << 40n)).toBe(0n);
    expect(await host.call(ProxyOp.HEAPBLOCK_ALLOC, U64)).toBe(0n);
    expect(await host.call(ProxyOp.HEAPBLOCK_ALLOC, 0)).toBe(top + 128n);
  });

  it('PMGR: ADT paths must name a node with clock-gates (−1 and a console line otherwise)', async () => {
    const { mac, host } = rig();
    const put = (at: bigint, s: string) =>
      mac.soc.memory.write(Number(at), new TextEncoder().encode(`${s}\0`));
    const p = mac.layout.hostHeap.base;
    put(p, '/arm-io/smc');
    expect(await host.call(ProxyOp.PMGR_ADT_POWER_ENABLE, p)).toBe(0n);
    expect(await host.call(ProxyOp.PMGR_ADT_POWER_DISABLE, p)).toBe(0n);
    put(p, '/arm-io/gpu');
    expect(await host.call(ProxyOp.PMGR_ADT_POWER_ENABLE, p)).toBe(U64);
    expect(host.console).toContain('pmgr: Error getting node /arm-io/gpu\n');
    put(p, '/arm-io');
    expect(await host.call(ProxyOp.PMGR_ADT_POWER_ENABLE, p)).toBe(U64);
    expect(host.console).toContain('pmgr: Error getting /arm-io clock-gates.\n');
    expect(await host.call(ProxyOp.PMGR_ADT_POWER_ENABLE, UNMAPPED)).toBe(U64);
    expect(await host.call(ProxyOp.GET_EXC_COUNT)).toBe(1n);
    mac.soc.memory.fill(Number(p), 2048, 0x41);
    expect(await host.call(ProxyOp.PMGR_ADT_POWER_ENABLE, p)).toBe(U64);
    expect(await host.call(ProxyOp.PMGR_POWER_ENABLE, 7)).toBe(0n);
    expect(await host.call(ProxyOp.PMGR_POWER_DISABLE, 7)).toBe(0n);
  });

  it('identity, chip, CPU features, cache ops; S_BADCMD for the rest', async () => {
    const { mac, host } = rig({}, { chipId: 0x6000 });
    expect(await host.call(ProxyOp.NOP)).toBe(0n);
    expect(await host.call(ProxyOp.GET_CHIPID)).toBe(0x6000n);
    expect(await host.call(ProxyOp.GET_CPU_FEATURES, 20)).toBe(mac.layout.cpuFeatures);
    expect(await host.call(ProxyOp.GET_CPU_FEATURES, 19)).toBe(0n);
    for (let op = ProxyOp.IC_IALLUIS; op <= ProxyOp.DC_CIVAC; op++) {
      expect(await host.call(op, 0x8_0000_0000n, 64)).toBe(0n);
    }
    for (const op of [
      ProxyOp.CALL,
      ProxyOp.EL1_CALL,
      ProxyOp.VECTOR,
      ProxyOp.WRITEREAD32,
      ProxyOp.MEMCPY8,
      ProxyOp.MMU_SHUTDOWN,
      ProxyOp.MALLOC,
      ProxyOp.DART_INIT,
      ProxyOp.IODEV_READ,
      0xffff,
    ]) {
      const r = await host.proxy(op);
      expect([r.proxyStatus, r.retval]).toEqual([-1n, 0n]);
    }
    const huge = await host.proxy(1n << 40n);
    expect(huge.proxyStatus).toBe(-1n);
  });

  it('IODEV_WHOAMI says 0 on a UART', async () => {
    const { host } = rig({ iodev: 'uart', bootNotification: false });
    expect(await host.call(ProxyOp.IODEV_WHOAMI)).toBe(0n);
  });

  it('UDELAY moves the virtual clock (capped at 10 s) and answers at once', async () => {
    const { mac, host } = rig();
    await host.call(ProxyOp.UDELAY, 2500);
    expect(mac.soc.clock.now()).toBe(2.5);
    await host.call(ProxyOp.UDELAY, U64);
    expect(mac.soc.clock.now()).toBe(10_002.5);
  });

  it('SET_BAUD on USB only replies; on a UART the pattern count is bounded', async () => {
    const usb = rig({ iodev: 'usb' });
    expect(await usb.host.call(ProxyOp.SET_BAUD, 1_500_000, 16, 0x005aa5f0)).toBe(0n);
    expect(usb.device.baudRates).toEqual([]);
    expect(usb.host.console).toBe('');

    const uart = rig({ iodev: 'uart', bootNotification: false });
    expect(await uart.host.call(ProxyOp.SET_BAUD, 0, 1n << 40n, 0x41424344)).toBe(0n);
    expect(uart.device.baudRates).toEqual([]);
    expect(uart.host.console).toBe(`Changing baud rate to 0...\n${'DCBA'.repeat(4096)}`);
  });

  it('EXIT replies and closes the link; REBOOT and SLEEP close it without a reply', async () => {
    for (const op of [ProxyOp.EXIT, ProxyOp.REBOOT, ProxyOp.SLEEP]) {
      const { host, hostEnd, server } = rig();
      await host.send(proxyRequest(op, 1));
      const out = await host.rest();
      expect(out.length).toBe(op === ProxyOp.EXIT ? 36 : 0);
      expect(hostEnd.closed).toBe(true);
      expect(server.attached).toBe(false);
    }
  });
});

describe('REQ_MEMREAD and REQ_MEMWRITE', () => {
  it('size 0: OK, checksum 0, the sentinel only with checksums off', async () => {
    const { host } = rig();
    await host.send({ kind: 'memread', addr: 0n, size: 0n });
    expect(decodeReply(await host.bytes(36))).toMatchObject({
      ok: true,
      value: { kind: 'memread', status: 0, dataChecksum: 0 },
    });
    await host.send({ kind: 'nop', features: 1n });
    await host.bytes(36);
    await host.send({ kind: 'memread', addr: 0n, size: 0n });
    await host.bytes(36);
    expect(await host.bytes(4)).toEqual(SENTINEL);
  });

  it('XFRERR without data: beyond the limit, past the end of RAM, device registers', async () => {
    const { host, server } = rig({}, { maxBulk: 0x1000 });
    for (const [addr, size] of [
      [0x8_0000_0000n, 0x1001n],
      [0x8_0000_0000n, U64],
      [RAM_END - 8n, 16n],
      [SMC_ASC, 4n],
      [U64, 1n],
    ] as const) {
      await host.send({ kind: 'memread', addr, size });
      const { reply } = await host.reply();
      expect(reply).toMatchObject({ kind: 'memread', status: -3, dataChecksum: 0 });
    }
    expect(server.stats.exceptions).toBe(5);
    // MEMREAD starts by clearing exc_count: only the last fault is left.
    expect(await host.call(ProxyOp.GET_EXC_COUNT)).toBe(1n);
    await host.send({ kind: 'memread', addr: 0x8_0000_0000n, size: 16n });
    await host.reply(16);
    expect(await host.call(ProxyOp.GET_EXC_COUNT)).toBe(0n);
  });

  it('a data checksum mismatch is XFRERR with the computed checksum; the data landed anyway', async () => {
    const { mac, host } = rig();
    const addr = 0x8_0100_0000n;
    await host.send({ kind: 'memwrite', addr, size: 4n, dataChecksum: 0x1234 }, DATA_DEADBEEF);
    const { reply } = await host.reply();
    expect(reply).toMatchObject({
      kind: 'memwrite',
      status: -3,
      dataChecksum: m1n1Checksum(DATA_DEADBEEF),
    });
    expect(mac.soc.memory.read(Number(addr), 4)).toEqual(DATA_DEADBEEF);
  });

  it('checksums off: a wrong sentinel is XFRERR; a real checksum in the field leaves the sentinel unread', async () => {
    const { host } = rig();
    await host.send({ kind: 'nop', features: 1n });
    await host.reply();
    const addr = 0x8_0100_0000n;
    const off = { kind: 'memwrite', addr, size: 4n, dataChecksum: DATA_CHECKSUM_DISABLED } as const;
    await host.send(off, DATA_DEADBEEF, Uint8Array.of(1, 2, 3, 4));
    expect((await host.reply()).reply).toMatchObject({
      status: -3,
      dataChecksum: DATA_CHECKSUM_DISABLED,
    });
    const field = { ...off, dataChecksum: m1n1Checksum(DATA_DEADBEEF) };
    await host.send(field, DATA_DEADBEEF, SENTINEL, proxyRequest(ProxyOp.GET_BASE));
    expect((await host.reply()).reply).toMatchObject({
      status: -3,
      dataChecksum: DATA_CHECKSUM_DISABLED,
    });
    // The sentinel was scanned as console bytes; the next request is served normally.
    expect((await host.reply()).reply).toMatchObject({ kind: 'proxy', retval: 0x8_0000_4000n });
  });

  it("m1n1's sharp edge: after a probe fault the data is not consumed but scanned for frames", async () => {
    const { host } = rig();
    const data = encodeRequest(proxyRequest(ProxyOp.GET_BASE));
    await host.send(
      { kind: 'memwrite', addr: UNMAPPED, size: 64n, dataChecksum: m1n1Checksum(data) },
      data,
    );
    expect((await host.reply()).reply).toMatchObject({ kind: 'memwrite', status: -3 });
    // The data was a GET_BASE request, and it is answered.
    expect((await host.reply()).reply).toMatchObject({ kind: 'proxy', retval: 0x8_0000_4000n });
    expect(await host.call(ProxyOp.GET_EXC_COUNT)).toBe(2n);
  });

  it('the probe stores 0 at the first byte even when only the last byte faults', async () => {
    const { mac, host } = rig();
    mac.soc.memory.write(Number(RAM_END) - 2, Uint8Array.of(0x55, 0x55));
    await host.send(
      { kind: 'memwrite', addr: RAM_END - 2n, size: 4n, dataChecksum: m1n1Checksum(DATA_DEADBEEF) },
      DATA_DEADBEEF,
    );
    expect((await host.reply()).reply).toMatchObject({ status: -3 });
    expect(mac.soc.memory.read(Number(RAM_END) - 2, 2)).toEqual(Uint8Array.of(0, 0x55));
    expect(await host.call(ProxyOp.GET_EXC_COUNT)).toBe(1n);
  });

  it('a write larger than the limit is refused before its data, like a probe fault', async () => {
    const { host } = rig({}, { maxBulk: 16 });
    const data = new Uint8Array(32);
    await host.send(
      { kind: 'memwrite', addr: 0x8_0100_0000n, size: 32n, dataChecksum: m1n1Checksum(data) },
      data,
    );
    expect((await host.reply()).reply).toMatchObject({ status: -3 });
    expect(await host.call(ProxyOp.NOP)).toBe(0n);
  });

  it('size 0: checks the checksum of nothing (on) or the sentinel (off)', async () => {
    const { host } = rig();
    const empty = { kind: 'memwrite', addr: 0x8_0100_0000n, size: 0n } as const;
    await host.send({ ...empty, dataChecksum: m1n1Checksum(new Uint8Array(0)) });
    expect((await host.reply()).reply).toMatchObject({ status: 0, dataChecksum: 0x73736542 });
    await host.send({ ...empty, dataChecksum: 0 });
    expect((await host.reply()).reply).toMatchObject({ status: -3 });
    await host.send({ kind: 'nop', features: 1n });
    await host.reply();
    await host.send({ ...empty, dataChecksum: DATA_CHECKSUM_DISABLED }, SENTINEL);
    expect((await host.reply()).reply).toMatchObject({ status: 0 });
  });

  it('writes reach the SMC SRAM; a range leaving it faults', async () => {
    const { mac, host } = rig();
    await host.send(
      {
        kind: 'memwrite',
        addr: SMC_SRAM + 8n,
        size: 4n,
        dataChecksum: m1n1Checksum(DATA_DEADBEEF),
      },
      DATA_DEADBEEF,
    );
    expect((await host.reply()).reply).toMatchObject({ status: 0 });
    expect(mac.soc.get('smc').sram!.bytes.subarray(8, 12)).toEqual(DATA_DEADBEEF);
    const end = SMC_SRAM + 0x10_0000n;
    await host.send({ kind: 'memwrite', addr: end - 2n, size: 4n, dataChecksum: 0 }, DATA_DEADBEEF);
    expect((await host.reply()).reply).toMatchObject({ status: -3 });
  });
});

describe('framing and hostile input', () => {
  /** One of everything, as bytes (replies, console text and data). */
  async function transcript(chunking: 'whole' | 'bytes' | 'random'): Promise<string> {
    const { mac, host } = rig({}, {}, chunking);
    mac.soc.memory.write(0x8_0100_0000, DATA_00_0F);
    const bad = encodeRequest(proxyRequest(ProxyOp.NOP));
    bad[10]! ^= 0x40;
    await host.send(
      reqHex('whoami'),
      Uint8Array.of(0x41, 0xff, 0x55, 0x42),
      reqHex('memRead16'),
      bad,
      reqHex('memWriteOn'),
      DATA_DEADBEEF,
      proxyRequest(ProxyOp.READ32, UNMAPPED),
      reqHex('nopFeature0'),
      reqHex('memRead16'),
      reqHex('getExcCount'),
    );
    for (let i = 0; i < 200; i++) await macrotask();
    return toHex(Uint8Array.from(host.raw));
  }

  it('replies do not depend on how the requests were cut', async () => {
    const whole = await transcript('whole');
    expect(await transcript('bytes')).toBe(whole);
    expect(await transcript('random')).toBe(whole);
    expect(whole).toContain(repHex('csumErr'));
    // The second read sees the write in between.
    const written = cat(DATA_DEADBEEF, DATA_00_0F.subarray(4));
    expect(whole).toContain(repHex('memReadOff') + toHex(written) + toHex(SENTINEL));
  });

  it('skips a bad frame whole, as m1n1 does: a frame starting inside it is not found', async () => {
    const { host } = rig();
    const inner = encodeRequest(proxyRequest(ProxyOp.GET_BASE));
    const outer = cat(inner.subarray(0, 3), Uint8Array.of(0x01), inner.subarray(0, 60));
    // outer = FF 55 AA 01 + the first 60 bytes of a GET_BASE: a bad frame hiding a prefix.
    await host.send(outer, inner.subarray(60), reqHex('nopNothing'));
    expect((await host.reply()).reply).toMatchObject({ kind: 'proxy', status: -4 });
    expect((await host.reply()).reply).toMatchObject({ kind: 'nop', status: 0 });
  });

  it('survives seeded garbage and answers again after 64 filler bytes', async () => {
    const { host, server } = rig();
    const rng = createRng(99);
    for (let round = 0; round < 20; round++) {
      const junk = new Uint8Array(512);
      for (let i = 0; i < junk.length; i++) {
        const r = rng.float();
        // Plenty of prefixes and valid-looking type bytes among the noise.
        junk[i] = r < 0.2 ? [0xff, 0x55, 0xaa][i % 3]! : r < 0.3 ? i % 7 : Math.floor(r * 256);
      }
      await host.send(junk, new Uint8Array(64), reqHex('nopNothing'));
      const out = await host.rest();
      expect(toHex(out).endsWith(repHex('nopNothing'))).toBe(true);
    }
    expect(server.stats.badChecksums).toBeGreaterThan(0);
    expect(server.attached).toBe(true);
  });
});

describe('time', () => {
  it('manual: the clock only moves when the caller moves it', async () => {
    const { mac, host } = rig({ time: 'manual' });
    await host.call(ProxyOp.NOP);
    expect(mac.soc.clock.now()).toBe(0);
  });

  it('step: every request moves it; a booting co-processor makes progress while polled', async () => {
    const { mac, host } = rig({ time: { stepMs: 0.25 } });
    await host.call(ProxyOp.SET32, SMC_ASC + 0x44n, 0x10n);
    let polls = 0;
    while ((await host.call(ProxyOp.READ32, SMC_ASC + 0x8114n)) & (1n << 17n)) {
      polls++;
      expect(polls).toBeLessThan(20);
    }
    expect(await host.call(ProxyOp.READ64, SMC_ASC + 0x8830n)).toBe(0x0010_0000_000c_000bn);
    expect(mac.soc.clock.now()).toBe(0.25 * (polls + 3));
  });

  it('wall: virtual time catches up with real time since the link attached', async () => {
    let wall = 1000;
    const wallClock = { now: () => wall, setTimer: () => ({ id: 0 }), clearTimer: () => {} };
    const { mac, host } = rig({ time: 'wall', wallClock });
    wall += 5;
    await host.call(ProxyOp.NOP);
    expect(mac.soc.clock.now()).toBe(5);
    // UDELAY runs ahead of real time; the clock never goes back.
    await host.call(ProxyOp.UDELAY, 10_000);
    wall += 1;
    await host.call(ProxyOp.NOP);
    expect(mac.soc.clock.now()).toBe(15);
  });

  it('rejects a negative step', () => {
    const mac = new SimulatedMac({ profiles: ['smc'] });
    expect(() => new ProxyServer(mac, { time: { stepMs: -1 } })).toThrow(RangeError);
  });
});

describe('links', () => {
  it('a banner and the boot notification on attach, in that order', async () => {
    const { host } = rig({ consoleBanner: 'm1n1 (simulated)\n', bootNotification: true });
    const banner = 'm1n1 (simulated)\n';
    const out = await host.bytes(banner.length + 36);
    expect(latin1(out.subarray(0, banner.length))).toBe(banner);
    expect(toHex(out.subarray(banner.length))).toBe(repHex('boot'));
  });

  it('dataChecksums overrides the iodev default', async () => {
    const { host } = rig({ iodev: 'uart', dataChecksums: 'off', bootNotification: false });
    await host.send(reqHex('nopFeature0'));
    expect(toHex(await host.bytes(36))).toBe(repHex('nopAccepted'));
  });

  it('a second link replaces (and closes) the first; detach stops serving', async () => {
    const { mac, server, hostEnd } = rig();
    const [host2, device2] = createLinkPair();
    const h2 = new TestHost(host2);
    const detach = server.attach(device2);
    await macrotask();
    await macrotask();
    expect(hostEnd.closed).toBe(true);
    expect(await h2.call(ProxyOp.GET_BASE)).toBe(mac.layout.m1n1Base);
    detach();
    expect(server.attached).toBe(false);
    const before = h2.raw.length;
    await h2.send(proxyRequest(ProxyOp.NOP));
    for (let i = 0; i < 10; i++) await macrotask();
    expect(h2.raw.length).toBe(before);
    expect(host2.closed).toBe(false);
  });

  it('stops serving when the link closes', async () => {
    const { server, hostEnd } = rig();
    await hostEnd.close();
    for (let i = 0; i < 5; i++) await macrotask();
    expect(server.attached).toBe(false);
  });

  it('counts requests', async () => {
    const { host, server } = rig();
    await host.call(ProxyOp.NOP);
    await host.send({ kind: 'unknown', type: 9, payload: new Uint8Array(0) });
    await host.reply();
    expect(server.stats.requests).toBe(2);
  });
});
