/**
 * Assemble the lines Linux prints for a co-processor crash (`co-processor has crashed`, then one
 * block per crashlog section: Cstr, Cver, Ctim, Cmbx, Crg8; PROTOCOL.md §7.4, §11) into one
 * structured record. Everything kept is capped, so a runaway dump cannot grow memory.
 */

import { decodeEsr } from '../crashlog/aarch64.js';
import type { Direction } from '../protocol/word.js';
import { hexNum } from '../protocol/word.js';
import type { ExceptionLine } from './kernel-line.js';
import type {
  CrashException,
  CrashMailbox,
  CrashMailboxEntry,
  CrashRecord,
  RecordOrigin,
} from './records.js';
import { parseRtkitVersion } from './version.js';

export interface CrashLimits {
  /** Mailbox-history entries kept in the record (all are still emitted as message records). */
  maxEntries: number;
  /** `Message (id=..)` lines, notes and mailbox blocks kept. */
  maxMessages: number;
}

export const DEFAULT_CRASH_LIMITS: CrashLimits = { maxEntries: 4096, maxMessages: 256 };

const EXCEPTION_KEYS = [
  'el',
  'psr',
  'psrMode',
  'pc',
  'esr',
  'esrEc',
  'esrIl',
  'esrIss',
  'esrClassName',
  'far',
  'sp',
  'regs',
] as const;

/** Low 32 bits of a hex string of up to 16 digits. */
function low32(hex: string): number {
  return Number.parseInt(hex.length > 8 ? hex.slice(-8) : hex, 16) >>> 0;
}

function trimHex(hex: string): string {
  const t = hex.replace(/^0+(?=.)/, '');
  return `0x${t}`;
}

export class CrashBuilder {
  readonly rec: CrashRecord;
  /** Line of the last dump line: the decoder closes a crash that has been quiet too long. */
  lastLine: number;
  /** A cap was hit; the decoder warns once. */
  capped = false;
  private mailbox: CrashMailbox | null = null;
  private stored = 0;
  private readonly limits: CrashLimits;

  constructor(origin: RecordOrigin, limits: CrashLimits = DEFAULT_CRASH_LIMITS) {
    this.limits = limits;
    this.lastLine = origin.line;
    this.rec = {
      type: 'crash',
      ...origin,
      endLine: origin.line,
      crashed: false,
      lines: { exception: [] },
      messages: [],
      mailboxes: [],
      notes: [],
    };
  }

  private touch(line: number): void {
    this.lastLine = line;
    this.rec.endLine = line;
  }

  private cap(): void {
    this.capped = true;
    this.rec.truncated = true;
  }

  crashed(line: number): void {
    this.touch(line);
    this.rec.crashed = true;
    this.rec.lines.crashed = line;
  }

  version(text: string, line: number): void {
    this.touch(line);
    this.rec.lines.version = line;
    const v = parseRtkitVersion(text);
    this.rec.version = v === undefined ? { string: text } : { string: text, ...v };
  }

  crashTime(value: bigint, line: number): void {
    this.touch(line);
    this.rec.lines.crashTime = line;
    // A 64-bit IOP time: hex string like every 64-bit value in our output, plus the decimal
    // Linux printed, as a string too, for comparing with dmesg.
    this.rec.crashTime = `0x${value.toString(16)}`;
    this.rec.crashTimeDecimal = value.toString(10);
  }

  message(id: string, text: string, line: number): void {
    this.touch(line);
    if (this.rec.messages.length >= this.limits.maxMessages) this.cap();
    else this.rec.messages.push({ id, text });
  }

  note(text: string, line: number): void {
    this.touch(line);
    if (this.rec.notes.length >= this.limits.maxMessages) this.cap();
    else this.rec.notes.push(text);
  }

  mailboxHeader(type: number, index: number, line: number): void {
    this.touch(line);
    if (this.rec.mailboxes.length >= this.limits.maxMessages) {
      this.mailbox = null;
      this.cap();
      return;
    }
    this.mailbox = { type, index, line, entries: [], entryCount: 0 };
    this.rec.mailboxes.push(this.mailbox);
  }

  /** Record one history entry; the direction comes from timestamp bit 0 (PROTOCOL.md §7.4). */
  entry(index: number, timestamp: number, ep: number, msg: string, line: number): Direction {
    this.touch(line);
    const dir: Direction = (timestamp & 1) === 1 ? 'ap->iop' : 'iop->ap';
    let mb = this.mailbox;
    if (mb === null) {
      // Entries without their header (an excerpt) still form one history block.
      if (this.rec.mailboxes.length >= this.limits.maxMessages) {
        this.cap();
        return dir;
      }
      mb = { type: null, index: null, line: null, entries: [], entryCount: 0 };
      this.mailbox = mb;
      this.rec.mailboxes.push(mb);
    }
    mb.entryCount++;
    if (this.stored >= this.limits.maxEntries) {
      this.cap();
      return dir;
    }
    this.stored++;
    const e: CrashMailboxEntry = {
      index,
      timestamp: `0x${timestamp.toString(16).padStart(8, '0')}`,
      ep,
      msg,
      dir,
      line,
    };
    mb.entries.push(e);
    return dir;
  }

  exceptionStart(line: number): void {
    this.touch(line);
    if (this.rec.lines.exception.length < 64) this.rec.lines.exception.push(line);
    this.rec.exception ??= { regs: {} };
  }

  /** A register line; false when it does not belong (no `Exception dump:` seen yet). */
  exceptionLine(x: ExceptionLine, line: number): boolean {
    const ex = this.rec.exception;
    if (ex === undefined) return false;
    this.touch(line);
    if (x.k === 'blank') return true;
    if (this.rec.lines.exception.length < 64) this.rec.lines.exception.push(line);
    switch (x.k) {
      case 'el':
        ex.el = x.el;
        break;
      case 'reg':
        setReg(ex, x.name, x.hex);
        break;
      case 'xregs':
        for (let i = 0; i < x.values.length && x.first + i < 31; i++) {
          ex.regs[`x${x.first + i}`] = x.values[i]!;
        }
        break;
    }
    return true;
  }

  /** The record, its keys in the documented order whatever order the dump lines came in. */
  finish(): CrashRecord {
    const r = this.rec;
    const { type, endLine, crashed, lines, messages, mailboxes, notes } = r;
    const o: Record<string, unknown> = { type, line: r.line };
    for (const k of ['t', 'time', 'device', 'driver', 'coproc'] as const) {
      if (r[k] !== undefined) o[k] = r[k];
    }
    o['endLine'] = endLine;
    o['crashed'] = crashed;
    const l: CrashRecord['lines'] = {} as CrashRecord['lines'];
    if (lines.crashed !== undefined) l.crashed = lines.crashed;
    if (lines.version !== undefined) l.version = lines.version;
    if (lines.crashTime !== undefined) l.crashTime = lines.crashTime;
    l.exception = lines.exception;
    o['lines'] = l;
    for (const k of ['version', 'crashTime', 'crashTimeDecimal'] as const) {
      if (r[k] !== undefined) o[k] = r[k];
    }
    const ex = r.exception;
    if (ex !== undefined) {
      const e: Record<string, unknown> = {};
      for (const k of EXCEPTION_KEYS) if (ex[k] !== undefined) e[k] = ex[k];
      o['exception'] = e;
    }
    o['messages'] = messages;
    o['mailboxes'] = mailboxes;
    o['notes'] = notes;
    if (r.truncated) o['truncated'] = true;
    return o as unknown as CrashRecord;
  }
}

function setReg(ex: CrashException, name: 'psr' | 'pc' | 'esr' | 'far' | 'sp', hex: string): void {
  const v = trimHex(hex);
  switch (name) {
    case 'psr':
      ex.psr = v;
      ex.psrMode = low32(hex) & 0xf;
      break;
    case 'esr': {
      ex.esr = v;
      const lo = low32(hex);
      // One ESR decoder for kernel logs and crashlog buffers (src/crashlog/aarch64.ts).
      const e = decodeEsr(lo);
      ex.esrEc = hexNum(e.ec);
      ex.esrIl = e.il;
      ex.esrIss = hexNum(e.iss);
      ex.esrClassName = e.ecName;
      break;
    }
    default:
      ex[name] = v;
  }
}
