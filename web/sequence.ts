/**
 * The sequence diagram: an AP lane on the left and one lane per co-processor, one row per
 * message with an arrow between the AP and the message's co-processor, labelled with the
 * endpoint and the codec's summary. Marks (phases of a scripted session, crashes, init lines,
 * kernel events) are full-width rows. Rows are virtualized (vlist.ts).
 */

import type { MessageRecord } from '../src/trace/index.js';
import { h, timeText } from './dom.js';
import { laneKeyOf, type Mark, type ViewerStore } from './store.js';
import { VirtualList } from './vlist.js';

export const ROW_HEIGHT = 24;

/** The AP's lane position and the span the co-processor lanes share (percent of the area). */
const AP_X = 5;
const LAST_X = 95;
/** Narrowest label (percent of the area), so that short arrows still show their summary. */
const LABEL_MIN = 72;

export interface SequenceEvents {
  select: (id: number) => void;
  openCrash: (crash: number) => void;
}

interface RowParts {
  time: HTMLSpanElement;
  arrow: HTMLDivElement;
  label: HTMLSpanElement;
}

export function laneLabel(key: string, coproc: string | undefined): string {
  if (key === '') return 'IOP';
  return coproc !== undefined ? coproc.toUpperCase() : key;
}

export class SequenceDiagram {
  readonly list: VirtualList;
  private readonly header: HTMLDivElement;
  private readonly headerLanes: HTMLDivElement;
  private readonly parts = new WeakMap<HTMLElement, RowParts>();
  /** Lane key → x position (percent); rebuilt when lanes or the lane filter change. */
  private laneX = new Map<string, number>();
  private layoutKey = '';
  private readonly lines: HTMLDivElement;
  selected: number | undefined;

  constructor(
    private readonly root: HTMLElement,
    private readonly store: ViewerStore,
    private readonly on: SequenceEvents,
  ) {
    this.headerLanes = h('div', { class: 'area' });
    this.header = h(
      'div',
      { class: 'seq-head' },
      h('span', { class: 't' }, 'time'),
      this.headerLanes,
    );
    root.append(this.header);
    this.lines = h('div', { class: 'lane-lines' });
    root.before(this.lines);
    new ResizeObserver(() => this.fitLines()).observe(root);
    this.list = new VirtualList({
      scroller: root,
      header: this.header,
      rowHeight: ROW_HEIGHT,
      create: () => this.createRow(),
      bind: (el, i) => this.bindRow(el, i),
    });
    this.list.poolElement.addEventListener('click', (ev) => this.click(ev));
    root.addEventListener('keydown', (ev) => this.key(ev));
  }

  private createRow(): HTMLElement {
    const time = h('span', { class: 't' });
    const label = h('span', { class: 'lbl' });
    const arrow = h('div', { class: 'arrow' });
    const el = h(
      'div',
      { class: 'row', role: 'option' },
      time,
      h('div', { class: 'area' }, arrow, label),
    );
    this.parts.set(el, { time, arrow, label });
    return el;
  }

  private bindRow(el: HTMLElement, index: number): void {
    const p = this.parts.get(el)!;
    const code = this.store.visibleRow(index);
    if (code === undefined) return;
    if (code >= 0) {
      const m = this.store.message(code);
      if (m !== undefined) this.bindMessage(el, p, code, m);
    } else {
      const mark = this.store.marks[-1 - code];
      if (mark !== undefined) this.bindMark(el, p, mark);
    }
  }

  private bindMessage(el: HTMLElement, p: RowParts, id: number, m: MessageRecord): void {
    let cls = 'row msg';
    cls += m.dir === 'ap->iop' ? ' tx' : m.dir === 'iop->ap' ? ' rx' : ' nodir';
    if (m.origin === 'mailbox-history') cls += ' hist';
    if (m.kind === 'unknown') cls += ' unk';
    if (m.notes !== undefined) cls += ' noted';
    const sel = id === this.selected;
    if (sel) cls += ' sel';
    el.className = cls;
    el.ariaSelected = sel ? 'true' : 'false';
    el.dataset['id'] = String(id);
    el.dataset['ep'] = String(m.ep);
    el.dataset['kind'] = m.kind;
    p.time.textContent = timeText(m);
    const x = this.laneX.get(laneKeyOf(m)) ?? LAST_X;
    const left = Math.min(AP_X, x);
    const width = Math.abs(x - AP_X);
    const st = p.arrow.style;
    st.left = `${left}%`;
    st.width = `${width}%`;
    // A short arrow's label runs on past its head, over the empty part of the row.
    const lw = Math.max(width, Math.min(LABEL_MIN, 100 - left));
    const ls = p.label.style;
    ls.left = `${left}%`;
    ls.width = `${lw}%`;
    p.label.classList.toggle('long', lw > width);
    const text = `${m.endpoint} · ${m.summary}`;
    p.label.textContent = m.notes !== undefined ? `⚠ ${text}` : text;
    p.label.title = `${m.msg}  ${text}`;
  }

  private bindMark(el: HTMLElement, p: RowParts, mark: Mark): void {
    el.className = `row mark ${mark.kind}`;
    el.ariaSelected = 'false';
    el.dataset['id'] = '';
    el.dataset['ep'] = '';
    el.dataset['kind'] = mark.kind;
    p.time.textContent = timeText(mark);
    const st = p.arrow.style;
    st.left = '0';
    st.width = '100%';
    p.label.style.left = '0';
    p.label.style.width = '100%';
    const lane = mark.lane !== undefined ? laneLabel(mark.lane, this.coprocOf(mark.lane)) : '';
    // A crash's title and a session's phase often name the co-processor already.
    const named = mark.kind === 'crash' || mark.text.startsWith(`${lane}:`);
    const who = lane === '' || named ? '' : `${lane}: `;
    p.label.textContent = `${who}${mark.text}`;
    p.label.title = p.label.textContent;
  }

  private coprocOf(key: string): string | undefined {
    return this.store.lanes.find((l) => l.key === key)?.coproc;
  }

  /** Lane positions: from the lanes present and not hidden by the filter. */
  layout(): void {
    const hidden = this.store.filter.lanes;
    const shown = this.store.lanes.filter((l) => !hidden.has(l.key));
    const key = shown.map((l) => `${l.key}=${l.coproc ?? ''}`).join('\n');
    if (key === this.layoutKey) return;
    this.layoutKey = key;
    this.laneX = new Map();
    const n = shown.length;
    const xs: number[] = [AP_X];
    shown.forEach((l, i) => {
      const x = n === 1 ? LAST_X : AP_X + ((i + 1) * (LAST_X - AP_X)) / n;
      this.laneX.set(l.key, x);
      xs.push(x);
    });
    // Lane lines: drawn once, in a layer behind the scrolling rows (not per row: scrolling
    // then rasters only text and arrows).
    this.lines.replaceChildren(
      ...xs.map((x) => {
        const line = h('div', { class: 'lane-line' });
        line.style.left = `${x}%`;
        return line;
      }),
    );
    this.fitLines();
    const ap = h('span', { class: 'lane ap' }, 'AP');
    ap.style.left = `${AP_X}%`;
    const heads = shown.map((l) => {
      const el = h(
        'span',
        { class: 'lane', title: l.device ?? l.key, 'data-lane': l.key },
        laneLabel(l.key, l.coproc),
      );
      // CSSOM, not a style attribute: the page's CSP allows no inline styles.
      el.style.left = `${this.laneX.get(l.key)}%`;
      return el;
    });
    this.headerLanes.replaceChildren(ap, ...heads);
    this.list.invalidate();
  }

  /** The lines layer covers the rows' lane area: right of the time column, left of the scrollbar. */
  private fitLines(): void {
    const st = this.lines.style;
    st.top = `${this.header.offsetHeight}px`;
    st.left = `${(this.header.firstElementChild as HTMLElement | null)?.offsetWidth ?? 0}px`;
    st.right = `${this.root.offsetWidth - this.root.clientWidth}px`;
  }

  /** After the store changed: new count, lanes, re-bind. */
  refresh(follow: boolean): void {
    this.layout();
    this.list.setCount(this.store.visibleCount);
    this.list.invalidate();
    if (follow) this.list.scrollToIndex(this.store.visibleCount - 1, 'end');
    else this.list.render();
  }

  setSelected(id: number | undefined, scroll: boolean): void {
    this.selected = id;
    this.list.invalidate();
    if (scroll && id !== undefined) {
      const row = this.store.rowOf(id);
      if (row >= 0) {
        this.list.scrollToIndex(row, 'center');
        return;
      }
    }
    this.list.render();
  }

  private click(ev: MouseEvent): void {
    const target = ev.target as HTMLElement;
    const row = target.closest<HTMLElement>('.row');
    if (row === null) return;
    const index = this.list.indexOf(row);
    const code = this.store.visibleRow(index);
    if (code === undefined) return;
    if (code >= 0) this.on.select(code);
    else {
      const crash = this.store.marks[-1 - code]?.crash;
      if (crash !== undefined) this.on.openCrash(crash);
    }
    this.root.focus({ preventScroll: true });
  }

  private key(ev: KeyboardEvent): void {
    const steps: Record<string, number> = {
      ArrowDown: 1,
      ArrowUp: -1,
      PageDown: 20,
      PageUp: -20,
      Home: -Infinity,
      End: Infinity,
    };
    const step = steps[ev.key];
    if (step === undefined) return;
    ev.preventDefault();
    const n = this.store.visibleCount;
    if (n === 0) return;
    const cur = this.selected !== undefined ? this.store.rowOf(this.selected) : -1;
    let i = step === -Infinity ? 0 : step === Infinity ? n - 1 : cur < 0 ? 0 : cur + step;
    i = Math.max(0, Math.min(n - 1, i));
    // Skip marks in the direction of travel.
    const dir = step > 0 ? 1 : -1;
    while (i >= 0 && i < n && (this.store.visibleRow(i) ?? -1) < 0) i += dir;
    if (i < 0 || i >= n) return;
    const code = this.store.visibleRow(i)!;
    this.on.select(code);
    this.list.scrollToIndex(i, 'nearest');
  }
}
