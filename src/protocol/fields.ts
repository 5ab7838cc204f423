/**
 * Bit fields of a 64-bit message word, declared once (`bits(59, 52)`, as the kernel and m1n1
 * write them) and compiled into getters and setters on the two 32-bit halves of the word.
 * Every codec in this folder, the simulator and the viewer use these declarations: there is no
 * second copy of any bit position.
 */

/** How a field's value is best shown to a person (and in JSON output). */
export type FieldFormat = 'dec' | 'hex' | 'flag' | 'fourcc' | 'power' | 'page';

export interface BitField<F extends FieldFormat = FieldFormat> {
  readonly hi: number;
  readonly lo: number;
  readonly width: number;
  readonly format: F;
  /** Field value from the two halves of a word; always a non-negative safe integer. */
  readonly get: (hi: number, lo: number) => number;
  /** The halves of a word holding `v` in this field and zero elsewhere. */
  readonly place: (v: number) => readonly [number, number];
  /** Which bits of each half this field covers. */
  readonly maskHi: number;
  readonly maskLo: number;
  readonly max: number;
}

const TWO32 = 0x1_0000_0000;

function lowMask(width: number): number {
  return width >= 32 ? 0xffff_ffff : ((1 << width) >>> 0) - 1;
}

/**
 * A field `[hi:lo]` (inclusive, bit 0 least significant). Widths up to 53 bits are allowed so
 * that every value is an exact JavaScript number.
 */
export function bits<F extends FieldFormat = 'dec'>(
  hi: number,
  lo: number,
  format: F = 'dec' as F,
): BitField<F> {
  if (!(Number.isInteger(hi) && Number.isInteger(lo) && lo >= 0 && hi >= lo && hi <= 63)) {
    throw new RangeError(`bad bit range [${hi}:${lo}]`);
  }
  const width = hi - lo + 1;
  if (width > 53) throw new RangeError(`field [${hi}:${lo}] is wider than 53 bits`);
  const max = 2 ** width - 1;
  let get: BitField['get'];
  let place: BitField['place'];
  let maskHi = 0;
  let maskLo = 0;
  if (hi < 32) {
    const m = lowMask(width);
    maskLo = (m << lo) >>> 0;
    get = width === 32 ? (_h, l) => l >>> 0 : (_h, l) => (l >>> lo) & m;
    place = (v) => [0, ((v & m) << lo) >>> 0];
  } else if (lo >= 32) {
    const s = lo - 32;
    const m = lowMask(width);
    maskHi = (m << s) >>> 0;
    get = width === 32 ? (h) => h >>> 0 : (h) => (h >>> s) & m;
    place = (v) => [((v & m) << s) >>> 0, 0];
  } else {
    // Straddles the halves: low part is bits [31:lo] of `lo`, high part bits [hi-32:0] of `hi`.
    const lowWidth = 32 - lo;
    const highWidth = hi - 31;
    const mh = lowMask(highWidth);
    const scale = 2 ** lowWidth;
    maskLo = (lowMask(lowWidth) << lo) >>> 0;
    maskHi = mh;
    get = (h, l) => (l >>> lo) + ((h & mh) >>> 0) * scale;
    place = (v) => {
      const low = v % scale;
      const high = Math.floor(v / scale);
      return [(high & mh) >>> 0, ((low * 2 ** lo) % TWO32) >>> 0];
    };
  }
  return { hi, lo, width, format, get, place, maskHi, maskLo, max };
}

/** A one-bit field decoded as a boolean. */
export function flag(bit: number): BitField<'flag'> {
  return bits(bit, bit, 'flag');
}
