/**
 * A little-endian reader over exactly one byte range. Crashlog payloads come from firmware and are
 * untrusted (ROBUSTNESS.md principles 1, 4): every section decoder gets its own reader bounded to
 * `size − 16` bytes (PROTOCOL.md §7.2 P5), so reading the next section's bytes — the bug behind
 * ROBUSTNESS B5 — is impossible rather than merely avoided. Two layers enforce the bound: an
 * explicit check that raises a typed `READ_OUT_OF_RANGE` error, and a `DataView` whose own extent
 * is the range, so even a missed check cannot reach a neighbouring byte.
 */

import { RtkitError } from '../errors.js';

/** Raised by `ByteReader` on any attempt to read outside its range; the parser turns it into a
 * `SECTION_DECODE_FAILED` warning, so a decoder bug shows up in results (and fuzz tests). */
export const READ_OUT_OF_RANGE = 'READ_OUT_OF_RANGE';

const utf8 = new TextDecoder('utf-8');

/** Decoded NUL-terminated string; `terminated` is false when the range ended first. */
export interface CString {
  text: string;
  terminated: boolean;
}

export class ByteReader {
  readonly length: number;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.length = bytes.byteLength;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** True when `n` bytes at `off` lie inside the range. */
  has(off: number, n: number): boolean {
    return off >= 0 && n >= 0 && off <= this.length - n;
  }

  private check(off: number, n: number): void {
    if (!(off >= 0 && off <= this.length - n)) {
      throw new RtkitError(
        READ_OUT_OF_RANGE,
        `read of ${n} bytes at ${off} outside a ${this.length}-byte range`,
        { offset: off, length: n, limit: this.length },
      );
    }
  }

  u8(off: number): number {
    this.check(off, 1);
    return this.view.getUint8(off);
  }

  u32(off: number): number {
    this.check(off, 4);
    return this.view.getUint32(off, true);
  }

  /**
   * u64 as `bigint`. Zero words are common (unused registers, FP state) and skip the bigint
   * allocation, which dominates decode time (about 30 ns per `getBigUint64` on Node 20).
   */
  u64(off: number): bigint {
    this.check(off, 8);
    const v = this.view;
    if (v.getUint32(off, true) === 0 && v.getUint32(off + 4, true) === 0) return 0n;
    return v.getBigUint64(off, true);
  }

  /** A zero-copy view of `n` bytes at `off`. */
  bytesAt(off: number, n: number): Uint8Array {
    this.check(off, n);
    return this.bytes.subarray(off, off + n);
  }

  /** True when the bytes at `off` spell `ascii` (false, not an error, when they would not fit). */
  startsWith(off: number, ascii: string): boolean {
    if (!this.has(off, ascii.length)) return false;
    for (let i = 0; i < ascii.length; i++) {
      if (this.bytes[off + i] !== ascii.charCodeAt(i)) return false;
    }
    return true;
  }

  /**
   * UTF-8 text from `off` to the first NUL or to `off + max` / the range end, whichever comes
   * first (ROBUSTNESS B3, B6: the search itself is bounded by the range).
   */
  cstring(off: number, max = this.length - off): CString {
    this.check(off, 0);
    const end = Math.min(this.length, off + Math.max(0, max));
    const field = this.bytes.subarray(off, end);
    const nul = field.indexOf(0);
    if (nul < 0) return { text: utf8.decode(field), terminated: false };
    return { text: utf8.decode(field.subarray(0, nul)), terminated: true };
  }
}
