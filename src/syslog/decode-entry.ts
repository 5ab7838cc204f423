/**
 * Decoder for one syslog ring entry (PROTOCOL.md §8, host rules S1–S5).
 *
 * Entry `i` starts at `i × (0x20 + messageSize)`:
 *
 * ```
 *  +0   u32   header (unknown)
 *  +4   u32   unknown ("word1")
 *  +8   24 B  context, `file:line` cut from the left to 23 characters + NUL
 *  +32  msgSize B  message, at most msgSize − 1 characters + NUL, stale bytes after the NUL
 * ```
 */

import { ErrorCode } from '../errors.js';
import {
  isPositiveSafeInteger,
  SYSLOG_CONTEXT_OFFSET,
  SYSLOG_CONTEXT_SIZE,
  SYSLOG_ENTRY_HEADER_SIZE,
  SYSLOG_MESSAGE_OFFSET,
  type SyslogErrorCode,
  type SyslogGeometryLike,
} from './geometry.js';

export interface SyslogEntry {
  readonly index: number;
  /** Byte offset of the entry in the ring, `index × stride`. */
  readonly offset: number;
  /** The u32 at `+0` (meaning unknown; the simulator writes 0). */
  readonly header: number;
  /** The u32 at `+4` (meaning unknown; the simulator writes 0). */
  readonly word1: number;
  /** `file:line`, cut at the first NUL, otherwise untouched. */
  readonly context: string;
  /** Cut at the first NUL, trailing `\n`, `\r` and spaces removed, leading characters kept. */
  readonly message: string;
  /** The context field held no NUL: all 24 bytes were used (S2). */
  readonly contextUnterminated: boolean;
  /** The message field held no NUL: all `messageSize` bytes were used (S3). */
  readonly messageUnterminated: boolean;
}

export type SyslogDecodeResult =
  | { readonly ok: true; readonly entry: SyslogEntry }
  | { readonly ok: false; readonly code: SyslogErrorCode; readonly message: string };

// ignoreBOM: the default decoder swallows a leading U+FEFF, and S4 says leading characters are
// content. Without `fatal`, invalid UTF-8 becomes U+FFFD (S5).
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;

/**
 * Decode entry `index` of a syslog ring. `ring` must be a view of exactly the buffer the host
 * holds (ROBUSTNESS.md principle 4): `ring.length` is the buffer size of rule S1.
 *
 * Never throws, whatever the numbers: a non-positive, fractional or non-finite count or size is
 * `SYSLOG_GEOMETRY_INVALID`; an index that is not an integer in `[0, entryCount)`, or whose entry
 * does not lie entirely inside `ring`, is `SYSLOG_INDEX_OUT_OF_RANGE` (B9, B23).
 *
 * The entry is copied once before it is parsed, so a firmware rewriting the slot meanwhile cannot
 * make the context and the message disagree, and a view of shared or device memory is never
 * handed to `TextDecoder` (which rejects SharedArrayBuffer views in browsers).
 */
export function decodeSyslogEntry(
  ring: Uint8Array,
  index: number,
  geometry: SyslogGeometryLike,
): SyslogDecodeResult {
  const { entryCount, messageSize } = geometry;
  if (!isPositiveSafeInteger(entryCount) || !isPositiveSafeInteger(messageSize)) {
    return fail(
      ErrorCode.SYSLOG_GEOMETRY_INVALID,
      `geometry count ${String(entryCount)}, size ${String(messageSize)} is not decodable`,
    );
  }
  // B9: ML, AS, HL, OB test `idx > n_entries` and so accept idx == n.
  if (!Number.isSafeInteger(index) || index < 0 || index >= entryCount) {
    return fail(
      ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE,
      `index ${String(index)} is outside the ${entryCount} announced entries`,
    );
  }
  const stride = SYSLOG_ENTRY_HEADER_SIZE + messageSize;
  const offset = index * stride;
  // S1. If the product loses precision it is far above any real buffer length, so the test holds.
  if (offset + stride > ring.length) {
    return fail(
      ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE,
      `entry ${index} at 0x${offset.toString(16)} + 0x${stride.toString(16)} does not fit the ` +
        `0x${ring.length.toString(16)}-byte buffer`,
    );
  }

  const bytes = new Uint8Array(stride);
  bytes.set(ring.subarray(offset, offset + stride));

  const context = cutAtNul(
    bytes.subarray(SYSLOG_CONTEXT_OFFSET, SYSLOG_CONTEXT_OFFSET + SYSLOG_CONTEXT_SIZE),
  );
  const message = cutAtNul(
    bytes.subarray(SYSLOG_MESSAGE_OFFSET, SYSLOG_MESSAGE_OFFSET + messageSize),
  );
  return {
    ok: true,
    entry: {
      index,
      offset,
      header: readU32(bytes, 0),
      word1: readU32(bytes, 4),
      // S4 applies to the message only: ML and m1n1-Py print the context as cut at its NUL.
      context: text(context.text),
      message: text(trimTrailing(message.text)),
      contextUnterminated: context.unterminated,
      messageUnterminated: message.unterminated,
    },
  };
}

/**
 * S5: UTF-8 with replacement characters. All observed syslog text is ASCII, for which building
 * the string directly is several times cheaper than TextDecoder on short fields.
 */
function text(bytes: Uint8Array): string {
  const n = bytes.length;
  for (let i = 0; i < n; i++) if (bytes[i]! >= 0x80) return utf8.decode(bytes);
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

/**
 * S2/S3: cut at the first NUL. Stale bytes after it are never looked at: trimming from the end of
 * the field instead left the `\n` in place (AsahiLinux/linux#295, §8).
 */
function cutAtNul(field: Uint8Array): { text: Uint8Array; unterminated: boolean } {
  const nul = field.indexOf(0);
  return nul < 0
    ? { text: field, unterminated: true }
    : { text: field.subarray(0, nul), unterminated: false };
}

/**
 * S4: strip trailing LF, CR and space, repeatedly. ML 2025 also crops `\0`, but after the cut at
 * the first NUL none is left (§12 row 18), so NUL is not in the set. Working on bytes is the same
 * as working on the decoded text: these ASCII bytes never occur inside a UTF-8 sequence.
 */
function trimTrailing(text: Uint8Array): Uint8Array {
  let end = text.length;
  while (end > 0) {
    const b = text[end - 1];
    if (b !== LF && b !== CR && b !== SPACE) break;
    end--;
  }
  return text.subarray(0, end);
}

function readU32(bytes: Uint8Array, at: number): number {
  // Little-endian, like all shared memory (§0).
  return (
    (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0
  );
}

function fail(code: SyslogErrorCode, message: string): SyslogDecodeResult {
  return { ok: false, code, message };
}
