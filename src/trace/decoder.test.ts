import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRtkitError, type RtkitError } from '../errors.js';
import {
  decodeTrace,
  decodeTraceStream,
  TraceDecoder,
  type TraceDecoderOptions,
} from './decoder.js';
import type { CrashRecord, MessageRecord, TraceOutput } from './records.js';

const DIR = join(import.meta.dirname, '../../test/fixtures');
const FIXTURES = readdirSync(DIR)
  .filter((f) => f.endsWith('.txt'))
  .sort()
  .map((f) => ({ name: f, text: readFileSync(join(DIR, f), 'utf8') }));

const JSONL = [
  '{"rtkitTrace":1,"coproc":"smc","timeUnit":"s"}',
  '{"t":0,"dir":"iop->ap","ep":0,"msg":"0x001000000000000c000b"}',
  '{"t":0.001,"dir":"iop->ap","ep":0,"msg":"0x00100000000c000b"}',
  '{"t":0.002,"dir":"ap->iop","ep":0,"msg":"0x00200000000c000c"}',
  '{"t":0.003,"dir":"iop->ap","ep":1,"msg":"0x0010300000000000"}',
  '{"t":0.004,"dir":"ap->iop","ep":32,"msg":"0x0000000000000017"}',
  '{"t":0.005,"dir":"iop->ap","ep":32,"msg":"0x000000023fe00000"}',
  '{"t":0.006,"dir":"ap->iop","ep":32,"msg":"0x234b455900041010","note":"READ #KEY"}',
  '{"t":0.007,"dir":"iop->ap","ep":32,"msg":"0xf308000000041000"}',
  '{"t":0.008,"dir":"iop->ap","ep":1,"msg":"0x0010300000000000"}',
  'not json',
  '',
].join('\n');

const PLAIN = [
  '# a hand-written trace',
  '> 0 0x00200000000c000c   # HELLO_ACK',
  '< 0x02 0050000000000007',
  'ap->iop 2 50000000000007',
  '0 0x00100000000c000b',
  'garbage here',
  '',
].join('\n');

function whole(text: string, opts?: TraceDecoderOptions): TraceOutput[] {
  return decodeTrace(text, opts);
}

function chunked(pieces: (string | Uint8Array)[], opts?: TraceDecoderOptions): TraceOutput[] {
  const d = new TraceDecoder(opts);
  const out: TraceOutput[] = [];
  for (const p of pieces) out.push(...d.push(p));
  out.push(...d.end());
  return out;
}

function splitAt<T extends { length: number; slice(a: number, b?: number): T }>(
  x: T,
  cuts: number[],
): T[] {
  const points = [...new Set(cuts.map((c) => c % (x.length + 1)))].sort((a, b) => a - b);
  const out: T[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(x.slice(prev, p));
    prev = p;
  }
  out.push(x.slice(prev));
  return out;
}

const INPUTS = [
  ...FIXTURES,
  { name: 'jsonl', text: JSONL },
  { name: 'plain', text: PLAIN },
  {
    name: 'crlf',
    text: FIXTURES.map((f) => f.text)
      .join('')
      .replaceAll('\n', '\r\n'),
  },
];

describe('chunking does not change the records', () => {
  for (const { name, text } of INPUTS) {
    it(`${name}: string chunks`, () => {
      const ref = whole(text);
      fc.assert(
        fc.property(fc.array(fc.nat(), { maxLength: 12 }), (cuts) => {
          expect(chunked(splitAt(text, cuts))).toEqual(ref);
        }),
        { numRuns: 150 },
      );
    });

    it(`${name}: UTF-8 byte chunks (multi-byte characters split)`, () => {
      const ref = whole(text);
      const bytes = new TextEncoder().encode(text);
      fc.assert(
        fc.property(fc.array(fc.nat(), { maxLength: 12 }), (cuts) => {
          expect(chunked(splitAt(bytes, cuts))).toEqual(ref);
        }),
        { numRuns: 100 },
      );
    });
  }

  it('one character at a time', () => {
    for (const { text } of INPUTS) expect(chunked([...text])).toEqual(whole(text));
  });

  it('with a small line cap, long lines are cut the same way whatever the chunking', () => {
    const text = `${'x'.repeat(600)}RTKit: y\n${FIXTURES[0]!.text}${'z'.repeat(500)}`;
    const opts = { maxLineLength: 400, format: 'kernel' as const };
    const ref = whole(text, opts);
    expect(ref.filter((r) => r.type === 'warning').map((w) => w.line)).toEqual([1, 37]);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 10 }), (cuts) => {
        expect(chunked(splitAt(text, cuts), opts)).toEqual(ref);
      }),
      { numRuns: 200 },
    );
  });
});

describe('line handling', () => {
  const dmesg = FIXTURES.find((f) => f.name === 'dmesg-m2pro-boot.txt')!.text;

  it('CRLF gives the same records as LF', () => {
    expect(whole(dmesg.replaceAll('\n', '\r\n'))).toEqual(whole(dmesg));
  });

  it('a last line without newline is decoded at end()', () => {
    const text = dmesg.split('\n').slice(0, 13).join('\n');
    expect(whole(text)).toEqual(whole(`${text}\n`));
    const d = new TraceDecoder();
    const first = d.push(text);
    const last = d.end();
    expect(last.map((r) => r.line)).toEqual([13]);
    expect(first.length + last.length).toBe(whole(dmesg).length);
  });

  it('counts every line and ignores other drivers', () => {
    const d = new TraceDecoder();
    d.push(dmesg);
    d.end();
    expect(d.stats.lines).toBe(15);
    expect(d.stats.format).toBe('kernel');
    // 13 RTKit/macsmc lines of interest... minus the 11 with records = 4 pinctrl/dockchannel lines
    expect(d.stats.ignoredLines).toBe(4);
    expect(d.stats.records.message).toBe(6);
    expect(d.stats.records.init).toBe(3);
  });

  it('a UTF-8 BOM is skipped', () => {
    expect(whole(`\ufeff${dmesg}`)).toEqual(whole(dmesg));
  });

  it('push() after end() is misuse', () => {
    const d = new TraceDecoder();
    d.end();
    expect(() => d.push('x')).toThrowError(/BAD_INPUT/);
    expect(d.end()).toEqual([]);
  });

  /** The BAD_INPUT error `f` throws, or a failure naming what it did instead. */
  function badInput(f: () => unknown): RtkitError {
    try {
      f();
    } catch (e) {
      if (isRtkitError(e, 'BAD_INPUT')) return e;
      throw e;
    }
    throw new Error('expected RtkitError BAD_INPUT, nothing was thrown');
  }

  it.each([
    [{ format: 'bogus' }, /unknown trace format "bogus"/],
    [{ format: 'KERNEL' }, /unknown trace format/],
    [{ format: 42 }, /unknown trace format 42/],
    [{ maxLineLength: -1 }, /maxLineLength must be a whole number ≥ 1, got -1/],
    [{ maxLineLength: 0 }, /maxLineLength .* got 0/],
    [{ maxLineLength: Number.NaN }, /maxLineLength .* got NaN/],
    [{ maxLineLength: 1.5 }, /maxLineLength .* got 1\.5/],
    [{ maxLineLength: Number.POSITIVE_INFINITY }, /maxLineLength .* got Infinity/],
    [{ maxLineLength: '100' }, /maxLineLength .* got "100"/],
    [{ crashIdleLines: 0 }, /crashIdleLines .* got 0/],
    [{ crashIdleLines: -5 }, /crashIdleLines/],
    [{ crashIdleLines: 2.5 }, /crashIdleLines/],
    [{ maxCrashEntries: -1 }, /maxCrashEntries .* got -1/],
    [{ maxCrashEntries: Number.NaN }, /maxCrashEntries/],
    [{ maxCrashEntries: 10n }, /maxCrashEntries .* got 10/],
    [{ coproc: 7 }, /coproc must be a string/],
  ])('option %o is BAD_INPUT at construction', (opts, message) => {
    const e = badInput(() => new TraceDecoder(opts as unknown as TraceDecoderOptions));
    expect(e.message).toMatch(message);
    expect(() => decodeTrace('0 1\n', opts as unknown as TraceDecoderOptions)).toThrowError(
      /BAD_INPUT/,
    );
  });

  it('valid limits and formats are accepted', () => {
    for (const format of ['auto', 'jsonl', 'plain', 'kernel'] as const) {
      expect(() => new TraceDecoder({ format })).not.toThrow();
    }
    const d = new TraceDecoder({ maxLineLength: 1, crashIdleLines: 1, maxCrashEntries: 1 });
    expect(d.push('0 1\n')).toEqual([]);
    expect(() => new TraceDecoder(null as unknown as TraceDecoderOptions)).toThrowError(
      /BAD_INPUT/,
    );
  });

  it.each([
    ['a number', 123, 'number'],
    ['null', null, 'null'],
    ['an array of bytes', [0x30, 0x0a], 'object'],
    ['an object', { length: 3 }, 'object'],
  ])('push(%s) is BAD_INPUT', (_name, chunk, type) => {
    const d = new TraceDecoder();
    const e = badInput(() => d.push(chunk as unknown as string));
    expect(e.message).toMatch(/string or a Uint8Array/);
    expect(e.details).toEqual({ type });
    // The decoder is still usable after refusing the chunk.
    expect(d.push('> 0 0x00200000000c000c\n'.repeat(40)).length).toBe(40);
  });

  it('push() takes Node Buffers (a Uint8Array)', () => {
    expect(chunked([Buffer.from(PLAIN)])).toEqual(whole(PLAIN));
  });

  it('a huge line without newline keeps memory bounded and warns once', () => {
    const d = new TraceDecoder({ maxLineLength: 1000 });
    const out: TraceOutput[] = [];
    out.push(...d.push('[    1.000000] a b: hello\n'));
    for (let i = 0; i < 1000; i++) out.push(...d.push('y'.repeat(10_000)));
    out.push(...d.push('\n[    1.1] apple-dcp 1.dcp: RTKit: Initializing (protocol version 12)\n'));
    out.push(...d.end());
    expect(out.map((r) => r.type)).toEqual(['warning', 'init']);
    expect(out[0]).toMatchObject({ type: 'warning', code: 'LINE_TOO_LONG', line: 2 });
  });
});

const DEV = 'apple-dcp 231c00000.dcp';

function dump(opts: { entries: number; prefix?: string }): string {
  const p = opts.prefix ?? '[  100.000000] ';
  const l = (s: string) => `${p}${DEV}: ${s}`;
  const lines = [
    l('RTKit: co-processor has crashed'),
    l('RTKit: Message (id=1): panic: boom'),
    l('RTKit: Message (id=1): second line'),
    l('RTKit: Version: RTKit: RTKit-2413.41.1.release - Client: local-t600xdcp.release'),
    l('RTKit: Crash time: -1'),
    l('RTKit: Mailbox history (type = 4, index = -1)'),
  ];
  for (let i = 0; i < opts.entries; i++) {
    const ts = (0x1000 + i).toString(16).padStart(8, '0');
    const idx = String(i).padStart(3, '0');
    lines.push(l(`RTKit:  #${idx}@${ts}: 0000000000000002 005000000000002a`));
  }
  lines.push(
    'unrelated 1.x: line of another driver',
    l('RTKit: Unknown crashlog section: 43706374'),
    l('RTKit: Exception dump:'),
    l('  == Exception taken from EL1h =='),
    l('  PSR    = 0x60000005'),
    l('  PC     = 0xfffffe0001234567'),
    l('  ESR    = 0x96000045'),
    l('  FAR    = 0x10'),
    l('  SP     = 0xfffffe000abcdef0'),
    `${p}${DEV}: `,
    '',
  );
  for (let i = 0; i < 31; i += 4) {
    const n = Math.min(4, 31 - i);
    const vals = Array.from({ length: n }, (_, k) => (i + k).toString(16).padStart(16, '0'));
    lines.push(
      l(`  x${String(i).padStart(2, '0')}-x${String(i + 3).padStart(2, '0')} = ${vals.join(' ')}`),
    );
  }
  lines.push(`${p}${DEV}: `);
  return `${lines.join('\n')}\n`;
}

describe('crash dumps', () => {
  it('assembles a complete Linux dump', () => {
    const rs = whole(dump({ entries: 4 }));
    const crashes = rs.filter((r): r is CrashRecord => r.type === 'crash');
    expect(crashes).toHaveLength(1);
    const c = crashes[0]!;
    expect(c).toMatchObject({
      device: '231c00000.dcp',
      driver: 'apple-dcp',
      coproc: 'dcp',
      t: 100,
      crashed: true,
      line: 1,
      lines: { crashed: 1, version: 4, crashTime: 5 },
      version: { rtkitVersion: '2413.41.1', build: 'release', client: 'local-t600xdcp.release' },
      crashTime: '0xffffffffffffffff',
      crashTimeDecimal: '18446744073709551615',
      messages: [
        { id: '0x1', text: 'panic: boom' },
        { id: '0x1', text: 'second line' },
      ],
      notes: ['Unknown crashlog section: 43706374'],
    });
    expect(c.mailboxes).toHaveLength(1);
    expect(c.mailboxes[0]).toMatchObject({ type: 4, index: 0xffffffff, line: 6, entryCount: 4 });
    expect(c.exception).toMatchObject({
      el: 'EL1h',
      psr: '0x60000005',
      psrMode: 5,
      pc: '0xfffffe0001234567',
      esr: '0x96000045',
      esrEc: '0x25',
      esrClassName: 'Data abort from the same EL',
      esrIl: 1,
      esrIss: '0x45',
      far: '0x10',
      sp: '0xfffffe000abcdef0',
    });
    const regs = c.exception!.regs;
    expect(Object.keys(regs)).toHaveLength(31);
    expect(regs['x0']).toBe('0x0000000000000000');
    expect(regs['x30']).toBe('0x000000000000001e');
    expect(c.lines.exception[0]).toBe(13);
    // The crash record follows its history entries, which were emitted as they came.
    const msgs = rs.filter((r): r is MessageRecord => r.type === 'message');
    expect(msgs).toHaveLength(4);
    expect(msgs[0]).toMatchObject({
      origin: 'mailbox-history',
      ep: 2,
      endpoint: 'syslog',
      dir: 'iop->ap',
      kind: 'syslogLog',
      index: 0,
      timestamp: '0x00001000',
    });
    expect(msgs[1]!.dir).toBe('ap->iop');
    expect(rs.at(-1)).toBe(c);
    expect(rs.filter((r) => r.type === 'warning')).toEqual([]);
  });

  it('works without any prefix and without devices', () => {
    const text = dump({ entries: 2, prefix: '' }).replaceAll(`${DEV}: `, '');
    const c = whole(text).find((r): r is CrashRecord => r.type === 'crash')!;
    expect(c.device).toBeUndefined();
    expect(c.exception?.el).toBe('EL1h');
    expect(Object.keys(c.exception!.regs)).toHaveLength(31);
    expect(c.mailboxes[0]!.entryCount).toBe(2);
  });

  it('caps the entries kept in the record, but emits every message', () => {
    const rs = whole(dump({ entries: 10 }), { maxCrashEntries: 3 });
    const c = rs.find((r): r is CrashRecord => r.type === 'crash')!;
    expect(c.truncated).toBe(true);
    expect(c.mailboxes[0]!.entries).toHaveLength(3);
    expect(c.mailboxes[0]!.entryCount).toBe(10);
    expect(rs.filter((r) => r.type === 'message')).toHaveLength(10);
    const w = rs.filter((r) => r.type === 'warning');
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ code: 'CRASH_CAPPED', line: 10 });
  });

  it('another RTKit line of the same device ends the dump; other devices do not', () => {
    const text = [
      `${DEV}: RTKit: co-processor has crashed`,
      'macsmc-rtkit 23e400000.smc: RTKit: syslog message: a.c:1: x',
      `${DEV}: RTKit: Crash time: 5`,
      `${DEV}: RTKit: syslog message: b.c:2: y`,
      `${DEV}: RTKit: Crash time: 6`,
      `${DEV}: RTKit: co-processor has crashed`,
      '',
    ].join('\n');
    const rs = whole(text);
    expect(rs.map((r) => `${r.type}:${r.line}`)).toEqual([
      'syslog:2',
      'crash:1',
      'syslog:4',
      'crash:5',
      'crash:6',
    ]);
    const cs = rs.filter((r): r is CrashRecord => r.type === 'crash');
    expect(cs.map((c) => [c.crashed, c.crashTime ?? null, c.endLine])).toEqual([
      [true, '0x5', 3],
      [false, '0x6', 5],
      [true, null, 6],
    ]);
  });

  it('a dump idle for crashIdleLines lines is closed', () => {
    const filler = Array.from({ length: 10 }, (_, i) => `other ${i}: text`);
    const text = [
      `${DEV}: RTKit: co-processor has crashed`,
      ...filler,
      `${DEV}: RTKit: Crash time: 1`,
      '',
    ].join('\n');
    const rs = whole(text, { crashIdleLines: 5 });
    expect(rs.map((r) => `${r.type}:${r.line}`)).toEqual(['crash:1', 'crash:12']);
  });

  it('the two blank lines inside the #142 dump do not split it', () => {
    const f = FIXTURES.find((x) => x.name === 'dmesg-dcp-crash-142.txt')!;
    const cs = whole(f.text).filter((r) => r.type === 'crash');
    expect(cs).toHaveLength(1);
  });
});

describe('kernel log lines', () => {
  it('reads every §11 string', () => {
    const text = [
      'Mar 01 10:00:00 host kernel: [    5.000001] apple-dcp 1.dcp: RTKit: Firmware min version 13 is too new',
      '2024-05-05T14:29:36+02:00 host kernel: apple-dcp 1.dcp: RTKit: Firmware max version 10 is too old',
      'apple-dcp 1.dcp: RTKit: Message to undiscovered endpoint 0x2f',
      'apple-dcp 1.dcp: RTKit: Unknown ioreport message: 40000000000000',
      'apple-dcp 1.dcp: RTKit: Unknown syslog message: 9000000000000',
      'apple-dcp 1.dcp: RTKit: unknown management message: 0xf00000000000000 (type: 0xf0)',
      'apple-dcp 1.dcp: RTKit: message to unknown endpoint 05: 1234',
      'apple-dcp 1.dcp: RTKit: syslog message: a.c:1: host kernel: x',
      'apple-dcp 1.dcp: RTKit: Initializing (protocol version x)',
      'apple-dcp 1.dcp: RTKit:  #12@zz: 1 2',
      '',
    ].join('\n');
    const rs = whole(text);
    expect(rs[0]).toMatchObject({
      type: 'event',
      event: 'firmware-too-new',
      value: 13,
      time: 'Mar 01 10:00:00',
      t: 5.000001,
      device: '1.dcp',
      driver: 'apple-dcp',
      coproc: 'dcp',
    });
    expect(rs[1]).toMatchObject({
      event: 'firmware-too-old',
      value: 10,
      time: '2024-05-05T14:29:36+02:00',
    });
    expect(rs[2]).toMatchObject({ event: 'undiscovered-endpoint', endpoint: 0x2f });
    expect(rs[3]).toMatchObject({
      type: 'message',
      origin: 'unhandled',
      ep: 4,
      dir: 'iop->ap',
      msg: '0x0040000000000000',
      kind: 'ioreportQuery',
    });
    expect(rs[4]).toMatchObject({ ep: 2, msg: '0x0009000000000000' });
    expect(rs[5]).toMatchObject({ ep: 0, msg: '0x0f00000000000000' });
    expect(rs[6]).toMatchObject({ ep: 5, msg: '0x0000000000001234' });
    expect(rs[7]).toMatchObject({ type: 'syslog', device: '1.dcp', message: 'host kernel: x' });
    expect(rs[7]).not.toHaveProperty('time');
    expect(rs[8]).toMatchObject({ type: 'warning', code: 'MALFORMED_LINE', line: 9 });
    expect(rs[9]).toMatchObject({ type: 'warning', code: 'MALFORMED_LINE', line: 10 });
    expect(rs).toHaveLength(10);
  });

  it('dmesg -r lines keep their stamp; /dev/kmsg records give t and the driver', () => {
    const rs = whole(
      [
        '<4>[    1.234567] apple-dcp 231c00000.dcp: RTKit: Initializing (protocol version 12)',
        '6,1234,5678901,-;apple-dcp 231c00000.dcp: RTKit: syslog message: a.c:1: hello',
        '',
      ].join('\n'),
    );
    expect(rs).toEqual([
      {
        type: 'init',
        line: 1,
        t: 1.234567,
        device: '231c00000.dcp',
        driver: 'apple-dcp',
        coproc: 'dcp',
        protocolVersion: 12,
      },
      {
        type: 'syslog',
        line: 2,
        t: 5.678901,
        device: '231c00000.dcp',
        driver: 'apple-dcp',
        coproc: 'dcp',
        source: 'linux',
        context: 'a.c:1',
        message: 'hello',
      },
    ]);
  });

  describe('the fixtures decode the same with dmesg -r and /dev/kmsg prefixes', () => {
    const STAMP = /^\[\s*(\d+)\.(\d{6})\] /;
    const JOURNAL = /^.*? kernel: /;
    /** Rewrite each line; blank lines stay blank. */
    function rewrite(text: string, f: (line: string, n: number) => string): string {
      return text
        .split('\n')
        .map((l, n) => (l.length > 0 ? f(l, n) : l))
        .join('\n');
    }
    /** Records without the wall-clock and monotonic stamps (a kmsg record has only the latter). */
    function unstamped(rs: TraceOutput[]): unknown {
      return JSON.parse(JSON.stringify(rs, (k, v) => (k === 't' || k === 'time' ? undefined : v)));
    }

    for (const name of ['dmesg-m2pro-boot.txt', 'dmesg-dcp-syslog-truncated.txt']) {
      it(name, () => {
        const text = FIXTURES.find((x) => x.name === name)!.text;
        const ref = whole(text);
        expect(ref.some((r) => 't' in r)).toBe(true);
        const raw = rewrite(text, (l) => `<6>${l}`);
        expect(whole(raw)).toEqual(ref);
        const kmsg = rewrite(text, (l, n) => {
          const m = STAMP.exec(l)!;
          return `6,${n},${m[1]}${m[2]},-;${l.slice(m[0].length)}`;
        });
        expect(whole(kmsg)).toEqual(ref);
      });
    }

    it('dmesg-dcp-crash-142.txt (journald) as /dev/kmsg records', () => {
      const text = FIXTURES.find((x) => x.name === 'dmesg-dcp-crash-142.txt')!.text;
      const ref = whole(text);
      const kmsg = rewrite(text, (l, n) => l.replace(JOURNAL, `6,${n},${n}000001,-;`));
      const rs = whole(kmsg);
      expect(rs.map((r) => r.type)).toContain('crash');
      expect(unstamped(rs)).toEqual(unstamped(ref));
      for (const r of rs) {
        if (r.type !== 'warning') expect(r.t).toBe(Number(`${r.line - 1}000001`) / 1e6);
      }
    });
  });

  it('unknown RTKit lines become rtkit-line events, or notes of an open crash dump', () => {
    const rs = whole(
      [
        'apple-dcp 1.dcp: RTKit: something new',
        'apple-dcp 1.dcp: RTKit: co-processor has crashed',
        'apple-dcp 1.dcp: RTKit: something else',
        '',
      ].join('\n'),
    );
    expect(rs[0]).toMatchObject({ type: 'event', event: 'rtkit-line', text: 'something new' });
    expect(rs[1]).toMatchObject({ type: 'crash', notes: ['something else'], endLine: 3 });
    expect(rs).toHaveLength(2);
  });

  it('the Initializing line sets the protocol version for later decodes', () => {
    const text = [
      'x 1.aop: RTKit: Initializing (protocol version 10)',
      'x 1.aop: RTKit: message to unknown endpoint 06: 1',
      '',
    ].join('\n');
    const m = whole(text).find((r): r is MessageRecord => r.type === 'message')!;
    // v10 moves the first application endpoint down to 5 (HoolockLinux): 6 is an app endpoint.
    expect(m.fields['reason']).toMatch(/no aop protocol/);
    const without = whole(`${text.split('\n')[1]}\n`).find(
      (r): r is MessageRecord => r.type === 'message',
    )!;
    expect(without.fields['reason']).toMatch(/system endpoint/);
  });
});

describe('JSON-lines traces', () => {
  it('decodes with per-co-processor state (crash notification, SMC shmem address)', () => {
    const rs = whole(JSONL);
    const kinds = rs.map((r) => (r.type === 'message' ? r.kind : r.type));
    expect(kinds).toEqual([
      'warning',
      'hello',
      'helloAck',
      'crashlogBufferRequest',
      'smcInitialize',
      'smcShmemAddress',
      'smcReadKey',
      'smcReply',
      'crashNotification',
      'warning',
    ]);
    const m = rs[6] as MessageRecord;
    expect(m).toMatchObject({
      t: 0.006,
      coproc: 'smc',
      note: 'READ #KEY',
      line: 8,
      origin: 'trace',
    });
    expect(rs[0]).toMatchObject({ type: 'warning', code: 'MALFORMED_LINE', line: 2 });
    expect(rs[9]).toMatchObject({ type: 'warning', code: 'MALFORMED_LINE', line: 11 });
  });

  it('without a header the option coproc applies; without either, app endpoints stay unknown', () => {
    const body = JSONL.split('\n').slice(1).join('\n');
    expect(
      whole(body, { coproc: 'smc' })
        .filter((r) => r.type === 'message')
        .map((r) => (r as MessageRecord).kind),
    ).toContain('smcShmemAddress');
    const plain = whole(body).filter(
      (r): r is MessageRecord => r.type === 'message' && r.ep === 32,
    );
    expect(plain.every((m) => m.kind === 'unknown')).toBe(true);
  });
});

describe('plain traces', () => {
  it('directions, comments and malformed lines', () => {
    const rs = whole(PLAIN);
    expect(
      rs.map((r) => (r.type === 'message' ? [r.dir, r.ep, r.kind, r.note ?? null] : r.type)),
    ).toEqual([
      ['ap->iop', 0, 'helloAck', 'HELLO_ACK'],
      ['iop->ap', 2, 'syslogLog', null],
      ['ap->iop', 2, 'syslogLog', null],
      [null, 0, 'hello', null],
      'warning',
    ]);
    expect(rs[0]).toMatchObject({ origin: 'plain', line: 2, msg: '0x00200000000c000c' });
  });
});

describe('odd characters', () => {
  it('CRLF plain lines with comments, U+2028 inside texts', () => {
    const rs = whole('> 0 00200000000c000c # ack\r\n< 2 0050000000000001\r\n');
    expect(rs.map((r) => (r as MessageRecord).note ?? null)).toEqual(['ack', null]);
    const k = whole(
      [
        'x 1.dcp: RTKit: co-processor has crashed',
        'x 1.dcp: RTKit: Message (id=0): a\u2028b',
        '[syslog] * [c.cpp:1]d\u2028e',
        '',
      ].join('\n'),
    );
    expect(k[0]).toMatchObject({ type: 'syslog', message: 'd\u2028e' });
    expect(k[1]).toMatchObject({ type: 'crash', messages: [{ id: '0x0', text: 'a\u2028b' }] });
  });
});

describe('decodeTraceStream', () => {
  it('yields the same records from an async source', async () => {
    async function* src() {
      for (const f of FIXTURES.slice(0, 3)) yield f.text;
    }
    const got: TraceOutput[] = [];
    for await (const r of decodeTraceStream(src())) got.push(r);
    expect(got).toEqual(
      whole(
        FIXTURES.slice(0, 3)
          .map((f) => f.text)
          .join(''),
      ),
    );
  });

  it('rejects binary input with UNKNOWN_FORMAT', async () => {
    async function* src() {
      yield new Uint8Array(600).map((_, i) => (i * 37) & 0xff);
    }
    const it = decodeTraceStream(src());
    await expect(it.next()).rejects.toSatisfy((e) => isRtkitError(e, 'UNKNOWN_FORMAT'));
  });
});
