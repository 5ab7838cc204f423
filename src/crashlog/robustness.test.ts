// ROBUSTNESS.md §1 recipes (B1–B7, B22, B37) and the PROTOCOL.md §7.2 container rules, built
// with the document's byte notation. Every buffer is the recipe's 4096-byte window inside a larger
// ArrayBuffer full of a poison byte, so any read outside the window would surface in the result.
import { describe, expect, it } from 'vitest';
import { isRtkitError } from '../errors.js';
import { CrashlogCode } from './codes.js';
import { crashlogToJson } from './json.js';
import { parseCrashlog } from './parse.js';
import { ByteReader, READ_OUT_OF_RANGE } from './reader.js';
import type { CrashlogResult, CrashReport, ParseCrashlogOptions } from './types.js';

const POISON = 0xee;
const FOURCC: Record<string, number[]> = {
  Cstr: [0x72, 0x74, 0x73, 0x43],
  Cver: [0x72, 0x65, 0x76, 0x43],
  Ctim: [0x6d, 0x69, 0x74, 0x43],
  Cmbx: [0x78, 0x62, 0x6d, 0x43],
  Crg8: [0x38, 0x67, 0x72, 0x43],
  Cunk: [0x6b, 0x6e, 0x75, 0x43],
};

const u32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
const HDR = (t: number): number[] => [
  ...[0x45, 0x48, 0x4c, 0x43, 0x03, 0x03, 0x00, 0x00],
  ...u32(t),
  ...[0, 0, 0, 0],
  ...new Array<number>(16).fill(0),
];
const FTR = HDR;
const SEC = (name: string, n: number): number[] => [
  ...FOURCC[name]!,
  ...[0, 0, 0, 0],
  ...[0x00, 0x01, 0x00, 0x00],
  ...u32(n),
];
const fill = (n: number, byte: number): number[] => new Array<number>(n).fill(byte);

/** A zero-filled `len`-byte window (default 4096) in a poisoned ArrayBuffer, with bytes placed. */
function window(parts: [number, number[]][], len = 4096): Uint8Array {
  const backing = new Uint8Array(len + 8192).fill(POISON);
  const buf = backing.subarray(4096, 4096 + len);
  buf.fill(0);
  for (const [off, bytes] of parts) buf.set(bytes, off);
  return buf;
}

/** Parse, then check that nothing outside the window reached the result. */
function parse(buf: Uint8Array, opts?: ParseCrashlogOptions): CrashlogResult {
  const res = parseCrashlog(buf, opts);
  if (res.ok) assertNoLeak(res.report, buf);
  return res;
}

function assertNoLeak(report: CrashReport, buf: Uint8Array): void {
  for (const s of report.sections) {
    expect(s.raw.buffer).toBe(buf.buffer);
    expect(s.raw.byteOffset).toBeGreaterThanOrEqual(buf.byteOffset + 32);
    expect(s.raw.byteOffset + s.raw.byteLength).toBeLessThanOrEqual(buf.byteOffset + report.limit);
    expect(s.raw.includes(POISON)).toBe(false);
  }
  const json = JSON.stringify(crashlogToJson(report));
  expect(json).not.toMatch(/\ufffd|eeeeeeee/);
  expect(report.warnings.map((w) => w.code)).not.toContain(CrashlogCode.SECTION_DECODE_FAILED);
}

function ok(res: CrashlogResult): CrashReport {
  if (!res.ok) throw new Error(`expected a report, got ${res.error.message}`);
  return res.report;
}

const codes = (r: CrashReport) => r.warnings.map((w) => w.code);

describe('ROBUSTNESS §1 recipes', () => {
  it('B1: a zero-size section stops the walk with SECTION_SIZE_INVALID, promptly', () => {
    const buf = window([
      [0, HDR(0x100)],
      [0x20, SEC('Cstr', 0)],
    ]);
    const t0 = performance.now();
    const r = ok(parse(buf));
    expect(performance.now() - t0).toBeLessThan(100);
    expect(r.sections).toHaveLength(0);
    expect(r.walkError).toMatchObject({ code: 'SECTION_SIZE_INVALID', offset: 0x20 });
    expect(codes(r)).toEqual(['SECTION_SIZE_INVALID']);
  });

  it('B2: short Cmbx sections decode only the header words that fit', () => {
    const buf = window([
      [0, HDR(0x78)],
      [0x20, [...SEC('Cmbx', 0x18), 1, 0, 0, 0, 2, 0, 0, 0]],
      [0x38, SEC('Cmbx', 0x20)],
      [0x58, FTR(0x78)],
    ]);
    const r = ok(parse(buf));
    expect(r.sections.map((s) => s.kind)).toEqual(['Cmbx', 'Cmbx']);
    const [a, b] = r.sections;
    if (a?.kind !== 'Cmbx' || b?.kind !== 'Cmbx') throw new Error('not Cmbx');
    expect(a.entries).toEqual([]);
    expect([a.kicInboxCtrl, a.kicMailboxSet, a.apOutboxCtrl]).toEqual([1, 2, undefined]);
    expect(a.issues).toEqual(['SECTION_TOO_SHORT']);
    expect(b.entries).toEqual([]);
    expect([b.kicInboxCtrl, b.kicMailboxSet, b.apOutboxCtrl, b.apMailboxSet]).toEqual([0, 0, 0, 0]);
    expect(b.mailboxError).toBeUndefined();
    expect(b.issues).toEqual(['SECTION_TOO_SHORT']);
    expect(r.footer).toEqual({ offset: 0x58, matchesHeader: true });
    expect(codes(r)).toEqual(['SECTION_TOO_SHORT', 'SECTION_TOO_SHORT']);
  });

  it('B2 variant: 28 + 2×24 + 5 bytes → 2 entries and SECTION_TRAILING_BYTES', () => {
    const payload = 28 + 2 * 24 + 5;
    const third = 0x58;
    const footer = third + 16 + payload;
    const total = footer + 32;
    const buf = window([
      [0, HDR(total)],
      [0x20, [...SEC('Cmbx', 0x18), 1, 0, 0, 0, 2, 0, 0, 0]],
      [0x38, SEC('Cmbx', 0x20)],
      [third, SEC('Cmbx', 16 + payload)],
      [footer, FTR(total)],
    ]);
    const r = ok(parse(buf));
    const c = r.sections[2];
    if (c?.kind !== 'Cmbx') throw new Error('not Cmbx');
    expect(c.entries).toHaveLength(2);
    expect(c.issues).toEqual(['SECTION_TRAILING_BYTES']);
    expect(r.footer).toEqual({ offset: footer, matchesHeader: true });
    expect(codes(r)).toEqual(['SECTION_TOO_SHORT', 'SECTION_TOO_SHORT', 'SECTION_TRAILING_BYTES']);
  });

  it('B3: the Cver string is bounded by its section', () => {
    const uuid = Array.from({ length: 16 }, (_, i) => i);
    const buf = window([
      [0, HDR(0x1000)],
      [0x20, [...SEC('Cver', 0xfe0), ...uuid, ...fill(0xfc0, 0x41)]],
    ]);
    const r = ok(parse(buf));
    const s = r.sections[0];
    if (s?.kind !== 'Cver') throw new Error('not Cver');
    expect(s.version).toBe('A'.repeat(4032));
    expect(s.uuid).toBe('00010203-0405-0607-0809-0a0b0c0d0e0f');
    expect(s.versionRecognized).toBe(false);
    expect(codes(r)).toEqual(['UNTERMINATED_STRING', 'FOOTER_MISSING']);
  });

  it('B4: a section header must fit before it is read', () => {
    const buf = window([
      [0, HDR(0x1000)],
      [0x20, SEC('Cunk', 0xfdc)],
    ]);
    const r = ok(parse(buf));
    expect(r.sections).toHaveLength(1);
    expect(r.sections[0]).toMatchObject({ kind: 'raw', fourcc: 'Cunk', reason: 'unknown-fourcc' });
    expect(r.sections[0]?.raw.length).toBe(0xfdc - 16);
    expect(r.walkError).toMatchObject({ code: 'SECTION_HEADER_TRUNCATED', offset: 0xffc });
  });

  it('B5 repro 1: decoders see the payload, not the next section', () => {
    const buf = window([
      [0, HDR(0x70)],
      [0x20, [...SEC('Cstr', 0x18), 0, 0, 0, 0, 0x41, 0x42, 0x43, 0x44]],
      [0x38, [...SEC('Ctim', 0x18), 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]],
      [0x50, FTR(0x70)],
    ]);
    const r = ok(parse(buf));
    expect(r.sections[0]).toMatchObject({ kind: 'Cstr', id: 0, text: 'ABCD', terminated: false });
    expect(r.sections[1]).toMatchObject({ kind: 'Ctim', time: 0x1122334455667788n });
    expect(codes(r)).toEqual(['UNTERMINATED_STRING']);
    expect(r.footer?.offset).toBe(0x50);
  });

  it('B5 repro 2: Crg8 needs an 836-byte payload', () => {
    const short = window([
      [0, HDR(0x390)],
      [0x20, SEC('Crg8', 0x350)],
      [0x370, FTR(0x390)],
    ]);
    const r1 = ok(parse(short));
    expect(r1.sections[0]).toMatchObject({ kind: 'raw', fourcc: 'Crg8', reason: 'too-short' });
    expect(r1.sections[0]?.raw.length).toBe(832);
    expect(codes(r1)).toEqual(['SECTION_TOO_SHORT']);
    expect(r1.footer?.offset).toBe(0x370);

    const p = 0x20 + 16;
    const full = window([
      [0, HDR(0x394)],
      [0x20, SEC('Crg8', 0x354)],
      [p + 0x004, [0x3c, 0x03, 0x00, 0x00]],
      [p + 0x108, [0xf0, 0xea, 0x17, 0, 0, 0, 0, 0]],
      [p + 0x110, [0xc5, 0x12, 0x00, 0x60, 0, 0, 0, 0]],
      [p + 0x340, [0x00, 0x00, 0x00, 0xbe]],
      [0x374, FTR(0x394)],
    ]);
    const r2 = ok(parse(full));
    const s = r2.sections[0];
    if (s?.kind !== 'Crg8') throw new Error('not Crg8');
    expect(s.pc).toBe(0x17eaf0n);
    expect(s.psr).toBe(0x600012c5n);
    expect(s.el).toBe('EL1h');
    expect([s.esr, s.esrClass, s.esrIl, s.esrIss]).toEqual([0xbe000000, 0x2f, 1, 0]);
    expect(s.esrClassName).toBe('SError interrupt');
    expect(s.esrHigh).toBeUndefined();
    expect(s.unknownTail).toBeUndefined();
    expect(codes(r2)).toEqual([]);
  });

  it('B6: Cstr line splitting is bounded by the payload end', () => {
    const buf = window([
      [0, HDR(0x1000)],
      [0x20, [...SEC('Cstr', 0xfe0), 0, 0, 0, 0, ...fill(0xfcc, 0x42)]],
    ]);
    const r = ok(parse(buf));
    const s = r.sections[0];
    if (s?.kind !== 'Cstr') throw new Error('not Cstr');
    expect(s.text).toBe('B'.repeat(4044));
    expect(s.lines).toEqual(['B'.repeat(4044)]);
    expect(codes(r)).toEqual(['UNTERMINATED_STRING', 'FOOTER_MISSING']);
  });

  it('B7: a size below 16 never wraps', () => {
    const buf = window([
      [0, HDR(0x60)],
      [0x20, SEC('Cmbx', 8)],
    ]);
    const r = ok(parse(buf));
    expect(r.sections).toEqual([]);
    expect(r.walkError).toMatchObject({ code: 'SECTION_SIZE_INVALID', offset: 0x20 });
  });

  it('B22: the walk ends at the limit without a footer', () => {
    const r = ok(
      parse(
        window([
          [0, HDR(0x1000)],
          [0x20, SEC('Cunk', 0xfe0)],
        ]),
      ),
    );
    expect(r.sections.map((s) => s.fourcc)).toEqual(['Cunk']);
    expect(codes(r)).toEqual(['FOOTER_MISSING']);
    expect(r.walkError).toBeUndefined();
  });

  it('B22 variant: total size larger than the buffer is clamped', () => {
    const r = ok(
      parse(
        window([
          [0, HDR(0x2000)],
          [0x20, SEC('Cunk', 0xfe0)],
        ]),
      ),
    );
    expect(r.limit).toBe(0x1000);
    expect(r.sections.map((s) => s.fourcc)).toEqual(['Cunk']);
    expect(codes(r)).toEqual(['CRASHLOG_SIZE_CLAMPED', 'FOOTER_MISSING']);
  });

  it('B37: a Cstr shorter than its id field keeps its raw byte', () => {
    const buf = window([
      [0, HDR(0x51)],
      [0x20, [...SEC('Cstr', 17), 0x41]],
      [0x31, FTR(0x51)],
    ]);
    const r = ok(parse(buf));
    expect(r.sections[0]).toMatchObject({ kind: 'raw', fourcc: 'Cstr', reason: 'too-short' });
    expect([...(r.sections[0]?.raw ?? [])]).toEqual([0x41]);
    expect(r.footer).toEqual({ offset: 0x31, matchesHeader: true });
    expect(codes(r)).toEqual(['SECTION_TOO_SHORT']);
    expect(crashlogToJson(r).warnings).toEqual([
      'SECTION_TOO_SHORT at 0x20: Cstr payload 1 < 4 bytes',
    ]);
  });
});

describe('container rules P2–P6', () => {
  const fatal = (res: CrashlogResult, code: string) => {
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(isRtkitError(res.error, code)).toBe(true);
      expect(res.error.code).toBe(code);
    }
  };

  it('P2: shorter than the header → CRASHLOG_TRUNCATED', () => {
    fatal(parseCrashlog(new Uint8Array(0)), 'CRASHLOG_TRUNCATED');
    fatal(parseCrashlog(window([[0, HDR(0x20).slice(0, 31)]], 31)), 'CRASHLOG_TRUNCATED');
  });

  it('P2: wrong magic → CRASHLOG_BAD_MAGIC', () => {
    const buf = window([[0, HDR(0x40)]]);
    buf[0] = 0x46;
    fatal(parseCrashlog(buf), 'CRASHLOG_BAD_MAGIC');
  });

  it('P2: major ≠ 3 → CRASHLOG_VERSION, or a warning when lenient', () => {
    const buf = window([
      [0, HDR(0x40)],
      [0x20, FTR(0x40)],
    ]);
    buf[5] = 2;
    buf[0x25] = 2;
    fatal(parseCrashlog(buf), 'CRASHLOG_VERSION');
    const r = ok(parse(buf, { lenient: true }));
    expect(codes(r)).toEqual(['CRASHLOG_VERSION']);
    expect(r.header.versionMajor).toBe(2);
    expect(r.footer).toEqual({ offset: 0x20, matchesHeader: true });
  });

  it('P2: the minor version byte is not checked', () => {
    const buf = window([
      [0, HDR(0x40)],
      [0x20, FTR(0x40)],
    ]);
    buf[4] = 7;
    buf[0x24] = 7;
    expect(codes(ok(parse(buf)))).toEqual([]);
  });

  it('P3: total < 32 → CRASHLOG_SIZE_INVALID', () => {
    fatal(parseCrashlog(window([[0, HDR(31)]])), 'CRASHLOG_SIZE_INVALID');
    fatal(parseCrashlog(window([[0, HDR(0)]])), 'CRASHLOG_SIZE_INVALID');
  });

  it('P3: total = 32 is a header alone (no footer)', () => {
    const r = ok(parse(window([[0, HDR(32)]])));
    expect(r.sections).toEqual([]);
    expect(codes(r)).toEqual(['FOOTER_MISSING']);
  });

  it('P4: a section running past the limit → SECTION_TRUNCATED', () => {
    const r = ok(
      parse(
        window([
          [0, HDR(0x80)],
          [0x20, SEC('Cunk', 0x61)],
        ]),
      ),
    );
    expect(r.walkError).toMatchObject({ code: 'SECTION_TRUNCATED', offset: 0x20 });
    expect(r.sections).toEqual([]);
  });

  it('P4: a CLHE before total − 32 → FOOTER_MISPLACED', () => {
    const r = ok(
      parse(
        window([
          [0, HDR(0x80)],
          [0x20, SEC('Cunk', 0x10)],
          [0x30, FTR(0x80)],
        ]),
      ),
    );
    expect(r.footer).toEqual({ offset: 0x30, matchesHeader: true });
    expect(codes(r)).toEqual(['FOOTER_MISPLACED']);
  });

  it('P6: footer ≠ header → FOOTER_MISMATCH unless flagged incomplete', () => {
    const parts: [number, number[]][] = [
      [0, HDR(0x40)],
      [0x20, FTR(0x40)],
    ];
    const buf = window(parts);
    buf[0x20 + 16] = 1;
    const r = ok(parse(buf));
    expect(r.footer).toEqual({ offset: 0x20, matchesHeader: false });
    expect(codes(r)).toEqual(['FOOTER_MISMATCH']);
    buf[13] = 0x01; // flags bit 8: incomplete
    const r2 = ok(parse(buf));
    expect(r2.header.incomplete).toBe(true);
    expect(r2.footer?.matchesHeader).toBe(false);
    expect(codes(r2)).toEqual([]);
  });

  it('a footer cut by a clamped buffer end → FOOTER_TRUNCATED', () => {
    const r = ok(
      parse(
        window(
          [
            [0, HDR(0x50)],
            [0x20, SEC('Cunk', 0x10)],
            [0x30, FTR(0x50).slice(0, 16)],
          ],
          0x40,
        ),
      ),
    );
    expect(codes(r)).toEqual(['CRASHLOG_SIZE_CLAMPED', 'FOOTER_TRUNCATED']);
  });

  it('maxSections bounds the walk', () => {
    const parts: [number, number[]][] = [[0, HDR(0x1000)]];
    for (let off = 0x20; off < 0x1000; off += 16) parts.push([off, SEC('Cunk', 16)]);
    const r = ok(parse(window(parts), { maxSections: 10 }));
    expect(r.sections).toHaveLength(10);
    expect(r.walkError).toMatchObject({ code: 'SECTION_LIMIT_REACHED', offset: 0x20 + 160 });
    expect(ok(parse(window(parts))).sections).toHaveLength((0x1000 - 0x20) / 16);
  });

  it('non-Uint8Array input → BAD_INPUT, never an exception', () => {
    for (const v of [undefined, null, 'CLHE', 42, {}, [1, 2, 3], new ArrayBuffer(64)]) {
      fatal(parseCrashlog(v as unknown as Uint8Array), 'BAD_INPUT');
    }
  });
});

describe('ByteReader bounds', () => {
  it('refuses every read outside its range, even inside the backing buffer', () => {
    const backing = new Uint8Array(64).fill(POISON);
    const r = new ByteReader(backing.subarray(16, 24));
    expect(r.length).toBe(8);
    expect(r.u64(0)).toBe(0xeeeeeeeeeeeeeeeen);
    const attempts: [string, () => unknown][] = [
      ['u8(8)', () => r.u8(8)],
      ['u8(-1)', () => r.u8(-1)],
      ['u32(5)', () => r.u32(5)],
      ['u64(1)', () => r.u64(1)],
      ['bytesAt(4, 5)', () => r.bytesAt(4, 5)],
      ['cstring(9)', () => r.cstring(9)],
    ];
    for (const [what, f] of attempts) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(isRtkitError(err, READ_OUT_OF_RANGE), what).toBe(true);
    }
    expect(r.has(0, 8)).toBe(true);
    expect(r.has(1, 8)).toBe(false);
    expect(r.startsWith(6, 'RTKit')).toBe(false);
  });

  it('cstring stops at the range end, not at a NUL beyond it', () => {
    const backing = new Uint8Array([0x41, 0x42, 0x43, 0x00]);
    expect(new ByteReader(backing.subarray(0, 3)).cstring(0)).toEqual({
      text: 'ABC',
      terminated: false,
    });
    expect(new ByteReader(backing).cstring(1)).toEqual({ text: 'BC', terminated: true });
    expect(new ByteReader(backing).cstring(0, 2)).toEqual({ text: 'AB', terminated: false });
  });
});
