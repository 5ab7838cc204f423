/**
 * The m1n1 proxy client (host side): drives m1n1, or our simulated server, over any byte link
 * (M1N1-PROXY.md; docs/m1n1-client.md).
 *
 * ```
 *  callers        read32 / memRead / heap() / readAdtBytes() ...      ProxyMmio (Mmio contract)
 *  ProxyClient    FIFO of operations, one request in flight, one re-armed timer,
 *                 GET_EXC_COUNT after memory ops, resync (REQ_NOP) after trouble
 *  ReplyParser    frames, events, console text, bulk data            (parser.ts)
 *  ByteLink       TCP, serial device, Web Serial, in-memory pair      (link.ts)
 * ```
 *
 * The wire is untrusted: every reply is checked for type, status and opcode echo, every wait is
 * bounded by `timeoutMs`, and any doubt about where the byte stream stands (a timeout, a corrupt
 * frame, a protocol error, bad bulk data, a rejected REQ_MEMWRITE) makes the next operation first
 * resynchronise with a REQ_NOP, discarding everything up to its reply (§13).
 */

import { type Clock, systemClock, type TimerHandle } from '../clock.js';
import { ErrorCode, isRtkitError, RtkitError } from '../errors.js';
import { type BootArgs, bootArgsSize, checkBootArgsRevision, decodeBootArgs } from './boot-args.js';
import { DATA_SENTINEL_BYTES, dataChecksumField } from './checksum.js';
import {
  encodeRequest,
  Feature,
  FrameType,
  frameTypeName,
  type M1n1Event,
  type M1n1Reply,
  type ProxyArgs,
  ProxyStatus,
  ReplyStatus,
  replyStatusName,
  replyType,
} from './frames.js';
import { ProxyHeap } from './heap.js';
import type { ByteLink } from './link.js';
import { BAUD_SWITCH, Iodev, MAX_ADT_PATH, memAccessOp, ProxyOp, proxyOpName } from './opcodes.js';
import { type DataItem, type DiscardedItem, type ReplyItem, ReplyParser } from './parser.js';

// ---------------------------------------------------------------------------------------------
// Constants (sources: M1N1-PROXY.md sections cited)

/** Reply timeout of m1n1's tooling (`M1N1TIMEOUT`, 3 s; §1). */
export const DEFAULT_TIMEOUT_MS = 3000;
/** Reply timeout of the bootstrap probes (IODEV_WHOAMI, the UART baud switch; §7). */
export const BOOTSTRAP_TIMEOUT_MS = 150;
/** The hardware UART's rate before SET_BAUD (iBoot's setting; §1). */
export const UART_INITIAL_BAUD = 115_200;
/**
 * Bulk transfers are split into requests of at most this many bytes: it bounds the parser's
 * buffer and the work lost to one bad transfer, and costs < 1 % of throughput on fast links.
 */
export const DEFAULT_MAX_TRANSFER = 1 << 20;
/** Largest memRead/memWrite accepted in one call (the host heap is 1 GiB). */
export const MAX_MEM_CALL = 1 << 30;
/** The host heap starts this far above m1n1's heap top (§10). */
export const HEAP_GAP = 128n << 20n;
/** Size of the host heap (§10). */
export const HEAP_SIZE = 1n << 30n;
/** Largest ADT accepted from the boot args (real ones are well under 1 MiB). */
export const MAX_ADT_SIZE = 64 << 20;
/** REQ_NOPs sent by one resync before giving up: a device stuck inside a frame eats the first. */
const RESYNC_ATTEMPTS = 2;

const U64_LIMIT = 1n << 64n;
const MASK32 = 0xffff_ffffn;
const SENTINEL = Uint8Array.from(DATA_SENTINEL_BYTES);

// ---------------------------------------------------------------------------------------------
// Public types

export type BootReply = Extract<M1n1Reply, { kind: 'boot' }>;

/** A complete frame or bulk data that arrived when nothing was waiting for it. */
export type StaleItem =
  | { readonly kind: 'reply'; readonly reply: M1n1Reply; readonly bytes: Uint8Array }
  | { readonly kind: 'data'; readonly data: DataItem };

export interface ProxyClientOptions {
  /** Default systemClock; every timeout uses it. */
  clock?: Clock;
  /** Per reply, default 3000 ms (M1N1TIMEOUT). During bulk data: since the last bytes arrived. */
  timeoutMs?: number;
  /**
   * 'auto' (offer DISABLE_DATA_CSUMS, use what the device accepts; default), 'on' (offer
   * nothing), 'off' (require the device to accept, else PROXY_PROTOCOL).
   */
  dataChecksums?: 'auto' | 'on' | 'off';
  /** Run the UART baud switch of §7 when WHOAMI says UART (default true). */
  baudSwitch?: boolean;
  /** Bytes between frames (console text, baud patterns). */
  onConsole?: (text: Uint8Array) => void;
  /** REQ_EVENT frames (verified, then surfaced). */
  onEvent?: (event: M1n1Event) => void;
  /** REQ_BOOT notifications with status OK (startup, exceptions). */
  onBoot?: (reply: BootReply) => void;
  /** Candidate frames the parser threw away (bad checksum, truncated, oversized event). */
  onDiscarded?: (item: DiscardedItem) => void;
  /** Replies and bulk data nothing was waiting for (late replies, resync leftovers). */
  onStale?: (item: StaleItem) => void;
  /** Check GET_EXC_COUNT after every memory access op (default true), as m1n1's tooling does. */
  checkExceptions?: boolean;
  /** Bulk transfers are split into requests of at most this many bytes (default 1 MiB). */
  maxTransfer?: number;
  /** Host heap base instead of HEAPBLOCK_ALLOC(0) + 128 MiB (m1n1's `M1N1HEAP`). */
  heapBase?: bigint;
}

export interface ProxyClientStats {
  /** Request frames sent (resync REQ_NOPs included). */
  requests: number;
  timeouts: number;
  /** Completed resynchronisations. */
  resyncs: number;
  /** Discarded candidates, stale replies and stale bulk data. */
  discarded: number;
}

// ---------------------------------------------------------------------------------------------
// Internals

interface Exchange {
  readonly reply: M1n1Reply;
  readonly data?: DataItem;
}

interface Waiter {
  readonly op: string;
  readonly expect: number;
  /** Resync mode: everything but an OK REQ_NOP reply is stale. */
  readonly resync: boolean;
  /** REQ_MEMREAD: data bytes that follow an OK reply. */
  readonly dataSize: number;
  readonly timeoutMs: number;
  deadline: number;
  phase: 'reply' | 'data';
  reply: M1n1Reply | undefined;
  readonly resolve: (r: Exchange) => void;
  readonly reject: (e: unknown) => void;
}

interface ExchangeOptions {
  readonly timeoutMs?: number;
  readonly dataSize?: number;
  readonly resync?: boolean;
  /** Runs once the request bytes are handed to the link (SET_BAUD switches the rate here). */
  readonly afterWrite?: () => Promise<void>;
  /** Restart the timeout when the writes complete (REQ_MEMWRITE: the data takes time to send). */
  readonly rearmAfterWrite?: boolean;
}

function hex(v: bigint | number): string {
  return `0x${v.toString(16)}`;
}

/** A proxy argument as the u64 on the wire; negative values are two's complement, as the tooling. */
function toU64(v: number | bigint, what: string): bigint {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) {
      throw new RtkitError(ErrorCode.BAD_INPUT, `${what} ${v} is not a safe integer`, {
        [what]: v,
      });
    }
    v = BigInt(v);
  }
  if (typeof v !== 'bigint' || v < -(1n << 63n) || v >= U64_LIMIT) {
    throw new RtkitError(ErrorCode.BAD_INPUT, `${what} ${String(v)} does not fit 64 bits`, {
      [what]: v,
    });
  }
  return BigInt.asUintN(64, v);
}

function checkAddr(addr: bigint, align: number, op: string): void {
  if (typeof addr !== 'bigint' || addr < 0n || addr >= U64_LIMIT) {
    throw new RtkitError(ErrorCode.BAD_INPUT, `${op}: address ${String(addr)} is not a u64`, {
      op,
      addr,
    });
  }
  // Alignments are 1…8 bytes, so the low byte decides (no bigint division per access).
  if (Number(addr & 0xffn) % align !== 0) {
    throw new RtkitError(
      ErrorCode.MMIO_ALIGNMENT,
      `${op}: address ${hex(addr)} is not ${align}-byte aligned`,
      { op, addr, align },
    );
  }
}

function checkValue(value: bigint, bits: number, op: string): bigint {
  if (typeof value !== 'bigint' || value < 0n || value >= 1n << BigInt(bits)) {
    throw new RtkitError(ErrorCode.BAD_INPUT, `${op}: value ${String(value)} is not a u${bits}`, {
      op,
      value,
    });
  }
  return value;
}

function checkRange(addr: bigint, size: number, op: string): void {
  checkAddr(addr, 1, op);
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_MEM_CALL) {
    throw new RtkitError(ErrorCode.BAD_INPUT, `${op}: size ${size} is not 0…${MAX_MEM_CALL}`, {
      op,
      size,
    });
  }
  if (addr + BigInt(size) > U64_LIMIT) {
    throw new RtkitError(ErrorCode.BAD_INPUT, `${op}: ${hex(addr)}+${size} wraps`, {
      op,
      addr,
      size,
    });
  }
}

/**
 * m1n1 only emits 8- and 32-byte trace events (§4); a header announcing more is discarded at once
 * instead of holding back the replies behind it until kilobytes arrive.
 */
const MAX_EVENT_DATA = 4096;

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // A throwing callback must not stop the receive loop; callbacks report their own errors.
  }
}

function protocolError(message: string, details: Record<string, unknown>): RtkitError {
  return new RtkitError(ErrorCode.PROXY_PROTOCOL, message, details);
}

// ---------------------------------------------------------------------------------------------

export class ProxyClient {
  readonly link: ByteLink;
  readonly stats: ProxyClientStats = { requests: 0, timeouts: 0, resyncs: 0, discarded: 0 };

  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly mode: 'auto' | 'on' | 'off';
  private readonly baudSwitch: boolean;
  private readonly checkExceptions: boolean;
  private readonly maxTransfer: number;
  private readonly opts: ProxyClientOptions;
  /** Starts with checksums on, as every link does (§5); REQ_NOP replies switch it. */
  private readonly parser = new ReplyParser({
    dataChecksums: true,
    maxEventLength: MAX_EVENT_DATA,
  });

  private checksumsOn = true;
  private whoami_: number | undefined;
  /** Features offered by the last REQ_NOP; a resync offers the same. */
  private offer = 0n;
  private needsResync = false;
  /** REQ_NOP replies that may still arrive from an earlier resync attempt. */
  private staleNops = 0;
  /** A REQ_MEMREAD timed out before its reply: if it still comes, its data must be skipped. */
  private staleMemRead: { size: number; checksums: boolean } | undefined;
  private waiter: Waiter | undefined;
  private timer: TimerHandle | undefined;
  private timerAt = 0;
  private busy = false;
  private readonly queue: (() => void)[] = [];
  private closeReason:
    | { message: string; details: Record<string, unknown>; cause: unknown }
    | undefined;
  private heapPromise: Promise<ProxyHeap> | undefined;

  /** Connect and bootstrap as m1n1's tooling does (§7). On failure the link stays open. */
  static async connect(link: ByteLink, opts: ProxyClientOptions = {}): Promise<ProxyClient> {
    const client = new ProxyClient(link, opts);
    await client.bootstrap();
    return client;
  }

  /** No I/O: takes over the link's receiver. `bootstrap()` (or `connect`) talks to the device. */
  constructor(link: ByteLink, opts: ProxyClientOptions = {}) {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
      throw new RtkitError(ErrorCode.BAD_INPUT, `timeoutMs ${timeoutMs} is not positive`, {
        timeoutMs,
      });
    }
    const maxTransfer = opts.maxTransfer ?? DEFAULT_MAX_TRANSFER;
    if (!Number.isSafeInteger(maxTransfer) || maxTransfer <= 0 || maxTransfer > MAX_MEM_CALL) {
      throw new RtkitError(ErrorCode.BAD_INPUT, `maxTransfer ${maxTransfer} is out of range`, {
        maxTransfer,
      });
    }
    this.link = link;
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.timeoutMs = timeoutMs;
    this.mode = opts.dataChecksums ?? 'auto';
    this.baudSwitch = opts.baudSwitch ?? true;
    this.checkExceptions = opts.checkExceptions ?? true;
    this.maxTransfer = maxTransfer;
    link.onData((chunk) => this.receive(chunk));
    link.onClose((error) => {
      this.shutdown(`${link.description} closed`, error);
    });
  }

  /** Data checksums in use (false once DISABLE_DATA_CSUMS is negotiated). */
  get dataChecksums(): boolean {
    return this.checksumsOn;
  }

  /** What IODEV_WHOAMI answered during bootstrap (undefined: not asked, unknown op, no answer). */
  get iodev(): number | undefined {
    return this.whoami_;
  }

  // -------------------------------------------------------------------------------------------
  // Bootstrap (§7)

  /**
   * IODEV_WHOAMI (150 ms); on the UART (or an old m1n1 without WHOAMI) GET_CHIPID, REQ_NOP and
   * SET_BAUD(1500000) with the link switched right after sending; no answer → the device already
   * runs at 1500000: switch and resync; then REQ_NOP feature negotiation per `dataChecksums`.
   */
  bootstrap(): Promise<void> {
    return this.unit(async () => {
      let uart = false;
      let silent = false;
      this.whoami_ = undefined;
      try {
        const r = await this.rawProxy(ProxyOp.IODEV_WHOAMI, [], BOOTSTRAP_TIMEOUT_MS);
        if (r.proxyStatus === ProxyStatus.BadCmd) uart = true;
        else if (r.proxyStatus === ProxyStatus.Ok) {
          if (r.retval > MASK32) {
            throw protocolError(`IODEV_WHOAMI answered ${hex(r.retval)}`, { iodev: r.retval });
          }
          this.whoami_ = Number(r.retval);
          uart = this.whoami_ === Iodev.Uart;
        } else throw this.innerStatusError(ProxyOp.IODEV_WHOAMI, r.proxyStatus);
      } catch (e) {
        if (!isRtkitError(e, ErrorCode.TRANSPORT_TIMEOUT)) throw e;
        silent = true;
      }
      if (this.baudSwitch && silent) await this.link.setBaudRate(BAUD_SWITCH.baud);
      else if (this.baudSwitch && uart) await this.switchBaud();
      await this.negotiate();
    });
  }

  private async switchBaud(): Promise<void> {
    let switched = false;
    try {
      try {
        await this.callProxy(ProxyOp.GET_CHIPID, [], BOOTSTRAP_TIMEOUT_MS);
      } catch (e) {
        if (!isRtkitError(e, ErrorCode.PROXY_BADCMD)) throw e;
      }
      await this.nopLocked(this.defaultOffer(), BOOTSTRAP_TIMEOUT_MS);
      const { baud, count, pattern } = BAUD_SWITCH;
      const r = await this.rawProxy(
        ProxyOp.SET_BAUD,
        [baud, count, pattern],
        BOOTSTRAP_TIMEOUT_MS,
        {
          afterWrite: async () => {
            switched = true;
            await this.link.setBaudRate(baud);
          },
        },
      );
      if (r.proxyStatus === ProxyStatus.BadCmd) {
        // The device did not switch: neither do we.
        await this.link.setBaudRate(UART_INITIAL_BAUD);
      }
    } catch (e) {
      if (!isRtkitError(e, ErrorCode.TRANSPORT_TIMEOUT)) throw e;
      // As m1n1's tooling: silence means the device is (now) at the new rate.
      if (!switched) await this.link.setBaudRate(BAUD_SWITCH.baud);
    }
  }

  private async negotiate(): Promise<void> {
    const offer = this.defaultOffer();
    const enabled = await this.nopLocked(offer, this.timeoutMs);
    if (this.mode === 'off' && (enabled & Feature.DisableDataCsums) === 0n) {
      throw protocolError('the device refused DISABLE_DATA_CSUMS (dataChecksums: off)', {
        offered: offer,
        enabled,
      });
    }
  }

  private defaultOffer(): bigint {
    return this.mode === 'on' ? 0n : Feature.DisableDataCsums;
  }

  // -------------------------------------------------------------------------------------------
  // Frame-level operations

  /** REQ_NOP offering `features` (default per `dataChecksums`); returns what the device enabled. */
  nop(features?: bigint): Promise<bigint> {
    return this.unit(() =>
      this.nopLocked(toU64(features ?? this.defaultOffer(), 'features'), this.timeoutMs),
    );
  }

  /** Send REQ_NOP (the features last offered) and discard everything until its reply (§13). */
  resync(): Promise<void> {
    return this.unit(() => this.resyncLocked());
  }

  /** REQ_PROXY; returns retval. Inner S_BADCMD → PROXY_BADCMD. */
  proxy(op: number, ...args: (number | bigint)[]): Promise<bigint> {
    return this.unit(() => this.callProxy(op, args));
  }

  /** REQ_PROXY that never throws on the inner status. */
  tryProxy(op: number, ...args: (number | bigint)[]): Promise<{ status: bigint; retval: bigint }> {
    return this.unit(async () => {
      const r = await this.rawProxy(op, args);
      return { status: r.proxyStatus, retval: r.retval };
    });
  }

  // -------------------------------------------------------------------------------------------
  // Memory and MMIO

  read8(addr: bigint): Promise<bigint> {
    return this.access(ProxyOp.READ8, addr, []);
  }
  read16(addr: bigint): Promise<bigint> {
    return this.access(ProxyOp.READ16, addr, []);
  }
  read32(addr: bigint): Promise<bigint> {
    return this.access(ProxyOp.READ32, addr, []);
  }
  read64(addr: bigint): Promise<bigint> {
    return this.access(ProxyOp.READ64, addr, []);
  }
  async write8(addr: bigint, value: bigint): Promise<void> {
    await this.access(ProxyOp.WRITE8, addr, [value]);
  }
  async write16(addr: bigint, value: bigint): Promise<void> {
    await this.access(ProxyOp.WRITE16, addr, [value]);
  }
  async write32(addr: bigint, value: bigint): Promise<void> {
    await this.access(ProxyOp.WRITE32, addr, [value]);
  }
  async write64(addr: bigint, value: bigint): Promise<void> {
    await this.access(ProxyOp.WRITE64, addr, [value]);
  }
  /** `*addr |= bits`; returns the new value. */
  set32(addr: bigint, bits: bigint): Promise<bigint> {
    return this.access(ProxyOp.SET32, addr, [bits]);
  }
  set64(addr: bigint, bits: bigint): Promise<bigint> {
    return this.access(ProxyOp.SET64, addr, [bits]);
  }
  /** `*addr &= ~bits`; returns the new value. */
  clear32(addr: bigint, bits: bigint): Promise<bigint> {
    return this.access(ProxyOp.CLEAR32, addr, [bits]);
  }
  clear64(addr: bigint, bits: bigint): Promise<bigint> {
    return this.access(ProxyOp.CLEAR64, addr, [bits]);
  }
  /** `*addr = (*addr & ~clear) | set`; returns the new value. */
  mask32(addr: bigint, clear: bigint, set: bigint): Promise<bigint> {
    return this.access(ProxyOp.MASK32, addr, [clear, set]);
  }
  mask64(addr: bigint, clear: bigint, set: bigint): Promise<bigint> {
    return this.access(ProxyOp.MASK64, addr, [clear, set]);
  }

  /** GET_EXC_COUNT: guarded faults since the last call (the device resets the counter). */
  excCount(): Promise<number> {
    return this.unit(() => this.excCountLocked());
  }

  /**
   * REQ_MEMREAD, split into requests of at most `maxTransfer` bytes. A fault → PROXY_STATUS
   * (status −3 XFRERR, `addr`, `size`); bad data checksum or sentinel → PROXY_DATA.
   */
  async memRead(addr: bigint, size: number): Promise<Uint8Array> {
    checkRange(addr, size, 'memRead');
    if (size === 0) return new Uint8Array(0);
    if (size <= this.maxTransfer) return this.unit(() => this.memReadLocked(addr, size));
    const out = new Uint8Array(size);
    for (let off = 0; off < size; off += this.maxTransfer) {
      const n = Math.min(this.maxTransfer, size - off);
      const at = addr + BigInt(off);
      out.set(await this.unit(() => this.memReadLocked(at, n)), off);
    }
    return out;
  }

  /**
   * REQ_MEMWRITE, split into requests of at most `maxTransfer` bytes. A rejected write is
   * followed by a resync (the device may be parsing our data as frames, §3.2), then PROXY_STATUS.
   * `data` must not change until the promise settles.
   */
  async memWrite(addr: bigint, data: Uint8Array): Promise<void> {
    if (!(data instanceof Uint8Array)) {
      throw new RtkitError(ErrorCode.BAD_INPUT, 'memWrite data is not a Uint8Array', {});
    }
    checkRange(addr, data.length, 'memWrite');
    for (let off = 0; off < data.length; off += this.maxTransfer) {
      const piece = data.subarray(off, Math.min(data.length, off + this.maxTransfer));
      const at = addr + BigInt(off);
      await this.unit(() => this.memWriteLocked(at, piece));
    }
  }

  // -------------------------------------------------------------------------------------------
  // Helpers built on proxy ops

  getBootArgs(): Promise<bigint> {
    return this.proxy(ProxyOp.GET_BOOTARGS);
  }

  getBase(): Promise<bigint> {
    return this.proxy(ProxyOp.GET_BASE);
  }

  async chipId(): Promise<number> {
    return this.smallNumber(ProxyOp.GET_CHIPID, await this.proxy(ProxyOp.GET_CHIPID));
  }

  async whoami(): Promise<number> {
    return this.smallNumber(ProxyOp.IODEV_WHOAMI, await this.proxy(ProxyOp.IODEV_WHOAMI));
  }

  /** HEAPBLOCK_ALLOC: bytes from m1n1's own bump heap (0 returns its top). */
  heapAlloc(size: number): Promise<bigint> {
    return this.proxy(ProxyOp.HEAPBLOCK_ALLOC, toU64(size, 'size'));
  }

  /**
   * The host-side heap (§10), made once: HEAPBLOCK_ALLOC(0) + 128 MiB, 1 GiB long (or
   * `heapBase`); when the device does not know HEAPBLOCK_ALLOC, derived from the boot args as
   * m1n1's tooling does.
   */
  heap(): Promise<ProxyHeap> {
    if (this.heapPromise === undefined) {
      const p = this.makeHeap();
      this.heapPromise = p;
      p.catch(() => {
        if (this.heapPromise === p) this.heapPromise = undefined;
      });
    }
    return this.heapPromise;
  }

  /**
   * PMGR_ADT_POWER_ENABLE (0x802): power the device at an ADT path. The NUL-terminated path is
   * uploaded into the host heap, passed by pointer and freed, as m1n1's tooling passes strings.
   * A non-zero return value → PROXY_STATUS (`op`, `path`, `retval` as a signed number).
   */
  pmgrAdtPowerEnable(path: string): Promise<void> {
    return this.pmgrAdt(ProxyOp.PMGR_ADT_POWER_ENABLE, path);
  }

  /** PMGR_ADT_POWER_DISABLE (0x803); see pmgrAdtPowerEnable. */
  pmgrAdtPowerDisable(path: string): Promise<void> {
    return this.pmgrAdt(ProxyOp.PMGR_ADT_POWER_DISABLE, path);
  }

  /**
   * The boot args (§11.2): GET_BOOTARGS, the revision with two READ8s (it may be misaligned),
   * then one REQ_MEMREAD of the revision's size. Revision > 3 → PROXY_PROTOCOL. `address` is
   * where they are (GET_BOOTARGS).
   */
  async readBootArgs(): Promise<BootArgs & { readonly address: bigint }> {
    const address = await this.getBootArgs();
    if (address + 2n > U64_LIMIT) {
      throw protocolError(`GET_BOOTARGS answered ${hex(address)}`, { address });
    }
    const lo = await this.read8(address);
    const hi = await this.read8(address + 1n);
    const revision = Number(lo | (hi << 8n));
    checkBootArgsRevision(revision, { address });
    const size = bootArgsSize(revision);
    if (address + BigInt(size) > U64_LIMIT) {
      throw protocolError(`GET_BOOTARGS answered ${hex(address)}`, { address });
    }
    const bytes = await this.memRead(address, size);
    const ba = decodeBootArgs(bytes);
    if (ba.revision !== revision) {
      throw protocolError(`boot args revision changed from ${revision} to ${ba.revision}`, {
        revision,
        again: ba.revision,
      });
    }
    return { address, ...ba };
  }

  /** The ADT bytes: `devtree − virt_base + phys_base`, `devtree_size` bytes (§11.2). */
  async readAdtBytes(): Promise<Uint8Array> {
    const ba = await this.readBootArgs();
    const addr = ba.devtree - ba.virtBase + ba.physBase;
    const details = {
      devtree: ba.devtree,
      virtBase: ba.virtBase,
      physBase: ba.physBase,
      size: ba.devtreeSize,
    };
    if (ba.devtreeSize === 0 || ba.devtreeSize > MAX_ADT_SIZE) {
      throw new RtkitError(
        ErrorCode.ADT_INVALID,
        `boot args give an ADT of ${ba.devtreeSize} bytes (accepted: 1…${MAX_ADT_SIZE})`,
        { reason: 'size', ...details },
      );
    }
    if (addr < 0n || addr + BigInt(ba.devtreeSize) > U64_LIMIT) {
      throw new RtkitError(
        ErrorCode.ADT_INVALID,
        `boot args place the ADT outside the address space (${hex(ba.devtree)} − ${hex(ba.virtBase)} + ${hex(ba.physBase)})`,
        { reason: 'address', ...details },
      );
    }
    return this.memRead(addr, ba.devtreeSize);
  }

  /** Close the link; pending and later operations reject TRANSPORT_CLOSED. */
  async close(): Promise<void> {
    this.shutdown(`proxy client on ${this.link.description} closed`, undefined);
    await this.link.close();
  }

  // -------------------------------------------------------------------------------------------
  // Operations: `access` queues one unit; the helpers below run inside a unit (they never queue)

  /** One READ/WRITE/SET/CLEAR/MASK op and its exception check; the op sets the width. */
  private async access(op: number, addr: bigint, values: bigint[]): Promise<bigint> {
    const name = proxyOpName(op);
    const bits = memAccessOp(op)!.width;
    checkAddr(addr, bits / 8, name);
    for (const v of values) checkValue(v, bits, name);
    return this.unit(async () => {
      const v = await this.callProxy(op, [addr, ...values]);
      if (this.checkExceptions) {
        const exceptions = await this.excCountLocked();
        if (exceptions !== 0) {
          throw new RtkitError(
            ErrorCode.PROXY_EXCEPTION,
            `${name} at ${hex(addr)} took ${exceptions} exception(s) on the device`,
            { op: name, addr, exceptions },
          );
        }
      }
      // The device answers a u64; a narrower access has no business in the upper bits.
      return BigInt.asUintN(bits, v);
    });
  }

  private async excCountLocked(): Promise<number> {
    const n = await this.callProxy(ProxyOp.GET_EXC_COUNT, []);
    return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
  }

  private async callProxy(
    op: number,
    args: readonly (number | bigint)[],
    timeoutMs = this.timeoutMs,
  ): Promise<bigint> {
    const r = await this.rawProxy(op, args, timeoutMs);
    if (r.proxyStatus !== ProxyStatus.Ok) throw this.innerStatusError(op, r.proxyStatus);
    return r.retval;
  }

  private innerStatusError(op: number, status: bigint): RtkitError {
    const name = proxyOpName(op);
    if (status === ProxyStatus.BadCmd) {
      return new RtkitError(ErrorCode.PROXY_BADCMD, `the device does not know ${name}`, {
        op,
        name,
      });
    }
    return new RtkitError(ErrorCode.PROXY_STATUS, `${name} failed with status ${status}`, {
      op,
      name,
      proxyStatus: status,
    });
  }

  private async rawProxy(
    op: number,
    args: readonly (number | bigint)[],
    timeoutMs = this.timeoutMs,
    extra: ExchangeOptions = {},
  ): Promise<Extract<M1n1Reply, { kind: 'proxy' }>> {
    if (!Number.isSafeInteger(op) || op < 0) {
      throw new RtkitError(ErrorCode.BAD_INPUT, `proxy opcode ${op} is not a u64`, { op });
    }
    if (args.length > 6) {
      throw new RtkitError(ErrorCode.BAD_INPUT, `REQ_PROXY takes at most 6 arguments`, {
        op,
        count: args.length,
      });
    }
    const a: bigint[] = [0n, 0n, 0n, 0n, 0n, 0n];
    for (let i = 0; i < args.length; i++) {
      const v = args[i]!;
      // Every register access passes through here: u64 bigints go straight in, anything else
      // (numbers, negatives) is converted and checked, with the argument named only then.
      a[i] = typeof v === 'bigint' && v >= 0n && v < U64_LIMIT ? v : toU64(v, `args[${i}]`);
    }
    const frame = encodeRequest({
      kind: 'proxy',
      opcode: BigInt(op),
      args: a as unknown as ProxyArgs,
    });
    const name = proxyOpName(op);
    const { reply } = await this.request([frame], FrameType.Proxy, name, extra, timeoutMs);
    if (reply.kind !== 'proxy') throw this.mismatch(name, FrameType.Proxy, reply);
    if (reply.status !== ReplyStatus.Ok) throw this.statusError(name, reply.status, { op });
    if (reply.opcode !== BigInt(op)) {
      this.needsResync = true;
      throw protocolError(`${name} answered for opcode ${hex(reply.opcode)}`, {
        op,
        echoed: reply.opcode,
      });
    }
    return reply;
  }

  private async nopLocked(features: bigint, timeoutMs: number): Promise<bigint> {
    const frame = encodeRequest({ kind: 'nop', features });
    const { reply } = await this.request([frame], FrameType.Nop, 'REQ_NOP', {}, timeoutMs);
    if (reply.kind !== 'nop') throw this.mismatch('REQ_NOP', FrameType.Nop, reply);
    if (reply.status !== ReplyStatus.Ok) throw this.statusError('REQ_NOP', reply.status, {});
    this.offer = features;
    this.applyFeatures(reply.features, features);
    return reply.features;
  }

  private async resyncLocked(): Promise<void> {
    let last: unknown;
    for (let attempt = 0; attempt < RESYNC_ATTEMPTS; attempt++) {
      try {
        const frame = encodeRequest({ kind: 'nop', features: this.offer });
        const { reply } = await this.exchange([frame], FrameType.Nop, 'resync', { resync: true });
        // An earlier attempt's REQ_NOP may still be answered after this one.
        this.staleNops += attempt;
        this.needsResync = false;
        this.staleMemRead = undefined;
        this.stats.resyncs++;
        if (reply.kind === 'nop') this.applyFeatures(reply.features, this.offer);
        return;
      } catch (e) {
        if (!isRtkitError(e, ErrorCode.TRANSPORT_TIMEOUT)) throw e;
        last = e;
      }
    }
    throw new RtkitError(
      ErrorCode.TRANSPORT_TIMEOUT,
      `no answer to ${RESYNC_ATTEMPTS} resync REQ_NOPs on ${this.link.description} (${this.timeoutMs} ms each)`,
      { op: 'resync', timeoutMs: this.timeoutMs },
      { cause: last },
    );
  }

  private applyFeatures(enabled: bigint, offered: bigint): void {
    const on = (enabled & Feature.DisableDataCsums) === 0n;
    this.checksumsOn = on;
    this.parser.dataChecksums = on;
    if ((enabled & ~offered) !== 0n) {
      this.needsResync = true;
      throw protocolError(`the device enabled features ${hex(enabled)}; offered ${hex(offered)}`, {
        offered,
        enabled,
      });
    }
  }

  private async memReadLocked(addr: bigint, size: number): Promise<Uint8Array> {
    const frame = encodeRequest({ kind: 'memread', addr, size: BigInt(size) });
    const { reply, data } = await this.request([frame], FrameType.MemRead, 'REQ_MEMREAD', {
      dataSize: size,
    });
    if (reply.kind !== 'memread') throw this.mismatch('REQ_MEMREAD', FrameType.MemRead, reply);
    if (reply.status !== ReplyStatus.Ok) {
      // m1n1 counts the fault: read the counter so the next checked access does not see it.
      const exceptions =
        reply.status === ReplyStatus.XfrErr && this.checkExceptions
          ? await this.excCountLocked()
          : undefined;
      throw this.statusError('REQ_MEMREAD', reply.status, {
        addr,
        size,
        ...(exceptions === undefined ? {} : { exceptions }),
      });
    }
    if (data === undefined || !data.valid) {
      this.needsResync = true;
      throw new RtkitError(
        ErrorCode.PROXY_DATA,
        `REQ_MEMREAD of ${size} bytes at ${hex(addr)}: ${data?.reason === 'sentinel' ? 'the sentinel after the data is wrong' : `data checksum ${hex(data?.checksum ?? 0)} differs from ${hex(reply.dataChecksum)}`}`,
        { op: 'REQ_MEMREAD', addr, size, reason: data?.reason ?? 'data-checksum' },
      );
    }
    return data.data;
  }

  private async memWriteLocked(addr: bigint, data: Uint8Array): Promise<void> {
    const checksums = this.checksumsOn;
    const dataChecksum = dataChecksumField(data, checksums);
    const head = encodeRequest({ kind: 'memwrite', addr, size: BigInt(data.length), dataChecksum });
    const frames = checksums ? [head, data] : [head, data, SENTINEL];
    const { reply } = await this.request(frames, FrameType.MemWrite, 'REQ_MEMWRITE', {
      rearmAfterWrite: true,
    });
    if (reply.kind !== 'memwrite') throw this.mismatch('REQ_MEMWRITE', FrameType.MemWrite, reply);
    if (reply.status !== ReplyStatus.Ok) {
      // §3.2: the device may not have consumed the data and scans it for frames. Resync now so
      // whatever it makes of them is discarded before anything else is sent.
      this.needsResync = true;
      await this.resyncLocked();
      const exceptions =
        reply.status === ReplyStatus.XfrErr && this.checkExceptions
          ? await this.excCountLocked()
          : undefined;
      const error = this.statusError('REQ_MEMWRITE', reply.status, {
        addr,
        size: data.length,
        ...(exceptions === undefined ? {} : { exceptions }),
      });
      // Resynchronised already: the next operation need not do it again.
      this.needsResync = false;
      throw error;
    }
    if (checksums && reply.dataChecksum !== dataChecksum) {
      this.needsResync = true;
      throw new RtkitError(
        ErrorCode.PROXY_DATA,
        `REQ_MEMWRITE of ${data.length} bytes at ${hex(addr)}: the device computed data checksum ${hex(reply.dataChecksum)}, we sent ${hex(dataChecksum)}`,
        { op: 'REQ_MEMWRITE', addr, size: data.length, reason: 'data-checksum' },
      );
    }
  }

  private async makeHeap(): Promise<ProxyHeap> {
    let base = this.opts.heapBase;
    if (base === undefined) {
      const r = await this.tryProxy(ProxyOp.HEAPBLOCK_ALLOC, 0);
      let top: bigint;
      if (r.status === ProxyStatus.Ok) top = r.retval;
      else if (r.status === ProxyStatus.BadCmd) {
        // Old m1n1 without heapblock: the tooling places the heap after the kernel data.
        const m1n1Base = await this.getBase();
        const ba = await this.readBootArgs();
        top = m1n1Base + ((ba.topOfKernelData + 0xffffn) & ~0xffffn) - ba.physBase;
      } else throw this.innerStatusError(ProxyOp.HEAPBLOCK_ALLOC, r.status);
      base = top + HEAP_GAP;
    }
    if (base <= 0n || base + HEAP_SIZE > U64_LIMIT) {
      throw protocolError(`host heap base ${hex(base)} is outside the address space`, { base });
    }
    return new ProxyHeap(base, HEAP_SIZE);
  }

  private async pmgrAdt(op: number, path: string): Promise<void> {
    const name = proxyOpName(op);
    if (typeof path !== 'string' || !path.startsWith('/') || path.includes('\0')) {
      throw new RtkitError(ErrorCode.BAD_INPUT, `${name}: ${JSON.stringify(path)} is no ADT path`, {
        path,
      });
    }
    const bytes = new TextEncoder().encode(`${path}\0`);
    if (bytes.length > MAX_ADT_PATH) {
      throw new RtkitError(
        ErrorCode.BAD_INPUT,
        `${name}: path is ${bytes.length} bytes long with its NUL (at most ${MAX_ADT_PATH})`,
        { path },
      );
    }
    const heap = await this.heap();
    const ptr = heap.alloc(bytes.length);
    let ret: bigint;
    try {
      await this.memWrite(ptr, bytes);
      ret = await this.proxy(op, ptr);
    } finally {
      heap.free(ptr);
    }
    if (ret !== 0n) {
      const retval = BigInt.asIntN(64, ret);
      throw new RtkitError(ErrorCode.PROXY_STATUS, `${name}(${path}) returned ${retval}`, {
        op: name,
        path,
        retval,
      });
    }
  }

  private smallNumber(op: number, v: bigint): number {
    if (v > MASK32) {
      throw protocolError(`${proxyOpName(op)} answered ${hex(v)}`, { op, value: v });
    }
    return Number(v);
  }

  private mismatch(op: string, expected: number, reply: M1n1Reply): RtkitError {
    this.needsResync = true;
    return protocolError(`${op} got a ${frameTypeName(replyType(reply))} reply`, {
      op,
      expected: frameTypeName(expected),
      got: frameTypeName(replyType(reply)),
    });
  }

  private statusError(op: string, status: number, details: Record<string, unknown>): RtkitError {
    const statusName = replyStatusName(status);
    if (status === ReplyStatus.CsumErr) {
      // The device dropped our request whole; the link that corrupted it may have done more.
      this.needsResync = true;
      return new RtkitError(
        ErrorCode.PROXY_CHECKSUM,
        `the device received ${op} with a bad checksum (CSUMERR)`,
        { op, status, statusName, side: 'device', ...details },
      );
    }
    return new RtkitError(ErrorCode.PROXY_STATUS, `${op} failed: ${statusName}`, {
      op,
      status,
      statusName,
      ...details,
    });
  }

  // -------------------------------------------------------------------------------------------
  // The queue: one operation (possibly several round trips) at a time, in call order

  private unit<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const run = (): void => {
        let p: Promise<T>;
        try {
          p = task();
        } catch (e) {
          p = Promise.reject(e);
        }
        p.then(
          (v) => {
            this.next();
            resolve(v);
          },
          (e: unknown) => {
            this.next();
            reject(e);
          },
        );
      };
      if (this.busy) this.queue.push(run);
      else {
        this.busy = true;
        run();
      }
    });
  }

  private next(): void {
    const run = this.queue.shift();
    if (run) run();
    else this.busy = false;
  }

  /** Resync first if the stream is in doubt, then one exchange. */
  private request(
    frames: Uint8Array[],
    expect: number,
    op: string,
    o: ExchangeOptions,
    timeoutMs?: number,
  ): Promise<Exchange> {
    if (this.needsResync && this.closeReason === undefined) {
      return this.resyncLocked().then(() => this.exchange(frames, expect, op, o, timeoutMs));
    }
    return this.exchange(frames, expect, op, o, timeoutMs);
  }

  private exchange(
    frames: Uint8Array[],
    expect: number,
    op: string,
    o: ExchangeOptions,
    timeoutMs = o.timeoutMs ?? this.timeoutMs,
  ): Promise<Exchange> {
    if (this.closeReason !== undefined) return Promise.reject(this.closedError());
    return new Promise<Exchange>((resolve, reject) => {
      const w: Waiter = {
        op,
        expect,
        resync: o.resync ?? false,
        dataSize: o.dataSize ?? 0,
        timeoutMs,
        deadline: this.clock.now() + timeoutMs,
        phase: 'reply',
        reply: undefined,
        resolve,
        reject,
      };
      this.waiter = w;
      this.arm(w.deadline);
      this.stats.requests++;
      let written: Promise<unknown> =
        frames.length === 1
          ? this.link.write(frames[0]!)
          : Promise.all(frames.map((f) => this.link.write(f)));
      if (o.afterWrite !== undefined || o.rearmAfterWrite) {
        written = written.then(async () => {
          if (o.afterWrite) await o.afterWrite();
          if (o.rearmAfterWrite && this.waiter === w && w.phase === 'reply') {
            w.deadline = this.clock.now() + timeoutMs;
            this.arm(w.deadline);
          }
        });
      }
      written.then(undefined, (e: unknown) => {
        if (this.waiter !== w) return;
        this.fail(
          w,
          isRtkitError(e)
            ? e
            : new RtkitError(
                ErrorCode.TRANSPORT_CLOSED,
                `writing to ${this.link.description} failed`,
                { op, link: this.link.description },
                { cause: e },
              ),
        );
      });
    });
  }

  private fail(w: Waiter, e: unknown): void {
    if (this.waiter === w) this.waiter = undefined;
    w.reject(e);
  }

  private complete(w: Waiter, r: Exchange): void {
    if (this.waiter === w) this.waiter = undefined;
    w.resolve(r);
  }

  // -------------------------------------------------------------------------------------------
  // Timeouts: one timer, re-armed lazily (never one per request)

  private arm(deadline: number): void {
    if (this.timer !== undefined) {
      if (this.timerAt <= deadline) return;
      this.clock.clearTimer(this.timer);
    }
    this.timerAt = deadline;
    this.timer = this.clock.setTimer(deadline - this.clock.now(), () => this.onTimer());
  }

  private onTimer(): void {
    this.timer = undefined;
    const w = this.waiter;
    if (w === undefined) return;
    if (this.clock.now() < w.deadline) {
      this.arm(w.deadline);
      return;
    }
    this.waiter = undefined;
    this.stats.timeouts++;
    this.needsResync = true;
    if (w.phase === 'reply' && w.expect === FrameType.MemRead && !w.resync) {
      this.staleMemRead = { size: w.dataSize, checksums: this.checksumsOn };
    }
    // Give up on what the parser holds (§7): bulk data that may never complete, or a candidate
    // frame (say a bogus event header announcing kilobytes) that would swallow the resync reply.
    for (const item of this.parser.flush()) this.handle(item);
    w.reject(
      new RtkitError(
        ErrorCode.TRANSPORT_TIMEOUT,
        `no ${w.phase === 'data' ? 'bulk data' : 'reply'} to ${w.op} within ${w.timeoutMs} ms on ${this.link.description}`,
        { op: w.op, timeoutMs: w.timeoutMs, phase: w.phase, link: this.link.description },
      ),
    );
  }

  private shutdown(message: string, cause: unknown): void {
    if (this.closeReason !== undefined) return;
    this.closeReason = { message, details: { link: this.link.description }, cause };
    if (this.timer !== undefined) {
      this.clock.clearTimer(this.timer);
      this.timer = undefined;
    }
    const w = this.waiter;
    if (w !== undefined) this.fail(w, this.closedError());
  }

  private closedError(): RtkitError {
    const r = this.closeReason!;
    return new RtkitError(
      ErrorCode.TRANSPORT_CLOSED,
      r.message,
      { ...r.details },
      {
        cause: r.cause,
      },
    );
  }

  // -------------------------------------------------------------------------------------------
  // Receiving

  private receive(chunk: Uint8Array): void {
    this.parser.feed(chunk);
    const w = this.waiter;
    if (w !== undefined && w.phase === 'data') w.deadline = this.clock.now() + w.timeoutMs;
    for (let item = this.parser.next(); item !== undefined; item = this.parser.next()) {
      this.handle(item);
    }
  }

  private handle(item: ReplyItem): void {
    const w = this.waiter;
    switch (item.kind) {
      case 'console': {
        const fn = this.opts.onConsole;
        if (fn) safely(() => fn(item.bytes));
        return;
      }
      case 'event': {
        const fn = this.opts.onEvent;
        if (fn) safely(() => fn(item.event));
        return;
      }
      case 'discarded': {
        this.stats.discarded++;
        const fn = this.opts.onDiscarded;
        if (fn) safely(() => fn(item));
        // A reply we wait for may be the frame that failed its checksum; events are not replies.
        if (
          w !== undefined &&
          !w.resync &&
          w.phase === 'reply' &&
          item.reason === 'checksum' &&
          item.bytes[3] !== FrameType.Event
        ) {
          this.needsResync = true;
          this.fail(
            w,
            new RtkitError(
              ErrorCode.PROXY_CHECKSUM,
              `a frame failed its checksum while waiting for the reply to ${w.op}: ${item.detail}`,
              { op: w.op, side: 'host', detail: item.detail },
            ),
          );
        }
        return;
      }
      case 'data':
        if (w !== undefined && w.phase === 'data' && w.reply !== undefined) {
          this.complete(w, { reply: w.reply, data: item });
        } else this.stale({ kind: 'data', data: item });
        return;
      case 'reply':
        this.onReply(item.reply, item.bytes, w);
        return;
    }
  }

  private onReply(r: M1n1Reply, bytes: Uint8Array, w: Waiter | undefined): void {
    if (r.kind === 'boot' && r.status === ReplyStatus.Ok) {
      const fn = this.opts.onBoot;
      if (fn) safely(() => fn(r));
      return;
    }
    if (w === undefined || w.phase !== 'reply') {
      this.stale({ kind: 'reply', reply: r, bytes });
      return;
    }
    if (w.resync) {
      if (r.kind === 'nop' && r.status === ReplyStatus.Ok) this.complete(w, { reply: r });
      else this.stale({ kind: 'reply', reply: r, bytes });
      return;
    }
    const type = replyType(r);
    if (type !== w.expect) {
      if (r.kind === 'nop' && this.staleNops > 0) {
        this.staleNops--;
        this.stale({ kind: 'reply', reply: r, bytes });
        return;
      }
      this.needsResync = true;
      this.fail(
        w,
        protocolError(`${w.op} got a ${frameTypeName(type)} reply`, {
          op: w.op,
          expected: frameTypeName(w.expect),
          got: frameTypeName(type),
          status: r.status,
        }),
      );
      return;
    }
    if (r.kind === 'memread' && r.status === ReplyStatus.Ok && w.dataSize > 0) {
      w.reply = r;
      w.phase = 'data';
      w.deadline = this.clock.now() + w.timeoutMs;
      this.parser.readData(w.dataSize, { checksums: this.checksumsOn, expected: r.dataChecksum });
      return;
    }
    this.complete(w, { reply: r });
  }

  private stale(item: StaleItem): void {
    this.stats.discarded++;
    if (
      item.kind === 'reply' &&
      item.reply.kind === 'memread' &&
      item.reply.status === ReplyStatus.Ok &&
      this.staleMemRead !== undefined
    ) {
      // The late reply of a timed-out REQ_MEMREAD: its data follows and must not be parsed.
      const { size, checksums } = this.staleMemRead;
      this.staleMemRead = undefined;
      this.parser.readData(size, { checksums, expected: item.reply.dataChecksum });
    }
    const fn = this.opts.onStale;
    if (fn) safely(() => fn(item));
  }
}
