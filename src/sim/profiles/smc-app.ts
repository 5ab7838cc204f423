/**
 * The SMC's application endpoint 0x20 as the simulated firmware serves it (PROTOCOL.md §9):
 * INITIALIZE is answered with the shared-memory address inside the SMC's SRAM window, then
 * READ_KEY, WRITE_KEY, GET_KEY_BY_INDEX, GET_KEY_INFO and RW_KEY run against a key table
 * (`smc-keys.ts`), and notifications go out once the host wrote NTAP = 1. Every word is read and
 * built through the protocol codec. Deterministic: no randomness, time only from the injected
 * clock (for live keys such as the RTC).
 *
 * Reply SIZE: the size of the data returned by READ_KEY and RW_KEY; 0 for WRITE_KEY,
 * GET_KEY_INFO and GET_KEY_BY_INDEX **[inferred]** — ML returns the reply's SIZE as the result of
 * `apple_smc_write`, `apple_smc_get_key_info` and `apple_smc_get_key_by_index`, and its callers
 * treat any non-zero result as failure (`if (ret) return ret;` in macsmc-power, macsmc-hwmon and
 * gpio-macsmc, drivers that work on real machines). Errors carry SIZE 0 and VALUE 0.
 */

import {
  decode,
  encode,
  fourccToU32,
  type Message,
  SmcField,
  splitWord,
} from '../../protocol/index.js';
import type { AppEndpoint, FirmwareServices } from '../firmware/app.js';
import {
  defaultKeyTable,
  type KeyContext,
  type KeyDef,
  SmcKeyFlag,
  SmcResult,
  withKeyCount,
} from './smc-keys.js';

export const SMC_ENDPOINT = 0x20;
/** ML: "We don't actually know the true size here but this seem reasonable" (macsmc.c). */
export const SMC_SHMEM_SIZE = 0x1000;

/** Notification event types, `[31:16]` of the event (macsmc-input, macsmc-power). */
export const SmcEvent = {
  /** Charger events 0x7101xx (charging state in `[7:0]`), 0x7102 critical, 0x7106 port change. */
  Charger: 0x7101,
  Button: 0x7201,
  Lid: 0x7203,
} as const;

/** Button sub-codes of event 0x7201 (`drivers/input/misc/macsmc-input.c`). */
export const SmcButton = {
  HeldLong: 0x00,
  Power: 0x01,
  TouchId: 0x06,
  HeldShort: 0xfe,
} as const;

/** Which result code the model answers in each error situation. */
export interface SmcErrorCodes {
  keyNotFound: number;
  keyNotReadable: number;
  keyNotWritable: number;
  sizeMismatch: number;
  indexOutOfRange: number;
  /** A command before INITIALIZE [inferred: no source says]. */
  notInitialized: number;
  /** Unknown MSG, or an IOP→AP kind sent by the AP. */
  badCommand: number;
  /** Shared memory needed but absent or too small [inferred]. */
  noShmem: number;
}

export const DEFAULT_SMC_ERROR_CODES: Readonly<SmcErrorCodes> = {
  keyNotFound: SmcResult.KeyNotFound,
  keyNotReadable: SmcResult.KeyNotReadable,
  keyNotWritable: SmcResult.KeyNotWritable,
  sizeMismatch: SmcResult.KeySizeMismatch,
  indexOutOfRange: SmcResult.KeyIndexRangeError,
  notInitialized: SmcResult.Error,
  badCommand: SmcResult.BadCommand,
  noShmem: SmcResult.BadArgumentError,
};

export interface SmcEndpointOptions {
  /** The key table; `#KEY` is (re)computed and the table sorted. Default: `defaultKeyTable()`. */
  keys?: readonly KeyDef[];
  /** Offset of the shared buffer inside the SRAM window. Default 0. */
  shmemOffset?: number;
  /** Size of the shared buffer. Default 0x1000 (what ML assumes), clamped to the SRAM. */
  shmemSize?: number;
  errorCodes?: Partial<SmcErrorCodes>;
}

/** Violation codes this endpoint records through `FirmwareServices.violation`. */
export const SmcViolation = {
  /** Bits [11:8] (zero; m1n1-Py asserts it) or other bits outside the command's fields set. */
  ReservedBits: 'SMC_RESERVED_BITS',
  /** MSG is not a command (or is an IOP→AP kind). */
  UnknownCommand: 'SMC_UNKNOWN_COMMAND',
  /** A command before INITIALIZE. */
  NotInitialized: 'SMC_NOT_INITIALIZED',
  /** The profile gave the SMC no SRAM window (or the buffer does not fit in it). */
  NoSram: 'SMC_NO_SRAM',
} as const;

export interface SmcEndpoint extends AppEndpoint {
  /**
   * Send a notification if initialised and NTAP = 1; false when suppressed. `event` is the 16-bit
   * type (`SmcEvent`), `subcode` and `data` bytes; out-of-range values throw ENCODE_INVALID.
   */
  notify(event: number, subcode: number, data: number): boolean;
  readonly notificationsEnabled: boolean;
  /** INITIALIZE was answered since the last start. */
  readonly initialized: boolean;
  /** Device address of the shared buffer, once announced (undefined without SRAM). */
  readonly shmemAddress: number | undefined;
  /** A copy of a key's stored bytes. */
  keyValue(key: string): Uint8Array | undefined;
  /** Replace a key's stored bytes (the simulated world changing); false if absent or wrong size. */
  setKeyValue(key: string, bytes: Uint8Array): boolean;
  /** The sorted table the endpoint serves (definitions, initial values). */
  readonly keys: readonly KeyDef[];
}

/** What one reply carries besides the echoed ID. */
interface Answer {
  readonly result: number;
  readonly size: number;
  readonly value: number;
}

const OK: Answer = { result: SmcResult.Success, size: 0, value: 0 };

function fail(result: number): Answer {
  return { result, size: 0, value: 0 };
}

type KeyCommand = Extract<
  Message,
  { kind: 'smcReadKey' | 'smcWriteKey' | 'smcGetKeyInfo' | 'smcRwKey' | 'smcGetKeyByIndex' }
>;

interface Entry {
  readonly def: KeyDef;
  value: Uint8Array;
}

const CTX = { dir: 'ap->iop', coproc: 'smc' } as const;

function hexWord(msg: bigint): string {
  return `0x${msg.toString(16).padStart(16, '0')}`;
}

/** Up to 4 bytes as VALUE: byte 0 of the data = bits [39:32] (PROTOCOL.md §9.2). */
function inlineValue(data: Uint8Array): number {
  let v = 0;
  for (let i = Math.min(data.length, 4) - 1; i >= 0; i--) v = v * 256 + data[i]!;
  return v;
}

/** The u32 of a 4-character key, or undefined for anything else (never throws). */
function keyU32(key: string): number | undefined {
  return typeof key === 'string' && /^[\x00-\xff]{4}$/.test(key) ? fourccToU32(key) : undefined;
}

function checkOption(name: string, v: number | undefined, min: number): void {
  if (v !== undefined && (!Number.isInteger(v) || v < min)) {
    throw new RangeError(`createSmcEndpoint: ${name} must be an integer >= ${min}`);
  }
}

export function createSmcEndpoint(options: SmcEndpointOptions = {}): SmcEndpoint {
  checkOption('shmemOffset', options.shmemOffset, 0);
  checkOption('shmemSize', options.shmemSize, 1);
  const table = withKeyCount(options.keys ?? defaultKeyTable());
  const errors: SmcErrorCodes = { ...DEFAULT_SMC_ERROR_CODES, ...options.errorCodes };
  for (const [name, code] of Object.entries(errors)) {
    // 0 is success and 0x18 marks a notification: neither can report an error.
    if (!Number.isInteger(code) || code < 1 || code > 0xff || code === 0x18) {
      throw new RangeError(
        `createSmcEndpoint: errorCodes.${name} must be a byte other than 0, 0x18`,
      );
    }
  }
  const entries: Entry[] = table.map((def) => ({ def, value: def.value.slice() }));
  const byKey = new Map<number, Entry>();
  for (const e of entries) byKey.set(fourccToU32(e.def.key), e);
  const entryOf = (key: string): Entry | undefined => {
    const k = keyU32(key);
    return k === undefined ? undefined : byKey.get(k);
  };
  const ntap = entryOf('NTAP');

  let fw: FirmwareServices | undefined;
  let initialized = false;
  /** A key hook threw: the firmware crashed and answers nothing until the next start. */
  let crashed = false;
  /** Offset and size of the shared buffer inside fw.sram, when there is one. */
  let shmem: { offset: number; size: number; address: number } | undefined;

  const ep = SMC_ENDPOINT;

  function context(e: Entry): KeyContext {
    return {
      now: fw?.clock.now() ?? 0,
      value: e.value.slice(),
      get: (key) => entryOf(key)?.value.slice(),
    };
  }

  function shmemRead(len: number): Uint8Array | undefined {
    if (shmem === undefined || fw?.sram === undefined || len > shmem.size) return undefined;
    return fw.sram.bytes.slice(shmem.offset, shmem.offset + len);
  }

  function shmemWrite(data: Uint8Array): boolean {
    if (shmem === undefined || fw?.sram === undefined || data.length > shmem.size) return false;
    fw.sram.bytes.set(data, shmem.offset);
    return true;
  }

  function placeShmem(f: FirmwareServices): void {
    const sram = f.sram;
    const offset = options.shmemOffset ?? 0;
    if (sram === undefined) {
      f.violation(SmcViolation.NoSram, 'SMC profile has no SRAM window: no shared memory');
      shmem = undefined;
      return;
    }
    const size = Math.min(options.shmemSize ?? SMC_SHMEM_SIZE, sram.size - offset);
    if (size <= 0) {
      f.violation(
        SmcViolation.NoSram,
        `shared buffer offset 0x${offset.toString(16)} is outside the 0x${sram.size.toString(16)}-byte SRAM`,
      );
      shmem = undefined;
      return;
    }
    shmem = { offset, size, address: sram.base + offset };
  }

  /**
   * Run a key hook. A hook that throws is a firmware bug: the SMC crashes (crashlog, crash
   * notification) and the command gets a generic error instead of an exception in the caller.
   */
  function hook<T>(e: Entry, fn: () => T): T | number {
    try {
      return fn();
    } catch (err) {
      crashed = true;
      fw?.crash(`SMC key ${e.def.key} handler failed: ${String(err)}`);
      return SmcResult.Error;
    }
  }

  /** Data for a read of `want` bytes (READ_KEY, RW_KEY): stored or live value, or a result. */
  function readData(e: Entry, want: number, input?: Uint8Array): Uint8Array | number {
    const { def } = e;
    let data: Uint8Array | number;
    const { rw, read } = def;
    if (input !== undefined && rw) data = hook(e, () => rw(input, context(e)));
    else if ((def.flags & SmcKeyFlag.Readable) === 0) return errors.keyNotReadable;
    else data = read ? hook(e, () => read(context(e))) : e.value.slice();
    if (typeof data === 'number') return data === SmcResult.Success ? new Uint8Array(0) : data;
    // ML reads strings with a 255-byte request and gets the key's own size back; a request
    // shorter than the data is refused [inferred].
    if (want < data.length) return errors.sizeMismatch;
    return data;
  }

  /** Answer a read: ≤ 4 bytes inline, more through shared memory; SIZE = data size. */
  function answerRead(want: number, data: Uint8Array | number): Answer {
    if (typeof data === 'number') return fail(data);
    // Hosts decide inline-vs-shmem by the size they asked for (ML `rsize <= 4`, m1n1-Py
    // `size <= 4`), so a large request for small data is served both ways [inferred].
    if ((data.length > 4 || want > 4) && !shmemWrite(data)) return fail(errors.noShmem);
    const value = data.length <= 4 ? inlineValue(data) : 0;
    return { result: SmcResult.Success, size: data.length, value };
  }

  function readKey(e: Entry, size: number): Answer {
    return answerRead(size, readData(e, size));
  }

  function writeKey(e: Entry, size: number): Answer {
    const { def } = e;
    if ((def.flags & SmcKeyFlag.Writable) === 0) return fail(errors.keyNotWritable);
    if (size !== def.size) return fail(errors.sizeMismatch);
    const data = shmemRead(size);
    if (data === undefined) return fail(errors.noShmem);
    const { write } = def;
    const r = write ? hook(e, () => write(data, context(e))) : undefined;
    if (typeof r === 'number') return r === SmcResult.Success ? OK : fail(r);
    const stored = r ?? data;
    if (stored.length !== def.size) return fail(SmcResult.Error);
    e.value = stored.slice();
    return OK;
  }

  function rwKey(e: Entry, size: number, wsize: number): Answer {
    const input = wsize > 0 ? shmemRead(wsize) : new Uint8Array(0);
    if (input === undefined) return fail(errors.noShmem);
    // Plain keys ignore the payload and read [inferred]; function keys run their handler.
    return answerRead(size, readData(e, size, e.def.rw ? input : undefined));
  }

  function keyByIndex(index: number): Answer {
    const e = entries[index];
    if (e === undefined) return fail(errors.indexOutOfRange);
    // The key's characters as data bytes, so VALUE is the little-endian u32 ML swab32s.
    const chars = new Uint8Array(4);
    for (let i = 0; i < 4; i++) chars[i] = e.def.key.charCodeAt(i);
    return { result: SmcResult.Success, size: 0, value: inlineValue(chars) };
  }

  function keyInfo(e: Entry): Answer {
    const { def } = e;
    const info = new Uint8Array(6);
    info[0] = def.size;
    for (let i = 0; i < 4; i++) info[1 + i] = def.type.charCodeAt(i);
    info[5] = def.flags;
    return shmemWrite(info) ? OK : fail(errors.noShmem);
  }

  /** The answer to a command that needs an initialised SMC. */
  function command(m: KeyCommand): Answer {
    if (m.kind === 'smcGetKeyByIndex') return keyByIndex(m.index);
    const e = byKey.get(m.key);
    if (e === undefined) return fail(errors.keyNotFound);
    switch (m.kind) {
      case 'smcReadKey':
        return readKey(e, m.size);
      case 'smcWriteKey':
        return writeKey(e, m.size);
      case 'smcGetKeyInfo':
        return keyInfo(e);
      default:
        return rwKey(e, m.size, m.wsize);
    }
  }

  function initialize(f: FirmwareServices): void {
    placeShmem(f);
    initialized = true;
    // The first word on 0x20 is the raw address, not a reply; without SRAM we announce 0,
    // which ML refuses ("RTKit wants a RAM buffer") instead of timing out.
    f.send(ep, encode({ kind: 'smcShmemAddress', address: shmem?.address ?? 0 }));
  }

  function reply(f: FirmwareServices, id: number, a: Answer): void {
    f.send(ep, encode({ kind: 'smcReply', result: a.result, id, size: a.size, value: a.value }));
  }

  function message(msg: bigint): void {
    const f = fw;
    if (f === undefined || crashed) return;
    if (typeof msg !== 'bigint' || msg < 0n || msg > 0xffff_ffff_ffff_ffffn) {
      f.violation(SmcViolation.UnknownCommand, `not a 64-bit word: ${String(msg)}`);
      return;
    }
    const m = decode(ep, msg, CTX);
    switch (m.kind) {
      case 'smcInitialize':
      case 'smcReadKey':
      case 'smcWriteKey':
      case 'smcGetKeyInfo':
      case 'smcRwKey':
      case 'smcGetKeyByIndex':
        if (m.reserved !== undefined) {
          // The firmware does not look at these bits [inferred]; flag the host and carry on.
          f.violation(
            SmcViolation.ReservedBits,
            `SMC command ${hexWord(msg)} has reserved bits set`,
          );
        }
        if (m.kind === 'smcInitialize') {
          initialize(f);
        } else if (!initialized) {
          f.violation(
            SmcViolation.NotInitialized,
            `SMC ${m.kind} before INITIALIZE (${hexWord(msg)})`,
          );
          reply(f, m.id, fail(errors.notInitialized));
        } else {
          const a = command(m);
          if (!crashed) reply(f, m.id, a);
        }
        break;
      default: {
        const { hi, lo } = splitWord(msg);
        const type = SmcField.MSG.get(hi, lo);
        f.violation(
          SmcViolation.UnknownCommand,
          `SMC MSG 0x${type.toString(16)} is not a command (${hexWord(msg)})`,
        );
        reply(f, SmcField.ID.get(hi, lo), fail(errors.badCommand));
      }
    }
  }

  function notify(event: number, subcode: number, data: number): boolean {
    const f = fw;
    // Before the address went out, a notification would be taken for it (ML boot stage).
    if (f === undefined || crashed || !initialized || !notificationsEnabled()) return false;
    f.send(ep, encode({ kind: 'smcNotification', event, subcode, data }));
    return true;
  }

  function notificationsEnabled(): boolean {
    return ntap !== undefined && ntap.value[0] !== 0;
  }

  return {
    ep,
    name: 'SMC',
    keys: table,
    start(f) {
      fw = f;
      initialized = false;
      crashed = false;
      shmem = undefined;
    },
    // Key values (NTAP included) live on: the SMC keeps running while the AP stops its endpoint.
    stop() {
      fw = undefined;
      initialized = false;
      shmem = undefined;
    },
    message,
    notify,
    get notificationsEnabled() {
      return notificationsEnabled();
    },
    get initialized() {
      return initialized;
    },
    get shmemAddress() {
      return shmem?.address;
    },
    keyValue(key) {
      return entryOf(key)?.value.slice();
    },
    setKeyValue(key, bytes) {
      const e = entryOf(key);
      if (e === undefined || bytes.length !== e.def.size) return false;
      e.value = bytes.slice();
      return true;
    },
  };
}
