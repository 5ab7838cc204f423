// The host's protocol decisions as pure functions: version choice (§3.2) and ack matching (§4.7).
import { describe, expect, it } from 'vitest';
import { isRtkitError } from '../../src/errors.js';
import { ackMatches, chooseVersion, isOn } from '../../src/host/index.js';

describe('chooseVersion', () => {
  it.each([
    [11, 12, 11, 12, 12, undefined, [12, 12]],
    [3, 12, 11, 12, 12, undefined, [12, 12]],
    [11, 14, 11, 12, 12, undefined, [12, 12]],
    [10, 11, 10, 12, 11, undefined, [11, 11]],
    [2, 10, 10, 12, 10, 2, [2, 10]],
    [0, 10, 10, 10, 10, 0, [0, 10]],
  ])('HELLO %i..%i, ours %i..%i → v%i', (fwMin, fwMax, ourMin, ourMax, v, minor, ack) => {
    expect(chooseVersion(fwMin, fwMax, ourMin, ourMax)).toEqual({
      version: v,
      minor,
      ackMin: ack[0],
      ackMax: ack[1],
    });
  });

  it.each([
    [13, 14, 11, 12, 'too new'],
    [3, 10, 11, 12, 'v10.3'],
    [5, 9, 10, 12, 'too old'],
    [12, 11, 11, 12, 'empty'],
  ])(
    'HELLO %i..%i, ours %i..%i → VERSION_UNSUPPORTED (%s)',
    (fwMin, fwMax, ourMin, ourMax, why) => {
      const r = chooseVersion(fwMin, fwMax, ourMin, ourMax);
      expect(isRtkitError(r, 'VERSION_UNSUPPORTED')).toBe(true);
      if (!isRtkitError(r)) return;
      expect(r.message).toContain(why);
      expect(r.details).toMatchObject({ fwMin, fwMax });
    },
  );
});

describe('ack matching (§4.7)', () => {
  it('ON: 0x20 and 0x220 are the same; nothing else is', () => {
    expect(isOn(0x20)).toBe(true);
    expect(isOn(0x220)).toBe(true);
    expect(isOn(0x201)).toBe(false);
    expect(isOn(0x10)).toBe(false);
  });

  it.each([
    ['iop', 0x201, 0x201, 12, true],
    ['iop', 0x220, 0x20, 12, true],
    ['iop', 0x20, 0x220, 12, true],
    ['iop', 0x201, 0x20, 12, false],
    ['iop', 0x1, 0x10, 12, false],
    ['iop', 0x10, 0x0, 12, false],
    ['iop', 0x10, 0x0, 10, true],
    ['ap', 0x10, 0x0, 10, false],
    ['ap', 0x20, 0x20, 12, true],
    ['ap', 0x0, 0x0, 12, true],
  ] as const)('%s requested %i acked %i (v%i) → %s', (which, req, acked, v, ok) => {
    expect(ackMatches(which, req, acked, v)).toBe(ok);
  });
});
