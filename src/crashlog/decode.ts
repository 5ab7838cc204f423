/**
 * Section decoders (PROTOCOL.md §7.4). Each decoder sees only a `ByteReader` bounded to the
 * payload, checks its minimum before reading (ROBUSTNESS B37), decodes optional tails only when
 * present, and reports every irregularity as a warning on the context; none of them throws on any
 * input (a reader error would be a bug here and is caught by the parser).
 */

import { decodeEsr, exceptionLevelName } from './aarch64.js';
import { CrashlogCode } from './codes.js';
import { Fourcc } from './fourcc.js';
import type { ByteReader } from './reader.js';
import type {
  CascSection,
  CcdpEntry,
  CcdpSection,
  CcstSection,
  CmbxSection,
  CrashlogSection,
  CrashlogWarning,
  Crg8Section,
  CrgASection,
  CrtkSection,
  CstrSection,
  CtimSection,
  CverSection,
  MailboxEntry,
  RawReason,
  RawSection,
  RtkTask,
  SectionCommon,
} from './types.js';
import { parseRtkitVersion } from './version.js';

export interface DecodeContext {
  /** Where warnings go; the parser sets `offset` to the current section's. */
  warnings: CrashlogWarning[];
  offset: number;
  maxEntries: number;
}

function warn(ctx: DecodeContext, code: string, message: string): void {
  ctx.warnings.push({ code, message, offset: ctx.offset });
}

export function rawSection(base: SectionCommon, reason: RawReason): RawSection {
  return { kind: 'raw', ...base, reason };
}

function tooShort(base: SectionCommon, ctx: DecodeContext, min: number): RawSection {
  warn(
    ctx,
    CrashlogCode.SECTION_TOO_SHORT,
    `${base.fourcc} payload ${base.raw.length} < ${min} bytes`,
  );
  return rawSection(base, 'too-short');
}

function trailing(base: SectionCommon, ctx: DecodeContext, extra: number, what: string): void {
  if (extra > 0) {
    warn(
      ctx,
      CrashlogCode.SECTION_TRAILING_BYTES,
      `${base.fourcc}: ${extra} byte${extra === 1 ? '' : 's'} after ${what}`,
    );
  }
}

/** Cap a firmware-supplied count at `maxEntries` (bounded output), warning when it bites. */
function capCount(base: SectionCommon, ctx: DecodeContext, count: number, what: string): number {
  if (count <= ctx.maxEntries) return count;
  warn(
    ctx,
    CrashlogCode.ENTRY_LIMIT_REACHED,
    `${base.fourcc}: ${count} ${what}, decoding the first ${ctx.maxEntries}`,
  );
  return ctx.maxEntries;
}

function unterminated(base: SectionCommon, ctx: DecodeContext, what: string): void {
  warn(
    ctx,
    CrashlogCode.UNTERMINATED_STRING,
    `${base.fourcc} ${what} has no NUL before the payload end`,
  );
}

/** `text` split into Linux's printed lines: at `\n`, a final empty line dropped. */
export function splitLines(text: string): string[] {
  if (text.length === 0) return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function decodeCstr(
  r: ByteReader,
  base: SectionCommon,
  ctx: DecodeContext,
): CstrSection | RawSection {
  if (r.length < 4) return tooShort(base, ctx, 4);
  const id = r.u32(0);
  const s = r.cstring(4);
  if (!s.terminated) unterminated(base, ctx, 'text');
  return {
    kind: 'Cstr',
    ...base,
    id,
    appendToPanic: (id & 1) === 1,
    text: s.text,
    lines: splitLines(s.text),
    terminated: s.terminated,
  };
}

const UUID_DASHES = new Set([4, 6, 8, 10]);

function uuidText(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    if (UUID_DASHES.has(i)) s += '-';
    s += (bytes[i] ?? 0).toString(16).padStart(2, '0');
  }
  return s;
}

function decodeCver(
  r: ByteReader,
  base: SectionCommon,
  ctx: DecodeContext,
): CverSection | RawSection {
  if (r.length < 16) return tooShort(base, ctx, 16);
  const uuid = uuidText(r.bytesAt(0, 16));
  // PROTOCOL.md §7.4 / §12 #20: ML, OB and m1n1 read the string at +16, APPLE (iOS 18) at +24;
  // the +24 layout is taken only when the text there, and not at +16, looks like a version.
  let versionOffset: 16 | 24 = 16;
  let recognized = true;
  let slide: bigint | undefined;
  if (!r.startsWith(16, 'RTKit')) {
    if (r.startsWith(24, 'RTKit')) {
      versionOffset = 24;
      slide = r.u64(16);
    } else {
      recognized = false;
    }
  }
  const s = r.cstring(versionOffset);
  if (!s.terminated) unterminated(base, ctx, 'version string');
  const out: CverSection = {
    kind: 'Cver',
    ...base,
    uuid,
    version: s.text,
    versionOffset,
    versionRecognized: recognized,
    terminated: s.terminated,
  };
  if (slide !== undefined) out.possibleAslrSlide = slide;
  const parsed = parseRtkitVersion(s.text);
  if (parsed !== undefined) out.parsed = parsed;
  return out;
}

function decodeCtim(
  r: ByteReader,
  base: SectionCommon,
  ctx: DecodeContext,
): CtimSection | RawSection {
  if (r.length < 8) return tooShort(base, ctx, 8);
  trailing(base, ctx, r.length - 8, 'the crash time');
  return { kind: 'Ctim', ...base, time: r.u64(0) };
}

const CMBX_HEADER = 28;
const CMBX_ENTRY = 24;

function decodeCmbx(r: ByteReader, base: SectionCommon, ctx: DecodeContext): CmbxSection {
  const out: CmbxSection = { kind: 'Cmbx', ...base, entries: [] };
  const n = r.length;
  // ROBUSTNESS B2: each header word only if it fits; entries only from a full 28-byte header.
  if (n >= 4) out.kicInboxCtrl = r.u32(0);
  if (n >= 8) out.kicMailboxSet = r.u32(4);
  if (n >= 12) out.apOutboxCtrl = r.u32(8);
  if (n >= 16) out.apMailboxSet = r.u32(12);
  if (n >= 20) out.mailboxError = r.u32(16);
  if (n >= 24) out.unknown20 = r.u32(20);
  if (n >= 28) out.route = r.u32(24);
  if (n < CMBX_HEADER) {
    warn(
      ctx,
      CrashlogCode.SECTION_TOO_SHORT,
      `Cmbx payload ${n} < ${CMBX_HEADER} bytes: ${n >>> 2} header words, no entries`,
    );
    return out;
  }
  const total = Math.floor((n - CMBX_HEADER) / CMBX_ENTRY);
  const count = capCount(base, ctx, total, 'mailbox entries');
  if (count === total) trailing(base, ctx, (n - CMBX_HEADER) % CMBX_ENTRY, `${total} entries`);
  const entries: MailboxEntry[] = new Array(count);
  let wide = -1;
  for (let i = 0, off = CMBX_HEADER; i < count; i++, off += CMBX_ENTRY) {
    const epHigh = r.u32(off + 4);
    const ts = r.u32(off + 16);
    const e: MailboxEntry = {
      index: i,
      ep: r.u32(off),
      msg: r.u64(off + 8),
      timestamp: r.u64(off + 16),
      dir: (ts & 1) === 1 ? 'ap->iop' : 'iop->ap',
    };
    if (epHigh !== 0) e.epHigh = epHigh;
    // Endpoints are 8 bits (PROTOCOL.md §2): anything above 0xff is corrupt.
    if ((epHigh !== 0 || e.ep > 0xff) && wide < 0) wide = i;
    entries[i] = e;
  }
  if (wide >= 0) {
    warn(ctx, CrashlogCode.ENDPOINT_HIGH_BITS, `Cmbx entry #${wide}: endpoint field above 0xff`);
  }
  out.entries = entries;
  return out;
}

const CRG8_MIN = 0x344;
const CRG8_FRAME_SIZE = 828;

function u64s(r: ByteReader, off: number, count: number): bigint[] {
  const out: bigint[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = r.u64(off + 8 * i);
  return out;
}

function decodeCrg8(
  r: ByteReader,
  base: SectionCommon,
  ctx: DecodeContext,
): Crg8Section | RawSection {
  // APPLE requires 836 bytes; ML's 832 would read 4 bytes of ESR past the payload (ROBUSTNESS B5).
  if (r.length < CRG8_MIN) return tooShort(base, ctx, CRG8_MIN);
  const frameSize = r.u32(4);
  if (frameSize !== CRG8_FRAME_SIZE) {
    warn(
      ctx,
      CrashlogCode.FRAME_SIZE_UNEXPECTED,
      `Crg8 frame size ${frameSize}, APPLE expects ${CRG8_FRAME_SIZE}`,
    );
  }
  const psr = r.u64(0x110);
  const esr = r.u32(0x340);
  const mode = Number(psr & 0xfn);
  const e = decodeEsr(esr);
  const out: Crg8Section = {
    kind: 'Crg8',
    ...base,
    frameFlags: r.u32(0),
    frameSize,
    regs: u64s(r, 0x008, 31),
    sp: r.u64(0x100),
    pc: r.u64(0x108),
    psr,
    cpacr: r.u64(0x118),
    fpsr: r.u64(0x120),
    fpcr: r.u64(0x128),
    fp: u64s(r, 0x130, 64),
    far: r.u64(0x330),
    farPhysical: r.u64(0x338),
    esr,
    mode,
    el: exceptionLevelName(mode),
    esrClass: e.ec,
    esrClassName: e.ecName,
    esrIl: e.il,
    esrIss: e.iss,
  };
  let end = CRG8_MIN;
  if (r.length >= 0x348) {
    out.esrHigh = r.u32(0x344);
    end = 0x348;
  }
  if (r.length >= 0x350) {
    out.unknownTail = r.u64(0x348);
    end = 0x350;
  }
  trailing(base, ctx, r.length - end, 'the exception frame');
  return out;
}

const CRGA_MIN = 352;

function decodeCrgA(
  r: ByteReader,
  base: SectionCommon,
  ctx: DecodeContext,
): CrgASection | RawSection {
  if (r.length < CRGA_MIN) return tooShort(base, ctx, CRGA_MIN);
  const frameSize = r.u32(4);
  if (frameSize !== CRGA_MIN) {
    warn(
      ctx,
      CrashlogCode.FRAME_SIZE_UNEXPECTED,
      `CrgA frame size ${frameSize}, APPLE expects ${CRGA_MIN}`,
    );
  }
  const regs: number[] = new Array(16);
  for (let i = 0; i < 16; i++) regs[i] = r.u32(8 + 4 * i);
  const out: CrgASection = {
    kind: 'CrgA',
    ...base,
    frameFlags: r.u32(0),
    frameSize,
    regs,
    psr: r.u32(0x48),
    unknown4c: r.u32(0x4c),
    stack: r.bytesAt(0x50, 256),
    unknown150: [r.u32(0x150), r.u32(0x154)],
    fsr: r.u32(0x158),
    far: r.u32(0x15c),
  };
  let end = CRGA_MIN;
  // PROTOCOL.md §12 #27: HL's frame ends at 352; APPLE also reads far_physical at +352.
  if (r.length >= CRGA_MIN + 8) {
    out.farPhysical = r.u64(CRGA_MIN);
    end = CRGA_MIN + 8;
  }
  trailing(base, ctx, r.length - end, 'the exception frame');
  return out;
}

function decodeCcst(
  r: ByteReader,
  base: SectionCommon,
  ctx: DecodeContext,
): CcstSection | RawSection {
  if (r.length < 8) return tooShort(base, ctx, 8);
  const flags = r.u32(4);
  const slots = Math.floor((r.length - 8) / 8);
  const limit = capCount(base, ctx, slots, 'call-stack slots');
  const frames: bigint[] = [];
  let off = 8;
  let ended = false;
  for (let i = 0; i < limit; i++, off += 8) {
    const v = r.u64(off);
    if (v === 0n) {
      ended = true;
      break;
    }
    frames.push(v);
  }
  // Bytes after the 0 terminator are padding; a partial slot at the end is not.
  if (!ended && limit === slots) trailing(base, ctx, (r.length - 8) % 8, 'the call stack');
  return {
    kind: 'Ccst',
    ...base,
    taskId: r.u32(0),
    flags,
    // APPLE tests bit 0x10 of the byte at +7, i.e. bit 28 of this u32.
    interrupt: (flags & 0x1000_0000) !== 0,
    frames,
  };
}

function decodeCasc(
  r: ByteReader,
  base: SectionCommon,
  ctx: DecodeContext,
): CascSection | RawSection {
  if (r.length < 48) return tooShort(base, ctx, 48);
  const l2cErrSts = r.u64(0);
  const out: CascSection = {
    kind: 'CasC',
    ...base,
    l2cErrSts,
    l2cErrAdr: r.u64(8),
    l2cErrInf: r.u64(16),
    lsuErrSts: r.u64(24),
    fedErrSts: r.u64(32),
    mmuErrSts: r.u64(40),
    l2cSingleBit: (l2cErrSts & 0x4n) !== 0n,
    l2cDoubleBit: (l2cErrSts & 0x10n) !== 0n,
  };
  let end = 48;
  if (r.length >= 56) {
    out.dpcErrSts = r.u64(48);
    end = 56;
  }
  trailing(base, ctx, r.length - end, 'the error registers');
  return out;
}

const TASK_FIXED = 72;
const TASK_NAME = 28;

function decodeCrtk(r: ByteReader, base: SectionCommon, ctx: DecodeContext): CrtkSection {
  const tasks: RtkTask[] = [];
  let off = 0;
  let truncated = false;
  let limited = false;
  // Decode while a whole fixed part remains (APPLE stops at ≤ 72 left; we also decode exactly 72).
  while (r.length - off >= TASK_FIXED) {
    if (tasks.length >= ctx.maxEntries) {
      warn(ctx, CrashlogCode.ENTRY_LIMIT_REACHED, `Crtk: more than ${ctx.maxEntries} tasks`);
      limited = true;
      break;
    }
    const word = r.u32(off);
    const depth = r.u32(off + 40);
    const fits = Math.floor((r.length - off - TASK_FIXED) / 8);
    let n = depth;
    if (depth > fits) {
      n = fits;
      truncated = true;
      warn(
        ctx,
        CrashlogCode.TASK_DEPTH_TRUNCATED,
        `Crtk task ${word & 0x7fff_ffff}: depth ${depth}, only ${fits} return addresses fit`,
      );
    }
    if (n > ctx.maxEntries) {
      n = ctx.maxEntries;
      limited = true;
      warn(ctx, CrashlogCode.ENTRY_LIMIT_REACHED, `Crtk: call stack deeper than ${n}`);
    }
    tasks.push({
      id: word & 0x7fff_ffff,
      faulting: (word & 0x8000_0000) !== 0,
      priority: r.u32(off + 4),
      effectivePriority: r.u32(off + 8),
      state: r.u32(off + 12),
      waitObject: r.u64(off + 16),
      stackSize: r.u64(off + 24),
      stackUsed: r.u64(off + 32),
      depth,
      // A fixed char[28]: full-width names need no NUL, so no UNTERMINATED_STRING here.
      name: r.cstring(off + 44, TASK_NAME).text,
      frames: u64s(r, off + TASK_FIXED, n),
    });
    // After a capped call stack the next task's position is unknown: stop rather than misparse.
    if (limited) break;
    off += TASK_FIXED + 8 * n;
  }
  if (!truncated && !limited) trailing(base, ctx, r.length - off, `${tasks.length} tasks`);
  return { kind: 'Crtk', ...base, tasks };
}

const CCDP_ENTRY = 20;

function decodeCcdp(r: ByteReader, base: SectionCommon, ctx: DecodeContext): CcdpSection {
  const total = Math.floor(r.length / CCDP_ENTRY);
  const count = capCount(base, ctx, total, 'entries');
  if (count === total) trailing(base, ctx, r.length % CCDP_ENTRY, `${total} entries`);
  const entries: CcdpEntry[] = new Array(count);
  for (let i = 0, off = 0; i < count; i++, off += CCDP_ENTRY) {
    entries[i] = { va: r.u64(off), pa: r.u64(off + 8), flags: r.u32(off + 16) };
  }
  return { kind: 'Ccdp', ...base, entries };
}

/** Decode one section's payload by fourcc; unknown fourccs (and Cpct) stay raw (P7). */
export function decodeSection(
  r: ByteReader,
  base: SectionCommon,
  ctx: DecodeContext,
): CrashlogSection {
  switch (base.fourccValue) {
    case Fourcc.Cstr:
      return decodeCstr(r, base, ctx);
    case Fourcc.Cver:
      return decodeCver(r, base, ctx);
    case Fourcc.Ctim:
      return decodeCtim(r, base, ctx);
    case Fourcc.Cmbx:
      return decodeCmbx(r, base, ctx);
    case Fourcc.Crg8:
      return decodeCrg8(r, base, ctx);
    case Fourcc.CrgA:
      return decodeCrgA(r, base, ctx);
    case Fourcc.Ccst:
      return decodeCcst(r, base, ctx);
    case Fourcc.CasC:
      return decodeCasc(r, base, ctx);
    case Fourcc.Crtk:
      return decodeCrtk(r, base, ctx);
    case Fourcc.Ccdp:
      return decodeCcdp(r, base, ctx);
    case Fourcc.Cpct:
      // Seen once, meaning unknown (PROTOCOL.md §7.4): known name, bytes only.
      return rawSection(base, 'opaque');
    default:
      return rawSection(base, 'unknown-fourcc');
  }
}
