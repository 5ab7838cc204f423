// Rendering against what Linux printed for a real DCP crash (fixtures/dmesg-dcp-crash-142.txt,
// AsahiLinux/linux#142): we rebuild a crashlog carrying the printed values, parse it, render it,
// and expect every Linux line back. Also the JSON shape (docs/crashlog.md).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildCrashlog, type MailboxEntryInput } from './build.js';
import { crashlogToJson, type JsonValue } from './json.js';
import { parseCrashlog } from './parse.js';
import { renderCrashlogText } from './render-text.js';
import type { CrashReport } from './types.js';

const FIXTURES = new URL('../../test/fixtures/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');

// What Linux printed from the crashlog: fixture lines 3–35 (line 2, "co-processor has crashed",
// comes from the notification, not the buffer), device prefix removed, empty lines dropped.
const LINUX = fixture('dmesg-dcp-crash-142.txt')
  .split('\n')
  .slice(2)
  .filter((l) => l !== '')
  .map((l) => l.slice(l.indexOf('231c00000.dcp: ') + '231c00000.dcp: '.length));
const CRASH = JSON.parse(fixture('expected.json'))['dmesg-dcp-crash-142.txt'].crash as Record<
  string,
  string | number
>;

const ENTRY_RE = /^RTKit: {2}#(\d{3})@([0-9a-f]{8}): ([0-9a-f]{16}) ([0-9a-f]{16})$/;

/** A Cmbx of 88 entries: the printed ones at their indices, synthetic IOP posts elsewhere. */
function mailboxEntries(): MailboxEntryInput[] {
  const entries: MailboxEntryInput[] = Array.from({ length: 88 }, (_, i) => ({
    ep: 0x20,
    msg: BigInt(i),
    timestamp: BigInt(0x1000_0000 + i * 0x100),
  }));
  for (const l of LINUX) {
    const m = ENTRY_RE.exec(l);
    if (m === null) continue;
    entries[Number(m[1])] = {
      ep: Number.parseInt(m[3]!, 16),
      msg: BigInt(`0x${m[4]}`),
      timestamp: BigInt(`0x${m[2]}`),
    };
  }
  return entries;
}

function crash142(): CrashReport {
  const buf = buildCrashlog({
    sections: [
      { kind: 'Cver', version: String(CRASH['version_string']) },
      { kind: 'Ctim', time: BigInt(CRASH['crash_time']!) },
      {
        kind: 'Crg8',
        psr: BigInt(CRASH['psr']!),
        pc: BigInt(CRASH['pc']!),
        esr: Number(CRASH['esr']),
        sp: 0x2d8f40n,
        far: 0n,
      },
      { kind: 'Cmbx', mailboxError: 0, route: 0, entries: mailboxEntries() },
    ],
  });
  const res = parseCrashlog(buf);
  if (!res.ok) throw res.error;
  return res.report;
}

describe('renderCrashlogText', () => {
  const report = crash142();
  const text = renderCrashlogText(report);
  const lines = text.split('\n');

  it('contains every line Linux printed for issue #142', () => {
    expect(LINUX).toHaveLength(7 + 24);
    for (const want of LINUX) {
      const found = lines.find((l) => l === want || l.startsWith(`${want} `));
      expect(found, want).toBeDefined();
    }
    // The non-mailbox lines are exact, not just prefixes.
    for (const want of LINUX.slice(2, 7)) expect(lines).toContain(want);
    expect(lines).toContain(LINUX[0]);
    expect(lines).toContain('RTKit: Crash time: 1544945895 (0x5c1600e7)');
  });

  it('adds direction, endpoint name, ESR class and register rows', () => {
    expect(text).toMatch(
      /^RTKit: {2}#029@1d3a3f01: 0000000000000037 0000003c00000202 {2}ap->iop user24$/m,
    );
    expect(text).toMatch(
      /^RTKit: {2}#024@1d396650: 0000000000000037 0000000000000242 {2}iop->ap user24$/m,
    );
    expect(text).toContain('ESR class 0x2f (SError interrupt), IL 1, ISS 0x0');
    expect(text).toContain('RTKit 1827.120.2 (debug build), client local-ipad14dcp.release');
    expect(text).toContain(`  x00-x03 = ${'0000000000000000 '.repeat(3)}0000000000000000`);
    expect(text).toMatch(/^ {2}x28-x31 = (0{16} ?){3}$/m);
    expect(text).toContain('  SP     = 0x2d8f40');
    expect(text).toContain('  FAR physical = none');
    expect(text).toContain('RTKit: Mailbox history (type = 0, index = 0)');
    expect(text).not.toContain('Warnings');
  });

  it('calls annotate for every entry, and survives one that throws', () => {
    const seen: string[] = [];
    const out = renderCrashlogText(report, {
      annotate: (ep, msg, dir) => {
        seen.push(`${ep}:${msg}:${dir}`);
        if (msg === 0x242n) throw new Error('nope');
        return `type ${(msg >> 8n) & 0xfn}`;
      },
    });
    expect(seen).toHaveLength(88);
    expect(seen[29]).toBe(`55:${0x3c00000202n}:ap->iop`);
    expect(out).toMatch(/#029@1d3a3f01: .* {2}ap->iop user24 {2}type 2$/m);
    expect(out).toMatch(/#024@1d396650: .*<annotate failed: nope>$/m);
  });

  it('colours only when asked', () => {
    expect(text).not.toContain('\x1b[');
    expect(renderCrashlogText(report, { color: true })).toContain('\x1b[1m');
    const tagged = renderCrashlogText(report, { color: { bold: (s) => `<b>${s}</b>` } });
    expect(tagged).toContain('<b>RTKit: Exception dump:</b>');
  });

  it('renders every section kind, the task table and the warnings', () => {
    const buf = buildCrashlog({
      header: { flags: 0x300, nestedExceptionAddress: 0x1234n, nestedExceptionType: 2 },
      sections: [
        { kind: 'Cstr', id: 1, text: 'panic: oh no\nsecond line\n' },
        {
          kind: 'Cver',
          version: 'RTKit: RTKit-2758.1.1.release - Client: x',
          possibleAslrSlide: 0x8000n,
        },
        {
          kind: 'Crtk',
          tasks: [
            {
              id: 12,
              name: 'worker',
              priority: 15,
              stackUsed: 1024n,
              stackSize: 4096n,
              faulting: true,
              frames: [0x1000n],
            },
            { id: 3, name: 'idle', priority: 1, effectivePriority: 2, waitObject: 0xabcn },
          ],
        },
        { kind: 'Ccst', taskId: 12, frames: [0x1000n, 0x2000n] },
        { kind: 'CasC', l2cErrSts: 4n, dpcErrSts: 1n },
        {
          kind: 'CrgA',
          regs: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0x2000, 15, 0x8000],
          psr: 0x1d3,
        },
        { kind: 'Ccdp', entries: [{ va: 0x10n, pa: 0x20n, flags: 1 }] },
        { kind: 'raw', fourcc: 'Cpct', raw: Uint8Array.of(0x6d, 0x54, 0x43, 0x50, 1, 0, 0, 0) },
        { kind: 'raw', fourcc: 'Cmbx', raw: Uint8Array.of(1, 0, 0, 0) },
      ],
    });
    const res = parseCrashlog(buf);
    if (!res.ok) throw res.error;
    const out = renderCrashlogText(res.report);
    expect(out).toContain('RTKit: Message (id=1): panic: oh no');
    expect(out).toContain('RTKit: Message (id=1): second line');
    expect(out).toContain('ASLR slide (possible): 0x8000');
    expect(out).toContain('Incomplete crash log, IOP crashed during logging');
    expect(out).toContain('Nested exception: type 0x2 at 0x1234');
    expect(out).toContain('RTKit Task List:');
    expect(out).toContain('  12 worker | 015 | 1024/4096 | state 0 | 0 | [Faulting task]');
    expect(out).toContain('  3 idle | 002 | 0/0 | state 0 | 0xabc');
    expect(out).toContain('Faulting task 12 Call Stack: 0x1000 0x2000');
    expect(out).toContain('Chinook ASC Async error info:');
    expect(out).toContain('  l2c_err_sts = 0x4 (single-bit error)');
    expect(out).toContain('  dpc_err_sts = 0x1');
    expect(out).toContain('  PC     = 0x8000');
    expect(out).toContain('  va 0x10 pa 0x20 flags 0x1');
    expect(out).toContain('Section Cpct at ');
    expect(out).toContain('  0000: 6d 54 43 50 01 00 00 00');
    expect(out).toContain('RTKit: Mailbox history (type = ?, index = ?)');
    expect(out).toMatch(
      /Warnings \(1\):\n {2}SECTION_TOO_SHORT at 0x[0-9a-f]+: Cmbx payload 4 < 28 bytes/,
    );
  });
});

function assertJsonSafe(v: unknown, path: string): void {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    expect(Number.isSafeInteger(v), path).toBe(true);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      assertJsonSafe(x, `${path}[${i}]`);
    });
    return;
  }
  expect(typeof v, path).toBe('object');
  expect(Object.getPrototypeOf(v), path).toBe(Object.prototype);
  for (const [k, x] of Object.entries(v as object)) assertJsonSafe(x, `${path}.${k}`);
}

describe('crashlogToJson', () => {
  const json = crashlogToJson(crash142());

  it('has exactly the documented top-level shape and is JSON-safe', () => {
    expect(Object.keys(json)).toEqual(['header', 'sections', 'warnings']);
    assertJsonSafe(json, '$');
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    for (const s of json.sections) {
      expect(Object.keys(s).slice(0, 4)).toEqual(['fourcc', 'offset', 'size', 'version']);
    }
  });

  it('carries the fixture values in the expected.json conventions', () => {
    const [cver, ctim, crg8, cmbx] = json.sections;
    expect(cver).toMatchObject({ fourcc: 'Cver', offset: 0x20, version: CRASH['version_string'] });
    expect(cver?.['rtkit']).toMatchObject({
      rtkitVersion: CRASH['rtkit_version'],
      build: CRASH['build'],
      client: CRASH['client'],
    });
    expect(ctim).toMatchObject({ fourcc: 'Ctim', version: 0x100, time: CRASH['crash_time_hex'] });
    expect(crg8).toMatchObject({
      fourcc: 'Crg8',
      el: CRASH['exception_level'],
      mode: CRASH['psr_mode'],
      psr: CRASH['psr'],
      pc: CRASH['pc'],
      esr: CRASH['esr'],
      esrClass: CRASH['esr_ec'],
      esrIl: CRASH['esr_il'],
      esrIss: CRASH['esr_iss'],
      sp: '0x2d8f40',
      far: '0x0',
    });
    expect(crg8?.['regs']).toHaveLength(31);
    const entries = cmbx?.['entries'] as { [k: string]: JsonValue }[];
    expect(entries).toHaveLength(88);
    expect(entries[29]).toEqual({
      index: 29,
      ep: 0x37,
      msg: '0x0000003c00000202',
      timestamp: '0x1d3a3f01',
      dir: 'ap->iop',
    });
    const history = JSON.parse(fixture('expected.json'))['dmesg-dcp-crash-142.txt']
      .mailbox_history as {
      index: number;
      timestamp: string;
      endpoint: number;
      message: string;
      direction: string;
    }[];
    expect(history).toHaveLength(24);
    for (const h of history) {
      expect(entries[h.index]).toEqual({
        index: h.index,
        ep: h.endpoint,
        msg: h.message,
        timestamp: h.timestamp,
        dir: h.direction === 'ap_to_iop' ? 'ap->iop' : 'iop->ap',
      });
    }
    expect(json.warnings).toEqual([]);
    expect(json.header).toMatchObject({
      magic: 'CLHE',
      totalSize: json.header['bufferLength'],
      footer: { matchesHeader: true },
    });
  });

  it('gives Cstr text and warning strings', () => {
    const res = parseCrashlog(
      buildCrashlog({ sections: [{ kind: 'Cstr', id: 0, text: 'hi', terminated: false }] }),
    );
    if (!res.ok) throw res.error;
    const j = crashlogToJson(res.report);
    expect(j.sections[0]).toMatchObject({
      fourcc: 'Cstr',
      text: 'hi',
      lines: ['hi'],
      issues: ['UNTERMINATED_STRING'],
    });
    expect(j.warnings).toEqual([
      'UNTERMINATED_STRING at 0x20: Cstr text has no NUL before the payload end',
    ]);
  });
});
