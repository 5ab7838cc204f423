/**
 * The records the trace decoder emits. Every record is plain, JSON-safe data: 64-bit values are
 * `0x` strings, never numbers (docs/trace-format.md, "Output records"). `type` discriminates.
 */

import type { RtkitVersion } from '../crashlog/version.js';
import type { CodecNote } from '../protocol/describe.js';
import type { Direction } from '../protocol/word.js';

/** Where a record's line came from and when, as far as the input says. */
export interface RecordOrigin {
  /** 1-based line number in the input. */
  line: number;
  /** Seconds: `t` of a JSON-lines trace, or the dmesg monotonic stamp `[  0.348120]`. */
  t?: number;
  /** Wall-clock stamp as printed (`dmesg -T`, journald/syslog), verbatim. */
  time?: string;
  /** Kernel device name (`231c00000.dcp`) and driver (`apple-dcp`) from the dev_printk prefix. */
  device?: string;
  driver?: string;
  /** Co-processor profile (`dcp`, `smc`, `ans`, ...) from the device name or the trace. */
  coproc?: string;
}

/** How a message record entered the stream. */
export type MessageOrigin =
  /** a record of our JSON-lines trace */
  | 'trace'
  /** a plain `<ep> <msg0>` line */
  | 'plain'
  /** a `#NNN@TTTTTTTT: EP MSG` entry of a Linux crash dump (Cmbx) */
  | 'mailbox-history'
  /** Linux printed a word it did not handle (`Unknown oslog message: %llx`, ...) */
  | 'unhandled';

export type { CodecNote } from '../protocol/describe.js';

export interface MessageRecord extends RecordOrigin {
  type: 'message';
  origin: MessageOrigin;
  ep: number;
  /** Apple's endpoint name: `syslog`, `user24`, ... */
  endpoint: string;
  dir: Direction | null;
  /** `0x` + 16 lower-case hex digits. */
  msg: string;
  kind: string;
  fields: Record<string, number | boolean | string>;
  summary: string;
  /** Crash-history entries: position in the dump and the IOP timestamp (`0x` + 8 hex digits). */
  index?: number;
  timestamp?: string;
  /** The Linux message the word came from, for `unhandled` words. */
  source?: string;
  /** Codec-level observations (RESERVED_BITS_SET, ...). */
  notes?: CodecNote[];
  /** Free text and sequence number carried by a JSON-lines trace record. */
  note?: string;
  seq?: number;
}

export interface SyslogRecord extends RecordOrigin {
  type: 'syslog';
  /** `linux`: `RTKit: syslog message: <context>: <message>`; `m1n1`: `[syslog] * [<context>]<message>`. */
  source: 'linux' | 'm1n1';
  context: string;
  message: string;
}

export interface InitRecord extends RecordOrigin {
  type: 'init';
  /** The protocol version Linux chose (`RTKit: Initializing (protocol version N)`). */
  protocolVersion: number;
}

/** The fixed set of other single-line facts a kernel log reports. */
export type EventName =
  /** `Firmware min version N is too new` (value = N) */
  | 'firmware-too-new'
  /** `Firmware max version N is too old` (value = N) */
  | 'firmware-too-old'
  /** `Unknown system endpoint: 0xNN` (endpoint) */
  | 'unknown-system-endpoint'
  /** `Message to undiscovered endpoint 0xNN` (endpoint) */
  | 'undiscovered-endpoint'
  /** macsmc `Initialized (N keys #KEY (0x…)..zSPp (0x…))` (keyCount, firstKey, lastKey) */
  | 'smc-initialized'
  /** any other `RTKit:` line (text) */
  | 'rtkit-line';

export interface SmcKey {
  fourcc: string;
  /** Big-endian u32 of the four characters, `0x` + hex. */
  u32: string;
}

export interface EventRecord extends RecordOrigin {
  type: 'event';
  event: EventName;
  endpoint?: number;
  value?: number;
  keyCount?: number;
  firstKey?: SmcKey;
  lastKey?: SmcKey;
  /** The text after `RTKit: ` for `rtkit-line`. */
  text?: string;
}

/** Parsed `RTKit-<major>.<minor>.<patch>.<build> - Client: <client>` (src/crashlog/version.ts). */
export type { RtkitVersion } from '../crashlog/version.js';

export interface CrashVersion extends Partial<RtkitVersion> {
  /** As printed after `Version: `, e.g. `RTKit: RTKit-1827.120.2.debug - Client: …`. */
  string: string;
}

export interface CrashException {
  /** `EL1h` as printed after `Exception taken from`. */
  el?: string;
  /** Values as printed (`0x` + hex without padding). */
  psr?: string;
  /** PSR `[3:0]`. */
  psrMode?: number;
  pc?: string;
  esr?: string;
  /** ESR `[31:26]`, `[25]`, `[24:0]`, and the architecture's name of the class. */
  esrEc?: string;
  esrIl?: number;
  esrIss?: string;
  esrClassName?: string;
  far?: string;
  sp?: string;
  /** `x0` … `x30`, each `0x` + 16 hex digits. */
  regs: Record<string, string>;
}

export interface CrashMailboxEntry {
  index: number;
  timestamp: string;
  ep: number;
  msg: string;
  dir: Direction;
  line: number;
}

export interface CrashMailbox {
  /** From `Mailbox history (type = N, index = N)`; null when the header was not in the input. */
  type: number | null;
  index: number | null;
  line: number | null;
  /** Entries kept (at most `maxCrashEntries`); `entryCount` counts all that were seen. */
  entries: CrashMailboxEntry[];
  entryCount: number;
}

export interface CrashRecord extends RecordOrigin {
  type: 'crash';
  /** Last line that belonged to the dump. */
  endLine: number;
  /** The dump began with `co-processor has crashed` (false: only later dump lines were seen). */
  crashed: boolean;
  lines: {
    crashed?: number;
    version?: number;
    crashTime?: number;
    /** `Exception dump:` and the register lines that follow it. */
    exception: number[];
  };
  version?: CrashVersion;
  /** Crash time in the IOP timebase (Ctim), `0x` hex like every 64-bit value in our output. */
  crashTime?: string;
  /** The same value in decimal, as Linux prints it (`Crash time: 1544945895`). */
  crashTimeDecimal?: string;
  exception?: CrashException;
  /** `Message (id=..): text` lines (Cstr). */
  messages: { id: string; text: string }[];
  mailboxes: CrashMailbox[];
  /** Other crashlog lines Linux printed (`Unknown crashlog section: …`, …). */
  notes: string[];
  /** Some entries or lines were dropped to keep the record bounded. */
  truncated?: boolean;
}

export type WarningCode =
  | 'MALFORMED_LINE'
  | 'LINE_TOO_LONG'
  | 'CRASH_CAPPED'
  | 'INVALID_ENDPOINT'
  | 'BAD_TRACE_HEADER';

export interface WarningRecord {
  type: 'warning';
  line: number;
  code: WarningCode;
  message: string;
  /** The offending line, cut to 200 characters. */
  text?: string;
}

export type TraceOutput =
  | MessageRecord
  | SyslogRecord
  | InitRecord
  | EventRecord
  | CrashRecord
  | WarningRecord;

export type TraceOutputType = TraceOutput['type'];
