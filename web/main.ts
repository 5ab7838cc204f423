/**
 * The rtkit web viewer: wires the store, the inputs (files, the server's live feed, a device over
 * Web Serial) and the panes. Served by `rtkit ui [FILE]` and by the demo (src/viewer/server.ts);
 * docs/viewer.md describes it.
 *
 * ```
 *  file / drop / /api/file ──► TraceDecoder (src/trace) ──┐
 *  /api/feed (SSE) ──► LiveIngest ──► TraceDecoder ───────┼──► ViewerStore ──► diagram, detail,
 *  Web Serial (m1n1) ──► FeedEvents ──► LiveIngest ───────┘                    filters, state,
 *                                                                              syslog, crash
 * ```
 *
 * Tests and the bench read `window.__rtkitViewer` (see ViewerHooks).
 */

import { COPROCS } from '../src/protocol/index.js';
import { byId, h } from './dom.js';
import { FilterPanel } from './filters.js';
import { LiveIngest, type LoadStats, loadBytes } from './ingest.js';
import { renderCrash, renderDetail, renderState, SyslogPane } from './panels.js';
import { SequenceDiagram } from './sequence.js';
import { DevicePanel, webSerial } from './serial.js';
import { type Filter, ViewerStore } from './store.js';

export interface LoadResult extends LoadStats {
  /** Binding the first screen of rows after decoding. */
  renderMs: number;
  /** From the bytes being available to the frame after the first full render. */
  totalMs: number;
}

export interface ViewerHooks {
  ready: boolean;
  readonly messageCount: number;
  readonly visibleCount: number;
  readonly syslogCount: number;
  readonly crashCount: number;
  /**
   * The crash the Crash report pane shows (an index into the crashes), or undefined while it
   * shows none. `crashCount` counts what was ingested; the pane draws it on the next frame.
   */
  readonly crashShown: number | undefined;
  readonly warningCount: number;
  /** Milliseconds the diagram's last render took. */
  readonly lastRenderMs: number;
  readonly loading: boolean;
  readonly live: string;
  lastLoad: LoadResult | null;
  readonly selected: number | undefined;
  readonly errors: string[];
  selectMessage(id: number): void;
  openCrash(i: number): void;
  /** Visible row of a message id, or −1. */
  rowOf(id: number): number;
  /** Row elements currently in the DOM (the virtualization keeps this small). */
  drawnRows(): number;
  loadText(name: string, text: string): Promise<LoadResult | undefined>;
  setFilter(f: { lanes?: string[]; eps?: number[]; kinds?: string[] }): void;
}

const store = new ViewerStore();
const live = new LiveIngest(store);
let selected: number | undefined;
let crashShown: number | undefined;
let loading = false;
let loadToken = 0;
let liveStatus = 'off';
let source = '';
let lastFile: { name: string; bytes: Uint8Array } | undefined;
let eventSource: EventSource | undefined;
const errors: string[] = [];

const seqRoot = byId('seq');
const seq = new SequenceDiagram(seqRoot, store, {
  select: (id) => select(id, false),
  openCrash: (i) => openCrash(i, false),
});
const filters = new FilterPanel(
  { lanes: byId('f-lanes'), eps: byId('f-eps'), kinds: byId('f-kinds') },
  store,
  () => {
    update(true);
  },
);
const syslogPane = new SyslogPane(byId('syslog-list'), store);
const detailEl = byId('detail-body');
const crashEl = byId('crash-body');
const stateEl = byId('state-body');
const statusEl = byId('status');
const timingEl = byId('timing');
const sourceEl = byId('source');
const emptyEl = byId('empty');

// ---------------------------------------------------------------------------------------------
// Rendering, at most once per frame.

let lastVersion = -1;
let lastCrashes = 0;
let stateAt = 0;
let framePending = false;

function schedule(): void {
  if (framePending) return;
  framePending = true;
  requestAnimationFrame(() => {
    framePending = false;
    update(false);
  });
}

function update(force: boolean): void {
  if (!force && store.version === lastVersion) return;
  lastVersion = store.version;
  const follow = liveStatus !== 'off' && !loading && seq.list.atEnd();
  seq.refresh(follow);
  filters.refresh();
  syslogPane.refresh();
  if (store.crashes.length !== lastCrashes) {
    lastCrashes = store.crashes.length;
    // A new crash is the most important thing on screen.
    crashShown = store.crashes.length > 0 ? store.crashes.length - 1 : undefined;
    drawCrash();
  }
  drawState(force);
  // The hint stays until something is open (a file, even one without messages, or a session).
  emptyEl.hidden = loading || source !== '' || store.visibleCount > 0;
  drawStatus();
}

/** The state panel is rebuilt at most every STATE_MS, and always once after the last change. */
const STATE_MS = 250;
let stateTimer: ReturnType<typeof setTimeout> | undefined;

function drawState(force: boolean): void {
  const now = performance.now();
  if (force || now - stateAt >= STATE_MS) {
    stateAt = now;
    if (stateTimer !== undefined) clearTimeout(stateTimer);
    stateTimer = undefined;
    renderState(stateEl, store);
  } else if (stateTimer === undefined) {
    stateTimer = setTimeout(
      () => {
        stateTimer = undefined;
        drawState(true);
      },
      STATE_MS - (now - stateAt),
    );
  }
}

function drawStatus(): void {
  const parts = [
    `${store.messageCount.toLocaleString('en')} messages`,
    `${store.visibleCount.toLocaleString('en')} rows shown`,
    `${store.syslog.length.toLocaleString('en')} syslog`,
  ];
  if (store.crashes.length > 0) parts.push(`${store.crashes.length} crash`);
  if (store.warningCount > 0) parts.push(`${store.warningCount} warnings`);
  if (store.dropped > 0) parts.push(`${store.dropped.toLocaleString('en')} oldest dropped`);
  if (loading) parts.push('loading…');
  statusEl.textContent = parts.join(' · ');
  timingEl.textContent =
    api.lastLoad !== null && !loading ? `loaded in ${Math.round(api.lastLoad.totalMs)} ms` : '';
  sourceEl.textContent = liveStatus !== 'off' ? `${source} (live: ${liveStatus})` : source;
}

function drawCrash(): void {
  document.body.classList.toggle('has-crash', crashShown !== undefined);
  renderCrash(crashEl, store, crashShown, {
    select: (id) => select(id, true),
    openCrash: (i) => openCrash(i, true),
  });
}

function select(id: number, scroll: boolean): void {
  if (store.message(id) === undefined) return;
  selected = id;
  renderDetail(detailEl, store, id);
  seq.setSelected(id, scroll);
  for (const tr of crashEl.querySelectorAll('tr.sel')) tr.classList.remove('sel');
  for (const tr of crashEl.querySelectorAll(`tr[data-target="${id}"]`)) tr.classList.add('sel');
}

function openCrash(i: number, scrollDiagram: boolean): void {
  if (store.crashes[i] === undefined) return;
  crashShown = i;
  drawCrash();
  const mark = store.crashes[i]!.mark;
  if (scrollDiagram && mark >= 0) {
    const row = store.rowOf(-1 - mark);
    if (row >= 0) seq.list.scrollToIndex(row, 'center');
  }
  byId('crash').scrollIntoView({ block: 'nearest' });
}

function resetView(): void {
  store.reset();
  selected = undefined;
  crashShown = undefined;
  lastCrashes = 0;
  seq.selected = undefined;
  renderDetail(detailEl, store, undefined);
  drawCrash();
}

const nextFrame = (): Promise<void> => new Promise((ok) => requestAnimationFrame(() => ok()));

// ---------------------------------------------------------------------------------------------
// Offline files.

function profile(): string | undefined {
  const v = byId<HTMLSelectElement>('profile').value;
  return v === '' ? undefined : v;
}

async function loadFile(name: string, bytes: Uint8Array): Promise<LoadResult | undefined> {
  const t0 = performance.now();
  const token = ++loadToken;
  lastFile = { name, bytes };
  api.lastLoad = null;
  resetView();
  loading = true;
  source = name;
  update(true);
  let stats: LoadStats;
  try {
    stats = await loadBytes(store, name, bytes, {
      ...(profile() !== undefined ? { coproc: profile()! } : {}),
      onSlice: schedule,
      cancelled: () => token !== loadToken,
    });
  } catch (e) {
    loading = false;
    const msg = e instanceof Error ? e.message : String(e);
    source = `${name}: ${msg}`;
    update(true);
    return undefined;
  }
  if (token !== loadToken) return undefined;
  loading = false;
  const r0 = performance.now();
  update(true);
  const renderMs = performance.now() - r0;
  await nextFrame();
  const result: LoadResult = { ...stats, renderMs, totalMs: performance.now() - t0 };
  api.lastLoad = result;
  source = `${name} (${stats.format ?? 'empty'}, ${(bytes.length / 1024).toFixed(0)} KiB)`;
  drawStatus();
  return result;
}

async function openUserFile(file: File): Promise<void> {
  // A file the user opens replaces the live view; "live" in the header brings it back.
  closeLive();
  await loadFile(file.name, new Uint8Array(await file.arrayBuffer()));
}

const fileInput = byId<HTMLInputElement>('file-input');
fileInput.addEventListener('change', () => {
  const f = fileInput.files?.[0];
  if (f !== undefined) void openUserFile(f);
  fileInput.value = '';
});
byId('open').addEventListener('click', () => fileInput.click());

const profileSel = byId<HTMLSelectElement>('profile');
for (const c of COPROCS) profileSel.append(h('option', { value: c }, c));
profileSel.addEventListener('change', () => {
  if (lastFile !== undefined && liveStatus === 'off') void loadFile(lastFile.name, lastFile.bytes);
});

let dragDepth = 0;
document.addEventListener('dragenter', (ev) => {
  ev.preventDefault();
  dragDepth++;
  document.body.classList.add('dragging');
});
document.addEventListener('dragleave', () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) document.body.classList.remove('dragging');
});
document.addEventListener('dragover', (ev) => ev.preventDefault());
document.addEventListener('drop', (ev) => {
  ev.preventDefault();
  dragDepth = 0;
  document.body.classList.remove('dragging');
  const f = ev.dataTransfer?.files[0];
  if (f !== undefined) void openUserFile(f);
});

// ---------------------------------------------------------------------------------------------
// Live feed (server-sent events from src/viewer/server.ts).

let liveSession: string | undefined;

function connectLive(): void {
  closeLive();
  const es = new EventSource('/api/feed');
  eventSource = es;
  liveStatus = 'connecting';
  byId('live').hidden = true;
  es.addEventListener('hello', (ev) => {
    let d: { session?: unknown; resumed?: unknown };
    try {
      d = JSON.parse((ev as MessageEvent<string>).data) as typeof d;
    } catch {
      return;
    }
    // Not a continuation of what we hold (a restarted session or server): start over.
    if (d.resumed !== true && liveSession !== undefined) {
      resetView();
      live.reset();
    }
    liveSession = typeof d.session === 'string' ? d.session : '';
    liveStatus = 'connected';
    source = 'live session';
    schedule();
  });
  es.onmessage = (ev: MessageEvent<string>) => {
    let list: unknown;
    try {
      list = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (!Array.isArray(list)) return;
    live.events(list);
    schedule();
  };
  es.addEventListener('overflow', () => {
    liveStatus = 'too slow, reconnecting';
    schedule();
  });
  es.onerror = () => {
    liveStatus = es.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting';
    schedule();
  };
}

function closeLive(): void {
  if (eventSource === undefined) return;
  eventSource.close();
  eventSource = undefined;
  liveStatus = 'off';
  byId('live').hidden = !serverHasLive;
}

let serverHasLive = false;
byId('live').addEventListener('click', () => {
  resetView();
  live.reset();
  liveSession = undefined;
  connectLive();
});

// ---------------------------------------------------------------------------------------------
// A device over Web Serial.

if (webSerial() !== undefined) {
  const btn = byId<HTMLButtonElement>('serial');
  btn.hidden = false;
  new DevicePanel(byId('device'), btn, {
    publish: (events) => {
      // A device session replaces whatever was shown (a file, the server's feed); a second
      // connection continues the same view.
      if (liveStatus !== 'device') {
        closeLive();
        resetView();
        live.reset();
        liveStatus = 'device';
      }
      live.events(events);
      schedule();
    },
    status: (text) => {
      source = text;
      drawStatus();
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Hooks for tests and the bench.

const api: ViewerHooks = {
  ready: false,
  get messageCount() {
    return store.messageCount;
  },
  get visibleCount() {
    return store.visibleCount;
  },
  get syslogCount() {
    return store.syslog.length;
  },
  get crashCount() {
    return store.crashes.length;
  },
  get crashShown() {
    return crashShown;
  },
  get warningCount() {
    return store.warningCount;
  },
  get lastRenderMs() {
    return seq.list.lastRenderMs;
  },
  get loading() {
    return loading;
  },
  get live() {
    return liveStatus;
  },
  lastLoad: null,
  get selected() {
    return selected;
  },
  errors,
  selectMessage: (id) => select(id, true),
  openCrash: (i) => openCrash(i, true),
  rowOf: (id) => store.rowOf(id),
  drawnRows: () => seq.list.drawn,
  loadText: (name, text) => {
    closeLive();
    return loadFile(name, new TextEncoder().encode(text));
  },
  setFilter: (f) => {
    const x: Partial<Filter> = {};
    if (f.lanes !== undefined) x.lanes = new Set(f.lanes);
    if (f.eps !== undefined) x.eps = new Set(f.eps);
    if (f.kinds !== undefined) x.kinds = new Set(f.kinds);
    store.setFilter(x);
    filters.refresh();
    update(true);
  },
};
(window as unknown as { __rtkitViewer: ViewerHooks }).__rtkitViewer = api;

window.addEventListener('error', (ev) => errors.push(String(ev.message)));
window.addEventListener('unhandledrejection', (ev) => errors.push(String(ev.reason)));

// ---------------------------------------------------------------------------------------------
// Start: what the server offers (a file given to `rtkit ui`, a live feed).

async function start(): Promise<void> {
  renderDetail(detailEl, store, undefined);
  drawCrash();
  update(true);
  let info: { live?: unknown; file?: { name?: unknown } | null } = {};
  try {
    const r = await fetch('/api/info');
    if (r.ok) info = (await r.json()) as typeof info;
  } catch {
    // Opened without the server (a saved page): files only.
  }
  if (info.file) {
    const r = await fetch('/api/file');
    if (r.ok) {
      const header = r.headers.get('X-File-Name');
      let name = typeof info.file.name === 'string' ? info.file.name : 'file';
      if (header !== null) {
        try {
          name = decodeURIComponent(header);
        } catch {
          // keep the name from /api/info
        }
      }
      await loadFile(name, new Uint8Array(await r.arrayBuffer()));
    }
  }
  serverHasLive = info.live === true;
  if (serverHasLive) connectLive();
  api.ready = true;
  document.body.dataset['ready'] = 'true';
}

void start();
