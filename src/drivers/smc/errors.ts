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

// One table of SMC result codes, shared with the simulator's SMC model.
import { smcResultName } from '../../protocol/smc-values.js';

export { SmcResult, smcResultName } from '../../protocol/smc-values.js';

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
