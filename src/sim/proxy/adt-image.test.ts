import { describe, expect, it } from 'vitest';
import { ErrorCode, isRtkitError } from '../../errors.js';
import {
  Adt,
  type AdtNode,
  decodePmgrDevices,
  encodeAdt,
  PMGR_DEVICE_SIZE,
  parseAdt,
} from '../../m1n1/adt.js';
import { toHex } from '../../m1n1/testing/vectors.js';
import { SimAsc } from '../mailbox/asc.js';
import { getProfile, type ProfileName } from '../profiles/index.js';
import {
  ADT_I2C0_POWER_DOMAIN,
  ADT_I2C0_REG,
  ADT_PMGR_REG,
  ADT_PMU_COMPATIBLE,
  type AdtCoprocessor,
  ARM_IO_RANGE,
  buildSocAdt,
  type SocAdtOptions,
} from './adt-image.js';

const COMPATIBLE: Record<ProfileName, string[]> = {
  generic: ['iop,ascwrap-v4'],
  smc: ['iop,ascwrap-v4', 'smc,t8103'],
  ans: ['iop,ascwrap-v4', 'ans,t8103'],
  dcp: ['iop,ascwrap-v4', 'dcp,t8103'],
  mtp: ['iop,ascwrap-v4', 'mtp,t8103'],
};
const DOMAIN: Record<ProfileName, string> = {
  generic: 'AOP',
  smc: 'PS_SMC',
  ans: 'ANS2',
  dcp: 'DISP0_CPU0',
  mtp: 'MTP_CPU',
};

/** A co-processor as the proxy server would describe a profile it simulates. */
function coprocessor(profile: ProfileName, name: string = profile): AdtCoprocessor {
  const place = getProfile(profile).placement;
  const asc = new SimAsc({ base: place.ascBase, name });
  return {
    name,
    compatible: COMPATIBLE[profile],
    ascBase: asc.base,
    ascSize: asc.size,
    ...(place.sram ? { sram: { base: place.sram.base, size: place.sram.size } } : {}),
    powerDomain: DOMAIN[profile],
  };
}

const OPTIONS: SocAdtOptions = {
  chipId: 0x8103,
  target: 'J274AP',
  coprocessors: (['smc', 'ans', 'dcp', 'mtp', 'generic'] as const).map((p) => coprocessor(p)),
};
const TREE = buildSocAdt(OPTIONS);
const BYTES = encodeAdt(TREE);
const ADT = Adt.parse(BYTES, { strict: true });

function allNodes(root: AdtNode): AdtNode[] {
  const out: AdtNode[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const n = stack.pop() as AdtNode;
    out.push(n);
    stack.push(...n.children);
  }
  return out;
}

const u64s = (v: Uint8Array): bigint[] => {
  const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
  return Array.from({ length: v.length / 8 }, (_, i) => view.getBigUint64(i * 8, true));
};

describe('the simulated SoC ADT: encoding', () => {
  it('parses back (strictly) to the built tree and re-encodes byte-identically', () => {
    expect(parseAdt(BYTES, { strict: true })).toEqual(TREE);
    expect(toHex(encodeAdt(ADT.root))).toBe(toHex(BYTES));
  });

  it('has the expected shape', () => {
    expect(ADT.paths()).toEqual([
      '/',
      '/chosen',
      '/arm-io',
      '/arm-io/pmgr',
      '/arm-io/i2c0',
      '/arm-io/i2c0/pmu',
      '/arm-io/smc',
      '/arm-io/ans',
      '/arm-io/dcp',
      '/arm-io/mtp',
      '/arm-io/generic',
    ]);
  });

  it('carries the chip id and the target', () => {
    expect(ADT.u32('/chosen', 'chip-id')).toBe(0x8103);
    expect(ADT.strings('/', 'compatible')).toEqual(['J274AP', 'AppleARM']);
    expect(ADT.strings('/arm-io', 'compatible')).toEqual(['arm-io,t8103']);
    const noTarget = new Adt(
      buildSocAdt({ chipId: OPTIONS.chipId, coprocessors: OPTIONS.coprocessors }),
    );
    expect(noTarget.strings('/', 'compatible')).toEqual(['AppleARM']);
  });
});

describe('the simulated SoC ADT: every row of M1N1-PROXY.md §11.4', () => {
  it('every node has a NUL-terminated name property first; the root is device-tree', () => {
    for (const n of allNodes(ADT.root)) {
      const first = n.properties[0];
      expect(first?.name).toBe('name');
      expect(first?.value.at(-1)).toBe(0);
    }
    expect(ADT.root.name).toBe('device-tree');
  });

  it('root: #address-cells = 2, #size-cells = 2 (u32)', () => {
    expect(ADT.u32('/', '#address-cells')).toBe(2);
    expect(ADT.u32('/', '#size-cells')).toBe(2);
  });

  it('/arm-io: cells 2/2 and ranges = [{u64 bus, u64 parent, u64 size}]', () => {
    expect(ADT.u32('/arm-io', '#address-cells')).toBe(2);
    expect(ADT.u32('/arm-io', '#size-cells')).toBe(2);
    const ranges = ADT.property('/arm-io', 'ranges') as Uint8Array;
    expect(ranges.length).toBe(24);
    expect(u64s(ranges)).toEqual([ARM_IO_RANGE.bus, ARM_IO_RANGE.parent, ARM_IO_RANGE.size]);
  });

  it('/arm-io/pmgr: devices = ≥ 2 48-byte records, the first two with different byte-3 ids', () => {
    const value = ADT.property('/arm-io/pmgr', 'devices') as Uint8Array;
    expect(value.length % PMGR_DEVICE_SIZE).toBe(0);
    expect(value.length / PMGR_DEVICE_SIZE).toBeGreaterThanOrEqual(2);
    expect(value[3]).not.toBe(value[PMGR_DEVICE_SIZE + 3]);
    for (let at = 0; at < value.length; at += PMGR_DEVICE_SIZE) {
      const r = value.subarray(at, at + PMGR_DEVICE_SIZE);
      // adt.py parses bytes 16–23 as Const(0); both id fields agree.
      expect(r.subarray(16, 24).every((b) => b === 0)).toBe(true);
      expect(r[26]).toBe(r[3]);
      expect(r[27]).toBe(0);
      expect(r.subarray(32).every((b) => b === 0 || (b >= 0x20 && b < 0x7f))).toBe(true);
    }
  });

  it('/arm-io/pmgr: one record per power domain (I2C0 first), ids 1…n', () => {
    const devices = decodePmgrDevices(ADT.property('/arm-io/pmgr', 'devices') as Uint8Array);
    expect(devices.map((d) => [d.id, d.name])).toEqual([
      [1, ADT_I2C0_POWER_DOMAIN],
      [2, 'PS_SMC'],
      [3, 'ANS2'],
      [4, 'DISP0_CPU0'],
      [5, 'MTP_CPU'],
      [6, 'AOP'],
    ]);
    expect(devices.every((d) => d.flags === 0 && d.parents[0] === 0 && d.parents[1] === 0)).toBe(
      true,
    );
  });

  it('/arm-io/pmgr: ps-regs present, so power-state registers fall inside the PMGR block', () => {
    const psRegs = ADT.u32s('/arm-io/pmgr', 'ps-regs');
    expect(psRegs.length % 3).toBe(0);
    const pmgr = ADT.regAddress('/arm-io/pmgr', 0);
    expect(pmgr).toEqual({ addr: ADT_PMGR_REG.addr, size: ADT_PMGR_REG.size });
    for (const d of decodePmgrDevices(ADT.property('/arm-io/pmgr', 'devices') as Uint8Array)) {
      const [reg, offset] = [psRegs[d.psreg * 3], psRegs[d.psreg * 3 + 1]] as [number, number];
      const block = ADT.regAddress('/arm-io/pmgr', reg);
      const ps = block.addr + BigInt(offset + d.psidx * 8);
      expect(ps + 4n <= block.addr + block.size).toBe(true);
    }
  });

  it('/arm-io/i2c0: reg = {u64 addr, u64 size}, translated through /arm-io ranges', () => {
    expect((ADT.property('/arm-io/i2c0', 'reg') as Uint8Array).length).toBe(16);
    expect(ADT.regAddress('/arm-io/i2c0')).toEqual({
      addr: ADT_I2C0_REG.addr,
      size: ADT_I2C0_REG.size,
    });
  });

  it('/arm-io/i2c0/pmu: named pmu, a compatible no PMU code knows, a 16-byte reg', () => {
    expect(ADT.find('/arm-io/i2c0/pmu')?.name).toBe('pmu');
    const known = ['pmu,d2255', 'pmu,d2257', 'pmu,d2333', 'pmu,d2365', 'pmu,d2400']
      .concat(['pmu,d2045', 'pmu,d2089', 'pmu,d2186', 'pmu,d2207'])
      .concat(['pmu,spmi', 'pmu,d2422', 'pmu,d2449']);
    const compatible = ADT.strings('/arm-io/i2c0/pmu', 'compatible');
    expect(compatible).toEqual([ADT_PMU_COMPATIBLE]);
    expect(known).not.toContain(compatible[0]);
    const reg = ADT.property('/arm-io/i2c0/pmu', 'reg') as Uint8Array;
    expect(reg.length).toBe(16);
    // adt.py types an untyped 16-byte value as two u64 only when bytes 6, 7, 14, 15 are zero;
    // hw/pmu.py then reads reg[0].
    expect([reg[6], reg[7], reg[14], reg[15]]).toEqual([0, 0, 0, 0]);
    expect(ADT.reg('/arm-io/i2c0/pmu')[0]?.addr).toBe(0x3cn);
  });

  it('no SPMI bus: the only /arm-io child the PMU search looks into is i2c0', () => {
    const children = ADT.node('/arm-io').children.map((c) => c.name);
    expect(children.filter((n) => n.startsWith('spmi') || n.startsWith('nub-spmi'))).toEqual([]);
    expect(children.filter((n) => n.startsWith('i2c'))).toEqual(['i2c0']);
  });

  it('/arm-io/smc: reg entry 0 translates to the ASC base, entry 1 to the SRAM', () => {
    const smc = OPTIONS.coprocessors[0] as AdtCoprocessor;
    expect(ADT.regAddress('/arm-io/smc', 0)).toEqual({
      addr: BigInt(smc.ascBase),
      size: BigInt(smc.ascSize),
    });
    expect(ADT.regAddress('/arm-io/smc', 1)).toEqual({
      addr: BigInt(smc.sram?.base as number),
      size: BigInt(smc.sram?.size as number),
    });
    expect(ADT.regAddress('/arm-io/smc', 0).addr).toBe(0x2_3e40_0000n);
  });

  it('loader-typed values are whole entries, so they rebuild byte-identically', () => {
    for (const path of ADT.paths()) {
      const node = ADT.node(path);
      for (const p of node.properties) {
        if (p.name === 'ranges') expect(p.value.length % 24).toBe(0);
        if (p.name === 'ps-regs') expect(p.value.length % 12).toBe(0);
        if (p.name === 'devices') expect(p.value.length % PMGR_DEVICE_SIZE).toBe(0);
        if (p.name === 'clock-gates') expect(p.value.length % 4).toBe(0);
        if (p.name === 'reg' && path.split('/').length === 3) expect(p.value.length % 16).toBe(0);
        if (p.name === 'compatible' || p.name === 'name') expect(p.value.at(-1)).toBe(0);
      }
    }
  });
});

describe('the simulated SoC ADT: every co-processor', () => {
  it('has compatible, reg at its ASC base, and clock-gates naming its PMGR record', () => {
    const devices = decodePmgrDevices(ADT.property('/arm-io/pmgr', 'devices') as Uint8Array);
    for (const c of OPTIONS.coprocessors) {
      const path = `/arm-io/${c.name}`;
      expect(ADT.strings(path, 'compatible')).toEqual(c.compatible);
      expect(ADT.regAddress(path, 0)).toEqual({
        addr: BigInt(c.ascBase),
        size: BigInt(c.ascSize),
      });
      expect(ADT.reg(path)).toHaveLength(c.sram ? 2 : 1);
      const gates = ADT.u32s(path, 'clock-gates');
      expect(gates).toHaveLength(1);
      expect(devices.find((d) => d.id === gates[0])?.name).toBe(c.powerDomain);
    }
  });

  it('covers the mailbox: the ASC reg spans the whole SimAsc block', () => {
    for (const c of OPTIONS.coprocessors) {
      expect(c.ascSize).toBeGreaterThan(0x8000);
      expect(ADT.regAddress(`/arm-io/${c.name}`).size).toBe(BigInt(c.ascSize));
    }
  });

  it('shares one record between co-processors of one power domain', () => {
    const adt = new Adt(
      buildSocAdt({
        chipId: 0x6000,
        coprocessors: [
          coprocessor('dcp', 'dcp'),
          { ...coprocessor('dcp', 'dcpext'), ascBase: 0x2_3200_0000 },
        ],
      }),
    );
    const devices = decodePmgrDevices(adt.property('/arm-io/pmgr', 'devices') as Uint8Array);
    expect(devices.map((d) => d.name)).toEqual([ADT_I2C0_POWER_DOMAIN, 'DISP0_CPU0']);
    expect(adt.u32s('/arm-io/dcp', 'clock-gates')).toEqual(
      adt.u32s('/arm-io/dcpext', 'clock-gates'),
    );
    expect(adt.strings('/arm-io/pmgr', 'compatible')).toEqual(['pmgr1,t6000']);
  });
});

describe('buildSocAdt refuses inputs that would break the image', () => {
  const smc = coprocessor('smc');
  const refuse = (o: SocAdtOptions) => {
    let error: unknown;
    try {
      buildSocAdt(o);
    } catch (e) {
      error = e;
    }
    expect(isRtkitError(error, ErrorCode.BAD_INPUT)).toBe(true);
  };

  it('no co-processor, a bad chip id or target', () => {
    refuse({ chipId: 0x8103, coprocessors: [] });
    refuse({ chipId: -1, coprocessors: [smc] });
    refuse({ chipId: 2 ** 32, coprocessors: [smc] });
    refuse({ chipId: 0x8103, target: 'J274\0', coprocessors: [smc] });
  });

  it('names the tooling treats specially, duplicates, slashes', () => {
    for (const name of ['pmgr', 'chosen', 'i2c1', 'spmi0', 'nub-spmi0', 'a/b', '']) {
      refuse({ chipId: 0x8103, coprocessors: [{ ...smc, name }] });
    }
    refuse({ chipId: 0x8103, coprocessors: [smc, smc] });
  });

  it('windows outside the /arm-io range', () => {
    refuse({ chipId: 0x8103, coprocessors: [{ ...smc, ascBase: 0x1_ffff_c000 }] });
    refuse({ chipId: 0x8103, coprocessors: [{ ...smc, ascBase: 0x3_ffff_c000, ascSize: 0x8000 }] });
    refuse({ chipId: 0x8103, coprocessors: [{ ...smc, ascSize: 0 }] });
    refuse({ chipId: 0x8103, coprocessors: [{ ...smc, sram: { base: 0x8_0000_0000, size: 16 } }] });
  });

  it('an empty compatible, a power domain name that does not fit its 16 bytes', () => {
    refuse({ chipId: 0x8103, coprocessors: [{ ...smc, compatible: [] }] });
    refuse({ chipId: 0x8103, coprocessors: [{ ...smc, powerDomain: '' }] });
    refuse({ chipId: 0x8103, coprocessors: [{ ...smc, powerDomain: 'X'.repeat(17) }] });
  });

  it('more power domains than 8-bit ids', () => {
    const many = Array.from({ length: 255 }, (_, i) => ({
      ...smc,
      name: `c${i}`,
      powerDomain: `D${i}`,
    }));
    refuse({ chipId: 0x8103, coprocessors: many });
    expect(() => buildSocAdt({ chipId: 0x8103, coprocessors: many.slice(0, 254) })).not.toThrow();
  });
});
