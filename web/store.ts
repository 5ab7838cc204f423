/**
 * Everything the viewer shows, as plain data: message records (the trace decoder's, unchanged),
 * diagram marks, syslog lines, crash reports and per-co-processor state, plus the filter and the
 * list of visible rows. No DOM here: the store is unit-tested in Node (test/viewer/store.test.ts).
 *
 * Sizes: rows are kept in typed arrays and filtering is one pass over them, so 100,000 messages
 * filter in a few milliseconds. Memory is bounded: past MAX_MESSAGES the oldest quarter is
 * dropped (a live session can run for hours).
 */

import { endpointName } from '../src/protocol/index.js';
import type { MessageRecord, WarningRecord } from '../src/trace/index.js';
import type { FeedCoprocState } from '../src/viewer/feed.js';
import type { CrashView } from './crash.js';

export const MAX_MESSAGES = 1_000_000;
export const MAX_SYSLOG = 200_000;
export const MAX_MARKS = 100_000;
export const MAX_WARNINGS = 1000;

export type MarkKind = 'phase' | 'crash' | 'init' | 'event' | 'state';

export interface Mark {
  kind: MarkKind;
  text: string;
  lane?: string;
  t?: number;
  time?: string;
  line?: number;
  /** Crash marks: index in `crashes`. */
  crash?: number;
}

export interface SyslogEntry {
  lane: string;
  context: string;
  message: string;
  /** `linux`, `m1n1` (kernel logs) or `live`. */
  source: string;
  t?: number;
  time?: string;
  line?: number;
}

export interface Lane {
  key: string;
  /** Co-processor profile (`dcp`) when known. */
  coproc?: string;
  device?: string;
  messages: number;
}

/** What the messages themselves tell about a co-processor (offline inputs have no state feed). */
export interface InferredState {
  version?: number;
  iopPower?: string;
  apPower?: string;
  endpoints: Set<number>;
  started: Set<number>;
  /** Last buffer request or reply per endpoint: the codec's summary. */
  buffers: Map<number, { kind: string; summary: string; id: number }>;
  crashed: boolean;
}

export interface LaneState {
  live?: { t: number; reason: string; state: FeedCoprocState };
  inferred: InferredState;
}

export interface Filter {
  lanes: ReadonlySet<string>;
  eps: ReadonlySet<number>;
  kinds: ReadonlySet<string>;
}

/** A row code: a message id (≥ 0) or a mark, encoded as −1 − mark index. */
export type RowCode = number;

export function laneKeyOf(r: { device?: string; coproc?: string }): string {
  return r.device ?? r.coproc ?? '';
}

class IntList {
  data: Int32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Int32Array(capacity);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  clear(): void {
    this.length = 0;
  }
}

export interface StoreLimits {
  maxMessages?: number;
  maxSyslog?: number;
}

export class ViewerStore {
  private readonly maxMessages: number;
  private readonly maxSyslog: number;
  /** messages[id − base] is message `id`. */
  messages: MessageRecord[] = [];
  base = 0;
  marks: Mark[] = [];
  marksDropped = 0;
  syslog: SyslogEntry[] = [];
  syslogDropped = 0;
  warnings: WarningRecord[] = [];
  warningCount = 0;
  crashes: CrashView[] = [];
  readonly lanes: Lane[] = [];
  private readonly laneIndex = new Map<string, Lane>();
  readonly states = new Map<string, LaneState>();
  readonly epCounts = new Map<number, number>();
  readonly kindCounts = new Map<string, number>();
  /** Every row in arrival order, and the ones the filter lets through. */
  private readonly rows = new IntList(4096);
  private readonly vis = new IntList(4096);
  private hidden: Filter = { lanes: new Set(), eps: new Set(), kinds: new Set() };
  /** Bumped when the set of lanes, endpoints or kinds changes (the filter lists are rebuilt). */
  keysVersion = 0;
  /** Bumped on every change. */
  version = 0;
  /** Message ids of crash-history entries by `device|line`, until their crash record arrives. */
  readonly pendingHistory = new Map<string, number>();
  dropped = 0;

  constructor(limits: StoreLimits = {}) {
    this.maxMessages = Math.max(4, limits.maxMessages ?? MAX_MESSAGES);
    this.maxSyslog = Math.max(4, limits.maxSyslog ?? MAX_SYSLOG);
  }

  reset(): void {
    this.messages = [];
    this.base = 0;
    this.marks = [];
    this.marksDropped = 0;
    this.syslog = [];
    this.syslogDropped = 0;
    this.warnings = [];
    this.warningCount = 0;
    this.crashes = [];
    this.lanes.length = 0;
    this.laneIndex.clear();
    this.states.clear();
    this.epCounts.clear();
    this.kindCounts.clear();
    this.rows.clear();
    this.vis.clear();
    this.pendingHistory.clear();
    this.dropped = 0;
    this.keysVersion++;
    this.version++;
  }

  get messageCount(): number {
    return this.messages.length;
  }

  /** Ids run from `base` to `nextId − 1`. */
  get nextId(): number {
    return this.base + this.messages.length;
  }

  message(id: number): MessageRecord | undefined {
    return this.messages[id - this.base];
  }

  lane(key: string, from?: { coproc?: string; device?: string }): Lane {
    let l = this.laneIndex.get(key);
    if (l === undefined) {
      l = { key, messages: 0 };
      if (from?.coproc !== undefined) l.coproc = from.coproc;
      if (from?.device !== undefined) l.device = from.device;
      this.lanes.push(l);
      this.laneIndex.set(key, l);
      this.keysVersion++;
    } else if (l.coproc === undefined && from?.coproc !== undefined) l.coproc = from.coproc;
    return l;
  }

  laneState(key: string): LaneState {
    let s = this.states.get(key);
    if (s === undefined) {
      s = {
        inferred: {
          endpoints: new Set(),
          started: new Set(),
          buffers: new Map(),
          crashed: false,
        },
      };
      this.states.set(key, s);
    }
    return s;
  }

  /** Append a decoded message; returns its id. */
  addMessage(r: MessageRecord): number {
    if (this.messages.length >= this.maxMessages) this.trim();
    const id = this.nextId;
    this.messages.push(r);
    const key = laneKeyOf(r);
    const lane = this.lane(key, r);
    lane.messages++;
    const ep = this.epCounts.get(r.ep);
    if (ep === undefined) this.keysVersion++;
    this.epCounts.set(r.ep, (ep ?? 0) + 1);
    const k = this.kindCounts.get(r.kind);
    if (k === undefined) this.keysVersion++;
    this.kindCounts.set(r.kind, (k ?? 0) + 1);
    this.rows.push(id);
    if (this.passesMessage(r)) this.vis.push(id);
    if (r.origin === 'mailbox-history') {
      if (this.pendingHistory.size >= 65536) this.pendingHistory.clear();
      this.pendingHistory.set(`${r.device ?? ''}|${r.line}`, id);
    } else this.infer(key, r, id);
    this.version++;
    return id;
  }

  addMark(m: Mark): number {
    if (this.marks.length >= MAX_MARKS) {
      this.marksDropped++;
      return -1;
    }
    const i = this.marks.length;
    this.marks.push(m);
    if (m.lane !== undefined) this.lane(m.lane);
    const code = -1 - i;
    this.rows.push(code);
    if (this.passesMark(m)) this.vis.push(code);
    this.version++;
    return i;
  }

  addSyslog(e: SyslogEntry): void {
    if (this.syslog.length >= this.maxSyslog) {
      const cut = Math.floor(this.maxSyslog / 4);
      this.syslog = this.syslog.slice(cut);
      this.syslogDropped += cut;
    }
    this.syslog.push(e);
    this.lane(e.lane);
    this.version++;
  }

  addWarning(w: WarningRecord): void {
    this.warningCount++;
    if (this.warnings.length < MAX_WARNINGS) this.warnings.push(w);
    this.version++;
  }

  addCrash(c: Omit<CrashView, 'id' | 'mark'>): CrashView {
    const id = this.crashes.length;
    const mark = this.addMark({
      kind: 'crash',
      text: c.title,
      lane: c.lane,
      ...(c.t !== undefined ? { t: c.t } : {}),
      ...(c.time !== undefined ? { time: c.time } : {}),
      crash: id,
    });
    const view: CrashView = { ...c, id, mark };
    this.crashes.push(view);
    this.laneState(c.lane).inferred.crashed = true;
    this.version++;
    return view;
  }

  setLiveState(lane: string, t: number, reason: string, state: FeedCoprocState): void {
    this.lane(lane, { coproc: lane });
    this.laneState(lane).live = { t, reason, state };
    this.version++;
  }

  setVersion(lane: string, version: number): void {
    this.laneState(lane).inferred.version = version;
  }

  /** What a message says about its co-processor's state (offline inputs have nothing else). */
  private infer(key: string, r: MessageRecord, id: number): void {
    const s = this.laneState(key).inferred;
    s.endpoints.add(r.ep);
    const f = r.fields;
    switch (r.kind) {
      case 'hello':
        s.crashed = false;
        break;
      case 'helloAck':
        if (f['minVersion'] === f['maxVersion'] && typeof f['minVersion'] === 'number') {
          s.version = f['minVersion'];
        }
        break;
      case 'iopPowerStateAck':
        if (typeof f['state'] === 'string') s.iopPower = f['state'];
        break;
      case 'apPowerStateAck':
        if (typeof f['state'] === 'string') s.apPower = f['state'];
        break;
      case 'startEndpoint': {
        const ep = f['endpoint'];
        const n = typeof ep === 'string' ? Number.parseInt(ep, 16) : ep;
        if (typeof n === 'number' && n >= 0 && n <= 0xff) s.started.add(n);
        break;
      }
      case 'crashNotification':
        s.crashed = true;
        break;
      default:
        if (r.kind.endsWith('BufferRequest') || r.kind.endsWith('BufferReply')) {
          s.buffers.set(r.ep, { kind: r.kind, summary: r.summary, id });
        }
    }
  }

  /** Drop the oldest quarter of the messages (and the rows before the last dropped one). */
  private trim(): void {
    const cut = Math.floor(this.maxMessages / 4);
    this.messages = this.messages.slice(cut);
    this.base += cut;
    this.dropped += cut;
    let keep = 0;
    const rows = this.rows.data;
    for (let i = 0; i < this.rows.length; i++) {
      const c = rows[i]!;
      if (c >= 0 && c < this.base) keep = i + 1;
    }
    rows.copyWithin(0, keep, this.rows.length);
    this.rows.length -= keep;
    this.refilter();
  }

  // -------------------------------------------------------------------------------------------
  // Filter and visible rows.

  get filter(): Filter {
    return this.hidden;
  }

  /** Hide these lanes, endpoints and message kinds (empty sets show everything). */
  setFilter(f: Partial<Filter>): void {
    this.hidden = {
      lanes: new Set(f.lanes ?? this.hidden.lanes),
      eps: new Set(f.eps ?? this.hidden.eps),
      kinds: new Set(f.kinds ?? this.hidden.kinds),
    };
    this.refilter();
  }

  private passesMessage(r: MessageRecord): boolean {
    const h = this.hidden;
    return !(h.eps.has(r.ep) || h.kinds.has(r.kind) || h.lanes.has(laneKeyOf(r)));
  }

  private passesMark(m: Mark): boolean {
    return m.lane === undefined || !this.hidden.lanes.has(m.lane);
  }

  private refilter(): void {
    const h = this.hidden;
    const all = h.lanes.size === 0 && h.eps.size === 0 && h.kinds.size === 0;
    this.vis.clear();
    const rows = this.rows.data;
    const n = this.rows.length;
    if (all) {
      if (this.vis.data.length < n) this.vis.data = new Int32Array(n + 1024);
      this.vis.data.set(rows.subarray(0, n));
      this.vis.length = n;
    } else {
      const base = this.base;
      const msgs = this.messages;
      for (let i = 0; i < n; i++) {
        const c = rows[i]!;
        const ok =
          c >= 0 ? this.passesMessage(msgs[c - base]!) : this.passesMark(this.marks[-1 - c]!);
        if (ok) this.vis.push(c);
      }
    }
    this.version++;
  }

  get visibleCount(): number {
    return this.vis.length;
  }

  /** Row code of visible row `i`. */
  visibleRow(i: number): RowCode | undefined {
    return i >= 0 && i < this.vis.length ? this.vis.data[i] : undefined;
  }

  /** Visible row of a message or mark code, or −1 (binary search: rows are in arrival order). */
  rowOf(code: RowCode): number {
    const data = this.vis.data;
    if (code >= 0) {
      // Message ids grow with position, but marks in between are negative: search on messages.
      let lo = 0;
      let hi = this.vis.length - 1;
      while (lo <= hi) {
        let mid = (lo + hi) >> 1;
        // Step to the nearest message row at or after mid.
        let m = mid;
        while (m <= hi && data[m]! < 0) m++;
        if (m > hi) {
          hi = mid - 1;
          continue;
        }
        const v = data[m]!;
        if (v === code) return m;
        if (v < code) lo = m + 1;
        else {
          mid = m;
          hi = mid - 1;
        }
      }
      return -1;
    }
    for (let i = 0; i < this.vis.length; i++) if (data[i] === code) return i;
    return -1;
  }

  /** Names for the filter lists. */
  endpointLabel(ep: number): string {
    return `${endpointName(ep)} (0x${ep.toString(16).padStart(2, '0')})`;
  }
}
