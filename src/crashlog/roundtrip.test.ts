// Round trip: parse(build(x)) gives back every section value, and rebuilding the parsed report
// gives the same bytes. fast-check arbitraries cover each section kind, edge values included.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CrashlogInput, SectionInput } from './build.js';
import { buildCrashlog } from './build.js';
import { Fourcc } from './fourcc.js';
import { parseCrashlog } from './parse.js';

const u8 = fc.integer({ min: 0, max: 0xff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const nonZeroU64 = fc.bigInt({ min: 1n, max: (1n << 64n) - 1n });
const utf8 = new TextEncoder();
const text = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !s.includes('\0'));

const header = {
  sectionVersion: fc.option(u32, { nil: undefined }),
  hdrUnknown: fc.option(u32, { nil: undefined }),
};

/** Drop properties whose value is undefined (exactOptionalPropertyTypes: absent, not undefined). */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const uuid = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => {
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
});

const cstr = fc.record({
  kind: fc.constant('Cstr' as const),
  id: u32,
  text,
  terminated: fc.boolean(),
  ...header,
});

const rtkitVersion = fc
  .tuple(fc.nat(9999), fc.nat(999), fc.nat(99), fc.constantFrom('debug', 'release'), text)
  .map(([a, b, c, d, client]) => `RTKit: RTKit-${a}.${b}.${c}.${d} - Client: ${client}`);
const cver = fc.oneof(
  fc.record({
    kind: fc.constant('Cver' as const),
    uuid,
    version: rtkitVersion,
    possibleAslrSlide: fc.option(u64, { nil: undefined }),
    terminated: fc.boolean(),
    ...header,
  }),
  fc.record({
    kind: fc.constant('Cver' as const),
    uuid,
    version: text.filter((s) => !s.includes('RTKit')),
    terminated: fc.boolean(),
    ...header,
  }),
);

const ctim = fc.record({ kind: fc.constant('Ctim' as const), time: u64, ...header });

const entry = fc.record({
  ep: u32,
  epHigh: fc.option(fc.integer({ min: 1, max: 0xffff_ffff }), { nil: undefined }),
  msg: u64,
  timestamp: u64,
});
const cmbx = fc.record({
  kind: fc.constant('Cmbx' as const),
  kicInboxCtrl: u32,
  kicMailboxSet: u32,
  apOutboxCtrl: u32,
  apMailboxSet: u32,
  mailboxError: u32,
  unknown20: u32,
  route: u32,
  entries: fc.array(entry, { maxLength: 12 }),
  ...header,
});

const crg8 = fc
  .record({
    kind: fc.constant('Crg8' as const),
    frameFlags: u32,
    frameSize: fc.oneof(fc.constant(828), u32),
    regs: fc.array(u64, { minLength: 31, maxLength: 31 }),
    sp: u64,
    pc: u64,
    psr: u64,
    cpacr: u64,
    fpsr: u64,
    fpcr: u64,
    fp: fc.array(fc.oneof(fc.constant(0n), u64), { minLength: 64, maxLength: 64 }),
    far: u64,
    farPhysical: u64,
    esr: u32,
    tail: fc.constantFrom(0, 1, 2),
    esrHigh: u32,
    unknownTail: u64,
    ...header,
  })
  .map(({ tail, esrHigh, unknownTail, ...rest }) => ({
    ...rest,
    ...(tail >= 1 ? { esrHigh } : {}),
    ...(tail >= 2 ? { unknownTail } : {}),
  }));

const crga = fc.record({
  kind: fc.constant('CrgA' as const),
  frameFlags: u32,
  frameSize: fc.oneof(fc.constant(352), u32),
  regs: fc.array(u32, { minLength: 16, maxLength: 16 }),
  psr: u32,
  unknown4c: u32,
  stack: fc.uint8Array({ minLength: 256, maxLength: 256 }),
  unknown150: fc.tuple(u32, u32),
  fsr: u32,
  far: u32,
  farPhysical: fc.option(u64, { nil: undefined }),
  ...header,
});

const ccst = fc.record({
  kind: fc.constant('Ccst' as const),
  taskId: u32,
  flags: u32,
  frames: fc.array(nonZeroU64, { maxLength: 12 }),
  ...header,
});

const casc = fc.record({
  kind: fc.constant('CasC' as const),
  l2cErrSts: u64,
  l2cErrAdr: u64,
  l2cErrInf: u64,
  lsuErrSts: u64,
  fedErrSts: u64,
  mmuErrSts: u64,
  dpcErrSts: fc.option(u64, { nil: undefined }),
  ...header,
});

const taskName = fc
  .string({ unit: 'grapheme', maxLength: 28 })
  .filter((s) => !s.includes('\0') && utf8.encode(s).length <= 28);
const task = fc.record({
  id: fc.integer({ min: 0, max: 0x7fff_ffff }),
  faulting: fc.boolean(),
  priority: u32,
  effectivePriority: u32,
  state: u32,
  waitObject: u64,
  stackSize: u64,
  stackUsed: u64,
  name: taskName,
  frames: fc.array(u64, { maxLength: 8 }),
});
const crtk = fc.record({
  kind: fc.constant('Crtk' as const),
  tasks: fc.array(task, { maxLength: 6 }),
  ...header,
});

const ccdp = fc.record({
  kind: fc.constant('Ccdp' as const),
  entries: fc.array(fc.record({ va: u64, pa: u64, flags: u32 }), { maxLength: 10 }),
  ...header,
});

const known = new Set<number>(Object.values(Fourcc));
const raw = fc.record({
  kind: fc.constant('raw' as const),
  fourcc: fc
    .string({
      minLength: 4,
      maxLength: 4,
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    })
    .filter(
      (s) =>
        !known.has(
          ((s.charCodeAt(0) << 24) |
            (s.charCodeAt(1) << 16) |
            (s.charCodeAt(2) << 8) |
            s.charCodeAt(3)) >>>
            0,
        ),
    ),
  raw: fc.uint8Array({ maxLength: 64 }),
  ...header,
});

const section: fc.Arbitrary<SectionInput> = fc
  .oneof(cstr, cver, ctim, cmbx, crg8, crga, ccst, casc, crtk, ccdp, raw)
  .map((s) => defined(s) as SectionInput);

const crashlog: fc.Arbitrary<CrashlogInput> = fc.record({
  header: fc
    .record({
      version: u32.map((v) => ((v & 0xffff_00ff) | 0x300) >>> 0),
      flags: u32,
      nestedExceptionAddress: u64,
      nestedExceptionType: u8,
    })
    .map(defined),
  sections: fc.array(section, { maxLength: 8 }),
});

/** The parsed value restricted to the keys the input specified (recursively). */
function project(parsed: unknown, input: unknown): unknown {
  if (input instanceof Uint8Array) return parsed instanceof Uint8Array ? [...parsed] : parsed;
  if (Array.isArray(input)) {
    return Array.isArray(parsed) ? input.map((v, i) => project(parsed[i], v)) : parsed;
  }
  if (typeof input === 'object' && input !== null) {
    if (typeof parsed !== 'object' || parsed === null) return parsed;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(input))
      out[k] = project(
        (parsed as Record<string, unknown>)[k],
        (input as Record<string, unknown>)[k],
      );
    return out;
  }
  return parsed;
}

function normalise(input: unknown): unknown {
  if (input instanceof Uint8Array) return [...input];
  if (Array.isArray(input)) return input.map(normalise);
  if (typeof input === 'object' && input !== null) {
    return Object.fromEntries(Object.entries(input).map(([k, v]) => [k, normalise(v)]));
  }
  return input;
}

// Warnings a valid build may still carry: they describe values, not damage.
const VALUE_WARNINGS = new Set([
  'ENDPOINT_HIGH_BITS',
  'FRAME_SIZE_UNEXPECTED',
  'UNTERMINATED_STRING',
]);

describe('build → parse round trip', () => {
  it('gives back the header, every section and a matching footer', () => {
    fc.assert(
      fc.property(crashlog, (input) => {
        const buf = buildCrashlog(input);
        const res = parseCrashlog(buf);
        if (!res.ok) throw res.error;
        const r = res.report;
        expect(r.walkError).toBeUndefined();
        expect(r.footer).toEqual({ offset: buf.length - 32, matchesHeader: true });
        expect(r.header.totalSize).toBe(buf.length);
        expect(project(r.header, input.header)).toEqual(normalise(input.header));
        expect(r.sections).toHaveLength(input.sections.length);
        input.sections.forEach((s, i) => {
          expect(project(r.sections[i], s)).toEqual(normalise(s));
        });
        for (const w of r.warnings) expect(VALUE_WARNINGS, w.code).toContain(w.code);
      }),
      { numRuns: 400, seed: 0x5eed },
    );
  });

  it('rebuilding a parsed report reproduces the bytes', () => {
    fc.assert(
      fc.property(crashlog, (input) => {
        const buf = buildCrashlog(input);
        const res = parseCrashlog(buf);
        if (!res.ok) throw res.error;
        expect([...buildCrashlog(res.report)]).toEqual([...buf]);
      }),
      { numRuns: 200, seed: 0x5eed },
    );
  });

  it('mailbox direction follows timestamp bit 0 both ways', () => {
    fc.assert(
      fc.property(u64, fc.constantFrom('ap->iop' as const, 'iop->ap' as const), (ts, dir) => {
        const buf = buildCrashlog({
          sections: [{ kind: 'Cmbx', entries: [{ ep: 0x37, msg: 0n, timestamp: ts, dir }] }],
        });
        const res = parseCrashlog(buf);
        if (!res.ok) throw res.error;
        const s = res.report.sections[0];
        if (s?.kind !== 'Cmbx') throw new Error('not Cmbx');
        expect(s.entries[0]?.dir).toBe(dir);
        expect(s.entries[0]?.timestamp).toBe((ts & ~1n) | (dir === 'ap->iop' ? 1n : 0n));
      }),
      { seed: 0x5eed },
    );
  });
});
