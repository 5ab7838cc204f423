/**
 * A JSON-safe view of a crash report (`JSON.stringify` cannot take `bigint`). Conventions, the
 * same as fixtures/expected.json: message words are `0x` + 16 lower-case hex digits; every other
 * register, address, timestamp or flag word is `0x` + minimal lower-case hex; counts, indices,
 * ids, endpoints, offsets and sizes are numbers; byte strings are plain lower-case hex.
 * Shape: `{ header, sections: [{ fourcc, offset, size, version, ... }], warnings: [string] }`,
 * documented in docs/crashlog.md.
 */

import { hex64Of } from '../protocol/word.js';
import type { CrashlogSection, CrashlogWarning, CrashReport } from './types.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

export interface CrashlogJsonSection {
  fourcc: string;
  offset: number;
  size: number;
  /** The section version word, except in Cver where `version` is the version string. */
  version: number | string;
  sectionVersion: number;
  kind: CrashlogSection['kind'];
  [field: string]: JsonValue | undefined;
}

export interface CrashlogJson {
  header: { [field: string]: JsonValue };
  sections: CrashlogJsonSection[];
  warnings: string[];
}

const hx = (v: bigint | number): string => `0x${v.toString(16)}`;
const hxs = (vs: readonly (bigint | number)[]): string[] => vs.map(hx);

export function bytesHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i] ?? 0).toString(16).padStart(2, '0');
  return s;
}

/** `CODE at 0xOFF: message` (or `CODE: message` without an offset). */
export function formatWarning(w: CrashlogWarning): string {
  return w.offset === undefined
    ? `${w.code}: ${w.message}`
    : `${w.code} at ${hx(w.offset)}: ${w.message}`;
}

function sectionFields(s: CrashlogSection): Record<string, JsonValue> {
  switch (s.kind) {
    case 'Cstr':
      return {
        id: s.id,
        appendToPanic: s.appendToPanic,
        text: s.text,
        lines: s.lines,
        terminated: s.terminated,
      };
    case 'Cver': {
      const o: Record<string, JsonValue> = {
        uuid: s.uuid,
        version: s.version,
        versionOffset: s.versionOffset,
        versionRecognized: s.versionRecognized,
        terminated: s.terminated,
      };
      if (s.possibleAslrSlide !== undefined) o['possibleAslrSlide'] = hx(s.possibleAslrSlide);
      if (s.parsed !== undefined) o['rtkit'] = { ...s.parsed };
      return o;
    }
    case 'Ctim':
      return { time: hx(s.time) };
    case 'Cmbx': {
      const o: Record<string, JsonValue> = {};
      if (s.kicInboxCtrl !== undefined) o['kicInboxCtrl'] = hx(s.kicInboxCtrl);
      if (s.kicMailboxSet !== undefined) o['kicMailboxSet'] = hx(s.kicMailboxSet);
      if (s.apOutboxCtrl !== undefined) o['apOutboxCtrl'] = hx(s.apOutboxCtrl);
      if (s.apMailboxSet !== undefined) o['apMailboxSet'] = hx(s.apMailboxSet);
      if (s.mailboxError !== undefined) o['mailboxError'] = hx(s.mailboxError);
      if (s.unknown20 !== undefined) o['unknown20'] = hx(s.unknown20);
      if (s.route !== undefined) o['route'] = s.route;
      o['entries'] = s.entries.map((e) => {
        const j: Record<string, JsonValue> = {
          index: e.index,
          ep: e.ep,
          msg: hex64Of(e.msg),
          timestamp: hx(e.timestamp),
          dir: e.dir,
        };
        if (e.epHigh !== undefined) j['epHigh'] = hx(e.epHigh);
        return j;
      });
      return o;
    }
    case 'Crg8': {
      const o: Record<string, JsonValue> = {
        frameFlags: hx(s.frameFlags),
        frameSize: s.frameSize,
        el: s.el,
        mode: s.mode,
        pc: hx(s.pc),
        sp: hx(s.sp),
        psr: hx(s.psr),
        esr: hx(s.esr),
        esrClass: hx(s.esrClass),
        esrClassName: s.esrClassName,
        esrIl: s.esrIl,
        esrIss: hx(s.esrIss),
        far: hx(s.far),
        farPhysical: hx(s.farPhysical),
        regs: hxs(s.regs),
        cpacr: hx(s.cpacr),
        fpsr: hx(s.fpsr),
        fpcr: hx(s.fpcr),
        fp: hxs(s.fp),
      };
      if (s.esrHigh !== undefined) o['esrHigh'] = hx(s.esrHigh);
      if (s.unknownTail !== undefined) o['unknownTail'] = hx(s.unknownTail);
      return o;
    }
    case 'CrgA': {
      const o: Record<string, JsonValue> = {
        frameFlags: hx(s.frameFlags),
        frameSize: s.frameSize,
        regs: hxs(s.regs),
        psr: hx(s.psr),
        unknown4c: hx(s.unknown4c),
        stack: bytesHex(s.stack),
        unknown150: hxs(s.unknown150),
        fsr: hx(s.fsr),
        far: hx(s.far),
      };
      if (s.farPhysical !== undefined) o['farPhysical'] = hx(s.farPhysical);
      return o;
    }
    case 'Ccst':
      return {
        taskId: s.taskId,
        flags: hx(s.flags),
        interrupt: s.interrupt,
        frames: hxs(s.frames),
      };
    case 'CasC': {
      const o: Record<string, JsonValue> = {
        l2cErrSts: hx(s.l2cErrSts),
        l2cErrAdr: hx(s.l2cErrAdr),
        l2cErrInf: hx(s.l2cErrInf),
        lsuErrSts: hx(s.lsuErrSts),
        fedErrSts: hx(s.fedErrSts),
        mmuErrSts: hx(s.mmuErrSts),
        l2cSingleBit: s.l2cSingleBit,
        l2cDoubleBit: s.l2cDoubleBit,
      };
      if (s.dpcErrSts !== undefined) o['dpcErrSts'] = hx(s.dpcErrSts);
      return o;
    }
    case 'Crtk':
      return {
        tasks: s.tasks.map((t) => ({
          id: t.id,
          faulting: t.faulting,
          name: t.name,
          priority: t.priority,
          effectivePriority: t.effectivePriority,
          state: t.state,
          waitObject: hx(t.waitObject),
          stackSize: hx(t.stackSize),
          stackUsed: hx(t.stackUsed),
          depth: t.depth,
          frames: hxs(t.frames),
        })),
      };
    case 'Ccdp':
      return {
        entries: s.entries.map((e) => ({ va: hx(e.va), pa: hx(e.pa), flags: hx(e.flags) })),
      };
    case 'raw':
      return { reason: s.reason, raw: bytesHex(s.raw) };
  }
}

/** The report as plain JSON data (no bigint, no typed arrays). */
export function crashlogToJson(report: CrashReport): CrashlogJson {
  const h = report.header;
  const header: { [field: string]: JsonValue } = {
    magic: 'CLHE',
    version: h.version,
    versionMajor: h.versionMajor,
    versionMinor: h.versionMinor,
    totalSize: h.totalSize,
    flags: hx(h.flags),
    incomplete: h.incomplete,
    nestedException: h.nestedException,
    nestedExceptionAddress: hx(h.nestedExceptionAddress),
    nestedExceptionType: h.nestedExceptionType,
    bufferLength: report.bufferLength,
    limit: report.limit,
    footer: report.footer === undefined ? null : { ...report.footer },
    walkError: report.walkError === undefined ? null : formatWarning(report.walkError),
  };
  const sections = report.sections.map((s): CrashlogJsonSection => {
    const j: CrashlogJsonSection = {
      fourcc: s.fourcc,
      offset: s.offset,
      size: s.size,
      version: s.sectionVersion,
      sectionVersion: s.sectionVersion,
      kind: s.kind,
      ...sectionFields(s),
    };
    if (s.issues !== undefined) j['issues'] = [...s.issues];
    return j;
  });
  return { header, sections, warnings: report.warnings.map(formatWarning) };
}
