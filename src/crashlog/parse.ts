/**
 * Crashlog container parser: PROTOCOL.md §7.1–§7.2, rules P1–P7, and ROBUSTNESS.md B1–B7, B22,
 * B37. Fatal container problems return `{ ok: false, error }`; everything else is a warning on the
 * report. No input makes it throw, loop or read outside `buf`: the walk advances by at least 16
 * bytes per section, every bound is checked before the read it guards, and each decoder reads
 * through its own payload-bounded `ByteReader`.
 */

import { ErrorCode, isRtkitError, RtkitError } from '../errors.js';
import { CrashlogCode } from './codes.js';
import { type DecodeContext, decodeSection, rawSection } from './decode.js';
import { Fourcc, fourccName } from './fourcc.js';
import { ByteReader } from './reader.js';
import type {
  CrashlogHeader,
  CrashlogResult,
  CrashlogSection,
  CrashlogWarning,
  CrashReport,
  ParseCrashlogOptions,
  SectionCommon,
} from './types.js';

export const HEADER_SIZE = 32;
export const SECTION_HEADER_SIZE = 16;
/** Header major version required by APPLE (byte 0x05). */
export const CRASHLOG_MAJOR = 3;
/** flags[8]: the IOP crashed while writing the log (APPLE). */
export const FLAG_INCOMPLETE = 0x100;
/** flags[9]: nested exception (APPLE). */
export const FLAG_NESTED = 0x200;

const DEFAULT_MAX_SECTIONS = 4096;
const DEFAULT_MAX_ENTRIES = 65536;

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function fail(code: string, message: string, details: Record<string, unknown>): CrashlogResult {
  return { ok: false, error: new RtkitError(code, message, details) };
}

/** A non-negative count option; `Infinity` lifts the bound, anything invalid keeps the default. */
function limitOption(v: number | undefined, dflt: number): number {
  return typeof v === 'number' && v >= 0 ? Math.floor(v) : dflt;
}

function sameBytes(buf: Uint8Array, a: number, b: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (buf[a + i] !== buf[b + i]) return false;
  return true;
}

/**
 * Parse a crashlog. Pass a private copy of exactly the granted buffer (P1): the report's `raw`
 * fields are zero-copy views into `buf`.
 */
export function parseCrashlog(buf: Uint8Array, opts: ParseCrashlogOptions = {}): CrashlogResult {
  if (!(buf instanceof Uint8Array)) {
    return fail(ErrorCode.BAD_INPUT, 'crashlog must be a Uint8Array', { type: typeof buf });
  }
  try {
    return parseChecked(buf, opts ?? {});
  } catch (e) {
    // Unreachable by design (the fuzz tests look for this code); kept so that a bug still yields
    // a typed result instead of an exception escaping into the crash handler.
    return {
      ok: false,
      error: new RtkitError(
        'CRASHLOG_INTERNAL',
        `parser failure: ${isRtkitError(e) ? e.message : String(e)}`,
        {},
        { cause: e },
      ),
    };
  }
}

function parseChecked(buf: Uint8Array, opts: ParseCrashlogOptions): CrashlogResult {
  const L = buf.byteLength;
  // P2
  if (L < HEADER_SIZE) {
    return fail(ErrorCode.CRASHLOG_TRUNCATED, `buffer of ${L} bytes < 32-byte header`, {
      length: L,
    });
  }
  const r = new ByteReader(buf);
  const magic = r.u32(0);
  if (magic !== Fourcc.CLHE) {
    return fail(ErrorCode.CRASHLOG_BAD_MAGIC, `magic ${hex(magic)} is not CLHE`, { magic });
  }
  const version = r.u32(4);
  const totalSize = r.u32(8);
  const flags = r.u32(12);
  const header: CrashlogHeader = {
    version,
    versionMajor: (version >>> 8) & 0xff,
    versionMinor: version & 0xff,
    totalSize,
    flags,
    incomplete: (flags & FLAG_INCOMPLETE) !== 0,
    nestedException: (flags & FLAG_NESTED) !== 0,
    nestedExceptionAddress: r.u64(16),
    nestedExceptionType: r.u8(24),
    raw: buf.subarray(0, HEADER_SIZE),
  };
  const warnings: CrashlogWarning[] = [];
  if (header.versionMajor !== CRASHLOG_MAJOR) {
    const msg = `header version ${hex(version)}: major ${header.versionMajor}, expected 3`;
    if (opts.lenient !== true) return fail(ErrorCode.CRASHLOG_VERSION, msg, { version });
    warnings.push({ code: CrashlogCode.CRASHLOG_VERSION, message: msg, offset: 4 });
  }
  // P3
  if (totalSize < HEADER_SIZE) {
    return fail(ErrorCode.CRASHLOG_SIZE_INVALID, `total size ${totalSize} < 32`, { totalSize });
  }
  let limit = totalSize;
  if (totalSize > L) {
    limit = L;
    warnings.push({
      code: CrashlogCode.CRASHLOG_SIZE_CLAMPED,
      message: `total size ${hex(totalSize)} > buffer ${hex(L)}; walking to the buffer end`,
      offset: 8,
    });
  }

  const report: CrashReport = { header, bufferLength: L, limit, sections: [], warnings };
  walk(buf, r, report, opts);
  return { ok: true, report };
}

function stop(report: CrashReport, code: string, message: string, offset: number): void {
  const w = { code, message, offset };
  report.warnings.push(w);
  report.walkError = w;
}

/** P4–P7. */
function walk(buf: Uint8Array, r: ByteReader, report: CrashReport, opts: ParseCrashlogOptions) {
  const { limit, warnings } = report;
  const maxSections = limitOption(opts.maxSections, DEFAULT_MAX_SECTIONS);
  const ctx: DecodeContext = {
    warnings,
    offset: 0,
    maxEntries: limitOption(opts.maxEntries, DEFAULT_MAX_ENTRIES),
  };
  const sections: CrashlogSection[] = report.sections;
  let off = HEADER_SIZE;
  while (off < limit) {
    if (limit - off < SECTION_HEADER_SIZE) {
      const left = limit - off;
      stop(report, CrashlogCode.SECTION_HEADER_TRUNCATED, `${left} bytes left < 16`, off);
      return;
    }
    const fourccValue = r.u32(off);
    if (fourccValue === Fourcc.CLHE) {
      footer(buf, report, off);
      return;
    }
    if (sections.length >= maxSections) {
      stop(
        report,
        CrashlogCode.SECTION_LIMIT_REACHED,
        `more than ${maxSections} sections; walk stopped`,
        off,
      );
      return;
    }
    const size = r.u32(off + 12);
    const name = fourccName(fourccValue);
    // B7: compare before any subtraction, so `size − 16` can never wrap.
    if (size < SECTION_HEADER_SIZE) {
      stop(report, CrashlogCode.SECTION_SIZE_INVALID, `${name} size ${size} < 16`, off);
      return;
    }
    if (size > limit - off) {
      stop(
        report,
        CrashlogCode.SECTION_TRUNCATED,
        `${name} size ${hex(size)} runs past the end (${hex(limit)})`,
        off,
      );
      return;
    }
    const payload = buf.subarray(off + SECTION_HEADER_SIZE, off + size);
    const base: SectionCommon = {
      fourcc: name,
      fourccValue,
      offset: off,
      size,
      hdrUnknown: r.u32(off + 4),
      sectionVersion: r.u32(off + 8),
      raw: payload,
    };
    const before = warnings.length;
    ctx.offset = off;
    let section: CrashlogSection;
    try {
      section = decodeSection(new ByteReader(payload), base, ctx);
    } catch (e) {
      // P5: a failing decoder costs only its own section.
      warnings.length = before;
      warnings.push({
        code: CrashlogCode.SECTION_DECODE_FAILED,
        message: `${name}: ${e instanceof Error ? e.message : String(e)}`,
        offset: off,
      });
      section = rawSection(base, 'decode-failed');
    }
    if (warnings.length > before) {
      const issues: string[] = [];
      for (let i = before; i < warnings.length; i++) issues.push(warnings[i]!.code);
      section.issues = issues;
    }
    sections.push(section);
    off += size;
  }
  // P6: the walk reached the limit without a CLHE. (A walk stopped by an error above returns
  // early: the footer's presence is then unknown and the walk error already explains the end.)
  report.warnings.push({
    code: CrashlogCode.FOOTER_MISSING,
    message: `no CLHE footer before ${hex(limit)}`,
    offset: limit,
  });
}

function footer(buf: Uint8Array, report: CrashReport, off: number): void {
  const { header, limit, warnings } = report;
  const expected = header.totalSize - HEADER_SIZE;
  const whole = limit - off >= HEADER_SIZE;
  if (off !== expected) {
    report.footer = { offset: off, matchesHeader: whole && sameBytes(buf, 0, off, HEADER_SIZE) };
    warnings.push({
      code: CrashlogCode.FOOTER_MISPLACED,
      message: `CLHE at ${hex(off)}, expected at total − 32 = ${hex(expected)}`,
      offset: off,
    });
    return;
  }
  if (!whole) {
    report.footer = { offset: off, matchesHeader: false };
    warnings.push({
      code: CrashlogCode.FOOTER_TRUNCATED,
      message: `footer at ${hex(off)} cut by the buffer end ${hex(limit)}`,
      offset: off,
    });
    return;
  }
  const matches = sameBytes(buf, 0, off, HEADER_SIZE);
  report.footer = { offset: off, matchesHeader: matches };
  // APPLE skips the comparison for logs flagged incomplete.
  if (!matches && !header.incomplete) {
    warnings.push({
      code: CrashlogCode.FOOTER_MISMATCH,
      message: 'footer differs from the header; the log might be corrupted',
      offset: off,
    });
  }
}
