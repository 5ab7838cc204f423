/**
 * Section layouts against byte vectors assembled by hand from PROTOCOL.md §7.4, not through
 * `buildCrashlog`: build.ts keeps its own copy of every offset, so an offset wrong in both the
 * writer and the parser would survive the round-trip tests. Every field holds a distinct value
 * (its bytes differ from its neighbours'), so a field read at the wrong offset or width shows.
 * Each vector is also what `buildCrashlog` must write for the same values.
 *
 * Container notation as in ROBUSTNESS.md: HDR(t) = `45 48 4c 43` `03 03 00 00` t:u32
 * `00 00 00 00` + 16 × `00`; SEC(name, n) = fourcc bytes, `00 00 00 00`, `00 01 00 00`, n:u32;
 * FTR(t) = HDR(t). All values little-endian.
 */

import { describe, expect, it } from 'vitest';
import { buildCrashlog, type SectionInput } from './build.js';
import { parseCrashlog } from './parse.js';
import type { CrashlogSection, CrashReport } from './types.js';

/** Bytes from hex pairs (`'01 02 0a'`); each argument is one commented line of a vector. */
function hex(...lines: string[]): number[] {
  return lines
    .flatMap((l) => l.split(/\s+/).filter((t) => t.length > 0))
    .map((t) => {
      if (!/^[0-9a-f]{2}$/.test(t)) throw new Error(`bad byte ${t}`);
      return Number.parseInt(t, 16);
    });
}

/** A u32 as its four little-endian bytes (for the size fields of the container only). */
function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** Place bytes at an offset given in PROTOCOL.md's tables. */
function put(p: Uint8Array, off: number, bytes: string | number[]): void {
  p.set(typeof bytes === 'string' ? hex(bytes) : bytes, off);
}

/** HDR(t) SEC(name, 16 + payload) payload FTR(t). */
function container(fourccBytes: string, payload: Uint8Array): Uint8Array {
  const total = 32 + 16 + payload.length + 32;
  const hdr = [...hex('45 48 4c 43', '03 03 00 00'), ...le32(total), ...new Array(20).fill(0)];
  const sec = [...hex(fourccBytes, '00 00 00 00', '00 01 00 00'), ...le32(16 + payload.length)];
  return Uint8Array.from([...hdr, ...sec, ...payload, ...hdr]);
}

/** Parse a one-section container; the container itself must be clean. */
function parseOne(buf: Uint8Array): { section: CrashlogSection; report: CrashReport } {
  const r = parseCrashlog(buf);
  if (!r.ok) throw r.error;
  const { report } = r;
  expect(report.sections).toHaveLength(1);
  expect(report.footer).toEqual({ offset: buf.length - 32, matchesHeader: true });
  expect(report.walkError).toBeUndefined();
  return { section: report.sections[0]!, report };
}

/** The fields every section has, for a single section at offset 32. */
function common(fourcc: string, fourccValue: number, payload: Uint8Array) {
  return {
    fourcc,
    fourccValue,
    offset: 32,
    size: 16 + payload.length,
    hdrUnknown: 0,
    sectionVersion: 0x100,
    raw: payload,
  };
}

/** `buildCrashlog` writes exactly the hand-assembled container for the same values. */
function expectBuilt(input: SectionInput, buf: Uint8Array): void {
  const built = buildCrashlog({ sections: [input] });
  expect(built.subarray(48, built.length - 32)).toEqual(buf.subarray(48, buf.length - 32));
  expect(built).toEqual(buf);
}

describe('CrgA (AArch32 frame)', () => {
  const CRGA = '41 67 72 43';
  const payload = new Uint8Array(360);
  put(payload, 0x000, 'a5 00 00 00'); // kind 0xa5
  put(payload, 0x004, '60 01 00 00'); // frame size 352 (APPLE's required value)
  // r0–r15: r<i> = 0xa<i>c0de0<i>
  for (let i = 0; i < 16; i++) put(payload, 0x008 + 4 * i, [i, 0xde, 0xc0, 0xa0 + i]);
  put(payload, 0x048, 'd3 01 00 60'); // psr 0x600001d3
  put(payload, 0x04c, '4c 00 ad de'); // unknown 0xdead004c
  for (let i = 0; i < 256; i++) payload[0x050 + i] = i ^ 0x5a; // HL's "stack"
  put(payload, 0x150, '01 50 01 15'); // unknown 0x15015001
  put(payload, 0x154, '02 54 41 15'); // unknown 0x15415402
  put(payload, 0x158, '05 08 f5 00'); // fsr 0x00f50805
  put(payload, 0x15c, '34 fa 12 fa'); // far 0xfa12fa34
  put(payload, 0x160, '78 56 34 12 08 00 00 00'); // far_physical 0x812345678

  const regs = Array.from({ length: 16 }, (_, i) => (0xa0 + i) * 2 ** 24 + 0xc0de00 + i);
  const stack = Uint8Array.from({ length: 256 }, (_, i) => i ^ 0x5a);
  const values = {
    frameFlags: 0xa5,
    frameSize: 352,
    regs,
    psr: 0x600001d3,
    unknown4c: 0xdead004c,
    stack,
    unknown150: [0x15015001, 0x15415402] as [number, number],
    fsr: 0x00f50805,
    far: 0xfa12fa34,
  };

  it('decodes every field of the 360-byte frame (far_physical at 0x160)', () => {
    expect(regs[0]).toBe(0xa0c0de00);
    expect(regs[15]).toBe(0xafc0de0f);
    const buf = container(CRGA, payload);
    const { section, report } = parseOne(buf);
    expect(report.warnings).toEqual([]);
    expect(section).toEqual({
      kind: 'CrgA',
      ...common('CrgA', 0x43726741, payload),
      ...values,
      farPhysical: 0x812345678n,
    });
    expectBuilt({ kind: 'CrgA', ...values, farPhysical: 0x812345678n }, buf);
  });

  it('a 352-byte frame (HL) has no far_physical', () => {
    const short = payload.slice(0, 352);
    const buf = container(CRGA, short);
    const { section, report } = parseOne(buf);
    expect(report.warnings).toEqual([]);
    expect(section).toEqual({ kind: 'CrgA', ...common('CrgA', 0x43726741, short), ...values });
    expect(section).not.toHaveProperty('farPhysical');
    expectBuilt({ kind: 'CrgA', ...values }, buf);
  });
});

describe('CasC (ASC async error registers)', () => {
  const CASC = '43 73 61 43';
  const payload = Uint8Array.from(
    hex(
      '14 00 00 00 ef be ad 11', // l2c_err_sts 0x11adbeef00000014 (bits 2 and 4)
      '00 de bc 0a 08 00 00 22', // l2c_err_adr 0x220000080abcde00
      '03 00 00 00 00 00 33 33', // l2c_err_inf 0x3333000000000003
      '44 44 00 00 00 00 00 44', // lsu_err_sts 0x4400000000004444
      '55 00 55 00 00 00 00 55', // fed_err_sts 0x5500000000550055
      '66 66 66 00 00 00 00 66', // mmu_err_sts 0x6600000000666666
      '77 77 77 77 00 00 00 77', // dpc_err_sts 0x7700000077777777 (newer versions)
    ),
  );
  const six = {
    l2cErrSts: 0x11adbeef00000014n,
    l2cErrAdr: 0x220000080abcde00n,
    l2cErrInf: 0x3333000000000003n,
    lsuErrSts: 0x4400000000004444n,
    fedErrSts: 0x5500000000550055n,
    mmuErrSts: 0x6600000000666666n,
  };

  it('seven registers, in the order l2c sts/adr/inf, lsu, fed, mmu, dpc', () => {
    const buf = container(CASC, payload);
    const { section, report } = parseOne(buf);
    expect(report.warnings).toEqual([]);
    expect(section).toEqual({
      kind: 'CasC',
      ...common('CasC', 0x43617343, payload),
      ...six,
      dpcErrSts: 0x7700000077777777n,
      l2cSingleBit: true,
      l2cDoubleBit: true,
    });
    expectBuilt({ kind: 'CasC', ...six, dpcErrSts: 0x7700000077777777n }, buf);
  });

  it('six registers (older versions): no dpc_err_sts', () => {
    const p = payload.slice(0, 48);
    p[0] = 0x04; // only the single-bit error
    const buf = container(CASC, p);
    const { section } = parseOne(buf);
    const values = { ...six, l2cErrSts: 0x11adbeef00000004n };
    expect(section).toEqual({
      kind: 'CasC',
      ...common('CasC', 0x43617343, p),
      ...values,
      l2cSingleBit: true,
      l2cDoubleBit: false,
    });
    expectBuilt({ kind: 'CasC', ...values }, buf);
  });
});

describe('Ccdp (20-byte entries)', () => {
  const CCDP = '70 64 63 43';
  const entries = hex(
    '00 10 00 00 80 ff ff ff', // [0] va 0xffffff8000001000
    '00 40 32 10 08 00 00 00', // [0] pa 0x810324000
    '03 00 00 c0', //             [0] flags 0xc0000003
    '00 20 dc fe 00 00 00 00', // [1] va 0xfedc2000
    '00 80 76 54 09 00 00 00', // [1] pa 0x954768000
    '01 00 0d f0', //             [1] flags 0xf00d0001
  );
  const values = [
    { va: 0xffffff8000001000n, pa: 0x810324000n, flags: 0xc0000003 },
    { va: 0xfedc2000n, pa: 0x954768000n, flags: 0xf00d0001 },
  ];

  it('u64 va, u64 pa, u32 flags per entry', () => {
    const payload = Uint8Array.from(entries);
    const buf = container(CCDP, payload);
    const { section, report } = parseOne(buf);
    expect(report.warnings).toEqual([]);
    expect(section).toEqual({
      kind: 'Ccdp',
      ...common('Ccdp', 0x43636470, payload),
      entries: values,
    });
    expectBuilt({ kind: 'Ccdp', entries: values }, buf);
  });

  it('leftover bytes after the last whole entry are reported, not decoded', () => {
    const payload = Uint8Array.from([...entries, ...hex('aa bb cc')]);
    const { section, report } = parseOne(container(CCDP, payload));
    expect(report.warnings.map((w) => [w.code, w.offset])).toEqual([
      ['SECTION_TRAILING_BYTES', 32],
    ]);
    expect(report.warnings[0]!.message).toMatch(/3/);
    expect(section).toEqual({
      kind: 'Ccdp',
      ...common('Ccdp', 0x43636470, payload),
      issues: ['SECTION_TRAILING_BYTES'],
      entries: values,
    });
  });
});

describe('Crtk (task list)', () => {
  const CRTK = '6b 74 72 43';
  const payload = new Uint8Array(72 + 2 * 8 + 72);
  // Task 0 at +0: the faulting task, two return addresses.
  put(payload, 0, '12 00 00 80'); // id 0x12, bit 31 = faulting
  put(payload, 4, '0f 00 00 00'); // priority 15
  put(payload, 8, '1f 00 00 00'); // effective priority 31
  put(payload, 12, '02 00 00 00'); // state 2
  put(payload, 16, '01 00 00 00 ce fa ed fe'); // wait object 0xfeedface00000001
  put(payload, 24, '00 40 00 00 00 00 00 00'); // stack size 0x4000
  put(payload, 32, '34 12 00 00 00 00 00 00'); // stack used 0x1234
  put(payload, 40, '02 00 00 00'); // depth 2
  put(payload, 44, [...new TextEncoder().encode('worker')]); // name, NUL-padded char[28]
  put(payload, 72, '10 32 54 76 98 ff ff ff'); // return address 0xffffff9876543210
  put(payload, 80, '28 43 65 87 99 ff ff ff'); // return address 0xffffff9987654328
  // Task 1 at +88: not faulting, effective priority 0, no call stack, a full 28-byte name.
  const name28 = 'idle-task-name-of-28-bytes!!';
  put(payload, 88 + 0, '07 00 00 00'); // id 7
  put(payload, 88 + 4, '50 00 00 00'); // priority 0x50
  put(payload, 88 + 8, '00 00 00 00'); // effective priority 0 → use +4
  put(payload, 88 + 12, '05 00 00 00'); // state 5
  put(payload, 88 + 16, '00 00 00 00 00 00 00 00'); // wait object 0
  put(payload, 88 + 24, '00 00 01 00 00 00 00 00'); // stack size 0x10000
  put(payload, 88 + 32, '00 08 00 00 00 00 00 00'); // stack used 0x800
  put(payload, 88 + 40, '00 00 00 00'); // depth 0
  put(payload, 88 + 44, [...new TextEncoder().encode(name28)]); // no NUL: fills char[28]

  const tasks = [
    {
      id: 0x12,
      faulting: true,
      priority: 15,
      effectivePriority: 31,
      state: 2,
      waitObject: 0xfeedface00000001n,
      stackSize: 0x4000n,
      stackUsed: 0x1234n,
      name: 'worker',
      frames: [0xffffff9876543210n, 0xffffff9987654328n],
    },
    {
      id: 7,
      faulting: false,
      priority: 0x50,
      effectivePriority: 0,
      state: 5,
      waitObject: 0n,
      stackSize: 0x10000n,
      stackUsed: 0x800n,
      name: name28,
      frames: [],
    },
  ];

  it('decodes every field of two tasks (72 + 8 × depth bytes each)', () => {
    expect(name28).toHaveLength(28);
    const buf = container(CRTK, payload);
    const { section, report } = parseOne(buf);
    expect(report.warnings).toEqual([]);
    expect(section).toEqual({
      kind: 'Crtk',
      ...common('Crtk', 0x4372746b, payload),
      tasks: tasks.map((t) => ({ ...t, depth: t.frames.length })),
    });
    expectBuilt({ kind: 'Crtk', tasks }, buf);
  });
});

describe('Cmbx (mailbox registers and history)', () => {
  const CMBX = '78 62 6d 43';
  const payload = Uint8Array.from(
    hex(
      '01 00 00 10', // +0  AKF_KIC_INBOX_CTRL 0x10000001
      '02 00 00 20', // +4  AKF_KIC_MAILBOX_SET 0x20000002
      '03 00 00 30', // +8  AKF_AP_OUTBOX_CTRL 0x30000003
      '04 00 00 40', // +12 AKF_AP_MAILBOX_SET 0x40000004
      '05 00 00 00', // +16 mailbox error 5
      '06 00 00 60', // +20 unknown 0x60000006
      '07 00 00 00', // +24 route 7
      // entry 0 at +28 (#142's #029)
      '37 00 00 00 00 00 00 00', // endpoint 0x37
      '02 02 00 00 3c 00 00 00', // message 0x0000003c00000202
      '01 3f 3a 1d 00 00 00 00', // timestamp 0x1d3a3f01: odd, AP→IOP
      // entry 1 at +52
      '02 00 00 00 00 00 00 00', // endpoint 2
      '2a 00 00 00 00 00 50 00', // message 0x005000000000002a
      '0c a9 00 5c 01 00 00 00', // timestamp 0x15c00a90c: even, IOP→AP; high half as APPLE reads
    ),
  );
  const header = {
    kicInboxCtrl: 0x10000001,
    kicMailboxSet: 0x20000002,
    apOutboxCtrl: 0x30000003,
    apMailboxSet: 0x40000004,
    mailboxError: 5,
    unknown20: 0x60000006,
    route: 7,
  };

  it('seven header words, then 24-byte entries from +28', () => {
    expect(payload).toHaveLength(28 + 2 * 24);
    const buf = container(CMBX, payload);
    const { section, report } = parseOne(buf);
    expect(report.warnings).toEqual([]);
    expect(section).toEqual({
      kind: 'Cmbx',
      ...common('Cmbx', 0x436d6278, payload),
      ...header,
      entries: [
        { index: 0, ep: 0x37, msg: 0x3c00000202n, timestamp: 0x1d3a3f01n, dir: 'ap->iop' },
        { index: 1, ep: 2, msg: 0x005000000000002an, timestamp: 0x15c00a90cn, dir: 'iop->ap' },
      ],
    });
    expectBuilt(
      {
        kind: 'Cmbx',
        ...header,
        entries: [
          { ep: 0x37, msg: 0x3c00000202n, timestamp: 0x1d3a3f01n },
          { ep: 2, msg: 0x005000000000002an, timestamp: 0x15c00a90cn },
        ],
      },
      buf,
    );
  });

  it('a header cut after three words keeps those three, no entries', () => {
    const p = payload.slice(0, 14);
    const { section, report } = parseOne(container(CMBX, p));
    expect(report.warnings.map((w) => w.code)).toEqual(['SECTION_TOO_SHORT']);
    expect(section).toEqual({
      kind: 'Cmbx',
      ...common('Cmbx', 0x436d6278, p),
      issues: ['SECTION_TOO_SHORT'],
      kicInboxCtrl: 0x10000001,
      kicMailboxSet: 0x20000002,
      apOutboxCtrl: 0x30000003,
      entries: [],
    });
  });
});
