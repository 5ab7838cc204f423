/**
 * The host library's RTKit session: what a driver uses to boot an Apple co-processor and talk to
 * it (PROTOCOL.md §3–§8, every host-side recipe of ROBUSTNESS.md). docs/host-library.md is the
 * guide; this comment is the map.
 *
 * ```
 *  driver code         SmcClient, a DCP driver, tools     openEndpoint(ep) → EndpointHandle
 *  ──────────────────────────────────────────────────────────────────────────────────────────
 *  RtkitSession        lifecycle ops (boot, wake, idle, quiesce, shutdown, powerOff, reinit,
 *   (this file)        resetCpu, recover), one at a time, each step bounded by a timeout
 *                      receive loop: one queue, arrival order, async handlers awaited
 *                        EP0 management   HELLO / EPMAP / power acks / PONG
 *                        EP1 crashlog     arm, crash → copy → parseCrashlog → `crash`
 *                        EP2 syslog       INIT, LOG → SyslogRing → `syslog`, always echoed
 *                        EP3/4/8/0xa      kdebug, IOReport echoes, OSLog, tracekit
 *                        app endpoints    request matchers, then listeners, else `unhandled`
 *                      events: tx rx state syslog oslog ioreport kdebug crash warning unhandled
 *  ──────────────────────────────────────────────────────────────────────────────────────────
 *  BufferManager       shmem/: one buffer per endpoint, strategies (IOMMU, SART, SRAM, ...)
 *  protocol/ crashlog/ syslog/   codecs: every word is built and read through them
 *  MailboxTransport    mailbox/: AscMailboxDriver over an Mmio, or the in-process channel
 *  Mmio (+ ASC CPU)    the simulated SoC's bus, or the m1n1 proxy
 * ```
 *
 * Rules it keeps (ROBUSTNESS.md principles): firmware input is validated before use; every wait
 * has a timeout and every pending operation settles; no received message is dropped (each is
 * handled, acknowledged, or surfaced as an event); failures reject with one error class and a
 * code; firmware misbehaviour the session survives is a `warning` event with the raw word.
 */

import { type Clock, systemClock, type TimerHandle } from '../clock.js';
import { parseCrashlog } from '../crashlog/index.js';
import type { ParseCrashlogOptions } from '../crashlog/types.js';
import { ErrorCode, isRtkitError, RtkitError } from '../errors.js';
import { readAscCpuStatus, setAscCpuRun } from '../mailbox/asc-cpu.js';
import { Queue } from '../mailbox/queue.js';
import { isValidMsg0 } from '../mailbox/registers.js';
import type { MailboxMessage, MailboxTransport, SendOptions } from '../mailbox/types.js';
import {
  type DecodeContext,
  decode,
  Endpoint,
  encode,
  firstAppEndpoint,
  hex64Of,
  isValidEndpoint,
  type Message,
  notesFor,
  PowerState,
  summarize,
} from '../protocol/index.js';
import { type SyslogGeometry, SyslogRing } from '../syslog/index.js';
import { DeadlineQueue } from './deadlines.js';
import { TypedEmitter } from './emitter.js';
import {
  type CrashEvent,
  type SessionEventName,
  type SessionEvents,
  type SessionState,
  type SystemMessageEvent,
  WarningCode,
  type WarningEvent,
} from './events.js';
import { type Logger, silentLogger } from './logger.js';
import {
  type CpuControl,
  checkTimeout,
  type ResolvedOptions,
  resolveOptions,
  type SessionOptions,
} from './options.js';
import { ackMatches, chooseVersion, isOn, powerMismatch } from './rules.js';
import { BufferManager, type StrategySelection } from './shmem/manager.js';
import type { BufferRequest, BufferStrategy, SharedBuffer } from './shmem/types.js';
import type { EndpointHandle, RequestOptions } from './types.js';

type Handshake = SessionState['handshake'];
type Check = () => true | RtkitError | undefined;
type Listener = (msg: bigint) => unknown;

/** Options of one lifecycle operation. */
export interface OperationOptions {
  /** Per protocol step (default: the session's `timeoutMs`, 1000 ms). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface PingOptions extends OperationOptions {
  /** `[31:0]` of the PING; default a counter. */
  cookie?: number;
}

export interface SessionStats {
  readonly received: number;
  readonly sent: number;
  readonly warnings: number;
  readonly syslogEntries: number;
  readonly crashes: number;
  /** Received, not yet handled (a slow handler is running). */
  readonly queued: number;
  /** Request deadlines held (leak check). */
  readonly deadlines: number;
}

interface Ctx {
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  step(step: string, check: Check, timeoutMs?: number): Promise<void>;
}

interface Waiter {
  readonly check: Check;
  settle(error?: RtkitError): void;
}

/** A request waiting for its reply (one per `request()` call). */
class Matcher {
  done = false;
  onAbort: (() => void) | undefined;

  constructor(
    readonly ep: number,
    readonly match: (reply: bigint) => boolean,
    readonly deadline: number,
    readonly timeoutMs: number,
    readonly list: Matcher[],
    readonly resolve: (v: bigint) => void,
    readonly reject: (e: unknown) => void,
    readonly signal: AbortSignal | undefined,
  ) {}

  settle(error: unknown, value?: bigint): void {
    if (this.done) return;
    this.done = true;
    const i = this.list.indexOf(this);
    if (i >= 0) this.list.splice(i, 1);
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort);
    if (error === undefined) this.resolve(value!);
    else this.reject(error);
  }

  expire(): void {
    this.settle(
      new RtkitError(
        ErrorCode.TIMEOUT,
        `no reply on endpoint ${hexEp(this.ep)} within ${this.timeoutMs} ms`,
        { step: 'request', ep: this.ep, timeoutMs: this.timeoutMs },
      ),
    );
  }
}

interface KdebugBuffer {
  readonly strategy: BufferStrategy;
  readonly buffer: SharedBuffer;
  readonly reply: bigint;
}

const hexEp = (ep: number): string => `0x${ep.toString(16).padStart(2, '0')}`;
const hexN = (n: number): string => `0x${n.toString(16)}`;
const noop = (): void => {};
const ON = PowerState.On;

function withStep(e: unknown, step: string): unknown {
  if (!isRtkitError(e) || e.details['step'] !== undefined) return e;
  return new RtkitError(
    e.code,
    e.message.replace(`${e.code}: `, ''),
    { ...e.details, step },
    {
      cause: e,
    },
  );
}

function abortedError(what: string, reason: unknown): RtkitError {
  return new RtkitError(ErrorCode.ABORTED, `${what} aborted`, { step: what }, { cause: reason });
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function'
  );
}

/**
 * One RTKit session over one mailbox. Create it, attach listeners, then `boot()` (or `wake()`).
 * See docs/host-library.md for the operations, events, errors and the crash-recovery path.
 */
export class RtkitSession {
  readonly name: string;

  readonly #transport: MailboxTransport;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #o: ResolvedOptions;
  readonly #cpu: CpuControl | undefined;
  readonly #coproc: string | undefined;
  readonly #crashlogOpts: ParseCrashlogOptions | undefined;
  readonly #strategies: StrategySelection | undefined;
  readonly #manager: BufferManager | undefined;
  readonly #emitter: TypedEmitter<SessionEvents>;
  readonly #deadlines: DeadlineQueue;
  /**
   * Every word handed to the transport carries this signal: a crash, a reinit or close() aborts
   * it, so words still queued in the mailbox driver (a full FIFO) are withdrawn instead of
   * reaching a co-processor that is dead or belongs to another session.
   */
  #wire = new AbortController();
  /** The options of a send with neither a caller's signal nor a timeout override (cached). */
  #wireOpts: SendOptions | undefined;

  // protocol state
  #version: number | undefined;
  #minor: number | undefined;
  #firstApp: number = Endpoint.AppBase;
  #appCtx: DecodeContext;
  #handshake: Handshake = 'none';
  /** A boot or wake operation accepts a HELLO. */
  #hsActive = false;
  #hsError: RtkitError | undefined;
  #pendingHello: bigint | undefined;
  readonly #discovered = new Uint8Array(256);
  readonly #started = new Uint8Array(256);
  #iopState: number | undefined;
  #apState: number | undefined;
  #iopAckSeq = 0;
  #lastIopAck = 0;
  #apAckSeq = 0;
  #lastApAck = 0;
  #running = false;
  #crashed = false;
  #poweredOff = false;
  #closed = false;

  // system services
  #crashArmed = false;
  readonly #syslog = new SyslogRing();
  #syslogGeo: SyslogGeometry | undefined;
  #syslogBuf: SharedBuffer | undefined;
  #syslogShadow: Uint8Array | undefined;
  readonly #ioreportOutstanding = new Map<bigint, number>();
  /** Endpoints whose buffer request was answered (granted, repeated, busy or refused). */
  readonly #buffersServed = new Set<number>();
  #kdebugBuffers: KdebugBuffer[] = [];
  readonly #pingWaiting = new Map<number, number>();
  readonly #pongs = new Set<number>();
  #pingCookie = 0;

  // receive loop
  readonly #inbox = new Queue<MailboxMessage & { replay?: boolean }>();
  #processing = false;
  readonly #listeners: (Listener[] | undefined)[] = new Array(256).fill(undefined);
  readonly #matchers: (Matcher[] | undefined)[] = new Array(256).fill(undefined);
  readonly #handles = new Map<number, EndpointHandle>();
  readonly #waiters = new Set<Waiter>();
  #opTail: Promise<unknown> = Promise.resolve();

  readonly #counts = { received: 0, sent: 0, warnings: 0, syslogEntries: 0, crashes: 0 };

  constructor(opts: SessionOptions) {
    this.#o = resolveOptions(opts);
    this.#transport = opts.transport;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger ?? silentLogger;
    this.name = opts.name ?? opts.coproc ?? 'rtkit';
    this.#cpu = opts.cpu;
    this.#coproc = opts.coproc;
    this.#crashlogOpts = opts.crashlog;
    this.#strategies = opts.strategies;
    this.#manager =
      opts.bufferManager ??
      (opts.strategies === undefined ? undefined : new BufferManager(opts.strategies));
    this.#deadlines = new DeadlineQueue(this.#clock);
    this.#appCtx = this.#makeAppCtx();
    this.#emitter = new TypedEmitter<SessionEvents>((name, error) => {
      if (name === 'warning') {
        this.#log.error?.(() => `warning listener threw: ${String(error)}`);
        return;
      }
      this.#warn(
        WarningCode.HANDLER_FAILED,
        `a ${String(name)} listener threw: ${errText(error)}`,
        {
          details: { event: name, error },
        },
      );
    });
    for (const [name, fn] of Object.entries(opts.listeners ?? {})) {
      if (fn !== undefined) this.#emitter.on(name as SessionEventName, fn as never);
    }
    this.#transport.setReceiver(
      (m) => this.#receive(m),
      (e) => this.#internalError(e, undefined),
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Read-only state

  get iopPowerState(): number | undefined {
    return this.#iopState;
  }

  get apPowerState(): number | undefined {
    return this.#apState;
  }

  get version(): number | undefined {
    return this.#version;
  }

  get minorVersion(): number | undefined {
    return this.#minor;
  }

  /** First application endpoint of the negotiated version (0x20; 5 or 6 on v10). */
  get firstAppEndpoint(): number {
    return this.#firstApp;
  }

  get running(): boolean {
    return this.#running;
  }

  get crashed(): boolean {
    return this.#crashed;
  }

  get poweredOff(): boolean {
    return this.#poweredOff;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get discoveredEndpoints(): number[] {
    return setToList(this.#discovered);
  }

  get startedEndpoints(): number[] {
    return setToList(this.#started);
  }

  isDiscovered(ep: number): boolean {
    return isValidEndpoint(ep) && this.#discovered[ep] === 1;
  }

  isStarted(ep: number): boolean {
    return isValidEndpoint(ep) && this.#started[ep] === 1;
  }

  /** A snapshot of everything above. */
  get state(): SessionState {
    return {
      iopPowerState: this.#iopState,
      apPowerState: this.#apState,
      version: this.#version,
      minorVersion: this.#minor,
      handshake: this.#handshake,
      running: this.#running,
      crashed: this.#crashed,
      poweredOff: this.#poweredOff,
      discoveredEndpoints: this.discoveredEndpoints,
      startedEndpoints: this.startedEndpoints,
    };
  }

  /** The session's buffers (live buffers, allocation counters), when strategies were given. */
  get buffers(): BufferManager | undefined {
    return this.#manager;
  }

  get stats(): SessionStats {
    return {
      ...this.#counts,
      queued: this.#inbox.length,
      deadlines: this.#deadlines.size,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Events

  on<K extends SessionEventName>(name: K, fn: (e: SessionEvents[K]) => void): () => void {
    return this.#emitter.on(name, fn);
  }

  once<K extends SessionEventName>(name: K, fn: (e: SessionEvents[K]) => void): () => void {
    return this.#emitter.once(name, fn);
  }

  off<K extends SessionEventName>(name: K, fn: (e: SessionEvents[K]) => void): void {
    this.#emitter.off(name, fn);
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle

  /**
   * Bring up a co-processor whose firmware was started (or is being started: with CPU control,
   * RUN is set first when the CPU is stopped): HELLO, version choice, endpoint map, system
   * endpoints, buffer requests served, IOP power ack, AP power ON (§4.2). Resolves when the
   * session is running. Steps: `cpu`, `hello`, `epmap`, `startep`, `iop-power-ack`,
   * `ap-power-ack`. Already running: resolves at once. After `idle()` (handshake kept) it does
   * what `wake()` does.
   */
  boot(opts: OperationOptions = {}): Promise<void> {
    return this.#lifecycle('boot', opts, (ctx) => this.#bringUp(ctx, false));
  }

  /**
   * SET_IOP_PWR_STATE 0x220, then as `boot` (§4.5): from IDLE the firmware acks at once and the
   * state is kept; from SLEEP or QUIESCED (after `shutdown`/`quiesce`) it runs the whole
   * handshake again. Steps as `boot`, plus `wake` for the 0x220 send.
   */
  wake(opts: OperationOptions = {}): Promise<void> {
    return this.#lifecycle('wake', opts, (ctx) => this.#bringUp(ctx, true));
  }

  /** AP 0x201, then IOP 0x201 (ML `idle()`): asleep, state kept; `wake()` resumes. */
  idle(opts: OperationOptions = {}): Promise<void> {
    return this.#lifecycle('idle', opts, async (ctx) => {
      this.#assertUsable();
      this.#stopRunning('idle');
      await this.#setPower(ctx, 'ap', PowerState.Idle);
      await this.#setPower(ctx, 'iop', PowerState.Idle);
    });
  }

  /** AP 0x10, then IOP 0x10, then reinit (ML `quiesce()`); `wake()` boots again. */
  quiesce(opts: OperationOptions = {}): Promise<void> {
    return this.#lifecycle('quiesce', opts, (ctx) =>
      this.#powerDown(ctx, PowerState.Quiesced, 'quiesce'),
    );
  }

  /**
   * AP 0x10, then IOP 0x01 SLEEP, then reinit (ML `shutdown()`); `wake()` boots again. On
   * failure the buffers are kept alive (the IOP may still use them, §6.5 M6).
   */
  shutdown(opts: OperationOptions = {}): Promise<void> {
    return this.#lifecycle('shutdown', opts, (ctx) =>
      this.#powerDown(ctx, PowerState.Sleep, 'shutdown'),
    );
  }

  /**
   * AP 0, then IOP 0 OFF, then reinit (ML `poweroff()`). The co-processor cannot run again until
   * its CPU is reset: `boot`/`wake` reject `POWERED_OFF` until `resetCpu()`.
   */
  powerOff(opts: OperationOptions = {}): Promise<void> {
    return this.#lifecycle('powerOff', opts, async (ctx) => {
      await this.#powerDown(ctx, PowerState.Off, 'power-off');
      this.#poweredOff = true;
      this.#stateChanged('power-off');
    });
  }

  /**
   * Forget the firmware session (ML `reinit`): endpoint map, versions, power states, syslog
   * geometry, the crashed flag; release every buffer (§6.5 M6). Pending requests reject
   * `NOT_RUNNING`. Rejects `BUFFER_RELEASE_FAILED` when a buffer could not be released.
   */
  reinit(opts: OperationOptions = {}): Promise<void> {
    return this.#lifecycle('reinit', opts, () => this.#reinitBody('reinit'));
  }

  /**
   * Halt the co-processor's CPU (CPU_CONTROL.RUN 1→0: all its state is lost) and reinit. The next
   * `boot()` starts it again (RUN 0→1). Clears `poweredOff` and `crashed`. Needs CPU control.
   */
  resetCpu(opts: OperationOptions = {}): Promise<void> {
    return this.#lifecycle('resetCpu', opts, () => this.#resetBody());
  }

  /**
   * Crash recovery in one call: `resetCpu()` then `boot()` (docs/host-library.md "Crash
   * recovery"). Works after a crash, a power-off, a failed boot, and repeatedly.
   */
  recover(opts: OperationOptions = {}): Promise<void> {
    return this.#lifecycle('recover', opts, async (ctx) => {
      await this.#resetBody();
      await this.#bringUp(ctx, false);
    });
  }

  /** Set the IOP power state and wait for its ack (§4.7 matching). Step `iop-power-ack`. */
  setIopPowerState(state: number, opts: OperationOptions = {}): Promise<void> {
    return this.#lifecycle('setIopPowerState', opts, async (ctx) => {
      this.#assertUsable();
      checkState(state);
      await this.#setPower(ctx, 'iop', state);
    });
  }

  /** Set the AP power state and wait for its ack (exact match). Step `ap-power-ack`. */
  setApPowerState(state: number, opts: OperationOptions = {}): Promise<void> {
    return this.#lifecycle('setApPowerState', opts, async (ctx) => {
      this.#assertUsable();
      checkState(state);
      if (state !== ON) this.#stopRunning('ap-power');
      await this.#setPower(ctx, 'ap', state);
    });
  }

  /**
   * PING with a cookie; resolves with the round-trip time (ms) when the PONG with the same
   * `[31:0]` arrives (§3.6; real firmware does not echo `[47:32]`). Step `pong`.
   */
  ping(opts: PingOptions = {}): Promise<number> {
    let timeoutMs: number;
    try {
      timeoutMs = this.#stepTimeout(opts);
      this.#assertUsable();
    } catch (e) {
      return Promise.reject(e);
    }
    let cookie: number;
    if (opts.cookie === undefined) {
      this.#pingCookie = (this.#pingCookie + 1) % 0x1_0000_0000;
      cookie = this.#pingCookie;
    } else cookie = opts.cookie;
    if (!Number.isInteger(cookie) || cookie < 0 || cookie > 0xffff_ffff) {
      return Promise.reject(bad('ping cookie must be a u32', { cookie }));
    }
    const t0 = this.#clock.now();
    this.#pingWaiting.set(cookie, (this.#pingWaiting.get(cookie) ?? 0) + 1);
    let sendError: RtkitError | undefined;
    const wait = this.#wait('pong', timeoutMs, opts.signal, () => {
      if (sendError !== undefined) return sendError;
      return this.#pongs.delete(cookie) ? true : undefined;
    });
    this.#write(0, encode({ kind: 'ping', cookie, extra: 0 }), opts.signal).catch((e: unknown) => {
      sendError = (withStep(e, 'ping') as RtkitError) ?? e;
      this.#kick();
    });
    const done = (): void => {
      const n = (this.#pingWaiting.get(cookie) ?? 1) - 1;
      if (n <= 0) this.#pingWaiting.delete(cookie);
      else this.#pingWaiting.set(cookie, n);
    };
    return wait.then(
      () => {
        done();
        return this.#clock.now() - t0;
      },
      (e: unknown) => {
        done();
        throw e;
      },
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Endpoints

  /**
   * STARTEP for a discovered endpoint (§3.4); resolves once sent (no reply is known). Rejects
   * `ENDPOINT_INVALID` (not an integer 1–255), `ENDPOINT_NOT_DISCOVERED`, `NOT_RUNNING` for an
   * application endpoint before AP ON (ML), `COPROC_CRASHED`; validated before any write (B27).
   * Already started: resolves without sending.
   */
  startEndpoint(ep: number, opts: RequestOptions = {}): Promise<void> {
    const err = this.#checkEndpointOp(ep, 'start');
    if (err !== undefined) return Promise.reject(err);
    if (this.#started[ep] === 1) return Promise.resolve();
    return this.#write(0, encode({ kind: 'startEndpoint', endpoint: ep }), opts.signal, opts).then(
      () => {
        this.#started[ep] = 1;
        this.#stateChanged('startep');
      },
    );
  }

  /** STARTEP with FLAG 1 = stop [single source: m1n1-Py]; the firmware's reaction is unknown. */
  stopEndpoint(ep: number, opts: RequestOptions = {}): Promise<void> {
    const err = this.#checkEndpointOp(ep, 'stop');
    if (err !== undefined) return Promise.reject(err);
    if (this.#started[ep] !== 1) return Promise.resolve();
    return this.#write(0, encode({ kind: 'stopEndpoint', endpoint: ep }), opts.signal, opts).then(
      () => {
        this.#started[ep] = 0;
        this.#stateChanged('stopep');
      },
    );
  }

  /**
   * Send a raw word. Application endpoints: the session must be running (`NOT_RUNNING`), the
   * endpoint discovered and started. System endpoints: discovered (raw access, e.g. m1n1's EP1
   * crash trigger). EP0: always. Every send rejects `COPROC_CRASHED` once crashed; nothing is
   * written. `timeoutMs` bounds the wait for FIFO space (default: the transport's, 500 ms).
   */
  send(ep: number, msg: bigint, opts?: RequestOptions): Promise<void> {
    const err = this.#checkSend(ep, msg);
    if (err !== undefined) return Promise.reject(err);
    if (ep === Endpoint.IOReport) this.#trackIoreport(msg);
    return this.#write(ep, msg, opts?.signal, opts);
  }

  /**
   * Send and wait for the first message on `ep` for which `match` is true; that message is
   * consumed (not passed to listeners). Rejects as `send`, and `TIMEOUT` (step `request`) when
   * no reply comes within `timeoutMs` (default 1000 ms).
   */
  request(
    ep: number,
    msg: bigint,
    match: (reply: bigint) => boolean,
    opts?: RequestOptions,
  ): Promise<bigint> {
    const err = this.#checkSend(ep, msg) ?? this.#checkRequest(ep, match, opts);
    if (err !== undefined) return Promise.reject(err);
    const signal = opts?.signal;
    if (signal?.aborted) return Promise.reject(abortedError('request', signal.reason));
    const timeoutMs = opts?.timeoutMs ?? this.#o.timeoutMs;
    let list = this.#matchers[ep];
    if (list === undefined) {
      list = [];
      this.#matchers[ep] = list;
    }
    const owner = list;
    return new Promise<bigint>((resolve, reject) => {
      const m = new Matcher(
        ep,
        match,
        this.#clock.now() + timeoutMs,
        timeoutMs,
        owner,
        resolve,
        reject,
        signal,
      );
      owner.push(m);
      this.#deadlines.add(m);
      if (signal !== undefined) {
        m.onAbort = () => m.settle(abortedError('request', signal.reason));
        signal.addEventListener('abort', m.onAbort, { once: true });
      }
      // The matcher is in place before the word leaves: a reply cannot overtake it.
      const sent = this.#transport.send(ep, msg, this.#sendOptions(signal, undefined));
      sent.then(
        () => {
          this.#counts.sent++;
          if (this.#emitter.has('tx')) this.#emitTraffic('tx', ep, msg);
        },
        (e: unknown) => m.settle(e),
      );
    });
  }

  /**
   * Listen to every message on `ep` not consumed by a request, in arrival order. A listener may
   * return a promise: later messages wait for it (never dropped). A throwing or rejecting
   * listener is reported as `HANDLER_FAILED`; processing continues (B29).
   */
  onMessage(ep: number, fn: (msg: bigint) => unknown): () => void {
    if (!isValidEndpoint(ep) || ep === 0) throw invalidEndpoint(ep);
    if (typeof fn !== 'function') throw bad('listener must be a function');
    const list = [...(this.#listeners[ep] ?? []), fn];
    this.#listeners[ep] = list;
    return () => {
      const cur = this.#listeners[ep];
      if (cur === undefined) return;
      const i = cur.indexOf(fn);
      if (i < 0) return;
      const next = cur.slice(0, i).concat(cur.slice(i + 1));
      this.#listeners[ep] = next.length === 0 ? undefined : next;
    };
  }

  /** An `EndpointHandle` for `ep` (no STARTEP sent; see `openEndpoint`). */
  endpoint(ep: number): EndpointHandle {
    if (!isValidEndpoint(ep) || ep === 0) throw invalidEndpoint(ep);
    let h = this.#handles.get(ep);
    if (h === undefined) {
      h = makeHandle(this, ep);
      this.#handles.set(ep, h);
    }
    return h;
  }

  /**
   * Start an application endpoint (if it is not started yet) and return its handle: what
   * drivers such as the SMC client are written against (`host/types.ts`).
   */
  async openEndpoint(ep: number, opts: RequestOptions = {}): Promise<EndpointHandle> {
    if (!isValidEndpoint(ep) || ep === 0) throw invalidEndpoint(ep);
    if (ep < this.#firstApp) {
      throw new RtkitError(
        ErrorCode.ENDPOINT_INVALID,
        `endpoint ${hexEp(ep)} is a system endpoint; application endpoints start at ${hexEp(this.#firstApp)}`,
        { ep, firstApp: this.#firstApp },
      );
    }
    await this.startEndpoint(ep, opts);
    return this.endpoint(ep);
  }

  /**
   * Stop: every pending operation, request and ping rejects `SESSION_CLOSED`; later messages
   * are ignored. With `transport: true` the transport is closed too. Idempotent.
   */
  async close(opts: { transport?: boolean } = {}): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      const closed = new RtkitError(ErrorCode.SESSION_CLOSED, 'the session is closed');
      this.#cutWire(closed, false);
      this.#failAll(closed);
      this.#deadlines.clear();
    }
    if (opts.transport === true) await this.#transport.close();
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle machinery

  #lifecycle<T>(name: string, opts: OperationOptions, body: (ctx: Ctx) => Promise<T>): Promise<T> {
    let timeoutMs: number;
    try {
      timeoutMs = this.#stepTimeout(opts);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.#closed) {
      return Promise.reject(new RtkitError(ErrorCode.SESSION_CLOSED, 'the session is closed'));
    }
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(abortedError(name, signal.reason));
    const ctx: Ctx = {
      timeoutMs,
      signal,
      step: (step, check, ms) => this.#wait(step, ms ?? timeoutMs, signal, check),
    };
    let started = false;
    const run = this.#opTail.then(() => {
      started = true;
      if (signal?.aborted) throw abortedError(name, signal.reason);
      if (this.#closed) throw new RtkitError(ErrorCode.SESSION_CLOSED, 'the session is closed');
      this.#log.debug?.(() => `${this.name}: ${name}`);
      return body(ctx);
    });
    this.#opTail = run.then(noop, noop);
    if (signal === undefined) return run;
    // Queued behind another operation: an abort rejects at once (the body will not run).
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        if (!started) reject(abortedError(name, signal.reason));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      run.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  #stepTimeout(opts: OperationOptions | RequestOptions | undefined): number {
    const t = opts?.timeoutMs;
    return t === undefined ? this.#o.timeoutMs : checkTimeout(t, 'timeoutMs');
  }

  /** Wait until `check` says done (true) or failed (an error), bounded by `timeoutMs`. */
  #wait(step: string, timeoutMs: number, signal: AbortSignal | undefined, check: Check) {
    const first = check();
    if (first === true) return Promise.resolve();
    if (first !== undefined) return Promise.reject(first);
    if (signal?.aborted) return Promise.reject(abortedError(step, signal.reason));
    return new Promise<void>((resolve, reject) => {
      let timer: TimerHandle | undefined;
      let onAbort: (() => void) | undefined;
      const w: Waiter = {
        check,
        settle: (error) => {
          if (!this.#waiters.delete(w)) return;
          if (timer !== undefined) this.#clock.clearTimer(timer);
          if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
          if (error === undefined) resolve();
          else reject(error);
        },
      };
      this.#waiters.add(w);
      timer = this.#clock.setTimer(timeoutMs, () => {
        timer = undefined;
        w.settle(
          new RtkitError(ErrorCode.TIMEOUT, `${step}: nothing within ${timeoutMs} ms`, {
            step,
            timeoutMs,
          }),
        );
      });
      if (signal !== undefined) {
        onAbort = () => w.settle(abortedError(step, signal.reason));
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  /** Re-evaluate every waiter (after each management message and state change). */
  #kick(): void {
    if (this.#waiters.size === 0) return;
    for (const w of [...this.#waiters]) {
      let r: true | RtkitError | undefined;
      try {
        r = w.check();
      } catch (e) {
        r = isRtkitError(e) ? e : new RtkitError('INTERNAL', errText(e), {}, { cause: e });
      }
      if (r === true) w.settle();
      else if (r !== undefined) w.settle(r);
    }
  }

  /** Reject every waiter, request and ping. */
  #failAll(error: RtkitError): void {
    for (const w of [...this.#waiters]) w.settle(error);
    for (const list of this.#matchers) {
      if (list === undefined) continue;
      for (const m of [...list]) m.settle(error);
    }
  }

  #assertUsable(): void {
    if (this.#closed) throw new RtkitError(ErrorCode.SESSION_CLOSED, 'the session is closed');
    if (this.#crashed) throw crashedError();
    if (this.#poweredOff) {
      throw new RtkitError(
        ErrorCode.POWERED_OFF,
        'the co-processor was powered off; reset its CPU (resetCpu) first',
      );
    }
  }

  async #ensureCpuRunning(): Promise<void> {
    const cpu = this.#cpu;
    if (cpu === undefined) return;
    try {
      const st = await readAscCpuStatus(cpu.mmio, cpu.ascBase);
      if (!st.stopped) return;
      this.#log.info?.(() => `${this.name}: CPU stopped, setting CPU_CONTROL.RUN`);
      await setAscCpuRun(cpu.mmio, cpu.ascBase, true);
    } catch (e) {
      throw withStep(e, 'cpu');
    }
  }

  /** boot (`wake` false) and wake: §4.2, §4.5. */
  async #bringUp(ctx: Ctx, wake: boolean): Promise<void> {
    this.#assertUsable();
    if (this.#running) return;
    await this.#ensureCpuRunning();
    const seq = this.#iopAckSeq;
    // After idle() the handshake is kept: the firmware acks 0x220 without a new HELLO (§4.5).
    // boot() then behaves as wake(): from IDLE only 0x220 brings the IOP back. A HELLO kept
    // from a firmware restart means the opposite: a full handshake.
    const keep = this.#handshake === 'done' && this.#pendingHello === undefined;
    const sendInit = wake || keep;
    this.#hsActive = true;
    this.#hsError = undefined;
    if (!keep) this.#setHandshake('hello');
    try {
      if (sendInit) {
        await this.#sendStep(
          'wake',
          encode({ kind: 'setIopPowerState', state: PowerState.Init }),
          ctx,
        );
      }
      if (!keep) this.#replayHello();
      if (keep) {
        // A firmware that restarted instead sends a HELLO: the handshake then runs in full.
        await ctx.step(
          'iop-power-ack',
          () => this.#hsError ?? (this.#handshake !== 'done' ? true : this.#iopOnSince(seq)),
        );
      }
      if (this.#handshake !== 'done' || this.#iopAckSeq === seq) {
        const hs =
          (want: (h: Handshake) => boolean): Check =>
          () =>
            this.#hsError ?? (want(this.#handshake) ? true : undefined);
        await ctx.step(
          'hello',
          hs((h) => h !== 'hello'),
        );
        await ctx.step(
          'epmap',
          hs((h) => h === 'starting' || h === 'done'),
        );
        // Bounded by the STARTEP sends' own timeouts (one retry each, B30); this is a backstop.
        const sendMs = this.#o.sendTimeoutMs ?? 500;
        await ctx.step(
          'startep',
          hs((h) => h === 'done'),
          ctx.timeoutMs + 2 * sendMs * (this.#o.systemEndpoints.size + 1),
        );
        await ctx.step('iop-power-ack', () => this.#hsError ?? this.#iopOnSince(seq));
      }
      await this.#setPower(ctx, 'ap', ON);
      const wait = this.#o.waitForBuffers;
      if (wait.length > 0) {
        await ctx.step('buffers', () =>
          wait.every((ep) => this.#started[ep] !== 1 || this.#buffersServed.has(ep))
            ? true
            : undefined,
        );
      }
    } catch (e) {
      this.#hsActive = false;
      if (this.#handshake !== 'done') this.#setHandshake('none');
      throw e;
    }
    this.#hsActive = false;
    this.#running = true;
    this.#stateChanged(wake ? 'wake' : 'boot');
  }

  /** §4.7: after boot/wake any IOP ack with `(state & 0xff) == 0x20` means ON. */
  #iopOnSince(seq: number): true | RtkitError | undefined {
    if (this.#iopAckSeq === seq) return undefined;
    const s = this.#lastIopAck;
    return isOn(s) ? true : powerMismatch('iop', PowerState.Init, s, 'iop-power-ack');
  }

  async #setPower(ctx: Ctx, which: 'ap' | 'iop', state: number): Promise<void> {
    const ap = which === 'ap';
    const seq = ap ? this.#apAckSeq : this.#iopAckSeq;
    const step = ap ? 'ap-power-ack' : 'iop-power-ack';
    const word = ap
      ? encode({ kind: 'setApPowerState', state })
      : encode({ kind: 'setIopPowerState', state });
    await this.#sendStep(ap ? 'ap-power' : 'iop-power', word, ctx);
    if (ap && state === ON && this.#v10Early()) {
      // 10.0/10.1 firmware does not ack AP ON; HoolockLinux treats it as done (§3.2).
      this.#apState = ON;
      this.#stateChanged('ap-assumed');
      return;
    }
    await ctx.step(step, () => {
      if ((ap ? this.#apAckSeq : this.#iopAckSeq) === seq) return undefined;
      const acked = ap ? this.#lastApAck : this.#lastIopAck;
      return ackMatches(which, state, acked, this.#version)
        ? true
        : powerMismatch(which, state, acked, step);
    });
  }

  #v10Early(): boolean {
    return this.#version === 10 && this.#minor !== undefined && this.#minor < 2;
  }

  async #powerDown(ctx: Ctx, iopState: number, reason: string): Promise<void> {
    this.#assertUsable();
    this.#stopRunning(reason);
    // "Always change the AP state first" (§4.5): QUIESCED on every shutdown, OFF for power-off.
    const apState = iopState === PowerState.Off ? PowerState.Off : PowerState.Quiesced;
    try {
      await this.#setPower(ctx, 'ap', apState);
      await this.#setPower(ctx, 'iop', iopState);
    } catch (e) {
      // The IOP may still use its buffers: keep them alive (HF "free retaining buffers", M6).
      await this.#manager?.releaseAll({ keep: true }).catch(noop);
      throw e;
    }
    await this.#reinitBody(reason);
  }

  async #resetBody(): Promise<void> {
    const cpu = this.#cpu;
    if (cpu === undefined) {
      throw new RtkitError(
        ErrorCode.CPU_CONTROL_UNAVAILABLE,
        'resetCpu needs CPU control (options.cpu: { mmio, ascBase })',
      );
    }
    if (this.#closed) throw new RtkitError(ErrorCode.SESSION_CLOSED, 'the session is closed');
    try {
      await setAscCpuRun(cpu.mmio, cpu.ascBase, false);
    } catch (e) {
      throw withStep(e, 'cpu');
    }
    // Whatever the firmware said before the reset belongs to a CPU that no longer runs.
    this.#pendingHello = undefined;
    this.#poweredOff = false;
    await this.#reinitBody('reset');
  }

  async #reinitBody(reason: string): Promise<void> {
    const gone = new RtkitError(ErrorCode.NOT_RUNNING, `session reinitialised (${reason})`);
    if (!this.#closed) this.#cutWire(gone, true);
    for (const list of this.#matchers) {
      if (list === undefined) continue;
      for (const m of [...list]) m.settle(gone);
    }
    for (const w of [...this.#waiters]) w.settle(gone);
    this.#running = false;
    this.#crashed = false;
    this.#hsActive = false;
    this.#hsError = undefined;
    this.#handshake = 'none';
    this.#version = undefined;
    this.#minor = undefined;
    this.#firstApp = Endpoint.AppBase;
    this.#appCtx = this.#makeAppCtx();
    this.#iopState = undefined;
    this.#apState = undefined;
    this.#pongs.clear();
    let failure: unknown;
    try {
      await this.#resetFirmwareSession();
    } catch (e) {
      failure = e;
    }
    this.#stateChanged(reason);
    if (failure !== undefined) throw failure;
  }

  /**
   * What one firmware session established and a new one (a HELLO, a reinit) replaces: the
   * endpoint map, the crash arming, syslog geometry, outstanding echoes, every buffer.
   */
  async #resetFirmwareSession(): Promise<void> {
    this.#discovered.fill(0);
    this.#started.fill(0);
    this.#crashArmed = false;
    this.#syslog.reset();
    this.#syslogGeo = undefined;
    this.#syslogBuf = undefined;
    this.#syslogShadow = undefined;
    this.#ioreportOutstanding.clear();
    this.#buffersServed.clear();
    const kd = this.#kdebugBuffers;
    this.#kdebugBuffers = [];
    const errors: unknown[] = [];
    for (const k of kd) {
      try {
        await k.strategy.release(k.buffer);
      } catch (e) {
        errors.push(e);
      }
    }
    if (this.#manager !== undefined && this.#manager.live > 0) {
      try {
        await this.#manager.releaseAll();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length > 0) {
      const e = errors[0];
      this.#warn(WarningCode.BUFFER_RELEASE_FAILED, `buffer release failed: ${errText(e)}`, {
        details: { errors },
      });
      throw isRtkitError(e)
        ? e
        : new RtkitError(WarningCode.BUFFER_RELEASE_FAILED, errText(e), {}, { cause: e });
    }
  }

  #stopRunning(reason: string): void {
    if (!this.#running) return;
    this.#running = false;
    this.#stateChanged(reason);
  }

  #setHandshake(h: Handshake): void {
    this.#handshake = h;
    this.#stateChanged(`handshake-${h}`);
  }

  /** A HELLO that arrived while nobody was booting: hand it to this boot (§4.6 F1). */
  #replayHello(): void {
    const msg = this.#pendingHello;
    if (msg === undefined) return;
    this.#pendingHello = undefined;
    this.#inbox.push({ ep: 0, msg, replay: true });
    if (!this.#processing) this.#pump();
  }

  // ---------------------------------------------------------------------------------------------
  // Sending

  #sendOptions(signal: AbortSignal | undefined, opts: RequestOptions | undefined): SendOptions {
    if (signal === undefined && opts?.timeoutMs === undefined) {
      // The common case (echoes, replies, app sends without options): one object per wire.
      this.#wireOpts ??=
        this.#o.sendTimeoutMs === undefined
          ? { signal: this.#wire.signal }
          : { signal: this.#wire.signal, timeoutMs: this.#o.sendTimeoutMs };
      return this.#wireOpts;
    }
    const timeoutMs = opts?.timeoutMs ?? this.#o.sendTimeoutMs;
    const wire = this.#wire.signal;
    const o: SendOptions = {
      signal: signal === undefined ? wire : AbortSignal.any([signal, wire]),
    };
    if (timeoutMs !== undefined) o.timeoutMs = timeoutMs;
    return o;
  }

  /** Withdraw every word still queued for the transport; later words use a fresh signal. */
  #cutWire(reason: RtkitError, renew: boolean): void {
    this.#wire.abort(reason);
    this.#wireOpts = undefined;
    if (renew) this.#wire = new AbortController();
  }

  /** Every word the session writes goes through here (tx event after the transport took it). */
  #write(ep: number, msg: bigint, signal?: AbortSignal, opts?: RequestOptions): Promise<void> {
    if (this.#crashed) return Promise.reject(crashedError());
    const p = this.#transport.send(ep, msg, this.#sendOptions(signal, opts));
    return p.then(() => {
      this.#counts.sent++;
      if (this.#emitter.has('tx')) this.#emitTraffic('tx', ep, msg);
    });
  }

  /** A management word a lifecycle step depends on; failures carry the step. */
  async #sendStep(step: string, msg: bigint, ctx: Ctx): Promise<void> {
    if (this.#crashed) throw crashedError();
    try {
      await this.#write(0, msg, ctx.signal);
    } catch (e) {
      throw withStep(e, step);
    }
  }

  /**
   * An acknowledgement the firmware waits for (echo, buffer reply): sent without holding up the
   * receive loop (the transport keeps call order); a failure is a `REPLY_FAILED` warning.
   * Nothing is sent to a crashed co-processor.
   */
  #reply(ep: number, msg: bigint, what: string): void {
    if (this.#crashed || this.#closed) return;
    this.#write(ep, msg).catch((e: unknown) => {
      this.#warn(WarningCode.REPLY_FAILED, `${what} not sent: ${errText(e)}`, {
        ep,
        msg,
        details: { error: e },
      });
    });
  }

  #checkSend(ep: number, msg: bigint): RtkitError | undefined {
    if (!isValidEndpoint(ep)) return invalidEndpoint(ep);
    if (!isValidMsg0(msg)) {
      return bad('msg must be a bigint in [0, 2^64)', { msg: String(msg) });
    }
    if (this.#closed) return new RtkitError(ErrorCode.SESSION_CLOSED, 'the session is closed');
    if (this.#crashed) return crashedError();
    if (ep === 0) return undefined;
    if (ep >= this.#firstApp) {
      if (!this.#running) return notRunning(ep);
      if (this.#discovered[ep] !== 1) return notDiscovered(ep);
      if (this.#started[ep] !== 1) {
        return new RtkitError(
          ErrorCode.ENDPOINT_NOT_STARTED,
          `endpoint ${hexEp(ep)} is not started (startEndpoint / openEndpoint)`,
          { ep },
        );
      }
      return undefined;
    }
    return this.#discovered[ep] === 1 ? undefined : notDiscovered(ep);
  }

  #checkRequest(
    ep: number,
    match: unknown,
    opts: RequestOptions | undefined,
  ): RtkitError | undefined {
    if (ep < this.#firstApp) {
      return new RtkitError(
        ErrorCode.ENDPOINT_INVALID,
        `request() is for application endpoints (from ${hexEp(this.#firstApp)}); the session consumes system replies itself`,
        { ep },
      );
    }
    if (typeof match !== 'function') return bad('match must be a function');
    try {
      this.#stepTimeout(opts);
    } catch (e) {
      return e as RtkitError;
    }
    return undefined;
  }

  /** B27: the endpoint is checked before any state change or write. */
  #checkEndpointOp(ep: number, what: 'start' | 'stop'): RtkitError | undefined {
    if (!isValidEndpoint(ep) || ep === 0) return invalidEndpoint(ep);
    if (this.#closed) return new RtkitError(ErrorCode.SESSION_CLOSED, 'the session is closed');
    if (this.#crashed) return crashedError();
    if (this.#discovered[ep] !== 1) return notDiscovered(ep);
    // ML refuses application endpoints unless the IOP and AP are ON (§3.4).
    if (what === 'start' && ep >= this.#firstApp && !this.#running) return notRunning(ep);
    return undefined;
  }

  #trackIoreport(msg: bigint): void {
    const m = decode(Endpoint.IOReport, msg, { dir: 'ap->iop' });
    if (m.kind === 'ioreportQuery') {
      this.#ioreportOutstanding.set(msg, (this.#ioreportOutstanding.get(msg) ?? 0) + 1);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Receive loop: one queue, arrival order, async work awaited before the next message (B29).

  #receive(m: MailboxMessage): void {
    if (this.#closed) return;
    this.#counts.received++;
    this.#inbox.push(m);
    if (!this.#processing) this.#pump();
  }

  #pump(): void {
    this.#processing = true;
    for (;;) {
      const m = this.#inbox.shift();
      if (m === undefined) break;
      if (this.#closed) continue;
      let r: unknown;
      try {
        r = this.#handle(m.ep, m.msg, m.replay === true);
      } catch (e) {
        this.#internalError(e, m);
      }
      if (r !== undefined && isThenable(r)) {
        r.then(
          () => this.#pump(),
          (e: unknown) => {
            this.#internalError(e, m);
            this.#pump();
          },
        );
        return;
      }
    }
    this.#processing = false;
  }

  #internalError(e: unknown, m: MailboxMessage | undefined): void {
    this.#warn(WarningCode.HANDLER_FAILED, `message handling failed: ${errText(e)}`, {
      ...(m === undefined ? {} : { ep: m.ep, msg: m.msg }),
      details: { error: e },
    });
  }

  #handle(ep: number, msg: bigint, replay: boolean): unknown {
    if (ep >= this.#firstApp) return this.#onApp(ep, msg);
    const m = decode(ep, msg, this.#ctx(ep));
    if (!replay && this.#emitter.has('rx')) {
      this.#emitter.emit('rx', { ep, msg, message: m, time: this.#clock.now() });
    }
    if (m.kind !== 'unknown' && m.kind !== 'oslogCounter' && m.reserved !== undefined) {
      this.#warn(WarningCode.RESERVED_BITS_SET, notesFor(m)[0]?.message ?? 'reserved bits set', {
        ep,
        msg,
      });
    }
    if (ep === Endpoint.Management) {
      const r = this.#onManagement(m, msg);
      if (r === undefined) this.#kick();
      return r;
    }
    if (this.#discovered[ep] !== 1) {
      this.#undiscovered(ep, msg);
      return undefined;
    }
    switch (ep) {
      case Endpoint.Crashlog:
        return this.#onCrashlog(m, msg);
      case Endpoint.Syslog:
        return this.#onSyslog(m, msg);
      case Endpoint.Debug:
        return this.#onKdebug(m, msg);
      case Endpoint.IOReport:
        return this.#onIoreport(m, msg);
      case Endpoint.OSLog:
        return this.#onOslog(m, msg);
      default:
        // tracekit (no messages documented, §5.6) and unknown system endpoints.
        this.#unknown(ep, m, msg);
        return undefined;
    }
  }

  #ctx(ep: number): DecodeContext {
    return {
      dir: 'iop->ap',
      crashlogArmed: ep === Endpoint.Crashlog && this.#crashArmed,
      version: this.#version,
      minor: this.#minor,
      coproc: this.#coproc,
    };
  }

  #makeAppCtx(): DecodeContext {
    return { dir: 'iop->ap', version: this.#version, minor: this.#minor, coproc: this.#coproc };
  }

  #undiscovered(ep: number, msg: bigint): void {
    this.#warn(
      WarningCode.UNDISCOVERED_ENDPOINT,
      `message on endpoint ${hexEp(ep)}, which is not in the endpoint map`,
      { ep, msg },
    );
    if (this.#emitter.has('unhandled')) {
      this.#emitter.emit('unhandled', { ep, msg, reason: 'undiscovered' });
    }
  }

  #unknown(ep: number, m: Message, msg: bigint, why?: string): void {
    this.#warn(
      WarningCode.UNKNOWN_MESSAGE,
      `${why ?? summarize(m)} on endpoint ${hexEp(ep)}; nothing sent`,
      { ep, msg },
    );
  }

  // --- application endpoints

  #onApp(ep: number, msg: bigint): unknown {
    if (this.#emitter.has('rx')) {
      this.#emitter.emit('rx', {
        ep,
        msg,
        message: decode(ep, msg, this.#appCtx),
        time: this.#clock.now(),
      });
    }
    const discovered = this.#discovered[ep] === 1;
    if (!discovered) {
      this.#warn(
        WarningCode.UNDISCOVERED_ENDPOINT,
        `message on endpoint ${hexEp(ep)}, which is not in the endpoint map`,
        { ep, msg },
      );
    }
    const matchers = this.#matchers[ep];
    if (matchers !== undefined && matchers.length > 0) {
      for (let i = 0; i < matchers.length; i++) {
        const mt = matchers[i]!;
        let hit = false;
        try {
          hit = mt.match(msg) === true;
        } catch (e) {
          this.#warn(WarningCode.HANDLER_FAILED, `a request matcher threw: ${errText(e)}`, {
            ep,
            msg,
            details: { error: e },
          });
        }
        if (hit) {
          mt.settle(undefined, msg);
          return undefined;
        }
      }
    }
    const ls = this.#listeners[ep];
    if (ls === undefined) {
      if (this.#emitter.has('unhandled')) {
        this.#emitter.emit('unhandled', {
          ep,
          msg,
          reason: discovered ? 'no-handler' : 'undiscovered',
        });
      }
      return undefined;
    }
    if (ls.length === 1) return this.#callListener(ls[0]!, ep, msg);
    return this.#callListeners(ls, 0, ep, msg);
  }

  #callListeners(ls: readonly Listener[], from: number, ep: number, msg: bigint): unknown {
    for (let i = from; i < ls.length; i++) {
      const r = this.#callListener(ls[i]!, ep, msg);
      if (r !== undefined) {
        return (r as Promise<void>).then(() => this.#callListeners(ls, i + 1, ep, msg));
      }
    }
    return undefined;
  }

  /** Undefined when the listener finished synchronously, else a promise that never rejects. */
  #callListener(fn: Listener, ep: number, msg: bigint): Promise<void> | undefined {
    const failed = (e: unknown): void => {
      this.#warn(WarningCode.HANDLER_FAILED, `a listener on ${hexEp(ep)} failed: ${errText(e)}`, {
        ep,
        msg,
        details: { error: e },
      });
    };
    try {
      const r = fn(msg);
      if (r !== undefined && isThenable(r)) return Promise.resolve(r).then(noop, failed);
    } catch (e) {
      failed(e);
    }
    return undefined;
  }

  // --- management (EP 0)

  #onManagement(m: Message, msg: bigint): Promise<void> | undefined {
    switch (m.kind) {
      case 'hello':
        return this.#onHello(m.minVersion, m.maxVersion, msg);
      case 'epmap':
        return this.#onEpmap(m.base, m.bitmap, m.last, msg);
      case 'iopPowerStateAck':
        this.#iopAckSeq++;
        this.#lastIopAck = m.state;
        this.#iopState = m.state;
        this.#stateChanged('iop-ack');
        return undefined;
      case 'apPowerStateAck':
        this.#apAckSeq++;
        this.#lastApAck = m.state;
        this.#apState = m.state;
        this.#stateChanged('ap-ack');
        return undefined;
      case 'pong':
        if (this.#pingWaiting.has(m.cookie)) this.#pongs.add(m.cookie);
        else {
          this.#warn(
            WarningCode.UNEXPECTED_MESSAGE,
            `PONG ${hexN(m.cookie)} matches no outstanding PING`,
            { ep: 0, msg },
          );
        }
        return undefined;
      default:
        this.#unknown(0, m, msg);
        return undefined;
    }
  }

  #onHello(fwMin: number, fwMax: number, msg: bigint): Promise<void> | undefined {
    const accept =
      this.#hsActive &&
      (this.#handshake === 'hello' || (this.#handshake === 'done' && !this.#running));
    if (!accept) {
      // Nobody is booting: keep it for the next boot()/wake() (the firmware waits for an ack).
      if (this.#running || this.#handshake !== 'none') {
        this.#warn(
          WarningCode.UNEXPECTED_MESSAGE,
          `HELLO v${fwMin}..${fwMax} outside a boot (handshake ${this.#handshake}); kept for the next boot`,
          { ep: 0, msg },
        );
      }
      this.#pendingHello = msg;
      return undefined;
    }
    return this.#acceptHello(fwMin, fwMax);
  }

  async #acceptHello(fwMin: number, fwMax: number): Promise<void> {
    const choice = chooseVersion(fwMin, fwMax, this.#o.minVersion, this.#o.maxVersion);
    if (choice instanceof RtkitError) {
      if (this.#o.nak) {
        try {
          await this.#write(
            0,
            encode({ kind: 'helloAck', minVersion: 0xffff, maxVersion: 0x0bad }),
          );
        } catch (e) {
          this.#warn(WarningCode.REPLY_FAILED, `HELLO NAK not sent: ${errText(e)}`, { ep: 0 });
        }
      }
      this.#hsError = choice;
      this.#kick();
      return;
    }
    const { version, minor } = choice;
    const ack = [choice.ackMin, choice.ackMax] as const;
    // A new firmware session: whatever the previous one set up is gone.
    try {
      await this.#resetFirmwareSession();
    } catch {
      // warned; the handshake goes on
    }
    this.#version = version;
    this.#minor = minor;
    this.#firstApp = firstAppEndpoint(version, minor);
    this.#appCtx = this.#makeAppCtx();
    this.#log.info?.(
      () =>
        `${this.name}: initializing (protocol version ${version}${minor === undefined ? '' : `.${minor}`})`,
    );
    this.#setHandshake('epmap');
    try {
      await this.#write(0, encode({ kind: 'helloAck', minVersion: ack[0], maxVersion: ack[1] }));
    } catch (e) {
      this.#hsError = withStep(e, 'hello') as RtkitError;
    }
    this.#kick();
  }

  async #onEpmap(base: number, bitmap: number, last: boolean, msg: bigint): Promise<void> {
    if (this.#handshake !== 'epmap') {
      this.#warn(
        WarningCode.UNEXPECTED_MESSAGE,
        `EPMAP block ${base} outside the handshake (${this.#handshake}); not answered`,
        { ep: 0, msg },
      );
      return;
    }
    // A 256-bit set: repeated and out-of-order blocks are harmless (B16, B26).
    for (let i = 0; i < 32; i++) {
      if (Math.floor(bitmap / 2 ** i) % 2 === 1) {
        const ep = base * 32 + i;
        if (ep !== 0) this.#discovered[ep] = 1;
      }
    }
    const v10 = this.#version === 10;
    // v10: every block is final and the reply carries only BASE (§3.2, HoolockLinux).
    const final = v10 || last;
    const reply = v10
      ? encode({ kind: 'epmapReply', base, last: false, more: false })
      : encode({ kind: 'epmapReply', base, last, more: !last });
    if (final) this.#setHandshake('starting');
    try {
      await this.#write(0, reply);
    } catch (e) {
      this.#hsError = withStep(e, 'epmap') as RtkitError;
      this.#kick();
      return;
    }
    if (!final) return;
    this.#kick();
    await this.#startSystemEndpoints();
    this.#kick();
  }

  async #startSystemEndpoints(): Promise<void> {
    const start: number[] = [];
    for (let ep = 1; ep < this.#firstApp; ep++) {
      if (this.#discovered[ep] !== 1) continue;
      if (this.#o.systemEndpoints.has(ep)) start.push(ep);
      else {
        // ML warns and does not start it; m1n1-Py aborts the boot (B39).
        this.#warn(
          WarningCode.UNKNOWN_SYSTEM_ENDPOINT,
          `unknown system endpoint ${hexEp(ep)}: not started`,
          { ep, details: { ep } },
        );
      }
    }
    for (const ep of start) {
      const word = encode({ kind: 'startEndpoint', endpoint: ep });
      try {
        await this.#write(0, word);
      } catch (e) {
        // B30: one retry when the FIFO stayed full, then the boot fails.
        if (!isRtkitError(e, ErrorCode.TRANSPORT_TIMEOUT) || this.#crashed) {
          this.#hsError = withStep(e, 'startep') as RtkitError;
          return;
        }
        try {
          await this.#write(0, word);
        } catch (e2) {
          this.#hsError = withStep(e2, 'startep') as RtkitError;
          return;
        }
      }
      this.#started[ep] = 1;
      if (ep === Endpoint.Debug && this.#o.kdebug === 'm1n1') {
        this.#reply(Endpoint.Debug, encode({ kind: 'kdebugStart' }), 'KDebug START');
      }
    }
    this.#setHandshake('done');
  }

  // --- crashlog (EP 1)

  #onCrashlog(m: Message, msg: bigint): Promise<void> | undefined {
    switch (m.kind) {
      case 'crashlogBufferRequest':
        // The first type-1 arms crash detection, whether or not it can be served (B13).
        this.#crashArmed = true;
        return this.#serveBuffer(Endpoint.Crashlog, m, msg);
      case 'crashNotification':
        return this.#onCrash(m.size, m.iova, msg);
      default:
        this.#unknown(Endpoint.Crashlog, m, msg);
        return undefined;
    }
  }

  /** §5.1: copy exactly the recorded buffer, parse, report; no reply (B17). */
  async #onCrash(size: number, iova: number, msg: bigint): Promise<void> {
    if (this.#crashed) {
      this.#warn(WarningCode.UNEXPECTED_MESSAGE, 'another crash notification; ignored', {
        ep: 1,
        msg,
      });
      return;
    }
    this.#crashed = true;
    this.#running = false;
    this.#hsActive = false;
    this.#counts.crashes++;
    this.#cutWire(crashedError(), false);
    this.#log.error?.(() => `${this.name}: co-processor has crashed (${hex64Of(msg)})`);
    this.#failAll(crashedError());
    this.#stateChanged('crash');

    const entry = this.#manager?.entries().find((e) => e.ep === Endpoint.Crashlog);
    let log: Uint8Array | undefined;
    let problem: CrashEvent['problem'];
    if (entry === undefined) {
      problem = 'CRASHLOG_UNAVAILABLE';
      this.#warn(WarningCode.CRASHLOG_UNAVAILABLE, 'no crashlog buffer was set up', {
        ep: 1,
        msg,
      });
    } else {
      const recordedPages = Math.ceil(entry.request.bytes / 4096);
      const recordedIova = entry.buffer.device;
      if (size !== recordedPages || iova !== recordedIova) {
        // B8: the notification can never enlarge (or move) what is read.
        this.#warn(
          WarningCode.CRASH_NOTIFICATION_MISMATCH,
          `crash notification says ${size} pages at ${hexN(iova)}; the recorded buffer is ${recordedPages} pages at ${hexN(recordedIova)}`,
          {
            ep: 1,
            msg,
            details: {
              recordedPages,
              notifiedPages: size,
              recordedIova,
              notifiedIova: iova,
            },
          },
        );
      }
      const n = entry.request.bytes;
      try {
        const bytes = await entry.buffer.read(0, n);
        if (!(bytes instanceof Uint8Array) || bytes.length !== n) {
          throw new RtkitError('SHORT_READ', `read ${bytes?.length} of ${n} bytes`);
        }
        // Private copy before parsing: the IOP may still be writing (P1).
        log = bytes.slice();
      } catch (e) {
        problem = 'CRASHLOG_COPY_FAILED';
        this.#warn(WarningCode.CRASHLOG_COPY_FAILED, `crashlog copy failed: ${errText(e)}`, {
          ep: 1,
          msg,
          details: { error: e },
        });
      }
    }
    let event: CrashEvent;
    if (log === undefined) {
      event = { msg, time: this.#clock.now(), log: undefined, size: 0, problem: problem! };
    } else {
      const parsed = parseCrashlog(log, this.#crashlogOpts);
      event = parsed.ok
        ? { msg, time: this.#clock.now(), log, size: log.length, report: parsed.report }
        : { msg, time: this.#clock.now(), log, size: log.length, parseError: parsed.error };
    }
    this.#emitter.emit('crash', event);
  }

  // --- syslog (EP 2)

  #onSyslog(m: Message, msg: bigint): Promise<void> | undefined {
    switch (m.kind) {
      case 'syslogBufferRequest':
        return this.#serveBuffer(Endpoint.Syslog, m, msg);
      case 'syslogInit':
        this.#onSyslogInit(m.entryCount, m.messageSize, m, msg);
        return undefined;
      case 'syslogLog':
        return this.#onSyslogLog(m.index, msg);
      default:
        this.#unknown(Endpoint.Syslog, m, msg);
        return undefined;
    }
  }

  #onSyslogInit(count: number, size: number, m: Message, msg: bigint): void {
    for (const n of notesFor(m)) {
      if (n.code === WarningCode.SYSLOG_INIT_WIDE_FIELDS) {
        this.#warn(WarningCode.SYSLOG_INIT_WIDE_FIELDS, n.message, { ep: 2, msg });
      }
    }
    const g = this.#syslog.setInit(count, size);
    this.#syslogGeo = g;
    for (const p of g.problems) this.#warn(p.code, p.message, { ep: 2, msg });
  }

  #onSyslogLog(index: number, msg: bigint): Promise<void> | undefined {
    const g = this.#syslogGeo;
    const buf = this.#syslogBuf;
    const shadow = this.#syslogShadow;
    if (g !== undefined && buf !== undefined && shadow !== undefined && index < g.usableEntries) {
      const off = index * g.stride;
      // Decode before echoing: the echo hands the slot back to the firmware (§5.2).
      return buf.read(off, g.stride).then(
        (bytes) => {
          shadow.set(bytes.subarray(0, g.stride), off);
          this.#decodeLog(index, msg);
          this.#reply(Endpoint.Syslog, msg, 'syslog LOG echo');
        },
        (e: unknown) => {
          this.#warn(WarningCode.BUFFER_READ_FAILED, `syslog entry ${index}: ${errText(e)}`, {
            ep: 2,
            msg,
            details: { error: e },
          });
          this.#reply(Endpoint.Syslog, msg, 'syslog LOG echo');
        },
      );
    }
    // Not decodable (no INIT, no buffer, index out of range): the reason is a warning, and the
    // LOG is echoed all the same (B9, B10, B23, B24).
    this.#decodeLog(index, msg);
    this.#reply(Endpoint.Syslog, msg, 'syslog LOG echo');
    return undefined;
  }

  #decodeLog(index: number, msg: bigint): void {
    const r = this.#syslog.decode(index);
    if (r.ok) {
      this.#counts.syslogEntries++;
      this.#log.debug?.(() => `${this.name}: syslog: ${r.entry.context}: ${r.entry.message}`);
      if (this.#emitter.has('syslog')) this.#emitter.emit('syslog', { index, entry: r.entry, msg });
    } else this.#warn(r.code, r.message, { ep: 2, msg, details: { index } });
  }

  // --- kdebug (EP 3)

  #onKdebug(m: Message, msg: bigint): Promise<void> | undefined {
    switch (m.kind) {
      case 'kdebugGetBuffer':
        this.#system('kdebug', 3, msg, m, this.#o.kdebug === 'm1n1' ? 'buffer' : 'reported');
        if (this.#o.kdebug === 'm1n1') return this.#serveKdebug(m.count, msg);
        return undefined;
      case 'kdebugPreallocated1':
      case 'kdebugPreallocated2':
        this.#system('kdebug', 3, msg, m, 'reported');
        return undefined;
      default:
        this.#unknown(Endpoint.Debug, m, msg);
        return undefined;
    }
  }

  /** m1n1-Py: COUNT × 0x20 bytes (16 KiB aligned) as buffer 1, then 0x2000 bytes as buffer 2. */
  async #serveKdebug(count: number, msg: bigint): Promise<void> {
    if (this.#kdebugBuffers.length > 0) {
      for (const k of this.#kdebugBuffers) this.#reply(3, k.reply, 'KDebug buffer reply');
      return;
    }
    const want = [
      { bytes: Math.ceil((count * 0x20) / 0x4000) * 0x4000, kind: 'kdebugBuffer1' as const },
      { bytes: 0x2000, kind: 'kdebugBuffer2' as const },
    ];
    for (const w of want) {
      const req: BufferRequest = { ep: 3, bytes: w.bytes, iova: 0 };
      const strategy = this.#strategyFor(req);
      if (strategy === undefined || !Number.isSafeInteger(w.bytes) || w.bytes <= 0) {
        this.#warn(WarningCode.BUFFER_REJECTED, 'KDebug buffer not served (no strategy)', {
          ep: 3,
          msg,
        });
        return;
      }
      let d: Awaited<ReturnType<BufferStrategy['acquire']>>;
      try {
        d = await strategy.acquire(req);
      } catch (e) {
        this.#warn(WarningCode.BUFFER_ALLOC_FAILED, `KDebug buffer: ${errText(e)}`, { ep: 3, msg });
        return;
      }
      if (!d.ok) {
        this.#warn(d.code, `KDebug buffer: ${d.message}`, { ep: 3, msg });
        return;
      }
      if (d.buffer.device === 0) {
        await strategy.release(d.buffer).catch(noop);
        this.#warn(WarningCode.BUFFER_ALLOC_FAILED, 'KDebug buffer at address 0 (M3)', { ep: 3 });
        return;
      }
      const reply = encode({ kind: w.kind, dva: d.buffer.device });
      this.#kdebugBuffers.push({ strategy, buffer: d.buffer, reply });
      this.#reply(3, reply, 'KDebug buffer reply');
    }
  }

  #strategyFor(req: BufferRequest): BufferStrategy | undefined {
    const s = this.#strategies;
    if (s === undefined) return undefined;
    if (typeof s === 'function') return s(req.ep, req);
    return s.byEndpoint?.[req.ep] ?? s.default;
  }

  // --- IOReport (EP 4)

  #onIoreport(m: Message, msg: bigint): Promise<void> | undefined {
    switch (m.kind) {
      case 'ioreportBufferRequest':
        return this.#serveBuffer(Endpoint.IOReport, m, msg);
      case 'ioreportReport':
      case 'ioreportStart':
        // "must be ACKed or the co-processor will hang" (ML): the identical word.
        this.#reply(Endpoint.IOReport, msg, 'IOReport echo');
        this.#system('ioreport', 4, msg, m, 'echoed');
        return undefined;
      case 'ioreportQuery': {
        const n = this.#ioreportOutstanding.get(msg) ?? 0;
        if (n > 0) {
          if (n === 1) this.#ioreportOutstanding.delete(msg);
          else this.#ioreportOutstanding.set(msg, n - 1);
          this.#system('ioreport', 4, msg, m, 'echo-received');
        } else this.#unknown(4, m, msg, 'IOReport type 4 with none of ours outstanding');
        return undefined;
      }
      default:
        this.#unknown(Endpoint.IOReport, m, msg);
        return undefined;
    }
  }

  // --- OSLog (EP 8)

  #onOslog(m: Message, msg: bigint): Promise<void> | undefined {
    switch (m.kind) {
      case 'oslogBufferRequest':
        for (const n of notesFor(m)) {
          if (n.code === WarningCode.OSLOG_LAYOUT_AMBIGUOUS) {
            this.#warn(WarningCode.OSLOG_LAYOUT_AMBIGUOUS, n.message, { ep: 8, msg });
          }
        }
        return this.#serveBuffer(Endpoint.OSLog, m, msg);
      case 'oslogCounter':
        // B33 [single source: HF]: echoed when [55:32] is zero and a buffer exists.
        if (m.reserved === undefined && this.#manager?.get(Endpoint.OSLog) !== undefined) {
          this.#reply(Endpoint.OSLog, msg, 'OSLog counter echo');
          this.#system('oslog', 8, msg, m, 'echoed');
        } else {
          this.#unknown(
            8,
            m,
            msg,
            m.reserved === undefined
              ? 'OSLog counter without an OSLog buffer'
              : 'OSLog counter with bits [55:32] set',
          );
          this.#system('oslog', 8, msg, m, 'reported');
        }
        return undefined;
      default:
        this.#unknown(Endpoint.OSLog, m, msg);
        this.#system('oslog', 8, msg, m, 'reported');
        return undefined;
    }
  }

  #system(
    name: 'oslog' | 'ioreport' | 'kdebug',
    ep: number,
    msg: bigint,
    message: Message,
    action: SystemMessageEvent['action'],
  ): void {
    if (this.#emitter.has(name)) this.#emitter.emit(name, { ep, msg, message, action });
  }

  // --- buffers (§6)

  async #serveBuffer(ep: number, m: Message, msg: bigint): Promise<void> {
    const mgr = this.#manager;
    if (mgr === undefined) {
      this.#buffersServed.add(ep);
      this.#warn(WarningCode.BUFFER_REJECTED, 'no buffer strategies configured; no reply', {
        ep,
        msg,
      });
      return;
    }
    const pending = mgr.handleMessage(ep, m);
    if (pending === undefined) {
      this.#unknown(ep, m, msg);
      return;
    }
    const out = await pending;
    this.#buffersServed.add(ep);
    this.#kick();
    switch (out.kind) {
      case 'granted':
        this.#bindBuffer(ep, out.buffer, out.request.bytes, msg);
        if (out.reply !== undefined) this.#reply(ep, out.reply, 'buffer reply');
        this.#log.debug?.(
          () =>
            `${this.name}: ${hexEp(ep)} buffer ${hexN(out.request.bytes)} bytes at ${hexN(out.buffer.device)} (${out.buffer.mode})`,
        );
        return;
      case 'repeat':
        // M2, B11: the identical reply again (mode A), nothing for modes B/C.
        if (out.reply !== undefined) this.#reply(ep, out.reply, 'buffer reply');
        return;
      case 'busy':
        this.#warn(WarningCode.BUFFER_BUSY, out.message, { ep, msg });
        return;
      case 'refused':
        this.#warn(out.code, out.message, {
          ep,
          msg,
          ...(out.cause === undefined ? {} : { details: { cause: out.cause } }),
        });
        return;
    }
  }

  #bindBuffer(ep: number, buffer: SharedBuffer, bytes: number, msg: bigint): void {
    if (ep !== Endpoint.Syslog) return;
    // A view of exactly the granted range (M4): the ring decodes from this shadow, which is
    // refreshed entry by entry from the shared buffer.
    const shadow = new Uint8Array(bytes);
    this.#syslogBuf = buffer;
    this.#syslogShadow = shadow;
    const g = this.#syslog.setBuffer(shadow);
    this.#syslogGeo = g;
    // Count/size problems were reported with the INIT; here only the fit in the buffer.
    if (g !== undefined && g.stride > 0) {
      for (const p of g.problems) this.#warn(p.code, p.message, { ep: 2, msg });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Events

  #stateChanged(reason: string): void {
    if (this.#emitter.has('state')) this.#emitter.emit('state', { state: this.state, reason });
    this.#kick();
  }

  #emitTraffic(name: 'tx' | 'rx', ep: number, msg: bigint): void {
    const ctx: DecodeContext =
      ep >= this.#firstApp
        ? { ...this.#appCtx, dir: name === 'tx' ? 'ap->iop' : 'iop->ap' }
        : { ...this.#ctx(ep), dir: name === 'tx' ? 'ap->iop' : 'iop->ap' };
    this.#emitter.emit(name, { ep, msg, message: decode(ep, msg, ctx), time: this.#clock.now() });
  }

  #warn(
    code: string,
    message: string,
    extra: { ep?: number; msg?: bigint; details?: Record<string, unknown> } = {},
  ): void {
    this.#counts.warnings++;
    this.#log.warn?.(
      () =>
        `${this.name}: ${code}: ${message}${extra.msg === undefined ? '' : ` (${extra.ep === undefined ? '' : `${hexEp(extra.ep)}:`}${hex64Of(extra.msg)})`}`,
    );
    if (!this.#emitter.has('warning')) return;
    const w: { -readonly [K in keyof WarningEvent]: WarningEvent[K] } = {
      code: code as WarningEvent['code'],
      message,
    };
    if (extra.ep !== undefined) w.ep = extra.ep;
    if (extra.msg !== undefined) w.msg = extra.msg;
    if (extra.details !== undefined) w.details = extra.details;
    this.#emitter.emit('warning', w);
  }
}

// -----------------------------------------------------------------------------------------------

function makeHandle(session: RtkitSession, ep: number): EndpointHandle {
  return {
    ep,
    send: (msg, opts) => session.send(ep, msg, opts),
    request: (msg, match, opts) => session.request(ep, msg, match, opts),
    onMessage: (fn) => session.onMessage(ep, fn),
  };
}

function setToList(set: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < set.length; i++) if (set[i] === 1) out.push(i);
  return out;
}

function checkState(state: number): void {
  if (!Number.isInteger(state) || state < 0 || state > 0xffff) {
    throw bad('a power state is an integer 0..0xffff', { state });
  }
}

function bad(message: string, details: Record<string, unknown> = {}): RtkitError {
  return new RtkitError(ErrorCode.BAD_INPUT, message, details);
}

function invalidEndpoint(ep: unknown): RtkitError {
  return new RtkitError(
    ErrorCode.ENDPOINT_INVALID,
    `endpoint ${String(ep)} is not an integer 1–255`,
    { ep },
  );
}

function notDiscovered(ep: number): RtkitError {
  return new RtkitError(
    ErrorCode.ENDPOINT_NOT_DISCOVERED,
    `endpoint ${hexEp(ep)} is not in the firmware's endpoint map`,
    { ep },
  );
}

function notRunning(ep: number): RtkitError {
  return new RtkitError(
    ErrorCode.NOT_RUNNING,
    `endpoint ${hexEp(ep)}: the co-processor is not running (boot or wake first)`,
    { ep },
  );
}

function crashedError(): RtkitError {
  return new RtkitError(
    ErrorCode.COPROC_CRASHED,
    'the co-processor has crashed; recover (reinit, resetCpu, boot) first',
  );
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
