import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeTrace } from './decoder.js';
import { renderText, toJsonLine } from './render.js';

const DIR = join(import.meta.dirname, '../../test/fixtures');
const read = (f: string) => readFileSync(join(DIR, f), 'utf8');

describe('text rendering', () => {
  it('crash dump #142: history entries and the crash block', () => {
    const out = decodeTrace(read('dmesg-dcp-crash-142.txt')).map(renderText);
    expect(out[0]).toBe(
      '[May 05 14:29:36] 231c00000.dcp syslog UPPipeDCP_H13P.cpp:7476: set_run_mode_safe: no need to defer: 1 -> 0',
    );
    expect(out[1]).toBe(
      '#024@1d396650 ← 231c00000.dcp user24(0x37) 0x0000000000000242 IOMFB ACK of CMD',
    );
    expect(out[6]).toBe(
      '#029@1d3a3f01 → 231c00000.dcp user24(0x37) 0x0000003c00000202 IOMFB MSG CMD length 0x3c',
    );
    expect(out.at(-1)!.split('\n')).toEqual([
      '[May 05 14:29:36] === 231c00000.dcp (apple-dcp) crashed (lines 2-35) ===',
      '  version     RTKit 1827.120.2 debug, client local-ipad14dcp.release',
      '  crash time  1544945895 (0x5c1600e7)',
      '  exception   from EL1h: ESR 0xbe000000 (EC 0x2f SError interrupt, IL 1, ISS 0x0)',
      '              PC 0x17eaf0  PSR 0x600012c5',
      '  mailbox: 24 entries',
    ]);
  });

  it('boot log: init, unhandled OSLog word, events', () => {
    const out = decodeTrace(read('dmesg-m2pro-boot.txt')).map(renderText);
    expect(out).toEqual([
      '[    0.348120] 2a9400000.mtp RTKit initializing, protocol version 12',
      '[    0.348842] ← 2a9400000.mtp oslog(0x08) 0x0300006e6ab20420 unknown 0x0300006e6ab20420 (oslog: no message type 3 (0x3))  [UNKNOWN_MESSAGE]',
      expect.stringContaining('0x0400002000000105'),
      expect.stringContaining('0x0400004001050000'),
      expect.stringContaining('0x0400006000000000'),
      expect.stringContaining('0x050672694670744d'),
      expect.stringContaining('0x056500657261776d'),
      '[    0.349855] 34bcc0000.nvme RTKit initializing, protocol version 12',
      '[    0.349888] 34bcc0000.nvme unknown system endpoint 0x0a',
      '[    0.351997] 2a2400000.smc RTKit initializing, protocol version 12',
      '[    0.354179] 2a2400000.smc SMC initialized: 2291 keys, #KEY (0x234b4559)..zSPp (0x7a535070)',
    ]);
  });

  it('m1n1 syslog lines, plain trace lines, warnings', () => {
    expect(renderText(decodeTrace(read('m1n1-aop-syslog.txt'))[6]!)).toBe(
      'L7 - syslog udioPDMNodeBase.cpp:554: PDMDev<pdm0> off ->xi0 , 0->2400000 AP state 1',
    );
    const rs = decodeTrace('> 0 00200000000c000c # ack\nbad\n');
    expect(rs.map(renderText)).toEqual([
      'L1 → - management(0x00) 0x00200000000c000c HELLO_ACK v12  # ack',
      'warning: line 2: MALFORMED_LINE: expected "[> | <] <ep> <msg0>"',
    ]);
  });

  it('JSON output is one parseable line per record, 64-bit values as strings', () => {
    for (const r of decodeTrace(read('dmesg-dcp-crash-142.txt'))) {
      const line = toJsonLine(r);
      expect(line).not.toContain('\n');
      expect(JSON.parse(line)).toEqual(r);
      if (r.type === 'message') expect(line).toContain('"msg":"0x');
    }
  });
});
