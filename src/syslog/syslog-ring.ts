/**
 * The host's view of the syslog endpoint's state (PROTOCOL.md §5.2): the geometry from the last
 * INIT and the buffer view from the buffer request, which may arrive in either order (§12 row 19).
 *
 * Decoding is advisory. Every LOG must be echoed unchanged, decoded or not (§5.2; ML and UB always
 * ack, the firmware stalls otherwise [inferred]); echoing is the host session's job. Nothing here
 * can block it: every method is synchronous and never throws. Decode before echoing: the echo
 * hands the slot back to the firmware, and `decode` takes its copy of the entry at once.
 */

import { ErrorCode } from '../errors.js';
import { decodeSyslogEntry, type SyslogDecodeResult } from './decode-entry.js';
import { type SyslogGeometry, validateSyslogGeometry } from './geometry.js';

export class SyslogRing {
  #init: { readonly entryCount: number; readonly messageSize: number } | undefined;
  #buffer: Uint8Array | undefined;

  /**
   * Record an INIT. A new INIT (e.g. after a firmware restart) replaces the previous geometry
   * (§5.2, B11). Invalid numbers are kept: the returned problems are the warnings to emit, and
   * later LOGs report `SYSLOG_GEOMETRY_INVALID` until a valid INIT arrives.
   */
  setInit(entryCount: number, messageSize: number): SyslogGeometry {
    this.#init = { entryCount, messageSize };
    return validateSyslogGeometry(entryCount, messageSize, this.#buffer?.length);
  }

  /**
   * Hold a view of exactly the granted buffer, or `undefined` when there is none we may read:
   * never granted, released, or firmware-owned memory we could not map (B24). Returns the INIT
   * geometry re-checked against the new size (its problems are the warnings to emit), or
   * `undefined` before any INIT.
   */
  setBuffer(bytes: Uint8Array | undefined): SyslogGeometry | undefined {
    this.#buffer = bytes;
    return this.geometry;
  }

  /** Forget INIT and buffer, as a reinit or firmware restart does (PROTOCOL.md §6.5 M6). */
  reset(): void {
    this.#init = undefined;
    this.#buffer = undefined;
  }

  /** The current geometry, checked against the buffer when one is held. */
  get geometry(): SyslogGeometry | undefined {
    const init = this.#init;
    if (init === undefined) return undefined;
    return validateSyslogGeometry(init.entryCount, init.messageSize, this.#buffer?.length);
  }

  get hasBuffer(): boolean {
    return this.#buffer !== undefined;
  }

  /**
   * Decode the entry a LOG message points at. `SYSLOG_NOT_INITIALIZED` before any INIT (B23 c)
   * or while no buffer view is held (B24); otherwise {@link decodeSyslogEntry}'s result.
   */
  decode(index: number): SyslogDecodeResult {
    const init = this.#init;
    if (init === undefined) {
      return {
        ok: false,
        code: ErrorCode.SYSLOG_NOT_INITIALIZED,
        message: `LOG index ${String(index)} before any INIT`,
      };
    }
    const buffer = this.#buffer;
    if (buffer === undefined) {
      return {
        ok: false,
        code: ErrorCode.SYSLOG_NOT_INITIALIZED,
        message: `LOG index ${String(index)} but no syslog buffer view is held`,
      };
    }
    return decodeSyslogEntry(buffer, index, init);
  }
}
