import { describe, expect, it } from 'vitest';
import { isRtkitError } from '../../errors.js';
import { decodeBootArgs } from '../../m1n1/boot-args.js';
import { MAC_MEMORY, SimulatedMac } from './simulated-mac.js';

describe('SimulatedMac', () => {
  it('lays memory out as M1N1-PROXY.md §10 suggests, below 2^44', () => {
    const mac = new SimulatedMac({ profiles: ['smc'] });
    const l = mac.layout;
    expect(l.ramBase).toBe(0x8_0000_0000n);
    expect(l.m1n1Base).toBe(0x8_0000_4000n);
    expect(l.heapTop).toBe(0x8_1000_0000n);
    expect(l.hostHeap).toEqual({ base: 0x8_1800_0000n, size: 1n << 30n });
    for (const a of [l.bootArgs, l.cpuFeatures, l.adt + BigInt(l.adtSize)]) {
      expect(a - l.ramBase).toBeLessThan(1n << 20n);
    }
    expect(l.hostHeap.base + l.hostHeap.size).toBeLessThanOrEqual(l.ramBase + l.ramSize);
    expect(l.ramBase + l.ramSize).toBeLessThan(1n << 44n);
    // The SoC's own carve-outs stay clear of the tooling's heap.
    expect(BigInt(MAC_MEMORY.socDram.base)).toBeGreaterThanOrEqual(
      l.hostHeap.base + l.hostHeap.size,
    );
  });

  it('holds the boot args, the CPU-features block and the ADT in RAM', () => {
    const mac = new SimulatedMac({ profiles: ['smc', 'generic'] });
    const ba = decodeBootArgs(mac.soc.memory.read(Number(mac.layout.bootArgs), 1152));
    expect(ba.revision).toBe(2);
    expect(ba.devtree - ba.virtBase + ba.physBase).toBe(mac.layout.adt);
    expect(ba.devtreeSize).toBe(mac.adtBytes.length);
    expect(ba.topOfKernelData).toBe(mac.layout.heapTop);
    expect(ba.memSize).toBe(mac.layout.ramSize);
    expect(mac.soc.memory.read(Number(mac.layout.adt), mac.adtBytes.length)).toEqual(mac.adtBytes);
    expect(mac.soc.memory.read(Number(mac.layout.cpuFeatures), 20)).toEqual(new Uint8Array(20));
  });

  it('describes each co-processor in the ADT at its ASC base, with its SRAM and power domain', () => {
    const mac = new SimulatedMac({ profiles: ['smc', 'ans', 'dcp', 'mtp', 'generic'] });
    for (const cp of mac.coprocessors) {
      const path = `/arm-io/${cp.name}`;
      expect(mac.adt.regAddress(path, 0).addr).toBe(BigInt(cp.ascBase));
      expect(mac.adt.property(path, 'clock-gates')).toBeDefined();
      if (cp.sram) expect(mac.adt.regAddress(path, 1).addr).toBe(BigInt(cp.sram.base));
    }
    expect(mac.adt.u32('/chosen', 'chip-id')).toBe(0x8103);
  });

  it('runs every co-processor with device address = physical address', () => {
    const mac = new SimulatedMac({ profiles: ['ans', 'dcp'] });
    for (const cp of mac.coprocessors) {
      expect(cp.dma.name).toBe(`${cp.name}/identity`);
      expect(cp.dartStream).toBeUndefined();
      expect(cp.dma.check(Number(mac.layout.hostHeap.base), 0x4000, true)).toBe(true);
    }
  });

  it('bump-allocates the m1n1 heap in 64-byte blocks, up to the host heap', () => {
    const mac = new SimulatedMac({ profiles: ['smc'] });
    const top = mac.layout.heapTop;
    expect(mac.heapAlloc(0n)).toBe(top);
    expect(mac.heapAlloc(1n)).toBe(top);
    expect(mac.heapAlloc(0n)).toBe(top + 64n);
    const room = mac.layout.hostHeap.base - (top + 64n);
    expect(mac.heapAlloc(room + 1n)).toBe(0n);
    expect(mac.heapAlloc(room)).toBe(top + 64n);
    expect(mac.heapAlloc(1n)).toBe(0n);
    expect(mac.heapAlloc(-1n)).toBe(0n);
  });

  it('passes fault specs to the named co-processor and seeds the SoC', () => {
    const mac = new SimulatedMac({
      profiles: ['smc'],
      faults: { smc: 'withhold=iop-ack' },
      seed: 5,
    });
    expect(mac.soc.traceLines()[0]).toContain('seed 5');
  });

  it('refuses what it cannot build', () => {
    const bad = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(isRtkitError(e, 'BAD_INPUT')).toBe(true);
        return;
      }
      throw new Error('no error');
    };
    bad(() => new SimulatedMac({ profiles: [] }));
    bad(() => new SimulatedMac({ profiles: ['smc', 'smc'] }));
    bad(() => new SimulatedMac({ profiles: ['nope' as 'smc'] }));
    bad(() => new SimulatedMac({ profiles: ['smc'], faults: { ans: 'drop:ep=2' } }));
    bad(() => new SimulatedMac({ profiles: ['smc'], chipId: -1 }));
  });
});
