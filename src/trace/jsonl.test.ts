import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hex64 } from '../protocol/word.js';
import { decodeTrace } from './decoder.js';
import {
  formatTraceEntry,
  formatTraceHeader,
  parseTraceLine,
  type TraceEntryInput,
  TraceWriter,
} from './jsonl.js';
import type { MessageRecord } from './records.js';

const u32 = fc.nat({ max: 0xffff_ffff });
const entry = fc.record(
  {
    t: fc.double({ min: 0, max: 1e6, noNaN: true }),
    dir: fc.constantFrom('ap->iop' as const, 'iop->ap' as const),
    ep: fc.nat({ max: 255 }),
    hi: u32,
    lo: u32,
    coproc: fc.constantFrom('smc', 'dcp', 'gpu'),
    device: fc.string({ maxLength: 20 }),
    note: fc.string({ maxLength: 30 }),
    seq: fc.nat(),
  },
  { requiredKeys: ['t', 'dir', 'ep', 'hi', 'lo'] },
);

describe('our JSON-lines trace format', () => {
  it('the header line', () => {
    expect(formatTraceHeader()).toBe('{"rtkitTrace":1,"timeUnit":"s"}');
    expect(formatTraceHeader({ coproc: 'smc', source: 'rtkit sim' })).toBe(
      '{"rtkitTrace":1,"coproc":"smc","source":"rtkit sim","timeUnit":"s"}',
    );
    expect(parseTraceLine('{"rtkitTrace":1,"coproc":"smc"}')).toEqual({
      k: 'header',
      header: { rtkitTrace: 1, coproc: 'smc', timeUnit: 's' },
    });
    expect(parseTraceLine('{"rtkitTrace":2}')).toMatchObject({
      k: 'error',
      code: 'BAD_TRACE_HEADER',
    });
  });

  it('a record line, fixed key order', () => {
    expect(
      formatTraceEntry({ t: 0.5, dir: 'ap->iop', coproc: 'smc', ep: 32, msg: 0x17n, note: 'INIT' }),
    ).toBe(
      '{"t":0.5,"dir":"ap->iop","coproc":"smc","ep":32,"msg":"0x0000000000000017","note":"INIT"}',
    );
    expect(formatTraceEntry({ t: 1, dir: 'iop->ap', ep: 0, msg: '100000000c000b' })).toBe(
      '{"t":1,"dir":"iop->ap","ep":0,"msg":"0x00100000000c000b"}',
    );
  });

  it('write → read round-trips', () => {
    fc.assert(
      fc.property(entry, (e) => {
        const input: TraceEntryInput = { ...e, msg: { hi: e.hi, lo: e.lo } };
        const line = formatTraceEntry(input);
        expect(JSON.parse(line).msg).toBe(hex64(e.hi, e.lo));
        const r = parseTraceLine(line);
        const { hi, lo, ...rest } = e;
        expect(r).toEqual({ k: 'entry', entry: { ...rest, hi, lo } });
      }),
    );
  });

  it('refuses invalid values when writing', () => {
    expect(() => formatTraceEntry({ t: 0, dir: 'ap->iop', ep: 256, msg: 0n })).toThrow(RangeError);
    expect(() => formatTraceEntry({ t: 0, dir: 'ap->iop', ep: 1, msg: 1n << 64n })).toThrow(
      RangeError,
    );
    expect(() => formatTraceEntry({ t: 0, dir: 'ap->iop', ep: 1, msg: 'xyz' })).toThrow(RangeError);
    expect(() => formatTraceEntry({ t: Number.NaN, dir: 'ap->iop', ep: 1, msg: 0n })).toThrow(
      RangeError,
    );
  });

  it('reading is tolerant of missing t/dir, strict about ep and msg', () => {
    expect(parseTraceLine('{"ep":2,"msg":"5"}')).toEqual({
      k: 'entry',
      entry: { dir: null, ep: 2, hi: 0, lo: 5 },
    });
    expect(parseTraceLine('{"ep":2.5,"msg":"5"}')).toMatchObject({ code: 'INVALID_ENDPOINT' });
    expect(parseTraceLine('{"ep":2,"msg":5}')).toMatchObject({ code: 'MALFORMED_LINE' });
    expect(parseTraceLine('{"ep":2,"msg":"5","dir":"up"}')).toMatchObject({
      code: 'MALFORMED_LINE',
    });
    expect(parseTraceLine('[1]')).toMatchObject({ k: 'error' });
    expect(parseTraceLine('   ')).toEqual({ k: 'blank' });
  });

  it('TraceWriter output decodes back through the trace decoder', () => {
    const lines: string[] = [];
    const w = new TraceWriter((l) => lines.push(l), { header: { coproc: 'smc' }, seq: true });
    w.record({ t: 0, dir: 'ap->iop', ep: 32, msg: 0x17n });
    w.recordWords(0.001, 'iop->ap', 32, 0x2, 0x3fe00000);
    w.recordWords(0.002, 'ap->iop', 32, 0x234b4559, 0x00041010);
    expect(lines.every((l) => l.endsWith('\n'))).toBe(true);
    const rs = decodeTrace(lines.join('')) as MessageRecord[];
    expect(rs.map((r) => [r.kind, r.seq, r.coproc, r.t])).toEqual([
      ['smcInitialize', 0, 'smc', 0],
      ['smcShmemAddress', 1, 'smc', 0.001],
      ['smcReadKey', 2, 'smc', 0.002],
    ]);
  });
});
