/**
 * The Apple device tree our simulated Mac serves through its boot args (M1N1-PROXY.md §11.2):
 * just enough of a real ADT for m1n1's host tooling to load it and set up (§11.4), and for a
 * client to find each simulated co-processor, its ASC base and its power domain by ADT path.
 * docs/adt.md explains every node and where each requirement comes from.
 *
 *   /                      device-tree: #address-cells 2, #size-cells 2, compatible
 *   /chosen                chip-id
 *   /arm-io                #address-cells 2, #size-cells 2, ranges = ARM_IO_RANGE
 *   /arm-io/pmgr           reg, ps-regs, devices (one record per power domain, + I2C0)
 *   /arm-io/i2c0           #address-cells 2, #size-cells 2, reg, clock-gates
 *   /arm-io/i2c0/pmu       compatible no PMU driver knows, 16-byte reg
 *   /arm-io/<coprocessor>  compatible, reg = [ASC block, SRAM?], clock-gates = [its domain]
 */

import { ErrorCode, RtkitError } from '../../errors.js';
import { type AdtNode, adtNode, encodePmgrDevices, type PmgrDevice } from '../../m1n1/adt.js';

export interface AdtCoprocessor {
  /** Node name under /arm-io: 'smc', 'ans', 'dcp', 'mtp', … */
  readonly name: string;
  /** e.g. ['iop,ascwrap-v4']: the SMC, ANS, DCP and AOP wrappers of M1-era ADTs (m1n1's asc.c). */
  readonly compatible: readonly string[];
  /** CPU physical address of the ASC register block (CPU_CONTROL at +0x44). */
  readonly ascBase: number;
  /** Size of the ASC block, mailbox at +0x8000 included: pass the SimAsc's `size`. */
  readonly ascSize: number;
  /** A host-visible SRAM window (the SMC's): the node's second `reg` entry. */
  readonly sram?: { readonly base: number; readonly size: number };
  /** PMGR device name of its power domain (`devices` record name, at most 16 characters). */
  readonly powerDomain: string;
}

export interface SocAdtOptions {
  /** e.g. 0x8103; goes to /chosen `chip-id` and the `,t8103` compatibles. */
  readonly chipId: number;
  /** Board target, e.g. 'J274AP': first entry of the root `compatible`. */
  readonly target?: string;
  readonly coprocessors: readonly AdtCoprocessor[];
}

/**
 * The one `ranges` entry of /arm-io: bus address 0 is CPU address 0x2_0000_0000, for 8 GiB.
 * Real M1-era ADTs start /arm-io at the same CPU address (T8103's PMGR `reg` reads 0x3b700000
 * for 0x2_3b70_0000), and every simulated ASC block and SRAM lies inside the window.
 */
export const ARM_IO_RANGE = { bus: 0n, parent: 0x2_0000_0000n, size: 0x2_0000_0000n } as const;

/** PMGR register block (CPU addresses), T8103's: power-state registers live in it. */
export const ADT_PMGR_REG = { addr: 0x2_3b70_0000n, size: 0x1_4000n } as const;
/** The I²C controller the tooling looks under for its PMU (T8103's i2c0). */
export const ADT_I2C0_REG = { addr: 0x2_3501_0000n, size: 0x4000n } as const;
/** The PMU's `reg`: its I²C address and a zero size (local to i2c0, which has no `ranges`). */
export const ADT_PMU_I2C_ADDRESS = 0x3cn;
/**
 * A PMU compatible that no m1n1 PMU code knows, so `PMU(u).reset_panic_counter()` prints
 * "Reset panic unsupported" and touches no hardware (hw/pmu.py).
 */
export const ADT_PMU_COMPATIBLE = 'pmu,rtkit-sim';
/** The power domain of i2c0, always the first `devices` record (id 1). */
export const ADT_I2C0_POWER_DOMAIN = 'I2C0';

/** Names the tooling treats specially under /arm-io (hw/pmu.py `find_primary_pmu`). */
const RESERVED_PREFIXES = ['i2c', 'spmi', 'nub-spmi'];
const RESERVED_NAMES = new Set(['pmgr', 'chosen']);
const PRINTABLE = /^[\x20-\x7e]+$/;
const MAX_DOMAIN_NAME = 16;
const MAX_ID = 0xff;

function bad(message: string, details: Record<string, unknown> = {}): RtkitError {
  return new RtkitError(ErrorCode.BAD_INPUT, `SoC ADT: ${message}`, details);
}

/** The bus address of a CPU-physical window inside ARM_IO_RANGE. */
function busAddress(what: string, base: number, size: number): bigint {
  if (!Number.isSafeInteger(base) || base < 0 || !Number.isSafeInteger(size) || size <= 0) {
    throw bad(`${what}: base and size must be integers, size > 0`, { base, size });
  }
  const b = BigInt(base);
  const end = b + BigInt(size);
  if (b < ARM_IO_RANGE.parent || end > ARM_IO_RANGE.parent + ARM_IO_RANGE.size) {
    throw bad(
      `${what} 0x${base.toString(16)}+0x${size.toString(16)} is outside the /arm-io range ` +
        `0x${ARM_IO_RANGE.parent.toString(16)}+0x${ARM_IO_RANGE.size.toString(16)}`,
      { base, size },
    );
  }
  return b - ARM_IO_RANGE.parent + ARM_IO_RANGE.bus;
}

function checkCoprocessor(c: AdtCoprocessor, names: Set<string>): void {
  if (!PRINTABLE.test(c.name) || c.name.includes('/')) {
    throw bad(`co-processor name '${c.name}' must be printable ASCII without '/'`);
  }
  if (RESERVED_NAMES.has(c.name) || RESERVED_PREFIXES.some((p) => c.name.startsWith(p))) {
    throw bad(`co-processor name '${c.name}' is reserved (pmgr, i2c*, spmi*, nub-spmi*)`);
  }
  if (names.has(c.name)) throw bad(`two co-processors are named '${c.name}'`);
  names.add(c.name);
  if (c.compatible.length === 0) throw bad(`${c.name}: compatible is empty`);
  if (c.powerDomain.length > MAX_DOMAIN_NAME || !PRINTABLE.test(c.powerDomain)) {
    throw bad(
      `${c.name}: power domain '${c.powerDomain}' must be 1–${MAX_DOMAIN_NAME} printable ` +
        'ASCII characters',
    );
  }
}

/**
 * Build the tree (encode it with `encodeAdt`). Throws `BAD_INPUT` for a co-processor whose name
 * clashes with a node the tooling treats specially, a window outside ARM_IO_RANGE, more than 254
 * power domains, or no co-processor at all (the PMGR list needs two records).
 */
export function buildSocAdt(opts: SocAdtOptions): AdtNode {
  if (!Number.isInteger(opts.chipId) || opts.chipId < 0 || opts.chipId > 0xffff_ffff) {
    throw bad(`chip id ${opts.chipId} is not a u32`);
  }
  if (opts.coprocessors.length === 0) throw bad('at least one co-processor is needed');
  if (opts.target !== undefined && !PRINTABLE.test(opts.target)) {
    throw bad(`target '${opts.target}' must be printable ASCII`);
  }
  const soc = `t${opts.chipId.toString(16)}`;

  // Power domains: I2C0 first, then each co-processor's, ids in order of first use.
  const domainIds = new Map<string, number>([[ADT_I2C0_POWER_DOMAIN, 1]]);
  const names = new Set<string>();
  for (const c of opts.coprocessors) {
    checkCoprocessor(c, names);
    if (!domainIds.has(c.powerDomain)) {
      if (domainIds.size >= MAX_ID) throw bad(`more than ${MAX_ID - 1} power domains`);
      domainIds.set(c.powerDomain, domainIds.size + 1);
    }
  }
  const devices: PmgrDevice[] = [...domainIds].map(([name, id]) => ({
    flags: 0,
    id,
    parents: [0, 0],
    // One power-state register per device in ps-regs block 0, 8 bytes apart, as on T8103.
    psidx: id,
    psreg: 0,
    name,
  }));

  const pmgrBus = busAddress('PMGR', Number(ADT_PMGR_REG.addr), Number(ADT_PMGR_REG.size));
  const i2cBus = busAddress('i2c0', Number(ADT_I2C0_REG.addr), Number(ADT_I2C0_REG.size));

  const coprocessorNodes = opts.coprocessors.map((c) => {
    const reg = [busAddress(`${c.name} ASC`, c.ascBase, c.ascSize), BigInt(c.ascSize)];
    if (c.sram)
      reg.push(busAddress(`${c.name} SRAM`, c.sram.base, c.sram.size), BigInt(c.sram.size));
    return adtNode(c.name, {
      compatible: c.compatible,
      reg: { u64: reg },
      'clock-gates': { u32: [domainIds.get(c.powerDomain) as number] },
    });
  });

  const pmu = adtNode('pmu', {
    compatible: [ADT_PMU_COMPATIBLE],
    reg: { u64: [ADT_PMU_I2C_ADDRESS, 0n] },
  });
  const i2c0 = adtNode(
    'i2c0',
    {
      compatible: ['i2c,t8101'],
      // Cells for the PMU's 16-byte reg, so strict readers (ours; m1n1's adt_get_reg) read it
      // as {u64 addr, u64 size}; without `ranges` adt.py leaves it untyped either way.
      '#address-cells': 2,
      '#size-cells': 2,
      reg: { u64: [i2cBus, ADT_I2C0_REG.size] },
      'clock-gates': { u32: [1] },
    },
    [pmu],
  );
  const pmgr = adtNode('pmgr', {
    compatible: [`pmgr1,${soc}`],
    reg: { u64: [pmgrBus, ADT_PMGR_REG.size] },
    // One block: { reg index 0, offset 0, mask 0 }. Its presence selects the classic
    // address rule (reg[ps.reg] + ps.offset + psidx·8) in every version of the tooling, and
    // m1n1's own pmgr_init refuses a PMGR without it.
    'ps-regs': { u32: [0, 0, 0] },
    devices: encodePmgrDevices(devices),
  });
  const armIo = adtNode(
    'arm-io',
    {
      compatible: [`arm-io,${soc}`],
      '#address-cells': 2,
      '#size-cells': 2,
      ranges: { u64: [ARM_IO_RANGE.bus, ARM_IO_RANGE.parent, ARM_IO_RANGE.size] },
    },
    [pmgr, i2c0, ...coprocessorNodes],
  );
  const chosen = adtNode('chosen', { 'chip-id': opts.chipId });
  return adtNode(
    'device-tree',
    {
      '#address-cells': 2,
      '#size-cells': 2,
      compatible: opts.target === undefined ? ['AppleARM'] : [opts.target, 'AppleARM'],
    },
    [chosen, armIo],
  );
}
