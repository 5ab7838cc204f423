// Malformed and random input never throws once the format is known; every record stays JSON-safe.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTrace, type TraceDecoderOptions } from './decoder.js';
import type { TraceOutput } from './records.js';
import { renderText, toJsonLine } from './render.js';

const DIR = join(import.meta.dirname, '../../test/fixtures');
const LINES = readdirSync(DIR)
  .filter((f) => f.endsWith('.txt'))
  .flatMap((f) => readFileSync(join(DIR, f), 'utf8').split('\n'))
  .filter((l) => l.length > 0);

const EXTRA = [
  '{"t":0.5,"dir":"iop->ap","coproc":"smc","ep":32,"msg":"0x0000000000000000"}',
  '{"rtkitTrace":1,"coproc":"dcp"}',
  '> 20 0x0000000000000017 # c',
  'apple-dcp 1.dcp:   x00-x03 = 0000000000000000 0000000000000001 0000000000000002 0000000000000003',
  'apple-dcp 1.dcp:   PSR    = 0x600012c5',
  'apple-dcp 1.dcp: RTKit: Mailbox history (type = 0, index = 1)',
  'apple-dcp 1.dcp: RTKit: Message (id=1): x',
  'apple-dcp 1.dcp: RTKit: Crash time: 99999999999999999999',
];

const SEEDS = [...LINES, ...EXTRA];

/** Insert, delete or replace characters of a real line. */
const mutated = fc
  .tuple(
    fc.constantFrom(...SEEDS),
    fc.array(fc.tuple(fc.nat(), fc.nat(2), fc.string({ maxLength: 3, unit: 'binary' })), {
      maxLength: 6,
    }),
  )
  .map(([line, edits]) => {
    let s = line;
    for (const [pos, op, ins] of edits) {
      const p = pos % (s.length + 1);
      if (op === 0) s = s.slice(0, p) + ins + s.slice(p);
      else if (op === 1) s = s.slice(0, p) + s.slice(p + 1);
      else s = s.slice(0, p) + ins + s.slice(p + ins.length);
    }
    return s;
  });

const anyLine = fc.oneof(
  mutated,
  fc.string({ maxLength: 120, unit: 'binary' }),
  fc.constantFrom(...SEEDS),
);

function check(rs: TraceOutput[]): void {
  for (const r of rs) {
    const back = JSON.parse(toJsonLine(r)) as TraceOutput;
    expect(back).toEqual(r);
    expect(typeof renderText(r)).toBe('string');
    if (r.type === 'message') {
      expect(r.msg).toMatch(/^0x[0-9a-f]{16}$/);
      expect(r.ep).toBeGreaterThanOrEqual(0);
      expect(r.ep).toBeLessThanOrEqual(255);
    }
  }
}

describe('fuzz: never throws', () => {
  for (const format of ['kernel', 'jsonl', 'plain'] as const) {
    it(`${format}: mutated and random lines`, () => {
      const opts: TraceDecoderOptions = { format, maxLineLength: 200, crashIdleLines: 20 };
      fc.assert(
        fc.property(
          fc.array(anyLine, { maxLength: 40 }),
          fc.constantFrom('\n', '\r\n'),
          (lines, eol) => {
            check(decodeTrace(lines.join(eol), opts));
          },
        ),
        { numRuns: 400 },
      );
    });
  }

  it('auto-detected text never throws except UNKNOWN_FORMAT', () => {
    fc.assert(
      fc.property(fc.array(anyLine, { maxLength: 30 }), (lines) => {
        try {
          check(decodeTrace(lines.join('\n')));
        } catch (e) {
          expect((e as Error).message).toMatch(/^UNKNOWN_FORMAT/);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('random bytes through the UTF-8 path never throw once the format is forced', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        check(decodeTrace(bytes, { format: 'kernel' }));
        check(decodeTrace(bytes, { format: 'jsonl' }));
        check(decodeTrace(bytes, { format: 'plain' }));
      }),
      { numRuns: 200 },
    );
  });
});
