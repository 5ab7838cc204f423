/**
 * Real syslog output (test/fixtures, copied from ../shared/fixtures with its README.md) against the §8 writing and decoding
 * rules: every published line, written into a DCP-sized entry (message size 128) the way the
 * firmware does, must decode to exactly what the hosts printed.
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeSyslogEntry, type SyslogDecodeResult } from './decode-entry.js';
import { writeSyslogEntry } from './write-entry.js';

const FIXTURES =
  process.env['RTKIT_FIXTURES'] ?? new URL('../../test/fixtures/', import.meta.url).pathname;

interface SyslogItem {
  readonly file: string;
  readonly line: number;
  readonly context: string;
  readonly message: string;
  readonly context_length: number;
  readonly message_length?: number;
  readonly followed_by_empty_line?: true;
  readonly message_cut_at_127?: true;
}

function loadSyslogItems(): SyslogItem[] {
  const expected = JSON.parse(readFileSync(`${FIXTURES}/expected.json`, 'utf8')) as Record<
    string,
    { syslog?: Omit<SyslogItem, 'file'>[] }
  >;
  return Object.entries(expected).flatMap(([file, v]) =>
    typeof v === 'object' && v.syslog ? v.syslog.map((s) => ({ ...s, file })) : [],
  );
}

const items = loadSyslogItems();
const DCP = { entryCount: 4, messageSize: 128 };
const STALE = new TextEncoder().encode('stale bytes from an older, longer message\n\r \n');

/** A ring whose every byte is stale text, including LF, CR and spaces after any NUL we write. */
function staleRing(): Uint8Array {
  const ring = new Uint8Array(DCP.entryCount * (0x20 + DCP.messageSize));
  for (let i = 0; i < ring.length; i++) ring[i] = STALE[i % STALE.length]!;
  return ring;
}

function entry(r: SyslogDecodeResult) {
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r.entry;
}

function splitContext(context: string): { file: string; line: number } {
  const colon = context.lastIndexOf(':');
  return { file: context.slice(0, colon), line: Number(context.slice(colon + 1)) };
}

const name = (s: SyslogItem) => `${s.file}:${s.line} ${s.context}`;

describe('fixtures: syslog items of expected.json', () => {
  it('are there (all five syslog files)', () => {
    expect(new Set(items.map((s) => s.file)).size).toBe(5);
    expect(items.length).toBe(44);
  });

  it('fit the observed field limits: context ≤ 23, message ≤ 127 characters', () => {
    for (const s of items) {
      expect(s.context.length, name(s)).toBe(s.context_length);
      expect(s.context.length, name(s)).toBeLessThanOrEqual(23);
      if (s.message_length !== undefined) expect(s.message.length, name(s)).toBe(s.message_length);
      expect(s.message.length, name(s)).toBeLessThanOrEqual(127);
      expect(s.message.length === 127, name(s)).toBe(s.message_cut_at_127 === true);
    }
  });

  for (const s of items) {
    it(`write + decode reproduces ${name(s)}`, () => {
      const ring = staleRing();
      const index = s.line % DCP.entryCount;
      // The firmware's text still had its `\n` when the host printed an empty line after it.
      const raw = s.followed_by_empty_line ? `${s.message}\n` : s.message;
      writeSyslogEntry(ring, index, DCP, { context: s.context }, raw);
      const e = entry(decodeSyslogEntry(ring, index, DCP));
      expect(e.context).toBe(s.context);
      expect(e.message).toBe(s.message);
      expect(e.contextUnterminated || e.messageUnterminated).toBe(false);
    });
  }
});

describe('fixtures: 23-character contexts are cut from the left', () => {
  const cut = items.filter((s) => s.context_length === 23);

  it('every 23-character context is what a longer file name leaves', () => {
    expect(cut.length).toBeGreaterThan(0);
    for (const s of cut) {
      const { file, line } = splitContext(s.context);
      for (const prefix of ['X', 'Apple', 'a/very/long/path/']) {
        const ring = staleRing();
        writeSyslogEntry(ring, 0, DCP, { file: prefix + file, line }, 'm');
        expect(entry(decodeSyslogEntry(ring, 0, DCP)).context, name(s)).toBe(s.context);
      }
    }
  });

  it('the plausible full names give the observed contexts', () => {
    const cases: [string, number, string][] = [
      ['UnifiedPipeline.cpp', 1356, 'nifiedPipeline.cpp:1356'],
      ['UnifiedPipeline.cpp', 7462, 'nifiedPipeline.cpp:7462'],
      ['UPPipeDCP_H13P.cpp', 10468, 'PPipeDCP_H13P.cpp:10468'],
      ['VideoInterfaceIOAV.cpp', 237, 'eoInterfaceIOAV.cpp:237'],
      ['AudioPDMNodeBase.cpp', 554, 'udioPDMNodeBase.cpp:554'],
      // Same file with a 4-digit line: exactly 23 characters, nothing cut (issue #142).
      ['UPPipeDCP_H13P.cpp', 7476, 'UPPipeDCP_H13P.cpp:7476'],
    ];
    const observed = new Set(items.map((s) => s.context));
    for (const [file, line, context] of cases) {
      expect(observed.has(context), context).toBe(true);
      const ring = staleRing();
      expect(writeSyslogEntry(ring, 1, DCP, { file, line }, '').context).toBe(context);
      expect(entry(decodeSyslogEntry(ring, 1, DCP)).context).toBe(context);
    }
  });

  it('contexts shorter than 23 characters are whole (no prefix can be missing)', () => {
    for (const s of items.filter((i) => i.context_length < 23)) {
      const { file, line } = splitContext(s.context);
      const ring = staleRing();
      writeSyslogEntry(ring, 0, DCP, { file, line }, '');
      expect(entry(decodeSyslogEntry(ring, 0, DCP)).context).toBe(s.context);
    }
  });
});

describe('fixtures: messages are cut to 127 characters (message size 128)', () => {
  const cut = items.filter((s) => s.message_cut_at_127);

  it('a longer message decodes to its first 127 characters', () => {
    expect(cut.length).toBe(3);
    for (const s of cut) {
      const ring = staleRing();
      const full = `${s.message}e change (text the firmware dropped)\n`;
      const w = writeSyslogEntry(ring, 2, DCP, { context: s.context }, full);
      expect(w.message).toBe(s.message);
      const e = entry(decodeSyslogEntry(ring, 2, DCP));
      expect(e.message).toBe(s.message);
      expect(e.message).toBe(full.slice(0, 127));
    }
  });

  it('a 127-character message followed by a newline keeps all 127 characters', () => {
    const s = cut[0]!;
    const ring = staleRing();
    writeSyslogEntry(ring, 0, DCP, { context: s.context }, `${s.message}\n`);
    expect(entry(decodeSyslogEntry(ring, 0, DCP)).message).toBe(s.message);
  });

  it('the 124-character message is not cut; 200 characters in the same field are', () => {
    const s = items.find((i) => i.message_length === 124);
    expect(s).toMatchObject({ file: 'dmesg-dcp-syslog-truncated.txt', line: 4 });
    const fixture = s!;
    // expected.json's text is what the host printed on that line of the capture.
    const printed = readFileSync(`${FIXTURES}/${fixture.file}`, 'utf8').split('\n')[
      fixture.line - 1
    ];
    expect(printed).toMatch(/^\[[ \d.]+\] apple-dcp 231c00000\.dcp: RTKit: syslog message: /);
    expect(printed!.endsWith(`: ${fixture.context}: ${fixture.message}`)).toBe(true);
    expect(fixture.message).toHaveLength(124);
    expect(fixture.message_cut_at_127).toBeUndefined();

    const ring = staleRing();
    writeSyslogEntry(ring, 0, DCP, { context: fixture.context }, fixture.message);
    const e = entry(decodeSyslogEntry(ring, 0, DCP));
    expect(e.message).toBe(fixture.message);
    expect(e.message.length).toBeLessThan(127);

    // The message_cut_at_127 rule with the same geometry: 200 characters keep their first 127.
    const long = `${fixture.message} ${'0123456789'.repeat(8)}`.slice(0, 200);
    expect(long).toHaveLength(200);
    writeSyslogEntry(ring, 1, DCP, { context: fixture.context }, long);
    const cut = entry(decodeSyslogEntry(ring, 1, DCP));
    expect(cut.message).toBe(long.slice(0, 127));
    expect(cut.message).toBe(`${fixture.message} 01`);
    expect(cut.messageUnterminated).toBe(false);
  });
});
