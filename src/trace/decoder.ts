/**
 * The streaming trace decoder: text chunks in, records out. Browser-safe (no `node:*`); the Node
 * adapter in node-stream.ts feeds it from files and streams.
 *
 * Memory stays bounded whatever the input size: only the current partial line (capped at
 * `maxLineLength`), the crash dumps being assembled (capped entries) and per-co-processor protocol
 * state are kept. Records are returned from each `push`, never accumulated.
 *
 * Speed: in kernel logs most lines belong to other drivers. They are rejected with `indexOf`
 * tests on marker strings before any regular expression runs.
 */

import { ErrorCode, RtkitError } from '../errors.js';
import { coprocFromDevice, type Direction, hex64 } from '../protocol/index.js';
import { CrashBuilder, type CrashLimits, DEFAULT_CRASH_LIMITS } from './crash.js';
import { DETECT_WINDOW, FormatDetector, type TraceFormat } from './detect.js';
import { parseTraceLine, type TraceHeader } from './jsonl.js';
import {
  classifyExceptionLine,
  classifyRtkit,
  parseM1n1Syslog,
  parseSmcInitialized,
} from './kernel-line.js';
import { MessageDecoder, type MessageExtras } from './messages.js';
import { parsePlainLine } from './plain.js';
import { parseDevHead, parsePrefix } from './prefix.js';
import type {
  MessageOrigin,
  RecordOrigin,
  TraceOutput,
  TraceOutputType,
  WarningCode,
  WarningRecord,
} from './records.js';

export interface TraceDecoderOptions {
  /** Input format; `auto` (default) detects it from the first lines. */
  format?: 'auto' | TraceFormat;
  /** Co-processor profile for traces that do not name one (plain lines, JSON without coproc). */
  coproc?: string;
  /** Lines longer than this are cut (with a warning); default 64 KiB. */
  maxLineLength?: number;
  /** A crash dump still open after this many lines without a dump line is closed; default 5000. */
  crashIdleLines?: number;
  /** Mailbox-history entries kept per crash record; default 4096. */
  maxCrashEntries?: number;
}

export interface TraceStats {
  format: TraceFormat | undefined;
  /** Characters consumed (UTF-16 code units; bytes for ASCII input). */
  chars: number;
  lines: number;
  /** Kernel logs: lines that were not RTKit output (other drivers, blank lines). */
  ignoredLines: number;
  records: Record<TraceOutputType, number>;
}

const FORMATS: readonly unknown[] = ['auto', 'jsonl', 'plain', 'kernel'];

type CountOption = 'maxLineLength' | 'crashIdleLines' | 'maxCrashEntries';

/** A limit option: a whole number ≥ 1 (0, negative or NaN would flag or drop every line). */
function countOption(options: TraceDecoderOptions, name: CountOption, dflt: number): number {
  const v: unknown = options[name];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    throw new RtkitError(
      ErrorCode.BAD_INPUT,
      `${name} must be a whole number ≥ 1, got ${show(v)}`,
      { [name]: v },
    );
  }
  return v;
}

/** A value for an error message (String() alone hides that '5' was a string). */
function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

const MAX_OPEN_CRASHES = 16;
const SNIPPET = 200;
const RTKIT_TAG = 'RTKit: ';

export class TraceDecoder {
  private readonly opts: Required<Omit<TraceDecoderOptions, 'coproc' | 'format'>>;
  private readonly defaultCoproc: string | undefined;
  private fmt: TraceFormat | undefined;
  /** Holds the start of the input until its format is known (auto-detection only). */
  private detector: FormatDetector | undefined;
  private carry = '';
  /** The current line exceeded maxLineLength: drop the rest until its newline. */
  private overlong = false;
  private lineNo = 0;
  private started = false;
  private ended = false;
  private utf8: TextDecoder | undefined;
  private out: TraceOutput[] = [];
  private readonly messages = new MessageDecoder();
  private header: TraceHeader | undefined;
  private readonly crashes = new Map<string, CrashBuilder>();
  private readonly limits: CrashLimits;
  private readonly coprocCache = new Map<string, string | undefined>();
  private readonly st: TraceStats;

  /** Throws RtkitError(BAD_INPUT) for an unknown format or a limit that is not a count ≥ 1. */
  constructor(options: TraceDecoderOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new RtkitError(ErrorCode.BAD_INPUT, 'TraceDecoder options must be an object');
    }
    this.opts = {
      maxLineLength: countOption(options, 'maxLineLength', 64 * 1024),
      crashIdleLines: countOption(options, 'crashIdleLines', 5000),
      maxCrashEntries: countOption(options, 'maxCrashEntries', DEFAULT_CRASH_LIMITS.maxEntries),
    };
    const { format, coproc } = options;
    // An unknown format would match no line branch and silently decode nothing.
    if (format !== undefined && !FORMATS.includes(format)) {
      throw new RtkitError(
        ErrorCode.BAD_INPUT,
        `unknown trace format ${show(format)}: expected one of ${FORMATS.join(', ')}`,
        { format },
      );
    }
    if (coproc !== undefined && typeof coproc !== 'string') {
      throw new RtkitError(ErrorCode.BAD_INPUT, 'coproc must be a string', { coproc });
    }
    this.defaultCoproc = coproc;
    this.fmt = format === undefined || format === 'auto' ? undefined : format;
    this.limits = { ...DEFAULT_CRASH_LIMITS, maxEntries: this.opts.maxCrashEntries };
    this.st = {
      format: this.fmt,
      chars: 0,
      lines: 0,
      ignoredLines: 0,
      records: { message: 0, syslog: 0, init: 0, event: 0, crash: 0, warning: 0 },
    };
  }

  /** The detected (or forced) format; undefined until enough input has arrived. */
  get format(): TraceFormat | undefined {
    return this.fmt;
  }

  get stats(): Readonly<TraceStats> {
    return this.st;
  }

  /**
   * Feed a chunk: a string, or UTF-8 bytes (decoded with a streaming decoder, so multi-byte
   * characters may be split across chunks). Returns the records completed by this chunk.
   * Throws RtkitError(UNKNOWN_FORMAT) when auto-detection finds binary data, BAD_INPUT after end()
   * or for a chunk of another type.
   */
  push(chunk: string | Uint8Array): TraceOutput[] {
    if (this.ended) throw new RtkitError(ErrorCode.BAD_INPUT, 'push() after end()');
    let text: string;
    if (typeof chunk === 'string') text = chunk;
    else if (chunk instanceof Uint8Array) {
      this.utf8 ??= new TextDecoder('utf-8');
      text = this.utf8.decode(chunk, { stream: true });
    } else {
      // Plain JavaScript callers: fail with our error, not TextDecoder's TypeError.
      throw new RtkitError(ErrorCode.BAD_INPUT, 'push() takes a string or a Uint8Array', {
        type: chunk === null ? 'null' : typeof chunk,
      });
    }
    this.accept(text, false);
    return this.take();
  }

  /** Flush: the last line without newline, open crash dumps. Returns the final records. */
  end(): TraceOutput[] {
    if (this.ended) return [];
    if (this.utf8 !== undefined) this.accept(this.utf8.decode(), false);
    this.ended = true;
    this.accept('', true);
    if (this.carry.length > 0 || this.overlong) {
      const line = this.carry;
      this.carry = '';
      this.finishLine(line);
    }
    for (const c of [...this.crashes.keys()]) this.closeCrash(c);
    return this.take();
  }

  private take(): TraceOutput[] {
    const o = this.out;
    this.out = [];
    for (const r of o) this.st.records[r.type]++;
    return o;
  }

  private accept(text: string, final: boolean): void {
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.st.chars += text.length;
    if (this.fmt === undefined) {
      this.detector ??= new FormatDetector();
      const d = this.detector.push(text, final);
      if (d.format === undefined) return;
      this.fmt = d.format;
      this.st.format = d.format;
      text = this.detector.text();
      this.detector = undefined;
    }
    if (text.length > 0) this.feed(text);
  }

  /** Split into lines; a partial last line waits in `carry`. */
  private feed(text: string): void {
    let start = 0;
    if (this.carry.length > 0 || this.overlong) {
      const nl = text.indexOf('\n');
      if (nl < 0) {
        this.appendCarry(text);
        return;
      }
      this.appendCarry(text.slice(0, nl));
      const line = this.carry;
      this.carry = '';
      this.finishLine(line);
      start = nl + 1;
    }
    const max = this.opts.maxLineLength;
    if (this.fmt === 'kernel') {
      // The hot loop: one slice and up to three indexOf per line of another driver.
      const crashes = this.crashes;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        this.lineNo++;
        if (nl - start > max) this.longLine(text.slice(start, start + max));
        else {
          const line = text.slice(start, nl);
          if (
            line.indexOf('RTKit') >= 0 ||
            line.indexOf('[syslog]') >= 0 ||
            line.indexOf('Initialized (') >= 0 ||
            crashes.size > 0
          ) {
            this.kernelLine(line);
          } else this.st.ignoredLines++;
        }
        start = nl + 1;
      }
    } else {
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        this.lineNo++;
        if (nl - start > max) this.longLine(text.slice(start, start + max));
        else this.line(text.slice(start, nl));
        start = nl + 1;
      }
    }
    this.st.lines = this.lineNo;
    if (start < text.length) this.appendCarry(text.slice(start));
  }

  private appendCarry(s: string): void {
    if (this.overlong) return;
    const max = this.opts.maxLineLength;
    if (this.carry.length + s.length > max) {
      this.carry = (this.carry + s).slice(0, max);
      this.overlong = true;
    } else this.carry += s;
  }

  /** A line assembled from the carry (complete, or the last one at end()). */
  private finishLine(line: string): void {
    this.lineNo++;
    this.st.lines = this.lineNo;
    if (this.overlong) {
      this.overlong = false;
      this.longLine(line);
    } else this.line(line);
  }

  private longLine(cut: string): void {
    this.warn('LINE_TOO_LONG', `line longer than ${this.opts.maxLineLength} characters; cut`, cut);
    this.line(cut);
  }

  private line(line: string): void {
    switch (this.fmt) {
      case 'kernel':
        this.kernelLine(line);
        break;
      case 'jsonl':
        this.jsonLine(line);
        break;
      case 'plain':
        this.plainLine(line);
        break;
      default:
        break;
    }
  }

  private warn(code: WarningCode, message: string, text?: string): void {
    const w: WarningRecord = { type: 'warning', line: this.lineNo, code, message };
    if (text !== undefined) w.text = text.length > SNIPPET ? text.slice(0, SNIPPET) : text;
    this.out.push(w);
  }

  private coprocOf(device: string | undefined, driver: string | undefined): string | undefined {
    const key = device ?? driver;
    if (key === undefined) return undefined;
    if (this.coprocCache.has(key)) return this.coprocCache.get(key);
    const c =
      coprocFromDevice(key) ?? (driver !== undefined ? coprocFromDevice(driver) : undefined);
    if (this.coprocCache.size > 1024) this.coprocCache.clear();
    this.coprocCache.set(key, c);
    return c;
  }

  // ---------------------------------------------------------------------------------------------
  // Our JSON lines and plain hex lines.

  private jsonLine(raw: string): void {
    const r = parseTraceLine(raw);
    switch (r.k) {
      case 'blank':
        return;
      case 'error':
        this.warn(r.code, r.message, raw);
        return;
      case 'header':
        this.header = r.header;
        return;
      case 'entry': {
        const e = r.entry;
        const base: RecordOrigin = { line: this.lineNo };
        if (e.t !== undefined) base.t = e.t;
        const device = e.device ?? this.header?.device;
        if (device !== undefined) base.device = device;
        const coproc =
          e.coproc ?? this.header?.coproc ?? this.defaultCoproc ?? this.coprocOf(device, undefined);
        if (coproc !== undefined) base.coproc = coproc;
        const extras: MessageExtras = {};
        if (e.note !== undefined) extras.note = e.note;
        if (e.seq !== undefined) extras.seq = e.seq;
        this.message(coproc ?? device ?? '', true, base, 'trace', e.ep, e.dir, e.hi, e.lo, extras);
        return;
      }
    }
  }

  private plainLine(raw: string): void {
    const r = parsePlainLine(raw.charCodeAt(raw.length - 1) === 0x0d ? raw.slice(0, -1) : raw);
    if (r.k === 'blank') return;
    if (r.k === 'error') {
      this.warn('MALFORMED_LINE', r.message, raw);
      return;
    }
    const base: RecordOrigin = { line: this.lineNo };
    const coproc = this.defaultCoproc;
    if (coproc !== undefined) base.coproc = coproc;
    const extras: MessageExtras | undefined =
      r.comment !== undefined ? { note: r.comment } : undefined;
    this.message(coproc ?? '', true, base, 'plain', r.ep, r.dir, r.hi, r.lo, extras);
  }

  private message(
    key: string,
    stateful: boolean,
    base: RecordOrigin,
    origin: MessageOrigin,
    ep: number,
    dir: Direction | null,
    hi: number,
    lo: number,
    extras?: MessageExtras,
  ): void {
    this.out.push(this.messages.record(key, stateful, base, origin, ep, dir, hi, lo, extras));
  }

  // ---------------------------------------------------------------------------------------------
  // Kernel logs.

  private kernelLine(raw: string): void {
    const line = raw.charCodeAt(raw.length - 1) === 0x0d ? raw.slice(0, -1) : raw;
    if (this.crashes.size > 0) this.expireCrashes();
    let p = line.indexOf(RTKIT_TAG);
    if (p >= 0) {
      this.rtkitLine(line, p);
      return;
    }
    p = line.indexOf('[syslog] ');
    if (p >= 0) {
      const s = parseM1n1Syslog(line.slice(p));
      if (s !== undefined) {
        this.out.push({
          type: 'syslog',
          line: this.lineNo,
          source: 'm1n1',
          context: s.context,
          message: s.message,
        });
        return;
      }
    }
    p = line.indexOf('Initialized (');
    if (p >= 0) {
      const s = parseSmcInitialized(line.slice(p));
      if (s !== undefined) {
        const base = this.origin(line, p);
        this.out.push({
          type: 'event',
          ...base,
          event: 'smc-initialized',
          keyCount: s.keyCount,
          firstKey: s.first,
          lastKey: s.last,
        });
        return;
      }
    }
    if (this.crashes.size > 0 && this.crashContinuation(line)) return;
    this.st.ignoredLines++;
  }

  /** Origin of a kernel line whose message starts at `p` (after `driver device: `). */
  private origin(line: string, p: number): RecordOrigin {
    const pre = parsePrefix(line, p);
    const head = p >= pre.body ? line.slice(pre.body, p) : line.slice(0, p);
    const dev = parseDevHead(head);
    const o: RecordOrigin = { line: this.lineNo };
    if (pre.t !== undefined) o.t = pre.t;
    if (pre.time !== undefined) o.time = pre.time;
    if (dev.device !== undefined) o.device = dev.device;
    if (dev.driver !== undefined) o.driver = dev.driver;
    const c = this.coprocOf(dev.device, dev.driver);
    if (c !== undefined) o.coproc = c;
    return o;
  }

  private rtkitLine(line: string, p: number): void {
    const base = this.origin(line, p);
    const key = base.device ?? '';
    const c = classifyRtkit(line.slice(p + RTKIT_TAG.length));
    switch (c.k) {
      case 'crashed': {
        this.closeCrash(key);
        this.crash(key, base).crashed(this.lineNo);
        return;
      }
      case 'version':
        this.crash(key, base).version(c.text, this.lineNo);
        return;
      case 'crash-time':
        this.crash(key, base).crashTime(c.value, this.lineNo);
        return;
      case 'crash-message':
        this.crashNote(key, base, (b) => b.message(c.id, c.text, this.lineNo));
        return;
      case 'crash-note':
        this.crashNote(key, base, (b) => b.note(c.text, this.lineNo));
        return;
      case 'mailbox-header':
        this.crashNote(key, base, (b) => b.mailboxHeader(c.type, c.index, this.lineNo));
        return;
      case 'exception-dump':
        this.crash(key, base).exceptionStart(this.lineNo);
        return;
      case 'mailbox-entry': {
        const b = this.crash(key, base);
        if (c.epHi !== 0 || c.epLo > 0xff) {
          this.warn('INVALID_ENDPOINT', `mailbox history endpoint ${hex64(c.epHi, c.epLo)}`, line);
          return;
        }
        const msg = hex64(c.hi, c.lo);
        const wasCapped = b.capped;
        const dir = b.entry(c.index, c.timestamp, c.epLo, msg, this.lineNo);
        if (b.capped && !wasCapped) this.capWarning();
        this.message(key, false, base, 'mailbox-history', c.epLo, dir, c.hi, c.lo, {
          index: c.index,
          timestamp: `0x${c.timestamp.toString(16).padStart(8, '0')}`,
        });
        return;
      }
      case 'other': {
        // Unknown RTKit lines inside an open dump are taken as part of it.
        const open = this.crashes.get(key);
        if (open !== undefined) {
          open.note(c.text, this.lineNo);
          return;
        }
        this.out.push({ type: 'event', ...base, event: 'rtkit-line', text: c.text });
        return;
      }
      case 'malformed':
        this.warn('MALFORMED_LINE', `RTKit line: ${c.what}`, line);
        return;
      default:
        break;
    }
    // Any other RTKit line of this device ends its crash dump.
    this.closeCrash(key);
    switch (c.k) {
      case 'init':
        this.messages.setVersion(key, c.version);
        this.out.push({ type: 'init', ...base, protocolVersion: c.version });
        return;
      case 'firmware-too-new':
      case 'firmware-too-old':
        this.out.push({ type: 'event', ...base, event: c.k, value: c.value });
        return;
      case 'unknown-system-endpoint':
      case 'undiscovered-endpoint':
        this.out.push({ type: 'event', ...base, event: c.k, endpoint: c.endpoint });
        return;
      case 'syslog':
        this.out.push({
          type: 'syslog',
          ...base,
          source: 'linux',
          context: c.context,
          message: c.message,
        });
        return;
      case 'unhandled':
        // Linux printed a word it received and did not handle: IOP→AP on that endpoint.
        this.message(key, true, base, 'unhandled', c.ep, 'iop->ap', c.hi, c.lo, {
          source: c.source,
        });
        return;
    }
  }

  private crash(key: string, base: RecordOrigin): CrashBuilder {
    let b = this.crashes.get(key);
    if (b === undefined) {
      if (this.crashes.size >= MAX_OPEN_CRASHES) {
        this.closeCrash(this.crashes.keys().next().value as string);
      }
      b = new CrashBuilder(base, this.limits);
      this.crashes.set(key, b);
    }
    return b;
  }

  private crashNote(key: string, base: RecordOrigin, f: (b: CrashBuilder) => void): void {
    const b = this.crash(key, base);
    const wasCapped = b.capped;
    f(b);
    if (b.capped && !wasCapped) this.capWarning();
  }

  private capWarning(): void {
    this.warn(
      'CRASH_CAPPED',
      'crash dump too large: further entries are not kept in the crash record',
    );
  }

  private closeCrash(key: string): void {
    const b = this.crashes.get(key);
    if (b === undefined) return;
    this.crashes.delete(key);
    this.out.push(b.finish());
  }

  private expireCrashes(): void {
    const limit = this.lineNo - this.opts.crashIdleLines;
    for (const [key, b] of this.crashes) if (b.lastLine < limit) this.closeCrash(key);
  }

  /** Register lines after `Exception dump:` carry no `RTKit:` marker, only the device prefix. */
  private crashContinuation(line: string): boolean {
    for (const [key, b] of this.crashes) {
      let rest: string;
      if (key === '') {
        rest = line.slice(parsePrefix(line).body);
        if (rest.trim().length === 0) continue;
      } else {
        const i = line.indexOf(`${key}:`);
        if (i < 0) continue;
        rest = line.slice(i + key.length + 1);
      }
      const x = classifyExceptionLine(rest);
      if (x !== undefined && b.exceptionLine(x, this.lineNo)) return true;
    }
    return false;
  }
}

/** Decode a whole text or byte array at once. */
export function decodeTrace(
  input: string | Uint8Array,
  options?: TraceDecoderOptions,
): TraceOutput[] {
  const d = new TraceDecoder(options);
  const out = d.push(input);
  for (const r of d.end()) out.push(r);
  return out;
}

/** Decode an async sequence of chunks (a fetch body through TextDecoderStream, a Node stream). */
export async function* decodeTraceStream(
  source: AsyncIterable<string | Uint8Array>,
  options?: TraceDecoderOptions,
): AsyncGenerator<TraceOutput, TraceStats, undefined> {
  const d = new TraceDecoder(options);
  for await (const chunk of source) yield* d.push(chunk);
  yield* d.end();
  return d.stats;
}

export { DETECT_WINDOW };
