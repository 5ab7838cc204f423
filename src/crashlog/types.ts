/**
 * The crashlog report model: plain data, one interface per section kind (PROTOCOL.md §7).
 *
 * Number representation: 64-bit firmware values (registers, addresses, message words, timestamps)
 * are `bigint`, the same as the word API at the protocol edge; small fields (u32 and below,
 * counts, offsets, endpoints) are `number`. A bigint costs about 30 ns to create on Node 20, which
 * keeps the parser well above 200 MB/s on realistic logs (see docs/crashlog.md), so the lossless
 * type wins over a split `{hi, lo}` representation at this API.
 */

import type { RtkitError } from '../errors.js';
import type { Direction } from '../protocol/word.js';
import type { ExceptionLevelName } from './aarch64.js';
import type { RtkitVersion } from './version.js';

/** A problem found while parsing. `offset` is the buffer offset of the section (or header) concerned. */
export interface CrashlogWarning {
  code: string;
  message: string;
  offset?: number;
}

export interface CrashlogHeader {
  /** The u32 at 0x04; `versionMajor` is its byte 0x05, `versionMinor` byte 0x04 [inferred]. */
  version: number;
  versionMajor: number;
  versionMinor: number;
  /** Total size as written by the firmware (may exceed the buffer: see `CrashReport.limit`). */
  totalSize: number;
  flags: number;
  /** flags[8]: "Incomplete crash log, IOP crashed during logging" (APPLE). */
  incomplete: boolean;
  /** flags[9]: nested exception; the two fields below are meaningful only when set. */
  nestedException: boolean;
  nestedExceptionAddress: bigint;
  nestedExceptionType: number;
  /** The 32 header bytes (including the unknown 0x19–0x1f). */
  raw: Uint8Array;
}

export interface CrashlogFooter {
  offset: number;
  /** All 32 bytes equal the header (APPLE compares the four u64 words). */
  matchesHeader: boolean;
}

/** Fields every section has. */
export interface SectionCommon {
  /** Four printable characters (`Cstr`) or `0x%08x` for anything else. */
  fourcc: string;
  fourccValue: number;
  /** Buffer offset of the 16-byte section header. */
  offset: number;
  /** Section size including the header. */
  size: number;
  /** The unknown u32 at header +4. */
  hdrUnknown: number;
  /** Section version, header +8 (major [15:8], minor [7:0] [inferred]); reported, not enforced.
   * Not called `version`, which is Cver's version string. */
  sectionVersion: number;
  /** The payload (`size − 16` bytes): a zero-copy view into the parsed buffer. */
  raw: Uint8Array;
  /** Codes of the warnings that concern this section, when there are any. */
  issues?: string[];
}

export interface CstrSection extends SectionCommon {
  kind: 'Cstr';
  id: number;
  /** id bit 0: Apple appends this text to the panic string. */
  appendToPanic: boolean;
  /** Raw text up to the first NUL or the payload end. */
  text: string;
  /** `text` split at `\n` (a final empty line dropped), as Linux prints one line each. */
  lines: string[];
  terminated: boolean;
}

export interface CverSection extends SectionCommon {
  kind: 'Cver';
  /** The 16 uuid bytes in memory order as 8-4-4-4-12 lower-case hex (byte order [uncertain]). */
  uuid: string;
  /** The version string (PROTOCOL.md §7.4 heuristic: payload +16, or +24 on newer firmware). */
  version: string;
  versionOffset: 16 | 24;
  /** False when neither +16 nor +24 starts with `RTKit` (the text at +16 is then a guess). */
  versionRecognized: boolean;
  terminated: boolean;
  /** The u64 at +16 when the string was found at +24 (hypothesis: the ASLR slide) [uncertain]. */
  possibleAslrSlide?: bigint;
  /** The version string parsed, when it has the observed shape. */
  parsed?: RtkitVersion;
}

export interface CtimSection extends SectionCommon {
  kind: 'Ctim';
  /** Crash time in the IOP timebase (the Cmbx timestamp clock [inferred]). */
  time: bigint;
}

export interface MailboxEntry {
  /** Position in the section (Linux's `#%03d`). */
  index: number;
  /** Endpoint: the low 32 bits of the u64 field. */
  ep: number;
  /** The high 32 bits of the endpoint field, present only when non-zero. */
  epHigh?: number;
  /** The message word (`msg0`). */
  msg: bigint;
  /** u64 timestamp (ML/m1n1 read only the low 32 bits). */
  timestamp: bigint;
  /** From timestamp bit 0: odd = AP→IOP, even = IOP→AP [inferred, strong]. */
  dir: Direction;
}

/** A mailbox register snapshot and history. The seven header words are present only when they
 * fit in the payload (ROBUSTNESS B2); APPLE names, ML's in brackets. */
export interface CmbxSection extends SectionCommon {
  kind: 'Cmbx';
  /** AKF_KIC_INBOX_CTRL [hdr[0]] */
  kicInboxCtrl?: number;
  /** AKF_KIC_MAILBOX_SET [hdr[1]] */
  kicMailboxSet?: number;
  /** AKF_AP_OUTBOX_CTRL [hdr[2]] */
  apOutboxCtrl?: number;
  /** AKF_AP_MAILBOX_SET [hdr[3]] */
  apMailboxSet?: number;
  /** Mailbox error bits: [0] INBOX not ready, [1] OUTBOX not ready, [2] AP instance
   * uninitialized [ML: type]. */
  mailboxError?: number;
  /** The unknown word at +20. */
  unknown20?: number;
  /** Route number [ML: index]. */
  route?: number;
  entries: MailboxEntry[];
}

export interface Crg8Section extends SectionCommon {
  kind: 'Crg8';
  /** Prefix word +0 (APPLE: 0x10000 = skip this frame). */
  frameFlags: number;
  /** Prefix word +4: bytes after the 8-byte prefix (APPLE requires 828). */
  frameSize: number;
  /** x0–x30 (x30 = LR). */
  regs: bigint[];
  sp: bigint;
  pc: bigint;
  psr: bigint;
  cpacr: bigint;
  fpsr: bigint;
  fpcr: bigint;
  /** 64 u64 words of FP/SIMD state (the q registers as low/high halves [inferred]). */
  fp: bigint[];
  far: bigint;
  /** All ones = none. */
  farPhysical: bigint;
  esr: number;
  /** The u32 after ESR (payload ≥ 0x348; the high half when read as u64, as ML does). */
  esrHigh?: number;
  /** The u64 at +0x348 (payload ≥ 0x350; ML "unk_Z"). */
  unknownTail?: bigint;
  /** PSR[3:0] and its name. */
  mode: number;
  el: ExceptionLevelName;
  esrClass: number;
  esrClassName: string;
  esrIl: number;
  esrIss: number;
}

export interface CrgASection extends SectionCommon {
  kind: 'CrgA';
  frameFlags: number;
  frameSize: number;
  /** r0–r15. */
  regs: number[];
  psr: number;
  unknown4c: number;
  /** 256 bytes HL calls "stack". */
  stack: Uint8Array;
  unknown150: [number, number];
  fsr: number;
  far: number;
  /** Present when the payload reaches 360 bytes (APPLE only) [uncertain]. */
  farPhysical?: bigint;
}

export interface CcstSection extends SectionCommon {
  kind: 'Ccst';
  taskId: number;
  /** The u32 at +4. */
  flags: number;
  /** Bit 0x10 of the byte at +7 (APPLE: "Faulting Int Call Stack"). */
  interrupt: boolean;
  /** Return addresses up to the first 0 or the payload end. */
  frames: bigint[];
}

export interface CascSection extends SectionCommon {
  kind: 'CasC';
  l2cErrSts: bigint;
  l2cErrAdr: bigint;
  l2cErrInf: bigint;
  lsuErrSts: bigint;
  fedErrSts: bigint;
  mmuErrSts: bigint;
  /** Newer section versions only (payload ≥ 56). */
  dpcErrSts?: bigint;
  /** l2c_err_sts bit 2 / bit 4 (APPLE). */
  l2cSingleBit: boolean;
  l2cDoubleBit: boolean;
}

export interface RtkTask {
  /** u32 id with bit 31 removed. */
  id: number;
  /** Bit 31 of the id word: the faulting/current task. */
  faulting: boolean;
  priority: number;
  /** 0 means "use `priority`". */
  effectivePriority: number;
  /** State index (names RUNNABLE, WAITING, SEMWAIT exist; the mapping is unknown). */
  state: number;
  waitObject: bigint;
  stackSize: bigint;
  stackUsed: bigint;
  /** Call-stack depth as written; `frames` may be shorter when truncated (warning). */
  depth: number;
  name: string;
  frames: bigint[];
}

export interface CrtkSection extends SectionCommon {
  kind: 'Crtk';
  tasks: RtkTask[];
}

export interface CcdpEntry {
  va: bigint;
  /** HF: "dva". */
  pa: bigint;
  flags: number;
}

export interface CcdpSection extends SectionCommon {
  kind: 'Ccdp';
  entries: CcdpEntry[];
}

/** Why a section is only kept as bytes. */
export type RawReason = 'unknown-fourcc' | 'opaque' | 'too-short' | 'decode-failed';

export interface RawSection extends SectionCommon {
  kind: 'raw';
  reason: RawReason;
}

export type CrashlogSection =
  | CstrSection
  | CverSection
  | CtimSection
  | CmbxSection
  | Crg8Section
  | CrgASection
  | CcstSection
  | CascSection
  | CrtkSection
  | CcdpSection
  | RawSection;

export type SectionKind = CrashlogSection['kind'];

export interface CrashReport {
  header: CrashlogHeader;
  /** Length of the parsed buffer. */
  bufferLength: number;
  /** End of the section walk: `min(totalSize, bufferLength)` (P3). */
  limit: number;
  sections: CrashlogSection[];
  /** The `CLHE` that ended the walk, when one did. */
  footer?: CrashlogFooter;
  /** Every problem, in discovery order (including `walkError`). */
  warnings: CrashlogWarning[];
  /** The problem that stopped the walk early (P4), if any. */
  walkError?: CrashlogWarning;
}

export type CrashlogResult = { ok: true; report: CrashReport } | { ok: false; error: RtkitError };

export interface ParseCrashlogOptions {
  /** Continue when the header major version is not 3 (warning instead of error). */
  lenient?: boolean;
  /** Stop the walk after this many sections (default 4096). */
  maxSections?: number;
  /** Decode at most this many entries per list (mailbox entries, tasks, frames; default 65536). */
  maxEntries?: number;
}
