/**
 * ROBUSTNESS.md section 2 (B9, B10, B23, B24) and B11's INIT part at the decoder level. The recipes'
 * INIT and LOG words go through the word codec (`decode`, §5.2: count `[15:0]`, size `[39:24]`,
 * index `[7:0]`), and the numbers it gives feed the ring, so a wrong field position in the codec
 * fails these tests too. The echo itself is tested with the host session.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../errors.js';
import { decode, Endpoint, encode, notesFor } from '../protocol/index.js';
import type { SyslogDecodeResult } from './decode-entry.js';
import { SyslogRing } from './syslog-ring.js';
import { writeSyslogEntry } from './write-entry.js';

const PAGE = 4096;
const IOP = { dir: 'iop->ap' } as const;

/** The recipes' common setup: a 1-page buffer (`0x0010100000000000`, IOVA 0), zero-filled. */
function pageRing(): { ring: SyslogRing; bytes: Uint8Array } {
  const ring = new SyslogRing();
  const bytes = new Uint8Array(PAGE);
  ring.setBuffer(bytes);
  return { ring, bytes };
}

function code(r: SyslogDecodeResult): string | undefined {
  return r.ok ? undefined : r.code;
}

/** A recipe's INIT word, decoded by the codec, applied to the ring. */
function initWord(ring: SyslogRing, word: bigint): ReturnType<SyslogRing['setInit']> {
  const m = decode(Endpoint.Syslog, word, IOP);
  if (m.kind !== 'syslogInit') throw new Error(`0x${word.toString(16)} decoded as ${m.kind}`);
  return ring.setInit(m.entryCount, m.messageSize);
}

/** A recipe's LOG word, decoded by the codec; the ring decodes the entry it points at. */
function logWord(ring: SyslogRing, word: bigint): SyslogDecodeResult {
  const m = decode(Endpoint.Syslog, word, IOP);
  if (m.kind !== 'syslogLog') throw new Error(`0x${word.toString(16)} decoded as ${m.kind}`);
  // The echo the host sends back is the identical word (§5.2, ROBUSTNESS.md §2 preamble).
  expect(encode(m)).toBe(word);
  return ring.decode(m.index);
}

describe('the recipe words decode to the recipe numbers', () => {
  it.each([
    ['0x0080000080000004', 4, 0x80, []],
    ['0x00800000800000ff', 255, 0x80, []],
    // B10: the codec already notes the zero size; the ring reports it as a geometry problem.
    ['0x0080000000000001', 1, 0, ['SYSLOG_GEOMETRY_INVALID']],
    ['0x0080000040000008', 8, 0x40, []],
  ])('INIT %s', (word, entryCount, messageSize, notes) => {
    const m = decode(Endpoint.Syslog, BigInt(word), IOP);
    expect(m).toEqual({ kind: 'syslogInit', entryCount, messageSize });
    // No SYSLOG_INIT_WIDE_FIELDS: the recipes stay inside the fields every host reads.
    expect(notesFor(m, IOP).map((n) => n.code)).toEqual(notes);
  });

  it.each([
    ['0x0050000000000004', 4],
    ['0x00500000000000c8', 200],
    ['0x0050000000000003', 3],
    ['0x00500000000000ff', 255],
    ['0x0050000000000000', 0],
  ])('LOG %s', (word, index) => {
    expect(decode(Endpoint.Syslog, BigInt(word), IOP)).toEqual({ kind: 'syslogLog', index });
  });
});

describe('SyslogRing: ROBUSTNESS.md B9 (index bounds)', () => {
  it('INIT count 4 size 0x80, LOG index 4 → out of range', () => {
    const { ring } = pageRing();
    expect(initWord(ring, 0x0080000080000004n)).toMatchObject({
      entryCount: 4,
      messageSize: 0x80,
      stride: 0xa0,
      usableEntries: 4,
      problems: [],
    });
    expect(code(logWord(ring, 0x0050000000000004n))).toBe(ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE);
  });

  it('INIT count 255 → geometry invalid (25 usable); index 200 out of range; index 3 at 0x1E0', () => {
    const { ring, bytes } = pageRing();
    initWord(ring, 0x0080000080000004n);
    const g = initWord(ring, 0x00800000800000ffn);
    expect(g).toMatchObject({ entryCount: 255, messageSize: 0x80, stride: 0xa0 });
    expect(g.problems.map((p) => p.code)).toEqual([ErrorCode.SYSLOG_GEOMETRY_INVALID]);
    expect(g.usableEntries).toBe(25);
    // Index 200: offset 200 × 0xA0 = 0x7D00 > 0x1000.
    expect(code(logWord(ring, 0x00500000000000c8n))).toBe(ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE);
    bytes.set(new TextEncoder().encode('b9.c:3\0'), 0x1e0 + 8);
    bytes.set(new TextEncoder().encode('fits\n\0'), 0x1e0 + 32);
    const r = logWord(ring, 0x0050000000000003n);
    expect(r).toMatchObject({ ok: true, entry: { index: 3, offset: 0x1e0, context: 'b9.c:3' } });
    expect(r.ok && r.entry.message).toBe('fits');
    // The boundary: entry 24 ends at 0xFA0 ≤ 0x1000, entry 25 would end at 0x1040.
    expect(ring.decode(24).ok).toBe(true);
    expect(code(ring.decode(25))).toBe(ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE);
  });
});

describe('SyslogRing: B10 (zero count or size)', () => {
  it('INIT count 1 size 0 → geometry invalid, LOG not decoded', () => {
    const { ring } = pageRing();
    const g = initWord(ring, 0x0080000000000001n);
    expect(g).toMatchObject({ entryCount: 1, messageSize: 0, usableEntries: 0 });
    expect(g.problems.map((p) => p.code)).toEqual([ErrorCode.SYSLOG_GEOMETRY_INVALID]);
    expect(code(logWord(ring, 0x0050000000000000n))).toBe(ErrorCode.SYSLOG_GEOMETRY_INVALID);
  });

  it('INIT count 0 → geometry invalid, LOG not decoded', () => {
    const { ring } = pageRing();
    expect(initWord(ring, 0x0080000080000000n).usableEntries).toBe(0);
    expect(code(logWord(ring, 0x0050000000000000n))).toBe(ErrorCode.SYSLOG_GEOMETRY_INVALID);
  });
});

describe('SyslogRing: B23', () => {
  it('(a) INIT count 4, LOG index 0xff → out of range', () => {
    const { ring } = pageRing();
    initWord(ring, 0x0080000080000004n);
    expect(code(logWord(ring, 0x00500000000000ffn))).toBe(ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE);
  });

  it('(b) context test.c:1 with an all-zero message → ""', () => {
    const { ring, bytes } = pageRing();
    initWord(ring, 0x0080000080000004n);
    bytes.set(new TextEncoder().encode('test.c:1'), 8);
    expect(bytes.subarray(32, 32 + 0x80).every((b) => b === 0)).toBe(true);
    expect(logWord(ring, 0x0050000000000000n)).toMatchObject({
      ok: true,
      entry: { index: 0, offset: 0, context: 'test.c:1', message: '', messageUnterminated: false },
    });
  });

  it('(b) the same entry written by the simulator', () => {
    const { ring, bytes } = pageRing();
    const g = initWord(ring, 0x0080000080000004n);
    writeSyslogEntry(bytes, 0, g, { file: 'test.c', line: 1 }, '');
    expect(logWord(ring, 0x0050000000000000n)).toMatchObject({
      ok: true,
      entry: { context: 'test.c:1', message: '' },
    });
  });

  it('(c) LOG before INIT → not initialized', () => {
    const { ring } = pageRing();
    expect(ring.geometry).toBeUndefined();
    expect(code(logWord(ring, 0x0050000000000000n))).toBe(ErrorCode.SYSLOG_NOT_INITIALIZED);
  });
});

describe('SyslogRing: B24 (no buffer view)', () => {
  it('INIT without any buffer view → LOG not decoded', () => {
    const ring = new SyslogRing();
    // Firmware-owned buffer 0x0010100801000000 that the host could not map.
    expect(ring.setBuffer(undefined)).toBeUndefined();
    expect(initWord(ring, 0x0080000080000004n).problems).toEqual([]);
    expect(ring.hasBuffer).toBe(false);
    const r = logWord(ring, 0x0050000000000000n);
    expect(code(r)).toBe(ErrorCode.SYSLOG_NOT_INITIALIZED);
    expect(r.ok ? '' : r.message).toContain('no syslog buffer');
  });

  it('dropping the view stops decoding', () => {
    const { ring } = pageRing();
    ring.setInit(4, 0x80);
    expect(ring.decode(0).ok).toBe(true);
    ring.setBuffer(undefined);
    expect(code(ring.decode(0))).toBe(ErrorCode.SYSLOG_NOT_INITIALIZED);
  });
});

describe('SyslogRing: B11 (a new INIT replaces the geometry)', () => {
  it('INIT count 4 size 0x80, then count 8 size 0x40', () => {
    const { ring, bytes } = pageRing();
    initWord(ring, 0x0080000080000004n);
    expect(code(ring.decode(5))).toBe(ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE);
    const g = initWord(ring, 0x0080000040000008n);
    expect(g).toMatchObject({ entryCount: 8, messageSize: 0x40, stride: 0x60, problems: [] });
    expect(ring.geometry).toMatchObject({ entryCount: 8, messageSize: 0x40 });
    writeSyslogEntry(bytes, 5, g, { context: 'b11.c:5' }, 'new geometry');
    expect(ring.decode(5)).toMatchObject({
      ok: true,
      entry: { offset: 5 * 0x60, context: 'b11.c:5', message: 'new geometry' },
    });
  });

  it('a valid INIT after an invalid one makes the ring usable again', () => {
    const { ring } = pageRing();
    ring.setInit(1, 0);
    expect(ring.setInit(4, 0x80).problems).toEqual([]);
    expect(ring.decode(0).ok).toBe(true);
  });
});

describe('SyslogRing: either order (§12 row 19)', () => {
  it('INIT before the buffer: the geometry is checked when the buffer arrives', () => {
    const ring = new SyslogRing();
    expect(ring.setInit(255, 0x80)).toMatchObject({ usableEntries: 255, problems: [] });
    const g = ring.setBuffer(new Uint8Array(PAGE));
    expect(g?.usableEntries).toBe(25);
    expect(g?.bufferSize).toBe(PAGE);
    expect(g?.problems.map((p) => p.code)).toEqual([ErrorCode.SYSLOG_GEOMETRY_INVALID]);
  });

  it('reset forgets INIT and buffer', () => {
    const { ring } = pageRing();
    ring.setInit(4, 0x80);
    ring.reset();
    expect(ring.geometry).toBeUndefined();
    expect(ring.hasBuffer).toBe(false);
    expect(code(ring.decode(0))).toBe(ErrorCode.SYSLOG_NOT_INITIALIZED);
  });
});

describe('SyslogRing: fuzz', () => {
  const anyNumber = fc.oneof(
    fc.integer({ min: -2, max: 300 }),
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -1, 0.5, 2 ** 53, Number.MAX_VALUE),
    fc.double(),
  );
  const op = fc.oneof(
    fc.record({ kind: fc.constant('init' as const), count: anyNumber, size: anyNumber }),
    fc.record({
      kind: fc.constant('buffer' as const),
      bytes: fc.option(fc.uint8Array({ maxLength: 3000 }), { nil: undefined }),
    }),
    fc.record({ kind: fc.constant('log' as const), index: anyNumber }),
    fc.constant({ kind: 'reset' as const }),
  );

  it('never throws, whatever the order and the numbers', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const ring = new SyslogRing();
        let init = false;
        let buffer = false;
        for (const o of ops) {
          if (o.kind === 'init') {
            ring.setInit(o.count, o.size);
            init = true;
          } else if (o.kind === 'buffer') {
            ring.setBuffer(o.bytes);
            buffer = o.bytes !== undefined;
          } else if (o.kind === 'reset') {
            ring.reset();
            init = false;
            buffer = false;
          } else {
            const r = ring.decode(o.index);
            if (!init || !buffer) expect(code(r)).toBe(ErrorCode.SYSLOG_NOT_INITIALIZED);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
