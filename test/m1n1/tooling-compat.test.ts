// m1n1's own Python tooling against our simulated Mac, without Python: a hand-written emulation
// of the exact request sequence of `proxyclient/m1n1` (proxy.py's UartInterface and M1N1Proxy,
// proxyutils.py's bootstrap_port and ProxyUtils, hw/asc.py, fw/asc/*.py, fw/smc.py; M1N1-PROXY.md
// §7–§11), speaking raw frames through encodeRequest / ReplyParser over a mock link. It does not
// use our client (src/m1n1/client.ts): the point is to behave like the other implementation.
import { describe, expect, it } from 'vitest';
import { macrotask } from '../../src/clock.js';
import { Adt } from '../../src/m1n1/adt.js';
import { dataChecksumField } from '../../src/m1n1/checksum.js';
import {
  encodeRequest,
  FrameType,
  type M1n1Reply,
  type M1n1Request,
  proxyRequest,
  replyStatusName,
} from '../../src/m1n1/frames.js';
import { ProxyOp } from '../../src/m1n1/opcodes.js';
import { ReplyParser } from '../../src/m1n1/parser.js';
import { createLinkPair, type MockEnd } from '../../src/m1n1/testing/mock-link.js';
import { defaultKeyTable, withKeyCount } from '../../src/sim/profiles/smc-keys.js';
import { ProxyServer } from '../../src/sim/proxy/server.js';
import { SimulatedMac } from '../../src/sim/proxy/simulated-mac.js';

/** Turns of the event loop a reply may take before the emulation calls it a timeout. */
const MAX_TURNS = 2000;
/** `asc.work()` iterations a boot may take (the tooling's 1 s budget, in polls). */
const MAX_WORK = 5000;
const U64 = (1n << 64n) - 1n;

function bits(v: bigint, hi: number, lo: number): bigint {
  return (v >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n);
}

function alignUp(v: bigint, a: bigint): bigint {
  return (v + a - 1n) & ~(a - 1n);
}

/** The type word a reply answers (REQ_* of proxy.py). */
function replyType(r: M1n1Reply): number {
  switch (r.kind) {
    case 'nop':
      return FrameType.Nop;
    case 'proxy':
      return FrameType.Proxy;
    case 'memread':
      return FrameType.MemRead;
    case 'memwrite':
      return FrameType.MemWrite;
    case 'boot':
      return FrameType.Boot;
    default:
      return r.type;
  }
}

// ---------------------------------------------------------------------------------------------
// proxy.py: UartInterface

class PyUart {
  readonly parser = new ReplyParser();
  /** Everything that was not a frame: what the tooling prints as `TTY> …`. */
  tty = '';
  /** The same, as bytes. */
  readonly ttyBytes: number[] = [];
  bootNotifications = 0;
  checksumsOff = false;
  readonly log: M1n1Request[] = [];
  private readonly decoder = new TextDecoder();

  constructor(readonly link: MockEnd) {
    link.onData((chunk) => this.parser.feed(chunk));
  }

  private async nextItem(): Promise<NonNullable<ReturnType<ReplyParser['next']>>> {
    for (let i = 0; i < MAX_TURNS; i++) {
      const item = this.parser.next();
      if (item) return item;
      await macrotask();
    }
    throw new Error('UartTimeout');
  }

  async cmd(req: M1n1Request, extra?: Uint8Array): Promise<void> {
    this.log.push(req);
    const bytes = encodeRequest(req);
    if (extra === undefined) {
      await this.link.write(bytes);
      return;
    }
    await this.link.write(bytes);
    // writemem: the data in 8 KiB chunks, then the sentinel when checksums are off.
    for (let i = 0; i < extra.length; i += 8192) await this.link.write(extra.subarray(i, i + 8192));
    if (this.checksumsOff) await this.link.write(Uint8Array.of(0x10, 0xcc, 0xca, 0xb0));
  }

  async reply(type: number): Promise<M1n1Reply> {
    for (;;) {
      const item = await this.nextItem();
      if (item.kind === 'console') {
        this.tty += this.decoder.decode(item.bytes, { stream: true });
        this.ttyBytes.push(...item.bytes);
        continue;
      }
      if (item.kind === 'event') continue;
      if (item.kind !== 'reply') throw new Error(`UartChecksumError: ${item.kind}`);
      const r = item.reply;
      if (replyType(r) !== type) {
        if (r.kind === 'boot' && r.status === 0) {
          this.bootNotifications++;
          continue;
        }
        throw new Error(`UartCMDError: expected type ${type}, got ${replyType(r)}`);
      }
      if (r.status !== 0) throw new Error(`UartRemoteError: ${replyStatusName(r.status)}`);
      return r;
    }
  }

  async nop(): Promise<bigint> {
    await this.cmd({ kind: 'nop', features: 1n });
    const r = await this.reply(FrameType.Nop);
    if (r.kind !== 'nop') throw new Error('bad NOP reply');
    this.checksumsOff = (r.features & 1n) !== 0n;
    this.parser.dataChecksums = !this.checksumsOff;
    return r.features;
  }

  async readmem(addr: bigint, size: number): Promise<Uint8Array> {
    if (size === 0) return new Uint8Array(0);
    await this.cmd({ kind: 'memread', addr, size: BigInt(size) });
    const r = await this.reply(FrameType.MemRead);
    if (r.kind !== 'memread') throw new Error('bad MEMREAD reply');
    this.parser.readData(size, { checksums: !this.checksumsOff, expected: r.dataChecksum });
    const data = await this.nextItem();
    if (data.kind !== 'data' || !data.valid) throw new Error('UartChecksumError: data');
    return data.data;
  }

  async writemem(addr: bigint, data: Uint8Array): Promise<void> {
    const dataChecksum = dataChecksumField(data, !this.checksumsOff);
    await this.cmd({ kind: 'memwrite', addr, size: BigInt(data.length), dataChecksum }, data);
    await this.reply(FrameType.MemWrite);
  }
}

// ---------------------------------------------------------------------------------------------
// proxy.py: M1N1Proxy

class ProxyCommandError extends Error {}

class PyProxy {
  heapMalloc: ((n: bigint) => bigint) | undefined;
  constructor(readonly iface: PyUart) {}

  async request(op: number, ...args: (bigint | number | string)[]): Promise<bigint> {
    // Strings are uploaded NUL-terminated into the host heap and passed by address.
    const plain: bigint[] = [];
    for (const a of args) {
      if (typeof a === 'string') {
        const bytes = new TextEncoder().encode(`${a}\0`);
        const p = this.heapMalloc!(BigInt(bytes.length));
        await this.iface.writemem(p, bytes);
        plain.push(p);
      } else plain.push(BigInt.asUintN(64, BigInt(a)));
    }
    await this.iface.cmd(proxyRequest(op, ...plain));
    const r = await this.iface.reply(FrameType.Proxy);
    if (r.kind !== 'proxy') throw new Error('bad proxy reply');
    if (r.opcode !== BigInt(op)) throw new Error('ProxyReplyError: opcode mismatch');
    if (r.proxyStatus !== 0n) {
      if (r.proxyStatus === -1n) throw new ProxyCommandError('Reply error: Bad Command');
      throw new Error(`ProxyRemoteError ${r.proxyStatus}`);
    }
    return r.retval;
  }

  getExcCount = () => this.request(ProxyOp.GET_EXC_COUNT);
  read8 = (a: bigint) => this.request(ProxyOp.READ8, a);
  read32 = (a: bigint) => this.request(ProxyOp.READ32, a);
  read64 = (a: bigint) => this.request(ProxyOp.READ64, a);
  write32 = (a: bigint, v: bigint) => this.request(ProxyOp.WRITE32, a, v);
  write64 = (a: bigint, v: bigint) => this.request(ProxyOp.WRITE64, a, v);
}

/** proxyutils.py bootstrap_port. */
async function bootstrapPort(iface: PyUart, p: PyProxy): Promise<{ whoami: bigint }> {
  let doBaud = true;
  let whoami = -1n;
  try {
    whoami = await p.request(ProxyOp.IODEV_WHOAMI);
    doBaud = whoami === 0n;
  } catch (e) {
    if (!(e instanceof ProxyCommandError)) throw e;
  }
  if (doBaud) {
    // The chip id is asked for a few old chips' CPUFREQ_INIT; M1 needs none.
    await p.request(ProxyOp.GET_CHIPID);
    await iface.nop();
    // set_baud: the host switches its own port right after sending, before the reply.
    await iface.cmd(proxyRequest(ProxyOp.SET_BAUD, 1_500_000, 16, 0x005aa5f0));
    await iface.link.setBaudRate(1_500_000);
    await iface.reply(FrameType.Proxy);
  }
  await iface.nop();
  return { whoami };
}

// ---------------------------------------------------------------------------------------------
// proxyutils.py: ProxyUtils (with the tgtypes.py BootArgs layouts)

interface PyBootArgs {
  revision: number;
  virtBase: bigint;
  physBase: bigint;
  memSize: bigint;
  topOfKernelData: bigint;
  videoBase: bigint;
  devtree: bigint;
  devtreeSize: number;
  cmdline: string;
}

const BOOT_ARGS_SIZE: Record<number, number> = { 0: 384, 1: 384, 2: 736, 3: 1152 };

class PyUtils {
  base = 0n;
  baAddr = 0n;
  ba!: PyBootArgs;
  heapBase = 0n;
  heapTop = 0n;
  private heapNext = 0n;
  adtData: Uint8Array | undefined;

  constructor(readonly p: PyProxy) {}

  async init(): Promise<void> {
    const p = this.p;
    this.base = await p.request(ProxyOp.GET_BASE);
    this.baAddr = await p.request(ProxyOp.GET_BOOTARGS);
    // get_bootargs_rev: "can be misaligned", so two READ8s.
    const rev = Number((await p.read8(this.baAddr)) | ((await p.read8(this.baAddr + 1n)) << 8n));
    if (rev > 3) throw new Error(`unsupported boot-args revision ${rev}`);
    const raw = await p.iface.readmem(this.baAddr, BOOT_ARGS_SIZE[rev]!);
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const cmdLen = BOOT_ARGS_SIZE[rev]! - 108 - 20;
    const cmd = raw.subarray(108, 108 + cmdLen);
    const cmdText = String.fromCharCode(...cmd.subarray(0, Math.max(0, cmd.indexOf(0))));
    if (!/^[\x00-\x7f]*$/.test(String.fromCharCode(...cmd))) throw new Error('cmdline not ASCII');
    this.ba = {
      revision: v.getUint16(0, true),
      virtBase: v.getBigUint64(8, true),
      physBase: v.getBigUint64(16, true),
      memSize: v.getBigUint64(24, true),
      topOfKernelData: v.getBigUint64(32, true),
      videoBase: v.getBigUint64(40, true),
      devtree: v.getBigUint64(96, true),
      devtreeSize: v.getUint32(104, true),
      cmdline: cmdText,
    };
    try {
      this.heapBase = await p.request(ProxyOp.HEAPBLOCK_ALLOC, 0);
    } catch (e) {
      if (!(e instanceof ProxyCommandError)) throw e;
      this.heapBase =
        this.base + ((this.ba.topOfKernelData + 0xffffn) & ~0xffffn) - this.ba.physBase;
    }
    this.heapBase += 128n << 20n;
    this.heapTop = this.heapBase + (1n << 30n);
    this.heapNext = this.heapBase;
    p.heapMalloc = (n) => this.memalign(64n, n);
    // CODE_BUFFER_SIZE and the SIMD buffer: host-side allocations only.
    this.memalign(64n, 0x10000n);
    this.memalign(64n, 32n * 16n);
  }

  /** malloc.py's Heap, reduced to a bump allocator: allocations never reach the device. */
  memalign(align: bigint, size: bigint): bigint {
    const at = alignUp(this.heapNext, align);
    if (at + size > this.heapTop) throw new Error('host heap exhausted');
    this.heapNext = at + size;
    return at;
  }

  /** u.read / u.write: the op, then GET_EXC_COUNT, raising on a fault. */
  async read(addr: bigint, width: 32 | 64): Promise<bigint> {
    const v = width === 32 ? await this.p.read32(addr) : await this.p.read64(addr);
    if ((await this.p.getExcCount()) !== 0n) throw new Error('ProxyError: Exception occurred');
    return v;
  }

  async write(addr: bigint, value: bigint, width: 32 | 64): Promise<void> {
    if (width === 32) await this.p.write32(addr, value);
    else await this.p.write64(addr, value);
    if ((await this.p.getExcCount()) !== 0n) throw new Error('ProxyError: Exception occurred');
  }

  async getAdt(): Promise<Uint8Array> {
    if (this.adtData) return this.adtData;
    const adtBase = this.ba.devtree - this.ba.virtBase + this.ba.physBase;
    this.adtData = await this.p.iface.readmem(adtBase, this.ba.devtreeSize);
    return this.adtData;
  }
}

// ---------------------------------------------------------------------------------------------
// hw/asc.py, fw/asc/*.py, fw/smc.py

const CPU_CONTROL = 0x44n;
const INBOX_CTRL = 0x8110n;
const OUTBOX_CTRL = 0x8114n;
const INBOX0 = 0x8800n;
const INBOX1 = 0x8808n;
const OUTBOX0 = 0x8830n;
const OUTBOX1 = 0x8838n;
const FULL = 1n << 16n;
const EMPTY = 1n << 17n;
const RUN = 1n << 4n;
const SYSTEM_EPS = new Set([1, 2, 3, 4, 8, 0xa]);

interface IoBuffer {
  ep: number;
  paddr: bigint;
  size: bigint;
  prealloc: boolean;
}

class PyAsc {
  iopState = -1n;
  apState = -1n;
  readonly eps: number[] = [];
  readonly started = new Set<number>();
  readonly buffers: IoBuffer[] = [];
  readonly syslog: string[] = [];
  readonly sent: { ep: number; msg: bigint }[] = [];
  readonly received: { ep: number; msg: bigint }[] = [];
  private syslogGeometry: { count: number; entrySize: number } | undefined;
  private syslogBuffer: bigint | undefined;
  private crashlogStarted = false;
  /** fw/smc.py state. */
  shmem: bigint | undefined;
  private msgid = 0n;
  private readonly outstanding = new Set<bigint>();
  private readonly smcRet = new Map<bigint, bigint>();

  constructor(
    readonly u: PyUtils,
    readonly base: bigint,
  ) {}

  async boot(): Promise<void> {
    // CPU_CONTROL.set(RUN=1): read-modify-write.
    const v = await this.u.read(this.base + CPU_CONTROL, 32);
    await this.u.write(this.base + CPU_CONTROL, v | RUN, 32);
  }

  async send(ep: number, msg0: bigint): Promise<void> {
    this.sent.push({ ep, msg: msg0 });
    await this.u.write(this.base + INBOX0, msg0, 64);
    await this.u.write(this.base + INBOX1, BigInt(ep), 64);
    for (let i = 0; (await this.u.read(this.base + INBOX_CTRL, 32)) & FULL; i++) {
      if (i > MAX_WORK) throw new Error('inbox stays full');
    }
  }

  private async recv(): Promise<{ ep: number; msg: bigint } | undefined> {
    if ((await this.u.read(this.base + OUTBOX_CTRL, 32)) & EMPTY) return undefined;
    const msg = await this.u.read(this.base + OUTBOX0, 64);
    const msg1 = await this.u.read(this.base + OUTBOX1, 64);
    const m = { ep: Number(msg1 & 0xffn), msg };
    this.received.push(m);
    return m;
  }

  /** asc.work(): true when nothing was waiting or the message was handled. */
  async work(): Promise<boolean> {
    if ((await this.u.read(this.base + OUTBOX_CTRL, 32)) & EMPTY) return true;
    const m = await this.recv();
    if (m === undefined) return true;
    return this.handle(m.ep, m.msg);
  }

  private async handle(ep: number, msg: bigint): Promise<boolean> {
    switch (ep) {
      case 0:
        return this.mgmt(msg);
      case 1:
        return this.crashlog(msg);
      case 2:
        return this.syslogMsg(msg);
      case 3:
        return this.kdebug(msg);
      case 4:
        return this.ioreport(msg);
      case 8:
        return this.oslog(msg);
      case 0x20:
        return this.smc(msg);
      default:
        return false;
    }
  }

  private async mgmt(msg: bigint): Promise<boolean> {
    const type = bits(msg, 59, 52);
    if (type === 1n) {
      // Hello: "we pick the highest version" — HELLO_ACK MIN = MAX = fwMax.
      const max = bits(msg, 31, 16);
      await this.send(0, (2n << 52n) | (max << 16n) | max);
      return true;
    }
    if (type === 8n) {
      const base = bits(msg, 34, 32);
      const last = bits(msg, 51, 51);
      for (let i = 0; i < 32; i++) {
        if (msg & (1n << BigInt(i))) this.eps.push(32 * Number(base) + i);
      }
      await this.send(0, (8n << 52n) | (last << 51n) | (base << 32n) | (last ? 0n : 1n));
      if (last) {
        for (const e of this.eps) if (e !== 0 && e < 0x10) await this.startEp(e);
        // boot_done(): SET_AP_PWR ON right after the map, before any IOP ack.
        await this.send(0, 0x00b0000000000020n);
      }
      return true;
    }
    if (type === 0xbn) {
      this.apState = msg & 0xffffn;
      return true;
    }
    if (type === 7n) {
      this.iopState = msg & 0xffffn;
      return true;
    }
    return type === 4n;
  }

  async startEp(ep: number): Promise<void> {
    if (ep < 0x10 && !SYSTEM_EPS.has(ep)) throw new Error(`Unknown endpoint ${ep}`);
    this.started.add(ep);
    await this.send(0, (5n << 52n) | (BigInt(ep) << 32n) | 2n);
    // kdebug.start(): KDebugStart.
    if (ep === 3) await this.send(3, 8n << 48n);
  }

  /** mgmt.stop(state): AP state first, then the IOP state, each waited for. */
  async stop(state: bigint): Promise<void> {
    await this.send(0, 0x00b0000000000010n);
    for (let i = 0; this.apState === 0x20n; i++) {
      if (i > MAX_WORK) throw new Error('ASCTimeout: AP power');
      await this.work();
    }
    await this.send(0, 0x0060000000000000n | state);
    for (let i = 0; this.iopState !== state; i++) {
      if (i > MAX_WORK) throw new Error('ASCTimeout: IOP power');
      await this.work();
    }
  }

  async waitBoot(): Promise<void> {
    for (let i = 0; this.iopState !== 0x20n || this.apState !== 0x20n; i++) {
      if (i > MAX_WORK) throw new Error('ASCTimeout: Boot timed out');
      await this.work();
    }
  }

  private alloc(ep: number, size: bigint): bigint {
    const paddr = this.u.memalign(0x4000n, size);
    this.buffers.push({ ep, paddr, size, prealloc: false });
    return paddr;
  }

  /** The GetBuf handler shared by crashlog, syslog and ioreporting. */
  private async getbuf(ep: number, msg: bigint): Promise<void> {
    const dva = bits(msg, 43, 0);
    const pages = bits(msg, 51, 44);
    if (dva !== 0n) {
      this.buffers.push({ ep, paddr: dva, size: pages * 0x1000n, prealloc: true });
      if (ep === 2) this.syslogBuffer = dva;
      return;
    }
    const size = alignUp(0x1000n * pages, 0x4000n);
    const paddr = this.alloc(ep, size);
    if (ep === 2) this.syslogBuffer = paddr;
    await this.send(ep, (1n << 52n) | ((size / 0x1000n) << 44n) | paddr);
  }

  private async crashlog(msg: bigint): Promise<boolean> {
    if (bits(msg, 59, 52) !== 1n) return false;
    if (this.crashlogStarted) throw new Error('ASC crashed');
    this.crashlogStarted = true;
    await this.getbuf(1, msg);
    return true;
  }

  private async syslogMsg(msg: bigint): Promise<boolean> {
    const type = bits(msg, 59, 52);
    if (type === 8n) {
      this.syslogGeometry = {
        count: Number(bits(msg, 15, 0)),
        entrySize: Number(bits(msg, 39, 24)),
      };
      return true;
    }
    if (type === 1n) {
      await this.getbuf(2, msg);
      return true;
    }
    if (type === 5n && this.syslogGeometry && this.syslogBuffer !== undefined) {
      const stride = 0x20 + this.syslogGeometry.entrySize;
      const index = Number(bits(msg, 7, 0));
      const entry = await this.u.p.iface.readmem(
        this.syslogBuffer + BigInt(index * stride),
        stride,
      );
      const text = (b: Uint8Array) => {
        const nul = b.indexOf(0);
        return String.fromCharCode(...b.subarray(0, nul < 0 ? b.length : nul));
      };
      this.syslog.push(
        `[${text(entry.subarray(8, 32))}]${text(entry.subarray(32)).replace(/\n+$/, '')}`,
      );
      await this.send(2, msg);
      return true;
    }
    return false;
  }

  private async kdebug(msg: bigint): Promise<boolean> {
    const type = bits(msg, 55, 48);
    if (type === 1n) {
      const size = alignUp(bits(msg, 47, 0) * 0x20n, 0x4000n);
      await this.send(3, (1n << 48n) | this.alloc(3, size));
      await this.send(3, (2n << 48n) | this.alloc(3, 0x2000n));
      return true;
    }
    return type === 2n || type === 3n;
  }

  private async ioreport(msg: bigint): Promise<boolean> {
    const type = bits(msg, 59, 52);
    if (type === 1n) {
      await this.getbuf(4, msg);
      return true;
    }
    if (type === 8n) {
      await this.send(4, 0x0080000000000000n);
      return true;
    }
    return type === 0xcn;
  }

  private async oslog(msg: bigint): Promise<boolean> {
    if (bits(msg, 63, 56) !== 1n) return false;
    const pages = bits(msg, 55, 48);
    const dva = bits(msg, 47, 0);
    if (dva !== 0n) {
      this.buffers.push({ ep: 8, paddr: dva << 12n, size: pages * 0x1000n, prealloc: true });
      return true;
    }
    const size = alignUp(0x1000n * pages, 0x4000n);
    const paddr = this.alloc(8, size);
    await this.send(8, (1n << 56n) | ((size / 0x1000n) << 48n) | (paddr >> 12n));
    return true;
  }

  // fw/smc.py SMCEndpoint

  private async smc(msg: bigint): Promise<boolean> {
    if (this.shmem === undefined) {
      this.shmem = msg;
      return true;
    }
    if (bits(msg, 7, 0) === 0x18n) return true;
    const id = bits(msg, 15, 12);
    this.outstanding.delete(id);
    this.smcRet.set(id, msg);
    return true;
  }

  async smcStart(): Promise<void> {
    await this.startEp(0x20);
    await this.send(0x20, 0x17n);
    this.msgid += 1n;
    for (let i = 0; this.shmem === undefined; i++) {
      if (i > MAX_WORK) throw new Error('no SMC shared memory');
      await this.work();
    }
  }

  async smcCmd(cmd: bigint): Promise<{ result: bigint; size: bigint; value: bigint }> {
    const id = this.msgid & 0xfn;
    this.msgid += 1n;
    this.outstanding.add(id);
    await this.send(0x20, cmd | (id << 12n));
    for (let i = 0; this.outstanding.has(id); i++) {
      if (i > MAX_WORK) throw new Error('SMC command timed out');
      await this.work();
    }
    const r = this.smcRet.get(id)!;
    const out = { result: bits(r, 7, 0), size: bits(r, 31, 16), value: bits(r, 63, 32) };
    if (out.result !== 0n) throw new Error(`SMC error ${out.result}`);
    return out;
  }

  private static key(k: string): bigint {
    return BigInt(Array.from(k).reduce((a, c) => a * 256 + c.charCodeAt(0), 0));
  }

  async smcRead(key: string, size: number): Promise<Uint8Array> {
    const r = await this.smcCmd((PyAsc.key(key) << 32n) | (BigInt(size) << 16n) | 0x10n);
    if (size <= 4) {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, Number(r.value), true);
      return b.subarray(0, size);
    }
    return this.u.p.iface.readmem(this.shmem!, Number(r.size));
  }

  async smcWrite(key: string, data: Uint8Array): Promise<void> {
    await this.u.p.iface.writemem(this.shmem!, data);
    await this.smcCmd((PyAsc.key(key) << 32n) | (BigInt(data.length) << 16n) | 0x11n);
  }

  async smcKeyByIndex(index: number): Promise<string> {
    const r = await this.smcCmd((BigInt(index) << 32n) | 0x12n);
    return String.fromCharCode(
      ...[0, 8, 16, 24].map((s) => Number((r.value >> BigInt(s)) & 0xffn)),
    );
  }

  async smcKeyInfo(key: string): Promise<{ length: number; type: string; flags: number }> {
    await this.smcCmd((PyAsc.key(key) << 32n) | 0x13n);
    const info = await this.u.p.iface.readmem(this.shmem!, 6);
    return {
      length: info[0]!,
      type: String.fromCharCode(...info.subarray(1, 5)),
      flags: info[5]!,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// §11.4: what the tooling's setup needs from the ADT

function checkAdt(bytes: Uint8Array, smcAscBase: number): void {
  const adt = Adt.parse(bytes);
  const visit = (n: typeof adt.root): void => {
    expect(n.properties.some((p) => p.name === 'name')).toBe(true);
    n.children.forEach(visit);
  };
  visit(adt.root);
  expect(adt.root.name).toBe('device-tree');
  expect(adt.u32('/', '#address-cells')).toBe(2);
  expect(adt.u32('/', '#size-cells')).toBe(2);
  expect(adt.u32('/arm-io', '#address-cells')).toBe(2);
  expect(adt.u32('/arm-io', '#size-cells')).toBe(2);
  const ranges = adt.property('/arm-io', 'ranges')!;
  expect(ranges.length % 24).toBe(0);
  expect(ranges.length).toBeGreaterThan(0);
  const devices = adt.property('/arm-io/pmgr', 'devices')!;
  expect(devices.length % 48).toBe(0);
  expect(devices.length / 48).toBeGreaterThanOrEqual(2);
  expect(devices[3]).not.toBe(devices[48 + 3]);
  expect(adt.property('/arm-io/pmgr', 'ps-regs')).toBeDefined();
  expect(adt.property('/arm-io/i2c0', 'reg')!.length).toBe(16);
  adt.translate('/arm-io/i2c0', adt.reg('/arm-io/i2c0')[0]!.addr);
  const pmu = adt.find('/arm-io/i2c0/pmu')!;
  expect(pmu.name).toBe('pmu');
  const known = [
    'pmu,d2255',
    'pmu,d2257',
    'pmu,d2333',
    'pmu,d2365',
    'pmu,d2400',
    'pmu,d2045',
    'pmu,d2089',
    'pmu,d2186',
    'pmu,d2207',
  ];
  for (const c of adt.strings('/arm-io/i2c0/pmu', 'compatible')) expect(known).not.toContain(c);
  expect(adt.property('/arm-io/i2c0/pmu', 'reg')).toBeDefined();
  for (const child of adt.node('/arm-io').children) {
    expect(child.name.startsWith('spmi') || child.name.startsWith('nub-spmi')).toBe(false);
  }
  expect(adt.regAddress('/arm-io/smc', 0).addr).toBe(BigInt(smcAscBase));
}

// ---------------------------------------------------------------------------------------------

interface Rig {
  mac: SimulatedMac;
  server: ProxyServer;
  host: MockEnd;
  device: MockEnd;
  iface: PyUart;
  p: PyProxy;
}

function rig(iodev: 'usb' | 'uart', chunking: 'whole' | 'random'): Rig {
  const mac = new SimulatedMac({ profiles: ['smc', 'generic'], seed: 7 });
  // Deterministic: every request moves the SoC 50 µs on (docs/m1n1-server.md, "Time").
  const server = new ProxyServer(mac, { iodev, time: { stepMs: 0.05 } });
  const [host, device] = createLinkPair({ chunking, seed: 3 });
  server.attach(device);
  const iface = new PyUart(host);
  return { mac, server, host, device, iface, p: new PyProxy(iface) };
}

async function setup(r: Rig): Promise<PyUtils> {
  await bootstrapPort(r.iface, r.p);
  const u = new PyUtils(r.p);
  await u.init();
  checkAdt(await u.getAdt(), r.mac.soc.get('smc').ascBase);
  const features = await r.p.request(ProxyOp.GET_CPU_FEATURES, 20);
  expect(features).not.toBe(0n);
  expect(await r.iface.readmem(features, 20)).toEqual(new Uint8Array(20));
  return u;
}

describe('m1n1 tooling compatibility', () => {
  it('answers IODEV_WHOAMI and the first REQ_NOP in the turn they arrive (well within 150 ms)', () => {
    const mac = new SimulatedMac({ profiles: ['smc'] });
    const server = new ProxyServer(mac, { time: 'manual' });
    const written: Uint8Array[] = [];
    let receiver: ((c: Uint8Array) => void) | undefined;
    server.attach({
      description: 'probe',
      closed: false,
      write: (b) => {
        written.push(b.slice());
        return Promise.resolve();
      },
      onData: (fn) => {
        receiver = fn;
      },
      onClose: () => {},
      setBaudRate: () => Promise.resolve(),
      close: () => Promise.resolve(),
    });
    // No timer, no await: the replies are written before the delivering call returns.
    receiver!(encodeRequest(proxyRequest(ProxyOp.IODEV_WHOAMI)));
    expect(written).toHaveLength(1);
    receiver!(encodeRequest({ kind: 'nop', features: 1n }));
    expect(written).toHaveLength(2);
  });

  for (const [iodev, chunking] of [
    ['usb', 'whole'],
    ['uart', 'random'],
  ] as const) {
    it(`runs setup, boots the SMC and a generic ASC and talks to the SMC (${iodev}, ${chunking} chunks)`, async () => {
      const r = rig(iodev, chunking);
      const u = await setup(r);
      const { mac, iface, p } = r;

      // Bootstrap as the tooling did it.
      const ops = iface.log.filter((q) => q.kind === 'proxy').map((q) => Number(q.opcode));
      expect(ops[0]).toBe(ProxyOp.IODEV_WHOAMI);
      if (iodev === 'uart') {
        expect(ops.slice(1, 3)).toEqual([ProxyOp.GET_CHIPID, ProxyOp.SET_BAUD]);
        expect(r.host.baudRates).toEqual([1_500_000]);
        expect(r.device.baudRates).toEqual([1_500_000]);
        expect(iface.tty).toContain('Changing baud rate to 1500000...\n');
        // The 16 pattern words were skipped by resynchronisation, as console bytes.
        const pattern = Array.from({ length: 16 }, () => [0xf0, 0xa5, 0x5a, 0x00]).flat();
        expect(Buffer.from(iface.ttyBytes).includes(Buffer.from(pattern))).toBe(true);
        expect(iface.checksumsOff).toBe(false);
        expect(iface.bootNotifications).toBe(1);
      } else {
        expect(ops[1]).toBe(ProxyOp.GET_BASE);
        expect(iface.checksumsOff).toBe(true);
        expect(iface.bootNotifications).toBe(0);
      }

      // ProxyUtils' view of the machine.
      expect(u.base).toBe(0x8_0000_4000n);
      expect(u.ba.revision).toBeLessThanOrEqual(3);
      expect(u.ba.devtreeSize).toBe(mac.adtBytes.length);
      expect(await u.getAdt()).toEqual(mac.adtBytes);
      expect(u.heapBase).toBe(mac.layout.hostHeap.base);

      // The power domain of the SMC, as hw/ code enables it before touching an ASC.
      expect(await p.request(ProxyOp.PMGR_ADT_POWER_ENABLE, '/arm-io/smc')).toBe(0n);
      expect(await p.request(ProxyOp.PMGR_ADT_POWER_ENABLE, '/arm-io/nothing')).toBe(U64);

      // StandardASC.boot() for both co-processors.
      for (const name of ['smc', 'generic'] as const) {
        const cp = mac.soc.get(name);
        const asc = new PyAsc(u, BigInt(cp.ascBase));
        await asc.boot();
        await asc.waitBoot();
        expect([asc.iopState, asc.apState]).toEqual([0x20n, 0x20n]);

        const mgmt = asc.sent.filter((m) => m.ep === 0).map((m) => m.msg);
        const hello = asc.received.find((m) => m.ep === 0 && bits(m.msg, 59, 52) === 1n)!;
        expect(mgmt[0]).toBe(
          (2n << 52n) | (bits(hello.msg, 31, 16) << 16n) | bits(hello.msg, 31, 16),
        );
        // SET_AP_PWR ON went out before the firmware's IOP ack was read.
        const apOn = asc.sent.findIndex((m) => m.ep === 0 && m.msg === 0x00b0000000000020n);
        expect(apOn).toBeGreaterThan(0);
        expect([...asc.started].sort((a, b) => a - b)).toEqual(
          name === 'smc' ? [1, 2, 3, 4] : [1, 2, 3, 4, 8],
        );
        // Buffers the tooling allocated: physical addresses inside its own heap window.
        const hostBuffers = asc.buffers.filter((b) => !b.prealloc);
        for (const b of hostBuffers) {
          expect(b.paddr % 0x4000n).toBe(0n);
          expect(b.paddr).toBeGreaterThanOrEqual(mac.layout.hostHeap.base);
          expect(b.paddr + b.size).toBeLessThanOrEqual(
            mac.layout.hostHeap.base + mac.layout.hostHeap.size,
          );
        }
        if (name === 'smc') {
          // The SMC keeps its RTKit buffers in its SRAM: nothing to allocate, nothing to reply.
          expect(hostBuffers.filter((b) => b.ep !== 3)).toEqual([]);
          expect(asc.buffers.filter((b) => b.prealloc).length).toBeGreaterThan(0);
        } else {
          expect(hostBuffers.map((b) => b.ep).sort()).toEqual([1, 2, 3, 3, 4, 8]);
          // A syslog line, written by the firmware into the host's buffer and read back.
          for (let i = 0; asc.syslog.length === 0; i++) {
            expect(i).toBeLessThan(MAX_WORK);
            await asc.work();
          }
          expect(asc.syslog[0]).toContain('ALSAOPDriver.cpp:267');
        }

        if (name === 'smc') {
          await asc.smcStart();
          expect(asc.shmem).toBe(BigInt(cp.sram!.base));
          const count = await asc.smcRead('#KEY', 4);
          const keys = new DataView(count.buffer, count.byteOffset).getUint32(0, false);
          expect(keys).toBe(withKeyCount(defaultKeyTable()).length);
          expect(await asc.smcKeyInfo('#KEY')).toEqual({
            length: 4,
            type: 'ui32',
            flags: expect.any(Number),
          });
          expect(await asc.smcKeyByIndex(0)).toBe('#KEY');
          // A key enumerated and read through shared memory when readable (flag 0x80).
          const second = await asc.smcKeyByIndex(1);
          const info = await asc.smcKeyInfo(second);
          if (info.flags & 0x80)
            expect((await asc.smcRead(second, info.length)).length).toBe(info.length);
          // A write through shared memory (REQ_MEMWRITE), then an 8-byte read (REQ_MEMREAD).
          await asc.smcWrite('NTAP', Uint8Array.of(1));
          expect((await asc.smcRead('CHNC', 8)).length).toBe(8);
        }
      }
      // Nothing the tooling did upset the firmware or faulted a DMA.
      const allowed = new Set(['MISSING_ECHO']);
      expect(mac.soc.violations().filter((v) => !allowed.has(v.code))).toEqual([]);
      expect(mac.soc.faults.faults).toEqual([]);
      expect(r.server.stats.exceptions).toBe(0);
      expect(r.server.stats.badChecksums).toBe(0);
    });
  }

  it('boots (boot() and start()) and stops every other profile the way StandardASC does', async () => {
    const mac = new SimulatedMac({ profiles: ['ans', 'dcp', 'mtp'], seed: 3 });
    const server = new ProxyServer(mac, { time: { stepMs: 0.05 } });
    const [host, device] = createLinkPair();
    server.attach(device);
    const iface = new PyUart(host);
    const p = new PyProxy(iface);
    await bootstrapPort(iface, p);
    const u = new PyUtils(p);
    await u.init();
    for (const cp of mac.coprocessors) {
      const asc = new PyAsc(u, BigInt(cp.ascBase));
      await asc.boot();
      // StandardASC.start() also asks for IOP power before the firmware says HELLO.
      if (cp.name === 'mtp') await asc.send(0, 0x0060000000000220n);
      await asc.waitBoot();
      expect([cp.name, asc.iopState, asc.apState]).toEqual([cp.name, 0x20n, 0x20n]);
      await asc.stop(0x10n);
      expect([asc.apState, asc.iopState]).toEqual([0x10n, 0x10n]);
    }
    const allowed = new Set(['MISSING_ECHO']);
    expect(mac.soc.violations().filter((v) => !allowed.has(v.code))).toEqual([]);
    expect(mac.soc.faults.faults).toEqual([]);
    expect(server.stats.exceptions).toBe(0);
  });
});
