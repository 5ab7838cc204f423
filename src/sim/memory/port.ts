/**
 * The machinery every DmaPort shares: argument checks, the `asc-dram-mask`, all-or-nothing
 * access and fault recording. A concrete port only says where each byte of an access lands
 * (`plan`) and how to copy once the whole access is known to be allowed.
 *
 * Order of checks, identical for every port, so a fault's kind is predictable:
 *  1. `out-of-range`: the device address or length is not an integer, negative, or the range
 *     leaves [0, 2^44) (a device address wider than the 44-bit IOVA field, §6.1); or a read is
 *     longer than `maxRead`.
 *  2. zero-length accesses at a well-formed address succeed without consulting the mask or the
 *     translation: they touch nothing.
 *  3. `unmapped`: with a dram mask, the first or last byte lacks a mask bit (address.ts explains).
 *  4. the port's own translation (DART, SART, window), which may deny the access.
 */

import type { Clock } from '../../clock.js';
import { RtkitError } from '../../errors.js';
import { checkDramMask, hex, inSpace, MemoryErrorCode, stripDramMask } from './address.js';
import type { PhysicalMemory } from './physical.js';
import type { DmaFaultKind, DmaPort, FaultLog } from './types.js';

export interface PortOptions {
  /** Name recorded in faults, e.g. "ans/sart" (co-processor and path). */
  readonly name?: string | undefined;
  /** Stamps each fault with `clock.now()`; without it, faults carry time 0. */
  readonly clock?: Clock | undefined;
  /**
   * The ADT `asc-dram-mask` (PROTOCOL.md §6.2): the IOP is given `addr | mask` and the port strips
   * the mask from every device address it receives. Default 0 (no mask).
   */
  readonly dramMask?: number | undefined;
  /**
   * Longest read the port serves (it must allocate the copy); longer reads fault as
   * `out-of-range`, so a hostile length cannot exhaust memory. Default 64 MiB, far above any
   * RTKit buffer (255 pages ≈ 1 MiB, PROTOCOL.md §6.1).
   */
  readonly maxRead?: number | undefined;
}

/** Why an access is refused, before it becomes a recorded DmaFault. */
export class Denial {
  constructor(
    readonly kind: DmaFaultKind,
    readonly detail: string,
  ) {}
}

/** Sentinel plan for a zero-length access. */
const EMPTY = Symbol('empty');

export abstract class PortBase<P> implements DmaPort {
  readonly name: string;
  private readonly faults: FaultLog;
  private readonly clock: Clock | undefined;
  protected readonly dramMask: number;
  private readonly maxRead: number;

  constructor(defaultName: string, faults: FaultLog, opts: PortOptions) {
    this.name = opts.name ?? defaultName;
    this.faults = faults;
    this.clock = opts.clock;
    const mask = opts.dramMask ?? 0;
    checkDramMask(mask);
    this.dramMask = mask;
    const maxRead = opts.maxRead ?? 64 * 1024 * 1024;
    if (!(Number.isSafeInteger(maxRead) && maxRead >= 0)) {
      throw new RtkitError(MemoryErrorCode.BAD_INPUT, `maxRead ${maxRead}`, { maxRead });
    }
    this.maxRead = maxRead;
  }

  read(addr: number, len: number): Uint8Array | undefined {
    const p =
      len > this.maxRead
        ? new Denial(
            'out-of-range',
            `read of ${hex(len)} bytes exceeds maxRead ${hex(this.maxRead)}`,
          )
        : this.resolve(addr, len, false);
    if (p instanceof Denial) {
      this.fault(addr, len, false, p);
      return undefined;
    }
    const out = new Uint8Array(len);
    if (p !== EMPTY) this.copyOut(p, out);
    return out;
  }

  write(addr: number, data: Uint8Array): boolean {
    const len = data.length;
    const p = this.resolve(addr, len, true);
    if (p instanceof Denial) {
      this.fault(addr, len, true, p);
      return false;
    }
    if (p !== EMPTY) this.copyIn(p, data);
    return true;
  }

  check(addr: number, len: number, write: boolean): boolean {
    return !(this.resolve(addr, len, write) instanceof Denial);
  }

  /**
   * Where `[addr, addr + len)` (mask already stripped, len ≥ 1, range inside [0, 2^44)) lands, or
   * why it may not. Must not touch memory.
   */
  protected abstract plan(addr: number, len: number, write: boolean): P | Denial;
  /** Fill `out` (length = the access length) according to an allowed plan. */
  protected abstract copyOut(plan: P, out: Uint8Array): void;
  /** Store `data` according to an allowed plan. */
  protected abstract copyIn(plan: P, data: Uint8Array): void;

  private resolve(addr: number, len: number, write: boolean): P | Denial | typeof EMPTY {
    if (!inSpace(addr, len)) {
      return new Denial(
        'out-of-range',
        `device range ${hex(addr)}+${hex(len)} is not inside [0, 2^44)`,
      );
    }
    if (len === 0) return EMPTY;
    let a = addr;
    if (this.dramMask !== 0) {
      const first = stripDramMask(addr, this.dramMask);
      const last = stripDramMask(addr + len - 1, this.dramMask);
      if (first === undefined || last === undefined || last - first !== len - 1) {
        return new Denial(
          'unmapped',
          `device range ${hex(addr)}+${hex(len)} lacks asc-dram-mask ${hex(this.dramMask)} bits`,
        );
      }
      a = first;
    }
    return this.plan(a, len, write);
  }

  private fault(addr: number, len: number, write: boolean, d: Denial): void {
    this.faults.record({
      time: this.clock?.now() ?? 0,
      port: this.name,
      kind: d.kind,
      addr,
      len,
      write,
      detail: d.detail,
    });
  }
}

/** One contiguous physical range; what identity and SART ports resolve to. */
interface Contiguous {
  readonly paddr: number;
}

/** Ports whose device address is (after the mask) the physical address. */
export abstract class ContiguousPort extends PortBase<Contiguous> {
  constructor(
    defaultName: string,
    protected readonly memory: PhysicalMemory,
    faults: FaultLog,
    opts: PortOptions,
  ) {
    super(defaultName, faults, opts);
  }

  protected copyOut(plan: Contiguous, out: Uint8Array): void {
    this.memory.readInto(plan.paddr, out);
  }

  protected copyIn(plan: Contiguous, data: Uint8Array): void {
    this.memory.write(plan.paddr, data);
  }
}

class IdentityPort extends ContiguousPort {
  protected plan(addr: number): Contiguous {
    // Range validity was checked by PortBase; every physical address is RAM here.
    return { paddr: addr };
  }
}

/**
 * A port without translation: device address = physical address (PROTOCOL.md §6.2 "Identity":
 * m1n1-Py without DART, U-Boot's default). Only `out-of-range` (and a missing dram mask) fault.
 */
export function identityPort(
  memory: PhysicalMemory,
  faults: FaultLog,
  opts: PortOptions = {},
): DmaPort {
  return new IdentityPort('identity', memory, faults, opts);
}
