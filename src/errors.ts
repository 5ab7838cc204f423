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
  // host session (ROBUSTNESS.md "Codes used below"; details in docs/host-library.md)
  /** A protocol step did not complete in time; `details.step` names it. */
  TIMEOUT: 'TIMEOUT',
  /** The caller's AbortSignal fired; `cause` is the signal's reason. */
  ABORTED: 'ABORTED',
  /** The firmware's HELLO range does not overlap ours (`fwMin`, `fwMax`, `supported`). */
  VERSION_UNSUPPORTED: 'VERSION_UNSUPPORTED',
  /** A power-state ack differs from the request (`requested`, `acked`). */
  POWER_STATE_MISMATCH: 'POWER_STATE_MISMATCH',
  /** The endpoint is not in the firmware's endpoint map. */
  ENDPOINT_NOT_DISCOVERED: 'ENDPOINT_NOT_DISCOVERED',
  /** An application endpoint that was not started (STARTEP) before use. */
  ENDPOINT_NOT_STARTED: 'ENDPOINT_NOT_STARTED',
  /** Refused in the current state: the co-processor is not booted and powered on. */
  NOT_RUNNING: 'NOT_RUNNING',
  /** Refused: the co-processor crashed; recover (reinit, CPU reset, boot) first. */
  COPROC_CRASHED: 'COPROC_CRASHED',
  /** Refused: the co-processor was powered off (state 0) and needs a CPU reset. */
  POWERED_OFF: 'POWERED_OFF',
  /** The session was closed. */
  SESSION_CLOSED: 'SESSION_CLOSED',
  /** A CPU operation was asked for but the session has no CPU control (Mmio + ASC base). */
  CPU_CONTROL_UNAVAILABLE: 'CPU_CONTROL_UNAVAILABLE',
  // m1n1 proxy link (docs/m1n1-link.md)
  /** A reply frame failed its checksum, or the device answered CSUMERR to our request. */
  PROXY_CHECKSUM: 'PROXY_CHECKSUM',
  /** The device answered a non-zero frame status (`status`: BADCMD, INVAL, XFRERR). */
  PROXY_STATUS: 'PROXY_STATUS',
  /** The device does not know the proxy opcode (inner status S_BADCMD; `op`). */
  PROXY_BADCMD: 'PROXY_BADCMD',
  /** The device took an exception during the access (`exceptions`, `op`, `addr`). */
  PROXY_EXCEPTION: 'PROXY_EXCEPTION',
  /** A reply of the wrong type or shape arrived (`expected`, `got`). */
  PROXY_PROTOCOL: 'PROXY_PROTOCOL',
  /** Bulk data failed its data checksum or sentinel (`reason`). */
  PROXY_DATA: 'PROXY_DATA',
  // Apple device tree
  /** The ADT bytes are malformed (`offset`, `reason`). */
  ADT_INVALID: 'ADT_INVALID',
  /** A node or property the caller asked for is missing or has the wrong size (`path`, `property`). */
  ADT_NOT_FOUND: 'ADT_NOT_FOUND',
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
