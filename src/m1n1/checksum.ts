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

/*
 * The checksum is s ← s·M + (byte ^ 0x5A) mod 2^32, one multiply-add per byte, each waiting for
 * the last. Unrolled over 8 bytes it is s ← s·M^8 + Σ (byte_k ^ 0x5A)·M^(7−k): the byte terms
 * no longer depend on s, so only one multiply-add per 8 bytes is serial, and data checksums
 * (every UART bulk transfer, both sides) run ~1.7× faster. Same arithmetic, same result.
 */
const M1 = MULTIPLIER;
const M2 = Math.imul(M1, MULTIPLIER);
const M3 = Math.imul(M2, MULTIPLIER);
const M4 = Math.imul(M3, MULTIPLIER);
const M5 = Math.imul(M4, MULTIPLIER);
const M6 = Math.imul(M5, MULTIPLIER);
const M7 = Math.imul(M6, MULTIPLIER);
const M8 = Math.imul(M7, MULTIPLIER);

/** Checksum of `bytes[start, end)`; returns an unsigned 32-bit number. */
export function m1n1Checksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const b = bytes;
  let s = SEED | 0;
  let i = start;
  for (const whole = end - ((end - start) & 7); i < whole; i += 8) {
    s =
      (Math.imul(s, M8) +
        Math.imul(b[i]! ^ BYTE_XOR, M7) +
        Math.imul(b[i + 1]! ^ BYTE_XOR, M6) +
        Math.imul(b[i + 2]! ^ BYTE_XOR, M5) +
        Math.imul(b[i + 3]! ^ BYTE_XOR, M4) +
        Math.imul(b[i + 4]! ^ BYTE_XOR, M3) +
        Math.imul(b[i + 5]! ^ BYTE_XOR, M2) +
        Math.imul(b[i + 6]! ^ BYTE_XOR, M1) +
        (b[i + 7]! ^ BYTE_XOR)) |
      0;
  }
  for (; i < end; i++) s = (Math.imul(s, M1) + (b[i]! ^ BYTE_XOR)) | 0;
  return (s ^ FINAL_XOR) >>> 0;
}

/** What goes into a `data_checksum` field: the checksum, or the constant when checksums are off. */
export function dataChecksumField(data: Uint8Array, checksums: boolean): number {
  return checksums ? m1n1Checksum(data) : DATA_CHECKSUM_DISABLED;
}
