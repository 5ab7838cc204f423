/**
 * ROBUSTNESS.md section 2 (B9, B10, B23, B24) and B11's INIT part at the decoder level. The INIT
 * words of the recipes are decoded here by hand (count `[15:0]`, size `[39:24]`, §5.2); the word
 * codec and the echo are tested with the host session.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../errors.js';
import type { SyslogDecodeResult } from './decode-entry.js';
import { SyslogRing } from './syslog-ring.js';
import { writeSyslogEntry } from './write-entry.js';

const PAGE = 4096;

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

describe('SyslogRing: ROBUSTNESS.md B9 (index bounds)', () => {
  it('INIT count 4 size 0x80, LOG index 4 → out of range', () => {
    const { ring } = pageRing();
    // INIT 0x0080000080000004
    expect(ring.setInit(4, 0x80)).toMatchObject({ stride: 0xa0, usableEntries: 4, problems: [] });
    // LOG 0x0050000000000004
    expect(code(ring.decode(4))).toBe(ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE);
  });

  it('INIT count 255 → geometry invalid (25 usable); index 200 out of range; index 3 at 0x1E0', () => {
    const { ring, bytes } = pageRing();
    ring.setInit(4, 0x80);
    // INIT 0x00800000800000ff
    const g = ring.setInit(255, 0x80);
    expect(g.problems.map((p) => p.code)).toEqual([ErrorCode.SYSLOG_GEOMETRY_INVALID]);
    expect(g.usableEntries).toBe(25);
    // LOG 0x00500000000000c8: offset 200 × 0xA0 = 0x7D00 > 0x1000
    expect(code(ring.decode(200))).toBe(ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE);
    // LOG 0x0050000000000003
    bytes.set(new TextEncoder().encode('b9.c:3\0'), 0x1e0 + 8);
    bytes.set(new TextEncoder().encode('fits\n\0'), 0x1e0 + 32);
    const r = ring.decode(3);
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
    // INIT 0x0080000000000001
    const g = ring.setInit(1, 0);
    expect(g.usableEntries).toBe(0);
    expect(g.problems.map((p) => p.code)).toEqual([ErrorCode.SYSLOG_GEOMETRY_INVALID]);
    // LOG 0x0050000000000000
    expect(code(ring.decode(0))).toBe(ErrorCode.SYSLOG_GEOMETRY_INVALID);
  });

  it('INIT count 0 → geometry invalid, LOG not decoded', () => {
    const { ring } = pageRing();
    expect(ring.setInit(0, 0x80).usableEntries).toBe(0);
    expect(code(ring.decode(0))).toBe(ErrorCode.SYSLOG_GEOMETRY_INVALID);
  });
});

describe('SyslogRing: B23', () => {
  it('(a) INIT count 4, LOG index 0xff → out of range', () => {
    const { ring } = pageRing();
    ring.setInit(4, 0x80);
    expect(code(ring.decode(0xff))).toBe(ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE);
  });

  it('(b) context test.c:1 with an all-zero message → ""', () => {
    const { ring, bytes } = pageRing();
    ring.setInit(4, 0x80);
    bytes.set(new TextEncoder().encode('test.c:1'), 8);
    expect(bytes.subarray(32, 32 + 0x80).every((b) => b === 0)).toBe(true);
    expect(ring.decode(0)).toMatchObject({
      ok: true,
      entry: { context: 'test.c:1', message: '', messageUnterminated: false },
    });
  });

  it('(b) the same entry written by the simulator', () => {
    const { ring, bytes } = pageRing();
    const g = ring.setInit(4, 0x80);
    writeSyslogEntry(bytes, 0, g, { file: 'test.c', line: 1 }, '');
    expect(ring.decode(0)).toMatchObject({ ok: true, entry: { context: 'test.c:1', message: '' } });
  });

  it('(c) LOG before INIT → not initialized', () => {
    const { ring } = pageRing();
    expect(ring.geometry).toBeUndefined();
    expect(code(ring.decode(0))).toBe(ErrorCode.SYSLOG_NOT_INITIALIZED);
  });
});

describe('SyslogRing: B24 (no buffer view)', () => {
  it('INIT without any buffer view → LOG not decoded', () => {
    const ring = new SyslogRing();
    // Firmware-owned buffer 0x0010100801000000 that the host could not map.
    expect(ring.setBuffer(undefined)).toBeUndefined();
    expect(ring.setInit(4, 0x80).problems).toEqual([]);
    expect(ring.hasBuffer).toBe(false);
    const r = ring.decode(0);
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
    ring.setInit(4, 0x80); // 0x0080000080000004
    expect(code(ring.decode(5))).toBe(ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE);
    const g = ring.setInit(8, 0x40); // 0x0080000040000008
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
