/**
 * Field extraction over many words at once, for traces of millions of messages (the viewer's
 * filters, statistics). Words are stored interleaved in a Uint32Array as [hi0, lo0, hi1, lo1, …];
 * the loops below are specialised per field position so the hot path is two typed-array loads,
 * a shift and a mask, with no call per word.
 */

import type { BitField } from './fields.js';

/** Number of words in an interleaved [hi, lo] array. */
export function wordCount(words: Uint32Array): number {
  return words.length >>> 1;
}

/**
 * Write `field` of every word into `out` (which must hold at least as many entries as there are
 * words). Fields wider than 32 bits need a Float64Array.
 */
export function extractField(
  field: BitField,
  words: Uint32Array,
  out: Uint32Array | Float64Array,
): void {
  const n = words.length >>> 1;
  if (out.length < n) throw new RangeError(`output holds ${out.length} values, need ${n}`);
  if (field.width > 32 && !(out instanceof Float64Array)) {
    throw new RangeError(`field [${field.hi}:${field.lo}] needs a Float64Array`);
  }
  const lo = field.lo;
  if (field.hi < 32) {
    const m = field.maskLo >>> lo;
    for (let i = 0; i < n; i++) out[i] = ((words[2 * i + 1]! >>> lo) & m) >>> 0;
  } else if (lo >= 32) {
    const s = lo - 32;
    const m = field.maskHi >>> s;
    for (let i = 0; i < n; i++) out[i] = ((words[2 * i]! >>> s) & m) >>> 0;
  } else {
    const scale = 2 ** (32 - lo);
    const mh = field.maskHi;
    for (let i = 0; i < n; i++)
      out[i] = (words[2 * i + 1]! >>> lo) + ((words[2 * i]! & mh) >>> 0) * scale;
  }
}

/** Count the words whose `field` equals `value` (a filter without materialising anything). */
export function countMatching(field: BitField, value: number, words: Uint32Array): number {
  const n = words.length >>> 1;
  let count = 0;
  if (field.width > 32) {
    for (let i = 0; i < n; i++) if (field.get(words[2 * i]!, words[2 * i + 1]!) === value) count++;
    return count;
  }
  const wantLo = field.hi < 32;
  const shift = wantLo ? field.lo : field.lo - 32;
  const m = (wantLo ? field.maskLo : field.maskHi) >>> shift;
  const off = wantLo ? 1 : 0;
  for (let i = 0; i < n; i++) if (((words[2 * i + off]! >>> shift) & m) >>> 0 === value) count++;
  return count;
}
