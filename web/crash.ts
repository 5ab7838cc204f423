/**
 * One crash report model for the two shapes a crash reaches the viewer in: the trace decoder's
 * `crash` record (what Linux printed in a kernel log) and a live feed's crash event carrying
 * `crashlogToJson(report)` (the parsed binary buffer). The crash report pane draws this model.
 *
 * Mailbox-history rows link to arrows: in a kernel log each history entry is itself a message
 * record (origin `mailbox-history`), found by its line; in a live crash the entries are matched,
 * newest first, to the messages the session actually exchanged before the crash.
 */

import type { CrashlogJson } from '../src/crashlog/index.js';
import { type Direction, parseHex64 } from '../src/protocol/index.js';
import type { CrashRecord, MessageRecord } from '../src/trace/index.js';
import { messageRecord } from '../src/trace/messages.js';

export interface HistoryRow {
  index: number;
  timestamp: string;
  dir: Direction | null;
  ep: number;
  endpoint: string;
  msg: string;
  kind: string;
  summary: string;
  /** The message id of the arrow this entry refers to, when it is in the diagram. */
  target: number | undefined;
}

export interface TaskRow {
  id: number;
  name: string;
  faulting: boolean;
  priority: string;
  state: string;
  stack: string;
  frames: string[];
}

export interface CrashView {
  id: number;
  /** Row mark in the diagram (−1 when marks were capped). */
  mark: number;
  lane: string;
  source: 'kernel log' | 'crashlog buffer';
  title: string;
  t?: number;
  time?: string;
  /** Version, crash time, exception class, … as label/value pairs. */
  facts: [string, string][];
  registers: [string, string][];
  messages: string[];
  history: HistoryRow[];
  /** Entries the input had (more than `history` when the decoder capped them). */
  historyTotal: number;
  /** Undefined: the input carries no task table (Linux does not print one). */
  tasks: TaskRow[] | undefined;
  /** Call stack (Ccst) frames. */
  stack: string[];
  notes: string[];
}

export type CrashInput = Omit<CrashView, 'id' | 'mark'>;

/** A crash dump read from a kernel log. `targetOf(line)` finds the history message's id. */
export function crashFromRecord(
  r: CrashRecord,
  lane: string,
  targetOf: (line: number) => number | undefined,
  messageOf: (id: number) => MessageRecord | undefined,
): CrashInput {
  const facts: [string, string][] = [];
  const who = r.device ?? r.coproc ?? 'co-processor';
  if (r.driver !== undefined) facts.push(['Driver', r.driver]);
  facts.push(['Lines', `${r.line}–${r.endLine}`]);
  if (r.version !== undefined) {
    const v = r.version;
    facts.push([
      'Version',
      v.rtkitVersion !== undefined ? `RTKit ${v.rtkitVersion} (${v.build ?? '?'})` : v.string,
    ]);
    if (v.client !== undefined) facts.push(['Client', v.client]);
  }
  if (r.crashTime !== undefined) {
    facts.push(['Crash time', `${r.crashTimeDecimal ?? ''} (${r.crashTime})`.trim()]);
  }
  const registers: [string, string][] = [];
  const x = r.exception;
  if (x !== undefined) {
    if (x.el !== undefined) facts.push(['Exception', `taken from ${x.el}`]);
    if (x.esr !== undefined) {
      facts.push([
        'ESR',
        `${x.esr}: ${x.esrClassName ?? 'class ?'} (EC ${x.esrEc ?? '?'}, IL ${x.esrIl ?? '?'}, ISS ${x.esrIss ?? '?'})`,
      ]);
    }
    for (const [k, v] of [
      ['pc', x.pc],
      ['sp', x.sp],
      ['psr', x.psr],
      ['esr', x.esr],
      ['far', x.far],
    ] as const) {
      if (v !== undefined) registers.push([k, v]);
    }
    if (x.psrMode !== undefined) facts.push(['PSR mode', String(x.psrMode)]);
    for (const [k, v] of Object.entries(x.regs)) registers.push([k, v]);
  }
  const history: HistoryRow[] = [];
  let total = 0;
  for (const mb of r.mailboxes) {
    total += mb.entryCount;
    for (const e of mb.entries) {
      const target = targetOf(e.line);
      const m = target !== undefined ? messageOf(target) : undefined;
      history.push({
        index: e.index,
        timestamp: e.timestamp,
        dir: e.dir,
        ep: e.ep,
        endpoint: m?.endpoint ?? '',
        msg: e.msg,
        kind: m?.kind ?? '',
        summary: m?.summary ?? '',
        target,
      });
    }
  }
  const view: CrashInput = {
    lane,
    source: 'kernel log',
    title: `${who} crashed`,
    facts,
    registers,
    messages: r.messages.map((m) => `(id=${m.id}) ${m.text}`),
    history,
    historyTotal: total,
    tasks: undefined,
    stack: [],
    notes: r.truncated ? [...r.notes, 'the dump was larger than the record keeps'] : r.notes,
  };
  if (r.t !== undefined) view.t = r.t;
  if (r.time !== undefined) view.time = r.time;
  return view;
}

// ---------------------------------------------------------------------------------------------
// Live crash events: CrashlogJson is untrusted JSON from the wire; every value is checked.

type J = unknown;
const obj = (v: J): Record<string, J> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, J>) : undefined;
const arr = (v: J): J[] => (Array.isArray(v) ? v : []);
const str = (v: J): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
const num = (v: J): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;

const MAX_LIVE_HISTORY = 4096;
const MAX_TASKS = 1024;

export interface LiveCrashEvent {
  lane: string;
  coproc: string;
  t?: number;
  msg?: string;
  report?: CrashlogJson | undefined;
  problem?: string | undefined;
}

/**
 * A crash event of a live session. `findTarget(ep, msg, dir, before)` returns the id of the
 * latest matching message with an id below `before` (history entries are matched newest first,
 * each before the previous match), or undefined.
 */
export function crashFromFeed(
  e: LiveCrashEvent,
  findTarget: (
    ep: number,
    msg: string,
    dir: Direction | null,
    before: number,
  ) => number | undefined,
  before: number,
): CrashInput {
  const facts: [string, string][] = [];
  const registers: [string, string][] = [];
  const messages: string[] = [];
  const notes: string[] = [];
  const stack: string[] = [];
  let tasks: TaskRow[] | undefined;
  const entries: { index: number; ep: number; msg: string; timestamp: string; dir: Direction }[] =
    [];
  let total = 0;
  if (e.msg !== undefined) facts.push(['Notification', e.msg]);
  if (e.problem !== undefined) notes.push(`no crash log: ${e.problem}`);
  const report = obj(e.report);
  if (report !== undefined) {
    const h = obj(report['header']);
    if (h !== undefined) {
      const size = num(h['totalSize']);
      const version = num(h['version']);
      if (size !== undefined) {
        facts.push([
          'Buffer',
          `${size} bytes${version !== undefined ? `, format 0x${version.toString(16)}` : ''}`,
        ]);
      }
    }
    for (const raw of arr(report['sections'])) {
      const s = obj(raw);
      if (s === undefined) continue;
      switch (s['kind']) {
        case 'Cver': {
          const rt = obj(s['rtkit']);
          facts.push([
            'Version',
            rt !== undefined
              ? `RTKit ${str(rt['rtkitVersion'])} (${str(rt['build'])})`
              : (str(s['version']) ?? '?'),
          ]);
          if (rt !== undefined && str(rt['client']) !== undefined) {
            facts.push(['Client', str(rt['client'])!]);
          }
          break;
        }
        case 'Ctim':
          facts.push(['Crash time', str(s['time']) ?? '?']);
          break;
        case 'Cstr':
          for (const l of arr(s['lines'])) {
            const t = str(l);
            if (t !== undefined) messages.push(`(id=${str(s['id']) ?? '?'}) ${t}`);
          }
          break;
        case 'Crg8': {
          facts.push([
            'Exception',
            `taken from ${str(s['el']) ?? '?'}: ${str(s['esrClassName']) ?? '?'} (ESR ${str(s['esr'])})`,
          ]);
          for (const k of ['pc', 'sp', 'psr', 'esr', 'far', 'farPhysical'] as const) {
            const v = str(s[k]);
            if (v !== undefined) registers.push([k, v]);
          }
          arr(s['regs']).forEach((v, i) => {
            const t = str(v);
            if (t !== undefined && i < 64) registers.push([`x${i}`, t]);
          });
          break;
        }
        case 'CrgA': {
          for (const k of ['psr', 'fsr', 'far'] as const) {
            const v = str(s[k]);
            if (v !== undefined) registers.push([k, v]);
          }
          arr(s['regs']).forEach((v, i) => {
            const t = str(v);
            if (t !== undefined && i < 64) registers.push([`r${i}`, t]);
          });
          break;
        }
        case 'Cmbx':
          for (const x of arr(s['entries'])) {
            const en = obj(x);
            if (en === undefined) continue;
            total++;
            const ep = num(en['ep']);
            const msg = str(en['msg']);
            const dir = en['dir'];
            if (
              entries.length < MAX_LIVE_HISTORY &&
              ep !== undefined &&
              Number.isInteger(ep) &&
              ep >= 0 &&
              ep <= 0xff &&
              msg !== undefined &&
              (dir === 'ap->iop' || dir === 'iop->ap')
            ) {
              entries.push({
                index: num(en['index']) ?? entries.length,
                ep,
                msg,
                timestamp: str(en['timestamp']) ?? '',
                dir,
              });
            }
          }
          break;
        case 'Crtk':
          tasks ??= [];
          for (const x of arr(s['tasks'])) {
            const t = obj(x);
            if (t === undefined || tasks.length >= MAX_TASKS) continue;
            tasks.push({
              id: num(t['id']) ?? -1,
              name: str(t['name']) ?? '',
              faulting: t['faulting'] === true,
              priority: `${str(t['priority']) ?? '?'}/${str(t['effectivePriority']) ?? '?'}`,
              state: str(t['state']) ?? '?',
              stack: `${str(t['stackUsed']) ?? '?'} of ${str(t['stackSize']) ?? '?'}`,
              frames: arr(t['frames']).flatMap((f) => (typeof f === 'string' ? [f] : [])),
            });
          }
          break;
        case 'Ccst':
          for (const f of arr(s['frames'])) {
            const t = str(f);
            if (t !== undefined) stack.push(t);
          }
          break;
        default:
          break;
      }
    }
    for (const w of arr(report['warnings'])) {
      const t = str(w);
      if (t !== undefined) notes.push(t);
    }
  }
  // Newest entry first: each match must lie before the previous one, so a repeated word (an
  // ack sent a hundred times) links to the occurrence the history actually refers to.
  const history: HistoryRow[] = new Array(entries.length);
  let limit = before;
  for (let i = entries.length - 1; i >= 0; i--) {
    const en = entries[i]!;
    const word = parseHex64(en.msg);
    const rec =
      word !== undefined
        ? messageRecord(en.ep, en.dir, word.hi, word.lo, { coproc: e.coproc })
        : undefined;
    const target = word !== undefined ? findTarget(en.ep, rec!.msg, en.dir, limit) : undefined;
    if (target !== undefined) limit = target;
    history[i] = {
      index: en.index,
      timestamp: en.timestamp,
      dir: en.dir,
      ep: en.ep,
      endpoint: rec?.endpoint ?? '',
      msg: rec?.msg ?? en.msg,
      kind: rec?.kind ?? '',
      summary: rec?.summary ?? 'not a 64-bit word',
      target,
    };
  }
  const view: CrashInput = {
    lane: e.lane,
    source: 'crashlog buffer',
    title: `${e.coproc.toUpperCase()} crashed`,
    facts,
    registers,
    messages,
    history,
    historyTotal: total,
    tasks,
    stack,
    notes,
  };
  if (e.t !== undefined) view.t = e.t;
  return view;
}
