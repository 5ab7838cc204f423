/**
 * Address arithmetic and argument checks shared by the memory model.
 *
 * Physical and device addresses are JavaScript numbers below 2^44 (PROTOCOL.md §6.1: the buffer
 * IOVA field is `[43:0]`, and ML widened it to 44 bits because a real GPU address needed them).
 * `&` and `|` only work on 32 bits, so mask arithmetic on 44-bit values is done on two halves.
 */

import { RtkitError } from '../../errors.js';

/** The simulated physical address space is [0, 2^44). */
export const PHYS_LIMIT = 2 ** 44;

/**
 * Error codes thrown by the memory model. All of them mean misuse by host or simulator code;
 * firmware (DMA) misbehaviour is never thrown, it is recorded as a DmaFault.
 */
export const MemoryErrorCode = {
  /** Address outside [0, 2^44), not an integer, or a range that leaves a region. */
  OUT_OF_RANGE: 'MEMORY_OUT_OF_RANGE',
  /** Address or size not a multiple of the granularity the unit requires. */
  MISALIGNED: 'MEMORY_MISALIGNED',
  /** `free()` of an address that is not a live allocation (double free, wrong address). */
  FREE_INVALID: 'MEMORY_FREE_INVALID',
  /** `Dart.map()` over a page that is already mapped in that stream. */
  DART_OVERLAP: 'DART_OVERLAP',
  /** DART stream id outside the unit's streams. */
  DART_STREAM_INVALID: 'DART_STREAM_INVALID',
  /** SART slot index outside 0–15, or revoking an empty slot. */
  SART_SLOT_INVALID: 'SART_SLOT_INVALID',
  /** Revoking an entry the bootloader created (PROTOCOL.md §6.2: must be preserved). */
  SART_SLOT_RESERVED: 'SART_SLOT_RESERVED',
  /** Malformed argument: non-integer size, bad option, register value out of range. */
  BAD_INPUT: 'BAD_INPUT',
} as const;

const TWO32 = 0x1_0000_0000;

export function hex(n: number): string {
  return Number.isFinite(n) ? `0x${n.toString(16)}` : String(n);
}

/** Whether `[addr, addr + len)` is a well-formed range inside the physical address space. */
export function inSpace(addr: number, len: number): boolean {
  return (
    Number.isSafeInteger(addr) &&
    Number.isSafeInteger(len) &&
    addr >= 0 &&
    len >= 0 &&
    addr < PHYS_LIMIT &&
    addr + len <= PHYS_LIMIT
  );
}

/** Throw MEMORY_OUT_OF_RANGE unless `[addr, addr + len)` lies inside [0, 2^44). */
export function checkSpace(addr: number, len: number, what: string): void {
  if (!inSpace(addr, len)) {
    throw new RtkitError(
      MemoryErrorCode.OUT_OF_RANGE,
      `${what}: range ${hex(addr)}+${hex(len)} is outside the physical address space [0, 2^44)`,
      { addr, len },
    );
  }
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** Exact for non-negative integers below 2^53 and power-of-two `align`. */
export function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

export function isAligned(n: number, align: number): boolean {
  return n % align === 0;
}

/** `a & b` for non-negative integers below 2^53. */
export function and53(a: number, b: number): number {
  const hi = Math.floor(a / TWO32) & Math.floor(b / TWO32);
  return (hi >>> 0) * TWO32 + (((a >>> 0) & (b >>> 0)) >>> 0);
}

/** `a | b` for non-negative integers below 2^53. */
export function or53(a: number, b: number): number {
  const hi = Math.floor(a / TWO32) | Math.floor(b / TWO32);
  return (hi >>> 0) * TWO32 + (((a >>> 0) | (b >>> 0)) >>> 0);
}

/**
 * Check an `asc-dram-mask` value: a non-negative integer below 2^44, so that a masked address
 * still fits the 44-bit IOVA field of a buffer message (§6.1).
 */
export function checkDramMask(mask: number): void {
  if (!inSpace(mask, 0)) {
    throw new RtkitError(
      MemoryErrorCode.BAD_INPUT,
      `asc-dram-mask ${hex(mask)} must be an integer in [0, 2^44)`,
      { mask },
    );
  }
}

/**
 * The device address the IOP must be given for `addr` (PROTOCOL.md §6.2, m1n1-C: "OR the mask into
 * every device address handed to the IOP").
 */
export function applyDramMask(addr: number, mask: number): number {
  return or53(addr, mask);
}

/**
 * The address behind a device address the IOP used, or undefined when any mask bit is missing.
 * Strict on purpose [inferred]: the mask exists because the IOP reaches DRAM only through the
 * part of its address map those bits select, so an address without them never reaches the
 * IOMMU or the SART. m1n1-C only ever strips the mask from addresses the IOP reports.
 */
export function stripDramMask(addr: number, mask: number): number | undefined {
  if (mask === 0) return addr;
  if (and53(addr, mask) !== mask) return undefined;
  return addr - mask;
}
