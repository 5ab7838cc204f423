import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../errors.js';
import { validateSyslogGeometry } from './geometry.js';

const INVALID = ErrorCode.SYSLOG_GEOMETRY_INVALID;

describe('validateSyslogGeometry', () => {
  it('accepts the simulator default (count 64, size 0x80) without a buffer', () => {
    expect(validateSyslogGeometry(64, 0x80)).toEqual({
      entryCount: 64,
      messageSize: 0x80,
      stride: 0xa0,
      usableEntries: 64,
      problems: [],
    });
  });

  it('accepts a ring that exactly fills its buffer', () => {
    // 0x20 × (0x20 + 0x60) = 0x1000
    const g = validateSyslogGeometry(0x20, 0x60, 0x1000);
    expect(g).toMatchObject({
      stride: 0x80,
      usableEntries: 0x20,
      bufferSize: 0x1000,
      problems: [],
    });
  });

  it('B9: count 255, size 0x80 in one page → invalid, 25 usable', () => {
    const g = validateSyslogGeometry(255, 0x80, 4096);
    expect(g.stride).toBe(0xa0);
    expect(g.usableEntries).toBe(25);
    expect(g.problems.map((p) => p.code)).toEqual([INVALID]);
    expect(g.problems[0]?.message).toContain('only 25 entries');
  });

  it('B10: size 0 or count 0 → invalid, nothing usable', () => {
    for (const [count, size] of [
      [1, 0],
      [0, 0x80],
      [0, 0],
    ] as const) {
      const g = validateSyslogGeometry(count, size, 4096);
      expect(g.usableEntries).toBe(0);
      expect(g.problems.length).toBeGreaterThan(0);
      expect(g.problems.every((p) => p.code === INVALID)).toBe(true);
    }
  });

  it('reports each bad field', () => {
    expect(validateSyslogGeometry(0, 0).problems).toHaveLength(2);
  });

  it('a buffer too small for one entry leaves nothing usable', () => {
    const g = validateSyslogGeometry(4, 0x80, 0x9f);
    expect(g.usableEntries).toBe(0);
    expect(g.problems.map((p) => p.code)).toEqual([INVALID]);
  });

  it('rejects a buffer size that is not a byte count', () => {
    for (const size of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const g = validateSyslogGeometry(4, 0x80, size);
      expect(g.usableEntries).toBe(0);
      expect(g.problems.map((p) => p.code)).toEqual([INVALID]);
    }
  });

  it('rejects non-integer, non-finite and negative numbers without throwing', () => {
    for (const bad of [-1, 0.5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, -0, 2 ** 53]) {
      expect(validateSyslogGeometry(bad, 0x80).usableEntries).toBe(0);
      expect(validateSyslogGeometry(4, bad).usableEntries).toBe(0);
    }
  });

  it('property: usable = min(count, ⌊buffer / stride⌋); a problem iff count × stride > buffer', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0xffff }),
        fc.integer({ min: 1, max: 0xffff }),
        fc.integer({ min: 0, max: 255 * 4096 }),
        (count, size, buffer) => {
          const g = validateSyslogGeometry(count, size, buffer);
          const stride = 0x20 + size;
          expect(g.stride).toBe(stride);
          expect(g.usableEntries).toBe(Math.min(count, Math.floor(buffer / stride)));
          expect(g.problems.length > 0).toBe(count * stride > buffer);
          expect(g.usableEntries * stride).toBeLessThanOrEqual(buffer);
        },
      ),
    );
  });

  it('fuzz: never throws, usable entries always fit', () => {
    fc.assert(
      fc.property(
        anyNumber(),
        anyNumber(),
        fc.option(anyNumber(), { nil: undefined }),
        (c, s, b) => {
          const g = validateSyslogGeometry(c, s, b);
          expect(Number.isSafeInteger(g.usableEntries) && g.usableEntries >= 0).toBe(true);
          if (g.usableEntries > 0) {
            expect(g.usableEntries).toBeLessThanOrEqual(c);
            if (b !== undefined) expect(g.usableEntries * g.stride).toBeLessThanOrEqual(b);
          }
        },
      ),
    );
  });
});

/** Geometry-like numbers, well-formed or not. */
function anyNumber(): fc.Arbitrary<number> {
  return fc.oneof(
    fc.integer({ min: -4, max: 300 }),
    fc.constantFrom(
      0,
      -0,
      -1,
      0.5,
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      2 ** 32,
      2 ** 53,
      2 ** 53 - 1,
      Number.MAX_VALUE,
      1e300,
    ),
    fc.double(),
    fc.integer(),
  );
}
