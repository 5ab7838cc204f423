/**
 * The host's protocol decisions as pure functions, so that each is stated once and tested on its
 * own: version choice (PROTOCOL.md §3.2, with HoolockLinux's v10) and power-ack matching (§4.7).
 */

import { ErrorCode, RtkitError } from '../errors.js';
import { PowerState, powerStateName } from '../protocol/index.js';

export interface VersionChoice {
  readonly version: number;
  /** v10 minor (the HELLO's MINVER when its MAXVER is 10), else undefined. */
  readonly minor: number | undefined;
  /** HELLO_ACK fields. */
  readonly ackMin: number;
  readonly ackMax: number;
}

/**
 * Pick the version for a HELLO (`fwMin`..`fwMax`) given ours (`ourMin`..`ourMax`), or return
 * the `VERSION_UNSUPPORTED` error (details: fwMin, fwMax, supported).
 *
 *  - MAXVER 10: MINVER is a minor version (HoolockLinux); we ack `minor/10` if 10 is ours.
 *  - otherwise ML's rule: `min(ourMax, fwMax)`, failing when `fwMin > ourMax` ("too new") or
 *    `fwMax < ourMin` ("too old"); a HELLO with `fwMin > fwMax` is refused too.
 */
export function chooseVersion(
  fwMin: number,
  fwMax: number,
  ourMin: number,
  ourMax: number,
): VersionChoice | RtkitError {
  if (fwMax === 10) {
    if (ourMin <= 10 && ourMax >= 10) {
      return { version: 10, minor: fwMin, ackMin: fwMin, ackMax: 10 };
    }
  } else if (fwMin <= ourMax && fwMax >= ourMin && fwMin <= fwMax) {
    const version = Math.min(ourMax, fwMax);
    return { version, minor: undefined, ackMin: version, ackMax: version };
  }
  const supported: number[] = [];
  for (let v = ourMin; v <= ourMax; v++) supported.push(v);
  const why =
    fwMax === 10
      ? `v10.${fwMin}`
      : fwMin > ourMax
        ? `min version ${fwMin} is too new`
        : fwMax < ourMin
          ? `max version ${fwMax} is too old`
          : 'an empty range';
  return new RtkitError(
    ErrorCode.VERSION_UNSUPPORTED,
    `firmware speaks v${fwMin}..${fwMax} (${why}); we support v${ourMin}..${ourMax}`,
    { fwMin, fwMax, supported, step: 'hello' },
  );
}

/** Low byte of a power state: 0x220 and 0x20 both mean ON there (§4.1). */
export function lowByte(state: number): number {
  return state % 0x100;
}

/** §4.7: after boot or wake, any IOP ack whose low byte is 0x20 means ON. */
export function isOn(state: number): boolean {
  return lowByte(state) === PowerState.On;
}

/**
 * §4.7, explicit setter for `requested`: success when the ack is exactly the request, when both
 * mean ON (0x220 acked 0x20), or — v10 IOP only — QUIESCED acked as OFF (HoolockLinux).
 */
export function ackMatches(
  which: 'ap' | 'iop',
  requested: number,
  acked: number,
  version: number | undefined,
): boolean {
  if (acked === requested) return true;
  if (isOn(requested) && isOn(acked)) return true;
  return (
    which === 'iop' &&
    version === 10 &&
    requested === PowerState.Quiesced &&
    acked === PowerState.Off
  );
}

export function powerMismatch(
  which: 'ap' | 'iop',
  requested: number,
  acked: number,
  step: string,
): RtkitError {
  return new RtkitError(
    ErrorCode.POWER_STATE_MISMATCH,
    `${which.toUpperCase()} power state ${powerStateName(requested)} requested, ${powerStateName(acked)} acked`,
    { which, requested, acked, step },
  );
}
