/**
 * The side panes: the selected message's detail, the crash report, the per-co-processor state
 * and the syslog list. Field positions come from the codec's own declarations (`variantOf`), so
 * the pane shows the bit ranges the decoder used, not a copy of them.
 */

import {
  type BitField,
  describePowerState,
  endpointName,
  variantOf,
} from '../src/protocol/index.js';
import type { CrashView } from './crash.js';
import { factTable, h, hex2, timeText } from './dom.js';
import { laneLabel } from './sequence.js';
import { type LaneState, laneKeyOf, type SyslogEntry, type ViewerStore } from './store.js';
import { VirtualList } from './vlist.js';

const DIR_TEXT = { 'ap->iop': 'AP → IOP', 'iop->ap': 'IOP → AP' } as const;

function bitsText(f: BitField | undefined): string {
  if (f === undefined) return '';
  return f.hi === f.lo ? `[${f.hi}]` : `[${f.hi}:${f.lo}]`;
}

/** Detail pane: every field of one message record, with its bit range and the raw word. */
export function renderDetail(el: HTMLElement, store: ViewerStore, id: number | undefined): void {
  const m = id !== undefined ? store.message(id) : undefined;
  if (m === undefined || id === undefined) {
    el.replaceChildren(h('p', { class: 'hint' }, 'Click an arrow (or use ↑ ↓) to see its fields.'));
    return;
  }
  const v = variantOf(m.kind);
  const lane = laneKeyOf(m);
  const coproc = store.lanes.find((l) => l.key === lane)?.coproc;
  const who =
    m.device !== undefined ? `${laneLabel(lane, coproc)} (${m.device})` : laneLabel(lane, coproc);
  const hi = m.msg.slice(2, 10);
  const lo = m.msg.slice(10);
  const facts: [string, string][] = [
    ['Kind', v !== undefined ? `${m.kind} — ${v.title}` : m.kind],
    ['Raw word', m.msg],
    ['Endpoint', `${m.endpoint} (${hex2(m.ep)})`],
    ['Direction', m.dir === null ? 'unknown' : DIR_TEXT[m.dir]],
    ['Co-processor', who],
    ['Time', timeText(m)],
  ];
  if (m.time !== undefined && m.t !== undefined) facts.push(['Wall clock', m.time]);
  const more: [string, string][] = [
    ['Message', `#${id}${m.seq !== undefined ? ` (seq ${m.seq})` : ''}`],
    ['Halves', `hi 0x${hi}  lo 0x${lo}`],
    ['Origin', `${m.origin}, line ${m.line}`],
  ];
  if (m.note !== undefined) more.push(['Note', m.note]);
  if (m.source !== undefined) more.push(['Linux said', m.source]);
  const fieldSpecs = (v?.fields ?? {}) as Record<string, BitField>;
  const fields = h(
    'table',
    { class: 'fields' },
    h('tr', null, h('th', null, 'field'), h('th', null, 'bits'), h('th', null, 'value')),
  );
  for (const [name, value] of Object.entries(m.fields)) {
    fields.append(
      h(
        'tr',
        { 'data-field': name },
        h('td', null, name),
        h('td', { class: 'bits' }, bitsText(fieldSpecs[name])),
        h('td', { class: 'val' }, String(value)),
      ),
    );
  }
  const parts: Node[] = [
    h('p', { class: 'summary' }, m.summary),
    factTable(facts),
    h('h3', null, 'Fields'),
    Object.keys(m.fields).length > 0 ? fields : h('p', { class: 'hint' }, 'no fields'),
  ];
  if (v !== undefined) parts.push(h('p', { class: 'doc' }, v.doc));
  parts.push(factTable(more));
  if (m.notes !== undefined) {
    parts.push(
      h(
        'div',
        { class: 'notes' },
        h('h3', null, 'Notes'),
        ...m.notes.map((n) => h('p', { class: 'note' }, `${n.code}: ${n.message}`)),
      ),
    );
  }
  el.replaceChildren(...parts);
}

export interface CrashPaneEvents {
  select: (id: number) => void;
  openCrash: (crash: number) => void;
}

/** Crash report: facts, registers, messages, mailbox history (linked), task table. */
export function renderCrash(
  el: HTMLElement,
  store: ViewerStore,
  current: number | undefined,
  on: CrashPaneEvents,
): void {
  const crashes = store.crashes;
  const c = current !== undefined ? crashes[current] : undefined;
  if (c === undefined) {
    el.replaceChildren(h('p', { class: 'hint' }, 'No crash in this session.'));
    return;
  }
  const parts: Node[] = [];
  if (crashes.length > 1) {
    const sel = h('select', { class: 'crash-pick', 'aria-label': 'crash' });
    for (const x of crashes) {
      sel.append(
        h(
          'option',
          { value: x.id, selected: x.id === c.id },
          `${x.id + 1}. ${x.title} ${timeText(x)}`,
        ),
      );
    }
    sel.addEventListener('change', () => on.openCrash(Number(sel.value)));
    parts.push(sel);
  }
  parts.push(
    h(
      'p',
      { class: 'crash-title' },
      `${c.title} `,
      h('span', { class: 'src' }, `from a ${c.source}${timeText(c) ? `, ${timeText(c)}` : ''}`),
    ),
  );
  if (c.facts.length > 0) parts.push(factTable(c.facts));
  parts.push(h('h3', null, 'Registers'));
  parts.push(
    c.registers.length > 0
      ? h(
          'div',
          { class: 'regs' },
          ...c.registers.map(([k, v]) => h('span', { class: 'reg' }, h('b', null, k), ` ${v}`)),
        )
      : h('p', { class: 'hint' }, 'no register dump in this input'),
  );
  if (c.stack.length > 0) {
    parts.push(h('h3', null, 'Call stack'), h('p', { class: 'mono' }, c.stack.join('  ')));
  }
  if (c.messages.length > 0) {
    parts.push(h('h3', null, 'Messages'), ...c.messages.map((t) => h('p', { class: 'mono' }, t)));
  }
  parts.push(historyTable(c, on));
  parts.push(h('h3', null, 'Tasks'));
  parts.push(taskTable(c));
  if (c.notes.length > 0) {
    parts.push(h('h3', null, 'Notes'), ...c.notes.map((t) => h('p', { class: 'note' }, t)));
  }
  el.replaceChildren(...parts);
}

function historyTable(c: CrashView, on: CrashPaneEvents): Node {
  const wrap = h('div', { class: 'history' });
  const more =
    c.historyTotal > c.history.length ? ` (${c.historyTotal} seen, ${c.history.length} kept)` : '';
  wrap.append(h('h3', null, `Mailbox history: ${c.history.length} entries${more}`));
  if (c.history.length === 0) {
    wrap.append(h('p', { class: 'hint' }, 'no mailbox history in this input'));
    return wrap;
  }
  const t = h(
    'table',
    { class: 'hist' },
    h(
      'tr',
      null,
      h('th', null, '#'),
      h('th', null, 'timestamp'),
      h('th', null, 'dir'),
      h('th', null, 'endpoint'),
      h('th', null, 'message'),
    ),
  );
  for (const e of c.history) {
    const tr = h(
      'tr',
      {
        class: e.target !== undefined ? 'linked' : 'unlinked',
        'data-target': e.target,
        title: e.target !== undefined ? 'show this message in the diagram' : 'not in the diagram',
      },
      h('td', null, String(e.index)),
      h('td', { class: 'mono' }, e.timestamp),
      h('td', null, e.dir === 'ap->iop' ? '→' : e.dir === 'iop->ap' ? '←' : '·'),
      h('td', { title: hex2(e.ep) }, e.endpoint || endpointName(e.ep)),
      h('td', null, h('span', { class: 'mono' }, e.msg), ' ', e.summary),
    );
    if (e.target !== undefined) {
      const target = e.target;
      tr.addEventListener('click', () => on.select(target));
    }
    t.append(tr);
  }
  wrap.append(t);
  return wrap;
}

function taskTable(c: CrashView): Node {
  if (c.tasks === undefined) {
    return h(
      'p',
      { class: 'hint' },
      c.source === 'kernel log'
        ? 'No task table: Linux does not print the crash log’s task list (Crtk).'
        : 'No task list (Crtk) in this crash log.',
    );
  }
  const t = h(
    'table',
    { class: 'tasks' },
    h(
      'tr',
      null,
      h('th', null, 'id'),
      h('th', null, 'name'),
      h('th', null, 'prio'),
      h('th', null, 'state'),
      h('th', null, 'stack'),
      h('th', null, 'frames'),
    ),
  );
  for (const x of c.tasks) {
    t.append(
      h(
        'tr',
        { class: x.faulting ? 'faulting' : undefined },
        h('td', null, String(x.id)),
        h('td', null, x.faulting ? `${x.name} (faulting)` : x.name),
        h('td', null, x.priority),
        h('td', null, x.state),
        h('td', { class: 'mono' }, x.stack),
        h('td', { class: 'mono' }, x.frames.join(' ')),
      ),
    );
  }
  return t;
}

/** One card per co-processor: the live state when a session sends it, else what the messages show. */
export function renderState(el: HTMLElement, store: ViewerStore): void {
  const cards: Node[] = [];
  for (const lane of store.lanes) {
    const s = store.states.get(lane.key);
    cards.push(stateCard(laneLabel(lane.key, lane.coproc), lane.device, s));
  }
  el.replaceChildren(
    ...(cards.length > 0 ? cards : [h('p', { class: 'hint' }, 'No co-processor yet.')]),
  );
}

function power(v: number | string | null | undefined): string {
  if (v === null || v === undefined) return '—';
  const n = typeof v === 'number' ? v : Number.parseInt(v, 16);
  return Number.isFinite(n) ? describePowerState(n) : String(v);
}

function epList(eps: Iterable<number>): string {
  const xs = [...eps].sort((a, b) => a - b);
  return xs.length > 0 ? xs.map((e) => `${endpointName(e)} (${hex2(e)})`).join(', ') : '—';
}

function stateCard(title: string, device: string | undefined, s: LaneState | undefined): Node {
  const card = h('div', { class: 'card', 'data-lane': title });
  card.append(
    h('h3', null, title, device !== undefined ? h('span', { class: 'src' }, ` ${device}`) : null),
  );
  const live = s?.live;
  if (live !== undefined) {
    const st = live.state;
    const flags = [
      st.crashed ? 'crashed' : null,
      st.poweredOff ? 'powered off' : null,
      st.running ? 'running' : null,
    ].filter((x): x is string => x !== null);
    card.append(
      factTable([
        ['Status', `${flags.join(', ') || 'stopped'} (handshake ${st.handshake})`],
        ['Version', st.version !== null ? String(st.version) : '—'],
        ['IOP power', power(st.iopPower)],
        ['AP power', power(st.apPower)],
        ['Endpoints', epList(st.endpoints)],
        ['Started', epList(st.started)],
        ['Last change', `${live.reason} at ${live.t.toFixed(6)}`],
      ]),
    );
    if (st.buffers.length > 0) {
      const t = h(
        'table',
        { class: 'buffers' },
        h(
          'tr',
          null,
          h('th', null, 'buffer'),
          h('th', null, 'mode'),
          h('th', null, 'IOVA'),
          h('th', null, 'size'),
        ),
      );
      for (const b of st.buffers) {
        t.append(
          h(
            'tr',
            null,
            h('td', null, `${b.endpoint} (${hex2(b.ep)})`),
            h('td', null, b.mode),
            h('td', { class: 'mono' }, b.iova),
            h('td', { class: 'mono' }, `0x${b.size.toString(16)}`),
          ),
        );
      }
      card.append(t);
    } else card.append(h('p', { class: 'hint' }, 'no buffers'));
    return card;
  }
  const inf = s?.inferred;
  if (inf === undefined) {
    card.append(h('p', { class: 'hint' }, 'nothing known'));
    return card;
  }
  card.append(
    factTable([
      ['Status', inf.crashed ? 'crashed' : 'from the messages'],
      ['Version', inf.version !== undefined ? String(inf.version) : '—'],
      ['IOP power', power(inf.iopPower)],
      ['AP power', power(inf.apPower)],
      ['Endpoints seen', epList(inf.endpoints)],
      ...(inf.started.size > 0 ? [['Started', epList(inf.started)] as [string, string]] : []),
    ]),
  );
  if (inf.buffers.size > 0) {
    const t = h(
      'table',
      { class: 'buffers' },
      h('tr', null, h('th', null, 'buffer'), h('th', null, 'last word')),
    );
    for (const [ep, b] of inf.buffers) {
      t.append(
        h('tr', null, h('td', null, `${endpointName(ep)} (${hex2(ep)})`), h('td', null, b.summary)),
      );
    }
    card.append(t);
  }
  return card;
}

/** The syslog pane: a virtualized list (a live session can log thousands of lines). */
export class SyslogPane {
  readonly list: VirtualList;

  constructor(
    scroller: HTMLElement,
    private readonly store: ViewerStore,
  ) {
    this.list = new VirtualList({
      scroller,
      rowHeight: 20,
      create: () =>
        h(
          'div',
          { class: 'slog' },
          h('span', { class: 't' }),
          h('span', { class: 'who' }),
          h('span', { class: 'ctx' }),
          h('span', { class: 'm' }),
        ),
      bind: (el, i) => this.bind(el, i),
    });
  }

  private bind(el: HTMLElement, i: number): void {
    const e: SyslogEntry | undefined = this.store.syslog[i];
    if (e === undefined) return;
    const [t, who, ctx, m] = el.children as unknown as HTMLElement[];
    t!.textContent = timeText(e);
    const coproc = this.store.lanes.find((l) => l.key === e.lane)?.coproc;
    who!.textContent = laneLabel(e.lane, coproc);
    ctx!.textContent = e.context;
    m!.textContent = e.message;
    el.title = `${e.context}: ${e.message}`;
  }

  refresh(): void {
    const n = this.store.syslog.length;
    const follow = this.list.atEnd();
    this.list.setCount(n);
    // Trimming the oldest lines shifts every index: re-bind on every change.
    this.list.invalidate();
    if (follow && n > 0) this.list.scrollToIndex(n - 1, 'end');
    else this.list.render();
  }
}
