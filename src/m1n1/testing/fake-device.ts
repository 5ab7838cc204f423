/**
 * A small programmable fake m1n1 device for the proxy client's unit tests: the device end of a
 * byte link, answering like m1n1's `uartproxy.c` / `proxy.c` (M1N1-PROXY.md §2–§8) over sparse
 * RAM and a few MMIO hooks. Not the simulated server (`src/sim/proxy/`): no co-processors, no
 * timing; just enough device to exercise every client path, plus hooks to misbehave.
 *
 * Faithful where the client depends on it: CSUMERR replies to corrupt requests (whole 64-byte
 * candidate skipped, as m1n1), BADCMD for unknown frame types, inner S_BADCMD for unknown
 * opcodes, guarded accesses counted in `excCount` with the MARK value returned, REQ_MEMREAD and
 * REQ_MEMWRITE resetting the counter, and the MEMWRITE sharp edge of §3.2 (a rejected address is
 * answered XFRERR before the data, which is then scanned for frames).
 */

import { encodeMemReadReply } from '../bulk.js';
import { DATA_CHECKSUM_DISABLED } from '../checksum.js';
import {
  encodeEvent,
  encodeReply,
  encodeStatusReply,
  FrameType,
  type M1n1Event,
  type M1n1Request,
  ProxyStatus,
  ReplyStatus,
} from '../frames.js';
import type { ByteLink } from '../link.js';
import {
  type AccessWidth,
  faultMarker,
  Iodev,
  MAX_ADT_PATH,
  memAccessOp,
  memOpResult,
  ProxyOp,
} from '../opcodes.js';
import { type RequestItem, RequestParser } from '../parser.js';

/** An access width in bits (the proxy ops' `AccessWidth`). */
export type Width = AccessWidth;

/** Device registers at a fixed range; addresses passed are absolute. */
export interface MmioHook {
  read?(addr: bigint, width: Width): bigint;
  write?(addr: bigint, width: Width, value: bigint): void;
}

/**
 * What to do with one request, decided by `onRequest` before the device handles it:
 * `undefined` handle it normally; `'drop'` ignore it (no side effects, no reply); a `Uint8Array`
 * send these bytes instead (no side effects); a function handle it normally and send what the
 * function makes of the reply bytes (an empty array sends nothing, e.g. to send it later).
 */
export type RequestAction = undefined | 'drop' | Uint8Array | ((reply: Uint8Array) => Uint8Array);

export interface FakeDeviceOptions {
  /** IODEV_WHOAMI answer (default 4, USB0). */
  iodev?: number;
  /** Features a REQ_NOP may enable (default bit 0, as m1n1 on USB; 0n behaves like the UART). */
  acceptFeatures?: bigint;
  chipId?: number;
  /** GET_BASE answer. */
  base?: bigint;
  /** GET_BOOTARGS answer. */
  bootArgs?: bigint;
  /** First HEAPBLOCK_ALLOC answer. */
  heapTop?: bigint;
  /** RAM ranges; anything else faults (default 1.5 GiB from 0x8_0000_0000). */
  ram?: readonly { base: bigint; size: bigint }[];
  /** Opcodes to answer S_BADCMD although implemented (old firmware). */
  unknownOps?: readonly number[];
  /** What PMGR_ADT_POWER_ENABLE/DISABLE return (default 0). */
  pmgrResult?: bigint;
}

const PAGE_BITS = 16;
const PAGE_SIZE = 1 << PAGE_BITS;
const U64 = (1n << 64n) - 1n;
/** m1n1 would happily transfer more; the fake refuses what a test cannot mean. */
const MAX_FAKE_TRANSFER = 64 << 20;

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function mask(width: Width): bigint {
  return (1n << BigInt(width)) - 1n;
}

export class FakeDevice {
  readonly link: ByteLink;
  /** Every request decoded, in order (also the dropped ones). */
  readonly requests: M1n1Request[] = [];
  /** The same requests' wire bytes. */
  readonly rawRequests: Uint8Array[] = [];
  /** Bytes received outside frames (garbage, unconsumed bulk data). */
  readonly garbage: Uint8Array[] = [];
  /** Paths passed to PMGR_ADT_POWER_ENABLE / _DISABLE. */
  readonly powered: { op: 'enable' | 'disable'; path: string }[] = [];
  /** Guarded faults since the last GET_EXC_COUNT / SET_EXC_GUARD / bulk transfer. */
  excCount = 0;
  dataChecksums = true;
  /** Decide per request (see RequestAction). */
  onRequest: ((req: M1n1Request) => RequestAction) | undefined;

  iodev: number;
  acceptFeatures: bigint;
  chipId: number;
  base: bigint;
  bootArgs: bigint;
  heapTop: bigint;
  pmgrResult: bigint;
  readonly unknownOps: Set<number>;
  private readonly ram: { base: bigint; end: bigint }[];
  private readonly pages = new Map<number, Uint8Array>();
  private readonly hooks: { base: bigint; end: bigint; hook: MmioHook }[] = [];
  private readonly parser = new RequestParser({ afterBadFrame: 'skip' });
  private pendingWrite:
    | { addr: bigint; size: number; transform: ((r: Uint8Array) => Uint8Array) | undefined }
    | undefined;

  constructor(link: ByteLink, opts: FakeDeviceOptions = {}) {
    this.link = link;
    this.iodev = opts.iodev ?? Iodev.Usb0;
    this.acceptFeatures = opts.acceptFeatures ?? 1n;
    this.chipId = opts.chipId ?? 0x8103;
    this.base = opts.base ?? 0x8_0000_4000n;
    this.bootArgs = opts.bootArgs ?? 0x8_0000_0800n;
    this.heapTop = opts.heapTop ?? 0x8_1000_0000n;
    this.pmgrResult = opts.pmgrResult ?? 0n;
    this.unknownOps = new Set(opts.unknownOps ?? []);
    this.ram = (opts.ram ?? [{ base: 0x8_0000_0000n, size: 0x6000_0000n }]).map((r) => ({
      base: r.base,
      end: r.base + r.size,
    }));
    link.onData((chunk) => {
      this.parser.feed(chunk);
      for (let item = this.parser.next(); item; item = this.parser.next()) this.handle(item);
    });
  }

  // -------------------------------------------------------------------------------------------
  // Test helpers

  /** Map register hooks at [base, base + size). */
  mapMmio(base: bigint, size: bigint, hook: MmioHook): void {
    this.hooks.push({ base, end: base + size, hook });
  }

  /** Send raw bytes to the host. */
  send(bytes: Uint8Array): void {
    this.link.write(bytes).catch(() => undefined);
  }

  sendConsole(s: string): void {
    this.send(text(s));
  }

  sendBoot(reason = 0, code = 0, info = 0n): void {
    this.send(encodeReply({ kind: 'boot', status: 0, reason, code, info, reserved: 0n }));
  }

  sendEvent(event: M1n1Event): void {
    this.send(encodeEvent(event, this.dataChecksums));
  }

  isRam(addr: bigint, size: number): boolean {
    const end = addr + BigInt(size);
    return this.ram.some((r) => addr >= r.base && end <= r.end);
  }

  /** Read RAM directly (unmapped bytes read as zero). */
  peek(addr: bigint, size: number): Uint8Array {
    const out = new Uint8Array(size);
    let a = Number(addr);
    for (let at = 0; at < size; ) {
      const page = this.pages.get(Math.floor(a / PAGE_SIZE));
      const off = a % PAGE_SIZE;
      const n = Math.min(size - at, PAGE_SIZE - off);
      if (page) out.set(page.subarray(off, off + n), at);
      at += n;
      a += n;
    }
    return out;
  }

  /** Write RAM directly. */
  poke(addr: bigint, data: Uint8Array): void {
    let a = Number(addr);
    for (let at = 0; at < data.length; ) {
      const key = Math.floor(a / PAGE_SIZE);
      let page = this.pages.get(key);
      if (!page) {
        page = new Uint8Array(PAGE_SIZE);
        this.pages.set(key, page);
      }
      const off = a % PAGE_SIZE;
      const n = Math.min(data.length - at, PAGE_SIZE - off);
      page.set(data.subarray(at, at + n), off);
      at += n;
      a += n;
    }
  }

  /** Requests of one kind (e.g. the proxy opcodes called), for assertions. */
  proxyOps(): number[] {
    return this.requests.flatMap((r) => (r.kind === 'proxy' ? [Number(r.opcode)] : []));
  }

  // -------------------------------------------------------------------------------------------
  // Device loop

  private handle(item: RequestItem): void {
    switch (item.kind) {
      case 'console':
        this.garbage.push(item.bytes);
        return;
      case 'discarded':
        // m1n1 reads 64 bytes after any prefix and answers a bad checksum with CSUMERR.
        if (item.reason === 'checksum' && item.bytes.length === 64 && item.bytes[3] !== 5) {
          this.send(encodeStatusReply(item.bytes[3]!, ReplyStatus.CsumErr));
        } else this.garbage.push(item.bytes);
        return;
      case 'data':
        this.finishWrite(item);
        return;
      case 'request':
        this.rawRequests.push(item.bytes);
        this.request(item.request);
        return;
    }
  }

  private request(req: M1n1Request): void {
    this.requests.push(req);
    const action = this.onRequest?.(req);
    if (action === 'drop') return;
    if (action instanceof Uint8Array) {
      this.send(action);
      return;
    }
    const reply = this.respond(req, action);
    if (reply !== undefined) this.send(action ? action(reply) : reply);
  }

  private respond(
    req: M1n1Request,
    transform: ((r: Uint8Array) => Uint8Array) | undefined,
  ): Uint8Array | undefined {
    switch (req.kind) {
      case 'nop': {
        const features = req.features & this.acceptFeatures;
        this.dataChecksums = (features & 1n) === 0n;
        return encodeReply({ kind: 'nop', status: 0, features });
      }
      case 'proxy':
        return this.proxy(req.opcode, req.args);
      case 'memread': {
        this.excCount = 0;
        const size = Number(req.size);
        if (size > MAX_FAKE_TRANSFER || (size > 0 && !this.isRam(req.addr, size))) {
          this.excCount = 1;
          this.sendConsole('Exception taken during REQ_MEMREAD\n');
          return encodeStatusReply(FrameType.MemRead, ReplyStatus.XfrErr);
        }
        return encodeMemReadReply(this.peek(req.addr, size), this.dataChecksums);
      }
      case 'memwrite': {
        this.excCount = 0;
        const size = Number(req.size);
        if (size > 0) {
          // m1n1 probes the first and last byte under the SKIP guard.
          if (!this.isRam(req.addr, 1)) this.excCount++;
          if (!this.isRam(req.addr + req.size - 1n, 1)) this.excCount++;
        }
        if (this.excCount > 0 || size > MAX_FAKE_TRANSFER) {
          // §3.2 sharp edge: the data is not consumed; the parser will scan it for frames.
          return encodeStatusReply(FrameType.MemWrite, ReplyStatus.XfrErr);
        }
        this.pendingWrite = { addr: req.addr, size, transform };
        this.parser.readData(size, { checksums: this.dataChecksums, expected: req.dataChecksum });
        return undefined;
      }
      case 'unknown':
        if (req.type === FrameType.Event) return undefined;
        return encodeStatusReply(req.type, ReplyStatus.BadCmd);
    }
  }

  private finishWrite(item: Extract<RequestItem, { kind: 'data' }>): void {
    const w = this.pendingWrite;
    this.pendingWrite = undefined;
    if (!w) return;
    this.poke(w.addr, item.data);
    const reply = encodeReply({
      kind: 'memwrite',
      status: item.valid ? ReplyStatus.Ok : ReplyStatus.XfrErr,
      // No checksum is computed with checksums off: the field is then 0xD0DECADE (§5).
      dataChecksum: item.checksum ?? DATA_CHECKSUM_DISABLED,
    });
    this.send(w.transform ? w.transform(reply) : reply);
  }

  private proxy(opcode: bigint, args: readonly bigint[]): Uint8Array {
    const a = (i: number): bigint => args[i] ?? 0n;
    const op = Number(opcode);
    const ok = (retval: bigint): Uint8Array =>
      encodeReply({ kind: 'proxy', status: 0, opcode, proxyStatus: 0n, retval: retval & U64 });
    if (this.unknownOps.has(op)) return this.badcmd(opcode);
    switch (op) {
      case ProxyOp.NOP:
      case ProxyOp.UDELAY:
        return ok(0n);
      case ProxyOp.GET_BOOTARGS:
        return ok(this.bootArgs);
      case ProxyOp.GET_BASE:
        return ok(this.base);
      case ProxyOp.GET_CHIPID:
        return ok(BigInt(this.chipId));
      case ProxyOp.IODEV_WHOAMI:
        return ok(BigInt(this.iodev));
      case ProxyOp.SET_EXC_GUARD:
        this.excCount = 0;
        return ok(0n);
      case ProxyOp.GET_EXC_COUNT: {
        const n = this.excCount;
        this.excCount = 0;
        return ok(BigInt(n));
      }
      case ProxyOp.SET_BAUD: {
        this.sendConsole(`Changing baud rate to ${a(0)}...\n`);
        void this.link.setBaudRate(Number(a(0)));
        const pattern = new Uint8Array(4 * Number(a(1) & 0xffn));
        const v = new DataView(pattern.buffer);
        for (let i = 0; i < pattern.length; i += 4)
          v.setUint32(i, Number(a(2) & 0xffffffffn), true);
        this.send(pattern);
        return ok(0n);
      }
      case ProxyOp.HEAPBLOCK_ALLOC: {
        const top = this.heapTop;
        this.heapTop += (a(0) + 0x3fffn) & ~0x3fffn;
        return ok(top);
      }
      case ProxyOp.PMGR_ADT_POWER_ENABLE:
      case ProxyOp.PMGR_ADT_POWER_DISABLE: {
        const raw = this.peek(a(0), MAX_ADT_PATH);
        const end = raw.indexOf(0);
        const path = new TextDecoder().decode(raw.subarray(0, end < 0 ? raw.length : end));
        this.powered.push({
          op: op === ProxyOp.PMGR_ADT_POWER_ENABLE ? 'enable' : 'disable',
          path,
        });
        return ok(this.pmgrResult);
      }
    }
    const access = memAccessOp(op);
    if (access !== undefined) {
      const { kind, width } = access;
      const addr = a(0);
      if (kind === 'write') {
        this.store(addr, width, a(1));
        return ok(0n);
      }
      const old = this.load(addr, width);
      if (kind === 'read' || old === undefined) return ok(old ?? faultMarker(width));
      const next = memOpResult(kind, old, a(1), a(2), width);
      this.store(addr, width, next);
      return ok(next);
    }
    return this.badcmd(opcode);
  }

  private badcmd(opcode: bigint): Uint8Array {
    return encodeReply({
      kind: 'proxy',
      status: 0,
      opcode,
      proxyStatus: ProxyStatus.BadCmd,
      retval: 0n,
    });
  }

  private hookAt(addr: bigint): MmioHook | undefined {
    return this.hooks.find((h) => addr >= h.base && addr < h.end)?.hook;
  }

  private fault(what: string, addr: bigint): void {
    this.excCount++;
    this.sendConsole(`Exception taken: ${what} at 0x${addr.toString(16)}\n`);
  }

  /** A guarded load: undefined after a fault (the caller answers the MARK value). */
  private load(addr: bigint, width: Width): bigint | undefined {
    const hook = this.hookAt(addr);
    if (hook?.read) return hook.read(addr, width) & mask(width);
    if (!hook && this.isRam(addr, width / 8)) {
      const b = this.peek(addr, width / 8);
      let v = 0n;
      for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
      return v;
    }
    this.fault('load', addr);
    return undefined;
  }

  private store(addr: bigint, width: Width, value: bigint): void {
    const hook = this.hookAt(addr);
    if (hook?.write) {
      hook.write(addr, width, value & mask(width));
      return;
    }
    if (!hook && this.isRam(addr, width / 8)) {
      const b = new Uint8Array(width / 8);
      for (let i = 0; i < b.length; i++) b[i] = Number((value >> BigInt(8 * i)) & 0xffn);
      this.poke(addr, b);
      return;
    }
    this.fault('store', addr);
  }
}
