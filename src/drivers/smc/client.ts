/**
 * The SMC client: what a driver uses to talk to the System Management Controller on application
 * endpoint 0x20 once the RTKit session has booted it and started the endpoint (PROTOCOL.md §9).
 *
 * ```
 *  driver code        client.read('B0AV') / write('F0Tg', 3000) / onNotification(...)
 *  SmcClient          key info cache, typed values, one command at a time, 4-bit IDs, timeouts
 *  EndpointHandle     request(word, match) / onMessage(fn)          (host/types.ts)
 *  SramAccess         the shared buffer inside the SMC's SRAM window  (host/types.ts, §6.4)
 * ```
 *
 * Protocol, as ML (`drivers/mfd/macsmc.c`) runs it: INITIALIZE with ID 0; the first SMC→AP word
 * is the shared buffer's address (validated against the SRAM window, size assumed 0x1000); then
 * one command at a time, the 4-bit ID incremented before each (first command ID 1), the reply
 * matched on ID, 500 ms per command. Data of up to 4 bytes travels inline in VALUE (byte 0 =
 * bits [39:32]); larger data through the shared buffer, at most 255 bytes. Every word is read and
 * built with the protocol codec.
 */

import { type Clock, systemClock, type TimerHandle } from '../../clock.js';
import { isRtkitError, RtkitError } from '../../errors.js';
import type { EndpointHandle, SramAccess } from '../../host/types.js';
import { decode, encode, fourccToU32, hex64Of, type Message } from '../../protocol/index.js';
import { SmcErrorCode, smcResultError } from './errors.js';
import { classifyNotification, type SmcNotification } from './notifications.js';
import {
  type ByteOrder,
  DEFAULT_BIG_ENDIAN_KEYS,
  type SmcValue,
  type SmcValueInput,
  smcValueFromBytes,
  smcValueToBytes,
} from './values.js';

export const SMC_ENDPOINT = 0x20;
/** ML `SMC_RECV_TIMEOUT`-style per-command timeout: 500 ms. */
export const SMC_DEFAULT_TIMEOUT_MS = 500;
/** ML: "We don't actually know the true size here but this seem reasonable". */
export const SMC_SHMEM_SIZE = 0x1000;
/** Largest data of one command (8-bit SIZE / WSIZE fields; ML's limit). */
export const SMC_MAX_DATA = 255;
/** Data up to this size travels inline in VALUE. */
export const SMC_INLINE_MAX = 4;
/** listKeys() refuses a `#KEY` larger than this unless told otherwise (real SMCs: ~1400–2300). */
export const SMC_DEFAULT_KEY_LIMIT = 0x10000;

/** GET_KEY_INFO flags named by ML (`include/linux/mfd/macsmc.h`). */
export const SmcKeyFlag = {
  Readable: 0x80,
  Writable: 0x40,
  /** A firmware handler serves the key (function key). */
  Function: 0x10,
} as const;

/** GET_KEY_INFO: 6 bytes in the shared buffer, `u8 size, char type[4], u8 flags` (§9.1). */
export interface SmcKeyInfo {
  readonly key: string;
  readonly size: number;
  /** Four characters, e.g. `'ui16'`, `'flt '`, `'ch8*'`. */
  readonly type: string;
  readonly flags: number;
  readonly readable: boolean;
  readonly writable: boolean;
  /** Flag 0x10 (ML `APPLE_SMC_FUNCTION`). */
  readonly functionKey: boolean;
}

export interface SmcClientOptions {
  /** The SMC's SRAM window; the shared buffer must lie inside it (§6.4). */
  readonly sram: SramAccess;
  /** Per-command timeout in ms. Default 500 (ML). */
  readonly timeoutMs?: number;
  /** Default: real time. */
  readonly clock?: Clock;
  /** Size assumed for the shared buffer. Default 0x1000 (ML; the SMC does not say). */
  readonly shmemSize?: number;
  /** Keys whose numeric values are big-endian. Default `DEFAULT_BIG_ENDIAN_KEYS`. */
  readonly bigEndianKeys?: Iterable<string>;
}

export interface SmcCallOptions {
  /** Overrides the client's per-command timeout for the commands of this call. */
  readonly timeoutMs?: number;
  /** Abort: a queued command is dropped, a running one abandoned (its ID is then stale). */
  readonly signal?: AbortSignal;
}

export interface SmcListOptions extends SmcCallOptions {
  /** Refuse a key count above this (SMC_BAD_REPLY). Default 0x10000. */
  readonly limit?: number;
}

/** Firmware misbehaviour the client survives (STYLE.md: a warning with the raw word). */
export interface SmcWarning {
  readonly code:
    | 'SMC_LATE_REPLY'
    | 'SMC_STRAY_REPLY'
    | 'SMC_UNEXPECTED_WORD'
    | 'SMC_LISTENER_FAILED'
    | 'SMC_CLOSE_FAILED';
  readonly message: string;
  readonly word?: bigint;
  readonly cause?: unknown;
}

type Reply = Extract<Message, { kind: 'smcReply' }>;

interface Command {
  readonly kind: 'smcReadKey' | 'smcWriteKey' | 'smcGetKeyInfo' | 'smcRwKey' | 'smcGetKeyByIndex';
  /** Protocol name for messages (READ_KEY, ...). */
  readonly name: string;
  readonly key?: string;
  /** DATA: the key as a big-endian u32, or the index. */
  readonly data: number;
  readonly size: number;
  readonly wsize: number;
  /** Written to the shared buffer before the command (§6.5 M7). */
  readonly input?: Uint8Array;
}

interface Inflight {
  readonly id: number;
  readonly command: Command;
  alive: boolean;
}

interface Job {
  run(): Promise<void>;
}

type State = 'opening' | 'open' | 'closing' | 'closed';

const MAX_U64 = 0xffff_ffff_ffff_ffffn;
const KEY_INFO_SIZE = 6;

function bad(message: string, details: Record<string, unknown> = {}): RtkitError {
  return new RtkitError(SmcErrorCode.BadInput, message, details);
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** The key's u32; BAD_INPUT unless it is 4 characters of 8 bits. */
function keyU32(key: unknown): number {
  if (typeof key !== 'string' || key.length !== 4 || !/^[\x00-\xff]{4}$/.test(key)) {
    throw bad(`an SMC key is 4 characters: ${JSON.stringify(key)}`);
  }
  return fourccToU32(key);
}

function checkDataSize(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > SMC_MAX_DATA) {
    throw bad(`${what} must be an integer in 0..${SMC_MAX_DATA}: ${String(n)}`);
  }
  return n;
}

function checkTimeout(ms: unknown, what: string): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
    throw bad(`${what} must be a positive number of milliseconds: ${String(ms)}`);
  }
  return ms;
}

function checkBytes(data: unknown, what: string): Uint8Array {
  if (!(data instanceof Uint8Array)) throw bad(`${what} must be a Uint8Array`);
  checkDataSize(data.length, `${what}.length`);
  return data;
}

/** Decode an SMC→AP word; undefined for something that is not a 64-bit word at all. */
function decodeWord(w: unknown, shmemPending: boolean): Message | undefined {
  if (typeof w !== 'bigint' || w < 0n || w > MAX_U64) return undefined;
  return decode(SMC_ENDPOINT, w, { dir: 'iop->ap', coproc: 'smc', smcShmemPending: shmemPending });
}

function shownWord(w: unknown): string {
  return typeof w === 'bigint' && w >= 0n && w <= MAX_U64 ? hex64Of(w) : String(w);
}

/** Up to 4 bytes of VALUE: byte 0 of the data = bits [39:32] (§9.2). */
function inlineBytes(value: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (value >>> (8 * i)) & 0xff;
  return out;
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

function abortedError(reason: unknown, what: string): RtkitError {
  return new RtkitError(SmcErrorCode.Aborted, `${what} aborted`, {}, { cause: reason });
}

/** Errors from the endpoint keep their code; anything untyped is wrapped. */
function fromEndpoint(e: unknown, what: string): RtkitError {
  if (isRtkitError(e)) return e;
  return new RtkitError(SmcErrorCode.EndpointFailed, `${what}: endpoint failed`, {}, { cause: e });
}

function fromSram(e: unknown, what: string): RtkitError {
  if (isRtkitError(e)) return e;
  return new RtkitError(SmcErrorCode.ShmemAccess, `${what}: SRAM access failed`, {}, { cause: e });
}

function describe(cmd: Command): string {
  return cmd.key !== undefined
    ? `SMC ${cmd.name} ${JSON.stringify(cmd.key)}`
    : `SMC ${cmd.name} ${cmd.data}`;
}

/**
 * A client of the SMC endpoint. Create it with `SmcClient.open(endpoint, { sram })`. Every method
 * is queued as one unit, so calls may overlap freely: they run one at a time, in call order, and
 * only one command is ever outstanding (as ML's mutex).
 */
export class SmcClient {
  readonly ep: number;
  readonly shmemSize: number;

  private readonly endpoint: EndpointHandle;
  private readonly sram: SramAccess;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly bigEndian: ReadonlySet<string>;
  private readonly infoCache = new Map<string, SmcKeyInfo>();
  private readonly notificationListeners = new Set<(n: SmcNotification) => void>();
  private readonly warningListeners = new Set<(w: SmcWarning) => void>();
  private readonly queue: Job[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  /** IDs of abandoned commands whose reply may still come (reported, never matched). */
  private readonly stale = new Set<number>();
  private unsubscribe: (() => void) | undefined;
  private state: State = 'opening';
  private closing: Promise<void> | undefined;
  private busy = false;
  /** Public operations in progress. */
  private active = 0;
  private id = 0;
  private inflight: Inflight | undefined;
  private ntapSet = false;
  private shmem = 0;

  private constructor(
    endpoint: EndpointHandle,
    opts: {
      sram: SramAccess;
      clock: Clock;
      timeoutMs: number;
      shmemSize: number;
      bigEndian: ReadonlySet<string>;
    },
  ) {
    this.endpoint = endpoint;
    this.ep = endpoint.ep;
    this.sram = opts.sram;
    this.clock = opts.clock;
    this.timeoutMs = opts.timeoutMs;
    this.shmemSize = opts.shmemSize;
    this.bigEndian = opts.bigEndian;
  }

  /**
   * Send INITIALIZE (ID 0), take the first SMC→AP word as the shared buffer's address and check
   * that `shmemSize` bytes from it lie inside the SRAM window (§9.3 step 2, §6.4). Rejects
   * BAD_INPUT for bad options, SMC_SHMEM_INVALID for an unusable address, TIMEOUT when nothing
   * comes within the timeout, and passes the endpoint's own errors through.
   */
  static async open(endpoint: EndpointHandle, opts: SmcClientOptions): Promise<SmcClient> {
    const o = resolveOptions(endpoint, opts);
    const client = new SmcClient(endpoint, o);
    // Listen before INITIALIZE so that nothing the SMC sends is lost.
    client.unsubscribe = endpoint.onMessage((w) => client.onWord(w));
    try {
      const address = await client.withDeadline('SMC INITIALIZE', {}, (signal, timeoutMs) =>
        client.initialize(signal, timeoutMs),
      );
      client.shmem = address;
      client.state = 'open';
      return client;
    } catch (e) {
      client.detach();
      throw e;
    }
  }

  /** Device address of the shared buffer, as the SMC announced it. */
  get shmemAddress(): number {
    return this.shmem;
  }

  /** True once close() has started. */
  get closed(): boolean {
    return this.state === 'closing' || this.state === 'closed';
  }

  /** NTAP = 1 was written by this client and not undone. */
  get notificationsEnabled(): boolean {
    return this.ntapSet;
  }

  // -------------------------------------------------------------------------------------------
  // Commands. Each public method is one operation, queued as a unit: its commands (key info, then
  // the read or write) run together and in call order. close() waits for operations already
  // started.

  /**
   * READ_KEY: the key's bytes. `size` defaults to the key's size from GET_KEY_INFO (cached). The
   * SMC may return fewer bytes than asked for (ML asks 255 for strings); more is SMC_BAD_REPLY.
   */
  readKey(key: string, size?: number, opts: SmcCallOptions = {}): Promise<Uint8Array> {
    return this.op('readKey', opts, () => this.doReadKey(key, size, opts));
  }

  /** WRITE_KEY: the bytes go into the shared buffer first, then the command (SIZE = length). */
  writeKey(key: string, bytes: Uint8Array, opts: SmcCallOptions = {}): Promise<void> {
    return this.op('writeKey', opts, () => this.doWriteKey(key, bytes, opts));
  }

  /**
   * RW_KEY: write `bytes` (WSIZE) and read `readSize` bytes in one command, for function keys
   * such as the GPIO keys (a payload selects what to read).
   */
  rwKey(
    key: string,
    bytes: Uint8Array,
    readSize: number,
    opts: SmcCallOptions = {},
  ): Promise<Uint8Array> {
    return this.op('rwKey', opts, () => this.doRwKey(key, bytes, readSize, opts));
  }

  /** GET_KEY_INFO, cached per key (key metadata does not change while the SMC runs). */
  getKeyInfo(key: string, opts: SmcCallOptions = {}): Promise<SmcKeyInfo> {
    return this.op('getKeyInfo', opts, () => this.doGetKeyInfo(key, opts));
  }

  /**
   * GET_KEY_BY_INDEX: the index-th key in the SMC's order. VALUE carries the key's characters
   * as little-endian data (§9.3 step 5: ML `swab32`s it, m1n1-Py reads it little-endian).
   */
  getKeyByIndex(index: number, opts: SmcCallOptions = {}): Promise<string> {
    return this.op('getKeyByIndex', opts, () => this.doGetKeyByIndex(index, opts));
  }

  /** `#KEY`: the number of keys, a big-endian u32 (ML `be32_to_cpu`). */
  keyCount(opts: SmcCallOptions = {}): Promise<number> {
    return this.op('keyCount', opts, () => this.doKeyCount(opts));
  }

  /**
   * Every key, by index 0 .. `#KEY` − 1 (one command per key; other callers' commands may run
   * in between).
   */
  listKeys(opts: SmcListOptions = {}): Promise<string[]> {
    return this.opSteps('listKeys', async (queued) => {
      const limit = opts.limit ?? SMC_DEFAULT_KEY_LIMIT;
      if (!Number.isInteger(limit) || limit < 0) throw bad('limit must be an integer >= 0');
      const count = await queued(opts.signal, () => this.doKeyCount(opts));
      if (count > limit) {
        throw new RtkitError(SmcErrorCode.BadReply, `#KEY says ${count} keys, above ${limit}`, {
          count,
          limit,
        });
      }
      const keys: string[] = [];
      for (let i = 0; i < count; i++) {
        keys.push(await queued(opts.signal, () => this.doGetKeyByIndex(i, opts)));
      }
      return keys;
    });
  }

  /**
   * The key's value decoded by its type (GET_KEY_INFO, cached, then READ_KEY of its size); byte
   * order per key (`bigEndianKeys`).
   */
  read(key: string, opts: SmcCallOptions = {}): Promise<SmcValue> {
    return this.op('read', opts, async () => {
      const info = await this.doGetKeyInfo(key, opts);
      const bytes = await this.doReadKey(key, info.size, opts);
      return smcValueFromBytes(info.type, bytes, this.byteOrder(key));
    });
  }

  /** Encode `value` by the key's type and size (BAD_INPUT if it does not fit), then WRITE_KEY. */
  write(key: string, value: SmcValueInput, opts: SmcCallOptions = {}): Promise<void> {
    return this.op('write', opts, async () => {
      const info = await this.doGetKeyInfo(key, opts);
      const bytes = smcValueToBytes(info.type, value, info.size, this.byteOrder(key));
      return this.doWriteKey(key, bytes, opts);
    });
  }

  /** Write `NTAP` = 1: the SMC then sends notifications (ML does this after INITIALIZE). */
  enableNotifications(opts: SmcCallOptions = {}): Promise<void> {
    return this.op('enableNotifications', opts, async () => {
      await this.doWriteKey('NTAP', new Uint8Array([1]), opts);
      this.ntapSet = true;
    });
  }

  /** Write `NTAP` = 0. */
  disableNotifications(opts: SmcCallOptions = {}): Promise<void> {
    return this.op('disableNotifications', opts, async () => {
      await this.doWriteKey('NTAP', new Uint8Array([0]), opts);
      this.ntapSet = false;
    });
  }

  /** Forget cached key info (e.g. after the SMC was restarted with other firmware). */
  clearKeyInfoCache(): void {
    this.infoCache.clear();
  }

  /** Byte order the client uses for a key's numeric value. */
  byteOrder(key: string): ByteOrder {
    return this.bigEndian.has(key) ? 'be' : 'le';
  }

  // -------------------------------------------------------------------------------------------
  // Events.

  /** Notifications (RESULT 0x18 words), in arrival order. Returns the unsubscribe function. */
  onNotification(fn: (n: SmcNotification) => void): () => void {
    this.notificationListeners.add(fn);
    return () => {
      this.notificationListeners.delete(fn);
    };
  }

  /** Late or stray replies and other words the client survives. */
  onWarning(fn: (w: SmcWarning) => void): () => void {
    this.warningListeners.add(fn);
    return () => {
      this.warningListeners.delete(fn);
    };
  }

  /**
   * Stop: new calls reject SMC_CLOSED, operations already started still run (each command
   * bounded by its timeout),
   * NTAP = 0 is written if this client enabled notifications (ML does so on removal; a failure
   * is a warning), then the client stops listening. Never rejects; idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  // -------------------------------------------------------------------------------------------
  // Internals.

  private async shutdown(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closing';
    await this.whenIdle();
    if (this.ntapSet) {
      try {
        await this.enqueue(
          () => this.doWriteKey('NTAP', new Uint8Array([0]), {}),
          undefined,
          'SMC close',
        );
        this.ntapSet = false;
      } catch (e) {
        this.warn({ code: 'SMC_CLOSE_FAILED', message: 'writing NTAP = 0 failed', cause: e });
      }
    }
    this.detach();
  }

  private detach(): void {
    this.state = 'closed';
    const u = this.unsubscribe;
    this.unsubscribe = undefined;
    u?.();
  }

  /**
   * One public operation: refused once close() started, counted so that close() can wait for
   * it, and run as one unit of the queue (all its commands together, in call order).
   */
  private op<T>(what: string, opts: SmcCallOptions, fn: () => Promise<T>): Promise<T> {
    return this.opSteps(what, (queued) => queued(opts.signal, fn));
  }

  /** An operation made of several queue units (listKeys: others may run in between). */
  private async opSteps<T>(
    what: string,
    body: (
      queued: <U>(signal: AbortSignal | undefined, fn: () => Promise<U>) => Promise<U>,
    ) => Promise<T>,
  ): Promise<T> {
    if (this.state !== 'open') {
      throw new RtkitError(SmcErrorCode.Closed, `SMC ${what}: the client is closed`);
    }
    this.active++;
    try {
      return await body((signal, fn) => this.enqueue(fn, signal, `SMC ${what}`));
    } finally {
      this.active--;
      if (this.active === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private whenIdle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async doReadKey(
    key: string,
    size: number | undefined,
    opts: SmcCallOptions,
  ): Promise<Uint8Array> {
    const data = keyU32(key);
    const want =
      size === undefined
        ? (await this.doGetKeyInfo(key, opts)).size
        : checkDataSize(size, 'readKey size');
    const cmd: Command = { kind: 'smcReadKey', name: 'READ_KEY', key, data, size: want, wsize: 0 };
    return this.transaction(cmd, opts, (reply) => this.readResult(cmd, reply));
  }

  private async doWriteKey(key: string, bytes: Uint8Array, opts: SmcCallOptions): Promise<void> {
    const data = keyU32(key);
    checkBytes(bytes, 'writeKey bytes');
    const cmd: Command = {
      kind: 'smcWriteKey',
      name: 'WRITE_KEY',
      key,
      data,
      size: bytes.length,
      wsize: 0,
      input: bytes.slice(),
    };
    // Reply SIZE is not checked: the real SMC answers 0 (ML callers treat non-zero as failure),
    // QEMU echoes the length (docs/sim-smc.md).
    await this.transaction(cmd, opts, () => undefined);
  }

  private async doRwKey(
    key: string,
    bytes: Uint8Array,
    readSize: number,
    opts: SmcCallOptions,
  ): Promise<Uint8Array> {
    const data = keyU32(key);
    checkBytes(bytes, 'rwKey bytes');
    const size = checkDataSize(readSize, 'rwKey readSize');
    const cmd: Command = {
      kind: 'smcRwKey',
      name: 'RW_KEY',
      key,
      data,
      size,
      wsize: bytes.length,
      input: bytes.slice(),
    };
    return this.transaction(cmd, opts, (reply) => this.readResult(cmd, reply));
  }

  private async doGetKeyInfo(key: string, opts: SmcCallOptions): Promise<SmcKeyInfo> {
    const data = keyU32(key);
    const cached = this.infoCache.get(key);
    if (cached !== undefined) return cached;
    const cmd: Command = {
      kind: 'smcGetKeyInfo',
      name: 'GET_KEY_INFO',
      key,
      data,
      size: 0,
      wsize: 0,
    };
    const info = await this.transaction(cmd, opts, async (_reply, signal) => {
      const b = await this.shmemRead(KEY_INFO_SIZE, cmd, signal);
      const flags = b[5]!;
      return {
        key,
        size: b[0]!,
        type: latin1(b.subarray(1, 5)),
        flags,
        readable: (flags & SmcKeyFlag.Readable) !== 0,
        writable: (flags & SmcKeyFlag.Writable) !== 0,
        functionKey: (flags & SmcKeyFlag.Function) !== 0,
      } satisfies SmcKeyInfo;
    });
    this.infoCache.set(key, info);
    return info;
  }

  private async doGetKeyByIndex(index: number, opts: SmcCallOptions): Promise<string> {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 0xffff_ffff) {
      throw bad(`key index must be a u32: ${String(index)}`);
    }
    const cmd: Command = {
      kind: 'smcGetKeyByIndex',
      name: 'GET_KEY_BY_INDEX',
      data: index,
      size: 0,
      wsize: 0,
    };
    return this.transaction(cmd, opts, (reply) => latin1(inlineBytes(reply.value, 4)));
  }

  private async doKeyCount(opts: SmcCallOptions): Promise<number> {
    const b = await this.doReadKey('#KEY', 4, opts);
    if (b.length !== 4) {
      throw new RtkitError(SmcErrorCode.BadReply, `#KEY returned ${b.length} bytes, not 4`, {
        key: '#KEY',
        size: b.length,
      });
    }
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, false);
  }

  private async initialize(signal: AbortSignal, timeoutMs: number): Promise<number> {
    const word = encode({ kind: 'smcInitialize', id: 0 });
    let w: bigint;
    try {
      // The first word after INITIALIZE is the address (§9.3 step 2), whatever it looks like.
      w = await this.endpoint.request(word, () => true, { timeoutMs, signal });
    } catch (e) {
      throw fromEndpoint(e, 'SMC INITIALIZE');
    }
    const m = decodeWord(w, true);
    const sram = this.sram;
    const details = {
      word: shownWord(w),
      size: this.shmemSize,
      sramBase: sram.base,
      sramSize: sram.size,
    };
    if (m?.kind !== 'smcShmemAddress') {
      throw new RtkitError(
        SmcErrorCode.ShmemInvalid,
        `first SMC word ${shownWord(w)} is not a shared-memory address`,
        details,
      );
    }
    const address = m.address;
    if (address === 0) {
      // ML: "RTKit wants a RAM buffer".
      throw new RtkitError(SmcErrorCode.ShmemInvalid, 'SMC announced shared memory at 0', {
        ...details,
        address,
      });
    }
    // Address ≤ 2^52 and size ≤ 2^32: the sum is exact; still checked, as ML checks overflow.
    const end = address + this.shmemSize - 1;
    const windowEnd = sram.base + sram.size - 1;
    if (!Number.isSafeInteger(end) || address < sram.base || end > windowEnd) {
      throw new RtkitError(
        SmcErrorCode.ShmemInvalid,
        `shared memory [${hex(address)}, ${hex(end)}] is outside the SRAM window ` +
          `[${hex(sram.base)}, ${hex(windowEnd)}]`,
        { ...details, address },
      );
    }
    this.id = 0;
    return address;
  }

  /**
   * One command with its shared-memory traffic, bounded by the timeout. Runs inside a queued
   * operation, so nothing else touches the shared buffer meanwhile.
   */
  private transaction<T>(
    cmd: Command,
    opts: SmcCallOptions,
    finish: (reply: Reply, signal: AbortSignal) => T | Promise<T>,
  ): Promise<T> {
    if (opts.timeoutMs !== undefined) checkTimeout(opts.timeoutMs, 'timeoutMs');
    const shmemNeeded = Math.max(cmd.input?.length ?? 0, cmd.size > SMC_INLINE_MAX ? cmd.size : 0);
    if (shmemNeeded > this.shmemSize) {
      throw bad(
        `${describe(cmd)} needs ${shmemNeeded} bytes of shared memory, have ${this.shmemSize}`,
      );
    }
    return this.withDeadline(describe(cmd), opts, async (signal, timeoutMs) => {
      if (cmd.input !== undefined && cmd.input.length > 0) {
        await this.shmemWrite(cmd.input, cmd, signal);
      }
      const reply = await this.roundTrip(cmd, signal, timeoutMs);
      return finish(reply, signal);
    });
  }

  private enqueue<T>(
    task: () => Promise<T>,
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<T> {
    // Operations started before close() still run (and close() writes NTAP = 0 through here).
    if (this.state === 'closed' || this.state === 'opening') {
      return Promise.reject(new RtkitError(SmcErrorCode.Closed, `${what}: the client is closed`));
    }
    if (signal?.aborted) return Promise.reject(abortedError(signal.reason, what));
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.queue.indexOf(job);
        if (i < 0) return;
        this.queue.splice(i, 1);
        reject(abortedError(signal?.reason, what));
      };
      const job: Job = {
        run: async () => {
          signal?.removeEventListener('abort', onAbort);
          try {
            resolve(await task());
          } catch (e) {
            reject(e);
          }
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(job);
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) {
        await job.run();
      }
    } finally {
      this.busy = false;
    }
  }

  /**
   * Run `body` with a deadline on the client's clock and the caller's signal. On either, the
   * command in flight is abandoned (its ID goes stale) and the body's signal aborts.
   */
  private withDeadline<T>(
    what: string,
    opts: SmcCallOptions,
    body: (signal: AbortSignal, timeoutMs: number) => Promise<T>,
  ): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const external = opts.signal;
    const ac = new AbortController();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let timer: TimerHandle | undefined;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) this.clock.clearTimer(timer);
        external?.removeEventListener('abort', onAbort);
        fn();
      };
      const fail = (err: RtkitError): void => {
        settle(() => {
          this.abandon();
          ac.abort(err);
          reject(err);
        });
      };
      const onAbort = (): void => fail(abortedError(external?.reason, what));
      if (external?.aborted) {
        onAbort();
        return;
      }
      external?.addEventListener('abort', onAbort, { once: true });
      timer = this.clock.setTimer(timeoutMs, () => {
        const f = this.inflight;
        fail(
          new RtkitError(SmcErrorCode.Timeout, `${what}: no reply within ${timeoutMs} ms`, {
            step: 'smc',
            timeoutMs,
            ...(f !== undefined ? { id: f.id } : {}),
            ...(f?.command.key !== undefined ? { key: f.command.key } : {}),
          }),
        );
      });
      let p: Promise<T>;
      try {
        p = body(ac.signal, timeoutMs);
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then(
        (v) => settle(() => resolve(v)),
        (e) => settle(() => reject(isRtkitError(e) ? e : fromEndpoint(e, what))),
      );
    });
  }

  /** Give up on the command in flight: its reply, if it still comes, is reported as late. */
  private abandon(): void {
    const f = this.inflight;
    if (f === undefined) return;
    f.alive = false;
    this.stale.add(f.id);
    this.inflight = undefined;
  }

  /** Send one command and wait for its reply; checks the ID and the result. */
  private async roundTrip(cmd: Command, signal: AbortSignal, timeoutMs: number): Promise<Reply> {
    if (signal.aborted) throw signal.reason;
    // ML increments before each command, so the first command after INITIALIZE (ID 0) is ID 1.
    this.id = (this.id + 1) & 0xf;
    const id = this.id;
    this.stale.delete(id);
    const word =
      cmd.kind === 'smcGetKeyByIndex'
        ? encode({ kind: cmd.kind, id, size: cmd.size, wsize: cmd.wsize, index: cmd.data })
        : encode({ kind: cmd.kind, id, size: cmd.size, wsize: cmd.wsize, key: cmd.data });
    const flight: Inflight = { id, command: cmd, alive: true };
    this.inflight = flight;
    // Any reply except one to an abandoned command; notifications go to onMessage.
    const match = (w: bigint): boolean => {
      if (!flight.alive) return false;
      const m = decodeWord(w, false);
      return m?.kind === 'smcReply' && !this.stale.has(m.id);
    };
    let w: bigint;
    try {
      w = await this.endpoint.request(word, match, { timeoutMs, signal });
    } catch (e) {
      if (this.inflight === flight) this.abandon();
      throw fromEndpoint(e, describe(cmd));
    }
    flight.alive = false;
    if (this.inflight === flight) this.inflight = undefined;
    const m = decodeWord(w, false);
    if (m?.kind !== 'smcReply') {
      throw new RtkitError(
        SmcErrorCode.BadReply,
        `${describe(cmd)}: ${shownWord(w)} is not a reply`,
        {
          word: shownWord(w),
        },
      );
    }
    if (m.id !== id) {
      // ML: "Command sequence mismatch". Our own reply may still come: report it as late.
      this.stale.add(id);
      throw new RtkitError(
        SmcErrorCode.IdMismatch,
        `${describe(cmd)}: reply has ID ${m.id}, expected ${id} (command sequence mismatch)`,
        { expected: id, got: m.id, word: shownWord(w), ...(cmd.key ? { key: cmd.key } : {}) },
      );
    }
    if (m.result !== 0) throw smcResultError(m.result, describe(cmd), cmd.key);
    return m;
  }

  /** Data of READ_KEY / RW_KEY: inline when ≤ 4 bytes were asked for (ML `rsize <= 4`). */
  private async readResult(cmd: Command, reply: Reply): Promise<Uint8Array> {
    if (reply.size > cmd.size) {
      throw new RtkitError(
        SmcErrorCode.BadReply,
        `${describe(cmd)}: reply SIZE ${reply.size} is larger than the ${cmd.size} bytes asked for`,
        { size: reply.size, requested: cmd.size, ...(cmd.key ? { key: cmd.key } : {}) },
      );
    }
    if (cmd.size <= SMC_INLINE_MAX) return inlineBytes(reply.value, reply.size);
    return this.shmemRead(reply.size, cmd, undefined);
  }

  private async shmemWrite(data: Uint8Array, cmd: Command, signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw signal.reason;
    try {
      await this.sram.write(this.shmem, data);
    } catch (e) {
      throw fromSram(e, describe(cmd));
    }
  }

  private async shmemRead(
    len: number,
    cmd: Command,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    if (signal?.aborted) throw signal.reason;
    let b: unknown;
    try {
      b = await this.sram.read(this.shmem, len);
    } catch (e) {
      throw fromSram(e, describe(cmd));
    }
    if (!(b instanceof Uint8Array) || b.length !== len) {
      throw new RtkitError(
        SmcErrorCode.ShmemAccess,
        `${describe(cmd)}: SRAM read of ${len} bytes returned ${b instanceof Uint8Array ? b.length : typeof b}`,
      );
    }
    return b;
  }

  /** Every word the endpoint did not hand to a request: notifications, late and stray replies. */
  private onWord(w: bigint): void {
    const m = decodeWord(w, false);
    if (m?.kind === 'smcNotification') {
      const n = classifyNotification(m.event, m.subcode, m.data, w);
      for (const fn of [...this.notificationListeners]) {
        try {
          fn(n);
        } catch (e) {
          this.warn({
            code: 'SMC_LISTENER_FAILED',
            message: 'a notification listener threw',
            word: w,
            cause: e,
          });
        }
      }
      return;
    }
    if (m?.kind === 'smcReply') {
      if (this.stale.delete(m.id)) {
        this.warn({
          code: 'SMC_LATE_REPLY',
          message: `late reply ${shownWord(w)} to abandoned command ID ${m.id}`,
          word: w,
        });
      } else {
        this.warn({
          code: 'SMC_STRAY_REPLY',
          message: `reply ${shownWord(w)} with ID ${m.id} while no command waits for it`,
          word: w,
        });
      }
      return;
    }
    this.warn({
      code: 'SMC_UNEXPECTED_WORD',
      message: `unexpected word ${shownWord(w)} on the SMC endpoint`,
      ...(typeof w === 'bigint' ? { word: w } : {}),
    });
  }

  private warn(w: SmcWarning): void {
    for (const fn of [...this.warningListeners]) {
      try {
        fn(w);
      } catch {
        // A warning listener that throws has nobody left to tell.
      }
    }
  }
}

function resolveOptions(
  endpoint: EndpointHandle,
  opts: SmcClientOptions,
): {
  sram: SramAccess;
  clock: Clock;
  timeoutMs: number;
  shmemSize: number;
  bigEndian: ReadonlySet<string>;
} {
  if (
    typeof endpoint !== 'object' ||
    endpoint === null ||
    typeof endpoint.request !== 'function' ||
    typeof endpoint.onMessage !== 'function'
  ) {
    throw bad('endpoint must be an EndpointHandle');
  }
  if (typeof opts !== 'object' || opts === null) throw bad('options with sram are required');
  const { sram } = opts;
  if (
    typeof sram !== 'object' ||
    sram === null ||
    typeof sram.read !== 'function' ||
    typeof sram.write !== 'function' ||
    !Number.isSafeInteger(sram.base) ||
    !Number.isSafeInteger(sram.size) ||
    sram.base < 0 ||
    sram.size < 0
  ) {
    throw bad('sram must be a SramAccess with integer base and size');
  }
  const timeoutMs = checkTimeout(opts.timeoutMs ?? SMC_DEFAULT_TIMEOUT_MS, 'timeoutMs');
  const shmemSize = opts.shmemSize ?? SMC_SHMEM_SIZE;
  if (!Number.isInteger(shmemSize) || shmemSize < KEY_INFO_SIZE || shmemSize > 0xffff_ffff) {
    throw bad(`shmemSize must be an integer in ${KEY_INFO_SIZE}..0xffffffff: ${shmemSize}`);
  }
  const clock = opts.clock ?? systemClock;
  if (typeof clock.setTimer !== 'function' || typeof clock.clearTimer !== 'function') {
    throw bad('clock must implement setTimer and clearTimer');
  }
  const bigEndian = new Set<string>();
  for (const k of opts.bigEndianKeys ?? DEFAULT_BIG_ENDIAN_KEYS) {
    keyU32(k);
    bigEndian.add(k);
  }
  return { sram, clock, timeoutMs, shmemSize, bigEndian };
}
