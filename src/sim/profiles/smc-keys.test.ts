import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRtkitError } from '../../errors.js';
import { fourccToU32 } from '../../protocol/index.js';
import {
  checkKeyDef,
  decodeKeyValue,
  decodeSmcValue,
  defaultKeyTable,
  defineKey,
  encodeSmcValue,
  type KeyDef,
  SmcKeyFlag,
  sortKeys,
  typeSize,
  withKeyCount,
} from './smc-keys.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('typed values', () => {
  it('integers are little-endian unless asked otherwise', () => {
    expect(hex(encodeSmcValue('ui16', 0x1234))).toBe('3412');
    expect(hex(encodeSmcValue('ui16', 0x1234, { byteOrder: 'be' }))).toBe('1234');
    expect(hex(encodeSmcValue('ui32', 2291, { byteOrder: 'be' }))).toBe('000008f3');
    expect(hex(encodeSmcValue('si16', -2))).toBe('feff');
    expect(hex(encodeSmcValue('si8 ', -1))).toBe('ff');
    expect(hex(encodeSmcValue('ui64', 0x0102030405060708n))).toBe('0807060504030201');
    expect(hex(encodeSmcValue('si64', -1n))).toBe('ffffffffffffffff');
  });

  it('flt is IEEE-754 single, ioft 48.16 fixed point', () => {
    expect(hex(encodeSmcValue('flt ', 1))).toBe('0000803f');
    expect(hex(encodeSmcValue('ioft', 45.5))).toBe('00802d0000000000');
    expect(decodeSmcValue('ioft', encodeSmcValue('ioft', 45.5))).toBe(45.5);
    expect(decodeSmcValue('flt ', encodeSmcValue('flt ', 12604))).toBe(12604);
  });

  it('flag, ch8* and hex_', () => {
    expect(hex(encodeSmcValue('flag', true))).toBe('01');
    expect(hex(encodeSmcValue('ch8*', 'J293', { size: 8 }))).toBe('4a32393300000000');
    expect(decodeSmcValue('ch8*', encodeSmcValue('ch8*', 'J293', { size: 8 }))).toBe('J293');
    expect(decodeSmcValue('hex_', new Uint8Array([1, 2]))).toEqual(new Uint8Array([1, 2]));
  });

  it('refuses values that do not fit', () => {
    const bad = [
      () => encodeSmcValue('ui8 ', 256),
      () => encodeSmcValue('si8 ', -129),
      () => encodeSmcValue('ui16', 1.5),
      () => encodeSmcValue('ui32', -1),
      () => encodeSmcValue('flag', 2),
      () => encodeSmcValue('ch8*', 'too long', { size: 4 }),
      () => encodeSmcValue('ui16', 1, { size: 4 }),
      () => encodeSmcValue('hex_', 'x'),
    ];
    for (const f of bad) {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isRtkitError(e, 'BAD_INPUT')).toBe(true);
      }
    }
  });

  const INTS: [string, bigint, bigint][] = [
    ['ui8 ', 0n, 0xffn],
    ['ui16', 0n, 0xffffn],
    ['ui32', 0n, 0xffff_ffffn],
    ['ui64', 0n, 0xffff_ffff_ffff_ffffn],
    ['si8 ', -0x80n, 0x7fn],
    ['si16', -0x8000n, 0x7fffn],
    ['si32', -0x8000_0000n, 0x7fff_ffffn],
    ['si64', -(2n ** 63n), 2n ** 63n - 1n],
  ];

  it('integers round-trip in both byte orders (property)', () => {
    for (const [type, min, max] of INTS) {
      fc.assert(
        fc.property(
          fc.bigInt({ min, max }),
          fc.constantFrom('le' as const, 'be' as const),
          (v, order) => {
            const bytes = encodeSmcValue(type, v, { byteOrder: order });
            expect(bytes.length).toBe(typeSize(type));
            const back = decodeSmcValue(type, bytes, order);
            expect(typeof back === 'bigint' ? back : BigInt(back as number)).toBe(v);
          },
        ),
      );
    }
  });

  it('flt round-trips any float32 (property)', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true }), (v) => {
        expect(decodeSmcValue('flt ', encodeSmcValue('flt ', v))).toBe(v);
      }),
    );
  });
});

describe('default key table', () => {
  const keys = defaultKeyTable();

  it('is sorted by u32 key value, unique, and every entry is well-formed', () => {
    const u = keys.map((k) => fourccToU32(k.key));
    for (let i = 1; i < u.length; i++) expect(u[i]!).toBeGreaterThan(u[i - 1]!);
    for (const k of keys) expect(checkKeyDef(k)).toBe(k);
  });

  it('#KEY is first and holds the key count, itself included, big-endian', () => {
    expect(keys[0]!.key).toBe('#KEY');
    expect(keys[0]!.type).toBe('ui32');
    expect(decodeKeyValue(keys[0]!)).toBe(keys.length);
    expect(keys[0]!.value[3]).toBe(keys.length & 0xff);
  });

  it('covers every type the brief asks for and the keys the Linux drivers read', () => {
    const types = new Set(keys.map((k) => k.type));
    for (const t of ['ui8 ', 'ui16', 'ui32', 'si8 ', 'si16', 'si32', 'flt ', 'flag', 'ch8*']) {
      expect(types.has(t), t).toBe(true);
    }
    for (const t of ['hex_', 'ioft', 'ui64', 'si64']) expect(types.has(t), t).toBe(true);
    const names = new Set(keys.map((k) => k.key));
    for (const n of ['B0AC', 'B0AV', 'CHLS', 'CLKM', 'gP01', 'NTAP', 'MSLD', 'bHLD', 'MBSE']) {
      expect(names.has(n), n).toBe(true);
    }
    expect(keys.filter((k) => k.key.startsWith('T') && k.type === 'flt ').length).toBeGreaterThan(
      2,
    );
  });

  it('has writable keys besides NTAP, and read-only ones', () => {
    const writable = keys.filter((k) => k.flags & SmcKeyFlag.Writable).map((k) => k.key);
    expect(writable).toContain('NTAP');
    expect(writable.filter((k) => k !== 'NTAP').length).toBeGreaterThanOrEqual(2);
    expect(keys.find((k) => k.key === 'B0AV')!.flags & SmcKeyFlag.Writable).toBe(0);
  });

  it('documents byte-order exceptions: #KEY and B0RM are big-endian', () => {
    const b0rm = keys.find((k) => k.key === 'B0RM')!;
    expect(b0rm.byteOrder).toBe('be');
    expect(hex(b0rm.value)).toBe('0d96');
    expect(decodeKeyValue(b0rm)).toBe(3478);
    expect(b0rm.flags & SmcKeyFlag.LittleEndian).toBe(0);
    const b0av = keys.find((k) => k.key === 'B0AV')!;
    expect(b0av.flags & SmcKeyFlag.LittleEndian).toBe(SmcKeyFlag.LittleEndian);
  });

  it('gives a fresh copy each call', () => {
    const a = defaultKeyTable();
    a[0]!.value[0] = 0xff;
    expect(defaultKeyTable()[0]!.value[0]).not.toBe(0xff);
  });
});

describe('table helpers', () => {
  it('withKeyCount adds #KEY and sorts', () => {
    const t = withKeyCount([defineKey('ZZZZ', 'ui8 ', 1), defineKey('AAAA', 'ui8 ', 2)]);
    expect(t.map((k) => k.key)).toEqual(['#KEY', 'AAAA', 'ZZZZ']);
    expect(decodeKeyValue(t[0]!)).toBe(3);
  });

  it('refuses duplicates and malformed definitions', () => {
    const d = defineKey('AAAA', 'ui8 ', 1);
    expect(() => sortKeys([d, d])).toThrow(/duplicate/);
    expect(() => defineKey('ABC', 'ui8 ', 1)).toThrow(/4 printable/);
    expect(() => defineKey('ABCD', 'ui8', 1)).toThrow(/4 printable/);
    const wrong: KeyDef = {
      key: 'ABCD',
      type: 'ui16',
      size: 2,
      flags: 0x80,
      value: new Uint8Array(1),
    };
    expect(() => checkKeyDef(wrong)).toThrow(/2 bytes/);
    expect(() => checkKeyDef({ ...wrong, size: 4, value: new Uint8Array(4) })).toThrow(/ui16 is 2/);
  });

  it('flag keys refuse values other than 0 and 1', () => {
    const ntap = defineKey('NTAP', 'flag', false, { flags: 0xc0 });
    const ctx = { now: 0, value: new Uint8Array(1), get: () => undefined };
    expect(ntap.write!(new Uint8Array([1]), ctx)).toBeUndefined();
    expect(ntap.write!(new Uint8Array([2]), ctx)).toBe(0x89);
  });
});
