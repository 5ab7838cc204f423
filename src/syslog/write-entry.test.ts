import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isRtkitError } from '../errors.js';
import { decodeSyslogEntry, type SyslogDecodeResult } from './decode-entry.js';
import { writeSyslogEntry } from './write-entry.js';

const G = { entryCount: 4, messageSize: 0x80 };

function decoded(result: SyslogDecodeResult) {
  if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
  return result.entry;
}

function thrownCode(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isRtkitError(e) ? e.code : 'not an RtkitError';
  }
  return undefined;
}

describe('writeSyslogEntry: simulator writing rules (§8)', () => {
  it('writes header words 0, context + NUL, message + NUL, and leaves stale bytes', () => {
    const ring = new Uint8Array(4 * 0xa0).fill(0xaa);
    const w = writeSyslogEntry(ring, 1, G, { file: 'a.c', line: 7 }, 'hi');
    expect(w).toEqual({ offset: 0xa0, context: 'a.c:7', message: 'hi' });
    const e = ring.subarray(0xa0, 0x140);
    expect([...e.subarray(0, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect([...e.subarray(8, 15)]).toEqual([0x61, 0x2e, 0x63, 0x3a, 0x37, 0, 0xaa]);
    expect([...e.subarray(32, 36)]).toEqual([0x68, 0x69, 0, 0xaa]);
    // Neighbouring entries untouched.
    expect(ring.subarray(0, 0xa0).every((b) => b === 0xaa)).toBe(true);
    expect(ring.subarray(0x140).every((b) => b === 0xaa)).toBe(true);
  });

  it('clearTail zeroes the unused rest of both fields', () => {
    const ring = new Uint8Array(4 * 0xa0).fill(0xaa);
    writeSyslogEntry(ring, 0, G, { context: 'x' }, 'y', { clearTail: true });
    expect(ring.subarray(9, 32).every((b) => b === 0)).toBe(true);
    expect(ring.subarray(33, 0xa0).every((b) => b === 0)).toBe(true);
  });

  it('cuts the context from the left to 23 characters', () => {
    const ring = new Uint8Array(4 * 0xa0);
    const w = writeSyslogEntry(ring, 0, G, { file: 'UnifiedPipeline.cpp', line: 1356 }, 'm');
    expect(w.context).toBe('nifiedPipeline.cpp:1356');
    expect(ring[8 + 23]).toBe(0);
    expect(decoded(decodeSyslogEntry(ring, 0, G)).context).toBe('nifiedPipeline.cpp:1356');
  });

  it('applies the same cut to a context given as a string', () => {
    const ring = new Uint8Array(4 * 0xa0);
    const w = writeSyslogEntry(ring, 0, G, { context: 'AudioPDMNodeBase.cpp:554' }, 'm');
    expect(w.context).toBe('udioPDMNodeBase.cpp:554');
  });

  it('cuts the message to messageSize − 1 bytes + NUL', () => {
    const ring = new Uint8Array(4 * 0xa0).fill(0xaa);
    const w = writeSyslogEntry(ring, 3, G, { context: 'c' }, 'x'.repeat(200));
    expect(w.message).toBe('x'.repeat(127));
    expect(ring[3 * 0xa0 + 32 + 127]).toBe(0);
    expect(ring.length).toBe(3 * 0xa0 + 0xa0);
  });

  it('never splits a UTF-8 character', () => {
    const ring = new Uint8Array(0x20 + 4);
    const g = { entryCount: 1, messageSize: 4 };
    // "é" is 2 bytes; 3 bytes of room hold "aé" but not "aéé".
    expect(writeSyslogEntry(ring, 0, g, { context: `${'é'.repeat(12)}:1` }, 'aéé')).toEqual({
      offset: 0,
      context: `${'é'.repeat(10)}:1`,
      message: 'aé',
    });
    const e = decoded(decodeSyslogEntry(ring, 0, g));
    expect(e.message).toBe('aé');
    expect(e.context).toBe(`${'é'.repeat(10)}:1`);
  });

  it('throws RtkitError for an entry that does not fit', () => {
    const ring = new Uint8Array(4 * 0xa0);
    const src = { context: 'c' };
    expect(thrownCode(() => writeSyslogEntry(ring, 4, G, src, 'm'))).toBe(
      ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE,
    );
    expect(thrownCode(() => writeSyslogEntry(ring, -1, G, src, 'm'))).toBe(
      ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE,
    );
    expect(thrownCode(() => writeSyslogEntry(ring, 1.5, G, src, 'm'))).toBe(
      ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE,
    );
    expect(thrownCode(() => writeSyslogEntry(ring.subarray(1), 3, G, src, 'm'))).toBe(
      ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE,
    );
    expect(
      thrownCode(() => writeSyslogEntry(ring, 0, { entryCount: 1, messageSize: 0 }, src, 'm')),
    ).toBe(ErrorCode.SYSLOG_GEOMETRY_INVALID);
    expect(thrownCode(() => writeSyslogEntry(ring, 3, G, src, 'm'))).toBeUndefined();
  });
});

describe('writeSyslogEntry → decodeSyslogEntry round trip', () => {
  const normalize = (s: string) => new TextDecoder().decode(new TextEncoder().encode(s));
  const bytesOf = (cp: string) => new TextEncoder().encode(cp).length;

  /** Independent model of §8 on code points: what the host must print for `message`. */
  function expectedMessage(message: string, messageSize: number): string {
    let out = '';
    let used = 0;
    for (const cp of normalize(message)) {
      if (used + bytesOf(cp) > messageSize - 1) break;
      used += bytesOf(cp);
      out += cp;
    }
    const nul = out.indexOf('\0');
    return (nul < 0 ? out : out.slice(0, nul)).replace(/[\n\r ]+$/, '');
  }

  function expectedContext(context: string): string {
    const cps = [...normalize(context)];
    let out = '';
    let used = 0;
    for (let i = cps.length - 1; i >= 0; i--) {
      const cp = cps[i]!;
      if (used + bytesOf(cp) > 23) break;
      used += bytesOf(cp);
      out = cp + out;
    }
    const nul = out.indexOf('\0');
    return nul < 0 ? out : out.slice(0, nul);
  }

  const textArb = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.string({
      unit: fc.constantFrom('a', ' ', '\n', '\r', '\t', '\0', 'é', '€', '😀'),
      maxLength: 200,
    }),
  );

  it('property: write then decode gives the truncated, trimmed text', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 200 }),
        fc.nat(),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.oneof(fc.record({ file: textArb, line: fc.nat() }), fc.record({ context: textArb })),
        textArb,
        fc.boolean(),
        (entryCount, messageSize, indexSeed, garbage, source, message, clearTail) => {
          const index = indexSeed % entryCount;
          const ring = new Uint8Array(entryCount * (0x20 + messageSize));
          for (let i = 0; i < ring.length; i++) ring[i] = garbage[i % garbage.length]!;
          const g = { entryCount, messageSize };
          writeSyslogEntry(ring, index, g, source, message, { clearTail });
          const e = decoded(decodeSyslogEntry(ring, index, g));
          const context = 'context' in source ? source.context : `${source.file}:${source.line}`;
          expect(e.message).toBe(expectedMessage(message, messageSize));
          expect(e.context).toBe(expectedContext(context));
          expect(e.header).toBe(0);
          expect(e.word1).toBe(0);
          expect(e.contextUnterminated).toBe(false);
          expect(e.messageUnterminated).toBe(false);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
