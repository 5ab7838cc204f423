/**
 * Passive mode: follow an RTKit session someone else drives (macOS, Linux, m1n1 under a
 * hypervisor tracer, our own session in a test) and decode and record it, sending nothing.
 *
 * ```
 *  a tap on the mailbox (both directions) ──► observe(dir, ep, msg) ─┐
 *  a receive-only MailboxTransport ─────────► attach(transport) ─────┤ (IOP→AP only)
 *                                                                     ▼
 *   PassiveSession: the protocol state from both sides (version, endpoint map, power states,
 *   buffers announced and granted, crash arming), events like RtkitSession's (rx/tx, state,
 *   syslog, oslog, ioreport, kdebug, crash, warning), a bounded history of decoded messages.
 *   With `readMemory` it also decodes syslog entries and copies + parses crash logs.
 * ```
 *
 * It has no send path at all. Note that reading a real mailbox's receive registers dequeues:
 * `attach` a transport only when it is a copy of the traffic (a tracer, a simulator tap), never
 * the driver another host reads from.
 */

import { type Clock, systemClock } from '../clock.js';
import { parseCrashlog } from '../crashlog/index.js';
import type { ParseCrashlogOptions } from '../crashlog/types.js';
import { ErrorCode, RtkitError } from '../errors.js';
import { Queue } from '../mailbox/queue.js';
import type { MailboxMessage, MailboxTransport } from '../mailbox/types.js';
import {
  type DecodeContext,
  type Direction,
  decode,
  Endpoint,
  firstAppEndpoint,
  hex64Of,
  isValidEndpoint,
  type Message,
  notesFor,
  PowerState,
  summarize,
} from '../protocol/index.js';
import { type SyslogGeometry, SyslogRing } from '../syslog/index.js';
import { TypedEmitter } from './emitter.js';
import {
  type CrashEvent,
  type SessionEventName,
  type SessionEvents,
  type SessionListeners,
  type SessionState,
  WarningCode,
  type WarningEvent,
} from './events.js';
import { type Logger, silentLogger } from './logger.js';

export interface PassiveOptions {
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly name?: string;
  /** Co-processor profile for decoding application endpoints. */
  readonly coproc?: string;
  /**
   * Read `len` bytes of device memory at device address `device` (a buffer the observed host
   * granted on endpoint `ep`). Enables syslog entry decoding and crash-log copies. Reads are
   * bounded by the buffer sizes announced on the wire.
   */
  readonly readMemory?: (device: number, len: number, ep: number) => Promise<Uint8Array>;
  readonly crashlog?: ParseCrashlogOptions;
  /** Decoded messages kept in `history` (default 10 000; the oldest are dropped). */
  readonly historyLimit?: number;
  readonly listeners?: SessionListeners;
}

export interface ObservedMessage {
  readonly time: number;
  readonly dir: Direction;
  readonly ep: number;
  readonly msg: bigint;
  readonly message: Message;
}

interface BufferInfo {
  /** Requested bytes (what the firmware may use). */
  bytes: number;
  /** Device address: the firmware's own (mode B/C) or the host's reply (mode A). */
  device: number | undefined;
}

type Handshake = SessionState['handshake'];

export class PassiveSession {
  readonly name: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #coproc: string | undefined;
  readonly #read: PassiveOptions['readMemory'];
  readonly #crashlogOpts: ParseCrashlogOptions | undefined;
  readonly #limit: number;
  readonly #emitter: TypedEmitter<SessionEvents>;

  #version: number | undefined;
  #minor: number | undefined;
  #firstApp: number = Endpoint.AppBase;
  #handshake: Handshake = 'none';
  readonly #discovered = new Uint8Array(256);
  readonly #started = new Uint8Array(256);
  #iopState: number | undefined;
  #apState: number | undefined;
  #crashed = false;
  #crashArmed = false;
  readonly #buffers = new Map<number, BufferInfo>();
  readonly #syslog = new SyslogRing();
  #syslogGeo: SyslogGeometry | undefined;
  #syslogShadow: Uint8Array | undefined;
  readonly #history: ObservedMessage[] = [];
  #dropped = 0;
  readonly #inbox = new Queue<{ dir: Direction; ep: number; msg: bigint }>();
  #processing = false;

  constructor(opts: PassiveOptions = {}) {
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger ?? silentLogger;
    this.name = opts.name ?? opts.coproc ?? 'rtkit';
    this.#coproc = opts.coproc;
    this.#read = opts.readMemory;
    this.#crashlogOpts = opts.crashlog;
    const limit = opts.historyLimit ?? 10_000;
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new RtkitError(ErrorCode.BAD_INPUT, 'historyLimit must be a non-negative integer');
    }
    this.#limit = limit;
    this.#emitter = new TypedEmitter<SessionEvents>((name, error) => {
      if (name !== 'warning') {
        this.#warn(WarningCode.HANDLER_FAILED, `a ${String(name)} listener threw: ${text(error)}`);
      }
    });
    for (const [name, fn] of Object.entries(opts.listeners ?? {})) {
      if (fn !== undefined) this.#emitter.on(name as SessionEventName, fn as never);
    }
  }

  on<K extends SessionEventName>(name: K, fn: (e: SessionEvents[K]) => void): () => void {
    return this.#emitter.on(name, fn);
  }

  off<K extends SessionEventName>(name: K, fn: (e: SessionEvents[K]) => void): void {
    this.#emitter.off(name, fn);
  }

  /** Receive-only: every message the transport delivers is an IOP→AP message. Never sends. */
  attach(transport: MailboxTransport): void {
    transport.setReceiver((m: MailboxMessage) => this.observe('iop->ap', m.ep, m.msg));
  }

  /** One message seen on the mailbox, in either direction, in the order they happened. */
  observe(dir: Direction, ep: number, msg: bigint): void {
    if (!isValidEndpoint(ep) || typeof msg !== 'bigint') {
      this.#warn(WarningCode.UNKNOWN_MESSAGE, `not a mailbox message: ${String(ep)}`);
      return;
    }
    this.#inbox.push({ dir, ep, msg });
    if (!this.#processing) this.#pump();
  }

  /** Resolves once every observed message has been handled (memory reads included). */
  async settled(): Promise<void> {
    while (this.#processing || this.#inbox.length > 0) {
      await new Promise<void>((resolve) => queueMicrotask(resolve));
    }
  }

  get state(): SessionState {
    return {
      iopPowerState: this.#iopState,
      apPowerState: this.#apState,
      version: this.#version,
      minorVersion: this.#minor,
      handshake: this.#handshake,
      running: this.running,
      crashed: this.#crashed,
      poweredOff: this.#iopState === PowerState.Off,
      discoveredEndpoints: list(this.#discovered),
      startedEndpoints: list(this.#started),
    };
  }

  get running(): boolean {
    return (
      this.#handshake === 'done' &&
      !this.#crashed &&
      this.#iopState !== undefined &&
      this.#iopState % 0x100 === PowerState.On &&
      this.#apState === PowerState.On
    );
  }

  get version(): number | undefined {
    return this.#version;
  }

  get crashed(): boolean {
    return this.#crashed;
  }

  /** The buffers announced and granted so far, by endpoint. */
  get buffers(): ReadonlyMap<number, Readonly<BufferInfo>> {
    return this.#buffers;
  }

  /** The last `historyLimit` decoded messages, oldest first. */
  get history(): readonly ObservedMessage[] {
    const h = this.#history;
    return h.length > this.#limit ? h.slice(h.length - this.#limit) : h.slice();
  }

  /** Messages no longer in `history`. */
  get droppedHistory(): number {
    return this.#dropped + Math.max(0, this.#history.length - this.#limit);
  }

  // ---------------------------------------------------------------------------------------------

  #pump(): void {
    this.#processing = true;
    for (;;) {
      const m = this.#inbox.shift();
      if (m === undefined) break;
      let r: Promise<void> | undefined;
      try {
        r = this.#handle(m.dir, m.ep, m.msg);
      } catch (e) {
        this.#warn(WarningCode.HANDLER_FAILED, `decoding failed: ${text(e)}`, m.ep, m.msg);
      }
      if (r !== undefined) {
        r.then(
          () => this.#pump(),
          (e: unknown) => {
            this.#warn(WarningCode.HANDLER_FAILED, `decoding failed: ${text(e)}`, m.ep, m.msg);
            this.#pump();
          },
        );
        return;
      }
    }
    this.#processing = false;
  }

  #ctx(dir: Direction, ep: number): DecodeContext {
    return {
      dir,
      crashlogArmed: ep === Endpoint.Crashlog && this.#crashArmed,
      version: this.#version,
      minor: this.#minor,
      coproc: this.#coproc,
    };
  }

  #handle(dir: Direction, ep: number, msg: bigint): Promise<void> | undefined {
    const m = decode(ep, msg, this.#ctx(dir, ep));
    const time = this.#clock.now();
    const h = this.#history;
    h.push({ time, dir, ep, msg, message: m });
    // Trimmed in chunks: amortised O(1) per message.
    if (h.length >= 2 * this.#limit) {
      const cut = h.length - this.#limit;
      h.splice(0, cut);
      this.#dropped += cut;
    }
    const name = dir === 'ap->iop' ? 'tx' : 'rx';
    if (this.#emitter.has(name)) this.#emitter.emit(name, { ep, msg, message: m, time });
    const fromIop = dir === 'iop->ap';
    if (ep >= this.#firstApp) {
      if (fromIop && this.#handshake === 'done' && this.#discovered[ep] !== 1) {
        this.#warn(WarningCode.UNDISCOVERED_ENDPOINT, `message on ${hexEp(ep)}`, ep, msg);
      }
      return undefined;
    }
    if (m.kind === 'unknown') {
      this.#warn(WarningCode.UNKNOWN_MESSAGE, `${summarize(m)} on ${hexEp(ep)} (${dir})`, ep, msg);
      return undefined;
    }
    switch (ep) {
      case Endpoint.Management:
        this.#management(m, fromIop);
        return undefined;
      case Endpoint.Crashlog:
        return this.#crashlog(m, msg);
      case Endpoint.Syslog:
        return this.#syslogMessage(m, msg, fromIop);
      case Endpoint.Debug:
        if (this.#emitter.has('kdebug')) {
          this.#emitter.emit('kdebug', { ep, msg, message: m, action: 'reported' });
        }
        return undefined;
      case Endpoint.IOReport:
        this.#bufferMessage(ep, m);
        if (this.#emitter.has('ioreport')) {
          this.#emitter.emit('ioreport', {
            ep,
            msg,
            message: m,
            action: fromIop ? 'reported' : 'echoed',
          });
        }
        return undefined;
      case Endpoint.OSLog:
        this.#bufferMessage(ep, m);
        if (this.#emitter.has('oslog')) {
          this.#emitter.emit('oslog', {
            ep,
            msg,
            message: m,
            action: fromIop ? 'reported' : 'echoed',
          });
        }
        return undefined;
      default:
        return undefined;
    }
  }

  #management(m: Message, fromIop: boolean): void {
    switch (m.kind) {
      case 'hello':
        // A new firmware session: whatever the previous one announced is gone.
        this.#discovered.fill(0);
        this.#started.fill(0);
        this.#buffers.clear();
        this.#crashArmed = false;
        this.#crashed = false;
        this.#syslog.reset();
        this.#syslogGeo = undefined;
        this.#syslogShadow = undefined;
        this.#setHandshake('hello');
        return;
      case 'helloAck':
        if (m.minVersion === 0xffff && m.maxVersion === 0x0bad) return;
        this.#version = m.maxVersion;
        this.#minor = m.maxVersion === 10 ? m.minVersion : undefined;
        this.#firstApp = firstAppEndpoint(this.#version, this.#minor);
        this.#setHandshake('epmap');
        return;
      case 'epmap':
        for (let i = 0; i < 32; i++) {
          if (Math.floor(m.bitmap / 2 ** i) % 2 === 1 && m.base * 32 + i !== 0) {
            this.#discovered[m.base * 32 + i] = 1;
          }
        }
        return;
      case 'epmapReply':
        if (m.last || this.#version === 10) this.#setHandshake('done');
        return;
      case 'startEndpoint':
        this.#started[m.endpoint] = 1;
        this.#changed('startep');
        return;
      case 'stopEndpoint':
        this.#started[m.endpoint] = 0;
        this.#changed('stopep');
        return;
      case 'setApPowerState':
        // 10.0/10.1 firmware never acks AP ON (HoolockLinux): the request is the state.
        if (this.#version === 10 && (this.#minor ?? 2) < 2 && m.state === PowerState.On) {
          this.#apState = m.state;
          this.#changed('ap-assumed');
        }
        return;
      case 'iopPowerStateAck':
        this.#iopState = m.state;
        this.#changed('iop-ack');
        return;
      case 'apPowerStateAck':
        this.#apState = m.state;
        this.#changed('ap-ack');
        return;
      case 'setIopPowerState':
      case 'ping':
      case 'pong':
        return;
      default:
        this.#warn(
          WarningCode.UNKNOWN_MESSAGE,
          `${summarize(m)} (${fromIop ? 'IOP→AP' : 'AP→IOP'})`,
          0,
        );
    }
  }

  /** Buffer requests (IOP→AP) and replies (AP→IOP) on EP 1, 2, 4, 8. */
  #bufferMessage(ep: number, m: Message): void {
    switch (m.kind) {
      case 'crashlogBufferRequest':
      case 'syslogBufferRequest':
      case 'ioreportBufferRequest':
        this.#buffers.set(ep, { bytes: m.size * 4096, device: m.iova === 0 ? undefined : m.iova });
        break;
      case 'oslogBufferRequest':
        this.#buffers.set(ep, { bytes: m.size, device: m.page === 0 ? undefined : m.page * 4096 });
        break;
      case 'crashlogBufferReply':
      case 'syslogBufferReply':
      case 'ioreportBufferReply': {
        const b = this.#buffers.get(ep);
        this.#buffers.set(ep, { bytes: b?.bytes ?? m.size * 4096, device: m.iova });
        break;
      }
      case 'oslogBufferReply': {
        const b = this.#buffers.get(ep);
        this.#buffers.set(ep, { bytes: b?.bytes ?? m.size, device: m.page * 4096 });
        break;
      }
      default:
        return;
    }
    if (ep === Endpoint.Syslog) {
      const b = this.#buffers.get(ep)!;
      this.#syslogShadow = b.device === undefined ? undefined : new Uint8Array(b.bytes);
      this.#syslogGeo = this.#syslog.setBuffer(this.#syslogShadow);
    }
  }

  async #crashlog(m: Message, msg: bigint): Promise<void> {
    if (m.kind === 'crashlogBufferRequest') this.#crashArmed = true;
    if (m.kind !== 'crashNotification') {
      this.#bufferMessage(Endpoint.Crashlog, m);
      return;
    }
    this.#crashed = true;
    this.#changed('crash');
    const b = this.#buffers.get(Endpoint.Crashlog);
    let event: CrashEvent = {
      msg,
      time: this.#clock.now(),
      log: undefined,
      size: 0,
      problem: 'CRASHLOG_UNAVAILABLE',
    };
    if (b?.device !== undefined && this.#read !== undefined && b.bytes > 0) {
      try {
        const bytes = await this.#read(b.device, b.bytes, Endpoint.Crashlog);
        if (bytes.length !== b.bytes) throw new Error(`read ${bytes.length} of ${b.bytes} bytes`);
        const log = bytes.slice();
        const parsed = parseCrashlog(log, this.#crashlogOpts);
        event = parsed.ok
          ? { msg, time: event.time, log, size: log.length, report: parsed.report }
          : { msg, time: event.time, log, size: log.length, parseError: parsed.error };
      } catch (e) {
        event = { ...event, problem: 'CRASHLOG_COPY_FAILED' };
        this.#warn(WarningCode.CRASHLOG_COPY_FAILED, text(e), 1, msg);
      }
    }
    this.#log.error?.(() => `${this.name}: co-processor crashed (${hex64Of(msg)})`);
    this.#emitter.emit('crash', event);
  }

  async #syslogMessage(m: Message, msg: bigint, fromIop: boolean): Promise<void> {
    switch (m.kind) {
      case 'syslogInit': {
        for (const n of notesFor(m)) {
          if (n.code === WarningCode.SYSLOG_INIT_WIDE_FIELDS) {
            this.#warn(WarningCode.SYSLOG_INIT_WIDE_FIELDS, n.message, 2, msg);
          }
        }
        this.#syslogGeo = this.#syslog.setInit(m.entryCount, m.messageSize);
        return;
      }
      case 'syslogLog': {
        // The AP's echo repeats the word: only the IOP's post is an entry.
        if (!fromIop || this.#read === undefined) return;
        const g = this.#syslogGeo;
        const b = this.#buffers.get(Endpoint.Syslog);
        const shadow = this.#syslogShadow;
        if (g === undefined || b?.device === undefined || shadow === undefined) return;
        if (m.index < g.usableEntries) {
          const off = m.index * g.stride;
          try {
            const bytes = await this.#read(b.device + off, g.stride, Endpoint.Syslog);
            shadow.set(bytes.subarray(0, g.stride), off);
          } catch (e) {
            this.#warn(WarningCode.BUFFER_READ_FAILED, text(e), 2, msg);
            return;
          }
        }
        const r = this.#syslog.decode(m.index);
        if (r.ok) {
          if (this.#emitter.has('syslog')) {
            this.#emitter.emit('syslog', { index: m.index, entry: r.entry, msg });
          }
        } else this.#warn(r.code, r.message, 2, msg);
        return;
      }
      default:
        this.#bufferMessage(Endpoint.Syslog, m);
    }
  }

  #setHandshake(h: Handshake): void {
    this.#handshake = h;
    this.#changed(`handshake-${h}`);
  }

  #changed(reason: string): void {
    if (this.#emitter.has('state')) this.#emitter.emit('state', { state: this.state, reason });
  }

  #warn(code: string, message: string, ep?: number, msg?: bigint): void {
    this.#log.warn?.(() => `${this.name}: ${code}: ${message}`);
    if (!this.#emitter.has('warning')) return;
    const w: { -readonly [K in keyof WarningEvent]: WarningEvent[K] } = {
      code: code as WarningEvent['code'],
      message,
    };
    if (ep !== undefined) w.ep = ep;
    if (msg !== undefined) w.msg = msg;
    this.#emitter.emit('warning', w);
  }
}

function list(set: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < set.length; i++) if (set[i] === 1) out.push(i);
  return out;
}

const hexEp = (ep: number): string => `0x${ep.toString(16).padStart(2, '0')}`;

function text(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
