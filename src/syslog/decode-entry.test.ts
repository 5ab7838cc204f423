import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../errors.js';
import { decodeSyslogEntry, type SyslogDecodeResult, type SyslogEntry } from './decode-entry.js';

const ascii = new TextEncoder();

/** A ring of `count` entries of message size `size`, filled with stale 0xAA bytes. */
function ring(count: number, size: number, fill = 0xaa): Uint8Array {
  return new Uint8Array(count * (0x20 + size)).fill(fill);
}

/** Put raw bytes into entry `index` at `at` (entry-relative). */
function put(r: Uint8Array, size: number, index: number, at: number, bytes: ArrayLike<number>) {
  r.set(bytes, index * (0x20 + size) + at);
}

function text(s: string): number[] {
  return [...ascii.encode(s)];
}

function ok(result: SyslogDecodeResult): SyslogEntry {
  if (!result.ok)
    throw new Error(`expected a decoded entry, got ${result.code}: ${result.message}`);
  return result.entry;
}

function code(result: SyslogDecodeResult): string | undefined {
  return result.ok ? undefined : result.code;
}

const G = { entryCount: 4, messageSize: 0x80 };

describe('decodeSyslogEntry: layout (§8)', () => {
  it('reads header, word1 (little-endian), context and message of entry i at i × stride', () => {
    const r = ring(4, 0x80, 0);
    put(r, 0x80, 2, 0, [0x78, 0x56, 0x34, 0x12, 0xff, 0xff, 0xff, 0xff]);
    put(r, 0x80, 2, 8, text('apcie.c:962\0'));
    put(r, 0x80, 2, 32, text('power up done[1]: PMU=Undefined, PWR=0\0'));
    expect(ok(decodeSyslogEntry(r, 2, G))).toEqual({
      index: 2,
      offset: 0x140,
      header: 0x12345678,
      word1: 0xffffffff,
      context: 'apcie.c:962',
      message: 'power up done[1]: PMU=Undefined, PWR=0',
      contextUnterminated: false,
      messageUnterminated: false,
    });
  });

  it('does not modify the ring', () => {
    const r = ring(4, 0x80);
    put(r, 0x80, 1, 32, text('x\n\0'));
    const before = r.slice();
    decodeSyslogEntry(r, 1, G);
    expect(r).toEqual(before);
  });
});

describe('decodeSyslogEntry: S2 context', () => {
  it('cuts at the first NUL and ignores stale bytes after it', () => {
    const r = ring(4, 0x80);
    put(r, 0x80, 0, 8, text('cmd.c:6074\0garbage'));
    put(r, 0x80, 0, 32, [0]);
    const e = ok(decodeSyslogEntry(r, 0, G));
    expect(e.context).toBe('cmd.c:6074');
    expect(e.contextUnterminated).toBe(false);
  });

  it('takes all 24 bytes and flags an unterminated context', () => {
    const r = ring(4, 0x80);
    put(r, 0x80, 0, 8, text('UnifiedPipeline.cpp:1356'));
    put(r, 0x80, 0, 32, [0]);
    const e = ok(decodeSyslogEntry(r, 0, G));
    expect(e.context).toBe('UnifiedPipeline.cpp:1356');
    expect(e.contextUnterminated).toBe(true);
  });

  it('is not trimmed (S4 is a message rule)', () => {
    const r = ring(4, 0x80);
    put(r, 0x80, 0, 8, text(' a.c:1 \n\0'));
    put(r, 0x80, 0, 32, [0]);
    expect(ok(decodeSyslogEntry(r, 0, G)).context).toBe(' a.c:1 \n');
  });
});

describe('decodeSyslogEntry: S3/S4 message', () => {
  const cases: [string, number[], string, boolean][] = [
    ['plain', text('hello\0'), 'hello', false],
    ['trailing LF (AsahiLinux/linux#295)', text('state: 1\n\0'), 'state: 1', false],
    ['LF before NUL, stale text after it', text('abc\n\0stale tail\n'), 'abc', false],
    ['stale LF after NUL', text('abc\0\n\n\n'), 'abc', false],
    ['CR, LF, spaces repeatedly', text('abc \r\n \n\r  \0'), 'abc', false],
    ['leading TAB kept (SMC)', text('\tElec: Elec Cause 0x0\0'), '\tElec: Elec Cause 0x0', false],
    ['leading space kept (NVMe)', text(' boot mode normal\0'), ' boot mode normal', false],
    ['leading LF kept', text('\nabc\n\0'), '\nabc', false],
    ['trailing TAB kept (not in the S4 set)', text('abc\t\n\0'), 'abc\t', false],
    ['only whitespace → empty', text(' \r\n\0'), '', false],
    ['empty (B23 b)', [0], '', false],
    ['first NUL wins over later ones', text('a\0b\0c\0'), 'a', false],
  ];
  for (const [name, bytes, expected, unterminated] of cases) {
    it(name, () => {
      const r = ring(4, 0x80);
      put(r, 0x80, 1, 8, text('f.c:1\0'));
      put(r, 0x80, 1, 32, bytes);
      const e = ok(decodeSyslogEntry(r, 1, G));
      expect(e.message).toBe(expected);
      expect(e.messageUnterminated).toBe(unterminated);
    });
  }

  it('takes the whole field and flags an unterminated message, trimmed', () => {
    const size = 8;
    const r = ring(2, size);
    put(r, size, 1, 8, text('f.c:1\0'));
    put(r, size, 1, 32, text('abcdef \n'));
    const e = ok(decodeSyslogEntry(r, 1, { entryCount: 2, messageSize: size }));
    expect(e.message).toBe('abcdef');
    expect(e.messageUnterminated).toBe(true);
  });

  it('never reads the next entry for an unterminated message', () => {
    const size = 4;
    const r = ring(2, size, 0x41);
    const e = ok(decodeSyslogEntry(r, 0, { entryCount: 2, messageSize: size }));
    expect(e.message).toBe('AAAA');
    expect(e.context).toBe('A'.repeat(24));
  });
});

describe('decodeSyslogEntry: S5 UTF-8', () => {
  it('decodes UTF-8 and replaces invalid sequences with U+FFFD', () => {
    const r = ring(4, 0x80);
    put(r, 0x80, 0, 8, [0x66, 0xff, 0x3a, 0x31, 0]);
    put(r, 0x80, 0, 32, [...text('Mär '), 0xe2, 0x82, 0x0a, 0x00]);
    const e = ok(decodeSyslogEntry(r, 0, G));
    expect(e.context).toBe('f\ufffd:1');
    expect(e.message).toBe('Mär \ufffd');
  });

  it('keeps a leading byte-order mark (leading characters are content)', () => {
    const r = ring(4, 0x80);
    put(r, 0x80, 0, 8, [0]);
    put(r, 0x80, 0, 32, [0xef, 0xbb, 0xbf, 0x61, 0]);
    expect(ok(decodeSyslogEntry(r, 0, G)).message).toBe('\ufeffa');
  });
});

describe('decodeSyslogEntry: S1 bounds', () => {
  it('index == count is out of range (B9: ML tests idx > n)', () => {
    expect(code(decodeSyslogEntry(ring(8, 0x80), 4, G))).toBe(ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE);
  });

  it('the last entry may end exactly at the end of the ring, not one byte beyond', () => {
    const g = { entryCount: 4, messageSize: 0x80 };
    const exact = ring(4, 0x80);
    expect(decodeSyslogEntry(exact, 3, g).ok).toBe(true);
    expect(code(decodeSyslogEntry(exact.subarray(0, exact.length - 1), 3, g))).toBe(
      ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE,
    );
    expect(decodeSyslogEntry(exact.subarray(0, exact.length - 1), 2, g).ok).toBe(true);
  });

  it('bad indices are out of range', () => {
    const r = ring(4, 0x80);
    for (const i of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, 0xff]) {
      expect(code(decodeSyslogEntry(r, i, G))).toBe(ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE);
    }
  });

  it('unusable geometry numbers are SYSLOG_GEOMETRY_INVALID', () => {
    const r = ring(4, 0x80);
    for (const [entryCount, messageSize] of [
      [1, 0],
      [0, 0x80],
      [4, -1],
      [4, 0.5],
      [Number.NaN, 0x80],
      [4, Number.POSITIVE_INFINITY],
    ] as const) {
      expect(code(decodeSyslogEntry(r, 0, { entryCount, messageSize }))).toBe(
        ErrorCode.SYSLOG_GEOMETRY_INVALID,
      );
    }
  });

  it('an empty ring decodes nothing', () => {
    expect(code(decodeSyslogEntry(new Uint8Array(0), 0, G))).toBe(
      ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE,
    );
  });

  it('reads from a view of shared memory', () => {
    const shared = new Uint8Array(new SharedArrayBuffer(4 * 0xa0));
    shared.set(text('s.c:2\0'), 0xa0 + 8);
    shared.set(text('shared\n\0'), 0xa0 + 32);
    expect(ok(decodeSyslogEntry(shared, 1, G)).message).toBe('shared');
  });

  it('honours the view bounds of a subarray of a larger buffer', () => {
    const backing = new Uint8Array(0x1000).fill(0x41);
    const view = backing.subarray(0x100, 0x100 + 0xa0 * 2 - 1);
    expect(decodeSyslogEntry(view, 0, G).ok).toBe(true);
    expect(code(decodeSyslogEntry(view, 1, G))).toBe(ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE);
  });
});

describe('decodeSyslogEntry: fuzz', () => {
  it('never throws and never depends on bytes outside the entry', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2048 }),
        anyNumber(),
        anyNumber(),
        anyNumber(),
        (bytes, entryCount, messageSize, index) => {
          const geometry = { entryCount, messageSize };
          const before = bytes.slice();
          const result = decodeSyslogEntry(bytes, index, geometry);
          expect(bytes).toEqual(before);
          if (!result.ok) {
            expect([
              ErrorCode.SYSLOG_GEOMETRY_INVALID,
              ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE,
            ]).toContain(result.code);
            return;
          }
          const { entry } = result;
          const stride = 0x20 + messageSize;
          expect(entry.index).toBe(index);
          expect(entry.offset).toBe(index * stride);
          expect(index).toBeLessThan(entryCount);
          expect(entry.offset + stride).toBeLessThanOrEqual(bytes.length);
          // Change every byte outside the entry: the decode must not notice.
          const other = bytes.map((b, i) =>
            i >= entry.offset && i < entry.offset + stride ? b : b ^ 0xff,
          );
          expect(decodeSyslogEntry(other, index, geometry)).toEqual(result);
          // Each UTF-8 byte yields at most one UTF-16 unit.
          expect(entry.context.length).toBeLessThanOrEqual(24);
          expect(entry.message.length).toBeLessThanOrEqual(messageSize);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('decodes in-range entries of well-formed geometries', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 160 }),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (entryCount, messageSize, seed, extra) => {
          const bytes = new Uint8Array(entryCount * (0x20 + messageSize) + extra);
          for (let i = 0; i < bytes.length; i++) bytes[i] = (seed + i * 131) & 0xff;
          for (let index = 0; index < entryCount; index++) {
            expect(decodeSyslogEntry(bytes, index, { entryCount, messageSize }).ok).toBe(true);
          }
        },
      ),
    );
  });
});

/** Geometry-like numbers, well-formed or not. */
function anyNumber(): fc.Arbitrary<number> {
  return fc.oneof(
    fc.integer({ min: -4, max: 300 }),
    fc.constantFrom(
      0,
      -0,
      -1,
      0.5,
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      2 ** 32,
      2 ** 53,
      2 ** 53 - 1,
      Number.MAX_VALUE,
    ),
    fc.double(),
    fc.integer(),
  );
}
