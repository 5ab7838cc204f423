import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allVariants,
  CODECS,
  type CodecName,
  type DecodeContext,
  decodeWords,
  encodeWords,
  fieldsOf,
  type Message,
  notesFor,
  summarize,
  type Variant,
} from './index.js';

// Where each codec lives: an endpoint and the co-processor profile that selects it.
const HOME: Record<CodecName, { ep: number; coproc?: string }> = {
  management: { ep: 0 },
  crashlog: { ep: 1 },
  syslog: { ep: 2 },
  kdebug: { ep: 3 },
  ioreport: { ep: 4 },
  oslog: { ep: 8 },
  smc: { ep: 0x20, coproc: 'smc' },
  iomfb: { ep: 0x37, coproc: 'dcp' },
  afk: { ep: 0x2a, coproc: 'dcp' },
  gpu: { ep: 0x21, coproc: 'gpu' },
  sio: { ep: 0x20, coproc: 'sio' },
  pmp: { ep: 0x20, coproc: 'pmp' },
};

function homeOf(v: Variant): { ep: number; coproc?: string } {
  for (const [name, c] of Object.entries(CODECS)) {
    if (c.variants.includes(v)) return HOME[name as CodecName];
  }
  throw new Error(`no codec for ${v.kind}`);
}

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });

function fieldValue(max: number, isFlag: boolean): fc.Arbitrary<number | boolean> {
  if (isFlag) return fc.boolean();
  return fc.oneof(fc.constant(0), fc.constant(max), fc.integer({ min: 0, max }));
}

/** An arbitrary message of one kind with its decode context, reserved bits included. */
function messageOf(v: Variant): fc.Arbitrary<{ m: Message; ep: number; ctx: DecodeContext }> {
  const record: Record<string, fc.Arbitrary<number | boolean>> = {};
  for (const name of v.fieldNames) {
    const f = v.fields[name]!;
    record[name] = fieldValue(f.max, f.format === 'flag');
  }
  const home = homeOf(v);
  const dirs = v.dir === 'both' ? (['ap->iop', 'iop->ap'] as const) : ([v.dir] as const);
  return fc
    .record({
      values: fc.record(record),
      rHi: u32,
      rLo: u32,
      withReserved: fc.boolean(),
      dir: fc.constantFrom(...dirs),
    })
    .filter(({ values }) => !v.accept || v.accept(values as never))
    .map(({ values, rHi, rLo, withReserved, dir }) => {
      const m: Record<string, unknown> = { kind: v.kind, ...values };
      const hi = (rHi & ~v.coverHi) >>> 0;
      const lo = (rLo & ~v.coverLo) >>> 0;
      if (withReserved && (hi | lo) !== 0) m['reserved'] = { hi, lo };
      const ctx: DecodeContext = {
        dir,
        ...(home.coproc ? { coproc: home.coproc } : {}),
        ...(v.kind === 'crashNotification' ? { crashlogArmed: true } : {}),
        ...(v.kind === 'smcShmemAddress' ? { smcShmemPending: true } : {}),
      };
      return { m: m as unknown as Message, ep: home.ep, ctx };
    });
}

const variants = allVariants();

describe('codec round trips', () => {
  it('covers every declared kind', () => {
    expect(variants.length).toBeGreaterThan(80);
  });

  for (const v of variants) {
    it(`decode(encode(v)) equals v for ${v.kind}`, () => {
      fc.assert(
        fc.property(messageOf(v), ({ m, ep, ctx }) => {
          const [hi, lo] = encodeWords(m);
          expect(decodeWords(ep, hi, lo, ctx)).toEqual(m);
        }),
        { seed: 42, numRuns: 200 },
      );
    });
  }

  const contexts = fc.record(
    {
      dir: fc.constantFrom('ap->iop', 'iop->ap', null, undefined),
      coproc: fc.constantFrom('smc', 'dcp', 'gpu', 'aop', 'sio', 'pmp', 'ans', undefined),
      crashlogArmed: fc.boolean(),
      smcShmemPending: fc.boolean(),
      version: fc.constantFrom(10, 11, 12, undefined),
      minor: fc.constantFrom(0, 1, 2, undefined),
    },
    { requiredKeys: [] },
  ) as fc.Arbitrary<DecodeContext>;

  // Words biased towards the type values the codecs know, so that every kind is reached often.
  const word = fc.oneof(
    fc.tuple(u32, u32),
    fc.tuple(
      fc.integer({ min: 0, max: 0xff }).map((t) => (t << 20) >>> 0),
      u32,
    ),
    fc.tuple(
      fc.integer({ min: 0, max: 0xff }).map((t) => (t << 24) >>> 0),
      u32,
    ),
    fc.tuple(
      fc.integer({ min: 0, max: 0xffff }).map((t) => (t << 16) >>> 0),
      u32,
    ),
    fc.tuple(fc.constant(0), fc.integer({ min: 0, max: 0xfff })),
  );

  it('any word on any endpoint 0–255 decodes without throwing, and encode(decode(m)) === m', () => {
    fc.assert(
      fc.property(word, fc.integer({ min: 0, max: 255 }), contexts, ([hi, lo], ep, ctx) => {
        const m = decodeWords(ep, hi, lo, ctx);
        expect(typeof m.kind).toBe('string');
        expect(encodeWords(m)).toEqual([hi, lo]);
        // Presentation never throws either and stays JSON-safe.
        expect(typeof summarize(m)).toBe('string');
        JSON.stringify(fieldsOf(m));
        notesFor(m, ctx);
      }),
      { seed: 7, numRuns: 50_000 },
    );
  });

  it('edge words: 0, all ones, bit 63 alone, on every endpoint', () => {
    for (let ep = 0; ep < 256; ep++) {
      for (const [hi, lo] of [
        [0, 0],
        [0xffff_ffff, 0xffff_ffff],
        [0x8000_0000, 0],
        [0, 1],
      ] as const) {
        for (const coproc of [undefined, 'smc', 'dcp', 'gpu']) {
          const m = decodeWords(ep, hi, lo, { coproc });
          expect(encodeWords(m)).toEqual([hi, lo]);
        }
      }
    }
  });

  it('the generated decoders agree with the generic field loop on any word', () => {
    fc.assert(
      fc.property(u32, u32, (hi, lo) => {
        for (const v of variants) expect(v.build(hi, lo)).toEqual(v.buildGeneric(hi, lo));
      }),
      { seed: 11, numRuns: 2000 },
    );
  });

  it('rejects malformed values on encode with a typed error', () => {
    expect(() =>
      encodeWords({
        kind: 'hello',
        minVersion: 1,
        maxVersion: 1,
        reserved: { hi: Number.NaN, lo: 0 },
      } as Message),
    ).toThrow(/ENCODE_INVALID/);
    expect(() =>
      encodeWords({
        kind: 'hello',
        minVersion: 1,
        maxVersion: 1,
        reserved: { hi: 0, lo: 2 ** 40 },
      } as Message),
    ).toThrow(/ENCODE_INVALID/);
    expect(() =>
      encodeWords({ kind: 'hello', minVersion: 0x10000, maxVersion: 1 } as Message),
    ).toThrow(/ENCODE_INVALID/);
    expect(() => encodeWords({ kind: 'nope' } as unknown as Message)).toThrow(/ENCODE_INVALID/);
    expect(() => encodeWords({ kind: 'crashTrigger', code: 0x41 } as Message)).toThrow(
      /ENCODE_INVALID/,
    );
    expect(() =>
      encodeWords({ kind: 'epmap', bitmap: 1, base: 0, last: 1 } as unknown as Message),
    ).toThrow(/ENCODE_INVALID/);
  });
});
