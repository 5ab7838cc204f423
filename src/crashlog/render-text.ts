/**
 * Human-readable crash report. Every line Linux prints for a crashlog (PROTOCOL.md §11:
 * `RTKit: Version: …`, `RTKit: Crash time: …`, `RTKit: Message (id=…): …`, the mailbox history
 * `RTKit:  #%03d@%08x: %016llx %016llx`, the exception dump) appears here with Linux's spelling, so
 * a report can be compared with a dmesg capture line by line; everything else we know (ESR class,
 * mailbox direction and endpoint names, macOS-style task table, header flags, warnings) is added
 * on separate lines or after Linux's text.
 */

import { endpointName } from '../protocol/endpoints.js';
import type { Direction } from '../protocol/word.js';
import { printable } from '../text.js';
import { bytesHex, formatWarning } from './json.js';
import type {
  CascSection,
  CcdpSection,
  CcstSection,
  CmbxSection,
  CrashlogSection,
  CrashReport,
  Crg8Section,
  CrgASection,
  CrtkSection,
  CverSection,
  RawSection,
} from './types.js';

type Paint = (s: string) => string;

/** A subset of picocolors' interface, so the CLI can pass `picocolors` itself. */
export interface ColorFunctions {
  bold?: Paint;
  dim?: Paint;
  red?: Paint;
  yellow?: Paint;
  cyan?: Paint;
  green?: Paint;
}

export interface RenderCrashlogOptions {
  /** Extra text after a mailbox entry (e.g. the CLI's decoded message); exceptions are shown. */
  annotate?: (ep: number, msg: bigint, dir: Direction) => string;
  /** `true` for built-in ANSI colours, or colour functions; default none. */
  color?: boolean | ColorFunctions;
}

const ansi =
  (open: number, close: number): Paint =>
  (s) =>
    `\x1b[${open}m${s}\x1b[${close}m`;
const ANSI: Required<ColorFunctions> = {
  bold: ansi(1, 22),
  dim: ansi(2, 22),
  red: ansi(31, 39),
  yellow: ansi(33, 39),
  cyan: ansi(36, 39),
  green: ansi(32, 39),
};
const plain: Paint = (s) => s;

type Palette = Required<ColorFunctions>;

function palette(c: RenderCrashlogOptions['color']): Palette {
  if (c === true) return ANSI;
  if (c === undefined || c === false) {
    return { bold: plain, dim: plain, red: plain, yellow: plain, cyan: plain, green: plain };
  }
  return {
    bold: c.bold ?? plain,
    dim: c.dim ?? plain,
    red: c.red ?? plain,
    yellow: c.yellow ?? plain,
    cyan: c.cyan ?? plain,
    green: c.green ?? plain,
  };
}

const hx = (v: bigint | number): string => `0x${v.toString(16)}`;
const pad16 = (v: bigint): string => v.toString(16).padStart(16, '0');
const pad8 = (v: number): string => v.toString(16).padStart(8, '0');
const ver = (v: number): string => `${(v >>> 8) & 0xff}.${v & 0xff}`;

function rows<T>(items: readonly T[], per: number, fn: (chunk: T[], first: number) => string) {
  const out: string[] = [];
  for (let i = 0; i < items.length; i += per) out.push(fn(items.slice(i, i + per), i));
  return out;
}

const MBX_ERRORS: readonly [number, string][] = [
  [1, 'INBOX not ready'],
  [2, 'OUTBOX not ready'],
  [4, 'AP instance uninitialized'],
];

class TextRenderer {
  readonly out: string[] = [];
  constructor(
    readonly c: Palette,
    readonly opts: RenderCrashlogOptions,
  ) {}

  line(s: string): void {
    this.out.push(s);
  }

  cver(s: CverSection): void {
    this.line(`RTKit: Version: ${printable(s.version)}`);
    const p = s.parsed;
    if (p !== undefined) {
      this.line(
        this.c.dim(
          `  RTKit ${printable(p.rtkitVersion)} (${printable(p.build)} build), client ${printable(p.client)}`,
        ),
      );
    }
    this.line(this.c.dim(`  UUID: ${s.uuid}`));
    if (s.possibleAslrSlide !== undefined) {
      this.line(this.c.dim(`  ASLR slide (possible): ${hx(s.possibleAslrSlide)}`));
    }
    if (!s.versionRecognized) {
      this.line(this.c.yellow('  (no "RTKit" at payload +16 or +24; text at +16 shown)'));
    }
  }

  cmbx(s: CmbxSection): void {
    const type = s.mailboxError === undefined ? '?' : String(s.mailboxError);
    const index = s.route === undefined ? '?' : String(s.route);
    this.line(`RTKit: Mailbox history (type = ${type}, index = ${index})`);
    const regs: string[] = [];
    if (s.kicInboxCtrl !== undefined) regs.push(`KIC inbox ctrl ${hx(s.kicInboxCtrl)}`);
    if (s.kicMailboxSet !== undefined) regs.push(`KIC mailbox set ${hx(s.kicMailboxSet)}`);
    if (s.apOutboxCtrl !== undefined) regs.push(`AP outbox ctrl ${hx(s.apOutboxCtrl)}`);
    // macOS hides the AP mailbox set when the AP instance is uninitialized (error bit 2).
    if (s.apMailboxSet !== undefined && ((s.mailboxError ?? 0) & 4) === 0) {
      regs.push(`AP mailbox set ${hx(s.apMailboxSet)}`);
    }
    if (regs.length > 0) this.line(this.c.dim(`  ${regs.join(', ')}`));
    if (s.mailboxError !== undefined) {
      const names = MBX_ERRORS.filter(([bit]) => (s.mailboxError! & bit) !== 0).map(([, n]) => n);
      const route = s.route === undefined ? '' : `route ${s.route}, `;
      const err = names.length > 0 ? names.join(', ') : 'none';
      this.line(this.c.dim(`  ${route}error ${hx(s.mailboxError)} (${err})`));
    }
    for (const e of s.entries) {
      const ep =
        e.epHigh === undefined
          ? pad16(BigInt(e.ep))
          : pad16((BigInt(e.epHigh) << 32n) | BigInt(e.ep));
      const ts = pad8(Number(e.timestamp & 0xffff_ffffn));
      const linux = `RTKit:  #${String(e.index).padStart(3, '0')}@${ts}: ${ep} ${pad16(e.msg)}`;
      const dir = e.dir === 'ap->iop' ? this.c.cyan('ap->iop') : this.c.green('iop->ap');
      let extra = `${dir} ${endpointName(e.ep)}`;
      if (this.opts.annotate !== undefined) {
        let note: string;
        try {
          note = printable(this.opts.annotate(e.ep, e.msg, e.dir));
        } catch (err) {
          note = `<annotate failed: ${err instanceof Error ? err.message : String(err)}>`;
        }
        if (note !== '') extra += `  ${note}`;
      }
      this.line(`${linux}  ${extra}`);
    }
  }

  crg8(s: Crg8Section): void {
    const c = this.c;
    this.line(c.bold('RTKit: Exception dump:'));
    this.line(`  == Exception taken from ${s.el} ==`);
    this.line(`  PSR    = ${hx(s.psr)}`);
    this.line(`  PC     = ${hx(s.pc)}`);
    this.line(`  ESR    = ${hx(s.esr)}`);
    this.line(`  FAR    = ${hx(s.far)}`);
    this.line(`  SP     = ${hx(s.sp)}`);
    // Linux labels every row with four register numbers, so the last row of three (x28–x30)
    // reads "x28-x31".
    for (const r of rows(s.regs, 4, (chunk, i) => {
      const last = String(i + 3).padStart(2, '0');
      return `  x${String(i).padStart(2, '0')}-x${last} = ${chunk.map(pad16).join(' ')}`;
    })) {
      this.line(r);
    }
    this.line(
      c.red(
        `  ESR class ${hx(s.esrClass)} (${s.esrClassName}), IL ${s.esrIl}, ISS ${hx(s.esrIss)}`,
      ),
    );
    this.line(`  LR     = ${hx(s.regs[30] ?? 0n)}`);
    const farPhys = s.farPhysical === 0xffff_ffff_ffff_ffffn ? 'none' : hx(s.farPhysical);
    this.line(`  FAR physical = ${farPhys}`);
    this.line(c.dim(`  CPACR = ${hx(s.cpacr)}, FPSR = ${hx(s.fpsr)}, FPCR = ${hx(s.fpcr)}`));
    const skip = (s.frameFlags & 0x10000) !== 0 ? ' (Apple: skip this frame)' : '';
    this.line(c.dim(`  frame flags ${hx(s.frameFlags)}${skip}, frame size ${s.frameSize}`));
    // 64 words of mostly-zero FP/SIMD state would drown the frame: show non-zero rows only.
    let zeroRows = 0;
    for (let i = 0; i < s.fp.length; i += 4) {
      const chunk = s.fp.slice(i, i + 4);
      if (chunk.every((v) => v === 0n)) {
        zeroRows++;
        continue;
      }
      const last = String(i + chunk.length - 1).padStart(2, '0');
      this.line(
        c.dim(`  fp${String(i).padStart(2, '0')}-fp${last} = ${chunk.map(pad16).join(' ')}`),
      );
    }
    if (zeroRows > 0) {
      const what =
        zeroRows * 4 === s.fp.length ? 'FP/SIMD state: all zero' : 'other FP/SIMD words zero';
      this.line(c.dim(`  ${what}`));
    }
    if (s.esrHigh !== undefined) this.line(c.dim(`  ESR high word = ${hx(s.esrHigh)}`));
    if (s.unknownTail !== undefined) this.line(c.dim(`  unknown +0x348 = ${hx(s.unknownTail)}`));
  }

  crgA(s: CrgASection): void {
    this.line(this.c.bold('RTKit: Exception dump (AArch32):'));
    this.line(`  PSR    = ${hx(s.psr)}`);
    this.line(`  PC     = ${hx(s.regs[15] ?? 0)}`);
    this.line(`  FSR    = ${hx(s.fsr)}`);
    this.line(`  FAR    = ${hx(s.far)}`);
    this.line(`  SP     = ${hx(s.regs[13] ?? 0)}`);
    for (const r of rows(s.regs, 4, (chunk, i) => {
      const last = String(i + chunk.length - 1).padStart(2, '0');
      return `  r${String(i).padStart(2, '0')}-r${last} = ${chunk.map(pad8).join(' ')}`;
    })) {
      this.line(r);
    }
    if (s.farPhysical !== undefined) this.line(`  FAR physical = ${hx(s.farPhysical)}`);
    this.line(this.c.dim(`  frame flags ${hx(s.frameFlags)}, frame size ${s.frameSize}`));
  }

  ccst(s: CcstSection): void {
    const what = s.interrupt ? 'Faulting Int Call Stack' : `Faulting task ${s.taskId} Call Stack`;
    if (s.frames.length === 0) {
      this.line(`${what}: (empty)`);
      return;
    }
    const lines = rows(s.frames, 8, (chunk) => chunk.map(hx).join(' '));
    this.line(`${what}: ${lines[0]}`);
    for (const l of lines.slice(1)) this.line(`  ${l}`);
  }

  casc(s: CascSection): void {
    this.line(this.c.bold('Chinook ASC Async error info:'));
    const bits: string[] = [];
    if (s.l2cSingleBit) bits.push('single-bit error');
    if (s.l2cDoubleBit) bits.push('double-bit error');
    const note = bits.length > 0 ? ` (${bits.join(', ')})` : '';
    this.line(`  l2c_err_sts = ${hx(s.l2cErrSts)}${note}`);
    this.line(`  l2c_err_adr = ${hx(s.l2cErrAdr)}`);
    this.line(`  l2c_err_inf = ${hx(s.l2cErrInf)}`);
    this.line(`  lsu_err_sts = ${hx(s.lsuErrSts)}`);
    this.line(`  fed_err_sts = ${hx(s.fedErrSts)}`);
    this.line(`  mmu_err_sts = ${hx(s.mmuErrSts)}`);
    if (s.dpcErrSts !== undefined) this.line(`  dpc_err_sts = ${hx(s.dpcErrSts)}`);
  }

  crtk(s: CrtkSection): void {
    this.line(this.c.bold('RTKit Task List:'));
    this.line(this.c.dim('  id name | priority | stack used/size | state | wait object'));
    for (const t of s.tasks) {
      // APPLE: an effective priority of 0 means "use the base priority".
      const prio = String(t.effectivePriority !== 0 ? t.effectivePriority : t.priority).padStart(
        3,
        '0',
      );
      const wait = t.waitObject === 0n ? '0' : hx(t.waitObject);
      const row = `  ${t.id} ${printable(t.name)} | ${prio} | ${t.stackUsed}/${t.stackSize} | state ${t.state} | ${wait}`;
      this.line(t.faulting ? this.c.yellow(`${row} | [Faulting task]`) : row);
      const depth = t.depth === t.frames.length ? '' : ` (depth ${t.depth}, truncated)`;
      if (t.frames.length > 0 || depth !== '') {
        for (const l of rows(t.frames, 8, (chunk) => chunk.map(hx).join(' '))) {
          this.line(this.c.dim(`      ${l}`));
        }
        if (depth !== '') this.line(this.c.dim(`     ${depth}`));
      }
    }
  }

  ccdp(s: CcdpSection): void {
    this.line(this.c.bold(`Ccdp (${s.entries.length} entries):`));
    for (const e of s.entries) {
      this.line(`  va ${hx(e.va)} pa ${hx(e.pa)} flags ${hx(e.flags)}`);
    }
  }

  raw(s: RawSection): void {
    const why = {
      'unknown-fourcc': 'unknown section',
      opaque: 'meaning unknown',
      'too-short': 'too short to decode',
      'decode-failed': 'decoder failed',
    }[s.reason];
    this.line(
      `Section ${s.fourcc} at ${hx(s.offset)}: ${s.raw.length} bytes, version ${ver(s.sectionVersion)} (${why})`,
    );
    const shown = s.raw.subarray(0, 64);
    for (let i = 0; i < shown.length; i += 16) {
      const hexBytes = bytesHex(shown.subarray(i, i + 16)).replace(/(..)(?!$)/g, '$1 ');
      this.line(this.c.dim(`  ${i.toString(16).padStart(4, '0')}: ${hexBytes}`));
    }
    if (s.raw.length > shown.length)
      this.line(this.c.dim(`  … ${s.raw.length - shown.length} more bytes`));
  }

  section(s: CrashlogSection): void {
    switch (s.kind) {
      case 'Cstr': {
        const id = s.id.toString(16);
        const lines = s.lines.length > 0 ? s.lines : [''];
        for (const l of lines) this.line(`RTKit: Message (id=${id}): ${printable(l)}`);
        return;
      }
      case 'Cver':
        this.cver(s);
        return;
      case 'Ctim':
        this.line(`RTKit: Crash time: ${s.time} (${hx(s.time)})`);
        return;
      case 'Cmbx':
        this.cmbx(s);
        return;
      case 'Crg8':
        this.crg8(s);
        return;
      case 'CrgA':
        this.crgA(s);
        return;
      case 'Ccst':
        this.ccst(s);
        return;
      case 'CasC':
        this.casc(s);
        return;
      case 'Crtk':
        this.crtk(s);
        return;
      case 'Ccdp':
        this.ccdp(s);
        return;
      case 'raw':
        this.raw(s);
        return;
    }
  }
}

/** Render a parsed crash report as text (lines joined with `\n`, no trailing newline). */
export function renderCrashlogText(report: CrashReport, opts: RenderCrashlogOptions = {}): string {
  const c = palette(opts.color);
  const r = new TextRenderer(c, opts);
  const h = report.header;
  const clamp = report.limit < h.totalSize ? `, buffer ${report.bufferLength} bytes` : '';
  r.line(
    c.bold(
      `RTKit crashlog: format ${h.versionMajor}.${h.versionMinor}, total size ${h.totalSize}${clamp}, flags ${hx(h.flags)}, ${report.sections.length} sections`,
    ),
  );
  if (h.incomplete) r.line(c.yellow('  Incomplete crash log, IOP crashed during logging'));
  if (h.nestedException) {
    r.line(
      c.yellow(
        `  Nested exception: type ${hx(h.nestedExceptionType)} at ${hx(h.nestedExceptionAddress)}`,
      ),
    );
  }
  for (const s of report.sections) r.section(s);
  if (report.footer !== undefined) {
    const m = report.footer.matchesHeader ? 'matches the header' : 'differs from the header';
    r.line(c.dim(`Footer at ${hx(report.footer.offset)}, ${m}`));
  }
  if (report.warnings.length > 0) {
    r.line(c.yellow(`Warnings (${report.warnings.length}):`));
    for (const w of report.warnings) r.line(c.yellow(`  ${formatWarning(w)}`));
  }
  return r.out.join('\n');
}
