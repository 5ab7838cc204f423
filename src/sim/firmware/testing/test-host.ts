/**
 * A small scripted host for the firmware model's unit tests, written against PROTOCOL.md
 * directly (it is not the library's host session). It drains the I2A FIFO (from the enqueue
 * callback, like an interrupt-driven host, or when told to), serves buffer requests, echoes what
 * must be echoed, and offers the boot orderings of §4.2 (Linux) and §4.3 (m1n1-Py).
 */

import type { VirtualClock } from '../../../clock.js';
import type { MailboxMessage } from '../../../mailbox/types.js';
import {
  type DecodeContext,
  decode,
  encode,
  KNOWN_SYSTEM_ENDPOINTS,
  type Message,
  PowerState,
} from '../../../protocol/index.js';
import { decodeSyslogEntry, type SyslogEntry } from '../../../syslog/index.js';
import type { FakeDmaPort } from './fake-dma.js';
import type { FakeIopPort } from './fake-port.js';

export interface Received {
  readonly time: number;
  readonly ep: number;
  readonly msg: bigint;
  readonly m: Message;
}

export interface TestHostOptions {
  readonly port: FakeIopPort;
  readonly clock: VirtualClock;
  readonly dma: FakeDmaPort;
  readonly coproc?: string;
  /** Drain from the enqueue callback (default true); false = only in pump()/advance(). */
  readonly irq?: boolean;
  /** First address handed out for mode-A buffers (mapped in `dma`). */
  readonly dmaBase?: number;
  /** Reply with the page count rounded up to 16 KiB (m1n1-Py) instead of the requested one. */
  readonly roundTo16k?: boolean;
  readonly serveBuffers?: boolean;
  readonly echoSyslog?: boolean;
  readonly echoIoreport?: boolean;
  readonly echoOslog?: boolean;
  readonly serveKdebug?: boolean;
}

export interface HostBuffer {
  readonly ep: number;
  readonly addr: number;
  readonly bytes: number;
  readonly hostAllocated: boolean;
}

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

export class TestHost {
  readonly port: FakeIopPort;
  readonly clock: VirtualClock;
  readonly dma: FakeDmaPort;
  readonly received: Received[] = [];
  readonly buffers = new Map<number, HostBuffer>();
  readonly syslog: SyslogEntry[] = [];
  readonly syslogFailures: string[] = [];
  crash: Received | undefined;
  syslogGeometry: { entryCount: number; messageSize: number } | undefined;
  version: number | undefined;
  minor: number | undefined;
  endpoints: number[] = [];
  /** Index in `received` where the next `waitFor` starts looking. */
  cursor = 0;
  readonly opts: Required<Omit<TestHostOptions, 'port' | 'clock' | 'dma' | 'coproc'>> & {
    coproc: string | undefined;
  };
  #next: number;
  #crashArmed = false;
  #draining = false;
  #pending: MailboxMessage[] = [];

  constructor(o: TestHostOptions) {
    this.port = o.port;
    this.clock = o.clock;
    this.dma = o.dma;
    this.opts = {
      coproc: o.coproc,
      irq: o.irq ?? true,
      dmaBase: o.dmaBase ?? 0x8_0000_0000,
      roundTo16k: o.roundTo16k ?? false,
      serveBuffers: o.serveBuffers ?? true,
      echoSyslog: o.echoSyslog ?? true,
      echoIoreport: o.echoIoreport ?? true,
      echoOslog: o.echoOslog ?? true,
      serveKdebug: o.serveKdebug ?? true,
    };
    this.#next = this.opts.dmaBase;
    if (this.opts.irq) this.port.onI2A = () => this.pump();
    this.port.onA2ISpace = () => this.#retry();
  }

  get ctx(): DecodeContext {
    return {
      dir: 'iop->ap',
      coproc: this.opts.coproc,
      crashlogArmed: this.#crashArmed,
      version: this.version,
      minor: this.minor,
    };
  }

  /**
   * Send AP→IOP. When A2I is full the message waits in order (a real host polls FULL, §1.6)
   * and goes out as soon as the IOP dequeues.
   */
  send(ep: number, msg: bigint): boolean {
    if (this.#pending.length === 0 && this.port.hostSend(ep, msg)) return true;
    this.#pending.push({ ep, msg });
    return false;
  }

  #retry(): void {
    while (this.#pending.length > 0) {
      const m = this.#pending[0]!;
      if (!this.port.hostSend(m.ep, m.msg)) return;
      this.#pending.shift();
    }
  }

  /** Messages waiting for A2I space. */
  get pendingSends(): number {
    return this.#pending.length;
  }

  sendMsg(ep: number, m: Message): boolean {
    return this.send(ep, encode(m));
  }

  /** Drain I2A and react; re-entrancy safe. */
  pump(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      this.#retry();
      for (;;) {
        const raw = this.port.hostReceive();
        if (raw === undefined) break;
        this.#handle(raw);
      }
    } finally {
      this.#draining = false;
    }
  }

  /** Move virtual time in small steps, draining after each. */
  advance(ms: number, step = 0.5): void {
    const end = this.clock.now() + ms;
    for (;;) {
      this.pump();
      const left = end - this.clock.now();
      if (left <= 0) break;
      this.clock.advance(Math.min(step, left));
    }
    this.pump();
  }

  /**
   * Advance until a received message at or after the cursor matches; the cursor then moves past
   * it (scripts consume messages in order). Throws after `timeoutMs`.
   */
  waitFor(pred: (r: Received) => boolean, timeoutMs = 2000, what = 'message'): Received {
    const end = this.clock.now() + timeoutMs;
    for (;;) {
      this.pump();
      for (let i = this.cursor; i < this.received.length; i++) {
        const r = this.received[i]!;
        if (pred(r)) {
          this.cursor = i + 1;
          return r;
        }
      }
      if (this.clock.now() >= end) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      }
      this.clock.advance(Math.min(0.5, end - this.clock.now()));
    }
  }

  waitKind(kind: string, ep?: number, timeoutMs?: number): Received {
    return this.waitFor(
      (r) => r.m.kind === kind && (ep === undefined || r.ep === ep),
      timeoutMs,
      `${kind}${ep === undefined ? '' : ` on ${hex(ep)}`}`,
    );
  }

  /** Received messages of a kind (optionally after index `from`). */
  kinds(kind: string, from = 0): Received[] {
    return this.received.slice(from).filter((r) => r.m.kind === kind);
  }

  #alloc(bytes: number): number {
    const at = Math.ceil(this.#next / 0x4000) * 0x4000;
    this.#next = at + bytes;
    this.dma.map(at, bytes);
    return at;
  }

  #handle(raw: MailboxMessage): void {
    const m = decode(raw.ep, raw.msg, this.ctx);
    this.received.push({ time: this.clock.now(), ep: raw.ep, msg: raw.msg, m });
    const o = this.opts;
    switch (m.kind) {
      case 'hello':
        break;
      case 'crashNotification':
        this.crash = this.received.at(-1);
        break;
      case 'crashlogBufferRequest':
      case 'syslogBufferRequest':
      case 'ioreportBufferRequest': {
        if (raw.ep === 1) this.#crashArmed = true;
        if (m.iova !== 0) {
          this.buffers.set(raw.ep, {
            ep: raw.ep,
            addr: m.iova,
            bytes: m.size * 0x1000,
            hostAllocated: false,
          });
          break;
        }
        if (!o.serveBuffers || m.size === 0) break;
        const known = this.buffers.get(raw.ep);
        const pages = o.roundTo16k ? Math.ceil(m.size / 4) * 4 : m.size;
        const addr = known?.addr ?? this.#alloc(pages * 0x1000);
        if (known === undefined) {
          this.buffers.set(raw.ep, {
            ep: raw.ep,
            addr,
            bytes: pages * 0x1000,
            hostAllocated: true,
          });
        }
        const kind =
          m.kind === 'crashlogBufferRequest'
            ? 'crashlogBufferReply'
            : m.kind === 'syslogBufferRequest'
              ? 'syslogBufferReply'
              : 'ioreportBufferReply';
        this.sendMsg(raw.ep, { kind, size: pages, iova: addr });
        break;
      }
      case 'oslogBufferRequest': {
        if (m.page !== 0) {
          this.buffers.set(8, {
            ep: 8,
            addr: m.page * 0x1000,
            bytes: m.size,
            hostAllocated: false,
          });
          break;
        }
        if (!o.serveBuffers || m.size === 0) break;
        const addr = this.buffers.get(8)?.addr ?? this.#alloc(Math.ceil(m.size / 0x1000) * 0x1000);
        this.buffers.set(8, { ep: 8, addr, bytes: m.size, hostAllocated: true });
        this.sendMsg(8, { kind: 'oslogBufferReply', size: m.size, page: addr / 0x1000 });
        break;
      }
      case 'syslogInit':
        this.syslogGeometry = { entryCount: m.entryCount, messageSize: m.messageSize };
        break;
      case 'syslogLog': {
        const g = this.syslogGeometry;
        const b = this.buffers.get(2);
        if (g && b) {
          const r = decodeSyslogEntry(this.dma.peek(b.addr, b.bytes), m.index, g);
          if (r.ok) this.syslog.push(r.entry);
          else this.syslogFailures.push(r.code);
        }
        if (o.echoSyslog) this.send(2, raw.msg);
        break;
      }
      case 'ioreportReport':
      case 'ioreportStart':
        if (o.echoIoreport) this.send(4, raw.msg);
        break;
      case 'oslogCounter':
        if (o.echoOslog) this.send(8, raw.msg);
        break;
      case 'kdebugGetBuffer':
        if (o.serveKdebug) {
          this.sendMsg(3, { kind: 'kdebugBuffer1', dva: this.#alloc(Math.max(1, m.count) * 0x20) });
          this.sendMsg(3, { kind: 'kdebugBuffer2', dva: this.#alloc(0x2000) });
        }
        break;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle scripts

  #epmap(): void {
    const eps: number[] = [];
    for (;;) {
      const r = this.waitKind('epmap', 0);
      if (r.m.kind !== 'epmap') throw new Error('unreachable');
      for (let i = 0; i < 32; i++) {
        if (Math.floor(r.m.bitmap / 2 ** i) % 2 === 1) eps.push(r.m.base * 32 + i);
      }
      const last = r.m.last || this.version === 10;
      if (this.version === 10) {
        this.sendMsg(0, { kind: 'epmapReply', base: r.m.base, last: false, more: false });
      } else {
        this.sendMsg(0, { kind: 'epmapReply', base: r.m.base, last: r.m.last, more: !r.m.last });
      }
      if (last) break;
    }
    this.endpoints = eps;
  }

  /** HELLO → HELLO_ACK by ML's rule (or `version`). Returns the negotiated version. */
  #hello(version: number | 'max' | undefined): number {
    const r = this.waitKind('hello', 0);
    if (r.m.kind !== 'hello') throw new Error('unreachable');
    const { minVersion: min, maxVersion: max } = r.m;
    if (max === 10 && min < 10) {
      // v10 (HoolockLinux): MINVER is the minor version.
      this.version = 10;
      this.minor = min;
      this.sendMsg(0, { kind: 'helloAck', minVersion: min, maxVersion: 10 });
      return 10;
    }
    const v = version === 'max' ? max : (version ?? Math.min(12, max));
    this.version = v;
    this.sendMsg(0, { kind: 'helloAck', minVersion: v, maxVersion: v });
    return v;
  }

  #systemEps(list: readonly number[]): number[] {
    const firstApp = this.version === 10 ? ((this.minor ?? 0) >= 2 ? 6 : 5) : 0x20;
    return list.filter((ep) => this.endpoints.includes(ep) && ep < firstApp);
  }

  /**
   * §4.2: RUN, HELLO, ack, EPMAP, STARTEP 1,2,3,4,8,0xa (discovered), wait for the IOP ack,
   * then AP ON and its ack. `wake` sends SET_IOP 0x220 right after RUN (ML's wake()).
   */
  bootLinux(opts: { version?: number; wake?: boolean; eps?: readonly number[] } = {}): void {
    this.port.setRun(true);
    if (opts.wake) this.sendMsg(0, { kind: 'setIopPowerState', state: PowerState.Init });
    this.#hello(opts.version);
    this.#epmap();
    for (const ep of this.#systemEps(opts.eps ?? KNOWN_SYSTEM_ENDPOINTS)) {
      this.sendMsg(0, { kind: 'startEndpoint', endpoint: ep });
    }
    this.waitFor(
      (r) => r.m.kind === 'iopPowerStateAck' && r.m.state === PowerState.On,
      2000,
      'IOP ack ON',
    );
    this.setAp(PowerState.On);
  }

  /**
   * §4.3: RUN, HELLO, ack with fwMax, EPMAP, STARTEP for every discovered EP in 1…0xf, KDebug
   * START, then AP ON immediately (before any IOP ack) and wait for both acks.
   */
  bootM1n1(opts: { start?: boolean; version?: number } = {}): void {
    this.port.setRun(true);
    if (opts.start) this.sendMsg(0, { kind: 'setIopPowerState', state: PowerState.Init });
    this.#hello(opts.version ?? 'max');
    this.#epmap();
    const eps = this.#systemEps([...Array(15).keys()].map((i) => i + 1));
    for (const ep of eps) this.sendMsg(0, { kind: 'startEndpoint', endpoint: ep });
    if (eps.includes(3)) this.sendMsg(3, { kind: 'kdebugStart' });
    const from = this.cursor;
    this.sendMsg(0, { kind: 'setApPowerState', state: PowerState.On });
    const seen = (kind: string): boolean =>
      this.received
        .slice(from)
        .some((r) => r.m.kind === kind && 'state' in r.m && r.m.state === PowerState.On);
    this.waitFor(() => seen('iopPowerStateAck') && seen('apPowerStateAck'), 3000, 'both acks ON');
    this.cursor = this.received.length;
  }

  setAp(state: number): Received {
    this.sendMsg(0, { kind: 'setApPowerState', state });
    return this.waitFor((r) => r.m.kind === 'apPowerStateAck', 1000, `AP ack for ${hex(state)}`);
  }

  setIop(state: number): Received {
    this.sendMsg(0, { kind: 'setIopPowerState', state });
    return this.waitFor((r) => r.m.kind === 'iopPowerStateAck', 1000, `IOP ack for ${hex(state)}`);
  }

  /** ML shutdown(): AP 0x10 then IOP SLEEP. */
  shutdown(): void {
    this.setAp(PowerState.Quiesced);
    this.setIop(PowerState.Sleep);
  }

  /** Forget per-session host state (what ML's reinit does). */
  reinit(): void {
    this.buffers.clear();
    this.syslogGeometry = undefined;
    this.#crashArmed = false;
    this.version = undefined;
    this.minor = undefined;
    this.endpoints = [];
  }

  /** Run the handshake part of a wake from SLEEP/QUIESCED (after SET_IOP 0x220). */
  rehandshake(opts: { version?: number; eps?: readonly number[] } = {}): void {
    this.reinit();
    this.sendMsg(0, { kind: 'setIopPowerState', state: PowerState.Init });
    this.#hello(opts.version);
    this.#epmap();
    for (const ep of this.#systemEps(opts.eps ?? KNOWN_SYSTEM_ENDPOINTS)) {
      this.sendMsg(0, { kind: 'startEndpoint', endpoint: ep });
    }
    this.waitFor(
      (r) => r.m.kind === 'iopPowerStateAck' && r.m.state === PowerState.On,
      2000,
      'IOP ack ON',
    );
    this.setAp(PowerState.On);
  }
}
