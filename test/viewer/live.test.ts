// The viewer in real Chromium, fed live by a scripted session over server-sent events: the page
// loads, arrows appear as events are published, an arrow's decoded fields, the endpoint filter,
// the state panel, the syslog pane and a crash report whose history links back to the arrows.
import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionMessages, type ViewerPage } from '../../src/bench/viewer.js';
import { buildCrashlog, crashlogToJson, parseCrashlog } from '../../src/crashlog/index.js';
import type { FeedCoprocState, FeedEvent, FeedHub, FeedMessage } from '../../src/viewer/feed.js';
import type { ViewerServer } from '../../src/viewer/server.js';
import { type LiveViewer, startLiveViewer } from './live-rig.js';

const SHOTS = new URL('../../docs/screenshots/', import.meta.url).pathname;

let browser: Browser;
let server: ViewerServer;
let hub: FeedHub;
let vp: ViewerPage;

const MESSAGES = sessionMessages(120, 4);

function state(t: number, reason: string, over: Partial<FeedCoprocState>): FeedEvent {
  return {
    type: 'state',
    t,
    coproc: 'smc',
    reason,
    state: {
      iopPower: null,
      apPower: null,
      version: null,
      handshake: 'none',
      running: false,
      crashed: false,
      poweredOff: false,
      endpoints: [],
      started: [],
      buffers: [],
      ...over,
    },
  };
}

const BOOTED: Partial<FeedCoprocState> = {
  iopPower: 0x20,
  apPower: 0x20,
  version: 12,
  handshake: 'done',
  running: true,
  endpoints: [0, 1, 2, 3, 4, 0x20],
  started: [1, 2, 0x20],
  buffers: [
    { ep: 1, endpoint: 'crashlog', mode: 'iommu', iova: '0x9f0000', size: 0x4000 },
    { ep: 2, endpoint: 'syslog', mode: 'iommu', iova: '0x9f8000', size: 0x2000 },
  ],
};

/** The session in steps: each step is published, then the page is checked. */
function steps(): FeedEvent[][] {
  const m = MESSAGES;
  return [
    [{ type: 'phase', t: 0, text: 'boot SMC and DCP' }, state(0, 'boot', {}), ...m.slice(0, 20)],
    [...m.slice(20, 40), state(0.005, 'iop-ack', BOOTED)],
    [
      { type: 'syslog', t: 0.0051, coproc: 'smc', context: 'smc.c:210', message: 'SMC ready' },
      { type: 'syslog', t: 0.0052, coproc: 'dcp', context: 'dcp.cpp:77', message: '\tpanel on' },
      { type: 'phase', t: 0.0053, text: 'SMC: read keys; DCP: swap frames' },
      ...m.slice(40, 80),
    ],
    [...m.slice(80, 120)],
  ];
}

function crashEvent(): FeedEvent {
  const smc = MESSAGES.filter((x) => x.coproc === 'smc').slice(-4);
  const r = parseCrashlog(
    buildCrashlog({
      sections: [
        { kind: 'Cver', version: 'RTKit-2092.0.0.release - Client: smc' },
        { kind: 'Ctim', time: 0x5c1600e7n },
        { kind: 'Cstr', id: 0, text: 'ASSERT: rtk_smc.c:411\n' },
        {
          kind: 'Cmbx',
          entries: smc.map((x, i) => ({
            ep: x.ep,
            msg: BigInt(x.msg),
            timestamp: BigInt(0x1d396650 + i * 0x100),
            dir: x.dir,
          })),
        },
        {
          kind: 'Crg8',
          pc: 0x17eaf0n,
          sp: 0x3f00n,
          psr: 0x600012c5n,
          esr: 0xbe000000,
          far: 0n,
          regs: Array.from({ length: 31 }, (_, i) => BigInt(i * 0x11)),
        },
        {
          kind: 'Crtk',
          tasks: [
            { id: 1, name: 'idle', priority: 0, stackSize: 0x1000n, stackUsed: 0x80n },
            { id: 5, name: 'smc-main', faulting: true, priority: 31, frames: [0x17eaf0n] },
          ],
        },
      ],
    }),
  );
  if (!r.ok) throw r.error;
  return {
    type: 'crash',
    t: 0.02,
    coproc: 'smc',
    msg: '0x0010000000000000',
    report: crashlogToJson(r.report),
  };
}

let rig: LiveViewer | undefined;

beforeAll(async () => {
  rig = await startLiveViewer();
  ({ browser, hub, server, vp } = rig);
}, 60_000);

afterAll(() => rig?.close());

const count = (): Promise<number> => vp.page.evaluate(() => window.__rtkitViewer!.messageCount);

describe('live viewer', () => {
  it('loads, and arrows appear as the session runs', async () => {
    const { page } = vp;
    expect(await page.title()).toBe('rtkit viewer');
    await page.waitForFunction(() => window.__rtkitViewer!.live === 'connected');
    expect(await count()).toBe(0);
    let published = 0;
    for (const step of steps()) {
      for (const e of step) hub.publish(e);
      published += step.filter((e) => e.type === 'message').length;
      await page.waitForFunction((n) => window.__rtkitViewer!.messageCount === n, published);
      // Drawn arrows: the newest message of the step is on screen (the live view follows).
      const last = published - 1;
      await page.locator(`.seq .row.msg[data-id="${last}"] .arrow`).waitFor();
    }
    expect(await count()).toBe(120);
    const lanes = await page.locator('.seq-head .lane').allTextContents();
    expect(lanes).toEqual(['AP', 'SMC', 'DCP']);
    // Only the rows in view are in the DOM.
    expect(await page.evaluate(() => window.__rtkitViewer!.drawnRows())).toBeLessThan(60);
    expect(vp.errors).toEqual([]);
  });

  it('clicking an arrow shows its decoded fields and raw word', async () => {
    const { page } = vp;
    const ack = MESSAGES.findIndex((m) => m.coproc === 'smc' && m.ep === 0 && m.dir === 'ap->iop');
    await page.evaluate((i) => document.getElementById('seq')!.scrollTo(0, i * 24 - 40), ack);
    const row = page.locator(`.seq .row.msg[data-id="${ack}"]`);
    await expect(row.locator('.lbl').textContent()).resolves.toContain('HELLO_ACK');
    await row.locator('.lbl').click();
    await expect(row.getAttribute('class')).resolves.toContain('sel');
    const detail = page.locator('#detail-body');
    await expect(detail.textContent()).resolves.toContain('helloAck — HELLO_ACK');
    const fields = await detail
      .locator('table.fields tr[data-field]')
      .evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    expect(fields).toEqual([
      ['minVersion', '[15:0]', '12'],
      ['maxVersion', '[31:16]', '12'],
    ]);
    await expect(detail.textContent()).resolves.toContain(MESSAGES[ack]!.msg);
    // Keyboard: ↓ selects the next message.
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => window.__rtkitViewer!.selected)).toBe(ack + 1);
  });

  it('the endpoint filter hides exactly the arrows of that endpoint', async () => {
    const { page } = vp;
    const total = await page.evaluate(() => window.__rtkitViewer!.visibleCount);
    const ep0 = MESSAGES.filter((m) => m.ep === 0).length;
    const box = page.locator('#f-eps input[value="0"]');
    await expect(box.isChecked()).resolves.toBe(true);
    await box.uncheck();
    await page.waitForFunction((n) => window.__rtkitViewer!.visibleCount === n, total - ep0);
    await page.evaluate(() => document.getElementById('seq')!.scrollTo(0, 0));
    expect(await page.locator('.seq .row.msg[data-ep="0"]').count()).toBe(0);
    expect(await page.locator('.seq .row.msg[data-ep="32"]').count()).toBeGreaterThan(0);
    // Other filters: a kind, a co-processor.
    await page.locator('#f-lanes input[value="dcp"]').uncheck();
    expect(await page.locator('.seq-head .lane').allTextContents()).toEqual(['AP', 'SMC']);
    expect(await page.locator('.seq .row.msg[data-ep="55"]').count()).toBe(0);
    await page.locator('#f-lanes input[value="dcp"]').check();
    await box.check();
    await page.waitForFunction((n) => window.__rtkitViewer!.visibleCount === n, total);
  });

  it('state panel, syslog pane, and a crash report linked to the arrows', async () => {
    const { page } = vp;
    const card = page.locator('#state-body .card[data-lane="SMC"]');
    const text = await card.textContent();
    expect(text).toContain('running');
    expect(text).toContain('ON (0x20)');
    expect(text).toContain('syslog (0x02)');
    const bufs = await card
      .locator('table.buffers tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    expect(bufs).toEqual([
      ['buffer', 'mode', 'IOVA', 'size'],
      ['crashlog (0x01)', 'iommu', '0x9f0000', '0x4000'],
      ['syslog (0x02)', 'iommu', '0x9f8000', '0x2000'],
    ]);
    const syslog = await page.locator('#syslog-list .slog').allTextContents();
    expect(syslog.join('\n')).toContain('smc.c:210SMC ready');
    hub.publish(crashEvent());
    await page.waitForFunction(
      () => window.__rtkitViewer!.crashCount === 1 && window.__rtkitViewer!.crashShown === 0,
    );
    const crash = page.locator('#crash-body');
    await expect(crash.textContent()).resolves.toContain('SMC crashed');
    expect(await crash.textContent()).toContain('RTKit 2092.0.0 (release)');
    expect(await crash.locator('.tasks tr.faulting').textContent()).toContain(
      'smc-main (faulting)',
    );
    const rows = crash.locator('table.hist tr.linked');
    expect(await rows.count()).toBe(4);
    const lastSmc = MESSAGES.filter((m) => m.coproc === 'smc').at(-1) as FeedMessage;
    await rows.last().click();
    expect(await page.evaluate(() => window.__rtkitViewer!.selected)).toBe(lastSmc.seq);
    await page.locator(`.seq .row.msg.sel[data-id="${lastSmc.seq}"]`).waitFor();
    expect(await page.locator('.seq .row.mark.crash').count()).toBe(1);
    expect(vp.errors).toEqual([]);
  });

  it('saves the screenshot (docs/screenshots/viewer-live.png)', async () => {
    const { page } = vp;
    const read = MESSAGES.find(
      (m) => m.coproc === 'smc' && m.ep === 0x20 && m.dir === 'ap->iop' && m.seq > 60,
    )!;
    await page.evaluate((id) => window.__rtkitViewer!.selectMessage(id), read.seq);
    await page.evaluate(() => {
      document.getElementById('crash-body')!.scrollTo(0, 0);
      document.getElementById('detail-body')!.scrollTo(0, 0);
    });
    await page.mouse.move(0, 0);
    // Let the state panel's throttled redraw (250 ms) settle: the same pixels every run.
    await page.waitForTimeout(400);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({
      path: `${SHOTS}viewer-live.png`,
      mask: [page.locator('#timing')],
      maskColor: '#ffffff',
    });
    expect(vp.errors).toEqual([]);
  });
});

describe('other inputs of a live page', () => {
  it('a file replaces the live view; "Back to live" replays the session', async () => {
    const { page } = vp;
    await page.setInputFiles('#file-input', {
      name: 'one.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('0 0x00100000000c000b\n'),
    });
    await page.waitForFunction(() => window.__rtkitViewer!.lastLoad?.name === 'one.txt');
    expect(await page.evaluate(() => window.__rtkitViewer!.live)).toBe('off');
    expect(await page.evaluate(() => window.__rtkitViewer!.messageCount)).toBe(1);
    await page.locator('#live').click();
    await page.waitForFunction(() => window.__rtkitViewer!.messageCount === 120);
    await page.waitForFunction(() => window.__rtkitViewer!.crashCount === 1);
    expect(await page.evaluate(() => window.__rtkitViewer!.live)).toBe('connected');
    expect(vp.errors).toEqual([]);
  });

  it('Web Serial: the device button asks for a port and reports one it cannot open', async () => {
    // A stand-in for navigator.serial: headless Chromium would wait for a port chooser forever.
    const page = await browser.newPage();
    await page.addInitScript(() => {
      const port = { open: async () => {}, close: async () => {}, readable: null, writable: null };
      Object.defineProperty(navigator, 'serial', {
        configurable: true,
        value: { requestPort: async () => port },
      });
    });
    await page.goto(server.url);
    await page.waitForFunction(() => window.__rtkitViewer?.ready === true);
    const btn = page.locator('#serial');
    expect(await btn.textContent()).toBe('Connect m1n1 device');
    await btn.click();
    await page.waitForFunction(() =>
      document.getElementById('source')!.textContent!.includes('cannot open the serial port'),
    );
    expect(await page.locator('#device').getAttribute('data-phase')).toBe('idle');
    expect(await btn.isEnabled()).toBe(true);
    await page.close();
  });
});
