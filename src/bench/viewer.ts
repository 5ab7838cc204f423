/**
 * The web viewer in real Chromium: the harness the browser tests (test/viewer/) and this bench
 * suite share, and the suite itself. Figures: time to load and render a generated
 * 100,000-message trace (`viewer.load-100k`), and frame statistics while scrolling through it.
 *
 * Chromium is Debian's (`/usr/bin/chromium`, or RTKIT_CHROMIUM), driven by playwright-core. The
 * app is bundled from web/ by scripts/build-web.mjs into a temporary directory, so tests always
 * run the current source.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import {
  type Direction,
  encodeWords,
  fourccToU32,
  hex64,
  type Message,
} from '../protocol/index.js';
import { formatTraceEntry, formatTraceHeader } from '../trace/jsonl.js';
import type { FeedEvent, FeedMessage } from '../viewer/feed.js';
import { startViewerServer, type ViewerServer } from '../viewer/server.js';
import type { BenchResult } from './result.js';

export const CHROMIUM = process.env['RTKIT_CHROMIUM'] ?? '/usr/bin/chromium';

const ROOT = new URL('../../', import.meta.url);

/** Bundle web/ into a fresh temporary directory; `dispose` removes it. */
export async function buildViewer(): Promise<{ dir: string; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'rtkit-web-'));
  const script = pathToFileURL(join(ROOT.pathname, 'scripts', 'build-web.mjs')).href;
  const mod = (await import(script)) as {
    buildWeb: (o: { outdir: string; sourcemap?: boolean }) => Promise<{ outdir: string }>;
  };
  await mod.buildWeb({ outdir: dir, sourcemap: false });
  return { dir, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** Launch headless Chromium; a clear error when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  const { existsSync } = await import('node:fs');
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install chromium; .ci/run does) or set RTKIT_CHROMIUM`,
    );
  }
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
      // Whole tiles are re-rastered: a screenshot's pixels then do not depend on which parts
      // of the page were redrawn last (partial raster left anti-aliasing differences).
      '--disable-partial-raster',
    ],
  });
}

export interface ViewerPage {
  page: Page;
  /** Console errors and uncaught exceptions of the page. */
  errors: string[];
}

/** Open the viewer at `url` in a fresh page of a fixed size and wait until it is ready. */
export async function openViewer(browser: Browser, url: string): Promise<ViewerPage> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => window.__rtkitViewer?.ready === true, null, { timeout: 20_000 });
  return { page, errors };
}

declare global {
  interface Window {
    __rtkitViewer?: {
      ready: boolean;
      messageCount: number;
      visibleCount: number;
      syslogCount: number;
      crashCount: number;
      /** The crash the pane shows (drawn on the next frame after it arrives). */
      crashShown: number | undefined;
      warningCount: number;
      lastRenderMs: number;
      loading: boolean;
      live: string;
      lastLoad: ViewerLoad | null;
      selected: number | undefined;
      errors: string[];
      selectMessage(id: number): void;
      openCrash(i: number): void;
      rowOf(id: number): number;
      drawnRows(): number;
      setFilter(f: { lanes?: string[]; eps?: number[]; kinds?: string[] }): void;
    };
  }
}

/** What the page reports after a load (web/main.ts LoadResult). */
export interface ViewerLoad {
  name: string;
  bytes: number;
  format: string | undefined;
  messages: number;
  records: number;
  decodeMs: number;
  elapsedMs: number;
  renderMs: number;
  totalMs: number;
}

/** Open a file through the page's file input (as a person would) and wait for the load. */
export async function openFile(
  vp: ViewerPage,
  name: string,
  bytes: Uint8Array | string,
): Promise<ViewerLoad> {
  const buffer = Buffer.from(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes);
  await vp.page.setInputFiles('#file-input', { name, mimeType: 'text/plain', buffer });
  await vp.page.waitForFunction(
    (n) => window.__rtkitViewer?.lastLoad?.name === n && !window.__rtkitViewer.loading,
    name,
    { timeout: 30_000 },
  );
  return (await vp.page.evaluate(() => window.__rtkitViewer!.lastLoad))!;
}

export interface ScrollStats {
  frames: number;
  /** Frames that took longer than one frame interval: Σ (round(dt / interval) − 1). */
  dropped: number;
  /** The frame interval (median of the measured intervals), ms. */
  intervalMs: number;
  worstMs: number;
  p95Ms: number;
  /** Mean time the diagram spent re-binding rows per frame. */
  renderMeanMs: number;
  renderWorstMs: number;
  /** Largest number of row elements in the DOM during the scroll. */
  maxDrawnRows: number;
}

/**
 * Scroll the diagram by script, one step per animation frame, and measure the frames:
 * `sweep` crosses the whole trace in `frames` frames (every frame shows new rows), `wheel`
 * moves `rowsPerFrame` rows per frame from the middle (a steady wheel or drag).
 */
export async function measureScroll(
  page: Page,
  mode: 'sweep' | 'wheel',
  frames = 120,
  rowsPerFrame = 3,
): Promise<ScrollStats> {
  const raw = await page.evaluate(
    ({ mode, frames, rowsPerFrame }) =>
      new Promise<{ times: number[]; renders: number[]; drawn: number }>((ok) => {
        const s = document.getElementById('seq')!;
        const v = window.__rtkitViewer!;
        const max = s.scrollHeight - s.clientHeight;
        const start = mode === 'sweep' ? 0 : Math.floor(max / 2);
        s.scrollTop = start;
        const times: number[] = [];
        const renders: number[] = [];
        let drawn = 0;
        let i = 0;
        const step = (ts: number): void => {
          times.push(ts);
          renders.push(v.lastRenderMs);
          drawn = Math.max(drawn, v.drawnRows());
          if (i >= frames) {
            ok({ times, renders, drawn });
            return;
          }
          i++;
          s.scrollTop =
            mode === 'sweep' ? Math.round((max * i) / frames) : start + i * rowsPerFrame * 24;
          requestAnimationFrame(step);
        };
        requestAnimationFrame(() => requestAnimationFrame(step));
      }),
    { mode, frames, rowsPerFrame },
  );
  const dts: number[] = [];
  for (let i = 1; i < raw.times.length; i++) dts.push(raw.times[i]! - raw.times[i - 1]!);
  const sorted = [...dts].sort((a, b) => a - b);
  const interval = Math.max(1, sorted[Math.floor(sorted.length / 2)] ?? 16.7);
  let dropped = 0;
  for (const dt of dts) dropped += Math.max(0, Math.round(dt / interval) - 1);
  const renders = raw.renders.slice(1);
  return {
    frames: dts.length,
    dropped,
    intervalMs: interval,
    worstMs: sorted[sorted.length - 1] ?? 0,
    p95Ms: sorted[Math.floor(sorted.length * 0.95)] ?? 0,
    renderMeanMs: renders.reduce((a, b) => a + b, 0) / Math.max(1, renders.length),
    renderWorstMs: Math.max(0, ...renders),
    maxDrawnRows: raw.drawn,
  };
}

// ---------------------------------------------------------------------------------------------
// Deterministic sessions: the same traffic as a feed (live tests) or as a JSON-lines trace.

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x1_0000_0000;
  };
}

type Step = [string, Direction, number, Message];

const KEYS = ['#KEY', 'TB0T', 'B0AV', 'PSTR', 'AC-W', 'CHLS', 'BUIC', 'NTAP'].map(fourccToU32);

/** Boot of one co-processor: HELLO, version, EPMAP, STARTEP, buffers, power on. */
export function bootSteps(coproc: string, appEp: number): Step[] {
  return [
    [coproc, 'iop->ap', 0, { kind: 'hello', minVersion: 11, maxVersion: 12 }],
    [coproc, 'ap->iop', 0, { kind: 'helloAck', minVersion: 12, maxVersion: 12 }],
    [coproc, 'iop->ap', 0, { kind: 'epmap', bitmap: 0x1e, base: 0, last: false }],
    [coproc, 'ap->iop', 0, { kind: 'epmapReply', base: 0, last: false, more: true }],
    [coproc, 'iop->ap', 0, { kind: 'epmap', bitmap: 1 << (appEp - 32), base: 1, last: true }],
    [coproc, 'ap->iop', 0, { kind: 'epmapReply', base: 1, last: true, more: false }],
    [coproc, 'ap->iop', 0, { kind: 'startEndpoint', endpoint: 1 }],
    [coproc, 'ap->iop', 0, { kind: 'startEndpoint', endpoint: 2 }],
    [coproc, 'ap->iop', 0, { kind: 'startEndpoint', endpoint: appEp }],
    [coproc, 'iop->ap', 1, { kind: 'crashlogBufferRequest', size: 4, iova: 0 }],
    [coproc, 'ap->iop', 1, { kind: 'crashlogBufferReply', size: 4, iova: 0x9f0000 }],
    [coproc, 'iop->ap', 2, { kind: 'syslogBufferRequest', size: 2, iova: 0 }],
    [coproc, 'ap->iop', 2, { kind: 'syslogBufferReply', size: 2, iova: 0x9f8000 }],
    [coproc, 'ap->iop', 0, { kind: 'setIopPowerState', state: 0x220 }],
    [coproc, 'iop->ap', 0, { kind: 'iopPowerStateAck', state: 0x20 }],
    [coproc, 'ap->iop', 0, { kind: 'setApPowerState', state: 0x20 }],
    [coproc, 'iop->ap', 0, { kind: 'apPowerStateAck', state: 0x20 }],
  ] as Step[];
}

/** Steady traffic: SMC key reads, DCP IOMFB calls, syslog entries, pings. */
function trafficStep(r: () => number, n: number): Step[] {
  const x = r();
  if (x < 0.4) {
    const id = n & 15;
    const key = KEYS[Math.floor(r() * KEYS.length)]!;
    return [
      ['smc', 'ap->iop', 0x20, { kind: 'smcReadKey', id, size: 4, wsize: 0, key }],
      [
        'smc',
        'iop->ap',
        0x20,
        { kind: 'smcReply', result: 0, id, size: 4, value: Math.floor(r() * 0xffffffff) },
      ],
    ] as Step[];
  }
  if (x < 0.75) {
    const length = 0x10 + Math.floor(r() * 0x800);
    return [
      ['dcp', 'ap->iop', 0x37, { kind: 'iomfbMessage', ack: false, context: 2, offset: 0, length }],
      [
        'dcp',
        'iop->ap',
        0x37,
        { kind: 'iomfbMessage', ack: true, context: 2, offset: 0, length: 0 },
      ],
    ] as Step[];
  }
  if (x < 0.95) {
    const c = r() < 0.5 ? 'smc' : 'dcp';
    const index = n & 63;
    return [
      [c, 'iop->ap', 2, { kind: 'syslogLog', index }],
      [c, 'ap->iop', 2, { kind: 'syslogLog', index }],
    ] as Step[];
  }
  const cookie = n & 0xffff;
  return [
    ['dcp', 'ap->iop', 0, { kind: 'ping', cookie, extra: 0 }],
    ['dcp', 'iop->ap', 0, { kind: 'pong', cookie, extra: 0 }],
  ] as Step[];
}

/** `n` message events of a two-co-processor session (SMC and DCP), with fixed times. */
export function sessionMessages(n: number, seed = 1): FeedMessage[] {
  const r = rng(seed);
  const out: FeedMessage[] = [];
  const steps: Step[] = [...bootSteps('smc', 0x20), ...bootSteps('dcp', 0x37)];
  steps.push(['smc', 'ap->iop', 0x20, { kind: 'smcInitialize', id: 0 } as Message] as Step);
  steps.push([
    'smc',
    'iop->ap',
    0x20,
    { kind: 'smcShmemAddress', address: 0x23fe00000 } as Message,
  ] as Step);
  let k = 0;
  while (out.length < n) {
    if (k >= steps.length) {
      steps.length = 0;
      k = 0;
      steps.push(...trafficStep(r, out.length));
    }
    const [coproc, dir, ep, m] = steps[k++]!;
    const [hi, lo] = encodeWords(m);
    const seq = out.length;
    out.push({
      type: 'message',
      t: Math.round(seq * 125 + r() * 50) / 1e6,
      dir,
      coproc,
      ep,
      msg: hex64(hi, lo),
      seq,
    });
  }
  return out;
}

/** A JSON-lines trace of `n` messages (docs/trace-format.md). */
export function generateTrace(n: number, seed = 1): string {
  const lines = [formatTraceHeader({ source: 'rtkit bench', started: '2026-01-01T00:00:00Z' })];
  for (const m of sessionMessages(n, seed)) {
    lines.push(
      formatTraceEntry({ t: m.t, dir: m.dir, coproc: m.coproc, ep: m.ep, msg: m.msg, seq: m.seq }),
    );
  }
  return `${lines.join('\n')}\n`;
}

export type { FeedEvent };

// ---------------------------------------------------------------------------------------------
// The bench suite.

export async function run(): Promise<BenchResult[]> {
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (e) {
    process.stderr.write(`bench: viewer: skipped: ${(e as Error).message}\n`);
    return [];
  }
  const web = await buildViewer();
  let server: ViewerServer | undefined;
  const out: BenchResult[] = [];
  try {
    const n = 100_000;
    const text = generateTrace(n);
    server = await startViewerServer({ webRoot: web.dir });
    const vp = await openViewer(browser, server.url);
    const loads: ViewerLoad[] = [];
    for (let i = 0; i < 3; i++) loads.push(await openFile(vp, `bench-${i}.jsonl`, text));
    const best = loads.reduce((a, b) => (b.totalMs < a.totalMs ? b : a));
    const note = `${n} messages, ${(best.bytes / 2 ** 20).toFixed(1)} MiB JSON lines, best of 3, Chromium ${browser.version()}`;
    out.push({ name: 'viewer.load-100k', value: best.totalMs, unit: 'ms', note });
    out.push({
      name: 'viewer.load-100k.first',
      value: loads[0]!.totalMs,
      unit: 'ms',
      note: `${n} messages, the first load in a fresh page (code not yet optimised by the JIT)`,
    });
    out.push({ name: 'viewer.load-100k.decode', value: best.decodeMs, unit: 'ms', note });
    out.push({ name: 'viewer.load-100k.render', value: best.renderMs, unit: 'ms', note });
    for (const mode of ['sweep', 'wheel'] as const) {
      const s = await measureScroll(vp.page, mode);
      const what = `${s.frames} frames at ${s.intervalMs.toFixed(1)} ms, ${mode === 'sweep' ? 'whole trace' : '3 rows/frame'}`;
      out.push({
        name: `viewer.scroll-${mode}.dropped-frames`,
        value: s.dropped,
        unit: 'frames',
        note: what,
      });
      out.push({ name: `viewer.scroll-${mode}.p95-frame`, value: s.p95Ms, unit: 'ms', note: what });
      out.push({
        name: `viewer.scroll-${mode}.render-mean`,
        value: s.renderMeanMs,
        unit: 'ms',
        note: `${what}, at most ${s.maxDrawnRows} rows drawn`,
      });
    }
    if (vp.errors.length > 0)
      process.stderr.write(`bench: viewer: page errors: ${vp.errors.join('; ')}\n`);
  } finally {
    await server?.close();
    await browser.close();
    await web.dispose();
  }
  return out;
}
