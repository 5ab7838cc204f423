/**
 * Syslog ring geometry (PROTOCOL.md §5.2, §8): the entry count and message size announced by the
 * firmware's INIT message, checked against each other and against the buffer we actually hold.
 *
 * The INIT word codec (field widths, the SYSLOG_INIT_WIDE_FIELDS warning) lives in
 * `src/protocol`; this module only sees the two decoded numbers, which are firmware input and
 * therefore untrusted (ROBUSTNESS.md principle 2).
 */

import { ErrorCode } from '../errors.js';

/** Bytes in front of the message in every entry: two u32 words and the context (§8). */
export const SYSLOG_ENTRY_HEADER_SIZE = 0x20;
/** Offset of the context (`file:line`) inside an entry (§8). */
export const SYSLOG_CONTEXT_OFFSET = 8;
/** Size of the context field: 23 characters and a NUL in every observed entry (§8). */
export const SYSLOG_CONTEXT_SIZE = 24;
/** Offset of the message inside an entry (§8). */
export const SYSLOG_MESSAGE_OFFSET = 0x20;

/** The codes a syslog decode or geometry check can report (ROBUSTNESS.md "Codes used below"). */
export type SyslogErrorCode =
  | typeof ErrorCode.SYSLOG_NOT_INITIALIZED
  | typeof ErrorCode.SYSLOG_GEOMETRY_INVALID
  | typeof ErrorCode.SYSLOG_INDEX_OUT_OF_RANGE;

/** One reason the geometry is not (fully) usable; the host turns each into a warning event. */
export interface SyslogProblem {
  readonly code: SyslogErrorCode;
  readonly message: string;
}

/** The two numbers a decoder needs; a validated {@link SyslogGeometry} is one too. */
export interface SyslogGeometryLike {
  readonly entryCount: number;
  readonly messageSize: number;
}

export interface SyslogGeometry extends SyslogGeometryLike {
  /** The buffer size the geometry was checked against; absent until the buffer is known. */
  readonly bufferSize?: number;
  /** Bytes per entry, `0x20 + messageSize`; 0 when the count or size is invalid. */
  readonly stride: number;
  /** Entries `[0, usableEntries)` can be decoded; 0 when nothing can be. */
  readonly usableEntries: number;
  /** Empty when the whole ring is usable. */
  readonly problems: readonly SyslogProblem[];
}

/** A count or a size is usable only as a positive safe integer; NaN, fractions etc. are not. */
export function isPositiveSafeInteger(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 1;
}

/**
 * Validate an INIT geometry (§5.2 "Guidance (ours)"): count ≥ 1 and message size ≥ 1, else
 * nothing is usable (B10: ML, OB allocate zero bytes and then write at `[size − 1]`); stride =
 * `0x20 + messageSize`; once the buffer size is known, `count × stride` must fit, else only the
 * entries that fit are usable (B9: no public host bounds the index by the buffer).
 *
 * Never throws: every problem is returned as `SYSLOG_GEOMETRY_INVALID`.
 */
export function validateSyslogGeometry(
  entryCount: number,
  messageSize: number,
  bufferSize?: number,
): SyslogGeometry {
  const base = {
    entryCount,
    messageSize,
    ...(bufferSize === undefined ? {} : { bufferSize }),
  };
  const problems: SyslogProblem[] = [];
  if (!isPositiveSafeInteger(entryCount)) {
    problems.push(invalid(`entry count ${String(entryCount)} is not a positive integer`));
  }
  if (!isPositiveSafeInteger(messageSize)) {
    problems.push(invalid(`message size ${String(messageSize)} is not a positive integer`));
  }
  if (problems.length > 0) return { ...base, stride: 0, usableEntries: 0, problems };

  const stride = SYSLOG_ENTRY_HEADER_SIZE + messageSize;
  if (bufferSize === undefined) return { ...base, stride, usableEntries: entryCount, problems };
  if (!Number.isSafeInteger(bufferSize) || bufferSize < 0) {
    problems.push(invalid(`buffer size ${String(bufferSize)} is not a byte count`));
    return { ...base, stride, usableEntries: 0, problems };
  }
  // Compare by division: count × stride can exceed 2^53 for absurd (but safe) inputs.
  const fit = Math.floor(bufferSize / stride);
  if (entryCount <= fit) return { ...base, stride, usableEntries: entryCount, problems };
  problems.push(
    invalid(
      `${entryCount} entries × stride 0x${stride.toString(16)} exceed the ` +
        `0x${bufferSize.toString(16)}-byte buffer; only ${fit} entries are usable`,
    ),
  );
  return { ...base, stride, usableEntries: fit, problems };
}

function invalid(message: string): SyslogProblem {
  return { code: ErrorCode.SYSLOG_GEOMETRY_INVALID, message };
}
