// The viewer in real Chromium with offline inputs: the DCP crash kernel log through the file
// input (crash report, mailbox history linked to the arrows), drag and drop of a plain list, the
// profile for plain lines, a multi-co-processor boot log, binary input, and `rtkit ui FILE`.
import { mkdirSync, readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildViewer,
  launchChromium,
  openFile,
  openViewer,
  type ViewerPage,
} from '../../src/bench/viewer.js';
import { uiCommand } from '../../src/cli/commands/ui.js';
import type { CliIO } from '../../src/cli/io.js';
import { startViewerServer, type ViewerServer } from '../../src/viewer/server.js';
import { FIXTURES } from '../cli-harness.js';

const SHOTS = new URL('../../docs/screenshots/', import.meta.url).pathname;
const CRASH = 'dmesg-dcp-crash-142.txt';

let browser: Browser;
let web: Awaited<ReturnType<typeof buildViewer>>;
let server: ViewerServer;
let vp: ViewerPage;

beforeAll(async () => {
  [browser, web] = await Promise.all([launchChromium(), buildViewer()]);
  server = await startViewerServer({ webRoot: web.dir });
  vp = await openViewer(browser, server.url);
}, 60_000);

afterAll(async () => {
  await server?.close();
  await browser?.close();
  await web?.dispose();
});

describe('offline viewer', () => {
  it('starts empty, saying what it opens', async () => {
    const { page } = vp;
    expect(await page.locator('#empty').isVisible()).toBe(true);
    expect(await page.locator('#empty').textContent()).toContain('kernel log');
    expect(await page.evaluate(() => window.__rtkitViewer!.live)).toBe('off');
  });

  it('opens the DCP crash log: crash report, registers, mailbox history linked to arrows', async () => {
    const { page } = vp;
    const load = await openFile(vp, CRASH, readFileSync(`${FIXTURES}${CRASH}`));
    expect(load).toMatchObject({ format: 'kernel', messages: 24 });
    expect(await page.locator('#empty').isVisible()).toBe(false);
    const crash = page.locator('#crash-body');
    const text = (await crash.textContent()) ?? '';
    expect(text).toContain('231c00000.dcp crashed');
    expect(text).toContain('RTKit 1827.120.2 (debug)');
    expect(text).toContain('local-ipad14dcp.release');
    expect(text).toContain('1544945895 (0x5c1600e7)');
    expect(text).toContain('SError interrupt');
    expect(await crash.locator('.regs .reg').allTextContents()).toContain('pc 0x17eaf0');
    expect(text).toContain('Mailbox history: 24 entries');
    expect(text).toContain('No task table: Linux does not print');
    const rows = crash.locator('table.hist tr.linked');
    expect(await rows.count()).toBe(24);
    // Entry #029: clicking it selects its arrow, scrolled into view, with its fields shown.
    const row29 = rows.filter({ hasText: '0x1d3a3f01' });
    expect(await row29.textContent()).toContain('IOMFB MSG CMD length 0x3c');
    await row29.click();
    const id = await page.evaluate(() => window.__rtkitViewer!.selected);
    expect(id).toBeDefined();
    const arrow = page.locator(`.seq .row.msg.sel[data-id="${id}"]`);
    await arrow.waitFor();
    expect(await arrow.locator('.t').textContent()).toBe('#029@1d3a3f01');
    expect(await arrow.locator('.lbl').textContent()).toBe('user24 · IOMFB MSG CMD length 0x3c');
    expect(await row29.getAttribute('class')).toContain('sel');
    const detail = (await page.locator('#detail-body').textContent()) ?? '';
    expect(detail).toContain('0x0000003c00000202');
    expect(detail).toContain('mailbox-history');
    const fields = await page
      .locator('#detail-body table.fields tr[data-field]')
      .evaluateAll((trs) => trs.map((tr) => tr.firstElementChild!.textContent));
    expect(fields).toEqual(['ack', 'context', 'offset', 'length']);
    // The crash is a row of the diagram too; the syslog line is in the syslog pane.
    expect(await page.locator('.seq .row.mark.crash').count()).toBe(1);
    expect(await page.locator('#syslog-list').textContent()).toContain('set_run_mode_safe');
    expect(vp.errors).toEqual([]);
  });

  it('saves the screenshot (docs/screenshots/viewer-crash.png)', async () => {
    const { page } = vp;
    // The mailbox history at the top of the crash pane, entry #029 selected.
    await page.evaluate(() => {
      const body = document.getElementById('crash-body')!;
      const hist = body.querySelector<HTMLElement>('.history')!;
      body.scrollTo(0, hist.offsetTop - body.offsetTop);
      document.getElementById('detail-body')!.scrollTo(0, 0);
    });
    await page.mouse.move(0, 0);
    // Let the state panel's throttled redraw (250 ms) settle: the same pixels every run.
    await page.waitForTimeout(400);
    mkdirSync(SHOTS, { recursive: true });
    // The load time differs from run to run: masked, so the picture is the same every time.
    await page.screenshot({
      path: `${SHOTS}viewer-crash.png`,
      mask: [page.locator('#timing')],
      maskColor: '#ffffff',
    });
  });

  it('opens a plain "ep msg" list dropped on the page, and the profile decodes it', async () => {
    const { page } = vp;
    const text = '# SMC\n> 20 0x234b455900041010\n< 20 0x00000000f3080000\n0 0x00100000000c000b\n';
    await page.evaluate((t) => {
      const dt = new DataTransfer();
      dt.items.add(new File([t], 'keys.txt', { type: 'text/plain' }));
      const target = document.getElementById('diagram')!;
      target.dispatchEvent(new DragEvent('dragenter', { bubbles: true, dataTransfer: dt }));
      target.dispatchEvent(new DragEvent('drop', { bubbles: true, dataTransfer: dt }));
    }, text);
    await page.waitForFunction(() => window.__rtkitViewer!.lastLoad?.name === 'keys.txt');
    expect(await page.evaluate(() => window.__rtkitViewer!.messageCount)).toBe(3);
    expect(await page.evaluate(() => document.body.classList.contains('dragging'))).toBe(false);
    const kinds = () =>
      page
        .locator('.seq .row.msg')
        .evaluateAll((rs) => rs.map((r) => (r as HTMLElement).dataset['kind']));
    expect(await kinds()).toEqual(['unknown', 'unknown', 'hello']);
    await page.selectOption('#profile', 'smc');
    await page.waitForFunction(
      () => window.__rtkitViewer!.lastLoad?.name === 'keys.txt' && !window.__rtkitViewer!.loading,
    );
    await page.waitForFunction(
      () => document.querySelector('.seq .row.msg')?.getAttribute('data-kind') === 'smcReadKey',
    );
    expect(await kinds()).toEqual(['smcReadKey', 'smcReply', 'hello']);
    await page.selectOption('#profile', '');
    expect(vp.errors).toEqual([]);
  });

  it('a boot log of three co-processors: lanes, init marks, state from the messages', async () => {
    const { page } = vp;
    const load = await openFile(vp, 'boot.txt', readFileSync(`${FIXTURES}dmesg-m2pro-boot.txt`));
    expect(load.format).toBe('kernel');
    const lanes = await page.locator('.seq-head .lane').allTextContents();
    expect(lanes[0]).toBe('AP');
    expect(lanes.slice(1).sort()).toEqual(['ANS', 'MTP', 'SMC']);
    expect(await page.locator('.seq .row.mark.init').count()).toBe(3);
    expect(await page.locator('#state-body .card').count()).toBe(3);
    expect(await page.locator('#state-body').textContent()).toContain('12');
    expect(vp.errors).toEqual([]);
  });

  it('binary input is refused with the decoder’s message, without a page error', async () => {
    const { page } = vp;
    await page.setInputFiles('#file-input', {
      name: 'blob.bin',
      mimeType: 'application/octet-stream',
      buffer: Buffer.alloc(2048, 0),
    });
    await page.waitForFunction(() =>
      document.getElementById('source')!.textContent!.startsWith('blob.bin:'),
    );
    expect(await page.locator('#source').textContent()).toContain('binary');
    expect(await page.evaluate(() => window.__rtkitViewer!.messageCount)).toBe(0);
    expect(vp.errors).toEqual([]);
  });
});

describe('rtkit ui FILE', () => {
  it('serves the viewer with the file opened, until stopped', async () => {
    let out = '';
    const io = {
      stdout: (t: string) => {
        out += t;
      },
      stderr: () => {},
      readFile: async (p: string) => new Uint8Array(readFileSync(p)),
      fileSize: async () => 100,
      stderrIsTTY: false,
    } as unknown as CliIO;
    let seen: { crashes: number; name: string | undefined } | undefined;
    const cmd = uiCommand(io, {
      webRoot: web.dir,
      untilStopped: async (srv) => {
        const p = await openViewer(browser, srv.url);
        await p.page.waitForFunction(() => window.__rtkitViewer!.lastLoad !== null);
        seen = await p.page.evaluate(() => ({
          crashes: window.__rtkitViewer!.crashCount,
          name: window.__rtkitViewer!.lastLoad?.name,
        }));
        expect(p.errors).toEqual([]);
        await p.page.close();
      },
    });
    await cmd.parseAsync([`${FIXTURES}${CRASH}`], { from: 'user' });
    expect(out).toMatch(/^viewer: http:\/\/127\.0\.0\.1:\d+\/\n$/);
    expect(seen).toEqual({ crashes: 1, name: CRASH });
  });
});
