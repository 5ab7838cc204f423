/**
 * Fuzz both parsers with random byte streams and random chunkings: they never throw, every input
 * byte comes out exactly once, every valid frame hidden in garbage is found (after `flush` at the
 * latest, for a candidate that announced more bytes than ever arrived), memory stays bounded, and
 * the items do not depend on how the stream was chunked.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bulkWireLength } from './bulk.js';
import { encodeEvent, encodeRequest, proxyRequest } from './frames.js';
import { type ReplyItem, ReplyParser, type RequestItem, RequestParser } from './parser.js';
import {
  concatBytes,
  EVENT_IRQTRACE,
  hexBytes,
  REPLY_VECTORS,
  REQUEST_VECTORS,
  toHex,
} from './testing/vectors.js';

type Item = ReplyItem | RequestItem;
type Parser = ReplyParser | RequestParser;

/** Random bytes mixed with fragments of the frame prefix, the hard cases for resync. */
const FRAGMENTS = [
  'ff',
  'ff55',
  'ff55aa',
  'ff55aa01',
  'ff55aa05',
  'ff55aa05ffff',
  'ff55aa0508',
].map(hexBytes);
const garbage = fc
  .array(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.constantFrom(...FRAGMENTS)), {
    maxLength: 6,
  })
  .map((parts) => concatBytes(...parts));

const REPLY_FRAMES = [
  ...Object.values(REPLY_VECTORS).map(hexBytes),
  hexBytes(EVENT_IRQTRACE),
  encodeEvent({ kind: 'unknown', eventType: 7, data: new Uint8Array(40).fill(0xff) }),
];
const REQUEST_FRAMES = [
  ...Object.values(REQUEST_VECTORS).map(hexBytes),
  encodeRequest(proxyRequest(0x105, 0xffaa55ffn, 0xff55aaffn)),
];

/** A stream of garbage and valid frames, and the cut points of a random chunking. */
function scenario(frames: readonly Uint8Array[]) {
  return fc
    .record({
      parts: fc.array(fc.tuple(garbage, fc.constantFrom(...frames)), { maxLength: 5 }),
      tail: garbage,
      cuts: fc.array(fc.nat(), { maxLength: 12 }),
    })
    .map(({ parts, tail, cuts }) => {
      const stream = concatBytes(...parts.flat(), tail);
      const at = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
      const chunks = [0, ...at, stream.length]
        .slice(1)
        .map((end, i, ends) => stream.subarray(i === 0 ? 0 : ends[i - 1], end));
      return { stream, chunks, frames: parts.map(([, f]) => f) };
    });
}

function bytesOf(i: Item): Uint8Array {
  return i.kind === 'data' ? i.data : i.bytes;
}

/** Feed chunk by chunk, checking the memory bound after each; then flush. */
function run(p: Parser, chunks: readonly Uint8Array[]): Item[] {
  const items: Item[] = [];
  for (const c of chunks) {
    items.push(...p.push(c));
    expect(p.buffered).toBeLessThan(p.maxFrameLength);
  }
  items.push(...p.flush());
  expect(p.buffered).toBe(0);
  return items;
}

/** Adjacent console items merged, everything as comparable strings. */
function normalise(items: readonly Item[]): string[] {
  const out: string[] = [];
  let pending = '';
  for (const i of items) {
    if (i.kind === 'console') {
      pending += toHex(i.bytes);
      continue;
    }
    if (pending) out.push(`console:${pending}`);
    pending = '';
    out.push(`${i.kind}:${i.kind === 'discarded' ? i.reason : ''}:${toHex(bytesOf(i))}`);
  }
  if (pending) out.push(`console:${pending}`);
  return out;
}

const PARSERS: [string, () => Parser, readonly Uint8Array[]][] = [
  ['ReplyParser', () => new ReplyParser(), REPLY_FRAMES],
  ['ReplyParser (maxEventLength 64)', () => new ReplyParser({ maxEventLength: 64 }), REPLY_FRAMES],
  ['RequestParser', () => new RequestParser(), REQUEST_FRAMES],
];

for (const [name, make, frames] of PARSERS) {
  describe(`${name} fuzz`, () => {
    it('finds every valid frame, keeps every byte once, and ignores chunking', () => {
      fc.assert(
        fc.property(scenario(frames), ({ stream, chunks, frames: inserted }) => {
          const items = run(make(), chunks);
          expect(toHex(concatBytes(...items.map(bytesOf)))).toBe(toHex(stream));
          const found = items.filter((i) => ['reply', 'event', 'request'].includes(i.kind));
          expect(found.map((i) => toHex(bytesOf(i)))).toEqual(inserted.map(toHex));
          expect(normalise(items)).toEqual(normalise(run(make(), [stream])));
        }),
        { numRuns: 300 },
      );
    });

    it('never throws on arbitrary bytes and arbitrary chunks', () => {
      fc.assert(
        fc.property(fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 10 }), (chunks) => {
          const items = run(make(), chunks);
          expect(toHex(concatBytes(...items.map(bytesOf)))).toBe(toHex(concatBytes(...chunks)));
        }),
        { numRuns: 300 },
      );
    });
  });
}

describe("afterBadFrame: 'skip' fuzz", () => {
  it('never throws, keeps every byte once and stays bounded', () => {
    fc.assert(
      fc.property(scenario(REPLY_FRAMES), ({ stream, chunks }) => {
        const items = run(new ReplyParser({ afterBadFrame: 'skip' }), chunks);
        expect(toHex(concatBytes(...items.map(bytesOf)))).toBe(toHex(stream));
      }),
      { numRuns: 200 },
    );
  });
});

describe('flush with bulk data pending', () => {
  it('keeps every byte once, leaves the parser empty and scanning for frames again', () => {
    const nop = hexBytes(REPLY_VECTORS.nopAccepted);
    fc.assert(
      fc.property(
        fc.nat({ max: 64 }),
        fc.boolean(),
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 4 }),
        (size, checksums, chunks) => {
          const p = new ReplyParser({ dataChecksums: checksums });
          p.readData(size, { checksums, expected: 0 });
          const items: Item[] = [];
          for (const c of chunks) items.push(...p.push(c));
          items.push(...p.flush());
          expect(p.buffered).toBe(0);
          const stream = concatBytes(...chunks);
          let rest = items;
          let from = 0;
          if (items[0]?.kind === 'data') {
            // Complete data comes first; its sentinel (checksums off) is not part of `data`.
            expect(toHex(items[0].data)).toBe(toHex(stream.subarray(0, size)));
            rest = items.slice(1);
            from = bulkWireLength(size, checksums);
          } else {
            expect(stream.length).toBeLessThan(bulkWireLength(size, checksums));
          }
          expect(rest.some((i) => i.kind === 'data')).toBe(false);
          expect(toHex(concatBytes(...rest.map(bytesOf)))).toBe(toHex(stream.subarray(from)));
          expect(p.push(nop).map((i) => i.kind)).toEqual(['reply']);
        },
      ),
      { seed: 0x5eed, numRuns: 300 },
    );
  });
});
