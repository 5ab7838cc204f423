import { describe, expect, it } from 'vitest';
import { isRtkitError } from '../../errors.js';
import { FaultList } from './faults.js';
import type { DmaFault } from './types.js';

function fault(i: number): DmaFault {
  return {
    time: i,
    port: 'p',
    kind: 'unmapped',
    addr: i,
    len: 1,
    write: false,
    detail: '',
  };
}

describe('FaultList', () => {
  it('keeps faults in order up to the cap, then counts drops', () => {
    const log = new FaultList({ cap: 3 });
    for (let i = 0; i < 10; i++) log.record(fault(i));
    expect(log.faults.map((f) => f.addr)).toEqual([0, 1, 2]);
    expect(log.dropped).toBe(7);
    expect(log.total).toBe(10);
    expect(log.ofKind('unmapped')).toHaveLength(3);
    expect(log.ofKind('permission')).toHaveLength(0);
  });

  it('stores frozen copies, so a recorder cannot rewrite history', () => {
    const log = new FaultList();
    const f = { ...fault(1) };
    log.record(f);
    f.addr = 99;
    expect(log.faults[0]!.addr).toBe(1);
    expect(Object.isFrozen(log.faults[0])).toBe(true);
  });

  it('clear() forgets faults and the dropped count', () => {
    const log = new FaultList({ cap: 1 });
    log.record(fault(1));
    log.record(fault(2));
    log.clear();
    expect(log.faults).toEqual([]);
    expect(log.dropped).toBe(0);
    log.record(fault(3));
    expect(log.faults).toHaveLength(1);
  });

  it('a cap of 0 keeps nothing; a bad cap throws', () => {
    const log = new FaultList({ cap: 0 });
    log.record(fault(1));
    expect(log.faults).toHaveLength(0);
    expect(log.dropped).toBe(1);
    expect(() => new FaultList({ cap: -1 })).toThrow();
    try {
      new FaultList({ cap: 1.5 });
    } catch (e) {
      expect(isRtkitError(e, 'BAD_INPUT')).toBe(true);
    }
  });
});
