// The real demo session (src/demo, `rtkit demo`) published live into the viewer in Chromium:
// arrows appear while it runs, every event arrives decoded, the crash report's mailbox history
// links to the session's arrows, and the state panel ends where the session ends.
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ViewerPage } from '../../src/bench/viewer.js';
import { runDemo } from '../../src/demo/index.js';
import { decodeTrace } from '../../src/trace/index.js';
import type { FeedHub } from '../../src/viewer/feed.js';
import { type LiveViewer, startLiveViewer } from './live-rig.js';

const SHOTS = new URL('../../docs/screenshots/', import.meta.url).pathname;

let hub: FeedHub;
let vp: ViewerPage;

let rig: LiveViewer | undefined;

beforeAll(async () => {
  rig = await startLiveViewer();
  ({ hub, vp } = rig);
}, 60_000);

afterAll(() => rig?.close());

describe('the demo session, live', () => {
  it('arrows appear as it runs; everything arrives decoded', async () => {
    const { page } = vp;
    await page.waitForFunction(() => window.__rtkitViewer!.live === 'connected');
    // Record, in the page, every message count it shows while the session runs.
    await page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { seen: number[] }).seen = seen;
      const tick = (): void => {
        const n = window.__rtkitViewer!.messageCount;
        if (seen.at(-1) !== n) seen.push(n);
        requestAnimationFrame(tick);
      };
      tick();
    });
    const result = await runDemo({ hub, seed: 1, pace: 'fast' });
    expect(result.ok).toBe(true);
    const events = hub.history();
    const count = (type: string) => events.filter((e) => e.type === type).length;
    await page.waitForFunction((n) => window.__rtkitViewer!.messageCount === n, count('message'), {
      timeout: 30_000,
    });
    const seen = await page.evaluate(() => (window as unknown as { seen: number[] }).seen);
    expect(seen.filter((n) => n > 0 && n < count('message')).length).toBeGreaterThan(0);
    const v = await page.evaluate(() => ({
      syslog: window.__rtkitViewer!.syslogCount,
      crashes: window.__rtkitViewer!.crashCount,
      warnings: window.__rtkitViewer!.warningCount,
    }));
    expect(v).toEqual({ syslog: count('syslog'), crashes: count('crash'), warnings: 0 });
    const lanes = await page.locator('.seq-head .lane').allTextContents();
    expect(lanes).toEqual(['AP', ...result.coprocs.map((c) => c.toUpperCase())]);
    expect(vp.errors).toEqual([]);
  });

  it('the crash report links its whole mailbox history to arrows', async () => {
    const { page } = vp;
    const crash = page.locator('#crash-body');
    await expect(crash.textContent()).resolves.toContain('DCP crashed');
    const linked = await crash.locator('table.hist tr.linked').count();
    expect(linked).toBeGreaterThan(0);
    expect(await crash.locator('table.hist tr.unlinked').count()).toBe(0);
    await crash.locator('table.hist tr.linked').last().click();
    const id = await page.evaluate(() => window.__rtkitViewer!.selected);
    await page.locator(`.seq .row.msg.sel[data-id="${id}"]`).waitFor();
    expect(await page.locator('.seq .row.mark.crash').count()).toBe(1);
  });

  it('saves a screenshot of the session around its crash (docs/screenshots/viewer-demo.png)', async () => {
    const { page } = vp;
    // The same decoder in Node finds the crash notification's arrow.
    const lines = hub
      .history()
      .filter((e) => e.type === 'message')
      .map((e) => JSON.stringify(e))
      .join('\n');
    const id = decodeTrace(lines, { format: 'jsonl' }).findIndex(
      (r) => r.type === 'message' && r.kind === 'crashNotification',
    );
    await page.evaluate((i) => window.__rtkitViewer!.selectMessage(i), id);
    expect(await page.locator('#detail-body').textContent()).toContain('crashNotification');
    expect(id).toBeGreaterThan(0);
    await page.evaluate(() => {
      document.getElementById('crash-body')!.scrollTo(0, 0);
      document.getElementById('detail-body')!.scrollTo(0, 0);
    });
    await page.mouse.move(0, 0);
    // Let the state panel's throttled redraw (250 ms) settle: the same pixels every run.
    await page.waitForTimeout(400);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({
      path: `${SHOTS}viewer-demo.png`,
      mask: [page.locator('#timing')],
      maskColor: '#ffffff',
    });
    expect(vp.errors).toEqual([]);
  });
});
