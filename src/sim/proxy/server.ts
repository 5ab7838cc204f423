/**
 * The device side of the m1n1 proxy (M1N1-PROXY.md §2–§11): what m1n1's `uartproxy.c` and
 * `proxy.c` do on a real Mac, served over any `ByteLink` for a `SimulatedMac`. Our client and
 * m1n1's own Python tooling drive the simulated co-processors through it exactly as they would a
 * real machine (docs/m1n1-server.md).
 *
 *   ByteLink ──> RequestParser ('skip' after a bad frame, as m1n1) ──> request / data items
 *      ^                                                                  │
 *      └──── replies, bulk data, console text (exception reports) <── ProxyServer
 *                                                                         │
 *                      SimulatedMac.memory (RAM, SRAM, ASC registers) ────┤
 *                      SimSoc.clock: moved before each request (time) ────┘
 *
 * Everything the host sends is untrusted: addresses, sizes and opcodes are validated, faults
 * become m1n1's guarded-exception behaviour (§6), sizes beyond the limit are refused rather than
 * allocated, and nothing a host sends makes the server throw or hang.
 */

import { type Clock, systemClock } from '../../clock.js';
import { encodeMemReadReply } from '../../m1n1/bulk.js';
import { DATA_CHECKSUM_DISABLED, m1n1Checksum } from '../../m1n1/checksum.js';
import {
  encodeReply,
  encodeStatusReply,
  FrameType,
  type M1n1Request,
  ProxyStatus,
  ReplyStatus,
} from '../../m1n1/frames.js';
import type { ByteLink } from '../../m1n1/link.js';
import {
  type AccessWidth,
  CPU_FEATURES_SIZE,
  FAULT_MARKER,
  faultMarker,
  Iodev,
  MAX_ADT_PATH,
  memAccessOp,
  memOpResult,
  memsetWidth,
  ProxyOp,
  proxyOpName,
} from '../../m1n1/opcodes.js';
import { type DataItem, type RequestItem, RequestParser } from '../../m1n1/parser.js';
import type { MemoryFault } from './memory-map.js';
import type { SimulatedMac } from './simulated-mac.js';

export interface ProxyServerOptions {
  /**
   * The iodev m1n1 serves us on. `usb` (default): IODEV_WHOAMI answers 4 (USB0), so the tooling
   * skips the baud switch. `uart`: WHOAMI answers 0 and SET_BAUD is implemented as §7.
   */
  readonly iodev?: 'usb' | 'uart';
  /**
   * `on`: refuse REQ_NOP feature bit 0, data checksums stay on (m1n1 on a UART). `off`: accept it
   * (m1n1 on USB). Default: `off` for usb, `on` for uart.
   */
  readonly dataChecksums?: 'on' | 'off';
  /** Send a REQ_BOOT (reason BOOT) when a link attaches. Default: true for uart, false for usb. */
  readonly bootNotification?: boolean;
  /** Console text sent when a link attaches (before the REQ_BOOT frame). */
  readonly consoleBanner?: string;
  /** Diagnostics: attaches, bad frames, exceptions, internal errors. */
  readonly log?: (line: string) => void;
  /**
   * How the SoC's virtual clock moves, so the firmware model runs between requests:
   *  - `wall` (default): before each request virtual time catches up with the real time since the
   *    link attached; co-processors run at real speed, as on a Mac (for real links and clients).
   *  - `{ stepMs }`: each request advances virtual time by `stepMs`: deterministic (tests).
   *  - `manual`: the server never moves the clock; the caller does (`clock.advance`, …).
   * UDELAY advances the clock in every mode.
   */
  readonly time?: 'wall' | 'manual' | { readonly stepMs: number };
  /** Real time for `time: 'wall'` (default: `systemClock`). */
  readonly wallClock?: Clock;
}

export interface ProxyServerStats {
  /** Valid request frames handled (any type, unknown ones included). */
  requests: number;
  /** Request frames answered with CSUMERR. */
  badChecksums: number;
  /** Guarded faults (each counted in m1n1's exc_count too). */
  exceptions: number;
}

/** Longest busy-wait UDELAY is allowed to simulate, in µs (m1n1 would spin for any value). */
const MAX_UDELAY_US = 10_000_000n;
/** Most SET_BAUD pattern repetitions written (m1n1 writes `count` of them, whatever it is). */
const MAX_BAUD_PATTERN = 4096n;
const U64 = (1n << 64n) - 1n;
/** What m1n1's `int` −1 becomes in the u64 retval. */
const RET_ERROR = U64;

/** Guard modes of §6, as the exception report names them. */
type Guard = 'SKIP' | 'MARK' | 'RETURN';

/** One attached link and its parser state. */
interface Session {
  readonly link: ByteLink;
  readonly parser: RequestParser;
  /** Data checksums disabled by the last REQ_NOP (both directions, §5). */
  checksumsOff: boolean;
  /** A REQ_MEMWRITE whose data is being read. */
  pending: PendingWrite | undefined;
  /** An asynchronous step (SET_BAUD) runs: new bytes are buffered, not parsed. */
  busy: boolean;
  detached: boolean;
  readonly wall0: number;
  readonly virt0: number;
}

interface PendingWrite {
  readonly addr: bigint;
  readonly expected: number;
  /** `on`: compare checksums; `off`: sentinel; `off-field`: checksums off but a real checksum sent. */
  readonly mode: 'on' | 'off' | 'off-field';
}

function hex(v: bigint | number): string {
  return `0x${v.toString(16)}`;
}

const TEXT = new TextEncoder();

export class ProxyServer {
  readonly stats: ProxyServerStats = { requests: 0, badChecksums: 0, exceptions: 0 };
  private readonly mac: SimulatedMac;
  private readonly iodev: 'usb' | 'uart';
  private readonly refuseChecksumsOff: boolean;
  private readonly bootNotification: boolean;
  private readonly banner: string | undefined;
  private readonly log: (line: string) => void;
  private readonly time: 'wall' | 'manual' | { readonly stepMs: number };
  private readonly wall: Clock;
  private session: Session | undefined;
  /** m1n1's exc_count: guarded faults since the last GET_EXC_COUNT / SET_EXC_GUARD / bulk op. */
  private excCount = 0;
  /** m1n1's exc_guard as set by SET_EXC_GUARD (memory ops use their own, §6). */
  private guardMode = 0n;

  constructor(mac: SimulatedMac, opts: ProxyServerOptions = {}) {
    this.mac = mac;
    this.iodev = opts.iodev ?? 'usb';
    const checksums = opts.dataChecksums ?? (this.iodev === 'uart' ? 'on' : 'off');
    this.refuseChecksumsOff = checksums === 'on';
    this.bootNotification = opts.bootNotification ?? this.iodev === 'uart';
    this.banner = opts.consoleBanner;
    this.log = opts.log ?? (() => {});
    const time = opts.time ?? 'wall';
    if (typeof time === 'object' && !(Number.isFinite(time.stepMs) && time.stepMs >= 0)) {
      throw new RangeError(`ProxyServer: time.stepMs must be a finite number ≥ 0`);
    }
    this.time = time;
    this.wall = opts.wallClock ?? systemClock;
  }

  /** Whether a link is being served. */
  get attached(): boolean {
    return this.session !== undefined;
  }

  /** m1n1's exception counter as GET_EXC_COUNT would return it now. */
  get exceptionCount(): number {
    return this.excCount;
  }

  /** The mode last set by SET_EXC_GUARD (memory ops use their own guard, §6). */
  get exceptionGuard(): bigint {
    return this.guardMode;
  }

  /** Whether the current link negotiated DISABLE_DATA_CSUMS. */
  get dataChecksumsDisabled(): boolean {
    return this.session?.checksumsOff ?? false;
  }

  /**
   * Serve `link` until it closes; returns a function that stops serving it (without closing
   * it). One link at a time: attaching another closes the previous one, as if its host had
   * been unplugged, so its client sees a hang-up rather than silence.
   */
  attach(link: ByteLink): () => void {
    const old = this.session;
    if (old) {
      this.stop(old, `replaced by ${link.description}`);
      void old.link.close().catch(() => {});
    }
    const s: Session = {
      link,
      // m1n1 reads 60 bytes after every prefix and answers CSUMERR once: a bad frame is skipped
      // whole (uartproxy.c), never rescanned.
      parser: new RequestParser({ afterBadFrame: 'skip' }),
      checksumsOff: false,
      pending: undefined,
      busy: false,
      detached: false,
      wall0: this.wall.now(),
      virt0: this.mac.soc.clock.now(),
    };
    this.session = s;
    this.log(`proxy: serving ${link.description} (${this.iodev})`);
    link.onClose((error) => {
      if (!s.detached) {
        this.log(`proxy: ${link.description} closed${error ? `: ${error.message}` : ''}`);
        this.stop(s, 'link closed');
      }
    });
    link.onData((chunk) => {
      if (s.detached) return;
      s.parser.feed(chunk);
      this.pump(s);
    });
    if (this.banner !== undefined) this.send(s, TEXT.encode(this.banner));
    if (this.bootNotification) {
      this.send(
        s,
        encodeReply({ kind: 'boot', status: 0, reason: 0, code: 0, info: 0n, reserved: 0n }),
      );
    }
    return () => this.stop(s, 'detached');
  }

  private stop(s: Session, why: string): void {
    if (s.detached) return;
    s.detached = true;
    if (this.session === s) this.session = undefined;
    if (!s.link.closed) s.link.onData(() => {});
    this.log(`proxy: stopped serving ${s.link.description} (${why})`);
  }

  /** Handle every complete item; an asynchronous step (SET_BAUD) pauses parsing until it ends. */
  private pump(s: Session): void {
    while (!s.busy && !s.detached) {
      const item = s.parser.next();
      if (item === undefined) return;
      let step: Promise<void> | undefined;
      try {
        step = this.handle(s, item);
      } catch (e) {
        this.internalError(s, item, e);
      }
      if (step) {
        s.busy = true;
        step
          .catch((e: unknown) => this.log(`proxy: ${e instanceof Error ? e.message : String(e)}`))
          .finally(() => {
            s.busy = false;
            this.pump(s);
          });
      }
    }
  }

  /**
   * A bug of ours must not leave the host waiting for a reply until its timeout: answer INVAL
   * (a status m1n1 never uses, so it cannot be mistaken for a real outcome) and log it.
   */
  private internalError(s: Session, item: RequestItem | DataItem, e: unknown): void {
    this.log(`proxy: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    const type =
      item.kind === 'request' ? item.bytes[3]! : item.kind === 'data' ? FrameType.MemWrite : -1;
    if (item.kind === 'data') s.pending = undefined;
    if (type >= 0) this.send(s, encodeStatusReply(type, ReplyStatus.Inval));
  }

  private handle(s: Session, item: RequestItem | DataItem): Promise<void> | undefined {
    switch (item.kind) {
      case 'request':
        this.stats.requests++;
        this.tick();
        return this.request(s, item.request);
      case 'data':
        this.finishWrite(s, item);
        return undefined;
      case 'discarded':
        if (item.reason === 'checksum') {
          this.stats.badChecksums++;
          this.log(`proxy: ${item.detail}`);
          this.send(s, encodeStatusReply(item.bytes[3]!, ReplyStatus.CsumErr));
        }
        return undefined;
      default:
        // Bytes between frames: m1n1 ignores them (it only looks for the prefix).
        return undefined;
    }
  }

  /** Let the firmware model run up to the time of this request. */
  private tick(): void {
    const clock = this.mac.soc.clock;
    const s = this.session;
    try {
      if (this.time === 'manual') return;
      if (typeof this.time === 'object') {
        clock.advance(this.time.stepMs);
        return;
      }
      if (s === undefined) return;
      const target = s.virt0 + (this.wall.now() - s.wall0);
      if (target > clock.now()) clock.advance(target - clock.now());
    } catch (e) {
      // A firmware timer threw: the model records its own errors, this is a last resort.
      this.log(`proxy: simulator timer failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private request(s: Session, req: M1n1Request): Promise<void> | undefined {
    switch (req.kind) {
      case 'nop': {
        let enabled = req.features & 1n;
        if (this.refuseChecksumsOff) enabled = 0n;
        s.checksumsOff = enabled !== 0n;
        this.send(s, encodeReply({ kind: 'nop', status: ReplyStatus.Ok, features: enabled }));
        return undefined;
      }
      case 'proxy':
        return this.proxy(s, req.opcode, req.args);
      case 'memread':
        this.memRead(s, req.addr, req.size);
        return undefined;
      case 'memwrite':
        this.memWrite(s, req.addr, req.size, req.dataChecksum);
        return undefined;
      default:
        this.send(s, encodeStatusReply(req.type, ReplyStatus.BadCmd));
        return undefined;
    }
  }

  // ------------------------------------------------------------------------------ bulk transfers

  private memRead(s: Session, addr: bigint, size: bigint): void {
    if (size === 0n) {
      // m1n1 skips everything for size 0, the sentinel excepted (§3.1).
      this.send(s, encodeMemReadReply(new Uint8Array(0), !s.checksumsOff));
      return;
    }
    this.excCount = 0;
    const r = this.mac.memory.readBytes(addr, size);
    if (!r.ok) {
      this.fault(s, r.fault, 'REQ_MEMREAD', 'RETURN');
      this.send(s, encodeReply({ kind: 'memread', status: ReplyStatus.XfrErr, dataChecksum: 0 }));
      return;
    }
    // Reply, data and sentinel in one write: nothing may come between them (§3.1).
    this.send(s, encodeMemReadReply(r.value, !s.checksumsOff));
  }

  private memWrite(s: Session, addr: bigint, size: bigint, dataChecksum: number): void {
    this.excCount = 0;
    if (size > 0n) {
      if (size > BigInt(this.mac.memory.maxBulk)) {
        this.fault(
          s,
          {
            addr,
            bytes: 1,
            write: true,
            reason: `transfer of ${size} bytes exceeds the simulator's limit`,
          },
          'REQ_MEMWRITE',
          'SKIP',
        );
      } else {
        // m1n1 probes the first and the last byte by storing 0 there under the SKIP guard.
        for (const at of [addr, addr + size - 1n]) {
          const f = this.mac.memory.write(at, 8, 0n);
          if (f) this.fault(s, f, 'REQ_MEMWRITE', 'SKIP');
        }
      }
    }
    if (this.excCount > 0) {
      // The data is not consumed: it is scanned for frames next (§3.2's sharp edge).
      this.send(s, encodeReply({ kind: 'memwrite', status: ReplyStatus.XfrErr, dataChecksum: 0 }));
      return;
    }
    let mode: PendingWrite['mode'] = 'on';
    if (s.checksumsOff) mode = dataChecksum === DATA_CHECKSUM_DISABLED ? 'off' : 'off-field';
    s.pending = { addr, expected: dataChecksum, mode };
    // With checksums off m1n1 compares the field first and reads the sentinel only if it is
    // 0xD0DECADE: otherwise the sentinel stays in the stream, like the data after a probe fault.
    s.parser.readData(Number(size), { checksums: mode !== 'off', expected: dataChecksum });
  }

  private finishWrite(s: Session, item: DataItem): void {
    const p = s.pending;
    s.pending = undefined;
    if (p === undefined) return;
    // m1n1 reads the data straight into the target, so it lands even when the check then fails.
    const f = this.mac.memory.writeBytes(p.addr, item.data);
    let status: number = ReplyStatus.Ok;
    if (f) {
      this.fault(s, f, 'REQ_MEMWRITE', 'SKIP');
      status = ReplyStatus.XfrErr;
    }
    let dataChecksum: number;
    if (p.mode === 'on') {
      // Read with checksums on, so the parser has computed it; size 0 is compared too (m1n1
      // checks the checksum of nothing, 0x73736542).
      dataChecksum = item.checksum ?? m1n1Checksum(item.data);
      if (dataChecksum !== p.expected >>> 0) status = ReplyStatus.XfrErr;
    } else {
      dataChecksum = DATA_CHECKSUM_DISABLED;
      if (p.mode === 'off-field' || !item.valid) status = ReplyStatus.XfrErr;
    }
    this.send(s, encodeReply({ kind: 'memwrite', status, dataChecksum }));
  }

  // ------------------------------------------------------------------------------ REQ_PROXY

  private proxy(
    s: Session,
    opcode: bigint,
    args: readonly [bigint, bigint, bigint, bigint, bigint, bigint],
  ): Promise<void> | undefined {
    // Runs for every register access of a polling host: nothing here is computed before it is
    // needed (the op's name only for a fault or a log line).
    const reply = (retval: bigint, status: bigint = ProxyStatus.Ok): undefined => {
      this.replyProxy(s, opcode, retval, status);
      return undefined;
    };
    const [a0, a1, a2] = args;
    const op = opcode <= 0xffffn ? Number(opcode) : -1;
    const mem = this.mac.memory;
    const layout = this.mac.layout;

    const access = memAccessOp(op);
    if (access !== undefined) {
      const { kind, width } = access;
      if (kind === 'write') {
        const f = mem.write(a0, width, a1);
        if (f) this.fault(s, f, opcode, 'SKIP');
        return reply(0n);
      }
      const old = this.load(s, a0, width, opcode);
      if (kind === 'read') return reply(old);
      const value = memOpResult(kind, old, a1, a2, width);
      const f = mem.write(a0, width, value);
      if (f) this.fault(s, f, opcode, 'MARK');
      return reply(value);
    }
    const fillWidth = memsetWidth(op);
    if (fillWidth !== undefined) {
      const f = mem.fill(a0, fillWidth, a1, a2);
      if (f) this.fault(s, f, opcode, 'RETURN');
      return reply(0n);
    }
    if (op >= ProxyOp.IC_IALLUIS && op <= ProxyOp.DC_CIVAC) {
      // Cache maintenance: the simulated memory is coherent.
      return reply(0n);
    }
    switch (op) {
      case ProxyOp.NOP:
        return reply(0n);
      case ProxyOp.EXIT:
        reply(0n);
        // m1n1 leaves its proxy loop; on USB the device goes away.
        this.leave(s, 'EXIT');
        return undefined;
      case ProxyOp.REBOOT:
      case ProxyOp.SLEEP:
        // No reply (§8); the machine is gone for this host.
        this.leave(s, proxyOpName(opcode));
        return undefined;
      case ProxyOp.GET_BOOTARGS:
        return reply(layout.bootArgs);
      case ProxyOp.GET_BASE:
        return reply(layout.m1n1Base);
      case ProxyOp.GET_CHIPID:
        return reply(BigInt(this.mac.chipId));
      case ProxyOp.GET_CPU_FEATURES:
        return reply(a0 === BigInt(CPU_FEATURES_SIZE) ? layout.cpuFeatures : 0n);
      case ProxyOp.SET_BAUD:
        return this.setBaud(s, opcode, a0, a1, a2);
      case ProxyOp.UDELAY: {
        // The AP busy-waits: the co-processors run meanwhile. The reply is not delayed.
        const us = a0 < MAX_UDELAY_US ? a0 : MAX_UDELAY_US;
        this.advance(Number(us) / 1000);
        return reply(0n);
      }
      case ProxyOp.SET_EXC_GUARD:
        this.excCount = 0;
        this.guardMode = a0;
        return reply(0n);
      case ProxyOp.GET_EXC_COUNT: {
        const n = this.excCount;
        this.excCount = 0;
        return reply(BigInt(n));
      }
      case ProxyOp.HEAPBLOCK_ALLOC:
        return reply(this.mac.heapAlloc(a0));
      case ProxyOp.PMGR_POWER_ENABLE:
      case ProxyOp.PMGR_POWER_DISABLE:
        // Power domains are not modelled: every co-processor is powered.
        return reply(0n);
      case ProxyOp.PMGR_ADT_POWER_ENABLE:
      case ProxyOp.PMGR_ADT_POWER_DISABLE:
        return reply(this.adtPower(s, a0, opcode));
      case ProxyOp.IODEV_WHOAMI:
        return reply(BigInt(this.iodev === 'uart' ? Iodev.Uart : Iodev.Usb0));
      default:
        return reply(0n, ProxyStatus.BadCmd);
    }
  }

  private replyProxy(s: Session, opcode: bigint, retval: bigint, status: bigint): void {
    this.send(
      s,
      encodeReply({
        kind: 'proxy',
        status: ReplyStatus.Ok,
        opcode,
        proxyStatus: status,
        retval: BigInt.asUintN(64, retval),
      }),
    );
  }

  /** A guarded load (MARK): the fault marker truncated to the width on a fault (§6). */
  private load(s: Session, addr: bigint, width: AccessWidth, op: bigint): bigint {
    const r = this.mac.memory.read(addr, width);
    if (r.ok) return r.value;
    this.fault(s, r.fault, op, 'MARK');
    return faultMarker(width);
  }

  /**
   * PMGR_ADT_POWER_ENABLE/DISABLE: m1n1 reads the path, finds the node and its `clock-gates`;
   * either missing is −1 with a console line (pmgr.c). Power itself is not modelled.
   */
  private adtPower(s: Session, ptr: bigint, op: bigint): bigint {
    const bytes: number[] = [];
    for (let i = 0; i < MAX_ADT_PATH; i++) {
      const r = this.mac.memory.read(ptr + BigInt(i), 8);
      if (!r.ok) {
        this.fault(s, r.fault, op, 'MARK');
        return RET_ERROR;
      }
      if (r.value === 0n) break;
      bytes.push(Number(r.value));
    }
    if (bytes.length === MAX_ADT_PATH) {
      this.console(s, `pmgr: path at ${hex(ptr)} is not NUL-terminated\n`);
      return RET_ERROR;
    }
    const path = String.fromCharCode(...bytes);
    const node = this.mac.adt.find(path);
    if (node === undefined) {
      this.console(s, `pmgr: Error getting node ${printable(path)}\n`);
      return RET_ERROR;
    }
    const gates = node.properties.find((p) => p.name === 'clock-gates');
    if (gates === undefined || gates.value.length === 0) {
      this.console(s, `pmgr: Error getting ${printable(path)} clock-gates.\n`);
      return RET_ERROR;
    }
    return 0n;
  }

  /** SET_BAUD (§7): on a UART, announce, switch, send the pattern at the new rate, then reply. */
  private async setBaud(
    s: Session,
    opcode: bigint,
    baud: bigint,
    count: bigint,
    pattern: bigint,
  ): Promise<void> {
    const replyBytes = encodeReply({
      kind: 'proxy',
      status: ReplyStatus.Ok,
      opcode,
      proxyStatus: ProxyStatus.Ok,
      retval: 0n,
    });
    if (this.iodev !== 'uart') {
      // m1n1 switches its hardware UART, a different device from the USB link we are.
      this.send(s, replyBytes);
      return;
    }
    await s.link.write(TEXT.encode(`Changing baud rate to ${baud}...\n`));
    if (baud > 0n && baud <= 0xffff_ffffn) await s.link.setBaudRate(Number(baud));
    else this.log(`proxy: SET_BAUD ${baud} is not a baud rate; the line rate is unchanged`);
    // m1n1 takes the count as an int: negative counts write nothing here (a hang on m1n1).
    const n = count > MAX_BAUD_PATTERN ? MAX_BAUD_PATTERN : count < 0n ? 0n : count;
    const out = new Uint8Array(Number(n) * 4 + replyBytes.length);
    const v = new DataView(out.buffer);
    for (let i = 0; i < Number(n); i++) v.setUint32(4 * i, Number(pattern & 0xffff_ffffn), true);
    out.set(replyBytes, Number(n) * 4);
    if (!s.detached) await s.link.write(out);
  }

  // ------------------------------------------------------------------------------ helpers

  /** A guarded fault: count it, print m1n1's exception report (console text), carry on. */
  private fault(s: Session, f: MemoryFault, op: string | bigint, guard: Guard): void {
    this.excCount++;
    this.stats.exceptions++;
    const access = `${f.bytes}-byte ${f.write ? 'write' : 'read'}`;
    const effect =
      guard === 'SKIP'
        ? 'store skipped'
        : guard === 'MARK'
          ? `load skipped, value ${hex(FAULT_MARKER)}`
          : 'operation aborted';
    const text =
      `Exception: data abort, ${access} at ${hex(f.addr)} (${typeof op === 'bigint' ? proxyOpName(op) : op}): ${f.reason}\n` +
      `Recovering from exception (guard ${guard}): ${effect}\n`;
    this.log(`proxy: ${text.trimEnd().replace(/\n/g, '; ')}`);
    this.console(s, text);
  }

  private advance(ms: number): void {
    try {
      this.mac.soc.clock.advance(ms);
    } catch (e) {
      this.log(`proxy: simulator timer failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Stop serving and close the link: the host sees the device go away. */
  private leave(s: Session, why: string): void {
    this.stop(s, why);
    void s.link.close().catch(() => {});
  }

  private console(s: Session, text: string): void {
    this.send(s, TEXT.encode(printable(text)));
  }

  private send(s: Session, bytes: Uint8Array): void {
    if (s.link.closed) return;
    s.link.write(bytes).catch(this.onWriteError);
  }

  /** One handler for every write, instead of a closure per reply. */
  private readonly onWriteError = (e: unknown): void => {
    this.log(`proxy: write failed: ${e instanceof Error ? e.message : String(e)}`);
  };
}

/** Console text stays ASCII, so no byte of it can start a frame (`FF`). */
function printable(text: string): string {
  return text.replace(/[^\x09\x0a\x0d\x20-\x7e]/g, '?');
}
