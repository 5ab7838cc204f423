import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeEsr, exceptionLevelName } from './aarch64.js';
import { buildCrashlog, type CrashlogInput, type SectionInput } from './build.js';
import { Fourcc, fourccName, fourccValue } from './fourcc.js';
import { parseCrashlog } from './parse.js';
import type { CrashlogSection, CrashReport } from './types.js';
import { parseRtkitVersion } from './version.js';

function hexBytes(dump: string): Uint8Array {
  const bytes = dump
    .trim()
    .split('\n')
    .flatMap((l) =>
      l
        .replace(/^[0-9a-f]{4}:/, '')
        .trim()
        .split(/\s+/),
    )
    .map((b) => Number.parseInt(b, 16));
  return Uint8Array.from(bytes);
}

// PROTOCOL.md §7.5, verbatim.
const EXAMPLE = hexBytes(`
0000: 45 48 4c 43 03 03 00 00 74 00 00 00 00 00 00 00
0010: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
0020: 72 74 73 43 00 00 00 00 00 01 00 00 1c 00 00 00
0030: 00 00 00 00 62 6f 6f 6d 0a 00 00 00 6d 69 74 43
0040: 00 00 00 00 00 01 00 00 18 00 00 00 e7 00 16 5c
0050: 00 00 00 00 45 48 4c 43 03 03 00 00 74 00 00 00
0060: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
0070: 00 00 00 00
`);

function report(buf: Uint8Array): CrashReport {
  const res = parseCrashlog(buf);
  if (!res.ok) throw new Error(res.error.message);
  return res.report;
}

function one<K extends CrashlogSection['kind']>(
  s: SectionInput,
  kind: K,
): { section: Extract<CrashlogSection, { kind: K }>; report: CrashReport } {
  const r = report(buildCrashlog({ sections: [s] }));
  const section = r.sections[0];
  if (section?.kind !== kind) throw new Error(`expected ${kind}, got ${section?.kind}`);
  return { section: section as Extract<CrashlogSection, { kind: K }>, report: r };
}

const codes = (r: CrashReport) => r.warnings.map((w) => w.code);

describe('PROTOCOL.md §7.5 synthetic example', () => {
  it('is 116 bytes', () => expect(EXAMPLE.length).toBe(116));

  it('parses to Cstr "boom\\n", Ctim 0x5c1600e7, footer at 0x54, no warnings', () => {
    const r = report(EXAMPLE);
    expect(r.header).toMatchObject({ version: 0x303, versionMajor: 3, totalSize: 0x74, flags: 0 });
    expect(r.sections).toHaveLength(2);
    expect(r.sections[0]).toMatchObject({
      kind: 'Cstr',
      fourcc: 'Cstr',
      offset: 0x20,
      size: 0x1c,
      sectionVersion: 0x100,
      id: 0,
      text: 'boom\n',
      lines: ['boom'],
      terminated: true,
    });
    expect(r.sections[1]).toMatchObject({
      kind: 'Ctim',
      offset: 0x3c,
      size: 0x18,
      time: 0x5c1600e7n,
    });
    expect(r.footer).toEqual({ offset: 0x54, matchesHeader: true });
    expect(r.warnings).toEqual([]);
    expect(r.walkError).toBeUndefined();
  });

  it('is what the builder writes, byte for byte', () => {
    const built = buildCrashlog({
      sections: [
        { kind: 'Cstr', id: 0, text: 'boom\n' },
        { kind: 'Ctim', time: 0x5c1600e7n },
      ],
    });
    expect([...built]).toEqual([...EXAMPLE]);
    // …and rebuilding the parsed report gives the same bytes again.
    expect([...buildCrashlog(report(EXAMPLE))]).toEqual([...EXAMPLE]);
  });
});

describe('fourccs (§7.3)', () => {
  it('names every known value and round-trips', () => {
    for (const [name, v] of Object.entries(Fourcc)) {
      expect(fourccName(v)).toBe(name);
      expect(fourccValue(name)).toBe(v);
    }
    expect(fourccName(0)).toBe('0x00000000');
    expect(fourccValue('0x00000000')).toBe(0);
    expect(fourccName(0xffffffff)).toBe('0xffffffff');
    expect(fourccValue('abc')).toBeUndefined();
  });

  it('keeps unknown and unprintable fourccs raw', () => {
    const r = report(
      buildCrashlog({
        sections: [
          { kind: 'raw', fourcc: 0x01020304, raw: Uint8Array.of(1, 2, 3) },
          { kind: 'raw', fourcc: 'Cpct', raw: new Uint8Array(48) },
        ],
      }),
    );
    expect(r.sections[0]).toMatchObject({
      kind: 'raw',
      fourcc: '0x01020304',
      reason: 'unknown-fourcc',
    });
    expect(r.sections[1]).toMatchObject({ kind: 'raw', fourcc: 'Cpct', reason: 'opaque' });
    expect(r.warnings).toEqual([]);
  });
});

describe('Cstr', () => {
  it('splits lines and exposes the panic-append bit', () => {
    const { section } = one({ kind: 'Cstr', id: 3, text: 'a\nb\n\nc' }, 'Cstr');
    expect(section.lines).toEqual(['a', 'b', '', 'c']);
    expect(section.appendToPanic).toBe(true);
  });

  it('an empty text is one terminated empty string', () => {
    const { section, report: r } = one({ kind: 'Cstr', id: 0, text: '' }, 'Cstr');
    expect(section).toMatchObject({ text: '', lines: [], terminated: true });
    expect(r.warnings).toEqual([]);
  });
});

describe('Cver (§7.4 heuristic)', () => {
  const V = 'RTKit: RTKit-1827.120.2.debug - Client: local-ipad14dcp.release';

  it('reads the string at +16 (ML, OB, m1n1 layout)', () => {
    const uuid = '00112233-4455-6677-8899-aabbccddeeff';
    const { section } = one({ kind: 'Cver', uuid, version: V }, 'Cver');
    expect(section).toMatchObject({ uuid, version: V, versionOffset: 16, versionRecognized: true });
    expect(section.possibleAslrSlide).toBeUndefined();
    expect(section.parsed).toEqual({
      rtkitVersion: '1827.120.2',
      major: 1827,
      minor: 120,
      patch: 2,
      build: 'debug',
      client: 'local-ipad14dcp.release',
    });
  });

  it('reads the string at +24 with a possible ASLR slide (APPLE iOS 18 layout)', () => {
    const { section } = one({ kind: 'Cver', version: V, possibleAslrSlide: 0x4000n }, 'Cver');
    expect(section).toMatchObject({ version: V, versionOffset: 24, possibleAslrSlide: 0x4000n });
  });

  it('falls back to +16 and flags an unrecognised string', () => {
    const { section, report: r } = one({ kind: 'Cver', version: 'hello' }, 'Cver');
    expect(section).toMatchObject({
      version: 'hello',
      versionOffset: 16,
      versionRecognized: false,
    });
    expect(section.parsed).toBeUndefined();
    expect(r.warnings).toEqual([]);
  });

  it('payload < 16 is too short', () => {
    const r = report(
      buildCrashlog({ sections: [{ kind: 'raw', fourcc: 'Cver', raw: new Uint8Array(15) }] }),
    );
    expect(r.sections[0]).toMatchObject({ kind: 'raw', reason: 'too-short' });
    expect(codes(r)).toEqual(['SECTION_TOO_SHORT']);
  });

  it('the builder refuses layouts the heuristic would misread', () => {
    expect(() =>
      buildCrashlog({ sections: [{ kind: 'Cver', version: 'x', possibleAslrSlide: 1n }] }),
    ).toThrow(/ENCODE_INVALID/);
    expect(() => buildCrashlog({ sections: [{ kind: 'Cver', version: '12345678RTKit' }] })).toThrow(
      /ENCODE_INVALID/,
    );
  });
});

describe('Ctim', () => {
  it('extra bytes are SECTION_TRAILING_BYTES', () => {
    const raw = Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0, 9, 9);
    const r = report(buildCrashlog({ sections: [{ kind: 'raw', fourcc: 'Ctim', raw }] }));
    expect(r.sections[0]).toMatchObject({
      kind: 'Ctim',
      time: 1n,
      issues: ['SECTION_TRAILING_BYTES'],
    });
  });
});

describe('Cmbx', () => {
  it('decodes header words, entries and the direction from timestamp bit 0', () => {
    const { section, report: r } = one(
      {
        kind: 'Cmbx',
        kicInboxCtrl: 0x11,
        kicMailboxSet: 0x22,
        apOutboxCtrl: 0x33,
        apMailboxSet: 0x44,
        mailboxError: 4,
        unknown20: 0x66,
        route: 1,
        entries: [
          { ep: 0x37, msg: 0x0000003c00000202n, timestamp: 0x1d3a3f01n },
          { ep: 0x37, msg: 0x242n, timestamp: 0x1d3a46a8n },
          { ep: 0x20, msg: 1n, timestamp: 0x100n, dir: 'ap->iop' },
        ],
      },
      'Cmbx',
    );
    expect(section).toMatchObject({
      kicInboxCtrl: 0x11,
      mailboxError: 4,
      unknown20: 0x66,
      route: 1,
    });
    expect(section.entries).toEqual([
      { index: 0, ep: 0x37, msg: 0x3c00000202n, timestamp: 0x1d3a3f01n, dir: 'ap->iop' },
      { index: 1, ep: 0x37, msg: 0x242n, timestamp: 0x1d3a46a8n, dir: 'iop->ap' },
      { index: 2, ep: 0x20, msg: 1n, timestamp: 0x101n, dir: 'ap->iop' },
    ]);
    expect(r.warnings).toEqual([]);
  });

  it('keeps wide endpoint fields and says so', () => {
    const { section, report: r } = one(
      { kind: 'Cmbx', entries: [{ ep: 1, epHigh: 2, msg: 0n, timestamp: 0n }] },
      'Cmbx',
    );
    expect(section.entries[0]).toMatchObject({ ep: 1, epHigh: 2 });
    expect(codes(r)).toEqual(['ENDPOINT_HIGH_BITS']);
  });

  it('maxEntries bounds the entry list', () => {
    const entries = Array.from({ length: 50 }, (_, i) => ({
      ep: 1,
      msg: BigInt(i),
      timestamp: 0n,
    }));
    const buf = buildCrashlog({ sections: [{ kind: 'Cmbx', entries }] });
    const res = parseCrashlog(buf, { maxEntries: 10 });
    if (!res.ok) throw res.error;
    const s = res.report.sections[0];
    expect(s?.kind === 'Cmbx' && s.entries.length).toBe(10);
    expect(codes(res.report)).toEqual(['ENTRY_LIMIT_REACHED']);
  });
});

describe('Crg8', () => {
  const regs = Array.from({ length: 31 }, (_, i) => BigInt(i) * 0x1000n + 0xffff_0000_0000n);

  it('decodes registers and derived fields', () => {
    const { section, report: r } = one(
      {
        kind: 'Crg8',
        regs,
        sp: 0x1234n,
        pc: 0x17eaf0n,
        psr: 0x600012c5n,
        cpacr: 0x300000n,
        fpsr: 1n,
        fpcr: 2n,
        fp: [5n, 6n],
        far: 0xdeadn,
        esr: 0x96000045,
      },
      'Crg8',
    );
    expect(section.regs).toEqual(regs);
    expect(section).toMatchObject({
      sp: 0x1234n,
      pc: 0x17eaf0n,
      el: 'EL1h',
      mode: 5,
      far: 0xdeadn,
      farPhysical: 0xffff_ffff_ffff_ffffn,
      esrClass: 0x25,
      esrClassName: 'Data abort from the same EL',
      esrIl: 1,
      esrIss: 0x45,
      frameSize: 828,
    });
    expect(section.fp.slice(0, 3)).toEqual([5n, 6n, 0n]);
    expect(section.fp).toHaveLength(64);
    expect(r.warnings).toEqual([]);
  });

  it('decodes the optional tail only when present, and warns on an odd frame size', () => {
    const { section, report: r } = one(
      { kind: 'Crg8', esrHigh: 7, unknownTail: 9n, frameSize: 832 },
      'Crg8',
    );
    expect(section).toMatchObject({ esrHigh: 7, unknownTail: 9n });
    expect(section.raw.length).toBe(0x350);
    expect(codes(r)).toEqual(['FRAME_SIZE_UNEXPECTED']);
  });

  it('EL names and ESR fields', () => {
    expect([0, 4, 5, 8, 9, 1, 0xd].map(exceptionLevelName)).toEqual([
      'EL0t',
      'EL1t',
      'EL1h',
      'EL2t',
      'EL2h',
      'unknown',
      'unknown',
    ]);
    expect(decodeEsr(0xbe000000)).toEqual({ ec: 0x2f, il: 1, iss: 0, ecName: 'SError interrupt' });
    expect(decodeEsr(0xf2000001).ecName).toBe('BRK (AArch64)');
    expect(decodeEsr(0x56000000).ecName).toBe('SVC (AArch64)');
    expect(decodeEsr(0x86000010).ecName).toBe('Instruction abort from the same EL');
    expect(decodeEsr(0xfc000000).ecName).toBe('unknown');
  });
});

describe('CrgA', () => {
  it('requires 352 bytes and reads far_physical only when present', () => {
    const regs = Array.from({ length: 16 }, (_, i) => i * 4);
    const a = one({ kind: 'CrgA', regs, psr: 0x1d3, fsr: 5, far: 0x40 }, 'CrgA');
    expect(a.section).toMatchObject({ regs, psr: 0x1d3, fsr: 5, far: 0x40, frameSize: 352 });
    expect(a.section.farPhysical).toBeUndefined();
    expect(a.section.stack.length).toBe(256);
    expect(a.report.warnings).toEqual([]);
    const b = one({ kind: 'CrgA', farPhysical: 0x8_0000_0000n }, 'CrgA');
    expect(b.section.farPhysical).toBe(0x8_0000_0000n);
    const short = report(
      buildCrashlog({ sections: [{ kind: 'raw', fourcc: 'CrgA', raw: new Uint8Array(351) }] }),
    );
    expect(codes(short)).toEqual(['SECTION_TOO_SHORT']);
  });
});

describe('Ccst', () => {
  it('reads frames up to a 0 or the payload end; the interrupt bit is byte +7 bit 0x10', () => {
    const { section } = one(
      { kind: 'Ccst', taskId: 12, interrupt: true, frames: [0x100n, 0x200n] },
      'Ccst',
    );
    expect(section).toMatchObject({ taskId: 12, interrupt: true, frames: [0x100n, 0x200n] });
    expect(section.raw[7]).toBe(0x10);
    const withZero = Uint8Array.of(
      1,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      8,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      ...new Array(8).fill(0),
      9,
      9,
    );
    const r = report(buildCrashlog({ sections: [{ kind: 'raw', fourcc: 'Ccst', raw: withZero }] }));
    expect(r.sections[0]).toMatchObject({ kind: 'Ccst', frames: [8n] });
    expect(r.warnings).toEqual([]);
    const partial = withZero.subarray(0, 19);
    const r2 = report(buildCrashlog({ sections: [{ kind: 'raw', fourcc: 'Ccst', raw: partial }] }));
    expect(codes(r2)).toEqual(['SECTION_TRAILING_BYTES']);
  });
});

describe('CasC', () => {
  it('decodes 6 or 7 registers and the ECC bits', () => {
    const six = one({ kind: 'CasC', l2cErrSts: 0x14n, mmuErrSts: 3n }, 'CasC');
    expect(six.section).toMatchObject({ l2cSingleBit: true, l2cDoubleBit: true, mmuErrSts: 3n });
    expect(six.section.dpcErrSts).toBeUndefined();
    const seven = one({ kind: 'CasC', dpcErrSts: 0x77n }, 'CasC');
    expect(seven.section.dpcErrSts).toBe(0x77n);
    expect(seven.report.warnings).toEqual([]);
  });
});

describe('Crtk', () => {
  it('decodes tasks with the faulting bit and call stacks', () => {
    const { section, report: r } = one(
      {
        kind: 'Crtk',
        tasks: [
          {
            id: 12,
            faulting: true,
            name: 'worker',
            priority: 15,
            stackUsed: 1024n,
            stackSize: 4096n,
            frames: [1n, 2n],
          },
          { id: 1, name: 'x'.repeat(28), state: 2, waitObject: 0xabcn },
        ],
      },
      'Crtk',
    );
    expect(section.tasks).toHaveLength(2);
    expect(section.tasks[0]).toMatchObject({
      id: 12,
      faulting: true,
      name: 'worker',
      depth: 2,
      frames: [1n, 2n],
    });
    expect(section.tasks[1]).toMatchObject({
      id: 1,
      faulting: false,
      name: 'x'.repeat(28),
      state: 2,
    });
    expect(r.warnings).toEqual([]);
  });

  it('truncates a depth that runs past the payload, with a warning', () => {
    const buf = buildCrashlog({
      sections: [{ kind: 'Crtk', tasks: [{ id: 5, frames: [1n, 2n, 3n] }] }],
    });
    // depth field of the only task: payload +40 = buffer 0x20 + 16 + 40
    new DataView(buf.buffer).setUint32(0x20 + 16 + 40, 0xffffffff, true);
    const r = report(buf);
    const s = r.sections[0];
    if (s?.kind !== 'Crtk') throw new Error('not Crtk');
    expect(s.tasks[0]).toMatchObject({ depth: 0xffffffff, frames: [1n, 2n, 3n] });
    expect(codes(r)).toEqual(['TASK_DEPTH_TRUNCATED']);
  });

  it('reports leftover bytes shorter than a task', () => {
    const raw = new Uint8Array(72 + 10);
    const r = report(buildCrashlog({ sections: [{ kind: 'raw', fourcc: 'Crtk', raw }] }));
    expect(r.sections[0]).toMatchObject({ kind: 'Crtk', issues: ['SECTION_TRAILING_BYTES'] });
  });
});

describe('Ccdp', () => {
  it('decodes 20-byte entries and reports leftovers', () => {
    const entries = [
      { va: 0x1000n, pa: 0x8_0000_0000n, flags: 3 },
      { va: 0x2000n, pa: 0n, flags: 0 },
    ];
    const { section, report: r } = one({ kind: 'Ccdp', entries }, 'Ccdp');
    expect(section.entries).toEqual(entries);
    expect(r.warnings).toEqual([]);
    const raw = new Uint8Array(45);
    const r2 = report(buildCrashlog({ sections: [{ kind: 'raw', fourcc: 'Ccdp', raw }] }));
    expect(r2.sections[0]).toMatchObject({ kind: 'Ccdp', issues: ['SECTION_TRAILING_BYTES'] });
  });
});

describe('header fields', () => {
  it('exposes flags, nested exception and the section header words', () => {
    const input: CrashlogInput = {
      header: { flags: 0x300, nestedExceptionAddress: 0xfffffe0000123456n, nestedExceptionType: 7 },
      sections: [{ kind: 'Ctim', time: 1n, sectionVersion: 0x201, hdrUnknown: 0xabcd }],
    };
    const r = report(buildCrashlog(input));
    expect(r.header).toMatchObject({
      flags: 0x300,
      incomplete: true,
      nestedException: true,
      nestedExceptionAddress: 0xfffffe0000123456n,
      nestedExceptionType: 7,
    });
    expect(r.sections[0]).toMatchObject({ sectionVersion: 0x201, hdrUnknown: 0xabcd });
  });

  it('the builder can omit the footer and override the size field', () => {
    const r = report(buildCrashlog({ sections: [], withFooter: false }));
    expect(r.warnings.map((w) => w.code)).toEqual(['FOOTER_MISSING']);
    const r2 = report(buildCrashlog({ sections: [], totalSize: 0x1000 }));
    expect(codes(r2)).toEqual(['CRASHLOG_SIZE_CLAMPED', 'FOOTER_MISPLACED']);
  });

  it('the builder rejects out-of-range values', () => {
    const bad: SectionInput[] = [
      { kind: 'Ctim', time: -1n },
      { kind: 'Ctim', time: 1n << 64n },
      { kind: 'Cstr', id: 0x1_0000_0000, text: '' },
      { kind: 'Cstr', id: 0, text: 'a\0b' },
      { kind: 'Crtk', tasks: [{ id: 0x8000_0000 }] },
      { kind: 'Crtk', tasks: [{ id: 1, name: 'n'.repeat(29) }] },
      { kind: 'Ccst', taskId: 1, frames: [0n] },
      { kind: 'Crg8', regs: new Array(32).fill(0n) },
      { kind: 'raw', fourcc: 'toolong', raw: new Uint8Array() },
    ];
    for (const s of bad)
      expect(() => buildCrashlog({ sections: [s] }), s.kind).toThrow(/ENCODE_INVALID/);
  });
});

const FIXTURES = new URL('../../test/fixtures/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');

describe('parseRtkitVersion on fixtures/rtkit-version-strings.txt', () => {
  const lines = fixture('rtkit-version-strings.txt').split('\n');
  const expected = JSON.parse(fixture('expected.json'))['rtkit-version-strings.txt'].versions as {
    line: number;
    rtkit_version: string;
    major: number;
    minor: number;
    patch: number;
    build: string;
    client: string;
  }[];

  it('covers all 4 lines', () => {
    expect(lines.filter((l) => l !== '')).toHaveLength(4);
    expect(expected.map((e) => e.line)).toEqual([1, 2, 3, 4]);
  });

  for (const { line, rtkit_version, ...rest } of expected) {
    it(`line ${line}`, () => {
      expect(parseRtkitVersion(lines[line - 1]!)).toEqual({ rtkitVersion: rtkit_version, ...rest });
    });
  }

  it('rejects other shapes', () => {
    expect(parseRtkitVersion('hello')).toBeUndefined();
    expect(parseRtkitVersion('RTKit: RTKit-1.2.3 - Client: x')).toBeUndefined();
    expect(parseRtkitVersion('RTKit: RTKit-1.2.3.release - Client:')).toBeUndefined();
    // An unfamiliar build word still parses, kept as printed.
    expect(parseRtkitVersion('RTKit: RTKit-1.2.3.4.beta - Client: x')).toMatchObject({
      rtkitVersion: '1.2.3.4',
      build: 'beta',
    });
    expect(parseRtkitVersion('RTKit-1.2.3.release - Client: x')?.rtkitVersion).toBe('1.2.3');
  });
});
