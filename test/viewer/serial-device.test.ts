// The viewer's "Connect m1n1 device" in real Chromium. The page cannot reach a Mac here, so its
// `navigator.serial` is a stand-in (test/viewer/fixtures/fake-m1n1-serial.ts, bundled for this
// test only) whose port leads to a simulated Mac running m1n1's proxy inside the page: the
// viewer's own code — Web Serial link, m1n1 client, ADT, host library, SMC client, feed — runs
// unchanged. Also the co-processor list the device tree gives, in Node.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildViewer, launchChromium, type ViewerPage } from '../../src/bench/viewer.js';
import { Adt, adtNode, encodeAdt } from '../../src/m1n1/adt.js';
import { buildSocAdt } from '../../src/sim/proxy/index.js';
import { startViewerServer, type ViewerServer } from '../../src/viewer/server.js';
import { DEFAULT_COPROC_PATH, listCoprocessors } from '../../web/serial.js';
import type { FakeM1n1, FakeM1n1Options } from './fixtures/fake-m1n1-serial.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/fake-m1n1-serial.ts', import.meta.url));

declare global {
  interface Window {
    rtkitFakeM1n1?: { install(o: FakeM1n1Options): unknown };
    __fakeM1n1?: FakeM1n1;
  }
}

/** The stand-in as one script for `addInitScript`; never written into dist/web. */
async function bundleFixture(): Promise<string> {
  const { build } = await import('esbuild');
  const out = await build({
    entryPoints: [FIXTURE],
    bundle: true,
    format: 'iife',
    globalName: 'rtkitFakeM1n1',
    // Init scripts may run wrapped in a function: publish the global explicitly.
    footer: { js: 'globalThis.rtkitFakeM1n1 = rtkitFakeM1n1;' },
    platform: 'browser',
    target: ['chrome109'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const node = Object.keys(out.metafile.inputs).filter((p) => p.startsWith('node:'));
  if (node.length > 0) throw new Error(`the fixture bundle imports ${node.join(', ')}`);
  return out.outputFiles[0]!.text;
}

describe('the co-processors the device tree offers', () => {
  it('lists ASC nodes under /arm-io, the SMC first, and nothing else', () => {
    const soc = buildSocAdt({
      chipId: 0x8103,
      coprocessors: [
        {
          name: 'ans',
          compatible: ['iop,ascwrap-v4'],
          ascBase: 0x2_7740_0000,
          ascSize: 0x4000,
          powerDomain: 'ANS2',
        },
        {
          name: 'smc',
          compatible: ['iop,ascwrap-v4'],
          ascBase: 0x2_3e40_0000,
          ascSize: 0x4000,
          sram: { base: 0x2_3fe0_0000, size: 0x10_0000 },
          powerDomain: 'SMC_FABRIC',
        },
      ],
    });
    // Real trees also hold nubs, DARTs, nodes without `compatible`, and older `iop,<soc>` IOPs.
    const armIo = soc.children.find((c) => c.name === 'arm-io')!;
    const extra = [
      adtNode('iop-ans-nub', { compatible: ['iop-nub,rtbuddy-v2'] }),
      adtNode('dart-disp0', { compatible: ['dart,t8020'] }),
      adtNode('nothing'),
      adtNode('sio', { compatible: ['iop,t8030', 'iop,t8015'] }),
      adtNode('sep', { compatible: ['iop-sep,ascwrap-v6'] }),
      adtNode('ans', { compatible: ['iop,ascwrap-v4'] }),
    ];
    const tree = {
      ...soc,
      children: soc.children.map((c) =>
        c === armIo ? { ...armIo, children: [...armIo.children, ...extra] } : c,
      ),
    };
    const choices = listCoprocessors(Adt.parse(encodeAdt(tree)));
    expect(choices.map((c) => c.path)).toEqual([
      DEFAULT_COPROC_PATH,
      '/arm-io/ans',
      '/arm-io/sio',
      '/arm-io/sep',
    ]);
    expect(choices[0]).toMatchObject({
      name: 'smc',
      coproc: 'smc',
      compatible: ['iop,ascwrap-v4'],
    });
    expect(choices[1]!.coproc).toBe('ans');
    expect(listCoprocessors(Adt.parse(encodeAdt(adtNode('device-tree'))))).toEqual([]);
  });
});

describe('Connect m1n1 device (Chromium, simulated Mac in the page)', () => {
  let browser: Browser;
  let web: Awaited<ReturnType<typeof buildViewer>>;
  let server: ViewerServer;
  let fixture: string;

  beforeAll(async () => {
    [browser, web, fixture] = await Promise.all([launchChromium(), buildViewer(), bundleFixture()]);
    server = await startViewerServer({ webRoot: web.dir });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await browser?.close();
    await web?.dispose();
  });

  async function devicePage(opts: FakeM1n1Options): Promise<ViewerPage> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
    await page.addInitScript({ content: fixture });
    await page.addInitScript((o) => {
      window.rtkitFakeM1n1!.install(o);
    }, opts);
    await page.goto(server.url);
    await page.waitForFunction(() => window.__rtkitViewer?.ready === true);
    return { page, errors };
  }

  const phase = (page: Page) => page.locator('#device').getAttribute('data-phase');
  const status = (page: Page) => page.locator('#device .dev-status').textContent();
  const report = (page: Page) => page.evaluate(() => window.__fakeM1n1!.report());
  const waitPhase = (page: Page, p: string, timeout = 15_000) =>
    page.waitForFunction(
      (want) => document.getElementById('device')?.dataset['phase'] === want,
      p,
      {
        timeout,
      },
    );
  const card = (page: Page) => page.locator('#state-body .card[data-lane="SMC"]').textContent();
  const kinds = (page: Page) =>
    page.evaluate(() =>
      [...document.querySelectorAll<HTMLInputElement>('#f-kinds input')].map((i) => i.value),
    );

  async function connectAndStart(page: Page): Promise<void> {
    await page.locator('#serial').click();
    await waitPhase(page, 'ready');
    expect(await page.locator('#device-coproc').inputValue()).toBe('/arm-io/smc');
    await page.locator('#device-start').click();
    await waitPhase(page, 'running');
  }

  it('drives the SMC: arrows, state, syslog, key reads, sleep on disconnect, wake, restart, crash, unplug', async () => {
    const vp = await devicePage({ mode: 'mac', profiles: ['smc', 'ans'], seed: 3 });
    const { page } = vp;
    expect(await page.locator('#serial').isVisible()).toBe(true);
    expect(await page.locator('#device').isHidden()).toBe(true);

    // Connect: the port, m1n1's bootstrap over USB, the device tree's co-processors.
    await page.locator('#serial').click();
    await waitPhase(page, 'ready');
    expect(await page.locator('#serial').isDisabled()).toBe(true);
    const options = await page
      .locator('#device-coproc option')
      .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(options).toEqual(['/arm-io/smc', '/arm-io/ans']);
    expect(await page.locator('#device-coproc').inputValue()).toBe('/arm-io/smc');
    const info = await page.locator('#device .dev-info').textContent();
    expect(info).toContain('J274AP');
    expect(info).toContain('webserial:1209:316d');
    expect(info).toContain('USB0');
    expect(await page.locator('#device .dev-note').textContent()).toMatch(/DART or SART.*refused/);

    // Start: boot, the SMC client, #KEY — every word on the diagram, decoded.
    await page.locator('#device-start').click();
    await waitPhase(page, 'running');
    expect(await status(page)).toContain('smc running (booted)');
    // The filter lists refresh on the next frame.
    const boot = ['hello', 'helloAck', 'epmap', 'startEndpoint', 'smcInitialize', 'smcReadKey'];
    await page.waitForFunction((want) => {
      const have = [...document.querySelectorAll<HTMLInputElement>('#f-kinds input')];
      return want.every((w) => have.some((i) => i.value === w));
    }, boot);
    const k = await kinds(page);
    await page.evaluate(() => window.__rtkitViewer!.selectMessage(0));
    expect(await page.locator('#detail-body').textContent()).toContain('hello');
    // Only the key reads: the first one is #KEY.
    await page.evaluate(
      (hide) => window.__rtkitViewer!.setFilter({ kinds: hide }),
      k.filter((x) => x !== 'smcReadKey'),
    );
    await page.waitForFunction(() =>
      document.getElementById('seq')!.textContent!.includes("'#KEY'"),
    );
    await page.evaluate(() => window.__rtkitViewer!.setFilter({ kinds: [] }));
    expect(await page.locator('#seq').textContent()).toMatch(/SMC: #KEY = \d+ keys/);
    await page.waitForFunction(() =>
      document
        .querySelector('#state-body .card[data-lane="SMC"]')
        ?.textContent?.includes('running'),
    );
    expect(await card(page)).toContain('handshake done');
    expect(await card(page)).toContain('sram');
    // The SMC firmware logs every 0.2–2 s; the pane draws the lines on the next frame.
    await page.waitForFunction(
      () =>
        window.__rtkitViewer!.syslogCount > 0 &&
        document.querySelector('#syslog-list .slog') !== null,
      null,
      { timeout: 8000 },
    );
    expect(await page.locator('#syslog-list').textContent()).toMatch(/Elec|charg/);

    // A key typed by the user.
    await page.locator('#device-key').fill('TB0T');
    await page.locator('#device-read').click();
    await page.waitForFunction(() =>
      document.querySelector('#device .dev-status')!.textContent!.startsWith('TB0T = '),
    );

    // Disconnect (sleep ticked): the SMC sleeps, the port is released.
    await page.locator('#device-disconnect').click();
    await waitPhase(page, 'idle');
    expect(await status(page)).toBe('disconnected (smc asleep)');
    await page.waitForFunction(() =>
      document
        .querySelector('#state-body .card[data-lane="SMC"]')
        ?.textContent?.includes('shutdown'),
    );
    let r = await report(page);
    expect(r.coprocs['smc']).toMatchObject({ iopState: 0x1 });
    expect(r).toMatchObject({ opens: 1, closes: 1 });
    expect(await page.locator('#serial').isEnabled()).toBe(true);

    // Second connection: the SMC's CPU runs, asleep: woken. Then left running on disconnect.
    const before = await page.evaluate(() => window.__rtkitViewer!.messageCount);
    await connectAndStart(page);
    expect(await status(page)).toContain('smc running (woken)');
    expect(await page.evaluate(() => window.__rtkitViewer!.messageCount)).toBeGreaterThan(before);
    await page.locator('#device-sleep').uncheck();
    await page.locator('#device-disconnect').click();
    await waitPhase(page, 'idle');
    expect(await status(page)).toBe('disconnected (smc left running)');
    r = await report(page);
    expect(r.coprocs['smc']).toMatchObject({ iopState: 0x20 });
    expect(r).toMatchObject({ opens: 2, closes: 2 });

    // Third: running but not asleep ignores the wake: restarted. Then it crashes.
    await page.locator('#device-sleep').check();
    await connectAndStart(page);
    expect(await status(page)).toContain('smc running (restarted)');
    await page.evaluate(() => window.__fakeM1n1!.crash('smc', 'crash injected by the test'));
    // crashCount counts the ingested crash; the pane draws it on the next frame: wait for that.
    await page.waitForFunction(
      () => window.__rtkitViewer!.crashCount === 1 && window.__rtkitViewer!.crashShown === 0,
      null,
      { timeout: 10_000 },
    );
    expect(await page.locator('#crash-body').textContent()).toContain('crash injected by the test');

    // The cable is pulled: the link reports the loss, everything is torn down, a message stays.
    await page.evaluate(() => window.__fakeM1n1!.unplug());
    await waitPhase(page, 'idle');
    expect(await status(page)).toMatch(/^the device went away: .*NetworkError/);
    expect((await report(page)).closes).toBe(3);
    expect(await page.locator('#serial').isEnabled()).toBe(true);

    expect(await page.evaluate(() => window.__rtkitViewer!.errors)).toEqual([]);
    expect(vp.errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('the shipped bundle holds no simulated Mac and no stand-in port', async () => {
    const app = await readFile(`${web.dir}/app.js`, 'utf8');
    expect(app).not.toContain('SimulatedMac');
    expect(app).not.toContain('rtkitFakeM1n1');
    expect(fixture).toContain('SimulatedMac');
  });

  it('a port not chosen, and a device that never answers: a message, and the page still works', async () => {
    const vp = await devicePage({ mode: 'cancel' });
    const { page } = vp;
    await page.locator('#serial').click();
    await page.waitForFunction(() =>
      document.querySelector('#device .dev-status')?.textContent?.includes('no serial port chosen'),
    );
    expect(await phase(page)).toBe('idle');

    await page.evaluate(() => window.__fakeM1n1!.setMode('silent'));
    await page.locator('#serial').click();
    await waitPhase(page, 'connecting');
    // WHOAMI's 150 ms, then the client's resync attempts (2 × 3 s): bounded, then a message.
    await waitPhase(page, 'idle', 15_000);
    const text = await status(page);
    expect(text).toContain('no m1n1 answers on webserial:1209:316d');
    expect(text).toContain('TRANSPORT_TIMEOUT');
    expect(await page.locator('#device .dev-status').getAttribute('class')).toContain('error');
    expect(await page.locator('#source').textContent()).toContain('no m1n1 answers');
    const r = await report(page);
    expect(r.opens).toBeGreaterThan(0);
    expect(r.closes).toBe(r.opens);

    // Still usable: the button works again and a file opens.
    expect(await page.locator('#serial').isEnabled()).toBe(true);
    const load = await page.evaluate(() =>
      (
        window.__rtkitViewer as unknown as {
          loadText(n: string, t: string): Promise<{ messages: number } | undefined>;
        }
      )
        .loadText('one.txt', '0 0x00100000000c000b\n')
        .then((x) => x?.messages),
    );
    expect(load).toBe(1);
    expect(await page.evaluate(() => window.__rtkitViewer!.errors)).toEqual([]);
    expect(vp.errors).toEqual([]);
    await page.close();
  }, 30_000);
});
