/**
 * Serial-device byte links (a USB CDC-ACM port to m1n1, a UART adapter, a pty). `serialport`
 * opens the device and applies `cfmakeraw`: no newline translation, no XON/XOFF, no echo. Node's
 * own `tty.ReadStream#setRawMode(true)` is not enough: it leaves output post-processing on, so a
 * written 0A arrives as 0D 0A (M1N1-PROXY.md §13). The bytes travel through a Node TTY stream on
 * a second descriptor whose mode is never touched (see openTtyStream).
 *
 * A serial line has no hang-up: closing one end does not tell the other. The link closes on
 * `close()` or when the device goes away (USB unplug, the pty's master closed).
 */

import { execFile } from 'node:child_process';
import { closeSync, constants as fsConstants, open } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import type { SocketConstructorOpts } from 'node:net';
import type { Duplex } from 'node:stream';
import { ReadStream } from 'node:tty';
import type { SerialPort } from 'serialport';
import { type Clock, systemClock } from '../clock.js';
import { ErrorCode, RtkitError } from '../errors.js';
import type { ByteLink } from '../m1n1/link.js';
import {
  checkBaudRate,
  DEFAULT_BAUD_RATE,
  LinkCore,
  RateChanges,
} from '../m1n1/web-serial-link.js';
import { badInput, checkTimeout, DEFAULT_OPEN_TIMEOUT_MS, withTimeout } from './common.js';

export interface SerialOptions {
  /** Line rate, default DEFAULT_BAUD_RATE (115200). Meaningless over USB, harmless there. */
  baudRate?: number;
  /** Bound on opening, and on the output drain before a baud change; default 5000 ms. */
  timeoutMs?: number;
  clock?: Clock;
}

type SerialPortModule = typeof import('serialport');

let serialportModule: Promise<SerialPortModule> | undefined;

/** Loaded on first use, so that TCP-only programs never load the native binding. */
function loadSerialPort(): Promise<SerialPortModule> {
  serialportModule ??= import('serialport').catch((e: unknown) => {
    serialportModule = undefined;
    const reason = e instanceof Error ? e.message : String(e);
    throw new RtkitError(
      ErrorCode.TRANSPORT_CLOSED,
      `serial devices need the 'serialport' package and its native binding, which failed to load: ${reason}`,
      { reason },
      { cause: e },
    );
  });
  return serialportModule;
}

const HINT_MISSING =
  'is the machine connected and m1n1 running? m1n1 is /dev/ttyACM0 (or /dev/m1n1 with its udev rule) on Linux, /dev/cu.usbmodemP_01 on macOS';
const HINT_PERMISSION =
  'on Linux, serial devices belong to the dialout group (uucp on Arch): sudo usermod -aG dialout $USER, then log in again';
const HINT_BUSY = 'another program has it open (screen, minicom, m1n1 tooling?)';

function openError(
  path: string,
  reason: string,
  code: string | undefined,
  hint?: string,
): RtkitError {
  return new RtkitError(
    ErrorCode.TRANSPORT_CLOSED,
    `cannot open ${path}: ${reason}${hint ? ` (${hint})` : ''}`,
    { path, reason, ...(code ? { code } : {}) },
  );
}

/**
 * serialport's open errors carry no errno, only text; the same checks done first through
 * `fs` give typed reasons for the common cases. (Windows COM names have no file to check.)
 */
async function precheck(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  try {
    const st = await stat(path);
    if (!st.isCharacterDevice()) {
      const what = st.isDirectory()
        ? 'a directory'
        : st.isFile()
          ? 'a regular file'
          : 'a special file';
      throw openError(path, `${what}, not a serial device`, 'ENOTTY');
    }
    await access(path, fsConstants.R_OK | fsConstants.W_OK);
  } catch (e) {
    if (e instanceof RtkitError) throw e;
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw openError(path, 'no such device', code, HINT_MISSING);
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw openError(path, 'permission denied', code, HINT_PERMISSION);
    }
    const reason = e instanceof Error ? e.message : String(e);
    throw openError(path, reason, typeof code === 'string' ? code : undefined);
  }
}

function mapOpenError(path: string, e: unknown): RtkitError {
  const text = (e instanceof Error ? e.message : String(e)).replace(/^Error: /, '');
  if (/Inappropriate ioctl/i.test(text)) return openError(path, 'not a serial device', 'ENOTTY');
  if (/Permission denied/i.test(text)) return openError(path, text, 'EACCES', HINT_PERMISSION);
  if (/No such file/i.test(text)) return openError(path, text, 'ENOENT', HINT_MISSING);
  if (/lock|busy/i.test(text)) return openError(path, text, 'EBUSY', HINT_BUSY);
  return openError(path, text, undefined);
}

class SerialLink implements ByteLink {
  private readonly core: LinkCore;
  private osError: Error | undefined;
  /** Settles when every write issued so far reached the OS (never rejects). */
  private lastWrite: Promise<unknown> = Promise.resolve();
  /** Baud-rate changes; writes made meanwhile wait for them. */
  private readonly rates: RateChanges;

  constructor(
    /** Control: termios, baud rate, drain, the advisory lock. */
    private readonly port: SerialPort,
    /** Data: the TTY stream on POSIX (see openSerial), the port itself on Windows. */
    private readonly io: Duplex,
    path: string,
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {
    this.core = new LinkCore(
      path,
      () => this.teardown(),
      () => io.destroy(),
      clock,
    );
    this.rates = new RateChanges(this.core, (bytes, settle) => {
      this.lastWrite = new Promise<void>((resolve) => {
        this.io.write(bytes, (e) => {
          settle(e);
          resolve();
        });
      });
    });
    // Fresh buffers from libuv (or pool slices serialport never reuses): no copy needed.
    io.on('data', (chunk: Buffer) => this.core.deliver(chunk));
    io.on('error', (e: Error) => {
      this.osError ??= e;
    });
    // A tty read of 0 bytes is a hang-up (the pty's master closed, the modem dropped carrier).
    io.on('end', () => {
      this.osError ??= new Error('the device hung up');
    });
    // Reached first when the device goes away (EIO when a pty's master closes, ENXIO on USB
    // unplug); after our own close() the core is already shut and this does nothing.
    io.on('close', (arg: unknown) => {
      if (arg instanceof Error) this.osError ??= arg;
      void this.core.shut(this.core.failure('device disconnected', this.osError ?? 'closed'));
    });
    if (io !== port) port.on('close', () => void this.core.shut());
  }

  get description(): string {
    return this.core.description;
  }

  get closed(): boolean {
    return this.core.closed;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.core.closed) return Promise.reject(this.core.closedError());
    const held = this.rates.hold(bytes);
    if (held !== undefined) return held;
    if (bytes.length === 0) return Promise.resolve();
    return this.send(bytes);
  }

  onData(fn: (chunk: Uint8Array) => void): void {
    this.core.onData(fn);
  }

  onClose(fn: (error?: Error) => void): void {
    this.core.onClose(fn);
  }

  /**
   * Lets every earlier write leave the UART (tcdrain), then changes the rate; writes made
   * meanwhile wait and follow at the new rate. m1n1's SET_BAUD request must go out at the old
   * rate and its reply comes at the new one (M1N1-PROXY.md §7). The rate is set with `stty`
   * (no flush); where that fails (Windows, a rate stty does not know) node-serialport's update()
   * does it, which also discards bytes received but not yet read (tcflush TCIOFLUSH).
   */
  setBaudRate(baud: number): Promise<void> {
    return this.rates.run(baud, (b) => this.changeRate(b));
  }

  close(): Promise<void> {
    return this.core.shut();
  }

  private send(bytes: Uint8Array): Promise<void> {
    // The callback runs once the bytes are in the kernel's tty buffer; the stream queues later
    // writes meanwhile, so awaiting each write is the backpressure. No copy: the view is used.
    const done = this.core.write((settle) => this.io.write(bytes, settle));
    this.lastWrite = done.catch(() => {});
    return done;
  }

  private async changeRate(baud: number): Promise<void> {
    if (this.core.closed) throw this.core.closedError();
    await this.lastWrite;
    const change = (async (): Promise<void> => {
      await new Promise<void>((resolve, reject) => {
        this.port.drain((e) =>
          e
            ? reject(this.core.failure('draining output before the baud change failed', e))
            : resolve(),
        );
      });
      let sttyFailure: unknown;
      if (process.platform !== 'win32') {
        try {
          await sttySpeed(this.description, baud, this.timeoutMs);
          return;
        } catch (e) {
          sttyFailure = e;
        }
      }
      await new Promise<void>((resolve, reject) => {
        this.port.update({ baudRate: baud }, (e) => {
          if (!e) {
            resolve();
            return;
          }
          const reasons = [e.message, ...(sttyFailure ? [`stty: ${String(sttyFailure)}`] : [])];
          reject(
            new RtkitError(
              ErrorCode.BAD_INPUT,
              `${this.description}: cannot set ${baud} baud: ${reasons.join('; ')}`,
              { baudRate: baud, reason: e.message },
              { cause: e },
            ),
          );
        });
      });
    })();
    await withTimeout(
      this.core.track(change),
      this.timeoutMs,
      this.clock,
      `${this.description}: setBaudRate(${baud})`,
    );
  }

  private async teardown(): Promise<void> {
    const { io, port } = this;
    if (io !== port && !io.closed) {
      await new Promise<void>((resolve) => {
        io.once('close', () => resolve());
        io.destroy();
      });
    }
    await new Promise<void>((resolve) => {
      if (port.isOpen) port.close(() => resolve());
      else if (port.closing) port.once('close', () => resolve());
      else resolve();
    });
  }
}

/**
 * Set the rate with `stty`, which changes termios with TCSADRAIN and flushes nothing.
 * node-serialport's update() flushes both queues (tcflush TCIOFLUSH); on a pty that drops bytes
 * already written but not yet read by the other side (drained or not), e.g. m1n1's SET_BAUD
 * request on its way to a simulator behind a pty bridge. stty is `-F` on Linux, `-f` on BSDs.
 */
function sttySpeed(path: string, baud: number, timeoutMs: number): Promise<void> {
  const flag = process.platform === 'linux' ? '-F' : '-f';
  return new Promise<void>((resolve, reject) => {
    execFile('stty', [flag, path, String(baud)], { timeout: timeoutMs }, (e, _stdout, stderr) => {
      if (e) reject(new Error(String(stderr).trim() || e.message));
      else resolve();
    });
  });
}

/**
 * The data path on POSIX: a second descriptor of the same tty wrapped in Node's TTY stream
 * (libuv reads and writes it non-blockingly from the event loop). node-serialport 13's own
 * Unix read/write path loses poll events when a read and a write wait at the same time (its
 * Poller restarts libuv's poll with only the newest event) and can stall with both directions
 * busy; the TTY stream has neither problem. serialport keeps the first descriptor for control
 * (raw termios, rate, drain, lock); both share the tty's settings. No setRawMode: termios stays
 * as serialport set it (M1N1-PROXY.md §13).
 */
async function openTtyStream(path: string): Promise<Duplex> {
  const fd = await new Promise<number>((resolve, reject) => {
    open(path, fsConstants.O_RDWR | fsConstants.O_NOCTTY | fsConstants.O_NONBLOCK, (e, value) =>
      e ? reject(e) : resolve(value),
    );
  });
  try {
    // Node passes stream options through although its typings list only the socket's own.
    const options: SocketConstructorOpts & { readableHighWaterMark: number } = {
      readableHighWaterMark: TTY_READ_BUFFER,
    };
    return new ReadStream(fd, options);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Read buffering of the TTY stream (its default of 0 would stop and restart reading per chunk). */
const TTY_READ_BUFFER = 64 * 1024;

/**
 * Open a serial device (`/dev/ttyACM0`, `/dev/cu.usbmodemP_01`, `COM3`, a pty path). A missing
 * device, a permission problem or a non-tty rejects with TRANSPORT_CLOSED, the OS reason in
 * `details.code` and a hint in the message. Opening discards what the device had buffered
 * (node-serialport flushes both queues), as m1n1's tooling does.
 */
export async function openSerial(path: string, opts: SerialOptions = {}): Promise<ByteLink> {
  if (typeof path !== 'string' || path === '' || path.includes('\0')) {
    throw badInput(`openSerial: not a device path: ${JSON.stringify(path)}`, { path });
  }
  const baudRate = checkBaudRate(opts.baudRate ?? DEFAULT_BAUD_RATE, 'openSerial');
  const timeoutMs = checkTimeout(opts.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS, 'openSerial');
  const clock = opts.clock ?? systemClock;
  await precheck(path);
  const { SerialPort } = await loadSerialPort();
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  // Errors of calls made without a callback arrive as events; never let one crash the process.
  port.on('error', () => {});
  const opened = (async (): Promise<Duplex> => {
    await new Promise<void>((resolve, reject) => {
      port.open((e) => (e ? reject(mapOpenError(path, e)) : resolve()));
    });
    if (process.platform === 'win32') return port;
    try {
      return await openTtyStream(path);
    } catch (e) {
      await new Promise<void>((resolve) => port.close(() => resolve()));
      throw mapOpenError(path, e);
    }
  })();
  const io = await withTimeout(opened, timeoutMs, clock, `opening ${path}`, (late) => {
    if (late !== port) late.destroy();
    port.close(() => {});
  });
  return new SerialLink(port, io, path, clock, timeoutMs);
}
