/**
 * The simulated firmware's side of the syslog ring: PROTOCOL.md §8 "Simulator writing rules",
 * inferred from what real DCP, SMC, NVMe and AOP firmware produce (fixtures/README.md).
 */

import { ErrorCode, RtkitError } from '../errors.js';
import {
  isPositiveSafeInteger,
  SYSLOG_CONTEXT_OFFSET,
  SYSLOG_CONTEXT_SIZE,
  SYSLOG_ENTRY_HEADER_SIZE,
  SYSLOG_MESSAGE_OFFSET,
  type SyslogGeometryLike,
} from './geometry.js';

/** Where a message comes from: a source position, or a context string written as given. */
export type SyslogSource =
  | { readonly file: string; readonly line: number }
  | { readonly context: string };

export interface WriteSyslogEntryOptions {
  /**
   * Zero the unused rest of the context and message fields. Off by default: real firmware
   * leaves stale bytes after the NUL [inferred, §8], and the host must cope with them.
   */
  readonly clearTail?: boolean;
}

export interface WrittenSyslogEntry {
  readonly offset: number;
  /** The context text stored before its NUL (at most 23 bytes of UTF-8). */
  readonly context: string;
  /** The message text stored before its NUL (at most `messageSize − 1` bytes of UTF-8). */
  readonly message: string;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** Longest context text: 23 characters, observed on DCP and AOP (§8). */
const CONTEXT_MAX = SYSLOG_CONTEXT_SIZE - 1;

/**
 * Write entry `index` the way the firmware does: header words 0; context = the last 23 bytes of
 * `file:line` + NUL (`UnifiedPipeline.cpp:1356` → `nifiedPipeline.cpp:1356`); message = the first
 * `messageSize − 1` bytes + NUL (DCP's 128-byte field shows 127 characters). §8 counts characters;
 * for non-ASCII text we count UTF-8 bytes and never split a character, so the field always holds
 * its NUL and the decoder gets valid UTF-8 back.
 *
 * Throws `RtkitError` (SYSLOG_GEOMETRY_INVALID or SYSLOG_INDEX_OUT_OF_RANGE) when the geometry is
 * unusable or the entry does not lie inside `ring`: the caller is our own simulator, so this is
 * misuse, not firmware input.
 */
export function writeSyslogEntry(
  ring: Uint8Array,
  index: number,
  geometry: SyslogGeometryLike,
  source: SyslogSource,
  message: string,
  options: WriteSyslogEntryOptions = {},
): WrittenSyslogEntry {
  const { entryCount, messageSize } = geometry;
  if (!isPositiveSafeInteger(entryCount) || !isPositiveSafeInteger(messageSize)) {
    throw new RtkitError(
      ErrorCode.SYSLOG_GEOMETRY_INVALID,
      `cannot write with entry count ${String(entryCount)}, message size ${String(messageSize)}`,
      { entryCount, messageSize },
    );
  }
  const stride = SYSLOG_ENTRY_HEADER_SIZE + messageSize;
  const offset = index * stride;
  if (
    !Number.isSafeInteger(index) ||
    index < 0 ||
    index >= entryCount ||
    offset + stride > ring.length
  ) {
    throw new RtkitError(
      ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE,
      `entry ${String(index)} of ${entryCount} (stride 0x${stride.toString(16)}) does not fit ` +
        `the 0x${ring.length.toString(16)}-byte ring`,
      { index, entryCount, messageSize, ringLength: ring.length },
    );
  }

  const text = 'context' in source ? source.context : `${source.file}:${source.line}`;
  const contextBytes = lastBytes(utf8Encoder.encode(text), CONTEXT_MAX);
  const messageBytes = firstBytes(utf8Encoder.encode(message), messageSize - 1);

  const entry = ring.subarray(offset, offset + stride);
  entry.fill(0, 0, SYSLOG_CONTEXT_OFFSET);
  const context = entry.subarray(
    SYSLOG_CONTEXT_OFFSET,
    SYSLOG_CONTEXT_OFFSET + SYSLOG_CONTEXT_SIZE,
  );
  const body = entry.subarray(SYSLOG_MESSAGE_OFFSET, SYSLOG_MESSAGE_OFFSET + messageSize);
  writeTerminated(context, contextBytes, options.clearTail === true);
  writeTerminated(body, messageBytes, options.clearTail === true);

  return {
    offset,
    context: utf8Decoder.decode(contextBytes),
    message: utf8Decoder.decode(messageBytes),
  };
}

function writeTerminated(field: Uint8Array, text: Uint8Array, clearTail: boolean): void {
  field.set(text);
  if (clearTail) field.fill(0, text.length);
  else field[text.length] = 0;
}

/** The longest suffix of at most `max` bytes that starts on a UTF-8 character boundary. */
function lastBytes(bytes: Uint8Array, max: number): Uint8Array {
  let start = Math.max(0, bytes.length - max);
  while (start < bytes.length && isContinuation(bytes[start]!)) start++;
  return bytes.subarray(start);
}

/** The longest prefix of at most `max` bytes that ends on a UTF-8 character boundary. */
function firstBytes(bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.length <= max) return bytes;
  let end = max;
  while (end > 0 && isContinuation(bytes[end]!)) end--;
  return bytes.subarray(0, end);
}

function isContinuation(b: number): boolean {
  return (b & 0xc0) === 0x80;
}
