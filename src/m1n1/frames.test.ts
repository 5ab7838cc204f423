import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRtkitError } from '../errors.js';
import { DATA_CHECKSUM_DISABLED } from './checksum.js';
import {
  BootReason,
  decodeEvent,
  decodeReply,
  decodeRequest,
  encodeEvent,
  encodeReply,
  encodeRequest,
  encodeStatusReply,
  FrameType,
  frameTypeName,
  type M1n1Event,
  type M1n1Reply,
  type M1n1Request,
  mmioTraceFlags,
  ProxyStatus,
  proxyRequest,
  ReplyStatus,
  replyStatusName,
  replyType,
} from './frames.js';
import { EVENT_IRQTRACE, hexBytes, REPLY_VECTORS, REQUEST_VECTORS } from './testing/vectors.js';

const REQUESTS: [keyof typeof REQUEST_VECTORS, M1n1Request][] = [
  ['getBase', proxyRequest(0x004)],
  ['nopFeature0', { kind: 'nop', features: 1n }],
  ['nopNothing', { kind: 'nop', features: 0n }],
  ['read32', proxyRequest(0x105, 0x23e408114n)],
  ['whoami', proxyRequest(0x905)],
  ['getExcCount', proxyRequest(0x008)],
  ['getBootargs', proxyRequest(0x003)],
  ['heapblockAlloc0', proxyRequest(0x600, 0)],
  ['getCpuFeatures20', proxyRequest(0x014, 20)],
  ['setBaud', proxyRequest(0x005, 1500000, 16, 0x005aa5f0)],
  ['memRead16', { kind: 'memread', addr: 0x801000000n, size: 16n }],
  ['memWriteOn', { kind: 'memwrite', addr: 0x801000000n, size: 4n, dataChecksum: 0xca6bd27e }],
  [
    'memWriteOff',
    { kind: 'memwrite', addr: 0x801000000n, size: 4n, dataChecksum: DATA_CHECKSUM_DISABLED },
  ],
];

const ok = 0;
const REPLIES: [keyof typeof REPLY_VECTORS, M1n1Reply][] = [
  ['boot', { kind: 'boot', status: ok, reason: BootReason.Boot, code: 0, info: 0n, reserved: 0n }],
  ['getBase', { kind: 'proxy', status: ok, opcode: 4n, proxyStatus: 0n, retval: 0x800004000n }],
  ['whoamiUsb0', { kind: 'proxy', status: ok, opcode: 0x905n, proxyStatus: 0n, retval: 4n }],
  ['nopAccepted', { kind: 'nop', status: ok, features: 1n }],
  ['nopNothing', { kind: 'nop', status: ok, features: 0n }],
  [
    'unknownOpcode',
    { kind: 'proxy', status: ok, opcode: 2n, proxyStatus: ProxyStatus.BadCmd, retval: 0n },
  ],
  [
    'csumErr',
    { kind: 'proxy', status: ReplyStatus.CsumErr, opcode: 0n, proxyStatus: 0n, retval: 0n },
  ],
  ['badCmd', { kind: 'unknown', type: 6, status: ReplyStatus.BadCmd, data: new Uint8Array(24) }],
  ['memReadOn', { kind: 'memread', status: ok, dataChecksum: 0x58dc10ca }],
  ['memReadOff', { kind: 'memread', status: ok, dataChecksum: DATA_CHECKSUM_DISABLED }],
  ['memReadFault', { kind: 'memread', status: ReplyStatus.XfrErr, dataChecksum: 0 }],
  ['memWriteOn', { kind: 'memwrite', status: ok, dataChecksum: 0xca6bd27e }],
  ['memWriteOff', { kind: 'memwrite', status: ok, dataChecksum: DATA_CHECKSUM_DISABLED }],
];

describe('requests (M1N1-PROXY.md §2.3, §2.6, §3)', () => {
  for (const [name, value] of REQUESTS) {
    it(`${name}: encodes byte-exactly and decodes back`, () => {
      const wire = hexBytes(REQUEST_VECTORS[name]);
      expect(wire.length).toBe(64);
      expect(encodeRequest(value)).toEqual(wire);
      expect(decodeRequest(wire)).toEqual({ ok: true, value });
    });
  }

  it('decodes an unknown type byte as `unknown` (the server answers BADCMD)', () => {
    const wire = encodeRequest({ kind: 'unknown', type: 6, payload: Uint8Array.of(1, 2, 3) });
    const d = decodeRequest(wire);
    expect(d.ok && d.value.kind === 'unknown' && d.value.type === 6).toBe(true);
    if (d.ok && d.value.kind === 'unknown')
      expect(d.value.payload.subarray(0, 4)).toEqual(Uint8Array.of(1, 2, 3, 0));
  });

  it('reports length, prefix and checksum problems as results, not exceptions', () => {
    const wire = hexBytes(REQUEST_VECTORS.getBase);
    expect(decodeRequest(wire.subarray(0, 63))).toMatchObject({ ok: false, reason: 'length' });
    const noPrefix = wire.slice();
    noPrefix[1] = 0x54;
    expect(decodeRequest(noPrefix)).toMatchObject({ ok: false, reason: 'prefix' });
    const flipped = wire.slice();
    flipped[20] = 0x01;
    expect(decodeRequest(flipped)).toMatchObject({ ok: false, reason: 'checksum' });
  });

  it('rejects values that do not fit with ENCODE_INVALID', () => {
    const bad: M1n1Request[] = [
      { kind: 'nop', features: -1n },
      { kind: 'memread', addr: 1n << 64n, size: 0n },
      { kind: 'memwrite', addr: 0n, size: 0n, dataChecksum: 2 ** 32 },
      { kind: 'unknown', type: 256, payload: new Uint8Array(0) },
      { kind: 'unknown', type: 7, payload: new Uint8Array(57) },
    ];
    for (const r of bad) {
      expect(() => encodeRequest(r)).toThrow(expect.objectContaining({ code: 'ENCODE_INVALID' }));
    }
    try {
      proxyRequest(0, 1, 2, 3, 4, 5, 6, 7);
      expect.unreachable();
    } catch (e) {
      expect(isRtkitError(e, 'ENCODE_INVALID')).toBe(true);
    }
  });
});

describe('replies (M1N1-PROXY.md §2.4, §2.6, §3)', () => {
  for (const [name, value] of REPLIES) {
    it(`${name}: decodes to named values and encodes back byte-exactly`, () => {
      const wire = hexBytes(REPLY_VECTORS[name]);
      expect(wire.length).toBe(36);
      expect(decodeReply(wire)).toEqual({ ok: true, value });
      expect(encodeReply(value)).toEqual(wire);
    });
  }

  it('keeps the two status levels of REQ_PROXY apart', () => {
    const d = decodeReply(hexBytes(REPLY_VECTORS.unknownOpcode));
    expect(d.ok && d.value.status).toBe(ReplyStatus.Ok);
    expect(d.ok && d.value.kind === 'proxy' && d.value.proxyStatus).toBe(-1n);
  });

  it('names statuses as m1n1 does', () => {
    expect([0, -1, -2, -3, -4, 7].map(replyStatusName)).toEqual([
      'OK',
      'BADCMD',
      'INVAL',
      'XFRERR',
      'CSUMERR',
      'status 7',
    ]);
  });

  it('names frame types as m1n1 does, and gives every reply its type byte', () => {
    expect([0, 1, 2, 3, 4, 5, 0x42].map(frameTypeName)).toEqual([
      'REQ_NOP',
      'REQ_PROXY',
      'REQ_MEMREAD',
      'REQ_MEMWRITE',
      'REQ_BOOT',
      'REQ_EVENT',
      'frame type 0x42',
    ]);
    for (const [name, value] of REPLIES) {
      expect(replyType(value)).toBe(hexBytes(REPLY_VECTORS[name])[3]);
    }
    expect(replyType({ kind: 'unknown', type: 9, status: 0, data: new Uint8Array(24) })).toBe(9);
  });

  it('status replies echo any type byte with zero data, REQ_EVENT included', () => {
    for (const type of [...Object.values(FrameType), 0x42, 0xff]) {
      const wire = encodeStatusReply(type, ReplyStatus.CsumErr);
      expect(wire.length).toBe(36);
      expect(Array.from(wire.subarray(0, 4))).toEqual([0xff, 0x55, 0xaa, type]);
      expect(new DataView(wire.buffer).getInt32(4, true)).toBe(-4);
      expect(wire.subarray(8, 32).every((b) => b === 0)).toBe(true);
      if (type !== FrameType.Event) {
        expect(decodeReply(wire)).toMatchObject({ ok: true, value: { status: -4 } });
      }
    }
    // The same bytes as a typed reply with zero fields, where the type has one.
    expect(encodeStatusReply(FrameType.Proxy, ReplyStatus.BadCmd)).toEqual(
      encodeReply({ kind: 'proxy', status: -1, opcode: 0n, proxyStatus: 0n, retval: 0n }),
    );
    expect(() => encodeStatusReply(0x100, 0)).toThrow(/ENCODE_INVALID/);
  });

  it('reports a corrupted reply as a checksum failure', () => {
    const wire = hexBytes(REPLY_VECTORS.getBase);
    wire[30]! ^= 0x80;
    expect(decodeReply(wire)).toMatchObject({ ok: false, reason: 'checksum' });
  });
});

describe('events (M1N1-PROXY.md §4)', () => {
  const irq: M1n1Event = { kind: 'irqtrace', flags: 1, irqType: 0, num: 0x2a };

  it('decodes and encodes the IRQTRACE example', () => {
    const wire = hexBytes(EVENT_IRQTRACE);
    expect(decodeEvent(wire)).toEqual({ ok: true, value: irq });
    expect(encodeEvent(irq)).toEqual(wire);
  });

  it('uses 0xD0DECADE as trailer when data checksums are off', () => {
    const wire = encodeEvent(irq, false);
    expect(Array.from(wire.subarray(16))).toEqual([0xde, 0xca, 0xde, 0xd0]);
    expect(decodeEvent(wire, false)).toEqual({ ok: true, value: irq });
    expect(decodeEvent(wire, true)).toMatchObject({ ok: false, reason: 'checksum' });
  });

  it('round-trips MMIOTRACE and splits its flags', () => {
    const ev: M1n1Event = {
      kind: 'mmiotrace',
      flags: 0x12_03_c0_64,
      reserved: 0,
      pc: 0xfffffe0007654321n,
      addr: 0x23e408114n,
      data: 0xffff_ffff_ffff_ffffn,
    };
    expect(decodeEvent(encodeEvent(ev))).toEqual({ ok: true, value: ev });
    expect(mmioTraceFlags(ev.flags)).toEqual({
      width: 4,
      write: true,
      multi: true,
      sh: 3,
      cpu: 3,
      attr: 0x12,
    });
  });

  it('keeps other event types and odd lengths as `unknown`', () => {
    const ev: M1n1Event = { kind: 'unknown', eventType: 2, data: Uint8Array.of(9, 9, 9) };
    expect(decodeEvent(encodeEvent(ev))).toEqual({ ok: true, value: ev });
  });
});

describe('round trips (fast-check)', () => {
  const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
  const s64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
  const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
  const s32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });

  const request: fc.Arbitrary<M1n1Request> = fc.oneof(
    fc.record({ kind: fc.constant('nop' as const), features: u64 }),
    fc.record({
      kind: fc.constant('proxy' as const),
      opcode: u64,
      args: fc.tuple(u64, u64, u64, u64, u64, u64),
    }),
    fc.record({ kind: fc.constant('memread' as const), addr: u64, size: u64 }),
    fc.record({ kind: fc.constant('memwrite' as const), addr: u64, size: u64, dataChecksum: u32 }),
    fc.record({
      kind: fc.constant('unknown' as const),
      type: fc.integer({ min: 4, max: 255 }),
      payload: fc.uint8Array({ minLength: 56, maxLength: 56 }),
    }),
  );

  const reply: fc.Arbitrary<M1n1Reply> = fc.oneof(
    fc.record({ kind: fc.constant('nop' as const), status: s32, features: u64 }),
    fc.record({
      kind: fc.constant('proxy' as const),
      status: s32,
      opcode: u64,
      proxyStatus: s64,
      retval: u64,
    }),
    fc.record({
      kind: fc.constantFrom('memread' as const, 'memwrite' as const),
      status: s32,
      dataChecksum: u32,
    }),
    fc.record({
      kind: fc.constant('boot' as const),
      status: s32,
      reason: u32,
      code: u32,
      info: u64,
      reserved: u64,
    }),
    fc.record({
      kind: fc.constant('unknown' as const),
      type: fc.integer({ min: 6, max: 255 }),
      status: s32,
      data: fc.uint8Array({ minLength: 24, maxLength: 24 }),
    }),
  );

  it('every request round-trips', () => {
    fc.assert(
      fc.property(request, (r) => {
        expect(decodeRequest(encodeRequest(r))).toEqual({ ok: true, value: r });
      }),
    );
  });

  it('every reply round-trips', () => {
    fc.assert(
      fc.property(reply, (r) => {
        expect(decodeReply(encodeReply(r))).toEqual({ ok: true, value: r });
      }),
    );
  });

  it('any single bit flip in a frame is caught', () => {
    fc.assert(
      fc.property(request, fc.nat(64 * 8 - 1), (r, bit) => {
        const wire = encodeRequest(r);
        wire[bit >> 3]! ^= 1 << (bit & 7);
        expect(decodeRequest(wire).ok).toBe(false);
      }),
    );
  });
});
