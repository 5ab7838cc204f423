/**
 * A ByteLink over the browser's Web Serial API (Chromium's `navigator.serial`), and `LinkCore`,
 * the bookkeeping every ByteLink implementation shares (the Node transports in `src/transports/`
 * use it too; it lives here because this layer must stay free of `node:*`).
 *
 * Web Serial has no live baud-rate change: `setBaudRate` flushes pending writes, closes the port
 * and opens it again at the new rate. Bytes the device sends while the port is closed are lost.
 * m1n1 over USB (the only way a browser reaches it) never switches baud (M1N1-PROXY.md §7), so
 * this only matters for USB-to-UART adapters.
 *
 * Minimal local types: TypeScript's DOM library has no Web Serial declarations.
 */

import { type Clock, systemClock, type TimerHandle } from '../clock.js';
import { ErrorCode, RtkitError } from '../errors.js';
import type { ByteLink } from './link.js';

/** The hardware UART's rate at boot, iBoot's setting (M1N1-PROXY.md §1); m1n1's tooling default. */
export const DEFAULT_BAUD_RATE = 115_200;
/** Largest rate accepted anywhere: what termios (a C `int` in node-serialport) can carry. */
export const MAX_BAUD_RATE = 0x7fff_ffff;
/** How long `close()` waits for the OS to release a link before resolving anyway. */
export const CLOSE_GRACE_MS = 1000;

/** Validates a baud rate (an integer 1..MAX_BAUD_RATE); `BAD_INPUT` otherwise. */
export function checkBaudRate(baud: unknown, where: string): number {
  if (typeof baud !== 'number' || !Number.isInteger(baud) || baud < 1 || baud > MAX_BAUD_RATE) {
    throw new RtkitError(
      ErrorCode.BAD_INPUT,
      `${where}: baud rate must be an integer 1..${MAX_BAUD_RATE}, got ${String(baud)}`,
      { baudRate: baud },
    );
  }
  return baud;
}

/**
 * The shared half of a ByteLink: holds bytes until a receiver is set, calls close listeners once,
 * rejects writes still pending at close, and runs the implementation's teardown once, bounded by
 * CLOSE_GRACE_MS so a stuck OS close never hangs `close()`.
 */
export class LinkCore {
  private receiver: ((chunk: Uint8Array) => void) | undefined;
  private readonly held: Uint8Array[] = [];
  private closeListeners: ((error?: Error) => void)[] = [];
  private readonly pending = new Set<(error: Error) => void>();
  private shutError: Error | undefined;
  private isClosed = false;
  private done: Promise<void> | undefined;

  constructor(
    readonly description: string,
    /** Releases the OS resource; called once, on the first `shut`. Must not reject. */
    private readonly teardown: () => Promise<void>,
    /** Called when the teardown overruns the grace period (e.g. destroy a socket). */
    private readonly force: () => void = () => {},
    private readonly clock: Clock = systemClock,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  /** A `TRANSPORT_CLOSED` error naming this link, with the reason the link closed as cause. */
  closedError(): RtkitError {
    return new RtkitError(
      ErrorCode.TRANSPORT_CLOSED,
      `${this.description} is closed`,
      {},
      this.shutError ? { cause: this.shutError } : undefined,
    );
  }

  /** A `TRANSPORT_CLOSED` error for an OS-level failure, keeping the OS code in `details.code`. */
  failure(what: string, cause: unknown): RtkitError {
    const code = (cause as { code?: unknown } | undefined)?.code;
    let reason = cause instanceof Error ? cause.message : String(cause);
    // DOMException names (NetworkError, BreakError) say more than their messages.
    const name = cause instanceof Error ? cause.name : undefined;
    if (name !== undefined && name !== 'Error' && name !== 'RtkitError')
      reason = `${name}: ${reason}`;
    return new RtkitError(
      ErrorCode.TRANSPORT_CLOSED,
      `${this.description}: ${what}: ${reason}`,
      typeof code === 'string' ? { code, reason } : { reason },
      { cause },
    );
  }

  /** Incoming bytes from the implementation. Dropped once closed. */
  deliver(chunk: Uint8Array): void {
    if (this.isClosed) return;
    const fn = this.receiver;
    if (fn === undefined) {
      this.held.push(chunk);
      return;
    }
    try {
      fn(chunk);
    } catch (e) {
      // The receiver lost bytes; the stream is no longer what the peer sent, so end it loudly
      // (onClose gets the error) rather than crash the process from an I/O callback.
      void this.shut(this.failure('the data receiver threw; closing the link', e));
    }
  }

  onData(fn: (chunk: Uint8Array) => void): void {
    this.receiver = fn;
    // A receiver that replaces itself while draining hands the rest to its successor.
    while (this.held.length > 0 && this.receiver === fn) fn(this.held.shift()!);
  }

  onClose(fn: (error?: Error) => void): void {
    if (this.isClosed) fn(this.shutError);
    else this.closeListeners.push(fn);
  }

  /**
   * Run an OS write: `start` calls `settle` once the OS accepted the bytes (or failed). The
   * promise rejects with TRANSPORT_CLOSED if the link closes first.
   */
  write(start: (settle: (error?: unknown) => void) => void): Promise<void> {
    if (this.isClosed) return Promise.reject(this.closedError());
    return new Promise<void>((resolve, reject) => {
      this.pending.add(reject);
      start((error) => {
        if (!this.pending.delete(reject)) return;
        if (error == null) resolve();
        else reject(this.isClosed ? this.closedError() : this.failure('write failed', error));
      });
    });
  }

  /** `op`'s outcome, unless the link closes first: then TRANSPORT_CLOSED. */
  track<T>(op: Promise<T>): Promise<T> {
    if (this.isClosed) return Promise.reject(this.closedError());
    return new Promise<T>((resolve, reject) => {
      this.pending.add(reject);
      op.then(
        (value) => {
          if (this.pending.delete(reject)) resolve(value);
        },
        (error: unknown) => {
          if (this.pending.delete(reject)) reject(error);
        },
      );
    });
  }

  /**
   * Close (idempotent): mark closed, reject pending writes, tell listeners (with `error` when the
   * link failed), then tear down. Resolves when torn down or after CLOSE_GRACE_MS; never rejects.
   */
  shut(error?: Error): Promise<void> {
    if (this.done !== undefined) return this.done;
    this.isClosed = true;
    this.shutError = error;
    const closedError = this.closedError();
    for (const reject of this.pending) reject(closedError);
    this.pending.clear();
    this.done = this.bounded();
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const fn of listeners) fn(error);
    return this.done;
  }

  private bounded(): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: TimerHandle | undefined = this.clock.setTimer(CLOSE_GRACE_MS, () => {
        timer = undefined;
        this.force();
        resolve();
      });
      const finish = (): void => {
        if (timer !== undefined) this.clock.clearTimer(timer);
        resolve();
      };
      this.teardown().then(finish, finish);
    });
  }
}

/**
 * Line-rate changes on a link whose rate cannot change under live writes (a serial line, a Web
 * Serial port): changes run one after another, and writes made while any is in flight wait and
 * are handed to `send` afterwards, in call order (m1n1's SET_BAUD request leaves at the old rate,
 * what follows at the new one, M1N1-PROXY.md §7).
 */
export class RateChanges {
  private chain: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private queued: { bytes: Uint8Array; settle: (error?: unknown) => void }[] | undefined;

  constructor(
    private readonly core: LinkCore,
    private readonly send: (bytes: Uint8Array, settle: (error?: unknown) => void) => void,
  ) {}

  /** Queue a write made during a change; undefined when no change is in flight. */
  hold(bytes: Uint8Array): Promise<void> | undefined {
    const queued = this.queued;
    return queued === undefined
      ? undefined
      : this.core.write((settle) => queued.push({ bytes, settle }));
  }

  /**
   * Change the rate to `baud` with `change`, after the earlier changes; writes wait until the
   * last change in flight ends. A bad rate or a closed link rejects at once.
   */
  run(baud: number, change: (baud: number) => Promise<void>): Promise<void> {
    try {
      checkBaudRate(baud, `${this.core.description}: setBaudRate`);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.core.closed) return Promise.reject(this.core.closedError());
    this.queued ??= [];
    this.inFlight++;
    const next = this.chain.then(() => change(baud));
    this.chain = next.catch(() => {});
    return next.finally(() => {
      if (--this.inFlight === 0) this.flush();
    });
  }

  /** Settles once every change started so far has ended (never rejects). */
  settled(): Promise<void> {
    return this.chain;
  }

  private flush(): void {
    const queued = this.queued ?? [];
    this.queued = undefined;
    // If the link closed meanwhile (a failed change closes it), these writes were rejected.
    if (this.core.closed) return;
    for (const { bytes, settle } of queued) {
      if (bytes.length === 0) settle();
      else this.send(bytes, settle);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Web Serial

/** `SerialPort.open()` options (WICG Web Serial). */
export interface WebSerialOpenOptions {
  baudRate: number;
  dataBits?: 7 | 8;
  stopBits?: 1 | 2;
  parity?: 'none' | 'even' | 'odd';
  bufferSize?: number;
  flowControl?: 'none' | 'hardware';
}

/** The part of Web Serial's `SerialPort` this link uses. */
export interface WebSerialPortLike {
  /** Non-null while open; replaced by a fresh stream after a non-fatal read error. */
  readonly readable: ReadableStream<Uint8Array> | null;
  readonly writable: WritableStream<Uint8Array> | null;
  open(options: WebSerialOpenOptions): Promise<void>;
  close(): Promise<void>;
  getInfo?(): { usbVendorId?: number; usbProductId?: number };
}

export interface WebSerialLinkOptions {
  /** Rate used when this call opens the port, default DEFAULT_BAUD_RATE. */
  baudRate?: number;
  clock?: Clock;
}

/**
 * Chromium's default read buffer is 255 bytes; a MEMREAD reply streams up to megabytes, and an
 * overrun loses bytes (BufferOverrunError), so ask for a buffer that absorbs a slow reader.
 */
const READ_BUFFER_SIZE = 1 << 20;

/**
 * Read errors after which Web Serial hands out a fresh `port.readable` (WICG Web Serial, "read
 * errors"); bytes were lost, which the m1n1 parsers' resynchronisation absorbs. Any other error
 * (NetworkError: the device is gone) ends the link.
 */
const NON_FATAL_READ_ERRORS = new Set([
  'BreakError',
  'FramingError',
  'ParityError',
  'BufferOverrunError',
]);

function describePort(port: WebSerialPortLike): string {
  const info = port.getInfo?.();
  const hex = (n: number): string => n.toString(16).padStart(4, '0');
  return info?.usbVendorId !== undefined && info.usbProductId !== undefined
    ? `webserial:${hex(info.usbVendorId)}:${hex(info.usbProductId)}`
    : 'webserial';
}

function isOpen(port: WebSerialPortLike): boolean {
  return port.readable !== null || port.writable !== null;
}

class WebSerialLink implements ByteLink {
  private readonly core: LinkCore;
  private writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private reading: Promise<void> = Promise.resolve();
  /** Set by us before we cancel a read, so the read loop knows the end is ours. */
  private stopping = false;
  /** Baud-rate changes (close and reopen the port); writes wait for them. */
  private readonly rates: RateChanges;

  constructor(
    private readonly port: WebSerialPortLike,
    /** Undefined when the port was already open: its rate is unknown. */
    private baudRate: number | undefined,
    clock: Clock,
  ) {
    this.core = new LinkCore(describePort(port), () => this.teardown(), undefined, clock);
    this.rates = new RateChanges(this.core, (bytes, settle) => this.send(bytes, settle));
  }

  get description(): string {
    return this.core.description;
  }

  get closed(): boolean {
    return this.core.closed;
  }

  /** Takes the writer and starts the read loop on the open port. */
  attach(): void {
    const writable = this.port.writable;
    if (writable === null || this.port.readable === null) {
      throw new RtkitError(ErrorCode.TRANSPORT_CLOSED, `${this.description}: port has no streams`);
    }
    this.writer = writable.getWriter();
    this.stopping = false;
    this.reading = this.readLoop();
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.core.closed) return Promise.reject(this.core.closedError());
    const held = this.rates.hold(bytes);
    if (held !== undefined) return held;
    if (bytes.length === 0) return Promise.resolve();
    return this.core.write((settle) => this.send(bytes, settle));
  }

  onData(fn: (chunk: Uint8Array) => void): void {
    this.core.onData(fn);
  }

  onClose(fn: (error?: Error) => void): void {
    this.core.onClose(fn);
  }

  setBaudRate(baud: number): Promise<void> {
    return this.rates.run(baud, (b) => this.reopen(b));
  }

  close(): Promise<void> {
    return this.core.shut();
  }

  private send(bytes: Uint8Array, settle: (error?: unknown) => void): void {
    const writer = this.writer;
    if (writer === undefined) {
      settle(this.core.closedError());
      return;
    }
    writer.write(bytes).then(
      () => settle(),
      (e: unknown) => {
        settle(e);
        void this.core.shut(this.core.failure('write failed', e));
      },
    );
  }

  private async reopen(baud: number): Promise<void> {
    if (this.core.closed) throw this.core.closedError();
    if (baud === this.baudRate) return;
    try {
      // The bytes before the switch (m1n1's SET_BAUD request) must leave at the old rate:
      // closing the writer waits for every write already queued.
      const writer = this.writer;
      this.writer = undefined;
      if (writer !== undefined) {
        await writer.close();
        writer.releaseLock();
      }
      await this.stopReading();
      await this.port.close();
      await this.port.open(openOptions(baud));
      this.baudRate = baud;
      if (this.core.closed) throw this.core.closedError();
      this.attach();
    } catch (e) {
      const error = this.core.closed
        ? this.core.closedError()
        : this.core.failure(`reopening at ${baud} baud failed`, e);
      void this.core.shut(error);
      throw error;
    }
  }

  private async stopReading(): Promise<void> {
    this.stopping = true;
    const reader = this.reader;
    if (reader !== undefined) await reader.cancel().catch(() => {});
    await this.reading;
  }

  private async readLoop(): Promise<void> {
    for (;;) {
      const readable = this.port.readable;
      if (readable === null || this.stopping) return;
      const reader = readable.getReader();
      this.reader = reader;
      let failure: unknown;
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          if (value !== undefined && value.length > 0) this.core.deliver(value);
        }
      } catch (e) {
        failure = e;
      } finally {
        this.reader = undefined;
        reader.releaseLock();
      }
      if (this.stopping || this.core.closed) return;
      const name = (failure as { name?: unknown } | undefined)?.name;
      if (failure !== undefined && typeof name === 'string' && NON_FATAL_READ_ERRORS.has(name)) {
        continue;
      }
      // The stream ended without us asking: the port went away (a clean end is a hang-up).
      void this.core.shut(
        failure === undefined ? undefined : this.core.failure('read failed', failure),
      );
      return;
    }
  }

  private async teardown(): Promise<void> {
    await this.rates.settled();
    await this.stopReading();
    const writer = this.writer;
    this.writer = undefined;
    if (writer !== undefined) {
      // Pending writes were already rejected; abort drops their bytes instead of sending them.
      await writer.abort().catch(() => {});
      writer.releaseLock();
    }
    // Unconditionally: once its streams are cancelled a port reports none, yet stays open.
    await this.port.close().catch(() => {});
  }
}

function openOptions(baudRate: number): WebSerialOpenOptions {
  return {
    baudRate,
    dataBits: 8,
    stopBits: 1,
    parity: 'none',
    flowControl: 'none',
    bufferSize: READ_BUFFER_SIZE,
  };
}

/**
 * A ByteLink over a Web Serial port (from `navigator.serial.requestPort()`). Opens the port at
 * `baudRate` unless it is already open (then its current rate is kept). Reads run in a loop on
 * `port.readable`; writes go through one writer held for the link's life and resolve when the
 * browser has passed the bytes to the device.
 */
export async function webSerialLink(
  port: WebSerialPortLike,
  opts: WebSerialLinkOptions = {},
): Promise<ByteLink> {
  const baudRate = checkBaudRate(opts.baudRate ?? DEFAULT_BAUD_RATE, 'webSerialLink');
  const alreadyOpen = isOpen(port);
  if (!alreadyOpen) {
    try {
      await port.open(openOptions(baudRate));
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      throw new RtkitError(
        ErrorCode.TRANSPORT_CLOSED,
        `${describePort(port)}: cannot open the port: ${reason}`,
        { reason },
        { cause: e },
      );
    }
  }
  const link = new WebSerialLink(
    port,
    alreadyOpen ? undefined : baudRate,
    opts.clock ?? systemClock,
  );
  try {
    link.attach();
  } catch (e) {
    // A port whose streams are locked or gone: give it back closed rather than half-used.
    if (!alreadyOpen) await port.close().catch(() => {});
    throw e;
  }
  return link;
}
