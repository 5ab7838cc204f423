/**
 * Codes of crashlog parse problems. The fatal container codes live in `ErrorCode`
 * (src/errors.ts); these are attached to a report (ROBUSTNESS.md "Codes used below", plus our
 * own where a decoder has something to say that the table does not cover).
 */
export const CrashlogCode = {
  // walk stops (PROTOCOL.md §7.2 P4)
  SECTION_HEADER_TRUNCATED: 'SECTION_HEADER_TRUNCATED',
  SECTION_SIZE_INVALID: 'SECTION_SIZE_INVALID',
  SECTION_TRUNCATED: 'SECTION_TRUNCATED',
  /** Ours: `maxSections` reached; the rest of the buffer is not walked. */
  SECTION_LIMIT_REACHED: 'SECTION_LIMIT_REACHED',
  // per section (P5)
  SECTION_TOO_SHORT: 'SECTION_TOO_SHORT',
  SECTION_TRAILING_BYTES: 'SECTION_TRAILING_BYTES',
  UNTERMINATED_STRING: 'UNTERMINATED_STRING',
  /** Ours: a decoder tried to read outside its payload (a bug in this library, never expected). */
  SECTION_DECODE_FAILED: 'SECTION_DECODE_FAILED',
  /** Ours: `maxEntries` reached in one list; the rest of that list is not decoded. */
  ENTRY_LIMIT_REACHED: 'ENTRY_LIMIT_REACHED',
  /** Ours: a Crtk task's call-stack depth runs past the payload; truncated (APPLE warns too). */
  TASK_DEPTH_TRUNCATED: 'TASK_DEPTH_TRUNCATED',
  /** Ours: Crg8/CrgA prefix frame size differs from APPLE's required value (828 / 352). */
  FRAME_SIZE_UNEXPECTED: 'FRAME_SIZE_UNEXPECTED',
  /** Ours: a Cmbx endpoint field has non-zero high 32 bits (endpoints are 8-bit). */
  ENDPOINT_HIGH_BITS: 'ENDPOINT_HIGH_BITS',
  // container warnings (P2, P3, P6)
  CRASHLOG_VERSION: 'CRASHLOG_VERSION',
  CRASHLOG_SIZE_CLAMPED: 'CRASHLOG_SIZE_CLAMPED',
  FOOTER_MISSING: 'FOOTER_MISSING',
  FOOTER_MISPLACED: 'FOOTER_MISPLACED',
  FOOTER_MISMATCH: 'FOOTER_MISMATCH',
  /** Ours: the footer starts at `total − 32` but the buffer (clamped) ends inside it. */
  FOOTER_TRUNCATED: 'FOOTER_TRUNCATED',
} as const;
export type CrashlogCode = (typeof CrashlogCode)[keyof typeof CrashlogCode];
