// Fuzz: 100,000 hostile buffers (mutations of valid crashlogs, size-field rewrites, truncations at
// every boundary, garbage, empty and huge/zero totals). Each must give a report or a typed error,
// quickly, without reading outside the buffer. Fixed seeds throughout, so failures reproduce.
//
// "No read outside the buffer" is checked three ways: every buffer sits inside a larger
// ArrayBuffer filled with a poison byte that the buffer itself never contains; each section's raw
// view must lie inside the buffer and hold no poison; and no `SECTION_DECODE_FAILED` /
// `CRASHLOG_INTERNAL` (what a refused out-of-range read by a `ByteReader` turns into) may appear.
// A sample is also parsed from an exact-size copy and must give the same JSON.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCrashlog, type SectionInput } from './build.js';
import { crashlogToJson } from './json.js';
import { parseCrashlog } from './parse.js';
import { renderCrashlogText } from './render-text.js';
import type { CrashlogResult } from './types.js';

const POISON = 0xee;
const FATAL = new Set([
  'CRASHLOG_TRUNCATED',
  'CRASHLOG_BAD_MAGIC',
  'CRASHLOG_VERSION',
  'CRASHLOG_SIZE_INVALID',
]);
/** Per-buffer bound; generous so that a GC pause on a loaded CI machine is not a failure. */
const MAX_MS_PER_BUFFER = 250;

/** mulberry32: a small seeded PRNG for the base corpus. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Valid crashlogs with a random mix of every section kind, 0xEE-free (it is the poison). */
function corpus(n: number, seed: number): { bytes: Uint8Array; sections: number[] }[] {
  const rnd = prng(seed);
  const int = (max: number) => Math.floor(rnd() * (max + 1));
  const u32 = () => int(0xffff_ffff);
  const u64 = () => (BigInt(u32()) << 32n) | BigInt(u32());
  const ascii = (n: number) =>
    Array.from({ length: n }, () => String.fromCharCode(32 + int(94))).join('');
  const makers: (() => SectionInput)[] = [
    () => ({ kind: 'Cstr', id: u32(), text: `${ascii(int(60))}\n${ascii(int(20))}` }),
    () => ({
      kind: 'Cver',
      version: `RTKit: RTKit-${int(3000)}.${int(200)}.${int(9)}.release - Client: ${ascii(int(30))}`,
      ...(rnd() < 0.3 ? { possibleAslrSlide: BigInt(u32()) } : {}),
    }),
    () => ({ kind: 'Ctim', time: u64() }),
    () => ({
      kind: 'Cmbx',
      route: int(3),
      entries: Array.from({ length: int(40) }, () => ({
        ep: int(0x3f),
        msg: u64(),
        timestamp: u64(),
      })),
    }),
    () => ({
      kind: 'Crg8',
      regs: Array.from({ length: 31 }, u64),
      pc: u64(),
      psr: BigInt(int(0xf)),
      esr: u32(),
    }),
    () => ({
      kind: 'CrgA',
      regs: Array.from({ length: 16 }, u32),
      ...(rnd() < 0.5 ? { farPhysical: u64() } : {}),
    }),
    () => ({
      kind: 'Ccst',
      taskId: int(100),
      frames: Array.from({ length: int(10) }, () => u64() | 1n),
    }),
    () => ({ kind: 'CasC', l2cErrSts: u64(), ...(rnd() < 0.5 ? { dpcErrSts: u64() } : {}) }),
    () => ({
      kind: 'Crtk',
      tasks: Array.from({ length: int(6) }, () => ({
        id: int(0x7fff_ffff),
        faulting: rnd() < 0.2,
        name: ascii(int(28)),
        frames: Array.from({ length: int(8) }, u64),
      })),
    }),
    () => ({
      kind: 'Ccdp',
      entries: Array.from({ length: int(6) }, () => ({ va: u64(), pa: u64(), flags: u32() })),
    }),
    () => ({
      kind: 'raw',
      fourcc: 'Cunk',
      raw: Uint8Array.from({ length: int(80) }, () => int(255)),
    }),
    () => ({ kind: 'raw', fourcc: 'Cpct', raw: new Uint8Array(48) }),
  ];
  return Array.from({ length: n }, () => {
    const sections = Array.from({ length: 1 + int(10) }, () => makers[int(makers.length - 1)]!());
    const bytes = buildCrashlog({ sections });
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === POISON) bytes[i] = 0xed;
    const offsets: number[] = [];
    for (let off = 32; off < bytes.length - 32; ) {
      offsets.push(off);
      off += new DataView(bytes.buffer).getUint32(off + 12, true);
    }
    return { bytes, sections: offsets };
  });
}

const BASES = corpus(64, 0xc0ffee);
const MAX_LEN = 1 << 16;
const backing = new Uint8Array(MAX_LEN + 2 * 4096).fill(POISON);
/** Bytes after offset 4096 that the last check overwrote. */
let dirty = 0;

/** What one campaign's buffers gave; every test keeps its own, so each runs alone (`-t`). */
interface Tally {
  checked: number;
  slowest: number;
  ok: number;
  fatal: number;
  seen: Set<string>;
}

function tally(): Tally {
  return { checked: 0, slowest: 0, ok: 0, fatal: 0, seen: new Set() };
}

/** Parse `bytes` inside the poisoned backing and check every invariant. */
function check(t: Tally, bytes: Uint8Array, compareCopy: boolean, lenient = false): void {
  const buf = bytes.map((b) => (b === POISON ? 0xed : b));
  // Only the previous buffer's bytes need re-poisoning; the rest of the backing never changes.
  backing.fill(POISON, 4096, 4096 + dirty);
  backing.set(buf, 4096);
  dirty = buf.length;
  const view = backing.subarray(4096, 4096 + buf.length);
  const t0 = performance.now();
  let res: CrashlogResult;
  try {
    res = parseCrashlog(view, { lenient });
  } catch (e) {
    throw new Error(`parseCrashlog threw on ${buf.length} bytes: ${String(e)}`);
  }
  const dt = performance.now() - t0;
  if (dt > t.slowest) t.slowest = dt;
  t.checked++;
  if (!res.ok) {
    t.fatal++;
    if (!FATAL.has(res.error.code)) throw new Error(`unexpected error ${res.error.message}`);
    t.seen.add(res.error.code);
    return;
  }
  t.ok++;
  const r = res.report;
  if (r.limit > buf.length) throw new Error('limit past the buffer');
  let prevEnd = 32;
  for (const s of r.sections) {
    const start = s.raw.byteOffset - view.byteOffset;
    if (s.raw.buffer !== backing.buffer || start !== s.offset + 16 || s.offset < prevEnd) {
      throw new Error(`section view misplaced at ${s.offset}`);
    }
    if (start + s.raw.byteLength > r.limit || s.raw.byteLength !== s.size - 16) {
      throw new Error(`section view past the limit at ${s.offset}`);
    }
    if (s.raw.includes(POISON)) throw new Error('poison in a section');
    prevEnd = s.offset + s.size;
  }
  for (const w of r.warnings) {
    t.seen.add(w.code);
    if (w.code === 'SECTION_DECODE_FAILED' || typeof w.message !== 'string') {
      throw new Error(`decoder read out of range: ${w.message}`);
    }
  }
  const json = JSON.stringify(crashlogToJson(r));
  if (compareCopy) {
    const again = parseCrashlog(Uint8Array.from(buf), { lenient });
    if (!again.ok || JSON.stringify(crashlogToJson(again.report)) !== json) {
      throw new Error('result depends on memory outside the buffer');
    }
    renderCrashlogText(r);
  }
}

const base = fc.nat(BASES.length - 1).map((i) => BASES[i]!);
const SIZE_VALUES = [0, 1, 8, 15, 16, 17, 24, 0x7fff_ffff, 0x8000_0000, 0xffff_fff0, 0xffff_ffff];
const opts = (numRuns: number, seed: number) => ({ numRuns, seed, endOnFailure: true });

function writeU32(b: Uint8Array, off: number, v: number): void {
  if (off >= 0 && off + 4 <= b.length)
    new DataView(b.buffer, b.byteOffset).setUint32(off, v >>> 0, true);
}

/**
 * One family of hostile buffers. `reaches`: the problem codes its fixed seed must produce, so
 * each campaign proves it exercises what it is meant to; together they cover every code.
 */
interface Campaign {
  name: string;
  buffers: number;
  /** At least this many buffers parse to a report, and at least this many fail fatally. */
  minOk: number;
  minFatal: number;
  reaches: string[];
  run(t: Tally): void;
}

const LENGTHS = 64;

const CAMPAIGNS: Campaign[] = [
  {
    name: 'base-corpus buffers parse cleanly',
    buffers: BASES.length,
    minOk: BASES.length,
    minFatal: 0,
    reaches: [],
    run(t) {
      for (const b of BASES) {
        const res = parseCrashlog(b.bytes);
        expect(
          res.ok && res.report.walkError === undefined && res.report.footer?.matchesHeader,
        ).toBe(true);
        check(t, b.bytes, true);
      }
    },
  },
  {
    name: 'byte-flip mutations',
    buffers: 30_000,
    minOk: 20_000,
    minFatal: 500,
    reaches: [
      'CRASHLOG_BAD_MAGIC',
      'CRASHLOG_SIZE_CLAMPED',
      'CRASHLOG_VERSION',
      'ENDPOINT_HIGH_BITS',
      'FOOTER_MISMATCH',
      'FOOTER_MISPLACED',
      'FRAME_SIZE_UNEXPECTED',
      'SECTION_HEADER_TRUNCATED',
      'SECTION_SIZE_INVALID',
      'SECTION_TOO_SHORT',
      'SECTION_TRAILING_BYTES',
      'SECTION_TRUNCATED',
      'TASK_DEPTH_TRUNCATED',
      'UNTERMINATED_STRING',
    ],
    run(t) {
      const flips = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()), {
        minLength: 1,
        maxLength: 12,
      });
      fc.assert(
        fc.property(base, flips, fc.nat(9), (b, fl, k) => {
          const m = b.bytes.slice();
          for (const [p, v, xor] of fl) {
            // Bias towards the headers, where a flip changes the walk rather than a value.
            const pos =
              k < 4 && b.sections.length > 0
                ? b.sections[p % b.sections.length]! + (v & 15)
                : p % m.length;
            if (pos < m.length) m[pos] = xor ? m[pos]! ^ v : v;
          }
          check(t, m, k === 0);
        }),
        opts(30_000, 1),
      );
    },
  },
  {
    name: 'section-size rewrites (0, 15, 16, huge, 0xffffffff, near the end, random)',
    buffers: 20_000,
    minOk: 15_000,
    minFatal: 0,
    reaches: [
      'ENDPOINT_HIGH_BITS',
      'FOOTER_MISSING',
      'SECTION_SIZE_INVALID',
      'SECTION_TOO_SHORT',
      'SECTION_TRAILING_BYTES',
      'SECTION_TRUNCATED',
      'TASK_DEPTH_TRUNCATED',
      'UNTERMINATED_STRING',
    ],
    run(t) {
      fc.assert(
        fc.property(
          base,
          fc.nat(),
          fc.nat(SIZE_VALUES.length + 3),
          fc.nat(),
          (b, which, kind, rnd) => {
            const m = b.bytes.slice();
            const off = b.sections[which % Math.max(1, b.sections.length)] ?? 32;
            const rest = m.length - off;
            const values = [...SIZE_VALUES, rest, rest + 1, rest - 32, rnd];
            writeU32(m, off + 12, values[kind % values.length]!);
            check(t, m, rnd % 8 === 0);
          },
        ),
        opts(20_000, 2),
      );
    },
  },
  {
    name: 'truncations at every kind of boundary',
    buffers: 20_000,
    minOk: 5_000,
    minFatal: 5_000,
    reaches: [
      'CRASHLOG_SIZE_CLAMPED',
      'CRASHLOG_TRUNCATED',
      'FOOTER_MISPLACED',
      'FOOTER_MISSING',
      'FOOTER_TRUNCATED',
      'SECTION_HEADER_TRUNCATED',
      'SECTION_TRUNCATED',
    ],
    run(t) {
      fc.assert(
        fc.property(
          base,
          fc.nat(),
          fc.integer({ min: -3, max: 20 }),
          fc.boolean(),
          (b, which, delta, fixTotal) => {
            const edges = [
              0,
              4,
              8,
              12,
              16,
              24,
              31,
              32,
              33,
              ...b.sections,
              b.bytes.length - 32,
              b.bytes.length,
            ];
            const cut = Math.max(0, Math.min(b.bytes.length, edges[which % edges.length]! + delta));
            const m = b.bytes.slice(0, cut);
            if (fixTotal) writeU32(m, 8, cut);
            check(t, m, which % 8 === 0);
          },
        ),
        opts(20_000, 3),
      );
    },
  },
  {
    name: 'header total-size rewrites (zero, small, huge, off by one)',
    buffers: 10_000,
    minOk: 3_000,
    minFatal: 3_000,
    reaches: [
      'CRASHLOG_SIZE_CLAMPED',
      'CRASHLOG_SIZE_INVALID',
      'CRASHLOG_VERSION',
      'FOOTER_MISMATCH',
      'FOOTER_MISPLACED',
      'FOOTER_MISSING',
      'SECTION_HEADER_TRUNCATED',
      'SECTION_TRUNCATED',
    ],
    run(t) {
      const totals = (len: number) => [
        0,
        1,
        31,
        32,
        33,
        48,
        len - 33,
        len - 32,
        len - 1,
        len,
        len + 1,
        0x7fff_ffff,
        0xffff_ffff,
      ];
      fc.assert(
        fc.property(base, fc.nat(), fc.nat(), fc.boolean(), (b, k, rnd, badMajor) => {
          const m = b.bytes.slice();
          const tt = totals(m.length);
          writeU32(m, 8, k % (tt.length + 1) === tt.length ? rnd : tt[k % (tt.length + 1)]!);
          // A wrong major is fatal unless lenient; lenient parsing must be just as safe.
          if (badMajor) m[5] = rnd & 0xff;
          check(t, m, k % 8 === 0, badMajor && rnd % 2 === 0);
        }),
        opts(10_000, 4),
      );
    },
  },
  {
    name: 'garbage buffers, half with a valid CLHE header',
    buffers: 15_000,
    minOk: 4_000,
    minFatal: 6_000,
    reaches: [
      'CRASHLOG_BAD_MAGIC',
      'CRASHLOG_SIZE_CLAMPED',
      'CRASHLOG_SIZE_INVALID',
      'CRASHLOG_TRUNCATED',
      'SECTION_HEADER_TRUNCATED',
      'SECTION_TRUNCATED',
    ],
    run(t) {
      // Lengths up to 2048 drawn uniformly (fc.uint8Array's default size would keep nearly all
      // below the 32-byte header), bytes from a seeded PRNG (much faster than fc per byte).
      fc.assert(
        fc.property(fc.nat(2048), fc.nat(), fc.boolean(), fc.nat(), (len, seed, header, total) => {
          const rnd = prng(seed);
          const m = new Uint8Array(len);
          for (let i = 0; i < len; i++) m[i] = rnd() * 256;
          if (header && m.length >= 16) {
            m.set([0x45, 0x48, 0x4c, 0x43, 0x03, 0x03, 0, 0], 0);
            writeU32(m, 8, total % 3 === 0 ? m.length : total);
          }
          check(t, m, total % 8 === 0);
        }),
        opts(15_000, 5),
      );
    },
  },
  {
    name: 'mixed mutations (flips + size rewrites + truncation + spliced sections)',
    buffers: 5_000,
    minOk: 3_000,
    minFatal: 50,
    reaches: [
      'CRASHLOG_BAD_MAGIC',
      'CRASHLOG_SIZE_CLAMPED',
      'SECTION_SIZE_INVALID',
      'SECTION_TOO_SHORT',
      'SECTION_TRAILING_BYTES',
      'SECTION_TRUNCATED',
    ],
    run(t) {
      fc.assert(
        fc.property(
          base,
          base,
          fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
          (a, b, [x, y, z, w]) => {
            const splice = a.bytes.slice(
              0,
              (a.sections[x! % Math.max(1, a.sections.length)] ?? 32) + 16,
            );
            const tail = b.bytes.subarray(b.sections[y! % Math.max(1, b.sections.length)] ?? 32);
            const m = new Uint8Array(splice.length + tail.length);
            m.set(splice);
            m.set(tail, splice.length);
            writeU32(m, (a.sections[0] ?? 32) + 12, SIZE_VALUES[z! % SIZE_VALUES.length]!);
            const at = w! % m.length;
            m[at] = m[at]! ^ 0x5a;
            check(t, m.subarray(0, m.length - (w! % 40)), w! % 8 === 0);
          },
        ),
        opts(5_000, 6),
      );
    },
  },
  {
    name: `every length from 0 to ${LENGTHS} of a valid header, and zero-filled buffers`,
    buffers: 2 * (LENGTHS + 1),
    minOk: 30,
    minFatal: 90,
    reaches: [
      'CRASHLOG_BAD_MAGIC',
      'CRASHLOG_SIZE_CLAMPED',
      'CRASHLOG_TRUNCATED',
      'SECTION_HEADER_TRUNCATED',
      'SECTION_TRUNCATED',
    ],
    run(t) {
      const full = BASES[0]!.bytes;
      for (let n = 0; n <= LENGTHS; n++) {
        check(t, full.slice(0, n), true);
        check(t, new Uint8Array(n), true);
      }
    },
  },
];

/** Every fatal error and every walk/section problem the parser knows. */
const ALL_CODES = [
  ...FATAL,
  'CRASHLOG_SIZE_CLAMPED',
  'ENDPOINT_HIGH_BITS',
  'FOOTER_MISMATCH',
  'FOOTER_MISPLACED',
  'FOOTER_MISSING',
  'FOOTER_TRUNCATED',
  'FRAME_SIZE_UNEXPECTED',
  'SECTION_HEADER_TRUNCATED',
  'SECTION_SIZE_INVALID',
  'SECTION_TOO_SHORT',
  'SECTION_TRAILING_BYTES',
  'SECTION_TRUNCATED',
  'TASK_DEPTH_TRUNCATED',
  'UNTERMINATED_STRING',
];

describe('fuzz: parseCrashlog never throws, hangs or reads outside the buffer', () => {
  for (const c of CAMPAIGNS) {
    it(`${c.buffers.toLocaleString('en')} ${c.name}`, () => {
      const t = tally();
      c.run(t);
      expect(t.checked).toBe(c.buffers);
      expect(t.slowest).toBeLessThan(MAX_MS_PER_BUFFER);
      expect(t.ok).toBeGreaterThanOrEqual(c.minOk);
      expect(t.fatal).toBeGreaterThanOrEqual(c.minFatal);
      expect([...t.seen]).toEqual(expect.arrayContaining(c.reaches));
    });
  }

  it('the campaigns cover 100,000 buffers and every problem code', () => {
    // Each campaign asserts its own count and codes; this checks that together they add up.
    expect(CAMPAIGNS.reduce((n, c) => n + c.buffers, 0)).toBeGreaterThanOrEqual(100_000);
    expect(CAMPAIGNS.reduce((n, c) => n + c.minOk, 0)).toBeGreaterThan(10_000);
    expect(CAMPAIGNS.reduce((n, c) => n + c.minFatal, 0)).toBeGreaterThan(1_000);
    const reached = new Set(CAMPAIGNS.flatMap((c) => c.reaches));
    expect([...reached].sort()).toEqual(expect.arrayContaining(ALL_CODES));
  });
});

describe('linear time on large inputs', () => {
  it('256k minimal sections walk in bounded time, and maxSections caps the output', () => {
    const n = 1 << 18;
    const sec = Uint8Array.of(0x6b, 0x6e, 0x75, 0x43, 0, 0, 0, 0, 0, 1, 0, 0, 16, 0, 0, 0);
    const buf = new Uint8Array(32 + 16 * n);
    buf.set([0x45, 0x48, 0x4c, 0x43, 3, 3, 0, 0], 0);
    new DataView(buf.buffer).setUint32(8, buf.length, true);
    for (let i = 0; i < n; i++) buf.set(sec, 32 + 16 * i);
    const t0 = performance.now();
    const capped = parseCrashlog(buf);
    const t1 = performance.now();
    const all = parseCrashlog(buf, { maxSections: Number.POSITIVE_INFINITY });
    const t2 = performance.now();
    expect(capped.ok && capped.report.sections.length).toBe(4096);
    expect(capped.ok && capped.report.walkError?.code).toBe('SECTION_LIMIT_REACHED');
    expect(all.ok && all.report.sections.length).toBe(n);
    expect(t1 - t0).toBeLessThan(500);
    expect(t2 - t1).toBeLessThan(5000);
  });

  it('a 4 MiB Cmbx is capped by maxEntries', () => {
    const entries = (4 << 20) / 24;
    const buf = buildCrashlog({
      sections: [{ kind: 'raw', fourcc: 'Cmbx', raw: new Uint8Array(28 + 24 * entries) }],
    });
    const res = parseCrashlog(buf);
    if (!res.ok) throw res.error;
    const s = res.report.sections[0];
    expect(s?.kind === 'Cmbx' && s.entries.length).toBe(65536);
    expect(res.report.warnings.map((w) => w.code)).toEqual(['ENTRY_LIMIT_REACHED']);
  });
});
