/**
 * Inputs → store, through the library's trace decoder (src/trace): the viewer has no decoder of
 * its own. Offline files (our JSON-lines traces, kernel logs with crash dumps, plain `ep msg`
 * lines) are pushed through a TraceDecoder in slices, yielding between slices so the page stays
 * responsive. Live feed messages are trace records (src/viewer/feed.ts), so they go through a
 * long-lived JSON-lines TraceDecoder: the same per-co-processor protocol history (version,
 * crashlog armed, SMC shared-memory address) applies as for a recorded trace.
 */

import type { CrashlogJson } from '../src/crashlog/index.js';
import type { Direction } from '../src/protocol/index.js';
import {
  type CrashRecord,
  renderText,
  TraceDecoder,
  type TraceFormat,
  type TraceOutput,
} from '../src/trace/index.js';
import type { FeedCoprocState } from '../src/viewer/feed.js';
import { crashFromFeed, crashFromRecord } from './crash.js';
import { laneKeyOf, type ViewerStore } from './store.js';

export interface LoadStats {
  name: string;
  bytes: number;
  format: TraceFormat | undefined;
  messages: number;
  records: number;
  /** Decoding time, yields excluded. */
  decodeMs: number;
  /** From the start of the load to the end of decoding, yields included. */
  elapsedMs: number;
}

export interface LoadOptions {
  /** Profile for inputs that do not name one (plain lines). */
  coproc?: string;
  /** Bytes per slice; default: adapted so that a slice takes about SLICE_MS. */
  slice?: number;
  /** Called between slices (progress, a render). */
  onSlice?: (done: number, total: number) => void;
  /** Let the page breathe between slices; default: a macrotask. */
  yieldFn?: () => Promise<void>;
  /** Stop early (a new file was opened). */
  cancelled?: () => boolean;
}

/** Target duration of one decoding slice between two yields to the page. */
export const SLICE_MS = 50;
const MIN_SLICE = 16 * 1024;
const MAX_SLICE = 8 * 1024 * 1024;

export function macrotask(): Promise<void> {
  return new Promise((ok) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      ok();
    };
    ch.port2.postMessage(null);
  });
}

/** Apply one decoder record to the store. */
export function applyRecord(store: ViewerStore, r: TraceOutput): void {
  switch (r.type) {
    case 'message':
      store.addMessage(r);
      return;
    case 'syslog': {
      const e: Parameters<ViewerStore['addSyslog']>[0] = {
        lane: laneKeyOf(r),
        context: r.context,
        message: r.message,
        source: r.source,
        line: r.line,
      };
      if (r.t !== undefined) e.t = r.t;
      if (r.time !== undefined) e.time = r.time;
      store.lane(e.lane, r);
      store.addSyslog(e);
      return;
    }
    case 'crash':
      applyCrash(store, r);
      return;
    case 'init': {
      const lane = laneKeyOf(r);
      store.lane(lane, r);
      store.setVersion(lane, r.protocolVersion);
      store.addMark({ kind: 'init', text: markText(r), lane, ...origin(r) });
      return;
    }
    case 'event': {
      const lane = laneKeyOf(r);
      store.lane(lane, r);
      store.addMark({ kind: 'event', text: markText(r), lane, ...origin(r) });
      return;
    }
    case 'warning':
      store.addWarning(r);
      return;
  }
}

function origin(r: { t?: number; time?: string; line?: number }): {
  t?: number;
  time?: string;
  line?: number;
} {
  const o: { t?: number; time?: string; line?: number } = {};
  if (r.t !== undefined) o.t = r.t;
  if (r.time !== undefined) o.time = r.time;
  if (r.line !== undefined) o.line = r.line;
  return o;
}

/** The library's one-line rendering without its time and device columns (the diagram has them). */
function markText(r: Exclude<TraceOutput, { type: 'crash' }>): string {
  const full = renderText(r);
  const who = r.type !== 'warning' ? (r.device ?? r.coproc ?? '-') : '';
  const at = who === '' ? -1 : full.indexOf(` ${who} `);
  return at >= 0 ? full.slice(at + who.length + 2) : full;
}

function applyCrash(store: ViewerStore, r: CrashRecord): void {
  const lane = laneKeyOf(r);
  store.lane(lane, r);
  const dev = r.device ?? '';
  const view = crashFromRecord(
    r,
    lane,
    (line) => {
      const key = `${dev}|${line}`;
      const id = store.pendingHistory.get(key);
      store.pendingHistory.delete(key);
      return id;
    },
    (id) => store.message(id),
  );
  store.addCrash(view);
}

/** Decode a whole file into the store (which the caller has reset). */
export async function loadBytes(
  store: ViewerStore,
  name: string,
  bytes: Uint8Array,
  opts: LoadOptions = {},
): Promise<LoadStats> {
  const t0 = performance.now();
  const decoder = new TraceDecoder(opts.coproc !== undefined ? { coproc: opts.coproc } : {});
  let slice = opts.slice ?? 128 * 1024;
  const yieldFn = opts.yieldFn ?? macrotask;
  let decodeMs = 0;
  let records = 0;
  for (let at = 0; at < bytes.length; ) {
    const s = performance.now();
    const end = Math.min(bytes.length, at + slice);
    const out = decoder.push(bytes.subarray(at, end));
    for (const r of out) applyRecord(store, r);
    records += out.length;
    const dt = performance.now() - s;
    decodeMs += dt;
    if (opts.slice === undefined && dt > 0) {
      // Few, long-enough slices: each yield costs a frame, each slice delays one.
      slice = Math.max(MIN_SLICE, Math.min(MAX_SLICE, Math.round(((end - at) * SLICE_MS) / dt)));
    }
    at = end;
    opts.onSlice?.(end, bytes.length);
    if (opts.cancelled?.()) break;
    await yieldFn();
    if (opts.cancelled?.()) break;
  }
  const s = performance.now();
  const out = decoder.end();
  for (const r of out) applyRecord(store, r);
  records += out.length;
  decodeMs += performance.now() - s;
  return {
    name,
    bytes: bytes.length,
    format: decoder.format,
    messages: store.messageCount,
    records,
    decodeMs,
    elapsedMs: performance.now() - t0,
  };
}

// ---------------------------------------------------------------------------------------------
// Live feed.

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const optNum = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;

/**
 * FeedEvents (from SSE, or from a device session in the page) → store. Events come from the
 * wire: anything malformed is counted as a warning, never thrown.
 */
export class LiveIngest {
  private decoder = new TraceDecoder({ format: 'jsonl' });
  private pending = '';
  private line = 0;

  constructor(private readonly store: ViewerStore) {}

  /** A new session: forget the protocol history. */
  reset(): void {
    this.decoder = new TraceDecoder({ format: 'jsonl' });
    this.pending = '';
  }

  events(list: readonly unknown[]): void {
    for (const e of list) {
      if (isObj(e) && e['type'] === 'message') {
        // A feed message is a JSON-lines trace record (plus `type`, which readers ignore).
        this.pending += `${JSON.stringify(e)}\n`;
        continue;
      }
      this.flush();
      this.other(e);
    }
    this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const text = this.pending;
    this.pending = '';
    for (const r of this.decoder.push(text)) applyRecord(this.store, r);
  }

  private other(e: unknown): void {
    this.line++;
    const bad = (why: string): void =>
      this.store.addWarning({
        type: 'warning',
        line: this.line,
        code: 'MALFORMED_LINE',
        message: `feed event: ${why}`,
      });
    if (!isObj(e) || typeof e['type'] !== 'string') {
      bad('not an event object');
      return;
    }
    const t = optNum(e['t']);
    const coproc = typeof e['coproc'] === 'string' ? e['coproc'] : undefined;
    switch (e['type']) {
      case 'state': {
        const st = e['state'];
        if (coproc === undefined || !isObj(st)) {
          bad('state without coproc or state');
          return;
        }
        this.store.setLiveState(
          coproc,
          t ?? 0,
          typeof e['reason'] === 'string' ? e['reason'] : '',
          sanitizeState(st),
        );
        return;
      }
      case 'syslog': {
        if (coproc === undefined) {
          bad('syslog without coproc');
          return;
        }
        const s: Parameters<ViewerStore['addSyslog']>[0] = {
          lane: coproc,
          context: String(e['context'] ?? ''),
          message: String(e['message'] ?? ''),
          source: 'live',
        };
        if (t !== undefined) s.t = t;
        this.store.lane(coproc, { coproc });
        this.store.addSyslog(s);
        return;
      }
      case 'crash': {
        if (coproc === undefined) {
          bad('crash without coproc');
          return;
        }
        this.store.lane(coproc, { coproc });
        const store = this.store;
        const view = crashFromFeed(
          {
            lane: coproc,
            coproc,
            ...(t !== undefined ? { t } : {}),
            ...(typeof e['msg'] === 'string' ? { msg: e['msg'] } : {}),
            report: isObj(e['report']) ? (e['report'] as unknown as CrashlogJson) : undefined,
            problem: typeof e['problem'] === 'string' ? e['problem'] : undefined,
          },
          (ep, msg, dir, before) => findMessage(store, coproc, ep, msg, dir, before),
          store.nextId,
        );
        store.addCrash(view);
        return;
      }
      case 'phase': {
        if (typeof e['text'] !== 'string') {
          bad('phase without text');
          return;
        }
        this.store.addMark({
          kind: 'phase',
          text: e['text'],
          ...(coproc !== undefined ? { lane: coproc } : {}),
          ...(t !== undefined ? { t } : {}),
        });
        return;
      }
      default: {
        bad(`unknown type ${JSON.stringify(e['type']).slice(0, 40)}`);
        return;
      }
    }
  }
}

/** How far back a live crash's history is matched against the session's messages. */
const MATCH_WINDOW = 50_000;

function findMessage(
  store: ViewerStore,
  lane: string,
  ep: number,
  msg: string,
  dir: Direction | null,
  before: number,
): number | undefined {
  const stop = Math.max(store.base, before - MATCH_WINDOW);
  for (let id = Math.min(before, store.nextId) - 1; id >= stop; id--) {
    const m = store.message(id)!;
    if (m.ep === ep && m.msg === msg && m.dir === dir && laneKeyOf(m) === lane) return id;
  }
  return undefined;
}

const STATE_FLAGS = ['running', 'crashed', 'poweredOff'] as const;

/** A state object from the wire, with every field checked (shown as text, never as markup). */
export function sanitizeState(s: Record<string, unknown>): FeedCoprocState {
  const n = (v: unknown): number | null => optNum(v) ?? null;
  const eps = (v: unknown): number[] =>
    Array.isArray(v)
      ? v.filter((x): x is number => Number.isInteger(x) && x >= 0 && x <= 0xff).slice(0, 256)
      : [];
  const handshake = s['handshake'];
  const buffers = Array.isArray(s['buffers']) ? s['buffers'].slice(0, 256) : [];
  const out: {
    -readonly [K in keyof FeedCoprocState]: FeedCoprocState[K];
  } = {
    iopPower: n(s['iopPower']),
    apPower: n(s['apPower']),
    version: n(s['version']),
    handshake:
      handshake === 'hello' ||
      handshake === 'epmap' ||
      handshake === 'starting' ||
      handshake === 'done'
        ? handshake
        : 'none',
    running: false,
    crashed: false,
    poweredOff: false,
    endpoints: eps(s['endpoints']),
    started: eps(s['started']),
    buffers: buffers.flatMap((b) =>
      isObj(b) && typeof b['ep'] === 'number'
        ? [
            {
              ep: b['ep'],
              endpoint: String(b['endpoint'] ?? ''),
              mode: String(b['mode'] ?? ''),
              iova: String(b['iova'] ?? ''),
              size: optNum(b['size']) ?? 0,
            },
          ]
        : [],
    ),
  };
  for (const f of STATE_FLAGS) out[f] = s[f] === true;
  return out;
}
