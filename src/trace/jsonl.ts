/**
 * Our recorded-trace format, version 1: JSON lines, one mailbox message per line, with an
 * optional header line first (docs/trace-format.md). The host and the simulator write it; the
 * trace decoder reads it.
 *
 *   {"rtkitTrace":1,"coproc":"smc","timeUnit":"s"}
 *   {"t":0.000125,"dir":"ap->iop","coproc":"smc","ep":32,"msg":"0x0000000000000017"}
 */

import type { Direction } from '../protocol/word.js';
import { hex64, parseHex64 } from '../protocol/word.js';

export const TRACE_FORMAT_VERSION = 1;

export interface TraceHeader {
  rtkitTrace: typeof TRACE_FORMAT_VERSION;
  /** Default co-processor profile for records without `coproc`. */
  coproc?: string;
  device?: string;
  /** Who wrote the trace (`rtkit host`, `rtkit sim`, ...). */
  source?: string;
  /** ISO 8601 wall-clock time of `t = 0`. */
  started?: string;
  /** Always `s`: `t` is in seconds. */
  timeUnit?: 's';
}

/** One record as it is read back: the word is normalised to halves. */
export interface TraceEntry {
  t?: number;
  dir: Direction | null;
  ep: number;
  hi: number;
  lo: number;
  coproc?: string;
  device?: string;
  note?: string;
  seq?: number;
}

/** What a writer accepts for the word. */
export type WordLike = bigint | string | { hi: number; lo: number };

export interface TraceEntryInput {
  /** Seconds since the start of the trace (or since `started`). */
  t: number;
  dir: Direction;
  ep: number;
  msg: WordLike;
  coproc?: string;
  device?: string;
  note?: string;
  seq?: number;
}

function wordHex(w: WordLike): string {
  if (typeof w === 'bigint') {
    if (w < 0n || w > 0xffff_ffff_ffff_ffffn) throw new RangeError(`not a 64-bit word: ${w}`);
    return `0x${w.toString(16).padStart(16, '0')}`;
  }
  if (typeof w === 'string') {
    const p = parseHex64(w);
    if (p === undefined) throw new RangeError(`not a 64-bit hex word: ${JSON.stringify(w)}`);
    return hex64(p.hi, p.lo);
  }
  return hex64(w.hi, w.lo);
}

/** The header line (without newline). */
export function formatTraceHeader(h: Omit<TraceHeader, 'rtkitTrace' | 'timeUnit'> = {}): string {
  const out: TraceHeader = { rtkitTrace: TRACE_FORMAT_VERSION };
  if (h.coproc !== undefined) out.coproc = h.coproc;
  if (h.device !== undefined) out.device = h.device;
  if (h.source !== undefined) out.source = h.source;
  if (h.started !== undefined) out.started = h.started;
  out.timeUnit = 's';
  return JSON.stringify(out);
}

/** One record line (without newline). Throws RangeError for an invalid endpoint or word. */
export function formatTraceEntry(e: TraceEntryInput): string {
  if (!Number.isInteger(e.ep) || e.ep < 0 || e.ep > 0xff) {
    throw new RangeError(`endpoint out of range: ${e.ep}`);
  }
  if (!Number.isFinite(e.t)) throw new RangeError(`time is not finite: ${e.t}`);
  // Built by hand: fixed key order and no JSON.stringify of the whole object on the hot path.
  let s = `{"t":${e.t},"dir":"${e.dir}"`;
  if (e.coproc !== undefined) s += `,"coproc":${JSON.stringify(e.coproc)}`;
  if (e.device !== undefined) s += `,"device":${JSON.stringify(e.device)}`;
  s += `,"ep":${e.ep},"msg":"${wordHex(e.msg)}"`;
  if (e.note !== undefined) s += `,"note":${JSON.stringify(e.note)}`;
  if (e.seq !== undefined) s += `,"seq":${e.seq}`;
  return `${s}}`;
}

/**
 * Writes a trace through a sink (a file stream, an array, a WebSocket): one call per line,
 * each ending in `\n`. The header is written on construction unless `header` is false.
 */
export class TraceWriter {
  private readonly write: (line: string) => void;
  private seq = 0;
  private readonly numbered: boolean;

  constructor(
    write: (line: string) => void,
    opts: { header?: Omit<TraceHeader, 'rtkitTrace' | 'timeUnit'> | false; seq?: boolean } = {},
  ) {
    this.write = write;
    this.numbered = opts.seq ?? false;
    if (opts.header !== false) this.write(`${formatTraceHeader(opts.header ?? {})}\n`);
  }

  record(e: TraceEntryInput): void {
    const withSeq = this.numbered && e.seq === undefined ? { ...e, seq: this.seq } : e;
    this.seq++;
    this.write(`${formatTraceEntry(withSeq)}\n`);
  }

  /** The fast path for callers holding the word as two uint32 halves. */
  recordWords(
    t: number,
    dir: Direction,
    ep: number,
    hi: number,
    lo: number,
    coproc?: string,
  ): void {
    const e: TraceEntryInput = { t, dir, ep, msg: { hi, lo } };
    if (coproc !== undefined) e.coproc = coproc;
    this.record(e);
  }
}

export type ParsedTraceLine =
  | { k: 'header'; header: TraceHeader }
  | { k: 'entry'; entry: TraceEntry }
  | {
      k: 'error';
      code: 'MALFORMED_LINE' | 'INVALID_ENDPOINT' | 'BAD_TRACE_HEADER';
      message: string;
    }
  | { k: 'blank' };

function err(
  message: string,
  code: 'MALFORMED_LINE' | 'INVALID_ENDPOINT' | 'BAD_TRACE_HEADER' = 'MALFORMED_LINE',
): ParsedTraceLine {
  return { k: 'error', code, message };
}

function optString(o: Record<string, unknown>, key: string): string | undefined | null {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : null;
}

/** Parse one line of a JSON-lines trace. Never throws. */
export function parseTraceLine(line: string): ParsedTraceLine {
  const s = line.trim();
  if (s.length === 0) return { k: 'blank' };
  let o: unknown;
  try {
    o = JSON.parse(s);
  } catch {
    return err('not valid JSON');
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return err('not a JSON object');
  const r = o as Record<string, unknown>;
  if ('rtkitTrace' in r) {
    if (r['rtkitTrace'] !== TRACE_FORMAT_VERSION) {
      return err(
        `unsupported trace version ${JSON.stringify(r['rtkitTrace'])}`,
        'BAD_TRACE_HEADER',
      );
    }
    const header: TraceHeader = { rtkitTrace: TRACE_FORMAT_VERSION };
    for (const key of ['coproc', 'device', 'source', 'started'] as const) {
      const v = optString(r, key);
      if (v === null) return err(`header field ${key} must be a string`, 'BAD_TRACE_HEADER');
      if (v !== undefined) header[key] = v;
    }
    if (r['timeUnit'] !== undefined && r['timeUnit'] !== 's') {
      return err('timeUnit must be "s"', 'BAD_TRACE_HEADER');
    }
    header.timeUnit = 's';
    return { k: 'header', header };
  }
  const ep = r['ep'];
  if (typeof ep !== 'number' || !Number.isInteger(ep) || ep < 0 || ep > 0xff) {
    return err(
      `endpoint must be an integer 0..255, got ${JSON.stringify(ep) ?? 'nothing'}`,
      'INVALID_ENDPOINT',
    );
  }
  const msg = r['msg'];
  const word = typeof msg === 'string' ? parseHex64(msg) : undefined;
  if (word === undefined) return err('msg must be a hex string of up to 16 digits');
  const d = r['dir'];
  let dir: Direction | null;
  if (d === 'ap->iop' || d === 'iop->ap') dir = d;
  else if (d === undefined || d === null) dir = null;
  else return err(`dir must be "ap->iop", "iop->ap" or null, got ${JSON.stringify(d)}`);
  const entry: TraceEntry = { dir, ep, hi: word.hi, lo: word.lo };
  const t = r['t'];
  if (typeof t === 'number' && Number.isFinite(t)) entry.t = t;
  else if (t !== undefined && t !== null) return err('t must be a number (seconds)');
  for (const key of ['coproc', 'device', 'note'] as const) {
    const v = optString(r, key);
    if (v === null) return err(`${key} must be a string`);
    if (v !== undefined) entry[key] = v;
  }
  const seq = r['seq'];
  if (typeof seq === 'number' && Number.isSafeInteger(seq)) entry.seq = seq;
  return { k: 'entry', entry };
}
