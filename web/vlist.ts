/**
 * A virtualized list: a native scroll container whose content is one tall spacer and a small pool
 * of row elements that are re-bound to whatever rows are in view. Only the visible rows (plus a
 * few above and below) exist in the DOM, whatever the row count, so 100,000 or 1,000,000 rows
 * scroll the same.
 *
 * Browsers cap an element's height (Chromium near 2^25 px), so past MAX_SCROLL_PX the scroll
 * position is mapped proportionally onto the rows instead of one pixel per pixel.
 */

export const MAX_SCROLL_PX = 8_000_000;

export interface VirtualListOptions {
  /** The scroll container (overflow: auto). */
  scroller: HTMLElement;
  /** A sticky header inside the scroller, above the rows (its height is excluded). */
  header?: HTMLElement;
  rowHeight: number;
  create: () => HTMLElement;
  /** Fill `el` with row `index`. */
  bind: (el: HTMLElement, index: number) => void;
  /** Rows drawn beyond each edge of the view. */
  overscan?: number;
}

export class VirtualList {
  private readonly body: HTMLDivElement;
  private readonly pool: HTMLDivElement;
  private readonly rows: HTMLElement[] = [];
  /** Per slot: the row index bound, the data version it was bound at, its y offset. */
  private bound: number[] = [];
  private boundVersion: number[] = [];
  private ypos: number[] = [];
  /** Slots in use (= rows in the DOM); row `index` lives in slot `index % slots`. */
  private slots = 0;
  private count = 0;
  private dataVersion = 0;
  private readonly overscan: number;
  /** Milliseconds the last render took (binding rows, not the browser's paint). */
  lastRenderMs = 0;

  constructor(private readonly o: VirtualListOptions) {
    this.overscan = o.overscan ?? 6;
    this.body = document.createElement('div');
    this.body.className = 'vl-body';
    this.body.style.position = 'relative';
    this.pool = document.createElement('div');
    this.pool.className = 'vl-pool';
    this.pool.style.position = 'absolute';
    this.pool.style.left = '0';
    this.pool.style.right = '0';
    this.pool.style.top = '0';
    this.body.append(this.pool);
    o.scroller.append(this.body);
    o.scroller.addEventListener('scroll', () => this.render(), { passive: true });
    new ResizeObserver(() => this.render()).observe(o.scroller);
  }

  get length(): number {
    return this.count;
  }

  get poolElement(): HTMLElement {
    return this.pool;
  }

  /** Row elements in the DOM. */
  get drawn(): number {
    return this.slots;
  }

  private viewHeight(): number {
    return Math.max(0, this.o.scroller.clientHeight - (this.o.header?.offsetHeight ?? 0));
  }

  private get spacerHeight(): number {
    return Math.min(this.count * this.o.rowHeight, MAX_SCROLL_PX);
  }

  /** Position (in row pixels) of the top of the view. */
  private virtualTop(scrollTop: number, view: number): number {
    const total = this.count * this.o.rowHeight;
    const h = this.spacerHeight;
    const top = Math.min(scrollTop, Math.max(0, h - view));
    if (h === total || h <= view) return top;
    return (top / (h - view)) * (total - view);
  }

  setCount(n: number): void {
    if (n === this.count) return;
    this.count = n;
    this.body.style.height = `${this.spacerHeight}px`;
  }

  /** The rows' content changed: re-bind every visible row at the next render. */
  invalidate(): void {
    this.dataVersion++;
  }

  render(): void {
    const t0 = performance.now();
    // Every layout read happens here, before any write: no forced reflow while binding.
    const scrollTop = this.o.scroller.scrollTop;
    const view = this.viewHeight();
    const rh = this.o.rowHeight;
    const vtop = this.virtualTop(scrollTop, view);
    const scaled = this.spacerHeight !== this.count * rh;
    const first = Math.max(0, Math.floor(vtop / rh) - this.overscan);
    const want = Math.min(
      Math.max(0, this.count - first),
      Math.ceil(view / rh) + 2 * this.overscan + 1,
    );
    if (want !== this.slots) this.resize(want);
    for (let index = first; index < first + want; index++) {
      const slot = index % want;
      const el = this.rows[slot]!;
      // Rows that stay in view keep their slot and content: scrolling binds only new rows.
      if (this.bound[slot] !== index || this.boundVersion[slot] !== this.dataVersion) {
        this.o.bind(el, index);
        this.bound[slot] = index;
        this.boundVersion[slot] = this.dataVersion;
      }
      const y = scaled ? scrollTop + (index * rh - vtop) : index * rh;
      if (this.ypos[slot] !== y) {
        el.style.transform = `translateY(${y}px)`;
        this.ypos[slot] = y;
      }
    }
    this.lastRenderMs = performance.now() - t0;
  }

  private resize(want: number): void {
    const rh = this.o.rowHeight;
    while (this.rows.length < want) {
      const el = this.o.create();
      const st = el.style;
      st.position = 'absolute';
      st.left = '0';
      st.right = '0';
      st.top = '0';
      st.height = `${rh}px`;
      this.rows.push(el);
    }
    // Rows beyond the view leave the DOM (kept for reuse): what is in the DOM is what is drawn.
    for (let i = want; i < this.slots; i++) this.rows[i]!.remove();
    for (let i = this.slots; i < want; i++) this.pool.append(this.rows[i]!);
    this.slots = want;
    this.bound = new Array(want).fill(-1);
    this.boundVersion = new Array(want).fill(-1);
    this.ypos = new Array(want).fill(-1);
  }

  /** The row index under a pool child element, or −1. */
  indexOf(el: HTMLElement): number {
    const i = this.rows.indexOf(el);
    return i < 0 || i >= this.slots ? -1 : (this.bound[i] ?? -1);
  }

  /** The row element showing `index`, if drawn. */
  elementAt(index: number): HTMLElement | undefined {
    if (this.slots === 0) return undefined;
    const slot = index % this.slots;
    return this.bound[slot] === index ? this.rows[slot] : undefined;
  }

  /** Whether the last row is in view (a live list then follows new rows). */
  atEnd(): boolean {
    const s = this.o.scroller;
    return s.scrollTop + s.clientHeight >= s.scrollHeight - this.o.rowHeight;
  }

  scrollToIndex(index: number, align: 'nearest' | 'center' | 'end' = 'nearest'): void {
    if (this.count === 0) return;
    index = Math.max(0, Math.min(this.count - 1, index));
    const rh = this.o.rowHeight;
    const view = this.viewHeight();
    const total = this.count * rh;
    const h = this.spacerHeight;
    const vtop = this.virtualTop(this.o.scroller.scrollTop, view);
    let target: number;
    if (align === 'end') target = total - view;
    else if (align === 'center') target = index * rh - (view - rh) / 2;
    else if (index * rh < vtop) target = index * rh;
    else if ((index + 1) * rh > vtop + view) target = (index + 1) * rh - view;
    else {
      this.render();
      return;
    }
    target = Math.max(0, Math.min(total - view, target));
    const scrollTop =
      h === total || total <= view ? target : (target / (total - view)) * (h - view);
    this.o.scroller.scrollTop = scrollTop;
    this.render();
  }
}
