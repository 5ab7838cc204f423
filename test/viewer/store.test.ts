// The viewer's data side without a browser: files and live events through the library's trace
// decoder into the store, crash views and their links to arrows, filters, bounds.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sessionMessages } from '../../src/bench/viewer.js';
import { buildCrashlog, crashlogToJson, parseCrashlog } from '../../src/crashlog/index.js';
import { decodeTrace } from '../../src/trace/index.js';
import type { FeedEvent } from '../../src/viewer/feed.js';
import { LiveIngest, loadBytes } from '../../web/ingest.js';
import { ViewerStore } from '../../web/store.js';
import { FIXTURES } from '../cli-harness.js';

const immediate = (): Promise<void> => Promise.resolve();

async function load(text: string, opts: { coproc?: string; slice?: number } = {}) {
  const store = new ViewerStore();
  const stats = await loadBytes(store, 'x', new TextEncoder().encode(text), {
    yieldFn: immediate,
    ...opts,
  });
  return { store, stats };
}

function jsonl(events: FeedEvent[]): string {
  return `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;
}

describe('offline files', () => {
  it('the DCP crash log: history arrows, syslog, a crash view linked to its arrows', async () => {
    const text = readFileSync(`${FIXTURES}dmesg-dcp-crash-142.txt`, 'utf8');
    const { store, stats } = await load(text, { slice: 333 });
    expect(stats.format).toBe('kernel');
    expect(store.messageCount).toBe(24);
    expect(store.syslog).toHaveLength(1);
    expect(store.syslog[0]).toMatchObject({
      lane: '231c00000.dcp',
      context: 'UPPipeDCP_H13P.cpp:7476',
    });
    expect(store.lanes.map((l) => [l.key, l.coproc])).toEqual([['231c00000.dcp', 'dcp']]);
    expect(store.crashes).toHaveLength(1);
    const c = store.crashes[0]!;
    expect(c.source).toBe('kernel log');
    expect(c.facts).toContainEqual(['Version', 'RTKit 1827.120.2 (debug)']);
    expect(c.facts).toContainEqual(['Crash time', '1544945895 (0x5c1600e7)']);
    expect(c.registers).toContainEqual(['pc', '0x17eaf0']);
    expect(c.tasks).toBeUndefined();
    expect(c.history).toHaveLength(24);
    expect(c.historyTotal).toBe(24);
    // Every history row points at the arrow decoded from the same line.
    for (const h of c.history) {
      expect(h.target).toBeDefined();
      const m = store.message(h.target!)!;
      expect(m.origin).toBe('mailbox-history');
      expect([m.msg, m.ep, m.dir, m.index]).toEqual([h.msg, h.ep, h.dir, h.index]);
      expect(h.summary).toBe(m.summary);
    }
    const e29 = c.history.find((h) => h.index === 29)!;
    expect(e29.summary).toBe('IOMFB MSG CMD length 0x3c');
    // The crash is a row of the diagram, after its history.
    expect(store.rowOf(-1 - c.mark)).toBe(store.visibleCount - 1);
    expect(store.laneState('231c00000.dcp').inferred.crashed).toBe(true);
  });

  it('decodes exactly what decodeTrace decodes (one decoder)', async () => {
    for (const f of ['dmesg-m2pro-boot.txt', 'dmesg-dcp-crash-142.txt', 'm1n1-aop-syslog.txt']) {
      const text = readFileSync(`${FIXTURES}${f}`, 'utf8');
      const { store } = await load(text, { slice: 97 });
      const direct = decodeTrace(text).filter((r) => r.type === 'message');
      expect(store.messages, f).toEqual(direct);
    }
  });

  it('a JSON-lines trace: lanes, counts and the state the messages show', async () => {
    const msgs = sessionMessages(600, 7);
    const { store, stats } = await load(jsonl(msgs), { slice: 4096 });
    expect(stats.format).toBe('jsonl');
    expect(store.messageCount).toBe(600);
    expect(store.lanes.map((l) => l.key)).toEqual(['smc', 'dcp']);
    expect(store.lanes.reduce((a, l) => a + l.messages, 0)).toBe(600);
    const smc = store.laneState('smc').inferred;
    expect(smc.version).toBe(12);
    expect(smc.iopPower).toBe('0x20');
    expect(smc.apPower).toBe('0x20');
    expect([...smc.started].sort((a, b) => a - b)).toEqual([1, 2, 0x20]);
    expect([...smc.buffers.keys()].sort()).toEqual([1, 2]);
    expect(smc.buffers.get(2)!.kind).toBe('syslogBufferReply');
    // The SMC shared-memory address is decoded with the history the decoder keeps.
    expect(store.messages.some((m) => m.kind === 'smcShmemAddress')).toBe(true);
    expect(store.messages.filter((m) => m.kind === 'unknown')).toEqual([]);
  });

  it('plain lines take the profile option', async () => {
    const text = '> 20 0x234b455900041010\n< 20 0x00000000f3080000 # reply\n';
    expect((await load(text)).store.messages[0]!.kind).toBe('unknown');
    const { store } = await load(text, { coproc: 'smc' });
    expect(store.messages.map((m) => m.kind)).toEqual(['smcReadKey', 'smcReply']);
    expect(store.messages[1]!.note).toBe('reply');
  });

  it('binary input fails with the decoder’s typed error', async () => {
    const store = new ViewerStore();
    const bytes = new Uint8Array(600).fill(0);
    await expect(loadBytes(store, 'bin', bytes, { yieldFn: immediate })).rejects.toMatchObject({
      code: 'UNKNOWN_FORMAT',
    });
  });

  it('stops when cancelled', async () => {
    const store = new ViewerStore();
    let slices = 0;
    await loadBytes(store, 'x', new TextEncoder().encode(jsonl(sessionMessages(400))), {
      yieldFn: immediate,
      slice: 1024,
      onSlice: () => slices++,
      cancelled: () => slices >= 2,
    });
    expect(slices).toBe(2);
    expect(store.messageCount).toBeLessThan(400);
  });
});

describe('filters and rows', () => {
  it('hides endpoints, kinds and lanes; marks stay unless their lane is hidden', async () => {
    const store = new ViewerStore();
    const live = new LiveIngest(store);
    const msgs = sessionMessages(300, 3);
    live.events([{ type: 'phase', t: 0, text: 'boot' }, ...msgs.slice(0, 150)]);
    live.events([{ type: 'phase', t: 1, text: 'traffic', coproc: 'dcp' }, ...msgs.slice(150)]);
    expect(store.visibleCount).toBe(302);
    store.setFilter({ eps: new Set([0]) });
    const ep0 = msgs.filter((m) => m.ep === 0).length;
    expect(ep0).toBeGreaterThan(10);
    expect(store.visibleCount).toBe(302 - ep0);
    for (let i = 0; i < store.visibleCount; i++) {
      const c = store.visibleRow(i)!;
      if (c >= 0) expect(store.message(c)!.ep).not.toBe(0);
    }
    store.setFilter({ eps: new Set(), kinds: new Set(['syslogLog']) });
    expect(store.visibleCount).toBe(302 - store.kindCounts.get('syslogLog')!);
    store.setFilter({ kinds: new Set(), lanes: new Set(['dcp']) });
    const dcp = msgs.filter((m) => m.coproc === 'dcp').length;
    expect(store.visibleCount).toBe(302 - dcp - 1);
    store.setFilter({ lanes: new Set() });
    // New messages respect the current filter as they arrive.
    store.setFilter({ eps: new Set([0x20]) });
    const before = store.visibleCount;
    live.events(sessionMessages(310, 3).slice(300));
    const added = sessionMessages(310, 3)
      .slice(300)
      .filter((m) => m.ep !== 0x20).length;
    expect(store.visibleCount).toBe(before + added);
  });

  it('rowOf finds every message and mark among interleaved rows', async () => {
    const store = new ViewerStore();
    const live = new LiveIngest(store);
    const msgs = sessionMessages(200, 9);
    for (let i = 0; i < msgs.length; i += 7) {
      live.events([{ type: 'phase', t: i, text: `step ${i}` }, ...msgs.slice(i, i + 7)]);
    }
    store.setFilter({ kinds: new Set(['syslogLog']) });
    for (let id = 0; id < store.messageCount; id++) {
      const row = store.rowOf(id);
      if (store.message(id)!.kind === 'syslogLog') expect(row).toBe(-1);
      else expect(store.visibleRow(row)).toBe(id);
    }
    expect(store.visibleRow(store.rowOf(-1 - 5))).toBe(-1 - 5);
  });

  it('bounds memory: the oldest messages go, ids stay stable', () => {
    const store = new ViewerStore({ maxMessages: 100, maxSyslog: 40 });
    const live = new LiveIngest(store);
    const msgs = sessionMessages(250, 5);
    live.events(msgs);
    expect(store.messageCount).toBeLessThanOrEqual(100);
    expect(store.dropped + store.messageCount).toBe(250);
    expect(store.message(store.nextId - 1)!.seq).toBe(249);
    expect(store.message(store.base)!.seq).toBe(store.base);
    expect(store.message(store.base - 1)).toBeUndefined();
    expect(store.visibleCount).toBe(store.messageCount);
    for (let i = 0; i < 100; i++) {
      live.events([{ type: 'syslog', t: i, coproc: 'smc', context: 'c', message: `m${i}` }]);
    }
    expect(store.syslog.length).toBeLessThanOrEqual(40);
    expect(store.syslog.at(-1)!.message).toBe('m99');
  });
});

describe('live events', () => {
  it('state, syslog, phase and a crash whose history links to the session’s arrows', () => {
    const store = new ViewerStore();
    const live = new LiveIngest(store);
    const msgs = sessionMessages(80, 11);
    live.events(msgs);
    live.events([
      {
        type: 'state',
        t: 1,
        coproc: 'smc',
        reason: 'iop-ack',
        state: {
          iopPower: 0x20,
          apPower: 0x20,
          version: 12,
          handshake: 'done',
          running: true,
          crashed: false,
          poweredOff: false,
          endpoints: [0, 1, 2, 0x20],
          started: [1, 2, 0x20],
          buffers: [{ ep: 2, endpoint: 'syslog', mode: 'iommu', iova: '0x9f8000', size: 8192 }],
        },
      },
      { type: 'syslog', t: 1.5, coproc: 'smc', context: 'smc.c:10', message: 'hello <b>x</b>' },
    ]);
    // The last three SMC messages, as the firmware's mailbox history would hold them.
    const smc = msgs.filter((m) => m.coproc === 'smc').slice(-3);
    const report = parseCrashlog(
      buildCrashlog({
        sections: [
          { kind: 'Cver', version: 'RTKit-2092.0.0.release - Client: smc' },
          { kind: 'Ctim', time: 0x1234n },
          { kind: 'Cstr', id: 0, text: 'panic: boom\n' },
          {
            kind: 'Cmbx',
            entries: smc.map((m, i) => ({
              ep: m.ep,
              msg: BigInt(m.msg),
              timestamp: BigInt(0x1000 + i * 2),
              dir: m.dir,
            })),
          },
          { kind: 'Crg8', pc: 0x17eaf0n, sp: 0x1000n, esr: 0xbe000000, regs: [1n, 2n] },
          {
            kind: 'Crtk',
            tasks: [
              { id: 1, name: 'idle', priority: 0, stackSize: 0x1000n, stackUsed: 0x100n },
              { id: 7, name: 'smc', faulting: true, priority: 31, frames: [0x17eaf0n] },
            ],
          },
        ],
      }),
    );
    if (!report.ok) throw report.error;
    live.events([
      {
        type: 'crash',
        t: 2,
        coproc: 'smc',
        msg: '0x0010000000000000',
        report: crashlogToJson(report.report),
      },
      { type: 'phase', t: 3, text: 'recovered' },
    ]);
    expect(store.syslog.at(-1)).toMatchObject({ lane: 'smc', message: 'hello <b>x</b>' });
    const st = store.laneState('smc').live!;
    expect(st.state.buffers[0]).toEqual({
      ep: 2,
      endpoint: 'syslog',
      mode: 'iommu',
      iova: '0x9f8000',
      size: 8192,
    });
    expect(store.crashes).toHaveLength(1);
    const c = store.crashes[0]!;
    expect(c.source).toBe('crashlog buffer');
    expect(c.history.map((h) => h.target)).toEqual(smc.map((m) => m.seq));
    expect(c.history.map((h) => h.summary)).toEqual(smc.map((m) => store.message(m.seq)!.summary));
    expect(c.tasks!.map((t) => [t.id, t.name, t.faulting])).toEqual([
      [1, 'idle', false],
      [7, 'smc', true],
    ]);
    expect(c.registers).toContainEqual(['pc', '0x17eaf0']);
    expect(c.registers).toContainEqual(['x1', '0x2']);
    expect(c.messages).toEqual(['(id=0) panic: boom']);
    expect(store.marks.map((m) => m.kind)).toEqual(['crash', 'phase']);
  });

  it('a repeated word links to the occurrence before the next entry’s match', () => {
    const store = new ViewerStore();
    const live = new LiveIngest(store);
    const word = '0x0050000000000001';
    const m = (seq: number, msg = word): FeedEvent => ({
      type: 'message',
      t: seq,
      dir: 'iop->ap',
      coproc: 'dcp',
      ep: 2,
      msg,
      seq,
    });
    live.events([m(0), m(1), m(2, '0x0050000000000002'), m(3), m(4)]);
    live.events([
      {
        type: 'crash',
        t: 9,
        coproc: 'dcp',
        msg: '0x0',
        report: {
          header: {},
          warnings: [],
          sections: [
            {
              fourcc: 'Cmbx',
              offset: 0,
              size: 0,
              version: 0,
              sectionVersion: 0,
              kind: 'Cmbx',
              entries: [
                { index: 0, ep: 2, msg: word, timestamp: '0x2', dir: 'iop->ap' },
                { index: 1, ep: 2, msg: '0x0050000000000002', timestamp: '0x4', dir: 'iop->ap' },
                { index: 2, ep: 2, msg: word, timestamp: '0x6', dir: 'iop->ap' },
                { index: 3, ep: 2, msg: '0x0050000000000009', timestamp: '0x8', dir: 'iop->ap' },
              ],
            },
          ],
        },
      },
    ]);
    expect(store.crashes[0]!.history.map((h) => h.target)).toEqual([1, 2, 4, undefined]);
  });

  it('malformed events become warnings, never exceptions', () => {
    const store = new ViewerStore();
    const live = new LiveIngest(store);
    live.events([
      null,
      42,
      'x',
      [],
      { type: 'nope' },
      { type: 'message', ep: 999, msg: '0x1' },
      { type: 'message', ep: 1, msg: 'zz' },
      { type: 'state', coproc: 'smc' },
      { type: 'syslog' },
      { type: 'crash' },
      { type: 'crash', coproc: 'smc', report: { sections: 'no', warnings: 5 } },
      { type: 'phase', text: 5 },
    ]);
    expect(store.warningCount).toBe(11);
    expect(store.crashes).toHaveLength(1);
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 20 }), (xs) => {
        live.events(xs);
        live.events(xs.map((x) => ({ type: 'crash', coproc: 'smc', report: x })) as unknown[]);
        live.events(xs.map((x) => ({ type: 'state', coproc: 'smc', state: x })) as unknown[]);
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});
