/**
 * m1n1 proxy frames (M1N1-PROXY.md §2–§4): 64-byte requests, 36-byte replies and variable-length
 * events, as plain data. Layouts follow m1n1 `src/uartproxy.c` (`UartRequest`, `UartReply`,
 * `UartEventHdr`). Every 64-bit field is a `bigint` (§13: never round-trip through `Number`).
 *
 * Decoding never throws: a wrong length, prefix or checksum is a `{ ok: false, reason }` result.
 * Encoding throws RtkitError ENCODE_INVALID on values that do not fit their field.
 */

import { ErrorCode, RtkitError } from '../errors.js';
import { DATA_CHECKSUM_DISABLED, m1n1Checksum } from './checksum.js';

/** The type byte (byte 3 of the type word `0xttAA55FF`). m1n1 names: REQ_NOP, REQ_PROXY, … */
export const FrameType = {
  /** REQ_NOP: feature negotiation and ping. */
  Nop: 0x00,
  /** REQ_PROXY: one proxy opcode call. */
  Proxy: 0x01,
  /** REQ_MEMREAD: bulk read; raw data follows the reply. */
  MemRead: 0x02,
  /** REQ_MEMWRITE: bulk write; raw data follows the request. */
  MemWrite: 0x03,
  /** REQ_BOOT: startup/exception notification, device → host only. */
  Boot: 0x04,
  /** REQ_EVENT: hypervisor trace event, device → host only, variable length. */
  Event: 0x05,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** Bytes 0–2 of every frame in both directions. */
export const FRAME_PREFIX: Readonly<Uint8Array> = Uint8Array.of(0xff, 0x55, 0xaa);
export const REQUEST_LENGTH = 64;
export const REPLY_LENGTH = 36;
export const EVENT_HEADER_LENGTH = 8;
/** Event trailer: the checksum after the data. */
export const EVENT_CHECKSUM_LENGTH = 4;

/** Frame-level reply status (`s32`). m1n1: ST_OK, ST_BADCMD, ST_INVAL, ST_XFRERR, ST_CSUMERR. */
export const ReplyStatus = { Ok: 0, BadCmd: -1, Inval: -2, XfrErr: -3, CsumErr: -4 } as const;
export type ReplyStatus = (typeof ReplyStatus)[keyof typeof ReplyStatus];

/** Inner status of a REQ_PROXY reply (`s64`). m1n1: S_OK, S_BADCMD. */
export const ProxyStatus = { Ok: 0n, BadCmd: -1n } as const;

/** REQ_NOP feature bits. m1n1: FEAT_DISABLE_DATA_CSUMS. */
export const Feature = { DisableDataCsums: 1n } as const;

/** REQ_BOOT reasons. m1n1: START_BOOT, START_EXCEPTION, START_EXCEPTION_LOWER, START_HV. */
export const BootReason = { Boot: 0, Exception: 1, ExceptionLower: 2, Hv: 3 } as const;
/** REQ_BOOT codes. m1n1: EXC_SYNC, EXC_IRQ, EXC_FIQ, EXC_SERROR. */
export const ExceptionCode = { Sync: 0, Irq: 1, Fiq: 2, SError: 3 } as const;

/** REQ_EVENT types. m1n1: EVT_MMIOTRACE, EVT_IRQTRACE. */
export const EventType = { MmioTrace: 1, IrqTrace: 2 } as const;

const FRAME_TYPE_NAMES: Record<number, string> = {
  [FrameType.Nop]: 'REQ_NOP',
  [FrameType.Proxy]: 'REQ_PROXY',
  [FrameType.MemRead]: 'REQ_MEMREAD',
  [FrameType.MemWrite]: 'REQ_MEMWRITE',
  [FrameType.Boot]: 'REQ_BOOT',
  [FrameType.Event]: 'REQ_EVENT',
};

/** m1n1's name of a frame type (`REQ_NOP`, …), or `frame type 0x<t>` for an unknown one. */
export function frameTypeName(type: number): string {
  return FRAME_TYPE_NAMES[type] ?? `frame type 0x${type.toString(16)}`;
}

const STATUS_NAMES: Record<number, string> = {
  0: 'OK',
  [-1]: 'BADCMD',
  [-2]: 'INVAL',
  [-3]: 'XFRERR',
  [-4]: 'CSUMERR',
};

/** m1n1's name of a frame status (`OK`, `XFRERR`, …), or `status <n>` for an unknown one. */
export function replyStatusName(status: number): string {
  return STATUS_NAMES[status] ?? `status ${status}`;
}

// ---------------------------------------------------------------------------------------------
// Values

export type ProxyArgs = readonly [bigint, bigint, bigint, bigint, bigint, bigint];

/** A host → device request. `unknown` carries any other type byte (a server answers BADCMD). */
export type M1n1Request =
  | { readonly kind: 'nop'; readonly features: bigint }
  | { readonly kind: 'proxy'; readonly opcode: bigint; readonly args: ProxyArgs }
  | { readonly kind: 'memread'; readonly addr: bigint; readonly size: bigint }
  | {
      readonly kind: 'memwrite';
      readonly addr: bigint;
      readonly size: bigint;
      /** Checksum of the data that follows, or DATA_CHECKSUM_DISABLED. */
      readonly dataChecksum: number;
    }
  | { readonly kind: 'unknown'; readonly type: number; readonly payload: Uint8Array };

/** A device → host reply (or a REQ_BOOT notification). `status` is the frame status. */
export type M1n1Reply =
  | { readonly kind: 'nop'; readonly status: number; readonly features: bigint }
  | {
      readonly kind: 'proxy';
      readonly status: number;
      readonly opcode: bigint;
      /** Inner `s64` status: 0 OK, −1 S_BADCMD (unknown opcode, frame status still OK). */
      readonly proxyStatus: bigint;
      readonly retval: bigint;
    }
  | { readonly kind: 'memread'; readonly status: number; readonly dataChecksum: number }
  | { readonly kind: 'memwrite'; readonly status: number; readonly dataChecksum: number }
  | {
      readonly kind: 'boot';
      readonly status: number;
      readonly reason: number;
      readonly code: number;
      /** Pointer to the exception context (0 for a plain boot). */
      readonly info: bigint;
      readonly reserved: bigint;
    }
  | {
      readonly kind: 'unknown';
      readonly type: number;
      readonly status: number;
      /** The 24 data bytes. */
      readonly data: Uint8Array;
    };

/** A REQ_EVENT (§4). Trace data of the wrong length decodes as `unknown`. */
export type M1n1Event =
  | {
      readonly kind: 'mmiotrace';
      /** width `[4:0]`, write `[5]`, multi `[6]`, SH `[15:14]`, CPU `[23:16]`, attr `[31:24]`. */
      readonly flags: number;
      readonly reserved: number;
      readonly pc: bigint;
      readonly addr: bigint;
      readonly data: bigint;
    }
  | {
      readonly kind: 'irqtrace';
      readonly flags: number;
      readonly irqType: number;
      readonly num: number;
    }
  | { readonly kind: 'unknown'; readonly eventType: number; readonly data: Uint8Array };

/** Why bytes were not a frame: parsers report these on discarded items. */
export type DiscardReason = 'length' | 'prefix' | 'checksum' | 'event-too-long' | 'truncated';

export type Decoded<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: DiscardReason; readonly detail: string };

// ---------------------------------------------------------------------------------------------
// Helpers

const U64_MAX = 0xffff_ffff_ffff_ffffn;

/*
 * Field access without a DataView per frame: constructing one over a small Uint8Array costs
 * ~300 ns in V8 (the array lives on the JS heap and `.buffer` must first move it off), more than
 * the rest of a frame's encoding. 32-bit fields are assembled from bytes; 64-bit fields go
 * through one 8-byte scratch view that lives for the whole process (~20 ns, no bigint
 * arithmetic).
 */
const SCRATCH = new ArrayBuffer(8);
const SCRATCH_VIEW = new DataView(SCRATCH);
const SCRATCH_BYTES = new Uint8Array(SCRATCH);

/** Little-endian u32 at `b[at]`. */
function readU32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

function readI32(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
}

function readU16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

/** Little-endian u32 (or s32: only the low 32 bits are stored) into `b[at]`. */
function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v;
  b[at + 1] = v >>> 8;
  b[at + 2] = v >>> 16;
  b[at + 3] = v >>> 24;
}

function writeU16(b: Uint8Array, at: number, v: number): void {
  b[at] = v;
  b[at + 1] = v >>> 8;
}

function toScratch(b: Uint8Array, at: number): void {
  const s = SCRATCH_BYTES;
  for (let i = 0; i < 8; i++) s[i] = b[at + i]!;
}

function fromScratch(b: Uint8Array, at: number): void {
  const s = SCRATCH_BYTES;
  for (let i = 0; i < 8; i++) b[at + i] = s[i]!;
}

/** Little-endian u64 at `b[at]`. */
function readU64(b: Uint8Array, at: number): bigint {
  toScratch(b, at);
  return SCRATCH_VIEW.getBigUint64(0, true);
}

function readI64(b: Uint8Array, at: number): bigint {
  toScratch(b, at);
  return SCRATCH_VIEW.getBigInt64(0, true);
}

/** Little-endian u64 into `b[at]` (`v` already checked to fit). */
function writeU64(b: Uint8Array, at: number, v: bigint): void {
  SCRATCH_VIEW.setBigUint64(0, v, true);
  fromScratch(b, at);
}

function writeI64(b: Uint8Array, at: number, v: bigint): void {
  SCRATCH_VIEW.setBigInt64(0, v, true);
  fromScratch(b, at);
}

function u64(v: bigint, field: string): bigint {
  if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) {
    throw new RtkitError(ErrorCode.ENCODE_INVALID, `${field} is not a u64: ${String(v)}`, {
      field,
    });
  }
  return v;
}

function s64(v: bigint, field: string): bigint {
  if (typeof v !== 'bigint' || v < -(1n << 63n) || v >= 1n << 63n) {
    throw new RtkitError(ErrorCode.ENCODE_INVALID, `${field} is not an s64: ${String(v)}`, {
      field,
    });
  }
  return v;
}

function uint(v: number, bits: 8 | 16 | 32, field: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 2 ** bits - 1) {
    throw new RtkitError(ErrorCode.ENCODE_INVALID, `${field} is not a u${bits}: ${v}`, { field });
  }
  return v;
}

function s32(v: number, field: string): number {
  if (!Number.isInteger(v) || v < -(2 ** 31) || v > 2 ** 31 - 1) {
    throw new RtkitError(ErrorCode.ENCODE_INVALID, `${field} is not an s32: ${v}`, { field });
  }
  return v;
}

function writeHeader(b: Uint8Array, type: number): void {
  b[0] = 0xff;
  b[1] = 0x55;
  b[2] = 0xaa;
  b[3] = type;
}

function seal(b: Uint8Array): Uint8Array {
  writeU32(b, b.length - 4, m1n1Checksum(b, 0, b.length - 4));
  return b;
}

/** True when `b[at…at+2]` is `FF 55 AA`. */
export function hasPrefix(b: Uint8Array, at = 0): boolean {
  return b[at] === 0xff && b[at + 1] === 0x55 && b[at + 2] === 0xaa;
}

function checkFrame(b: Uint8Array, length: number, what: string): Decoded<never> | undefined {
  if (b.length !== length) {
    return { ok: false, reason: 'length', detail: `${what} is ${b.length} bytes, not ${length}` };
  }
  if (!hasPrefix(b))
    return { ok: false, reason: 'prefix', detail: `${what} does not start FF 55 AA` };
  const want = readU32(b, length - 4);
  const got = m1n1Checksum(b, 0, length - 4);
  if (want !== got) return checksumMismatch(what, want, got);
  return undefined;
}

function checksumMismatch(what: string, want: number, got: number): Decoded<never> {
  const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
  return {
    ok: false,
    reason: 'checksum',
    detail: `${what} checksum ${hex(want)}, computed ${hex(got)}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Requests (64 bytes: type word, 56-byte payload, checksum of bytes 0–59)

/** A REQ_PROXY request; missing arguments are 0. */
export function proxyRequest(opcode: number | bigint, ...args: (number | bigint)[]): M1n1Request {
  if (args.length > 6) {
    throw new RtkitError(ErrorCode.ENCODE_INVALID, `REQ_PROXY takes at most 6 arguments`, {
      count: args.length,
    });
  }
  const a = [0n, 0n, 0n, 0n, 0n, 0n];
  args.forEach((v, i) => {
    a[i] = BigInt(v);
  });
  return { kind: 'proxy', opcode: BigInt(opcode), args: a as unknown as ProxyArgs };
}

export function encodeRequest(req: M1n1Request): Uint8Array {
  const b = new Uint8Array(REQUEST_LENGTH);
  switch (req.kind) {
    case 'nop':
      writeHeader(b, FrameType.Nop);
      writeU64(b, 4, u64(req.features, 'features'));
      break;
    case 'proxy':
      writeHeader(b, FrameType.Proxy);
      writeU64(b, 4, u64(req.opcode, 'opcode'));
      if (req.args.length !== 6) {
        throw new RtkitError(ErrorCode.ENCODE_INVALID, 'REQ_PROXY needs exactly 6 args', {
          count: req.args.length,
        });
      }
      for (let i = 0; i < 6; i++) writeU64(b, 12 + 8 * i, u64(req.args[i]!, `args[${i}]`));
      break;
    case 'memread':
      writeHeader(b, FrameType.MemRead);
      writeU64(b, 4, u64(req.addr, 'addr'));
      writeU64(b, 12, u64(req.size, 'size'));
      break;
    case 'memwrite':
      writeHeader(b, FrameType.MemWrite);
      writeU64(b, 4, u64(req.addr, 'addr'));
      writeU64(b, 12, u64(req.size, 'size'));
      writeU32(b, 20, uint(req.dataChecksum, 32, 'dataChecksum'));
      break;
    case 'unknown':
      writeHeader(b, uint(req.type, 8, 'type'));
      if (req.payload.length > REQUEST_LENGTH - 8) {
        throw new RtkitError(ErrorCode.ENCODE_INVALID, 'request payload exceeds 56 bytes', {
          length: req.payload.length,
        });
      }
      b.set(req.payload, 4);
      break;
  }
  return seal(b);
}

/** Decode one 64-byte request. Unknown type bytes (including 4 and 5) decode as `unknown`. */
export function decodeRequest(frame: Uint8Array): Decoded<M1n1Request> {
  const bad = checkFrame(frame, REQUEST_LENGTH, 'request');
  if (bad !== undefined) return bad;
  const type = frame[3]!;
  switch (type) {
    case FrameType.Nop:
      return { ok: true, value: { kind: 'nop', features: readU64(frame, 4) } };
    case FrameType.Proxy: {
      const args = [
        readU64(frame, 12),
        readU64(frame, 20),
        readU64(frame, 28),
        readU64(frame, 36),
        readU64(frame, 44),
        readU64(frame, 52),
      ];
      const value = {
        kind: 'proxy',
        opcode: readU64(frame, 4),
        args: args as unknown as ProxyArgs,
      } as const;
      return { ok: true, value };
    }
    case FrameType.MemRead:
      return {
        ok: true,
        value: { kind: 'memread', addr: readU64(frame, 4), size: readU64(frame, 12) },
      };
    case FrameType.MemWrite:
      return {
        ok: true,
        value: {
          kind: 'memwrite',
          addr: readU64(frame, 4),
          size: readU64(frame, 12),
          dataChecksum: readU32(frame, 20),
        },
      };
    default:
      return { ok: true, value: { kind: 'unknown', type, payload: frame.slice(4, 60) } };
  }
}

// ---------------------------------------------------------------------------------------------
// Replies (36 bytes: type word, s32 status, 24 data bytes, checksum of bytes 0–31)

const REPLY_TYPE: Record<Exclude<M1n1Reply['kind'], 'unknown'>, number> = {
  nop: FrameType.Nop,
  proxy: FrameType.Proxy,
  memread: FrameType.MemRead,
  memwrite: FrameType.MemWrite,
  boot: FrameType.Boot,
};

/** The type byte of a reply. */
export function replyType(reply: M1n1Reply): number {
  return reply.kind === 'unknown' ? reply.type : REPLY_TYPE[reply.kind];
}

export function encodeReply(reply: M1n1Reply): Uint8Array {
  const b = new Uint8Array(REPLY_LENGTH);
  writeHeader(b, uint(replyType(reply), 8, 'type'));
  writeU32(b, 4, s32(reply.status, 'status'));
  switch (reply.kind) {
    case 'nop':
      writeU64(b, 8, u64(reply.features, 'features'));
      break;
    case 'proxy':
      writeU64(b, 8, u64(reply.opcode, 'opcode'));
      writeI64(b, 16, s64(reply.proxyStatus, 'proxyStatus'));
      writeU64(b, 24, u64(reply.retval, 'retval'));
      break;
    case 'memread':
    case 'memwrite':
      writeU32(b, 8, uint(reply.dataChecksum, 32, 'dataChecksum'));
      break;
    case 'boot':
      writeU32(b, 8, uint(reply.reason, 32, 'reason'));
      writeU32(b, 12, uint(reply.code, 32, 'code'));
      writeU64(b, 16, u64(reply.info, 'info'));
      writeU64(b, 24, u64(reply.reserved, 'reserved'));
      break;
    case 'unknown':
      if (reply.type === FrameType.Event) {
        throw new RtkitError(ErrorCode.ENCODE_INVALID, 'REQ_EVENT is not a 36-byte reply', {});
      }
      if (reply.data.length > 24) {
        throw new RtkitError(ErrorCode.ENCODE_INVALID, 'reply data exceeds 24 bytes', {
          length: reply.data.length,
        });
      }
      b.set(reply.data, 8);
      break;
  }
  return seal(b);
}

/**
 * A 36-byte reply with a status and zero data, echoing the type byte of the request: how m1n1
 * answers a request it rejects whole (CSUMERR, BADCMD). Any type byte, REQ_EVENT's included:
 * m1n1 answers whatever type word it read with a reply of that type.
 */
export function encodeStatusReply(type: number, status: number): Uint8Array {
  const b = new Uint8Array(REPLY_LENGTH);
  writeHeader(b, uint(type, 8, 'type'));
  writeU32(b, 4, s32(status, 'status'));
  return seal(b);
}

/**
 * Decode one 36-byte reply. The data fields are decoded whatever the status (a CSUMERR reply has
 * zero data). Unknown type bytes decode as `unknown`; REQ_EVENT frames are not 36 bytes long and
 * go through `decodeEvent`.
 */
export function decodeReply(frame: Uint8Array): Decoded<M1n1Reply> {
  const bad = checkFrame(frame, REPLY_LENGTH, 'reply');
  if (bad !== undefined) return bad;
  const type = frame[3]!;
  const status = readI32(frame, 4);
  switch (type) {
    case FrameType.Nop:
      return { ok: true, value: { kind: 'nop', status, features: readU64(frame, 8) } };
    case FrameType.Proxy:
      return {
        ok: true,
        value: {
          kind: 'proxy',
          status,
          opcode: readU64(frame, 8),
          proxyStatus: readI64(frame, 16),
          retval: readU64(frame, 24),
        },
      };
    case FrameType.MemRead:
    case FrameType.MemWrite:
      return {
        ok: true,
        value: {
          kind: type === FrameType.MemRead ? 'memread' : 'memwrite',
          status,
          dataChecksum: readU32(frame, 8),
        },
      };
    case FrameType.Boot:
      return {
        ok: true,
        value: {
          kind: 'boot',
          status,
          reason: readU32(frame, 8),
          code: readU32(frame, 12),
          info: readU64(frame, 16),
          reserved: readU64(frame, 24),
        },
      };
    default:
      return { ok: true, value: { kind: 'unknown', type, status, data: frame.slice(8, 32) } };
  }
}

// ---------------------------------------------------------------------------------------------
// Events (type word, u16 length, u16 event_type, data, checksum of everything before it)

/** Total wire length of an event whose header starts at `b[at]` (needs 8 bytes there). */
export function eventLength(b: Uint8Array, at = 0): number {
  return EVENT_HEADER_LENGTH + (b[at + 4]! | (b[at + 5]! << 8)) + EVENT_CHECKSUM_LENGTH;
}

function eventBody(event: M1n1Event): { type: number; data: Uint8Array } {
  switch (event.kind) {
    case 'mmiotrace': {
      const data = new Uint8Array(32);
      writeU32(data, 0, uint(event.flags, 32, 'flags'));
      writeU32(data, 4, uint(event.reserved, 32, 'reserved'));
      writeU64(data, 8, u64(event.pc, 'pc'));
      writeU64(data, 16, u64(event.addr, 'addr'));
      writeU64(data, 24, u64(event.data, 'data'));
      return { type: EventType.MmioTrace, data };
    }
    case 'irqtrace': {
      const data = new Uint8Array(8);
      writeU32(data, 0, uint(event.flags, 32, 'flags'));
      writeU16(data, 4, uint(event.irqType, 16, 'irqType'));
      writeU16(data, 6, uint(event.num, 16, 'num'));
      return { type: EventType.IrqTrace, data };
    }
    case 'unknown':
      return { type: uint(event.eventType, 16, 'eventType'), data: event.data };
  }
}

/** Encode a REQ_EVENT; with `checksums: false` the trailer is DATA_CHECKSUM_DISABLED (§4, §5). */
export function encodeEvent(event: M1n1Event, checksums = true): Uint8Array {
  const { type, data } = eventBody(event);
  uint(data.length, 16, 'event length');
  const b = new Uint8Array(EVENT_HEADER_LENGTH + data.length + EVENT_CHECKSUM_LENGTH);
  writeHeader(b, FrameType.Event);
  writeU16(b, 4, data.length);
  writeU16(b, 6, type);
  b.set(data, EVENT_HEADER_LENGTH);
  const end = b.length - EVENT_CHECKSUM_LENGTH;
  writeU32(b, end, checksums ? m1n1Checksum(b, 0, end) : DATA_CHECKSUM_DISABLED);
  return b;
}

/**
 * Decode one whole REQ_EVENT frame. With `checksums: false` the trailer must be
 * DATA_CHECKSUM_DISABLED; a real checksum is accepted too, because a device may not have applied
 * the feature to events (§5 says it does, m1n1's hypervisor is the only emitter).
 */
export function decodeEvent(frame: Uint8Array, checksums = true): Decoded<M1n1Event> {
  if (frame.length < EVENT_HEADER_LENGTH + EVENT_CHECKSUM_LENGTH) {
    return { ok: false, reason: 'length', detail: `event is only ${frame.length} bytes` };
  }
  if (!hasPrefix(frame) || frame[3] !== FrameType.Event) {
    return { ok: false, reason: 'prefix', detail: 'event does not start FF 55 AA 05' };
  }
  const total = eventLength(frame);
  if (frame.length !== total) {
    return { ok: false, reason: 'length', detail: `event is ${frame.length} bytes, not ${total}` };
  }
  const end = total - EVENT_CHECKSUM_LENGTH;
  const want = readU32(frame, end);
  const got = m1n1Checksum(frame, 0, end);
  if (want !== got && (checksums || want !== DATA_CHECKSUM_DISABLED)) {
    return checksumMismatch('event', want, got);
  }
  const eventType = readU16(frame, 6);
  const data = frame.slice(EVENT_HEADER_LENGTH, end);
  if (eventType === EventType.MmioTrace && data.length === 32) {
    return {
      ok: true,
      value: {
        kind: 'mmiotrace',
        flags: readU32(data, 0),
        reserved: readU32(data, 4),
        pc: readU64(data, 8),
        addr: readU64(data, 16),
        data: readU64(data, 24),
      },
    };
  }
  if (eventType === EventType.IrqTrace && data.length === 8) {
    return {
      ok: true,
      value: {
        kind: 'irqtrace',
        flags: readU32(data, 0),
        irqType: readU16(data, 4),
        num: readU16(data, 6),
      },
    };
  }
  return { ok: true, value: { kind: 'unknown', eventType, data } };
}

/** MMIOTRACE flag fields (§4). */
export function mmioTraceFlags(flags: number): {
  width: number;
  write: boolean;
  multi: boolean;
  sh: number;
  cpu: number;
  attr: number;
} {
  return {
    width: flags & 0x1f,
    write: (flags & 0x20) !== 0,
    multi: (flags & 0x40) !== 0,
    sh: (flags >>> 14) & 3,
    cpu: (flags >>> 16) & 0xff,
    attr: flags >>> 24,
  };
}
