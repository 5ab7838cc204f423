// Worked examples from PROTOCOL.md and ROBUSTNESS.md: each word decodes to the stated fields and
// the stated value encodes back to the same word.
import { describe, expect, it } from 'vitest';
import {
  type DecodeContext,
  decode,
  encodeHex,
  fieldsOf,
  fourccToU32,
  type Message,
  notesFor,
  summarize,
  u32ToFourcc,
} from './index.js';

const AP: DecodeContext = { dir: 'ap->iop' };
const IOP: DecodeContext = { dir: 'iop->ap' };

interface Case {
  ep: number;
  word: string;
  ctx: DecodeContext;
  expect: Partial<Message> & { kind: string };
}

const cases: Case[] = [
  // §4.2 boot sequence
  {
    ep: 0,
    word: '0x0060000000000220',
    ctx: AP,
    expect: { kind: 'setIopPowerState', state: 0x220 },
  },
  {
    ep: 0,
    word: '0x00100000000c000b',
    ctx: IOP,
    expect: { kind: 'hello', minVersion: 11, maxVersion: 12 },
  },
  {
    ep: 0,
    word: '0x00200000000c000c',
    ctx: AP,
    expect: { kind: 'helloAck', minVersion: 12, maxVersion: 12 },
  },
  {
    ep: 0,
    word: '0x008800000000011e',
    ctx: IOP,
    expect: { kind: 'epmap', bitmap: 0x11e, base: 0, last: true },
  },
  {
    ep: 0,
    word: '0x0088000000000000',
    ctx: AP,
    expect: { kind: 'epmapReply', base: 0, last: true, more: false },
  },
  { ep: 0, word: '0x0050000100000002', ctx: AP, expect: { kind: 'startEndpoint', endpoint: 1 } },
  { ep: 0, word: '0x0050002000000002', ctx: AP, expect: { kind: 'startEndpoint', endpoint: 0x20 } },
  { ep: 0, word: '0x0050002000000001', ctx: AP, expect: { kind: 'stopEndpoint', endpoint: 0x20 } },
  {
    ep: 0,
    word: '0x0070000000000020',
    ctx: IOP,
    expect: { kind: 'iopPowerStateAck', state: 0x20 },
  },
  { ep: 0, word: '0x00b0000000000020', ctx: AP, expect: { kind: 'setApPowerState', state: 0x20 } },
  { ep: 0, word: '0x00b0000000000020', ctx: IOP, expect: { kind: 'apPowerStateAck', state: 0x20 } },
  // §3.3 EPMAP examples
  {
    ep: 0,
    word: '0x008000000000051e',
    ctx: IOP,
    expect: { kind: 'epmap', bitmap: 0x51e, base: 0, last: false },
  },
  {
    ep: 0,
    word: '0x0080000000000001',
    ctx: AP,
    expect: { kind: 'epmapReply', base: 0, last: false, more: true },
  },
  {
    ep: 0,
    word: '0x0088000100000001',
    ctx: IOP,
    expect: { kind: 'epmap', bitmap: 1, base: 1, last: true },
  },
  {
    ep: 0,
    word: '0x0088000100000000',
    ctx: AP,
    expect: { kind: 'epmapReply', base: 1, last: true, more: false },
  },
  {
    ep: 0,
    word: '0x0088000780000000',
    ctx: IOP,
    expect: { kind: 'epmap', bitmap: 0x80000000, base: 7, last: true },
  },
  // §3.6 PING / PONG
  {
    ep: 0,
    word: '0x0030123400000005',
    ctx: AP,
    expect: { kind: 'ping', cookie: 5, extra: 0x1234 },
  },
  { ep: 0, word: '0x0040000000000005', ctx: IOP, expect: { kind: 'pong', cookie: 5, extra: 0 } },
  // ROBUSTNESS B31: QEMU's NAK
  {
    ep: 0,
    word: '0x002000000badffff',
    ctx: AP,
    expect: { kind: 'helloAck', minVersion: 0xffff, maxVersion: 0x0bad },
  },
  // §6.1 buffers
  {
    ep: 1,
    word: '0x0010200000000000',
    ctx: IOP,
    expect: { kind: 'crashlogBufferRequest', size: 2, iova: 0 },
  },
  {
    ep: 1,
    word: '0x0010200800004000',
    ctx: AP,
    expect: { kind: 'crashlogBufferReply', size: 2, iova: 0x800004000 },
  },
  {
    ep: 2,
    word: '0x0010100801000000',
    ctx: IOP,
    expect: { kind: 'syslogBufferRequest', size: 1, iova: 0x801000000 },
  },
  {
    ep: 4,
    word: '0x0010100000000000',
    ctx: IOP,
    expect: { kind: 'ioreportBufferRequest', size: 1, iova: 0 },
  },
  // §5.1 crash notification needs the context; m1n1's crash triggers
  {
    ep: 1,
    word: '0x0010300812345000',
    ctx: { dir: 'iop->ap', crashlogArmed: true },
    expect: { kind: 'crashNotification', size: 3, iova: 0x812345000 },
  },
  { ep: 1, word: '0x0000000000000040', ctx: AP, expect: { kind: 'crashTrigger', code: 0x40 } },
  { ep: 1, word: '0x0000000000000022', ctx: AP, expect: { kind: 'crashTrigger', code: 0x22 } },
  // §5.2 syslog
  {
    ep: 2,
    word: '0x0080000080000040',
    ctx: IOP,
    expect: { kind: 'syslogInit', entryCount: 64, messageSize: 0x80 },
  },
  { ep: 2, word: '0x005000000000002a', ctx: IOP, expect: { kind: 'syslogLog', index: 42 } },
  { ep: 2, word: '0x005000000000002a', ctx: AP, expect: { kind: 'syslogLog', index: 42 } },
  // §5.3 kdebug
  { ep: 3, word: '0x0008000000000000', ctx: AP, expect: { kind: 'kdebugStart' } },
  // §5.4 ioreport
  { ep: 4, word: '0x0040000000000000', ctx: AP, expect: { kind: 'ioreportQuery', payload: 0 } },
  { ep: 4, word: '0x0080000000000000', ctx: IOP, expect: { kind: 'ioreportReport', payload: 0 } },
  // §5.5 oslog
  {
    ep: 8,
    word: '0x0104000000000000',
    ctx: IOP,
    expect: { kind: 'oslogBufferRequest', size: 0x4000, page: 0 },
  },
  {
    ep: 8,
    word: '0x0104000000801004',
    ctx: AP,
    expect: { kind: 'oslogBufferReply', size: 0x4000, page: 0x801004 },
  },
  {
    ep: 8,
    word: '0x0104000000012345',
    ctx: IOP,
    expect: { kind: 'oslogBufferRequest', size: 0x4000, page: 0x12345 },
  },
  {
    ep: 8,
    word: '0x0200000000001234',
    ctx: IOP,
    expect: { kind: 'oslogCounter', counter: 0x1234 },
  },
  // §9 SMC worked examples
  {
    ep: 0x20,
    word: '0x0000000000000017',
    ctx: { dir: 'ap->iop', coproc: 'smc' },
    expect: { kind: 'smcInitialize', id: 0 },
  },
  {
    ep: 0x20,
    word: '0x234b455900041010',
    ctx: { dir: 'ap->iop', coproc: 'smc' },
    expect: { kind: 'smcReadKey', id: 1, size: 4, wsize: 0, key: 0x234b4559 },
  },
  {
    ep: 0x20,
    word: '0xf308000000041000',
    ctx: { dir: 'iop->ap', coproc: 'smc' },
    expect: { kind: 'smcReply', result: 0, id: 1, size: 4, value: 0xf3080000 },
  },
  {
    ep: 0x20,
    word: '0x0000000000002012',
    ctx: { dir: 'ap->iop', coproc: 'smc' },
    expect: { kind: 'smcGetKeyByIndex', id: 2, index: 0 },
  },
  {
    ep: 0x20,
    word: '0x59454b2300002000',
    ctx: { dir: 'iop->ap', coproc: 'smc' },
    expect: { kind: 'smcReply', result: 0, id: 2, value: 0x59454b23 },
  },
  {
    ep: 0x20,
    word: '0x234b455900003013',
    ctx: { dir: 'ap->iop', coproc: 'smc' },
    expect: { kind: 'smcGetKeyInfo', id: 3, key: 0x234b4559 },
  },
  {
    ep: 0x20,
    word: '0x4e54415000014011',
    ctx: { dir: 'ap->iop', coproc: 'smc' },
    expect: { kind: 'smcWriteKey', id: 4, size: 1, key: fourccToU32('NTAP') },
  },
  {
    ep: 0x20,
    word: '0x4142434402045020',
    ctx: { dir: 'ap->iop', coproc: 'smc' },
    expect: { kind: 'smcRwKey', id: 5, size: 4, wsize: 2, key: fourccToU32('ABCD') },
  },
  {
    ep: 0x20,
    word: '0x7201060100000018',
    ctx: { dir: 'iop->ap', coproc: 'smc' },
    expect: { kind: 'smcNotification', event: 0x7201, subcode: 6, data: 1 },
  },
  {
    ep: 0x20,
    word: '0x000000023fe00000',
    ctx: { dir: 'iop->ap', coproc: 'smc', smcShmemPending: true },
    expect: { kind: 'smcShmemAddress', address: 0x23fe00000 },
  },
  // §10.1 IOMFB
  {
    ep: 0x37,
    word: '0x0000003c00000202',
    ctx: { dir: 'ap->iop', coproc: 'dcp' },
    expect: { kind: 'iomfbMessage', ack: false, context: 2, offset: 0, length: 0x3c },
  },
  {
    ep: 0x37,
    word: '0x0000000000000242',
    ctx: { dir: 'iop->ap', coproc: 'dcp' },
    expect: { kind: 'iomfbMessage', ack: true, context: 2, length: 0 },
  },
  {
    ep: 0x37,
    word: '0x0000000000000642',
    ctx: { dir: 'iop->ap', coproc: 'dcp' },
    expect: { kind: 'iomfbMessage', ack: true, context: 6 },
  },
  // §10.2 AFK
  {
    ep: 0x24,
    word: '0x0085000000000000',
    ctx: { dir: 'iop->ap', coproc: 'dcp' },
    expect: { kind: 'afkRecv' },
  },
  {
    ep: 0x24,
    word: '0x00a2000000000200',
    ctx: { dir: 'ap->iop', coproc: 'dcp' },
    expect: { kind: 'afkSend', wptr: 0x200 },
  },
  {
    ep: 0x24,
    word: '0x0086000000000000',
    ctx: { dir: 'iop->ap', coproc: 'aop' },
    expect: { kind: 'afkStartAck' },
  },
  // §10.3 GPU
  {
    ep: 0x21,
    word: '0x0083000000000011',
    ctx: { dir: 'ap->iop', coproc: 'gpu' },
    expect: { kind: 'gpuDoorbell', channel: 0x11 },
  },
  {
    ep: 0x20,
    word: '0x0042000000000000',
    ctx: { dir: 'iop->ap', coproc: 'gpu' },
    expect: { kind: 'gpuRxDoorbell' },
  },
];

describe('PROTOCOL.md worked examples', () => {
  for (const c of cases) {
    it(`ep ${c.ep} ${c.word} → ${c.expect.kind}`, () => {
      const m = decode(c.ep, c.word, c.ctx);
      expect(m).toMatchObject(c.expect);
      expect(m).not.toHaveProperty('reserved');
      expect(encodeHex(m)).toBe(c.word);
    });
  }
});

describe('words that need care', () => {
  it('treats the upper type bits as reserved, not as a different type (ROBUSTNESS: upper type bits)', () => {
    const m = decode(1, '0x1010100000000000', IOP);
    expect(m).toMatchObject({ kind: 'crashlogBufferRequest', size: 1, iova: 0 });
    expect(notesFor(m).map((n) => n.code)).toContain('RESERVED_BITS_SET');
    expect(encodeHex(m)).toBe('0x1010100000000000');
  });

  it('decodes the OSLog types Linux did not know as unknown with their type (fixture dmesg-m2pro-boot)', () => {
    for (const [w, t] of [
      ['0x0300006e6ab20420', 3],
      ['0x0400002000000105', 4],
      ['0x050672694670744d', 5],
    ] as const) {
      const m = decode(8, w, IOP);
      expect(m).toMatchObject({ kind: 'unknown', type: t });
      expect(fieldsOf(m)).toMatchObject({ raw: w, type: t });
    }
  });

  it('flags syslog INIT values Linux would read differently', () => {
    const m = decode(2, '0x0080000180000140', IOP);
    expect(m).toMatchObject({ kind: 'syslogInit', entryCount: 0x140, messageSize: 0x180 });
    expect(notesFor(m).map((n) => n.code)).toEqual(['SYSLOG_INIT_WIDE_FIELDS']);
    expect(notesFor(decode(2, '0x0080000000000001', IOP)).map((n) => n.code)).toEqual([
      'SYSLOG_GEOMETRY_INVALID',
    ]);
  });

  it('without a direction, a layout shared by both directions reads as the firmware message', () => {
    expect(decode(0, '0x008800000000011e').kind).toBe('epmap');
    expect(decode(0, '0x00b0000000000020').kind).toBe('apPowerStateAck');
    expect(decode(1, '0x0010100000000000').kind).toBe('crashlogBufferRequest');
  });

  it('a known layout in the wrong direction still decodes, with a note', () => {
    const m = decode(0, '0x00100000000c000b', AP);
    expect(m.kind).toBe('hello');
    expect(notesFor(m, AP).map((n) => n.code)).toEqual(['UNEXPECTED_DIRECTION']);
  });

  it('an SMC reply may carry a result byte that collides with a command number', () => {
    const ctx = { dir: 'iop->ap', coproc: 'smc' } as const;
    expect(decode(0x20, '0x0000000000001010', ctx)).toMatchObject({
      kind: 'smcReply',
      result: 0x10,
      id: 1,
    });
  });

  it('application endpoints need a co-processor profile', () => {
    const m = decode(0x37, '0x0000003c00000202');
    expect(m.kind).toBe('unknown');
    expect(summarize(m)).toContain('user24');
  });

  it('v10 moves the application range: ep 6 is an application endpoint on v10.2', () => {
    expect(decode(6, '0x0010100000000000', { version: 10, minor: 2 }).kind).toBe('unknown');
    expect(decode(4, '0x0010100000000000', { version: 10, minor: 2 }).kind).toBe(
      'ioreportBufferRequest',
    );
    expect(summarize(decode(0, '0x00100000000a0002', IOP))).toContain('v10.2');
  });

  it('tracekit and unknown system endpoints decode as unknown with a reason', () => {
    expect(decode(0x0a, 1n)).toMatchObject({
      kind: 'unknown',
      reason: expect.stringContaining('tracekit'),
    });
    expect(decode(5, 1n)).toMatchObject({ kind: 'unknown' });
  });

  it('STARTEP with a flag that is neither start nor stop is unknown', () => {
    expect(decode(0, '0x0050000100000003', AP).kind).toBe('unknown');
  });

  it('fourcc <-> u32 (fixture dmesg-m2pro-boot: #KEY, zSPp; LKML: gP01)', () => {
    expect(fourccToU32('#KEY')).toBe(0x234b4559);
    expect(fourccToU32('zSPp')).toBe(0x7a535070);
    expect(fourccToU32('gP01')).toBe(0x67503031);
    expect(u32ToFourcc(0x234b4559)).toBe('#KEY');
  });

  it('summaries read like the protocol', () => {
    expect(summarize(decode(0, '0x00100000000c000b', IOP))).toBe('HELLO v11..12');
    expect(summarize(decode(0, '0x0060000000000220', AP))).toBe('SET_IOP_PWR_STATE INIT (0x220)');
    expect(summarize(decode(0, '0x008000000000051e', IOP))).toBe(
      'EPMAP block 0 {0x1,0x2,0x3,0x4,0x8,0xa}',
    );
    expect(summarize(decode(0x20, '0x234b455900041010', { dir: 'ap->iop', coproc: 'smc' }))).toBe(
      "SMC READ_KEY '#KEY' id 1 size 4",
    );
  });
});
