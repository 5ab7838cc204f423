/**
 * The session's typed events (STYLE.md "Events and logging"): the viewer's tap and the way
 * firmware misbehaviour that the session survives is reported (ROBUSTNESS.md principle 6).
 */

import type { CrashReport } from '../crashlog/types.js';
import type { RtkitError } from '../errors.js';
import type { Message } from '../protocol/index.js';
import type { SyslogEntry } from '../syslog/index.js';

/**
 * Codes of `warning` events: firmware misbehaviour the session survives (ROBUSTNESS.md "Codes
 * used below"), plus a few of our own (marked). A warning never changes what was sent: it
 * reports what the session did instead (usually: nothing, or the echo it sends anyway).
 */
export const WarningCode = {
  BUFFER_REJECTED: 'BUFFER_REJECTED',
  BUFFER_BUSY: 'BUFFER_BUSY',
  BUFFER_ALLOC_FAILED: 'BUFFER_ALLOC_FAILED',
  BUFFER_MAP_MISMATCH: 'BUFFER_MAP_MISMATCH',
  BUFFER_OUT_OF_WINDOW: 'BUFFER_OUT_OF_WINDOW',
  BUFFER_UNMAPPED: 'BUFFER_UNMAPPED',
  /** Ours: a buffer could not be read (syslog entry); the message is still acknowledged. */
  BUFFER_READ_FAILED: 'BUFFER_READ_FAILED',
  /** Ours: releasing buffers failed (reinit, shutdown, power-off); they stay live. */
  BUFFER_RELEASE_FAILED: 'BUFFER_RELEASE_FAILED',
  CRASH_NOTIFICATION_MISMATCH: 'CRASH_NOTIFICATION_MISMATCH',
  CRASHLOG_UNAVAILABLE: 'CRASHLOG_UNAVAILABLE',
  CRASHLOG_COPY_FAILED: 'CRASHLOG_COPY_FAILED',
  SYSLOG_NOT_INITIALIZED: 'SYSLOG_NOT_INITIALIZED',
  SYSLOG_GEOMETRY_INVALID: 'SYSLOG_GEOMETRY_INVALID',
  SYSLOG_INDEX_OUT_OF_RANGE: 'SYSLOG_INDEX_OUT_OF_RANGE',
  SYSLOG_INIT_WIDE_FIELDS: 'SYSLOG_INIT_WIDE_FIELDS',
  /** From the codec (§5.5): OSLog SIZE bits [47:36] set, m1n1 would read the word differently. */
  OSLOG_LAYOUT_AMBIGUOUS: 'OSLOG_LAYOUT_AMBIGUOUS',
  UNKNOWN_MESSAGE: 'UNKNOWN_MESSAGE',
  /** Ours: a well-formed message at a moment it makes no sense (EPMAP after boot, stale PONG). */
  UNEXPECTED_MESSAGE: 'UNEXPECTED_MESSAGE',
  UNDISCOVERED_ENDPOINT: 'UNDISCOVERED_ENDPOINT',
  UNKNOWN_SYSTEM_ENDPOINT: 'UNKNOWN_SYSTEM_ENDPOINT',
  RESERVED_BITS_SET: 'RESERVED_BITS_SET',
  HANDLER_FAILED: 'HANDLER_FAILED',
  /** Ours: an acknowledgement the protocol requires (echo, buffer reply) could not be sent. */
  REPLY_FAILED: 'REPLY_FAILED',
} as const;
export type WarningCode = (typeof WarningCode)[keyof typeof WarningCode];

export interface WarningEvent {
  readonly code: WarningCode;
  readonly message: string;
  /** The endpoint and raw word concerned, when there is one. */
  readonly ep?: number;
  readonly msg?: bigint;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** One mailbox message, raw and decoded (`message.kind === 'unknown'` when not understood). */
export interface TrafficEvent {
  readonly ep: number;
  readonly msg: bigint;
  readonly message: Message;
  /** The session clock's time (ms). */
  readonly time: number;
}

/** Power states and protocol facts, as the session knows them. */
export interface SessionState {
  /** Last IOP power state acked (undefined before any ack, after reinit). */
  readonly iopPowerState: number | undefined;
  /** Last AP power state acked (or assumed on v10.0/10.1, which does not ack AP ON). */
  readonly apPowerState: number | undefined;
  /** Negotiated protocol version. */
  readonly version: number | undefined;
  /** v10 minor version (HELLO MINVER when MAXVER is 10). */
  readonly minorVersion: number | undefined;
  /** Where the RTKit handshake is. */
  readonly handshake: 'none' | 'hello' | 'epmap' | 'starting' | 'done';
  /** Booted and powered on: application traffic allowed. */
  readonly running: boolean;
  readonly crashed: boolean;
  /** Powered off (state 0): nothing works until `resetCpu()`. */
  readonly poweredOff: boolean;
  readonly discoveredEndpoints: readonly number[];
  readonly startedEndpoints: readonly number[];
}

export interface StateEvent {
  readonly state: SessionState;
  /** What changed: `boot`, `iop-ack`, `ap-ack`, `crash`, `reinit`, ... */
  readonly reason: string;
}

export interface SyslogEvent {
  readonly index: number;
  readonly entry: SyslogEntry;
  /** The LOG word (echoed to the firmware). */
  readonly msg: bigint;
}

export interface SystemMessageEvent {
  readonly ep: number;
  readonly msg: bigint;
  readonly message: Message;
  /** What the session did: `echoed`, `echo-received`, `reported`, `buffer`. */
  readonly action: 'echoed' | 'echo-received' | 'reported' | 'buffer';
}

/** Why a crash report has no crash log (ROBUSTNESS B12, B13). */
export type CrashlogProblem = 'CRASHLOG_UNAVAILABLE' | 'CRASHLOG_COPY_FAILED';

export interface CrashEvent {
  /** The EP1 notification word. */
  readonly msg: bigint;
  readonly time: number;
  /**
   * A private copy of exactly the recorded crashlog buffer (never more, B8), or undefined with
   * `size` 0 when none could be obtained (B12).
   */
  readonly log: Uint8Array | undefined;
  readonly size: number;
  /** Why `log` is undefined. */
  readonly problem?: CrashlogProblem;
  /** `parseCrashlog(log)`: the report, or the container error (its parse warnings inside). */
  readonly report?: CrashReport;
  readonly parseError?: RtkitError;
}

export interface UnhandledEvent {
  readonly ep: number;
  readonly msg: bigint;
  /** `undiscovered`: not in the endpoint map (B32); `no-handler`: nobody listens on it. */
  readonly reason: 'undiscovered' | 'no-handler';
}

/** Event name → payload. */
export interface SessionEvents {
  /** A message the session sent, after the transport accepted it. */
  tx: TrafficEvent;
  /** A message received, before it is handled. */
  rx: TrafficEvent;
  state: StateEvent;
  syslog: SyslogEvent;
  oslog: SystemMessageEvent;
  ioreport: SystemMessageEvent;
  kdebug: SystemMessageEvent;
  crash: CrashEvent;
  warning: WarningEvent;
  /** A message nobody consumed: the unhandled-message sink (B32). */
  unhandled: UnhandledEvent;
}

export type SessionEventName = keyof SessionEvents;
export type SessionListener<K extends SessionEventName> = (event: SessionEvents[K]) => void;
export type SessionListeners = { [K in SessionEventName]?: SessionListener<K> };
