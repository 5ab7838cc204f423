/**
 * The terminal's view of a live feed (src/viewer/feed.ts): one line per event, written in
 * chunks. Message words are decoded by the trace decoder's `MessageDecoder` (the codec plus the
 * per-co-processor history a word's meaning depends on), so a line reads exactly as `rtkit decode`
 * renders the same word; colour is added around the pieces, never instead of them.
 *
 * ```
 *  [    2.003125] → smc user01(0x20) 0x4b545342000c0111 SMC READ_KEY 'TB0T' id 1 size 4
 *  [    2.003125] ← smc user01(0x20) 0x41f4000000040100 SMC reply id 1 ok size 4 value 0x41f40000
 *  [    0.412903] dcp syslog UPPipeDCP_H13P.cpp:7476: set_run_mode_safe: no need to defer: 1 -> 0
 *  [    8.014042] dcp state crash: IOP ON, AP ON, handshake done, crashed, 4 buffers
 *  [    8.014042] dcp crashed: notification 0x00103000a0000000, 12288 bytes of crash log
 *  [    2.003000] == SMC: read keys
 * ```
 *
 * Every piece of text that came from the firmware or the wire passes through `printable`.
 */

import pc from 'picocolors';
import { type CrashlogJson, type CrashReport, renderCrashlogText } from '../crashlog/index.js';
import type { FeedDetail } from '../demo/publisher.js';
import { decodeWords, parseHex64, powerStateName, summarize } from '../protocol/index.js';
import { printable } from '../text.js';
import { MessageDecoder } from '../trace/messages.js';
import type { MessageRecord } from '../trace/records.js';
import { renderText } from '../trace/render.js';
import type {
  FeedCoprocState,
  FeedCrash,
  FeedEvent,
  FeedMessage,
  FeedPhase,
  FeedState,
  FeedSyslog,
} from '../viewer/feed.js';
import { colorEnabled, paint } from './style.js';

export { colorEnabled };

/**
 * Colour on a terminal unless NO_COLOR is set (no-color.org; any value, as `paint` in style.ts
 * treats it) or TERM is `dumb`; FORCE_COLOR (not `0`/`false`) turns it on for pipes too, as
 * picocolors and chalk read it.
 */

/** The same colours as every other command (`style.ts`). */
export const livePaint = paint;

export interface LiveRenderOptions {
  /** Where the text goes; called with whole lines, many at a time. */
  readonly write: (chunk: string) => void;
  readonly color: boolean;
  /** Write when this many characters are buffered (default 64 Ki). */
  readonly chunkChars?: number;
  /**
   * Write at most this many wall milliseconds after a line was buffered (default 50), so that a
   * slow session still shows up at once; `false`: only on `chunkChars` and `flush()`.
   */
  readonly flushAfterMs?: number | false;
}

type Colour = (s: string) => string;

const ARROW = { 'ap->iop': '→', 'iop->ap': '←' } as const;

export class LiveRenderer {
  readonly #write: (chunk: string) => void;
  readonly #chunk: number;
  readonly #flushAfter: number | false;
  readonly #c: ReturnType<typeof pc.createColors>;
  readonly #color: boolean;
  readonly #decoder = new MessageDecoder();
  readonly #names = new Map<string, Colour>();
  #buf = '';
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lines = 0;
  #events = 0;

  constructor(opts: LiveRenderOptions) {
    this.#write = opts.write;
    this.#chunk = Math.max(1, opts.chunkChars ?? 0x10000);
    this.#flushAfter = opts.flushAfterMs ?? 50;
    this.#color = opts.color;
    this.#c = pc.createColors(opts.color);
  }

  /** Lines written or buffered so far. */
  get lines(): number {
    return this.#lines;
  }

  get events(): number {
    return this.#events;
  }

  /** Buffer one event's line(s); writes when the chunk is full. */
  render(e: FeedEvent, detail?: FeedDetail): void {
    this.#events++;
    this.#push(this.format(e, detail));
  }

  /** A line of our own (a heading, the summary), in order with the events. */
  text(line: string): void {
    this.#push(line);
  }

  /** Write whatever is buffered. */
  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#buf.length === 0) return;
    const out = this.#buf;
    this.#buf = '';
    this.#write(out);
  }

  /** The text of one event, without the final newline (a crash is several lines). */
  format(e: FeedEvent, detail?: FeedDetail): string {
    switch (e.type) {
      case 'message':
        return this.#message(e);
      case 'syslog':
        return this.#syslog(e);
      case 'state':
        return this.#state(e);
      case 'crash':
        return this.#crash(e, detail?.report);
      case 'phase':
        return this.#phase(e);
    }
  }

  #push(text: string): void {
    let n = 1;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
    this.#lines += n;
    this.#buf += `${text}\n`;
    if (this.#buf.length >= this.#chunk) this.flush();
    else if (this.#flushAfter !== false && this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.flush();
      }, this.#flushAfter);
    }
  }

  /** A colour per co-processor, in order of appearance, so that interleaved sessions part. */
  #who(name: string): string {
    const s = printable(name);
    if (!this.#color) return s;
    let c = this.#names.get(name);
    if (c === undefined) {
      const palette = [this.#c.yellow, this.#c.blue, this.#c.magenta, this.#c.cyan, this.#c.green];
      c = palette[this.#names.size % palette.length]!;
      if (this.#names.size < 256) this.#names.set(name, c);
    }
    return this.#c.bold(c(s));
  }

  #record(e: FeedMessage): MessageRecord | undefined {
    const w = parseHex64(e.msg);
    if (w === undefined) return undefined;
    return this.#decoder.record(
      e.coproc,
      true,
      { line: e.seq + 1, t: e.t, coproc: e.coproc },
      'trace',
      e.ep,
      e.dir,
      w.hi,
      w.lo,
    );
  }

  #message(e: FeedMessage): string {
    const r = this.#record(e);
    if (r === undefined) {
      return `${stamp(e.t)} ${printable(e.coproc)} ep ${e.ep}: unreadable word ${printable(String(e.msg))}`;
    }
    if (!this.#color) return renderText(r);
    const c = this.#c;
    const arrow = r.dir === 'ap->iop' ? c.cyan(ARROW[r.dir]) : c.green(ARROW['iop->ap']);
    const summary = printable(r.summary);
    let s = `${c.dim(stamp(e.t))} ${arrow} ${this.#who(e.coproc)} ${r.endpoint}${c.dim(`(${hex2(r.ep)})`)} ${c.dim(r.msg)} ${r.kind === 'crashNotification' ? c.red(c.bold(summary)) : summary}`;
    if (r.notes !== undefined) s += c.yellow(`  [${r.notes.map((n) => n.code).join(', ')}]`);
    return s;
  }

  #syslog(e: FeedSyslog): string {
    if (!this.#color) {
      return renderText({
        type: 'syslog',
        line: 0,
        t: e.t,
        coproc: e.coproc,
        source: 'linux',
        context: e.context,
        message: e.message,
      });
    }
    const c = this.#c;
    return `${c.dim(stamp(e.t))} ${this.#who(e.coproc)} ${c.cyan(`syslog ${printable(e.context)}: ${printable(e.message)}`)}`;
  }

  #state(e: FeedState): string {
    const c = this.#c;
    const text = `state ${printable(e.reason)}: ${describeState(e.state, e.reason === 'buffers')}`;
    const paint = e.state.crashed
      ? (s: string) => c.red(c.bold(s))
      : e.reason === 'boot' || e.reason === 'wake' || e.reason === 'recovered'
        ? (s: string) => c.green(c.bold(s))
        : c.yellow;
    return `${c.dim(stamp(e.t))} ${this.#who(e.coproc)} ${paint(text)}`;
  }

  #phase(e: FeedPhase): string {
    const c = this.#c;
    const text = printable(e.text);
    if (e.coproc === undefined) return `${c.dim(stamp(e.t))} ${c.bold(c.magenta(`== ${text}`))}`;
    const paint = text.startsWith('warning ')
      ? c.yellow
      : text.includes(': FAILED')
        ? c.red
        : /^step [^:]*: ok/.test(text)
          ? c.green
          : c.bold;
    return `${c.dim(stamp(e.t))} ${this.#who(e.coproc)} ${paint(text)}`;
  }

  #crash(e: FeedCrash, report: CrashReport | undefined): string {
    const c = this.#c;
    const head = `${c.dim(stamp(e.t))} ${this.#who(e.coproc)}`;
    const size = report?.bufferLength ?? jsonNumber(e.report?.header['bufferLength']);
    const lines = [
      `${head} ${c.red(c.bold(`crashed: notification ${printable(e.msg)}${size !== undefined ? `, ${size} bytes of crash log` : ''}`))}`,
    ];
    if (report !== undefined) {
      const coproc = e.coproc;
      const text = renderCrashlogText(report, {
        annotate: (ep, msg, dir) =>
          summarize(
            decodeWords(ep, Number(msg >> 32n), Number(msg & 0xffff_ffffn), { dir, coproc }),
          ),
        ...(this.#color ? { color: true } : {}),
      });
      for (const l of text.trimEnd().split('\n')) lines.push(`  ${l}`);
    } else if (e.report !== undefined) {
      lines.push(...jsonCrashSummary(e.report));
    }
    if (e.problem !== undefined) lines.push(c.red(`  crash log: ${printable(e.problem)}`));
    return lines.join('\n');
  }
}

function stamp(t: number): string {
  // The time column of `rtkit decode` (trace/render.ts).
  return `[${t.toFixed(6).padStart(12)}]`;
}

function hex2(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

function powerName(s: number | null): string {
  return s === null ? '-' : powerStateName(s);
}

/** `IOP ON, AP ON, handshake done, running, 3 buffers`; with `list`, each buffer. */
export function describeState(s: FeedCoprocState, list = false): string {
  const parts = [`IOP ${powerName(s.iopPower)}`, `AP ${powerName(s.apPower)}`];
  parts.push(`handshake ${s.handshake}`);
  if (s.running) parts.push('running');
  if (s.crashed) parts.push('crashed');
  if (s.poweredOff) parts.push('powered off');
  const n = s.buffers.length;
  if (list && n > 0) {
    parts.push(
      `buffers ${s.buffers.map((b) => `${printable(b.endpoint)}(${hex2(b.ep)}) ${printable(b.mode)} ${printable(b.iova)}+${hexSize(b.size)}`).join(' ')}`,
    );
  } else if (n > 0) parts.push(`${n} buffer${n === 1 ? '' : 's'}`);
  return parts.join(', ');
}

function hexSize(n: number): string {
  return `0x${n.toString(16)}`;
}

function jsonNumber(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** A crash whose report travelled as JSON only (a saved feed): its sections and panic text. */
function jsonCrashSummary(j: CrashlogJson): string[] {
  const out = [
    `  crash log: ${j.sections.length} sections: ${j.sections.map((s) => printable(s.fourcc)).join(' ')}`,
  ];
  for (const s of j.sections) {
    if (s.fourcc === 'Cstr' && typeof s['text'] === 'string') {
      for (const l of s['text'].trimEnd().split('\n')) out.push(`  message  ${printable(l)}`);
    }
  }
  for (const w of j.warnings) out.push(`  warning  ${printable(w)}`);
  return out;
}
