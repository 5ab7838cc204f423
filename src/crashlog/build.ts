/**
 * Crashlog writer: the inverse of `parseCrashlog`, used by the simulator to produce crash dumps
 * and by tests. Layout follows PROTOCOL.md §7: a 32-byte `CLHE` header, sections with 16-byte
 * headers (version 0x100 unless given), and a footer that copies the header. Strings are written
 * with a NUL and padded to a multiple of 4, as in the §7.5 example. Parsed reports are accepted
 * as input (decoded fields are re-encoded; `raw` is used only for `kind: 'raw'`).
 *
 * Invalid input (a value out of range, a string that would not read back) is API misuse and
 * throws `RtkitError(ENCODE_INVALID)`.
 */

import { ErrorCode, RtkitError } from '../errors.js';
import type { Direction } from '../protocol/word.js';
import { Fourcc, fourccValue } from './fourcc.js';
import { HEADER_SIZE, SECTION_HEADER_SIZE } from './parse.js';

export interface SectionHeaderInput {
  /** Section version word (default 0x100, "1.0"). */
  sectionVersion?: number;
  /** The unknown header word at +4 (default 0). */
  hdrUnknown?: number;
}

export interface CstrInput extends SectionHeaderInput {
  kind: 'Cstr';
  id: number;
  text: string;
  /** Write the NUL and padding (default true); false ends the text at the payload end. */
  terminated?: boolean;
}

export interface CverInput extends SectionHeaderInput {
  kind: 'Cver';
  /** 32 hex digits, dashes optional (default all zero). */
  uuid?: string;
  version: string;
  /** Selects the newer layout: this u64 at +16, the string at +24 [uncertain]. */
  possibleAslrSlide?: bigint;
  terminated?: boolean;
}

export interface CtimInput extends SectionHeaderInput {
  kind: 'Ctim';
  time: bigint;
}

export interface MailboxEntryInput {
  ep: number;
  epHigh?: number;
  msg: bigint;
  timestamp: bigint;
  /** When given, sets timestamp bit 0 to match (odd = AP→IOP). */
  dir?: Direction;
}

/** The seven header words are always written (absent = 0); build a short Cmbx as `raw`. */
export interface CmbxInput extends SectionHeaderInput {
  kind: 'Cmbx';
  kicInboxCtrl?: number;
  kicMailboxSet?: number;
  apOutboxCtrl?: number;
  apMailboxSet?: number;
  mailboxError?: number;
  unknown20?: number;
  route?: number;
  entries: readonly MailboxEntryInput[];
}

/** Absent registers are 0 (`farPhysical`: all ones, "none"); short arrays are zero-filled. */
export interface Crg8Input extends SectionHeaderInput {
  kind: 'Crg8';
  frameFlags?: number;
  frameSize?: number;
  regs?: readonly bigint[];
  sp?: bigint;
  pc?: bigint;
  psr?: bigint;
  cpacr?: bigint;
  fpsr?: bigint;
  fpcr?: bigint;
  fp?: readonly bigint[];
  far?: bigint;
  farPhysical?: bigint;
  esr?: number;
  /** Extends the payload to 0x348 bytes. */
  esrHigh?: number;
  /** Extends the payload to 0x350 bytes. */
  unknownTail?: bigint;
}

export interface CrgAInput extends SectionHeaderInput {
  kind: 'CrgA';
  frameFlags?: number;
  frameSize?: number;
  regs?: readonly number[];
  psr?: number;
  unknown4c?: number;
  stack?: Uint8Array;
  unknown150?: readonly [number, number];
  fsr?: number;
  far?: number;
  /** Extends the payload to 360 bytes. */
  farPhysical?: bigint;
}

export interface CcstInput extends SectionHeaderInput {
  kind: 'Ccst';
  taskId: number;
  flags?: number;
  /** When true, sets flags bit 28 (byte +7 bit 0x10). */
  interrupt?: boolean;
  /** Non-zero return addresses (0 ends the list when read back). */
  frames: readonly bigint[];
}

export interface CascInput extends SectionHeaderInput {
  kind: 'CasC';
  l2cErrSts?: bigint;
  l2cErrAdr?: bigint;
  l2cErrInf?: bigint;
  lsuErrSts?: bigint;
  fedErrSts?: bigint;
  mmuErrSts?: bigint;
  /** Present → the 7-register layout. */
  dpcErrSts?: bigint;
}

export interface RtkTaskInput {
  id: number;
  faulting?: boolean;
  priority?: number;
  effectivePriority?: number;
  state?: number;
  waitObject?: bigint;
  stackSize?: bigint;
  stackUsed?: bigint;
  /** At most 28 UTF-8 bytes, no NUL. */
  name?: string;
  /** The depth written is `frames.length`. */
  frames?: readonly bigint[];
}

export interface CrtkInput extends SectionHeaderInput {
  kind: 'Crtk';
  tasks: readonly RtkTaskInput[];
}

export interface CcdpInput extends SectionHeaderInput {
  kind: 'Ccdp';
  entries: readonly { va: bigint; pa: bigint; flags: number }[];
}

export interface RawInput extends SectionHeaderInput {
  kind: 'raw';
  /** Four printable characters or `0x%08x`. */
  fourcc: string | number;
  raw: Uint8Array;
}

export type SectionInput =
  | CstrInput
  | CverInput
  | CtimInput
  | CmbxInput
  | Crg8Input
  | CrgAInput
  | CcstInput
  | CascInput
  | CrtkInput
  | CcdpInput
  | RawInput;

export interface CrashlogInput {
  header?: {
    /** Default 0x303. */
    version?: number;
    flags?: number;
    nestedExceptionAddress?: bigint;
    nestedExceptionType?: number;
  };
  sections: readonly SectionInput[];
  /** Append the footer (default true). */
  withFooter?: boolean;
  /** Write this in the total-size field instead of the real length (fault injection). */
  totalSize?: number;
}

function invalid(message: string, details: Record<string, unknown> = {}): never {
  throw new RtkitError(ErrorCode.ENCODE_INVALID, message, details);
}

function u32(v: number | undefined, what: string): number {
  const x = v ?? 0;
  if (!Number.isInteger(x) || x < 0 || x > 0xffff_ffff) invalid(`${what} is not a u32: ${x}`);
  return x;
}

const U64_MAX = 0xffff_ffff_ffff_ffffn;

function u64(v: bigint | undefined, what: string): bigint {
  const x = v ?? 0n;
  if (typeof x !== 'bigint' || x < 0n || x > U64_MAX) invalid(`${what} is not a u64: ${String(x)}`);
  return x;
}

const utf8 = new TextEncoder();

function textBytes(s: string, what: string): Uint8Array {
  const b = utf8.encode(s);
  if (b.includes(0)) invalid(`${what} contains a NUL`);
  return b;
}

/** Little-endian writer over a fixed-size, zero-filled payload. */
class Writer {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  u32(off: number, v: number | undefined, what: string): void {
    this.view.setUint32(off, u32(v, what), true);
  }
  u64(off: number, v: bigint | undefined, what: string): void {
    this.view.setBigUint64(off, u64(v, what), true);
  }
  u64s(off: number, vs: readonly bigint[] | undefined, max: number, what: string): void {
    const list = vs ?? [];
    if (list.length > max) invalid(`${what}: ${list.length} values > ${max}`);
    for (let i = 0; i < list.length; i++) this.u64(off + 8 * i, list[i], `${what}[${i}]`);
  }
}

const pad4 = (n: number) => (n + 3) & ~3;

/** id/prefix + string (+ NUL, padded to 4 when terminated). */
function stringPayload(prefix: number, text: Uint8Array, terminated: boolean): Writer {
  const w = new Writer(terminated ? pad4(prefix + text.length + 1) : prefix + text.length);
  w.bytes.set(text, prefix);
  return w;
}

const RTKIT = 'RTKit';

function startsWithRtkit(b: Uint8Array, at: number): boolean {
  for (let i = 0; i < RTKIT.length; i++) if (b[at + i] !== RTKIT.charCodeAt(i)) return false;
  return true;
}

function uuidBytes(uuid: string | undefined): Uint8Array {
  const out = new Uint8Array(16);
  if (uuid === undefined) return out;
  const h = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(h)) invalid(`uuid ${JSON.stringify(uuid)} is not 32 hex digits`);
  for (let i = 0; i < 16; i++) out[i] = Number.parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function encodeCver(s: CverInput): Uint8Array {
  const text = textBytes(s.version, 'Cver version');
  const slide = s.possibleAslrSlide;
  const terminated = s.terminated ?? true;
  // The parser's §7.4 heuristic must find the string where we put it.
  if (slide !== undefined && !startsWithRtkit(text, 0)) {
    invalid('Cver: a slide needs a version string starting with "RTKit" to be read back');
  }
  if (slide === undefined && !startsWithRtkit(text, 0) && startsWithRtkit(text, 8)) {
    invalid('Cver: "RTKit" at string offset 8 would be read as the +24 layout');
  }
  const at = slide === undefined ? 16 : 24;
  const w = stringPayload(at, text, terminated);
  w.bytes.set(uuidBytes(s.uuid), 0);
  if (slide !== undefined) {
    w.u64(16, slide, 'Cver slide');
    if (startsWithRtkit(w.bytes, 16)) invalid('Cver: slide bytes spell "RTKit"');
  }
  return w.bytes;
}

function encodeCmbx(s: CmbxInput): Uint8Array {
  const w = new Writer(28 + 24 * s.entries.length);
  w.u32(0, s.kicInboxCtrl, 'kicInboxCtrl');
  w.u32(4, s.kicMailboxSet, 'kicMailboxSet');
  w.u32(8, s.apOutboxCtrl, 'apOutboxCtrl');
  w.u32(12, s.apMailboxSet, 'apMailboxSet');
  w.u32(16, s.mailboxError, 'mailboxError');
  w.u32(20, s.unknown20, 'unknown20');
  w.u32(24, s.route, 'route');
  s.entries.forEach((e, i) => {
    const off = 28 + 24 * i;
    w.u32(off, e.ep, `entries[${i}].ep`);
    w.u32(off + 4, e.epHigh, `entries[${i}].epHigh`);
    w.u64(off + 8, e.msg, `entries[${i}].msg`);
    let ts = u64(e.timestamp, `entries[${i}].timestamp`);
    if (e.dir !== undefined) ts = (ts & ~1n) | (e.dir === 'ap->iop' ? 1n : 0n);
    w.u64(off + 16, ts, `entries[${i}].timestamp`);
  });
  return w.bytes;
}

function encodeCrg8(s: Crg8Input): Uint8Array {
  const size = s.unknownTail !== undefined ? 0x350 : s.esrHigh !== undefined ? 0x348 : 0x344;
  const w = new Writer(size);
  w.u32(0, s.frameFlags, 'frameFlags');
  w.u32(4, s.frameSize ?? 828, 'frameSize');
  w.u64s(0x008, s.regs, 31, 'regs');
  w.u64(0x100, s.sp, 'sp');
  w.u64(0x108, s.pc, 'pc');
  w.u64(0x110, s.psr, 'psr');
  w.u64(0x118, s.cpacr, 'cpacr');
  w.u64(0x120, s.fpsr, 'fpsr');
  w.u64(0x128, s.fpcr, 'fpcr');
  w.u64s(0x130, s.fp, 64, 'fp');
  w.u64(0x330, s.far, 'far');
  w.u64(0x338, s.farPhysical ?? U64_MAX, 'farPhysical');
  w.u32(0x340, s.esr, 'esr');
  if (size >= 0x348) w.u32(0x344, s.esrHigh, 'esrHigh');
  if (size >= 0x350) w.u64(0x348, s.unknownTail, 'unknownTail');
  return w.bytes;
}

function encodeCrgA(s: CrgAInput): Uint8Array {
  const w = new Writer(s.farPhysical !== undefined ? 360 : 352);
  w.u32(0, s.frameFlags, 'frameFlags');
  w.u32(4, s.frameSize ?? 352, 'frameSize');
  const regs = s.regs ?? [];
  if (regs.length > 16) invalid(`CrgA regs: ${regs.length} values > 16`);
  regs.forEach((v, i) => {
    w.u32(8 + 4 * i, v, `regs[${i}]`);
  });
  w.u32(0x48, s.psr, 'psr');
  w.u32(0x4c, s.unknown4c, 'unknown4c');
  if (s.stack !== undefined) {
    if (s.stack.length > 256) invalid(`CrgA stack: ${s.stack.length} bytes > 256`);
    w.bytes.set(s.stack, 0x50);
  }
  w.u32(0x150, s.unknown150?.[0], 'unknown150[0]');
  w.u32(0x154, s.unknown150?.[1], 'unknown150[1]');
  w.u32(0x158, s.fsr, 'fsr');
  w.u32(0x15c, s.far, 'far');
  if (s.farPhysical !== undefined) w.u64(352, s.farPhysical, 'farPhysical');
  return w.bytes;
}

function encodeCcst(s: CcstInput): Uint8Array {
  const w = new Writer(8 + 8 * s.frames.length);
  w.u32(0, s.taskId, 'taskId');
  let flags = u32(s.flags, 'flags');
  if (s.interrupt === true) flags = (flags | 0x1000_0000) >>> 0;
  w.u32(4, flags, 'flags');
  s.frames.forEach((f, i) => {
    if (f === 0n) invalid(`Ccst frames[${i}] is 0 (the list terminator)`);
    w.u64(8 + 8 * i, f, `frames[${i}]`);
  });
  return w.bytes;
}

function encodeCasc(s: CascInput): Uint8Array {
  const w = new Writer(s.dpcErrSts !== undefined ? 56 : 48);
  w.u64(0, s.l2cErrSts, 'l2cErrSts');
  w.u64(8, s.l2cErrAdr, 'l2cErrAdr');
  w.u64(16, s.l2cErrInf, 'l2cErrInf');
  w.u64(24, s.lsuErrSts, 'lsuErrSts');
  w.u64(32, s.fedErrSts, 'fedErrSts');
  w.u64(40, s.mmuErrSts, 'mmuErrSts');
  if (s.dpcErrSts !== undefined) w.u64(48, s.dpcErrSts, 'dpcErrSts');
  return w.bytes;
}

function encodeCrtk(s: CrtkInput): Uint8Array {
  let size = 0;
  for (const t of s.tasks) size += 72 + 8 * (t.frames?.length ?? 0);
  const w = new Writer(size);
  let off = 0;
  s.tasks.forEach((t, i) => {
    const what = `tasks[${i}]`;
    if (!Number.isInteger(t.id) || t.id < 0 || t.id > 0x7fff_ffff) {
      invalid(`${what}.id ${t.id} does not fit 31 bits (bit 31 is the faulting flag)`);
    }
    w.u32(off, (t.id | (t.faulting === true ? 0x8000_0000 : 0)) >>> 0, `${what}.id`);
    w.u32(off + 4, t.priority, `${what}.priority`);
    w.u32(off + 8, t.effectivePriority, `${what}.effectivePriority`);
    w.u32(off + 12, t.state, `${what}.state`);
    w.u64(off + 16, t.waitObject, `${what}.waitObject`);
    w.u64(off + 24, t.stackSize, `${what}.stackSize`);
    w.u64(off + 32, t.stackUsed, `${what}.stackUsed`);
    const frames = t.frames ?? [];
    w.u32(off + 40, frames.length, `${what}.depth`);
    const name = textBytes(t.name ?? '', `${what}.name`);
    if (name.length > 28) invalid(`${what}.name is ${name.length} UTF-8 bytes > 28`);
    w.bytes.set(name, off + 44);
    w.u64s(off + 72, frames, frames.length, `${what}.frames`);
    off += 72 + 8 * frames.length;
  });
  return w.bytes;
}

function encodeCcdp(s: CcdpInput): Uint8Array {
  const w = new Writer(20 * s.entries.length);
  s.entries.forEach((e, i) => {
    w.u64(20 * i, e.va, `entries[${i}].va`);
    w.u64(20 * i + 8, e.pa, `entries[${i}].pa`);
    w.u32(20 * i + 16, e.flags, `entries[${i}].flags`);
  });
  return w.bytes;
}

/** The fourcc value and payload bytes of one section. */
export function encodeSection(s: SectionInput): { fourcc: number; payload: Uint8Array } {
  switch (s.kind) {
    case 'Cstr': {
      const w = stringPayload(4, textBytes(s.text, 'Cstr text'), s.terminated ?? true);
      w.u32(0, s.id, 'Cstr id');
      return { fourcc: Fourcc.Cstr, payload: w.bytes };
    }
    case 'Cver':
      return { fourcc: Fourcc.Cver, payload: encodeCver(s) };
    case 'Ctim': {
      const w = new Writer(8);
      w.u64(0, s.time, 'Ctim time');
      return { fourcc: Fourcc.Ctim, payload: w.bytes };
    }
    case 'Cmbx':
      return { fourcc: Fourcc.Cmbx, payload: encodeCmbx(s) };
    case 'Crg8':
      return { fourcc: Fourcc.Crg8, payload: encodeCrg8(s) };
    case 'CrgA':
      return { fourcc: Fourcc.CrgA, payload: encodeCrgA(s) };
    case 'Ccst':
      return { fourcc: Fourcc.Ccst, payload: encodeCcst(s) };
    case 'CasC':
      return { fourcc: Fourcc.CasC, payload: encodeCasc(s) };
    case 'Crtk':
      return { fourcc: Fourcc.Crtk, payload: encodeCrtk(s) };
    case 'Ccdp':
      return { fourcc: Fourcc.Ccdp, payload: encodeCcdp(s) };
    case 'raw': {
      const v = typeof s.fourcc === 'number' ? s.fourcc : fourccValue(s.fourcc);
      if (v === undefined || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff) {
        invalid(`fourcc ${JSON.stringify(s.fourcc)} is not 4 printable characters or a u32`);
      }
      if (!(s.raw instanceof Uint8Array)) invalid('raw section needs a Uint8Array');
      return { fourcc: v, payload: s.raw };
    }
    default:
      return invalid(`unknown section kind ${JSON.stringify((s as { kind: unknown }).kind)}`);
  }
}

/** Build a crashlog buffer from section values. */
export function buildCrashlog(input: CrashlogInput): Uint8Array {
  const encoded = input.sections.map(encodeSection);
  const withFooter = input.withFooter ?? true;
  let total = HEADER_SIZE + (withFooter ? HEADER_SIZE : 0);
  for (const e of encoded) total += SECTION_HEADER_SIZE + e.payload.length;
  if (total > 0xffff_ffff) invalid(`crashlog of ${total} bytes does not fit the u32 size field`);
  const w = new Writer(total);
  const h = input.header ?? {};
  w.u32(0, Fourcc.CLHE, 'magic');
  w.u32(4, h.version ?? 0x303, 'header version');
  w.u32(8, input.totalSize ?? total, 'totalSize');
  const flags = u32(h.flags, 'header flags');
  w.u32(12, flags, 'header flags');
  w.u64(16, h.nestedExceptionAddress, 'nestedExceptionAddress');
  const type = h.nestedExceptionType ?? 0;
  if (!Number.isInteger(type) || type < 0 || type > 0xff) invalid(`nested type ${type} > 0xff`);
  w.bytes[24] = type;
  let off = HEADER_SIZE;
  input.sections.forEach((s, i) => {
    const e = encoded[i]!;
    w.u32(off, e.fourcc, 'fourcc');
    w.u32(off + 4, s.hdrUnknown, 'hdrUnknown');
    w.u32(off + 8, s.sectionVersion ?? 0x100, 'section version');
    w.u32(off + 12, SECTION_HEADER_SIZE + e.payload.length, 'section size');
    w.bytes.set(e.payload, off + SECTION_HEADER_SIZE);
    off += SECTION_HEADER_SIZE + e.payload.length;
  });
  if (withFooter) w.bytes.copyWithin(off, 0, HEADER_SIZE);
  return w.bytes;
}
