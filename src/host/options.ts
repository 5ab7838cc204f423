/**
 * Options of the RTKit session and their defaults (docs/host-library.md "Options"). Every
 * timeout is an option (STYLE.md); the defaults are Linux's: 1000 ms per protocol step, the
 * transport's 500 ms for mailbox send space.
 */

import type { Clock } from '../clock.js';
import type { ParseCrashlogOptions } from '../crashlog/types.js';
import { ErrorCode, RtkitError } from '../errors.js';
import type { MailboxTransport, Mmio } from '../mailbox/types.js';
import { KNOWN_SYSTEM_ENDPOINTS } from '../protocol/index.js';
import type { SessionListeners } from './events.js';
import type { Logger } from './logger.js';
import type { BufferManager, StrategySelection } from './shmem/manager.js';

/** Lowest and highest protocol version this library speaks (§3.2: v10 after HoolockLinux). */
export const SUPPORTED_VERSIONS = { min: 10, max: 12 } as const;

export const DEFAULT_STEP_TIMEOUT_MS = 1000;

/** CPU control through the ASC registers (PROTOCOL.md §1.2). */
export interface CpuControl {
  readonly mmio: Mmio;
  /** ASC base (the mailbox is at base + 0x8000). */
  readonly ascBase: number;
}

export interface SessionOptions {
  /** The mailbox: the register-level driver over any Mmio, or the in-process channel. */
  readonly transport: MailboxTransport;
  /** Time for every timeout (default: real time). */
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** A name for log lines and errors (e.g. `dcp`). */
  readonly name?: string;
  /** Per protocol step (HELLO, EPMAP, each power ack, a request's reply). Default 1000 ms. */
  readonly timeoutMs?: number;
  /** How long a send may wait for mailbox FIFO space; default: the transport's (500 ms). */
  readonly sendTimeoutMs?: number;
  /** Lowest protocol version accepted (default 11; 10 enables HoolockLinux's v10). */
  readonly minVersion?: number;
  /** Highest protocol version offered (default 12). */
  readonly maxVersion?: number;
  /**
   * On an unsupported HELLO, send QEMU's NAK `0x002000000badffff` before rejecting (§3.2, §12
   * row 35). Default false: nothing is sent, as every real host does.
   */
  readonly nakUnsupportedVersion?: boolean;
  /** System endpoints started after discovery (default 1, 2, 3, 4, 8, 0x0a; §3.4 "ours"). */
  readonly systemEndpoints?: readonly number[];
  /** How buffer requests are served (§6). Without strategies every request is refused. */
  readonly strategies?: StrategySelection;
  /** A BufferManager to use instead of one built from `strategies`. */
  readonly bufferManager?: BufferManager;
  /**
   * EP3 (§5.3): `report` (default, Linux): started, messages decoded and reported as `kdebug`
   * events. `m1n1`: also send KDebug START and serve its buffers as m1n1-Py does.
   */
  readonly kdebug?: 'report' | 'm1n1';
  /**
   * Before `boot`/`wake` resolve, wait (step `buffers`) until every listed endpoint that was
   * started has had its buffer request served or refused. Default none (Linux resolves at AP ON
   * and leaves "should we wait for the crashlog buffer?" as a TODO); `[1]` makes a crash right
   * after boot reportable.
   */
  readonly waitForBuffers?: readonly number[];
  /** Co-processor profile for decoding application endpoints (`smc`, `dcp`, ...). */
  readonly coproc?: string;
  /** CPU control: RUN is set before boot/wake when the CPU is stopped; enables `resetCpu()`. */
  readonly cpu?: CpuControl;
  /** Options for `parseCrashlog` on a crash. */
  readonly crashlog?: ParseCrashlogOptions;
  /** Listeners attached before anything can happen. */
  readonly listeners?: SessionListeners;
}

export interface ResolvedOptions {
  readonly timeoutMs: number;
  readonly sendTimeoutMs: number | undefined;
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly nak: boolean;
  readonly systemEndpoints: ReadonlySet<number>;
  readonly kdebug: 'report' | 'm1n1';
  readonly waitForBuffers: readonly number[];
}

function bad(message: string, details: Record<string, unknown> = {}): never {
  throw new RtkitError(ErrorCode.BAD_INPUT, message, details);
}

/** A timeout option: a positive finite number of ms. */
export function checkTimeout(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    bad(`${name} must be a positive number of milliseconds`, { [name]: v });
  }
  return v;
}

export function resolveOptions(o: SessionOptions): ResolvedOptions {
  if (typeof o !== 'object' || o === null) bad('session options are required');
  const t = o.transport as Partial<MailboxTransport> | undefined;
  if (typeof t?.send !== 'function' || typeof t.setReceiver !== 'function') {
    bad('transport must be a MailboxTransport');
  }
  const timeoutMs =
    o.timeoutMs === undefined ? DEFAULT_STEP_TIMEOUT_MS : checkTimeout(o.timeoutMs, 'timeoutMs');
  const sendTimeoutMs =
    o.sendTimeoutMs === undefined ? undefined : checkTimeout(o.sendTimeoutMs, 'sendTimeoutMs');
  const minVersion = o.minVersion ?? 11;
  const maxVersion = o.maxVersion ?? 12;
  for (const [name, v] of [
    ['minVersion', minVersion],
    ['maxVersion', maxVersion],
  ] as const) {
    if (!Number.isInteger(v) || v < SUPPORTED_VERSIONS.min || v > SUPPORTED_VERSIONS.max) {
      bad(`${name} must be an integer ${SUPPORTED_VERSIONS.min}..${SUPPORTED_VERSIONS.max}`, {
        [name]: v,
      });
    }
  }
  if (minVersion > maxVersion) bad('minVersion > maxVersion', { minVersion, maxVersion });
  const sys = o.systemEndpoints ?? KNOWN_SYSTEM_ENDPOINTS;
  if (!Array.isArray(sys) || !sys.every((ep) => Number.isInteger(ep) && ep > 0 && ep < 0x20)) {
    bad('systemEndpoints must be integers 1..0x1f', { systemEndpoints: sys });
  }
  const kdebug = o.kdebug ?? 'report';
  if (kdebug !== 'report' && kdebug !== 'm1n1') bad('kdebug must be "report" or "m1n1"');
  const wait = o.waitForBuffers ?? [];
  if (!Array.isArray(wait) || !wait.every((ep) => [1, 2, 4, 8].includes(ep))) {
    bad('waitForBuffers lists buffer endpoints (1, 2, 4, 8)', { waitForBuffers: wait });
  }
  if (o.cpu !== undefined) {
    const c = o.cpu as Partial<CpuControl>;
    if (typeof c.mmio?.read32 !== 'function' || !Number.isSafeInteger(c.ascBase)) {
      bad('cpu must be { mmio, ascBase }');
    }
  }
  return {
    timeoutMs,
    sendTimeoutMs,
    minVersion,
    maxVersion,
    nak: o.nakUnsupportedVersion === true,
    systemEndpoints: new Set(sys),
    kdebug,
    waitForBuffers: [...wait],
  };
}
