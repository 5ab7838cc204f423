// The terminal renderer of the live feed: each event type, colour rules (NO_COLOR, FORCE_COLOR,
// non-TTY, TERM=dumb), untrusted text escaped, decoding with per-co-processor history exactly as
// `rtkit decode` renders the same words, and chunked writes.
import { describe, expect, it } from 'vitest';
import { buildCrashlog, crashlogToJson, parseCrashlog } from '../crashlog/index.js';
import { decodeTrace } from '../trace/decoder.js';
import { renderText } from '../trace/render.js';
import type { FeedCoprocState, FeedEvent, FeedMessage } from '../viewer/feed.js';
import { colorEnabled, describeState, LiveRenderer, livePaint } from './live-render.js';

const ESC = /\x1b\[/;
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;
const strip = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');
const EVIL = '\x1b]0;pwned\x07\x1b[2J';

function renderer(color = false): { r: LiveRenderer; out: () => string } {
  let text = '';
  const write = (s: string): void => {
    text += s;
  };
  const r = new LiveRenderer({ write, color, flushAfterMs: false });
  const out = (): string => {
    r.flush();
    return text;
  };
  return { r, out };
}

let seq = 0;
function msg(
  coproc: string,
  dir: FeedMessage['dir'],
  ep: number,
  word: string,
  t = 0.5,
): FeedMessage {
  return { type: 'message', t, dir, coproc, ep, msg: word, seq: seq++ };
}

const ON: FeedCoprocState = {
  iopPower: 0x20,
  apPower: 0x20,
  version: 12,
  handshake: 'done',
  running: true,
  crashed: false,
  poweredOff: false,
  endpoints: [1, 2, 3, 4, 0x20],
  started: [1, 2, 3, 4, 0x20],
  buffers: [
    { ep: 1, endpoint: 'crashlog', mode: 'sram', iova: '0x23fefe000', size: 0x2000 },
    { ep: 2, endpoint: 'syslog', mode: 'sram', iova: '0x23fefc000', size: 0x2000 },
  ],
};

/** A session as a feed: boot words, SMC INITIALIZE and its address, a read, a syslog LOG. */
const SESSION: FeedMessage[] = [
  msg('smc', 'iop->ap', 0, '0x00100000000c000b', 0.001),
  msg('smc', 'ap->iop', 0, '0x00200000000c000c', 0.001),
  msg('dcp', 'iop->ap', 0, '0x00100000000c000b', 0.001),
  msg('smc', 'ap->iop', 0x20, '0x0000000000000017', 0.002),
  // The first SMC→AP word after INITIALIZE is the shared-memory address (history, §9.3)...
  msg('smc', 'iop->ap', 0x20, '0x000000023fe00000', 0.002),
  // ...and the same word on the DCP's endpoint 0x20 is something else entirely.
  msg('dcp', 'iop->ap', 0x20, '0x000000023fe00000', 0.002),
  msg('smc', 'ap->iop', 0x20, '0x234b455900041010', 0.003),
  msg('smc', 'iop->ap', 0x20, '0x3c00000000041000', 0.003),
  msg('dcp', 'iop->ap', 2, '0x0050000000000007', 0.004),
];

describe('colour decision', () => {
  it('TTY on, pipes off; NO_COLOR wins; FORCE_COLOR forces; TERM=dumb off', () => {
    expect(colorEnabled({ stdoutIsTTY: true, env: {} })).toBe(true);
    expect(colorEnabled({ stdoutIsTTY: false, env: {} })).toBe(false);
    expect(colorEnabled({ stdoutIsTTY: true, env: { NO_COLOR: '1' } })).toBe(false);
    expect(colorEnabled({ stdoutIsTTY: true, env: { NO_COLOR: '' } })).toBe(false);
    expect(colorEnabled({ stdoutIsTTY: false, env: { FORCE_COLOR: '1' } })).toBe(true);
    expect(colorEnabled({ stdoutIsTTY: false, env: { FORCE_COLOR: '' } })).toBe(true);
    expect(colorEnabled({ stdoutIsTTY: true, env: { FORCE_COLOR: '0' } })).toBe(false);
    expect(colorEnabled({ stdoutIsTTY: false, env: { FORCE_COLOR: '1', NO_COLOR: '1' } })).toBe(
      false,
    );
    expect(colorEnabled({ stdoutIsTTY: true, env: { TERM: 'dumb' } })).toBe(false);
    expect(livePaint({ stdoutIsTTY: false, env: {} }).red('x')).toBe('x');
    expect(livePaint({ stdoutIsTTY: false, env: { FORCE_COLOR: '1' } }).red('x')).toMatch(ESC);
  });
});

describe('message lines', () => {
  it('read exactly as `rtkit decode` renders the same words as a trace (history per co-processor)', () => {
    const { r, out } = renderer();
    for (const e of SESSION) r.render(e);
    const trace = SESSION.map((e) =>
      JSON.stringify({ t: e.t, dir: e.dir, coproc: e.coproc, ep: e.ep, msg: e.msg }),
    ).join('\n');
    const expected = decodeTrace(`${trace}\n`).map(renderText);
    expect(out().trimEnd().split('\n')).toEqual(expected);
    expect(expected[0]).toBe(
      '[    0.001000] ← smc management(0x00) 0x00100000000c000b HELLO v11..12',
    );
    expect(expected[4]).toContain('SMC shared memory at 0x23fe00000');
    expect(expected[5]).not.toContain('SMC shared memory');
    expect(r.lines).toBe(SESSION.length);
    expect(r.events).toBe(SESSION.length);
  });

  it('in colour: the same text once the escapes are removed', () => {
    const plain = renderer(false);
    const colour = renderer(true);
    for (const e of SESSION) {
      plain.r.render(e);
      colour.r.render(e);
    }
    expect(colour.out()).toMatch(ESC);
    expect(strip(colour.out())).toBe(plain.out());
  });

  it('a word that is not 64-bit hex is shown, not thrown', () => {
    const { r, out } = renderer();
    r.render({ ...msg('smc', 'iop->ap', 0, 'zz'), msg: `nope${EVIL}` });
    expect(out()).toContain('unreadable word');
    expect(out().trimEnd()).not.toMatch(CONTROL);
  });
});

describe('other events', () => {
  it('syslog: as `rtkit decode` renders a syslog record; firmware text escaped', () => {
    const { r, out } = renderer();
    r.render({ type: 'syslog', t: 1.25, coproc: 'dcp', context: 'UPPipe.cpp:1', message: 'hello' });
    r.render({ type: 'syslog', t: 1.5, coproc: 'dcp', context: `a${EVIL}`, message: `b${EVIL}` });
    const lines = out().trimEnd().split('\n');
    expect(lines[0]).toBe('[    1.250000] dcp syslog UPPipe.cpp:1: hello');
    expect(lines[1]).not.toMatch(CONTROL);
    expect(lines[1]).toContain('\\x1b]0;pwned');
  });

  it('state: power, handshake, flags and buffers (listed on a buffers change)', () => {
    const { r, out } = renderer();
    r.render({ type: 'state', t: 2, coproc: 'smc', reason: 'boot', state: ON });
    r.render({ type: 'state', t: 2, coproc: 'smc', reason: 'buffers', state: ON });
    r.render({
      type: 'state',
      t: 3,
      coproc: 'dcp',
      reason: 'crash',
      state: { ...ON, running: false, crashed: true, buffers: [] },
    });
    expect(out().trimEnd().split('\n')).toEqual([
      '[    2.000000] smc state boot: IOP ON, AP ON, handshake done, running, 2 buffers',
      '[    2.000000] smc state buffers: IOP ON, AP ON, handshake done, running, buffers crashlog(0x01) sram 0x23fefe000+0x2000 syslog(0x02) sram 0x23fefc000+0x2000',
      '[    3.000000] dcp state crash: IOP ON, AP ON, handshake done, crashed',
    ]);
    expect(
      describeState({ ...ON, iopPower: null, apPower: null, handshake: 'none', running: false }),
    ).toBe('IOP -, AP -, handshake none, 2 buffers');
  });

  it('phase: a heading, or a remark of one co-processor', () => {
    const { r, out } = renderer();
    r.render({ type: 'phase', t: 0, text: 'Boot' });
    r.render({ type: 'phase', t: 0.5, text: 'step boot: ok: protocol v12', coproc: 'smc' });
    r.render({ type: 'phase', t: 0.5, text: `warning X: ${EVIL}`, coproc: 'smc' });
    const lines = out().trimEnd().split('\n');
    expect(lines.slice(0, 2)).toEqual([
      '[    0.000000] == Boot',
      '[    0.500000] smc step boot: ok: protocol v12',
    ]);
    expect(lines[2]).not.toMatch(CONTROL);
  });

  it('phase colours: warnings yellow, failures red, headings magenta', () => {
    const { r, out } = renderer(true);
    r.render({ type: 'phase', t: 0, text: 'Boot' });
    r.render({ type: 'phase', t: 0, text: 'warning X: y', coproc: 'smc' });
    r.render({ type: 'phase', t: 0, text: 'step boot: FAILED: z', coproc: 'smc' });
    const lines = out().trimEnd().split('\n');
    expect(lines[0]).toContain('\x1b[35m');
    expect(lines[1]).toContain('\x1b[33mwarning');
    expect(lines[2]).toContain('\x1b[31mstep boot: FAILED');
  });

  const report = (() => {
    const parsed = parseCrashlog(
      buildCrashlog({
        sections: [
          { kind: 'Cstr', id: 0, text: `SError in IOMFB ${EVIL}\n` },
          {
            kind: 'Cver',
            version: 'RTKit: RTKit-1827.120.2.debug - Client: local-ipad14dcp.release',
          },
          {
            kind: 'Cmbx',
            mailboxError: 0,
            route: 0,
            entries: [{ ep: 0x37, msg: 0x242n, timestamp: 0x10n }],
          },
        ],
      }),
    );
    if (!parsed.ok) throw new Error('test crashlog did not parse');
    return parsed.report;
  })();
  const crash: FeedEvent = {
    type: 'crash',
    t: 8.5,
    coproc: 'dcp',
    msg: '0x00103000a0000000',
    report: crashlogToJson(report),
  };

  it('crash with the parsed report: renderCrashlogText, history annotated in the co-processor context', () => {
    const { r, out } = renderer();
    r.render(crash, { report });
    const text = out();
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe(
      `[    8.500000] dcp crashed: notification 0x00103000a0000000, ${report.bufferLength} bytes of crash log`,
    );
    expect(lines[1]).toMatch(/^ {2}RTKit crashlog: format/);
    expect(text).toContain('IOMFB ACK of CMD');
    for (const l of lines) expect(l).not.toMatch(CONTROL);
    expect(r.lines).toBe(lines.length);
  });

  it('crash from JSON only (a saved feed): sections and the panic text; a missing log says why', () => {
    const { r, out } = renderer();
    r.render(crash);
    r.render({
      type: 'crash',
      t: 9,
      coproc: 'ans',
      msg: '0x0010300000000000',
      problem: 'CRASHLOG_UNAVAILABLE',
    });
    const lines = out().trimEnd().split('\n');
    expect(lines).toContain('  crash log: 3 sections: Cstr Cver Cmbx');
    expect(lines.find((l) => l.startsWith('  message  SError in IOMFB'))).toBeDefined();
    expect(lines.at(-2)).toBe('[    9.000000] ans crashed: notification 0x0010300000000000');
    expect(lines.at(-1)).toBe('  crash log: CRASHLOG_UNAVAILABLE');
    for (const l of lines) expect(l).not.toMatch(CONTROL);
  });
});

describe('chunked writes', () => {
  it('buffers lines and writes in chunks; flush writes the rest; text() keeps order', () => {
    const chunks: string[] = [];
    const r = new LiveRenderer({
      write: (s) => chunks.push(s),
      color: false,
      chunkChars: 1000,
      flushAfterMs: false,
    });
    r.text('start');
    for (let i = 0; i < 100; i++) r.render(msg('smc', 'iop->ap', 2, '0x0050000000000001', i));
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.length).toBeLessThan(20);
    for (const c of chunks) expect(c.endsWith('\n')).toBe(true);
    r.text('end');
    r.flush();
    const all = chunks.join('').trimEnd().split('\n');
    expect(all).toHaveLength(102);
    expect(all[0]).toBe('start');
    expect(all.at(-1)).toBe('end');
    r.flush();
    expect(chunks.join('').split('\n')).toHaveLength(103);
  });

  it('a buffered line is written by itself shortly after (flushAfterMs)', async () => {
    const chunks: string[] = [];
    const r = new LiveRenderer({ write: (s) => chunks.push(s), color: false, flushAfterMs: 1 });
    r.render({ type: 'phase', t: 0, text: 'x' });
    expect(chunks).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(chunks).toEqual(['[    0.000000] == x\n']);
  });
});
