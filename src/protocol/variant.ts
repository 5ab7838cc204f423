/**
 * A message kind is declared as data: its selector value, constant bits, named fields, the
 * direction it travels in and how to summarise it. Decoders, encoders, the property tests and
 * the generated message catalogue all come from these declarations.
 */

import { ErrorCode, RtkitError } from '../errors.js';
import type { BitField, FieldFormat } from './fields.js';
import type { Direction } from './word.js';

/** Bits of a word that no field of its kind covers, kept so that encode(decode(m)) === m. */
export interface ReservedBits {
  readonly hi: number;
  readonly lo: number;
}

/** Protocol state a word's meaning can depend on. Everything is optional. */
export interface DecodeContext {
  /** Unknown direction: a layout shared by both directions decodes as the IOP→AP meaning. */
  readonly dir?: Direction | null | undefined;
  /** Co-processor profile selecting application-endpoint protocols: 'smc', 'dcp', 'gpu', ... */
  readonly coproc?: string | undefined;
  /** EP1: the IOP already requested its crashlog buffer, so the next type-1 is a crash. */
  readonly crashlogArmed?: boolean | undefined;
  /** SMC: INITIALIZE was sent; the next IOP→AP word on 0x20 is the shared-memory address. */
  readonly smcShmemPending?: boolean | undefined;
  /** Negotiated protocol version (v10 moves the first application endpoint). */
  readonly version?: number | undefined;
  readonly minor?: number | undefined;
}

export type FieldValues<F> = {
  -readonly [N in keyof F]: F[N] extends BitField<'flag'> ? boolean : number;
};

export type Decoded<K extends string, F> = { kind: K } & FieldValues<F> & {
    reserved?: ReservedBits;
  };

export type VariantDirection = Direction | 'both';

export interface VariantSpec<K extends string, F extends Record<string, BitField>> {
  readonly kind: K;
  /** Upper-case protocol name as the sources write it (HELLO, SET_IOP_PWR_STATE, ...). */
  readonly title: string;
  readonly dir: VariantDirection;
  /** Value of the endpoint codec's selector field (its TYPE, usually); ignored without one. */
  readonly select: number;
  /** Further constant bits, e.g. STARTEP's FLAG = 2. */
  readonly fixed?: readonly (readonly [BitField, number])[];
  readonly fields: F;
  /** Context this kind requires; such kinds are tried before the context-free ones. */
  readonly when?: (ctx: DecodeContext) => boolean;
  /** Values the kind accepts beyond the field widths (checked on decode and encode). */
  readonly accept?: (v: FieldValues<F>) => boolean;
  readonly summary: (v: FieldValues<F>) => string;
  /** One sentence for the catalogue and the viewer. */
  readonly doc: string;
}

export interface Variant<
  K extends string = string,
  F extends Record<string, BitField> = Record<string, BitField>,
> extends VariantSpec<K, F> {
  readonly fieldNames: readonly string[];
  readonly fieldFormats: Readonly<Record<string, FieldFormat>>;
  /** Bits covered by the selector, the fixed bits and the fields. */
  readonly coverHi: number;
  readonly coverLo: number;
  /** Constant bits: selector value and fixed values, placed. */
  readonly constHi: number;
  readonly constLo: number;
  readonly constMaskHi: number;
  readonly constMaskLo: number;
  /** Build the decoded value; the caller has already checked the constant bits. */
  readonly build: (hi: number, lo: number) => Decoded<K, F>;
  /** The same decoder without code generation (used where `new Function` is not allowed). */
  readonly buildGeneric: (hi: number, lo: number) => Decoded<K, F>;
  readonly encodeWords: (v: Decoded<K, F>) => [number, number];
}

function isU32(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffff_ffff;
}

function fail(kind: string, msg: string): never {
  throw new RtkitError(ErrorCode.ENCODE_INVALID, `${kind}: ${msg}`, { kind });
}

/** Compile a declaration against the selector field of the endpoint codec it belongs to. */
export function defineVariant<K extends string, F extends Record<string, BitField>>(
  selector: BitField | null,
  spec: VariantSpec<K, F>,
): Variant<K, F> {
  const names = Object.keys(spec.fields);
  const fields = names.map((n) => spec.fields[n]!);
  const getters = fields.map((f) => f.get);
  const flags = fields.map((f) => f.format === 'flag');
  const fieldFormats: Record<string, FieldFormat> = {};
  names.forEach((n, i) => {
    fieldFormats[n] = fields[i]!.format;
  });

  // A kind with no selector (the SMC reply, whose RESULT byte is the SMC selector's position)
  // matches whatever the others leave over.
  let coverHi = selector?.maskHi ?? 0;
  let coverLo = selector?.maskLo ?? 0;
  const [selHi, selLo] = selector ? selector.place(spec.select) : [0, 0];
  let constHi = selHi;
  let constLo = selLo;
  let constMaskHi = coverHi;
  let constMaskLo = coverLo;
  for (const [f, v] of spec.fixed ?? []) {
    const [h, l] = f.place(v);
    constHi |= h;
    constLo |= l;
    constMaskHi |= f.maskHi;
    constMaskLo |= f.maskLo;
  }
  for (const f of fields) {
    if ((f.maskHi & coverHi) !== 0 || (f.maskLo & coverLo) !== 0) {
      throw new Error(`${spec.kind}: overlapping fields`);
    }
    coverHi |= f.maskHi;
    coverLo |= f.maskLo;
  }
  coverHi |= constMaskHi;
  coverLo |= constMaskLo;
  const freeHi = ~coverHi >>> 0;
  const freeLo = ~coverLo >>> 0;
  const kind = spec.kind;
  const n = names.length;

  const build = compileBuild<K, F>(kind, names, fields, freeHi, freeLo) ?? genericBuild;
  function genericBuild(hi: number, lo: number): Decoded<K, F> {
    const o: Record<string, unknown> = { kind };
    for (let i = 0; i < n; i++) {
      const v = getters[i]!(hi, lo);
      o[names[i]!] = flags[i] ? v === 1 : v;
    }
    const rh = hi & freeHi;
    const rl = lo & freeLo;
    if ((rh | rl) !== 0) o['reserved'] = { hi: rh >>> 0, lo: rl >>> 0 };
    return o as Decoded<K, F>;
  }

  const encodeWords = (v: Decoded<K, F>): [number, number] => {
    let hi = constHi;
    let lo = constLo;
    const rec = v as unknown as Record<string, unknown>;
    for (let i = 0; i < n; i++) {
      const name = names[i]!;
      const f = fields[i]!;
      const x = rec[name];
      let num: number;
      if (flags[i]) {
        if (typeof x !== 'boolean') fail(kind, `field ${name} must be a boolean`);
        num = x ? 1 : 0;
      } else {
        if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > f.max) {
          fail(kind, `field ${name} must be an integer in [0, ${f.max}], got ${String(x)}`);
        }
        num = x;
      }
      const [h, l] = f.place(num);
      hi |= h;
      lo |= l;
    }
    if (spec.accept && !spec.accept(v as FieldValues<F>)) fail(kind, 'values not accepted');
    const r = v.reserved;
    if (r !== undefined) {
      if (!isU32(r.hi) || !isU32(r.lo)) fail(kind, 'reserved.hi and reserved.lo must be uint32');
      if ((r.hi & ~freeHi) !== 0 || (r.lo & ~freeLo) !== 0) {
        fail(kind, 'reserved bits overlap the fields');
      }
      hi |= r.hi;
      lo |= r.lo;
    }
    return [hi >>> 0, lo >>> 0];
  };

  return {
    ...spec,
    fieldNames: names,
    fieldFormats,
    coverHi: coverHi >>> 0,
    coverLo: coverLo >>> 0,
    constHi: constHi >>> 0,
    constLo: constLo >>> 0,
    constMaskHi: constMaskHi >>> 0,
    constMaskLo: constMaskLo >>> 0,
    build,
    buildGeneric: genericBuild,
    encodeWords,
  };
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** JavaScript source of one field's extraction from `h` and `l`. */
function fieldSource(f: BitField): string {
  const m = (w: number): string => (w >= 32 ? '0xffffffff' : String(2 ** w - 1));
  let src: string;
  if (f.hi < 32) {
    src = f.width === 32 ? '(l >>> 0)' : `((l >>> ${f.lo}) & ${m(f.width)})`;
  } else if (f.lo >= 32) {
    src = f.width === 32 ? '(h >>> 0)' : `((h >>> ${f.lo - 32}) & ${m(f.width)})`;
  } else {
    src = `((l >>> ${f.lo}) + ((h & ${m(f.hi - 31)}) >>> 0) * ${2 ** (32 - f.lo)})`;
  }
  return f.format === 'flag' ? `(${src} === 1)` : src;
}

/**
 * Generate the decoder of one kind as a single object literal, from the same declarations the
 * generic loop uses. A literal gives V8 one stable object shape per kind, which is what makes a
 * full decode cost tens of nanoseconds (docs/word-representation.md). Where code generation is
 * not allowed (a strict Content-Security-Policy) the generic loop is used instead.
 */
function compileBuild<K extends string, F>(
  kind: K,
  names: readonly string[],
  fields: readonly BitField[],
  freeHi: number,
  freeLo: number,
): ((hi: number, lo: number) => Decoded<K, F>) | undefined {
  if (!IDENT.test(kind) || !names.every((n) => IDENT.test(n))) return undefined;
  const props = names.map((n, i) => `${n}: ${fieldSource(fields[i]!)}`);
  const body = `
    const o = { kind: '${kind}'${props.length ? `, ${props.join(', ')}` : ''} };
    const rh = h & ${freeHi >>> 0};
    const rl = l & ${freeLo >>> 0};
    if ((rh | rl) !== 0) o.reserved = { hi: rh >>> 0, lo: rl >>> 0 };
    return o;`;
  try {
    return new Function('h', 'l', body) as (hi: number, lo: number) => Decoded<K, F>;
  } catch {
    return undefined;
  }
}
