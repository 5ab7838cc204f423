/**
 * One error class for the whole library, with string codes grouped by layer (STYLE.md).
 * Guard with `isRtkitError`, not `instanceof`: two copies of the package (or a bundle and a
 * worker) must still recognise each other's errors.
 */

export const ErrorCode = {
  // input and usage
  BAD_INPUT: 'BAD_INPUT',
  UNKNOWN_FORMAT: 'UNKNOWN_FORMAT',
  // crashlog container (PROTOCOL.md §7.2 P2–P3)
  CRASHLOG_TRUNCATED: 'CRASHLOG_TRUNCATED',
  CRASHLOG_BAD_MAGIC: 'CRASHLOG_BAD_MAGIC',
  CRASHLOG_VERSION: 'CRASHLOG_VERSION',
  CRASHLOG_SIZE_INVALID: 'CRASHLOG_SIZE_INVALID',
  // codecs
  ENCODE_INVALID: 'ENCODE_INVALID',
  ENDPOINT_INVALID: 'ENDPOINT_INVALID',
  // transports and registers
  TRANSPORT_TIMEOUT: 'TRANSPORT_TIMEOUT',
  TRANSPORT_CLOSED: 'TRANSPORT_CLOSED',
  MMIO_UNMAPPED: 'MMIO_UNMAPPED',
  MMIO_ALIGNMENT: 'MMIO_ALIGNMENT',
  // shared memory
  BUFFER_OUT_OF_RANGE: 'BUFFER_OUT_OF_RANGE',
  BUFFER_RELEASED: 'BUFFER_RELEASED',
  BUFFER_RELEASE_FAILED: 'BUFFER_RELEASE_FAILED',
  // syslog ring
  SYSLOG_NOT_INITIALIZED: 'SYSLOG_NOT_INITIALIZED',
  SYSLOG_GEOMETRY_INVALID: 'SYSLOG_GEOMETRY_INVALID',
  SYSLOG_INDEX_OUT_OF_RANGE: 'SYSLOG_INDEX_OUT_OF_RANGE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const ERROR_NAME = 'RtkitError';

export class RtkitError extends Error {
  override readonly name = ERROR_NAME;
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: string,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
    this.code = code;
    this.details = details;
  }
}

export function isRtkitError(e: unknown, code?: string): e is RtkitError {
  if (typeof e !== 'object' || e === null) return false;
  const r = e as { name?: unknown; code?: unknown };
  return (
    r.name === ERROR_NAME && typeof r.code === 'string' && (code === undefined || r.code === code)
  );
}
