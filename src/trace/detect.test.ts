import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRtkitError } from '../errors.js';
import { decodeTrace, TraceDecoder } from './decoder.js';
import { DETECT_WINDOW, detectFormat, FormatDetector } from './detect.js';

function formatOf(text: string): string | undefined {
  const d = new TraceDecoder();
  d.push(text);
  d.end();
  return d.format;
}

describe('format auto-detection', () => {
  it.each([
    [
      'our JSON lines with header',
      '{"rtkitTrace":1}\n{"t":0,"dir":"ap->iop","ep":0,"msg":"0x1"}\n',
      'jsonl',
    ],
    ['our JSON lines without header', '  {"t":0,"dir":"ap->iop","ep":0,"msg":"0x1"}\n', 'jsonl'],
    ['plain lines', '0 0x00100000000c000b\n', 'plain'],
    ['plain lines with direction', '> 20 17\n', 'plain'],
    ['plain lines after comments and blanks', '# trace\n\n# more\nap->iop 0x20 0x17\n', 'plain'],
    ['plain, comments only', '# nothing recorded yet\n', 'plain'],
    [
      'dmesg',
      '[    0.348120] rtkit-helper 2a9400000.mtp: RTKit: Initializing (protocol version 12)\n',
      'kernel',
    ],
    [
      'dmesg -T',
      '[Fri May 24 01:23:30 2024] apple-dcp 231c00000.dcp: dcp_poweron() starting\n',
      'kernel',
    ],
    ['journald, German month', 'Mär 21 22:57:44 host kernel: nvme0n1: p1 p2\n', 'kernel'],
    ['unprefixed', 'apple-dcp 231c00000.dcp: RTKit: co-processor has crashed\n', 'kernel'],
    ['m1n1', '[syslog] * [ALSCT720.cpp:708]setSensorEnabled - Enabling the sensor.\n', 'kernel'],
    [
      'a log with no RTKit line at all',
      'Booting Linux on physical CPU 0x0000000000 [0x611f0221]\n',
      'kernel',
    ],
    ['a single line without newline', 'Linux version 6.8.9', 'kernel'],
    ['CRLF plain', '0 1\r\n', 'plain'],
  ])('%s', (_name, text, want) => {
    expect(formatOf(text)).toBe(want);
  });

  it('empty input decodes to nothing', () => {
    expect(decodeTrace('')).toEqual([]);
    expect(formatOf('\n\n')).toBe('kernel');
  });

  it('waits for a deciding line, then for the binary sniff window', () => {
    expect(detectFormat('# c\n', false).format).toBeUndefined();
    expect(detectFormat('0 1\n', false).format).toBeUndefined();
    expect(detectFormat(`0 1\n${'x'.repeat(600)}`, false).format).toBe('plain');
    expect(detectFormat('0 1', true).format).toBe('plain');
    expect(detectFormat('y'.repeat(DETECT_WINDOW), false).format).toBe('kernel');
  });

  it('a forced format skips detection', () => {
    const rs = decodeTrace('0 1\n', { format: 'kernel' });
    expect(rs).toEqual([]);
  });

  describe('binary junk is UNKNOWN_FORMAT', () => {
    const junk = new Uint8Array(4096);
    let x = 12345;
    for (let i = 0; i < junk.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      junk[i] = x >>> 24;
    }

    it('random bytes', () => {
      expect(() => decodeTrace(junk)).toThrowError(/UNKNOWN_FORMAT/);
      try {
        decodeTrace(junk);
      } catch (e) {
        expect(isRtkitError(e, 'UNKNOWN_FORMAT')).toBe(true);
        expect((e as Error).message).toMatch(/binary/);
      }
    });

    it('NUL bytes (UTF-16, a binary dump)', () => {
      const utf16 = 'R\0T\0K\0i\0t\0:\0 \0\n\0'.repeat(50);
      expect(() => decodeTrace(utf16)).toThrowError(/UNKNOWN_FORMAT/);
    });

    it('short binary input is judged at end()', () => {
      const d = new TraceDecoder();
      expect(d.push(junk.slice(0, 40))).toEqual([]);
      expect(() => d.end()).toThrowError(/UNKNOWN_FORMAT/);
    });

    it('an escape sequence in a real log is tolerated', () => {
      expect(formatOf('\u001b[1mbold\u001b[0m kernel line\nmore text\n')).toBe('kernel');
    });
  });

  describe('detection is incremental', () => {
    /** Detection result or error code, feeding `text` in `pieces`. */
    function detectIn(pieces: string[]): string | undefined {
      const d = new FormatDetector();
      try {
        let f: string | undefined;
        for (const p of pieces) f ??= d.push(p).format;
        return f ?? d.push('', true).format;
      } catch (e) {
        return isRtkitError(e) ? e.code : String(e);
      }
    }

    // Re-scanning the whole buffered start on every push was quadratic: a 64 KiB window of
    // blank and comment lines fed byte by byte took tens of seconds.
    it.each([
      ['blank lines', '\n'.repeat(DETECT_WINDOW + 100), 'kernel'],
      ['comment lines', '# a comment\n\n  \r\n'.repeat(DETECT_WINDOW / 8), 'plain'],
      ['one long line', 'x'.repeat(DETECT_WINDOW + 100), 'kernel'],
      ['blanks then a plain line', `${'\n'.repeat(DETECT_WINDOW - 10)}0 1\n`, 'plain'],
    ])('%s fed one byte per push', (_name, text, want) => {
      const bytes = new TextEncoder().encode(text);
      const started = performance.now();
      const d = new TraceDecoder();
      const out = [];
      for (let i = 0; i < bytes.length; i++) out.push(...d.push(bytes.subarray(i, i + 1)));
      out.push(...d.end());
      // A sanity bound only; the assertion that matters is the equal result below.
      expect(performance.now() - started).toBeLessThan(2000);
      expect(d.format).toBe(want);
      expect(out).toEqual(decodeTrace(text));
      expect(formatOf(text)).toBe(want);
    });

    it('gives the verdict of detectFormat on the whole text, however it is split', () => {
      const line = fc.constantFrom(
        '',
        '  ',
        '\r',
        '# c',
        '  # c',
        '0 1',
        '> 20 17',
        ' {"t":0}',
        '[    1.0] apple-dcp 1.dcp: RTKit: x',
        '\u0000\u0001',
        '\u0001\u0002\u0003',
        'x'.repeat(300),
      );
      fc.assert(
        fc.property(
          fc.array(line, { maxLength: 12 }),
          fc.boolean(),
          fc.array(fc.nat(), { maxLength: 8 }),
          (lines, newline, cuts) => {
            const text = lines.join('\n') + (newline ? '\n' : '');
            const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort(
              (a, b) => a - b,
            );
            const pieces: string[] = [];
            let prev = 0;
            for (const p of [...points, text.length]) {
              pieces.push(text.slice(prev, p));
              prev = p;
            }
            let whole: string | undefined;
            try {
              whole = detectFormat(text, true).format;
            } catch (e) {
              whole = isRtkitError(e) ? e.code : String(e);
            }
            expect(detectIn(pieces)).toBe(whole);
            expect(detectIn([...text])).toBe(whole);
          },
        ),
      );
    });

    it('waits for the sniff window when the deciding line comes early', () => {
      const d = new FormatDetector();
      expect(d.push('0 1\n').format).toBeUndefined();
      expect(d.push('x'.repeat(600)).format).toBe('plain');
      expect(d.text()).toBe(`0 1\n${'x'.repeat(600)}`);
    });
  });
});
