// A generated 100,000-message trace in real Chromium: it loads, only the visible rows are drawn,
// it scrolls end to end without errors, and filtering and selection still work. Timings and
// frame counts are measured and written to reports/viewer-perf.json, never asserted.
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildViewer,
  generateTrace,
  launchChromium,
  measureScroll,
  openFile,
  openViewer,
  type ScrollStats,
  sessionMessages,
  type ViewerLoad,
  type ViewerPage,
} from '../../src/bench/viewer.js';
import { FeedHub } from '../../src/viewer/feed.js';
import { startViewerServer, type ViewerServer } from '../../src/viewer/server.js';

const N = 100_000;
const REPORTS = new URL('../../reports/', import.meta.url).pathname;

let browser: Browser;
let web: Awaited<ReturnType<typeof buildViewer>>;
let server: ViewerServer;
let vp: ViewerPage;
const perf: {
  load?: ViewerLoad;
  sweep?: ScrollStats;
  wheel?: ScrollStats;
  filterMs?: number;
  live?: { events: number; publishMs: number; lagMs: number };
} = {};

beforeAll(async () => {
  [browser, web] = await Promise.all([launchChromium(), buildViewer()]);
  server = await startViewerServer({ webRoot: web.dir });
  vp = await openViewer(browser, server.url);
}, 60_000);

afterAll(async () => {
  mkdirSync(REPORTS, { recursive: true });
  writeFileSync(`${REPORTS}viewer-perf.json`, `${JSON.stringify(perf, null, 2)}\n`);
  await server?.close();
  await browser?.close();
  await web?.dispose();
});

describe('100,000 messages', () => {
  it('loads; only the visible rows are drawn', async () => {
    const text = generateTrace(N);
    const load = await openFile(vp, 'big.jsonl', text);
    perf.load = load;
    console.info(
      `viewer: ${N} messages (${(load.bytes / 2 ** 20).toFixed(1)} MiB) loaded and drawn in ${load.totalMs.toFixed(0)} ms (decode ${load.decodeMs.toFixed(0)} ms, first render ${load.renderMs.toFixed(1)} ms)`,
    );
    expect(load).toMatchObject({ format: 'jsonl', messages: N });
    const v = await vp.page.evaluate(() => ({
      count: window.__rtkitViewer!.messageCount,
      visible: window.__rtkitViewer!.visibleCount,
      drawn: window.__rtkitViewer!.drawnRows(),
      warnings: window.__rtkitViewer!.warningCount,
    }));
    expect(v).toMatchObject({ count: N, visible: N, warnings: 0 });
    expect(v.drawn).toBeGreaterThan(10);
    expect(v.drawn).toBeLessThan(80);
    expect(vp.errors).toEqual([]);
  });

  it('scrolls end to end, drawing the right rows, without errors', async () => {
    const { page } = vp;
    perf.sweep = await measureScroll(page, 'sweep');
    // At the end the last message is on screen.
    await page.locator(`.seq .row.msg[data-id="${N - 1}"]`).waitFor();
    perf.wheel = await measureScroll(page, 'wheel');
    for (const [k, s] of Object.entries({ sweep: perf.sweep, wheel: perf.wheel })) {
      console.info(
        `viewer: scroll ${k}: ${s.frames} frames at ${s.intervalMs.toFixed(1)} ms, ${s.dropped} dropped, p95 ${s.p95Ms.toFixed(1)} ms, worst ${s.worstMs.toFixed(1)} ms, rows re-bound in ${s.renderMeanMs.toFixed(2)} ms on average, at most ${s.maxDrawnRows} rows drawn`,
      );
      expect(s.frames).toBe(120);
      expect(s.maxDrawnRows).toBeLessThan(80);
    }
    // The rows drawn are the rows at the scroll position.
    const check = await page.evaluate(() => {
      const s = document.getElementById('seq')!;
      s.scrollTop = 50_000 * 24;
      s.dispatchEvent(new Event('scroll'));
      const ids = [...s.querySelectorAll<HTMLElement>('.row.msg')].map((r) =>
        Number(r.dataset['id']),
      );
      return { min: Math.min(...ids), max: Math.max(...ids) };
    });
    expect(check.min).toBeLessThanOrEqual(50_000);
    expect(check.max).toBeGreaterThanOrEqual(50_010);
    expect(check.max - check.min).toBeLessThan(80);
    expect(vp.errors).toEqual([]);
  });

  it('filters and selects at this size', async () => {
    const { page } = vp;
    const ep0 = sessionMessages(N).filter((m) => m.ep === 0).length;
    const t0 = Date.now();
    await page.locator('#f-eps input[value="0"]').uncheck();
    await page.waitForFunction((n) => window.__rtkitViewer!.visibleCount === n, N - ep0);
    perf.filterMs = Date.now() - t0;
    await page.locator('#f-eps input[value="0"]').check();
    await page.waitForFunction((n) => window.__rtkitViewer!.visibleCount === n, N);
    await page.evaluate(() => window.__rtkitViewer!.selectMessage(77_777));
    await page.locator('.seq .row.msg.sel[data-id="77777"]').waitFor();
    await page.locator('#seq').press('End');
    expect(await page.evaluate(() => window.__rtkitViewer!.selected)).toBe(N - 1);
    expect(await page.locator('#detail-body').textContent()).toContain(`#${N - 1} (seq ${N - 1})`);
    expect(vp.errors).toEqual([]);
  });
});

describe('a live feed at 10,000 messages per second', () => {
  it('keeps up: every message arrives, decoded, in order', async () => {
    const hub = new FeedHub();
    const live = await startViewerServer({ hub, webRoot: web.dir });
    try {
      const p = await openViewer(browser, live.url);
      await p.page.waitForFunction(() => window.__rtkitViewer!.live === 'connected');
      const msgs = sessionMessages(20_000, 2);
      const t0 = Date.now();
      for (let i = 0; i < msgs.length; i += 200) {
        for (const m of msgs.slice(i, i + 200)) hub.publish(m);
        await new Promise((ok) => setTimeout(ok, 20));
      }
      const t1 = Date.now();
      await p.page.waitForFunction((n) => window.__rtkitViewer!.messageCount === n, msgs.length, {
        timeout: 30_000,
      });
      perf.live = { events: msgs.length, publishMs: t1 - t0, lagMs: Date.now() - t1 };
      console.info(
        `viewer: live: ${msgs.length} messages published in ${t1 - t0} ms, all shown ${Date.now() - t1} ms after the last`,
      );
      const last = await p.page.evaluate(() => window.__rtkitViewer!.selectMessage(19_999));
      expect(last).toBeUndefined();
      expect(await p.page.locator('#detail-body').textContent()).toContain('(seq 19999)');
      expect(await p.page.evaluate(() => window.__rtkitViewer!.warningCount)).toBe(0);
      expect(p.errors).toEqual([]);
      await p.page.close();
    } finally {
      await live.close();
    }
  });
});
