/**
 * Typed SMC values: the bytes of a key decoded by its 4-character SMC type, and back.
 *
 * Byte order on Apple silicon is little-endian, the AP's native order: ML copies inline data into
 * the caller's variable and reads u16/u32/u64 natively, m1n1-Py decodes every numeric type with
 * `struct` '<' (docs/sim-smc.md, "Byte order of values"). The exceptions are per key, not per
 * type, so they are a list of keys (`DEFAULT_BIG_ENDIAN_KEYS`) that the client takes as an option.
 *
 * Types (m1n1-Py's list, PROTOCOL.md §9.3): `ui8 ` `ui16` `ui32` `ui64`, `si8 ` `si16` `si32`
 * `si64`, `flt ` (IEEE-754 single), `flag` (0/1), `ch8*` (ASCII, NUL-padded), `ioft` (unsigned
 * 48.16 fixed point in a u64: ML `macsmc.h`, macsmc-hwmon), `hex_` (opaque bytes). Anything else,
 * and any fixed-size type whose key has another size, decodes to raw bytes.
 */

import { ErrorCode, RtkitError } from '../errors.js';

export type ByteOrder = 'le' | 'be';

/** Bytes of a type this module does not interpret (`hex_`, `{jst`, an unexpected size, ...). */
export interface SmcRawValue {
  readonly type: string;
  readonly bytes: Uint8Array;
}

/**
 * A decoded value: integers up to 32 bits, `flt ` and `ioft` as number; 64-bit integers as
 * bigint; `flag` as boolean; `ch8*` as string; everything else raw.
 */
export type SmcValue = number | bigint | boolean | string | SmcRawValue;

/** What `write()` accepts: a typed value, or the exact bytes (`Uint8Array`) for any type. */
export type SmcValueInput = SmcValue | Uint8Array;

/**
 * Keys whose numeric value is big-endian:
 * - `#KEY`: ML `be32_to_cpu`; AsahiLinux/docs `smc.md` "in reversed byte order";
 * - `B0RM`: ML macsmc-power `swab16` ("likely pass through from TI gas gauge"); Asahi docs "ui16
 *   in reverse byte order";
 * - `VP3b`: Asahi docs "apparently byte-reversed" (one observation, type not stated) **[uncertain]**.
 */
export const DEFAULT_BIG_ENDIAN_KEYS: readonly string[] = ['#KEY', 'B0RM', 'VP3b'];

const INT_TYPES: Readonly<Record<string, { size: 1 | 2 | 4 | 8; signed: boolean }>> = {
  'ui8 ': { size: 1, signed: false },
  ui16: { size: 2, signed: false },
  ui32: { size: 4, signed: false },
  ui64: { size: 8, signed: false },
  'si8 ': { size: 1, signed: true },
  si16: { size: 2, signed: true },
  si32: { size: 4, signed: true },
  si64: { size: 8, signed: true },
};

const FIXED_SIZE: Readonly<Record<string, number>> = {
  'ui8 ': 1,
  ui16: 2,
  ui32: 4,
  ui64: 8,
  'si8 ': 1,
  si16: 2,
  si32: 4,
  si64: 8,
  'flt ': 4,
  flag: 1,
  ioft: 8,
};

/** The size a type implies, or undefined for variable-size types (`ch8*`, `hex_`, unknown). */
export function smcTypeSize(type: string): number | undefined {
  return FIXED_SIZE[type];
}

function bad(message: string): never {
  throw new RtkitError(ErrorCode.BAD_INPUT, message);
}

/** Decode key bytes by type. Never throws: what does not fit the type comes back raw. */
export function smcValueFromBytes(
  type: string,
  bytes: Uint8Array,
  byteOrder: ByteOrder = 'le',
): SmcValue {
  const raw = (): SmcRawValue => ({ type, bytes: bytes.slice() });
  const fixed = FIXED_SIZE[type];
  if (fixed !== undefined && bytes.length !== fixed) return raw();
  const le = byteOrder === 'le';
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const int = INT_TYPES[type];
  if (int !== undefined) {
    switch (int.size) {
      case 1:
        return int.signed ? dv.getInt8(0) : dv.getUint8(0);
      case 2:
        return int.signed ? dv.getInt16(0, le) : dv.getUint16(0, le);
      case 4:
        return int.signed ? dv.getInt32(0, le) : dv.getUint32(0, le);
      default:
        return int.signed ? dv.getBigInt64(0, le) : dv.getBigUint64(0, le);
    }
  }
  switch (type) {
    case 'flt ':
      return dv.getFloat32(0, le);
    case 'ioft':
      // Exact up to 2^37 (raw below 2^53); beyond that the nearest double.
      return Number(dv.getBigUint64(0, le)) / 65536;
    case 'flag':
      return bytes[0] !== 0;
    case 'ch8*': {
      let s = '';
      for (const b of bytes) {
        if (b === 0) break;
        s += String.fromCharCode(b);
      }
      return s;
    }
    default:
      return raw();
  }
}

function isRaw(v: unknown): v is SmcRawValue {
  return (
    typeof v === 'object' &&
    v !== null &&
    !(v instanceof Uint8Array) &&
    (v as { bytes?: unknown }).bytes instanceof Uint8Array
  );
}

/**
 * The bytes of a typed value for a key of `size` bytes. Integers take number (safe integer) or
 * bigint, `flt ` a number, `ioft` a non-negative number, `flag` a boolean or 0/1, `ch8*` an ASCII
 * string (NUL-padded to `size`); any type takes exactly `size` bytes as a Uint8Array or raw
 * value. Throws RtkitError BAD_INPUT for a value that does not fit.
 */
export function smcValueToBytes(
  type: string,
  value: SmcValueInput,
  size: number,
  byteOrder: ByteOrder = 'le',
): Uint8Array {
  if (!Number.isInteger(size) || size < 0 || size > 255) bad(`key size ${size} is not in 0..255`);
  if (value instanceof Uint8Array || isRaw(value)) {
    const bytes = value instanceof Uint8Array ? value : value.bytes;
    if (bytes.length !== size) bad(`${bytes.length} bytes for a ${size}-byte key`);
    return bytes.slice();
  }
  const fixed = FIXED_SIZE[type];
  if (fixed !== undefined && fixed !== size) {
    bad(`type ${JSON.stringify(type)} is ${fixed} bytes but the key has ${size}: write bytes`);
  }
  const le = byteOrder === 'le';
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  const int = INT_TYPES[type];
  if (int !== undefined) {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      bad(`${type} needs an integer, got ${value}`);
    }
    if (typeof value !== 'number' && typeof value !== 'bigint') bad(`${type} needs an integer`);
    const v = BigInt(value);
    const width = BigInt(int.size * 8);
    const min = int.signed ? -(1n << (width - 1n)) : 0n;
    const max = int.signed ? (1n << (width - 1n)) - 1n : (1n << width) - 1n;
    if (v < min || v > max) bad(`${String(value)} does not fit ${type}`);
    const u = BigInt.asUintN(int.size * 8, v);
    for (let i = 0; i < int.size; i++) {
      out[le ? i : int.size - 1 - i] = Number((u >> BigInt(8 * i)) & 0xffn);
    }
    return out;
  }
  switch (type) {
    case 'flt ':
      if (typeof value !== 'number') bad('flt needs a number');
      dv.setFloat32(0, value, le);
      return out;
    case 'ioft': {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        bad('ioft needs a finite non-negative number');
      }
      const raw = BigInt(Math.round(value * 65536));
      if (raw > 0xffff_ffff_ffff_ffffn) bad(`${value} does not fit ioft (48.16)`);
      dv.setBigUint64(0, raw, le);
      return out;
    }
    case 'flag':
      if (value !== true && value !== false && value !== 0 && value !== 1) {
        bad('flag needs true, false, 0 or 1');
      }
      out[0] = value === true || value === 1 ? 1 : 0;
      return out;
    case 'ch8*': {
      if (typeof value !== 'string') bad('ch8* needs a string');
      if (value.length > size) bad(`${JSON.stringify(value)} is longer than ${size} bytes`);
      for (let i = 0; i < value.length; i++) {
        const c = value.charCodeAt(i);
        if (c > 0x7f) bad('ch8* is ASCII');
        out[i] = c;
      }
      return out;
    }
    default:
      return bad(`type ${JSON.stringify(type)} is not interpreted: write a Uint8Array`);
  }
}

/**
 * SMC result codes. Apple silicon sources say only "0 = success" (PROTOCOL.md §9.2); these are
 * the SMC's long-standing Intel-era codes (OpenCore/VirtualSMC `AppleSmc.h`, reused by
 * QEMUAppleSilicon's SMC model) **[inferred]** for Apple silicon (docs/sim-smc.md).
 */
export const SmcResult = {
  Success: 0x00,
  Error: 0x01,
  CommCollision: 0x80,
  SpuriousData: 0x81,
  BadCommand: 0x82,
  BadParameter: 0x83,
  KeyNotFound: 0x84,
  KeyNotReadable: 0x85,
  KeyNotWritable: 0x86,
  KeySizeMismatch: 0x87,
  FramingError: 0x88,
  BadArgumentError: 0x89,
  TimeoutError: 0xb7,
  KeyIndexRangeError: 0xb8,
  BadFuncParameter: 0xc0,
  EventBuffWrongOrder: 0xc4,
  EventBuffReadError: 0xc5,
  DeviceAccessError: 0xc7,
  UnsupportedFeature: 0xcb,
  SMBAccessError: 0xcc,
} as const;

const RESULT_NAMES = new Map<number, string>(
  Object.entries(SmcResult).map(([name, code]) => [code, `kSMC${name}`]),
);

/** `kSMCKeyNotFound` for 0x84, ...; undefined for a code without a known name. */
export function smcResultName(result: number): string | undefined {
  return RESULT_NAMES.get(result);
}
