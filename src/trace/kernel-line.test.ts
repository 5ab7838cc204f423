import { describe, expect, it } from 'vitest';
import {
  classifyExceptionLine,
  classifyRtkit,
  parseM1n1Syslog,
  parseSmcInitialized,
} from './kernel-line.js';
import { parseDevHead, parsePrefix } from './prefix.js';
import { parseRtkitVersion } from './version.js';

describe('line prefixes', () => {
  it.each([
    ['[    0.348120] x', { t: 0.34812, body: 15 }],
    ['[12345.000001]x', { t: 12345.000001, body: 14 }],
    ['[Fri May 24 01:23:30 2024] x', { time: 'Fri May 24 01:23:30 2024', body: 27 }],
    ['[Fr Mai  4 01:23:30 2024] x', { time: 'Fr Mai  4 01:23:30 2024', body: 26 }],
    ['Mär 21 22:57:44 mkurz-macbook-pro kernel: x', { time: 'Mär 21 22:57:44', body: 42 }],
    ['May 05 14:29:36 pc007 kernel: [    1.5] x', { time: 'May 05 14:29:36', t: 1.5, body: 40 }],
    [
      '2024-05-05T14:29:36.123456+02:00 h kernel: x',
      { time: '2024-05-05T14:29:36.123456+02:00', body: 43 },
    ],
    ['May 05 14:29:36 kernel: x', { time: 'May 05 14:29:36', body: 24 }],
    ['[syslog] * [a]b', { body: 0 }],
    ['apple-dcp 1.dcp: x', { body: 0 }],
    // `dmesg -r`: the syslog priority before the stamp.
    ['<4>[    1.234567] apple-dcp 231c00000.dcp: x', { t: 1.234567, body: 18 }],
    ['<30>[12345.000001]x', { t: 12345.000001, body: 18 }],
    ['<6>[Fri May 24 01:23:30 2024] x', { time: 'Fri May 24 01:23:30 2024', body: 30 }],
    ['<6>apple-dcp 1.dcp: x', { body: 3 }],
    ['<x>[    1.0] y', { body: 0 }],
    // /dev/kmsg records: level,seq,usec,flags[,more];
    ['6,1234,5678901,-;apple-dcp 231c00000.dcp: x', { t: 5.678901, body: 17 }],
    ['4,7,0,c;x', { t: 0, body: 8 }],
    ['12,99,348120,-,caller=T1;x', { t: 0.34812, body: 25 }],
    ['6,1234 apple-dcp 1.dcp: x', { body: 0 }],
    ['6,1,2,- x;y', { body: 0 }],
  ])('%s', (line, want) => {
    expect(parsePrefix(line)).toEqual(want);
  });

  it('driver and device', () => {
    expect(parseDevHead('apple-dcp 231c00000.dcp: ')).toEqual({
      driver: 'apple-dcp',
      device: '231c00000.dcp',
    });
    expect(parseDevHead('[    1.0] macsmc-rtkit 2a2400000.smc: ')).toEqual({
      driver: 'macsmc-rtkit',
      device: '2a2400000.smc',
    });
    expect(parseDevHead('231c00000.dcp: ')).toEqual({ device: '231c00000.dcp' });
    for (const line of [
      '<4>[    1.234567] apple-dcp 231c00000.dcp: RTKit: x',
      '<4>apple-dcp 231c00000.dcp: RTKit: x',
      '6,1234,5678901,-;apple-dcp 231c00000.dcp: RTKit: x',
    ]) {
      const p = line.indexOf('RTKit: ');
      expect(parseDevHead(line.slice(parsePrefix(line, p).body, p))).toEqual({
        driver: 'apple-dcp',
        device: '231c00000.dcp',
      });
    }
    expect(parseDevHead('')).toEqual({});
    expect(parseDevHead('no colon ')).toEqual({});
  });
});

describe('RTKit strings', () => {
  it.each([
    ['Initializing (protocol version 12)', { k: 'init', version: 12 }],
    ['Firmware min version 13 is too new', { k: 'firmware-too-new', value: 13 }],
    ['Firmware max version 10 is too old', { k: 'firmware-too-old', value: 10 }],
    ['Unknown system endpoint: 0x0a', { k: 'unknown-system-endpoint', endpoint: 10 }],
    ['Message to undiscovered endpoint 0x2f', { k: 'undiscovered-endpoint', endpoint: 0x2f }],
    ['syslog message: a.c:1: b: c', { k: 'syslog', context: 'a.c:1', message: 'b: c' }],
    [
      'syslog message: cmd.c:6074:  boot mode normal',
      { k: 'syslog', context: 'cmd.c:6074', message: ' boot mode normal' },
    ],
    ['syslog message: a.c:1:', { k: 'syslog', context: 'a.c:1', message: '' }],
    ['syslog message: : x', { k: 'syslog', context: '', message: 'x' }],
    ['co-processor has crashed', { k: 'crashed' }],
    [
      'Version: RTKit: RTKit-1.2.3.debug - Client: c',
      { k: 'version', text: 'RTKit: RTKit-1.2.3.debug - Client: c' },
    ],
    ['Crash time: 1544945895', { k: 'crash-time', value: 1544945895n }],
    ['Crash time: -2', { k: 'crash-time', value: (1n << 64n) - 2n }],
    ['Message (id=1f): hello world', { k: 'crash-message', id: '0x1f', text: 'hello world' }],
    ['Mailbox history (type = 0, index = 1)', { k: 'mailbox-header', type: 0, index: 1 }],
    [
      ' #029@1d3a3f01: 0000000000000037 0000003c00000202',
      {
        k: 'mailbox-entry',
        index: 29,
        timestamp: 0x1d3a3f01,
        epHi: 0,
        epLo: 0x37,
        hi: 0x3c,
        lo: 0x202,
      },
    ],
    ['Exception dump:', { k: 'exception-dump' }],
    [
      'Unknown crashlog section: 43706374',
      { k: 'crash-note', text: 'Unknown crashlog section: 43706374' },
    ],
    ['Regs section too small: 0x10', { k: 'crash-note', text: 'Regs section too small: 0x10' }],
    [
      'Unknown oslog message: 300006e6ab20420',
      {
        k: 'unhandled',
        ep: 8,
        hi: 0x0300006e,
        lo: 0x6ab20420,
        source: 'Unknown oslog message: 300006e6ab20420',
      },
    ],
    ['Unknown oslog message: 12345678901234567', { k: 'malformed', what: 'unknown message word' }],
    ['syslog message: no separator', { k: 'malformed', what: 'syslog message without ": "' }],
    [' #1@xyz: 1 2', { k: 'malformed', what: 'mailbox history entry' }],
    ['Crash time: abc', { k: 'malformed', what: 'crash time' }],
    ['Crash time: 99999999999999999999', { k: 'malformed', what: 'crash time' }],
    ['Starting system endpoint 0x02', { k: 'other', text: 'Starting system endpoint 0x02' }],
    ['', { k: 'other', text: '' }],
  ])('%s', (body, want) => {
    expect(classifyRtkit(body)).toEqual(want);
  });

  it('exception dump lines', () => {
    expect(classifyExceptionLine('   == Exception taken from EL1h ==')).toEqual({
      k: 'el',
      el: 'EL1h',
    });
    expect(classifyExceptionLine('   PSR    = 0x600012C5')).toEqual({
      k: 'reg',
      name: 'psr',
      hex: '600012c5',
    });
    expect(
      classifyExceptionLine('   x28-x31 = 0000000000000001 0000000000000002 0000000000000003'),
    ).toEqual({
      k: 'xregs',
      first: 28,
      values: ['0x0000000000000001', '0x0000000000000002', '0x0000000000000003'],
    });
    expect(classifyExceptionLine(' ')).toEqual({ k: 'blank' });
    expect(classifyExceptionLine(' dcp_poweron() starting')).toBeUndefined();
  });

  it('macsmc key summary and m1n1 syslog', () => {
    expect(
      parseSmcInitialized('Initialized (2291 keys #KEY (0x234b4559)..zSPp (0x7a535070))'),
    ).toEqual({
      keyCount: 2291,
      first: { fourcc: '#KEY', u32: '0x234b4559' },
      last: { fourcc: 'zSPp', u32: '0x7a535070' },
    });
    expect(parseSmcInitialized('Initialized (3 devices)')).toBeUndefined();
    expect(parseM1n1Syslog('[syslog] * [a.cpp:1][AFK]x]y')).toEqual({
      context: 'a.cpp:1',
      message: '[AFK]x]y',
    });
    expect(parseM1n1Syslog('[syslog] *')).toBeUndefined();
  });

  it('version strings', () => {
    expect(
      parseRtkitVersion('RTKit-2758.1.1.release - Client: AppleDCP-811.1.1~754-ipad14dcp.RELEASE'),
    ).toEqual({
      rtkitVersion: '2758.1.1',
      major: 2758,
      minor: 1,
      patch: 1,
      build: 'release',
      client: 'AppleDCP-811.1.1~754-ipad14dcp.RELEASE',
    });
    expect(parseRtkitVersion('RTKit: nothing')).toBeUndefined();
  });
});
