import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRtkitError } from '../../errors.js';
import { encodeSmcValue } from '../../sim/profiles/smc-keys.js';
import { classifyNotification } from './notifications.js';
import { smcTypeSize, smcValueFromBytes, smcValueToBytes } from './values.js';

function badInput(fn: () => unknown): boolean {
  try {
    fn();
  } catch (e) {
    return isRtkitError(e, 'BAD_INPUT');
  }
  return false;
}

const INTS = [
  ['ui8 ', 8, false],
  ['ui16', 16, false],
  ['ui32', 32, false],
  ['ui64', 64, false],
  ['si8 ', 8, true],
  ['si16', 16, true],
  ['si32', 32, true],
  ['si64', 64, true],
] as const;

describe('typed values', () => {
  for (const [type, bits, signed] of INTS) {
    it(`${type} round-trips in both byte orders and matches the model's encoder`, () => {
      const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
      const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
      fc.assert(
        fc.property(fc.bigInt({ min, max }), fc.constantFrom('le', 'be'), (v, order) => {
          const input = bits === 64 ? v : Number(v);
          const bytes = smcValueToBytes(type, input, bits / 8, order);
          expect(bytes).toEqual(encodeSmcValue(type, input, { byteOrder: order }));
          expect(smcValueFromBytes(type, bytes, order)).toBe(input);
        }),
      );
      expect(badInput(() => smcValueToBytes(type, max + 1n, bits / 8))).toBe(true);
      expect(badInput(() => smcValueToBytes(type, min - 1n, bits / 8))).toBe(true);
    });
  }

  it('flt is IEEE single, little-endian by default', () => {
    expect(smcValueToBytes('flt ', 1, 4)).toEqual(new Uint8Array([0, 0, 0x80, 0x3f]));
    expect(smcValueToBytes('flt ', 1, 4, 'be')).toEqual(new Uint8Array([0x3f, 0x80, 0, 0]));
    fc.assert(
      fc.property(fc.float({ noNaN: true }), (v) => {
        expect(smcValueFromBytes('flt ', smcValueToBytes('flt ', v, 4))).toBe(v);
      }),
    );
    expect(badInput(() => smcValueToBytes('flt ', '1' as unknown as number, 4))).toBe(true);
  });

  it('ioft is unsigned 48.16', () => {
    expect(smcValueToBytes('ioft', 45.5, 8)).toEqual(new Uint8Array([0, 0x80, 45, 0, 0, 0, 0, 0]));
    expect(smcValueFromBytes('ioft', new Uint8Array([0, 0x80, 45, 0, 0, 0, 0, 0]))).toBe(45.5);
    expect(badInput(() => smcValueToBytes('ioft', -1, 8))).toBe(true);
  });

  it('flag, ch8* and raw types', () => {
    expect(smcValueFromBytes('flag', new Uint8Array([1]))).toBe(true);
    expect(smcValueToBytes('flag', false, 1)).toEqual(new Uint8Array([0]));
    expect(badInput(() => smcValueToBytes('flag', 2, 1))).toBe(true);
    expect(smcValueToBytes('ch8*', 'J293', 8)).toEqual(
      new Uint8Array([0x4a, 0x32, 0x39, 0x33, 0, 0, 0, 0]),
    );
    expect(smcValueFromBytes('ch8*', new Uint8Array([0x41, 0x42, 0, 0x43]))).toBe('AB');
    expect(badInput(() => smcValueToBytes('ch8*', 'é', 4))).toBe(true);
    expect(badInput(() => smcValueToBytes('ch8*', 'abcde', 4))).toBe(true);
    const raw = smcValueFromBytes('hex_', new Uint8Array([1, 2, 3]));
    expect(raw).toEqual({ type: 'hex_', bytes: new Uint8Array([1, 2, 3]) });
    expect(smcValueToBytes('hex_', raw as { type: string; bytes: Uint8Array }, 3)).toEqual(
      new Uint8Array([1, 2, 3]),
    );
    expect(badInput(() => smcValueToBytes('hex_', 5, 3))).toBe(true);
    expect(badInput(() => smcValueToBytes('hex_', new Uint8Array(2), 3))).toBe(true);
  });

  it('a fixed-size type with another size decodes raw and refuses typed writes', () => {
    expect(smcValueFromBytes('ui32', new Uint8Array(3))).toEqual({
      type: 'ui32',
      bytes: new Uint8Array(3),
    });
    expect(badInput(() => smcValueToBytes('ui32', 1, 3))).toBe(true);
    expect(smcValueToBytes('ui32', new Uint8Array(3), 3)).toEqual(new Uint8Array(3));
    expect(smcTypeSize('ui16')).toBe(2);
    expect(smcTypeSize('ch8*')).toBeUndefined();
  });

  it('decoding never throws', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 4, maxLength: 4 }),
        fc.uint8Array({ maxLength: 16 }),
        (t, b) => {
          smcValueFromBytes(t, b);
          smcValueFromBytes(t, b, 'be');
        },
      ),
    );
  });
});

describe('notifications', () => {
  it('classifies the documented events', () => {
    expect(classifyNotification(0x7201, 0xfe, 0, 1n)).toMatchObject({
      kind: 'button',
      button: 'heldShort',
      pressed: false,
    });
    expect(classifyNotification(0x7201, 0x00, 1, 1n)).toMatchObject({ button: 'heldLong' });
    expect(classifyNotification(0x7201, 0x42, 1, 1n)).toMatchObject({ button: 'unknown' });
    expect(classifyNotification(0x7203, 0, 1, 1n).kind).toBe('lid');
    expect(classifyNotification(0x7106, 0, 0, 1n).kind).toBe('power');
    expect(classifyNotification(0x7000, 0, 0, 1n).kind).toBe('other');
  });
});
