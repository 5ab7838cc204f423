/**
 * The 64-bit mailbox word. Inside the codecs a word travels as two unsigned 32-bit halves
 * (`hi`, `lo`): field extraction is then plain 32-bit integer arithmetic, which V8 runs about
 * 30 times faster than the same shifts on `bigint` (measured: docs/word-representation.md).
 * `bigint` and `0x…` strings are accepted and produced at the API edge.
 */

import { ErrorCode, RtkitError } from '../errors.js';

export type Direction = 'ap->iop' | 'iop->ap';

/** Anything a caller may hand us as a 64-bit word. */
export type WordInput = bigint | number | string;

const TWO32 = 0x1_0000_0000;
const MASK32 = 0xffff_ffffn;

/**
 * Split a 64-bit value into halves. Anything that is not a 64-bit word (out of range, not an
 * integer, not a hex string, not a number at all) is API misuse: RtkitError BAD_INPUT.
 */
export function splitWord(w: WordInput): { hi: number; lo: number } {
  if (typeof w === 'bigint') {
    if (w < 0n || w > 0xffff_ffff_ffff_ffffn) throw notAWord(w);
    return { hi: Number(w >> 32n), lo: Number(w & MASK32) };
  }
  if (typeof w === 'number') {
    if (!Number.isSafeInteger(w) || w < 0) throw notAWord(w);
    return { hi: Math.floor(w / TWO32), lo: w >>> 0 };
  }
  const parsed = typeof w === 'string' ? parseHex64(w) : undefined;
  if (parsed === undefined) throw notAWord(w);
  return parsed;
}

function notAWord(w: unknown): RtkitError {
  const shown =
    typeof w === 'bigint' ? `${w}n` : typeof w === 'string' ? JSON.stringify(w) : String(w);
  return new RtkitError(ErrorCode.BAD_INPUT, `not a 64-bit word: ${shown}`);
}

export function joinWord(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

const HEX = '0123456789abcdef';
const BYTE_HEX: string[] = Array.from({ length: 256 }, (_, i) => HEX[i >> 4]! + HEX[i & 15]!);

/** `0x` + 16 lower-case hex digits: the one spelling of a message word in our outputs. */
export function hex64(hi: number, lo: number): string {
  return `0x${BYTE_HEX[hi >>> 24]}${BYTE_HEX[(hi >>> 16) & 255]}${BYTE_HEX[(hi >>> 8) & 255]}${BYTE_HEX[hi & 255]}${BYTE_HEX[lo >>> 24]}${BYTE_HEX[(lo >>> 16) & 255]}${BYTE_HEX[(lo >>> 8) & 255]}${BYTE_HEX[lo & 255]}`;
}

export function hex64Of(w: bigint): string {
  return `0x${w.toString(16).padStart(16, '0')}`;
}

/** `0x` + minimal lower-case hex of a non-negative safe integer (addresses, states, sizes). */
export function hexNum(n: number): string {
  return `0x${n.toString(16)}`;
}

/**
 * Parse 1–16 hex digits, with or without `0x`. Short values are left-padded, which is what
 * Linux's unpadded `%llx` output needs (PROTOCOL.md §11).
 */
export function parseHex64(s: string): { hi: number; lo: number } | undefined {
  let t = s.trim();
  if (t.startsWith('0x') || t.startsWith('0X')) t = t.slice(2);
  if (t.length === 0 || t.length > 16 || !/^[0-9a-fA-F]+$/.test(t)) return undefined;
  const split = t.length - 8;
  if (split <= 0) return { hi: 0, lo: Number.parseInt(t, 16) >>> 0 };
  return {
    hi: Number.parseInt(t.slice(0, split), 16) >>> 0,
    lo: Number.parseInt(t.slice(split), 16) >>> 0,
  };
}
