/**
 * Error codes of the SMC client and the SMC's result codes.
 *
 * Apple silicon sources say only "RESULT 0 = success, anything else is an error" (PROTOCOL.md
 * §9.2). The names below are the SMC's long-standing Intel-era result codes (OpenCore/VirtualSMC
 * `AppleSmc.h`); QEMUAppleSilicon's SMC model reuses them and macOS on Apple silicon reports
 * 132 = 0x84 for a missing key through AppleSMC, so they are very likely still the firmware's
 * codes **[inferred]** (docs/sim-smc.md, "Errors").
 */

import { RtkitError } from '../../errors.js';

/** `RtkitError.code` values the SMC client produces. */
export const SmcErrorCode = {
  /** Misuse of the API: a bad key, size, value or option. */
  BadInput: 'BAD_INPUT',
  /** The shared-memory address announced after INITIALIZE is unusable (§9.3 step 2, §6.4). */
  ShmemInvalid: 'SMC_SHMEM_INVALID',
  /** The reply carried another command's ID (ML: "Command sequence mismatch"). */
  IdMismatch: 'SMC_ID_MISMATCH',
  /** The SMC answered RESULT ≠ 0; `details.result` holds the code, `details.resultName` its name. */
  Error: 'SMC_ERROR',
  /** A reply that cannot be right (SIZE larger than asked for, key info that does not parse). */
  BadReply: 'SMC_BAD_REPLY',
  /** No reply within the command's timeout (default 500 ms, ML). */
  Timeout: 'TIMEOUT',
  /** The caller's AbortSignal fired. */
  Aborted: 'ABORTED',
  /** `close()` was called (or is in progress). */
  Closed: 'SMC_CLOSED',
  /** The endpoint failed with something that is not an RtkitError (wrapped as `cause`). */
  EndpointFailed: 'SMC_ENDPOINT_FAILED',
  /** The SRAM window failed with something that is not an RtkitError, or returned short data. */
  ShmemAccess: 'SMC_SHMEM_ACCESS',
} as const;
export type SmcErrorCode = (typeof SmcErrorCode)[keyof typeof SmcErrorCode];

/** SMC result codes (Intel-era names **[inferred]** on Apple silicon, see above). */
export const SmcResult = {
  Success: 0x00,
  Error: 0x01,
  CommCollision: 0x80,
  SpuriousData: 0x81,
  BadCommand: 0x82,
  BadParameter: 0x83,
  KeyNotFound: 0x84,
  KeyNotReadable: 0x85,
  KeyNotWritable: 0x86,
  KeySizeMismatch: 0x87,
  FramingError: 0x88,
  BadArgumentError: 0x89,
  TimeoutError: 0xb7,
  KeyIndexRangeError: 0xb8,
  BadFuncParameter: 0xc0,
  EventBuffWrongOrder: 0xc4,
  EventBuffReadError: 0xc5,
  DeviceAccessError: 0xc7,
  UnsupportedFeature: 0xcb,
  SMBAccessError: 0xcc,
} as const;

const RESULT_NAMES = new Map<number, string>(
  Object.entries(SmcResult).map(([name, code]) => [code, `kSMC${name}`]),
);

/** `kSMCKeyNotFound` for 0x84, ...; undefined for a code without a known name. */
export function smcResultName(result: number): string | undefined {
  return RESULT_NAMES.get(result);
}

/** The error for RESULT ≠ 0. */
export function smcResultError(result: number, what: string, key: string | undefined): RtkitError {
  const name = smcResultName(result);
  const shown = `0x${result.toString(16).padStart(2, '0')}`;
  return new RtkitError(
    SmcErrorCode.Error,
    `${what} failed: SMC result ${shown}${name ? ` (${name}, name inferred)` : ''}`,
    {
      result,
      ...(name !== undefined ? { resultName: name } : {}),
      ...(key !== undefined ? { key } : {}),
    },
  );
}
