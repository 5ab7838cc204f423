/**
 * The one 32-bit checksum of m1n1's proxy (`checksum()` in m1n1 `src/uartproxy.c`), used for frame
 * headers, bulk data and events (M1N1-PROXY.md §2.2). It fits 32-bit arithmetic: `Math.imul`
 * keeps the product exact modulo 2^32, which `×` on doubles would not.
 */

const SEED = 0xdeadbeef;
const MULTIPLIER = 31337;
const BYTE_XOR = 0x5a;
const FINAL_XOR = 0xaddedbad;

/** The data checksum both sides send instead of a real one once DISABLE_DATA_CSUMS is on (§5). */
export const DATA_CHECKSUM_DISABLED = 0xd0decade;
/** Appended after bulk data when data checksums are off (§3), as the u32 `0xB0CACC10`. */
export const DATA_SENTINEL = 0xb0cacc10;
/** The sentinel's wire bytes (little-endian). */
export const DATA_SENTINEL_BYTES: Readonly<Uint8Array> = Uint8Array.of(0x10, 0xcc, 0xca, 0xb0);

/** Checksum of `bytes[start, end)`; returns an unsigned 32-bit number. */
export function m1n1Checksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let s = SEED;
  for (let i = start; i < end; i++)
    s = (Math.imul(s, MULTIPLIER) + ((bytes[i]! ^ BYTE_XOR) >>> 0)) >>> 0;
  return (s ^ FINAL_XOR) >>> 0;
}

/** What goes into a `data_checksum` field: the checksum, or the constant when checksums are off. */
export function dataChecksumField(data: Uint8Array, checksums: boolean): number {
  return checksums ? m1n1Checksum(data) : DATA_CHECKSUM_DISABLED;
}
