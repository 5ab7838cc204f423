import { describe, expect, it } from 'vitest';
import { isRtkitError } from '../errors.js';
import { decodeTrace, TraceDecoder } from './decoder.js';
import { DETECT_WINDOW, detectFormat } from './detect.js';

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
});
