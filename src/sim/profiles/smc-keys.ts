/**
 * The SMC's key table as the simulated firmware holds it: four-character keys sorted by their
 * big-endian u32 value (the order GET_KEY_BY_INDEX enumerates, `include/linux/mfd/macsmc.h`),
 * each with a 4-character type code, a size, a flags byte and its value bytes. The default table
 * models a 13" MacBook Pro (J293, M1: one fan, a battery, Touch ID power button) with the keys the
 * Linux macsmc drivers actually use. docs/sim-smc.md lists every key with its source.
 *
 * Byte order of values on Apple silicon: little-endian, the AP's native order. ML copies inline
 * data straight into the caller's variable (`memcpy(rbuf, &rdata, rsize)` in
 * `drivers/mfd/macsmc.c`) and its typed helpers read u16/u32/u64 natively; m1n1-Py's `fw/smc.py`
 * decodes every numeric type with `struct` '<' formats. Known exceptions are per key, not per
 * type: `#KEY` is big-endian (ML `be32_to_cpu`; AsahiLinux/docs `smc.md`: "in reversed byte
 * order") and `B0RM` is big-endian (ML macsmc-power `swab16`: "likely pass through from TI gas
 * gauge"). `flt ` is IEEE-754 single precision, `ioft` an unsigned 48.16 fixed-point u64
 * (`include/linux/mfd/macsmc.h`, macsmc-hwmon).
 */

import { ErrorCode, RtkitError } from '../../errors.js';
import { fourccToU32 } from '../../protocol/index.js';

/**
 * The flags byte of GET_KEY_INFO. Bits 7, 6 and 4 are named by ML
 * (`APPLE_SMC_READABLE/WRITABLE/FUNCTION`, `include/linux/mfd/macsmc.h`). Intel-era Apple EFI
 * headers (OpenCore `AppleSmc.h`) name bit 0 private-write, bit 1 private-read, bit 2 atomic and
 * bit 3 const; on Apple silicon bit 2 appears on little-endian multi-byte keys (QEMUAppleSilicon
 * `smc.c` calls it `SMC_ATTR_LITTLE_ENDIAN`; a macOS enumeration of an M4 Max shows it on every
 * `flt ` key) **[uncertain]**.
 */
export const SmcKeyFlag = {
  Readable: 0x80,
  Writable: 0x40,
  Function: 0x10,
  /** [uncertain] see above; set by `defineKey` on little-endian numeric keys wider than a byte. */
  LittleEndian: 0x04,
} as const;

// The result codes and the typed-value codec are the protocol layer's, shared with the client.
import { SmcResult } from '../../protocol/smc-values.js';

export { SmcResult };

import {
  type ByteOrder,
  smcTypeSize,
  smcValueFromBytes,
  smcValueToBytes,
} from '../../protocol/smc-values.js';

export type { ByteOrder };

/** What a key hook sees. */
export interface KeyContext {
  /** Firmware time in milliseconds (the injected clock). */
  readonly now: number;
  /** This key's stored bytes (a copy). */
  readonly value: Uint8Array;
  /** Another key's stored bytes (a copy), for keys that depend on each other. */
  readonly get: (key: string) => Uint8Array | undefined;
}

/** One entry of the key table. */
export interface KeyDef {
  /** Four characters (`'B0AV'`). */
  readonly key: string;
  /** Four-character SMC type code (`'ui16'`, `'flt '`, `'ch8*'`, ...). */
  readonly type: string;
  /** Size in bytes, 0..255 (GET_KEY_INFO carries it in one byte). */
  readonly size: number;
  /** GET_KEY_INFO flags byte (`SmcKeyFlag`). */
  readonly flags: number;
  /** Initial value, exactly `size` bytes. */
  readonly value: Uint8Array;
  /** Byte order of the value (documentation and `decodeKeyValue`); 'le' unless noted. */
  readonly byteOrder?: ByteOrder;
  /** Where the key, its type and its meaning come from. */
  readonly source?: string;
  /** A live value: bytes to return instead of the stored value, or a result code. */
  readonly read?: (ctx: KeyContext) => Uint8Array | number;
  /**
   * Validate a write of exactly `size` bytes: undefined stores the data, bytes store those
   * bytes instead, a number is the result (0 = accepted, nothing stored; else refused).
   */
  readonly write?: (data: Uint8Array, ctx: KeyContext) => Uint8Array | number | undefined;
  /** RW_KEY for function keys: the written payload in, result bytes or a result code out. */
  readonly rw?: (input: Uint8Array, ctx: KeyContext) => Uint8Array | number;
}

export type SmcValue = number | bigint | boolean | string | Uint8Array;

/** Fixed size of a type code, or undefined for variable-size types (`ch8*`, `hex_`, ...). */
export function typeSize(type: string): number | undefined {
  return smcTypeSize(type);
}

/**
 * The bytes of a typed value (the protocol layer's codec): integers take number or bigint,
 * `flt ` a number, `ioft` a number, `flag` a boolean or 0/1, `ch8*` a string (NUL-padded to
 * `size`), `hex_` and unknown types raw bytes. Throws BAD_INPUT for values that do not fit.
 */
export function encodeSmcValue(
  type: string,
  value: SmcValue,
  opts: { size?: number; byteOrder?: ByteOrder } = {},
): Uint8Array {
  const natural = value instanceof Uint8Array || typeof value === 'string' ? value.length : 0;
  const size = opts.size ?? smcTypeSize(type) ?? natural;
  return smcValueToBytes(type, value, size, opts.byteOrder ?? 'le');
}

/** The typed value of key bytes: the inverse of `encodeSmcValue`; raw types as bytes. */
export function decodeSmcValue(
  type: string,
  bytes: Uint8Array,
  byteOrder: ByteOrder = 'le',
): SmcValue {
  const v = smcValueFromBytes(type, bytes, byteOrder);
  return typeof v === 'object' ? v.bytes : v;
}

/** The typed value of a key definition's current bytes. */
export function decodeKeyValue(def: KeyDef, bytes: Uint8Array = def.value): SmcValue {
  return decodeSmcValue(def.type, bytes, def.byteOrder ?? 'le');
}

export interface DefineKeyOptions {
  /** Default: readable (plus LittleEndian for multi-byte little-endian numeric types). */
  readonly flags?: number;
  /** Required for variable-size types given as a string or when padding. */
  readonly size?: number;
  readonly byteOrder?: ByteOrder;
  readonly source?: string;
  readonly read?: KeyDef['read'];
  readonly write?: KeyDef['write'];
  readonly rw?: KeyDef['rw'];
}

const NUMERIC = new Set(['ui16', 'ui32', 'ui64', 'si16', 'si32', 'si64', 'flt ', 'ioft']);

/** A flag key accepts 0 or 1 only **[inferred]**. */
function writeFlag(data: Uint8Array): number | undefined {
  return data[0]! > 1 ? SmcResult.BadArgumentError : undefined;
}

/** A key definition from a typed value, checked. Throws BAD_INPUT on a malformed definition. */
export function defineKey(
  key: string,
  type: string,
  value: SmcValue,
  opts: DefineKeyOptions = {},
): KeyDef {
  checkFourcc(key, 'key');
  checkFourcc(type, 'type');
  const byteOrder = opts.byteOrder ?? 'le';
  const bytes = encodeSmcValue(type, value, {
    byteOrder,
    ...(opts.size !== undefined ? { size: opts.size } : {}),
  });
  const le = byteOrder === 'le' && NUMERIC.has(type) ? SmcKeyFlag.LittleEndian : 0;
  const flags = opts.flags ?? SmcKeyFlag.Readable | le;
  const write = opts.write ?? (type === 'flag' ? writeFlag : undefined);
  return checkKeyDef({
    key,
    type,
    size: bytes.length,
    flags,
    value: bytes,
    ...(byteOrder === 'be' ? { byteOrder } : {}),
    ...(opts.source !== undefined ? { source: opts.source } : {}),
    ...(opts.read ? { read: opts.read } : {}),
    ...(write ? { write } : {}),
    ...(opts.rw ? { rw: opts.rw } : {}),
  });
}

function bad(msg: string): never {
  throw new RtkitError(ErrorCode.BAD_INPUT, msg);
}

function checkFourcc(s: string, what: string): void {
  if (typeof s !== 'string' || s.length !== 4 || !/^[\x20-\x7e]{4}$/.test(s)) {
    bad(`${what} must be 4 printable ASCII characters: ${JSON.stringify(s)}`);
  }
}

/** Validate one definition (shape, size, value length). Returns it; throws BAD_INPUT. */
export function checkKeyDef(def: KeyDef): KeyDef {
  checkFourcc(def.key, 'key');
  checkFourcc(def.type, 'type');
  if (!Number.isInteger(def.size) || def.size < 0 || def.size > 255) {
    bad(`${def.key}: size ${def.size} is not in 0..255`);
  }
  const fixed = smcTypeSize(def.type);
  if (fixed !== undefined && def.size !== fixed) bad(`${def.key}: ${def.type} is ${fixed} bytes`);
  if (!Number.isInteger(def.flags) || def.flags < 0 || def.flags > 0xff) {
    bad(`${def.key}: flags must be a byte`);
  }
  if (!(def.value instanceof Uint8Array) || def.value.length !== def.size) {
    bad(`${def.key}: value must be ${def.size} bytes`);
  }
  return def;
}

/** The table sorted as the SMC enumerates it (by u32 key value); throws BAD_INPUT on duplicates. */
export function sortKeys(keys: readonly KeyDef[]): KeyDef[] {
  const sorted = keys.map(checkKeyDef).sort((a, b) => fourccToU32(a.key) - fourccToU32(b.key));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.key === sorted[i - 1]!.key) bad(`duplicate key ${sorted[i]!.key}`);
  }
  return sorted;
}

export const KEY_COUNT_KEY = '#KEY';

/**
 * Sorted table with `#KEY` set to the number of keys, itself included (ML prints the range
 * "#KEY..zSPp" from index 0 to count − 1), as a big-endian u32. Adds `#KEY` if missing.
 */
export function withKeyCount(keys: readonly KeyDef[]): KeyDef[] {
  const others = keys.filter((k) => k.key !== KEY_COUNT_KEY);
  const existing = keys.find((k) => k.key === KEY_COUNT_KEY);
  const count = encodeSmcValue('ui32', others.length + 1, { byteOrder: 'be' });
  const def: KeyDef = existing
    ? { ...existing, value: count, byteOrder: 'be' }
    : {
        key: KEY_COUNT_KEY,
        type: 'ui32',
        size: 4,
        flags: SmcKeyFlag.Readable,
        value: count,
        byteOrder: 'be',
        source: 'ML macsmc.c probe (be32_to_cpu); AsahiLinux/docs smc.md',
      };
  return sortKeys([def, ...others]);
}

// ---------------------------------------------------------------------------------------------
// Helpers for the default table.

const R = SmcKeyFlag.Readable;
const W = SmcKeyFlag.Writable;
const F = SmcKeyFlag.Function;
const LE = SmcKeyFlag.LittleEndian;

function u32le(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, b.length).getUint32(0, true);
}

function u32leBytes(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v >>> 0, true);
  return out;
}

/**
 * SMC GPIO commands, the top byte of the u32 payload (`drivers/gpio/gpio-macsmc.c`): writes use
 * OUTPUT | level; reads go through RW_KEY with PINMODE, OUTPUT, INPUT or IRQ_MODE.
 */
export const GpioCmd = {
  Action: 0,
  Output: 1,
  Input: 2,
  PinMode: 3,
  IrqEnable: 4,
  IrqAck: 5,
  IrqMode: 6,
  Config: 0xff,
} as const;

/**
 * A PMU GPIO key `gPxx` (u32 payload, little-endian). The stored value is the model's own:
 * byte 0 the level, byte 1 the direction (1 output). Output pins refuse IRQ_MODE, which is how
 * ML's `macsmc_gpio_get_direction` tells them apart when PINMODE fails.
 */
export function gpioKey(
  key: string,
  pin: { output: boolean; level: 0 | 1; source?: string },
): KeyDef {
  const state = new Uint8Array([pin.level, pin.output ? 1 : 0, 0, 0]);
  const cmdOf = (b: Uint8Array): number => Math.floor(u32le(b) / 0x100_0000);
  return checkKeyDef({
    key,
    type: 'ui32',
    size: 4,
    flags: R | W | F | LE,
    value: state,
    source: pin.source ?? 'drivers/gpio/gpio-macsmc.c',
    read: (ctx) => u32leBytes(ctx.value[0]!),
    write: (data, ctx) => {
      if (cmdOf(data) !== GpioCmd.Output) return SmcResult.BadFuncParameter;
      if (ctx.value[1] !== 1) return SmcResult.BadArgumentError;
      return new Uint8Array([u32le(data) & 1, 1, 0, 0]);
    },
    rw: (input, ctx) => {
      if (input.length !== 4) return SmcResult.KeySizeMismatch;
      const output = ctx.value[1] === 1;
      switch (cmdOf(input)) {
        case GpioCmd.PinMode:
          return u32leBytes(output ? 1 : 0);
        case GpioCmd.Output:
        case GpioCmd.Input:
          return u32leBytes(ctx.value[0]!);
        case GpioCmd.IrqMode:
          return output ? SmcResult.BadArgumentError : u32leBytes(0);
        default:
          return SmcResult.BadFuncParameter;
      }
    },
  });
}

/** `MBSE` actions named in ML `drivers/power/reset/macsmc-reboot.c`. */
export const MBSE_ACTIONS = ['offw', 'slpw', 'rest', 'off1', 'susp', 'phra', 'panb', 'pane'];

/** The RTC counts at 32768 Hz in 48 bits (`drivers/rtc/rtc-macsmc.c`). */
const RTC_HZ = 32768;
const TWO48 = 2 ** 48;

function rtcRead(ctx: KeyContext): Uint8Array {
  const v = ctx.value;
  let base = 0;
  for (let i = 5; i >= 0; i--) base = base * 256 + v[i]!;
  let now = (base + Math.floor((ctx.now * RTC_HZ) / 1000)) % TWO48;
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    out[i] = now % 256;
    now = Math.floor(now / 256);
  }
  return out;
}

const POWER = 'ML/Asahi drivers/power/supply/macsmc_power.c';
const HWMON = 'arch/arm64/boot/dts/apple/hwmon-*.dtsi (macsmc-hwmon)';
const ASAHI = 'AsahiLinux/docs docs/hw/soc/smc.md';

/**
 * The default key table: a J293-like laptop (MacBook Pro 13", M1) on AC power, charging at 83 %.
 * Values are synthetic but consistent with each other; names, types, sizes and units come from
 * the sources in each entry. A fresh copy every call (values are mutable bytes).
 */
export function defaultKeyTable(): KeyDef[] {
  const k = defineKey;
  const rw = { flags: R | W };
  const keys: KeyDef[] = [
    // Charger / AC adapter.
    k('AC-W', 'si8 ', 1, {
      flags: R | F,
      source: `${POWER} (charge port; observed 2 and 255 = -1 in fixture dmesg-m2-dcp-smc-syslog)`,
    }),
    k('AC-i', 'ui16', 3000, { source: `${POWER} (input current limit, mA)` }),
    k('AC-n', 'ui16', 20000, { source: `${POWER} (input voltage, mV)` }),
    k('ACPW', 'ui32', 61000, { source: `${POWER} (input power limit, mW)` }),
    k('ACSt', 'ui32', 0x6, { source: `${POWER} (bit 1 can boot iBoot, bit 2 can boot AP)` }),
    k('CH0B', 'ui8 ', 0, { ...rw, source: `${POWER} (written 0 at probe)` }),
    k('CH0C', 'ui8 ', 0, { ...rw, source: `${POWER} (inhibit charge)` }),
    k('CH0I', 'ui8 ', 0, { ...rw, source: `${POWER} (force discharge)` }),
    k('CH0K', 'ui8 ', 0, { ...rw, source: `${POWER} (written 0 at probe)` }),
    k('CH0R', 'ui32', 0, { source: `${POWER} (no-power reasons)` }),
    k('CHCC', 'flag', true, { source: `${POWER} (AC charge capable)` }),
    k('CHCE', 'flag', true, { source: `${POWER} (charger present)` }),
    k('CHIS', 'ui32', 1, { source: `${POWER} (AC online when non-zero)` }),
    k('CHLS', 'ui16', 100, {
      flags: R | W | LE,
      source: `${POWER} (charge limit: low byte end threshold, 0x100 force discharge)`,
    }),
    k('CHNC', 'ui64', 0n, { source: `${POWER} (no-charge reasons; 0 = charging)` }),
    k('CHSC', 'flag', true, { source: `${POWER} (system charging)` }),
    k('ID0R', 'flt ', 1.31, { source: `${HWMON}; ${ASAHI} (AC input current, A)` }),
    k('PDTR', 'flt ', 26.2, { source: `${POWER}; ${ASAHI} (input power, W)` }),
    k('VD0R', 'flt ', 20.05, { source: `${HWMON}; ${ASAHI} (AC input voltage, V)` }),
    // Battery.
    k('B0AC', 'si16', 1523, { source: `${POWER} (current, mA)` }),
    k('B0AP', 'si32', 19195, { source: `${POWER} (power, mW)` }),
    k('B0AT', 'ui16', 3037, { source: `${POWER} (temperature, 0.1 K)` }),
    k('B0AV', 'si16', 12604, { source: `${POWER} (voltage, mV); ${ASAHI} (si16)` }),
    k('B0CT', 'ui16', 123, { source: `${POWER}; ${ASAHI} (cycle count)` }),
    k('B0DC', 'ui16', 4382, { source: `${POWER}; ${ASAHI} (design capacity, mAh)` }),
    k('B0FC', 'ui16', 4190, { source: `${POWER}; ${ASAHI} (full capacity, mAh)` }),
    k('B0RM', 'ui16', 3478, {
      byteOrder: 'be',
      source: `${POWER} (swab16: big-endian); ${ASAHI} (reverse byte order)`,
    }),
    k('B0TE', 'ui16', 0xffff, { source: `${POWER} (minutes to empty; 0xffff = n/a)` }),
    k('B0TF', 'ui16', 52, { source: `${POWER}; ${ASAHI} (minutes to full)` }),
    k('BAAC', 'si64', 1_234_567n, { source: `${POWER} (charge counter)` }),
    k('BBAD', 'flag', false, { source: `${POWER} (battery dead)` }),
    k('BCF0', 'ui32', 0, { source: `${POWER} (battery empty; reading arms the warning)` }),
    k('BITV', 'ui16', 9000, { source: `${POWER} (minimum design voltage, mV)` }),
    k('BMDN', 'ch8*', 'SimBattery', { size: 32, source: `${POWER} (model name)` }),
    k('BSFC', 'flag', false, { source: `${POWER} (battery full)` }),
    k('BUIC', 'ui8 ', 83, { source: `${POWER} (state of charge, %)` }),
    k('SBAV', 'flt ', 12604, { source: `${ASAHI} (battery voltage in mV as flt)` }),
    // RTC: 48-bit counter at 32768 Hz; the offset lives in the PMU's NVMEM, not here.
    k('CLKM', 'hex_', new Uint8Array([0, 0, 0, 0, 0x40, 0]), {
      flags: R | F,
      read: rtcRead,
      source: 'drivers/rtc/rtc-macsmc.c (6 bytes, 32768 Hz) [size inferred from the 6-byte read]',
    }),
    // Fan (macsmc-hwmon; attrs as enumerated on an M4 Max: F0Ac 0x84, F0Tg 0xd4).
    k('F0Ac', 'flt ', 2000, { source: `${HWMON} (actual rpm)` }),
    k('F0Md', 'ui8 ', 0, { ...rw, source: `${HWMON} (1 = manual; written as ui8)` }),
    k('F0Mn', 'flt ', 1200, { source: `${HWMON} (minimum rpm)` }),
    k('F0Mx', 'flt ', 7200, { source: `${HWMON} (maximum rpm)` }),
    k('F0Tg', 'flt ', 2000, { flags: R | W | F | LE, source: `${HWMON} (target rpm)` }),
    k('FNum', 'ui8 ', 1, { source: 'Intel-era applesmc fan count [inferred on Apple silicon]' }),
    // Power, temperatures.
    k('PHPC', 'flt ', 6.5, { source: `${HWMON} (heatpipe power, W)` }),
    k('PSTR', 'flt ', 9.75, { source: `${HWMON}; ${ASAHI} (total system power, W)` }),
    k('TB0T', 'flt ', 30.5, { source: `${HWMON}; ${ASAHI} (battery hotspot, °C)` }),
    k('TCHP', 'flt ', 41.25, { source: `${HWMON}; ${ASAHI} (charge regulator, °C)` }),
    k('TG0B', 'ioft', 45.5, {
      flags: R | F | LE,
      source: 'QEMUAppleSilicon smc.c key name; ioft 48.16 (macsmc-hwmon); attrs 0x94 observed',
    }),
    k('TW0P', 'flt ', 38, { source: `${HWMON}; ${ASAHI} (WiFi/BT module, °C)` }),
    k('Ts0P', 'flt ', 29.75, { source: `${ASAHI} (palm rest, °C)` }),
    // System: platform, lid, power button, shutdown actions, notifications.
    k('MBSE', 'hex_', new Uint8Array(4), {
      flags: W | F,
      write: (data) =>
        MBSE_ACTIONS.some((a) => fourccToU32(a) === u32le(data))
          ? undefined
          : SmcResult.BadFuncParameter,
      source:
        'drivers/power/reset/macsmc-reboot.c (u32 action fourcc); QEMUAppleSilicon (write-only hex_)',
    }),
    k('MSLD', 'ui8 ', 0, { source: `drivers/input/misc/macsmc-input.c; ${ASAHI} (lid, 1 closed)` }),
    k('NTAP', 'flag', false, { ...rw, source: 'drivers/mfd/macsmc.c (1 enables notifications)' }),
    k('RPlt', 'ch8*', 'J293', { size: 8, source: `${ASAHI} (platform name)` }),
    k('bHLD', 'ui32', 0, {
      source: `drivers/input/misc/macsmc-input.c (read as u32, bit 0); ${ASAHI} (power button)`,
    }),
    // PMU GPIOs: gP01 is the first GPIO key on real machines (LKML, PROTOCOL.md §9.3).
    gpioKey('gP01', { output: true, level: 1 }),
    gpioKey('gP0d', { output: true, level: 1, source: `${ASAHI} (WiFi/BT power)` }),
    gpioKey('gP12', { output: true, level: 1, source: `${ASAHI} (backlight on one system)` }),
  ];
  return withKeyCount(keys);
}
