/**
 * The SART: the allow-list in front of the NVMe co-processor (ANS). No translation — the device
 * address is the physical address — but a DMA is only allowed into ranges the host entered in one
 * of 16 entries (PROTOCOL.md §6.2). Every mode-A buffer consumes an entry; entries the bootloader
 * created must be preserved.
 *
 * Registers, as ML and m1n1 describe SARTv2 (facts): per entry a CONFIG word with flags in
 * `[31:24]` and the size in 4 KiB units in `[23:0]`, and a separate PADDR word holding the
 * address in 4 KiB units; flags 0xff allow an entry, 0 disables it. We store exactly those two
 * words, each field with its own shift (ROBUSTNESS B36: ML swaps the two shift constants, which
 * only works because both are 12; both shifts are options here so a test can tell them apart).
 * Which bootloader entries are protected is driver bookkeeping (ML keeps a bitmask), not a
 * register; we keep it beside the registers.
 */

import { RtkitError } from '../../errors.js';
import { checkSpace, hex, isAligned, MemoryErrorCode } from './address.js';
import type { PhysicalMemory } from './physical.js';
import { ContiguousPort, Denial, type PortOptions } from './port.js';
import type { DmaPort, FaultLog } from './types.js';

/** Entries in every SART (§6.2). */
export const SART_ENTRIES = 16;
/** CONFIG flags value of an allowed entry (ML, m1n1: meaning of the bits unknown). */
export const SART_FLAGS_ALLOW = 0xff;
const SIZE_FIELD_MAX = 0xff_ffff;
const ADDR_FIELD_MAX = 0xffff_ffff;

export interface SartOptions {
  /** Shift of the PADDR field (address = field << shift). Default 12. */
  readonly addrShift?: number | undefined;
  /** Shift of the CONFIG size field (size = field << shift). Default 12. */
  readonly sizeShift?: number | undefined;
}

export interface SartEntry {
  readonly slot: number;
  readonly paddr: number;
  readonly size: number;
  /** Created by the bootloader: survives `revokeAll()`, refuses `revoke()`. */
  readonly reserved: boolean;
}

/** The raw register words of one entry. */
export interface SartRegisters {
  /** Flags `[31:24]`, size field `[23:0]`. */
  readonly config: number;
  /** Address field. */
  readonly paddr: number;
}

export interface SartPortOptions extends PortOptions {
  /**
   * Require every access to lie inside one single entry. Default false: each byte must be inside
   * some entry, so an access may run across adjacent (or overlapping) entries. [inferred] The
   * hardware checks bus transactions, which do not cross the 4 KiB boundaries entries are aligned
   * to, so it cannot notice that one logical access used two entries; strict mode is a stronger
   * check for tests of a firmware model that must stay inside one buffer.
   */
  readonly singleEntry?: boolean | undefined;
}

export class Sart {
  readonly addrShift: number;
  readonly sizeShift: number;
  private readonly config = new Uint32Array(SART_ENTRIES);
  private readonly addr = new Uint32Array(SART_ENTRIES);
  private protectedMask = 0;

  constructor(opts: SartOptions = {}) {
    this.addrShift = checkShift(opts.addrShift ?? 12, 'addrShift');
    this.sizeShift = checkShift(opts.sizeShift ?? 12, 'sizeShift');
  }

  /** Entries in use (including bootloader entries). */
  get usedSlots(): number {
    let n = 0;
    for (let i = 0; i < SART_ENTRIES; i++) if (this.enabled(i)) n++;
    return n;
  }

  /**
   * Allow DMA into `[paddr, paddr + size)` in the lowest free slot. Returns the slot, or undefined
   * when all 16 are in use. Throws MEMORY_MISALIGNED unless paddr and size are multiples of their
   * field's unit, MEMORY_OUT_OF_RANGE if a value does not fit its field, BAD_INPUT for size 0.
   */
  allow(paddr: number, size: number): number | undefined {
    const [a, s] = this.encode(paddr, size);
    const slot = this.freeSlot();
    if (slot === undefined) return undefined;
    this.config[slot] = ((SART_FLAGS_ALLOW << 24) | s) >>> 0;
    this.addr[slot] = a;
    return slot;
  }

  /** An entry the bootloader left behind (§6.2: must be preserved). */
  reserve(paddr: number, size: number): number | undefined {
    const slot = this.allow(paddr, size);
    if (slot !== undefined) this.protectedMask |= 1 << slot;
    return slot;
  }

  /** Clear one entry. Throws SART_SLOT_INVALID (bad index, empty) or SART_SLOT_RESERVED. */
  revoke(slot: number): void {
    if (!(Number.isInteger(slot) && slot >= 0 && slot < SART_ENTRIES) || !this.enabled(slot)) {
      throw new RtkitError(
        MemoryErrorCode.SART_SLOT_INVALID,
        `SART slot ${slot} is not an allowed entry`,
        { slot },
      );
    }
    if (this.isReserved(slot)) {
      throw new RtkitError(
        MemoryErrorCode.SART_SLOT_RESERVED,
        `SART slot ${slot} was created by the bootloader and must be preserved`,
        { slot },
      );
    }
    this.config[slot] = 0;
    this.addr[slot] = 0;
  }

  /** Clear every entry except the bootloader's. Returns how many were cleared. */
  revokeAll(): number {
    let n = 0;
    for (let i = 0; i < SART_ENTRIES; i++) {
      if (this.enabled(i) && !this.isReserved(i)) {
        this.config[i] = 0;
        this.addr[i] = 0;
        n++;
      }
    }
    return n;
  }

  /** The lowest slot holding exactly `(paddr, size)`, as ML's remove-by-range looks it up. */
  find(paddr: number, size: number): number | undefined {
    for (let i = 0; i < SART_ENTRIES; i++) {
      const e = this.entry(i);
      if (e !== undefined && e.paddr === paddr && e.size === size) return i;
    }
    return undefined;
  }

  /** One entry decoded from its registers, or undefined when the slot is free. */
  entry(slot: number): SartEntry | undefined {
    if (!(Number.isInteger(slot) && slot >= 0 && slot < SART_ENTRIES) || !this.enabled(slot)) {
      return undefined;
    }
    return {
      slot,
      paddr: this.addr[slot]! * 2 ** this.addrShift,
      size: (this.config[slot]! & SIZE_FIELD_MAX) * 2 ** this.sizeShift,
      reserved: this.isReserved(slot),
    };
  }

  /** Entries in use, in slot order. */
  entries(): SartEntry[] {
    const out: SartEntry[] = [];
    for (let i = 0; i < SART_ENTRIES; i++) {
      const e = this.entry(i);
      if (e !== undefined) out.push(e);
    }
    return out;
  }

  /** The register words of a slot (zero when free). */
  registers(slot: number): SartRegisters {
    if (!(Number.isInteger(slot) && slot >= 0 && slot < SART_ENTRIES)) {
      throw new RtkitError(MemoryErrorCode.SART_SLOT_INVALID, `SART slot ${slot}`, { slot });
    }
    return { config: this.config[slot]!, paddr: this.addr[slot]! };
  }

  /** Whether every byte of `[paddr, paddr + len)` is inside some entry (len ≥ 1). */
  covers(paddr: number, len: number): boolean {
    return this.uncovered(paddr, len, false) === undefined;
  }

  /** The firmware's view: device address = physical address, filtered by the entries. */
  port(memory: PhysicalMemory, faults: FaultLog, opts: SartPortOptions = {}): DmaPort {
    return new SartPort(this, opts.singleEntry ?? false, memory, faults, opts);
  }

  /**
   * The first address of `[paddr, paddr + len)` not covered, or undefined when all is. Union
   * semantics walk forward through entries; `single` asks for one entry holding the whole range.
   */
  uncovered(paddr: number, len: number, single: boolean): number | undefined {
    const end = paddr + len;
    const au = 2 ** this.addrShift;
    const su = 2 ** this.sizeShift;
    let pos = paddr;
    // Each round moves `pos` to the end of a different entry, so at most 16 rounds; a DMA on
    // the firmware's hot path (syslog entries) costs no allocation.
    while (pos < end) {
      let reach = pos;
      for (let i = 0; i < SART_ENTRIES; i++) {
        const cfg = this.config[i]!;
        if (cfg >>> 24 === 0) continue;
        const s = this.addr[i]! * au;
        const e = s + (cfg & SIZE_FIELD_MAX) * su;
        if (single) {
          if (s <= paddr && end <= e) return undefined;
        } else if (s <= pos && e > reach) reach = e;
      }
      if (reach === pos) return pos;
      pos = reach;
    }
    return undefined;
  }

  private encode(paddr: number, size: number): [number, number] {
    if (!(Number.isSafeInteger(size) && size > 0)) {
      throw new RtkitError(MemoryErrorCode.BAD_INPUT, `SART entry size ${size}`, { size });
    }
    checkSpace(paddr, size, 'Sart.allow');
    const au = 2 ** this.addrShift;
    const su = 2 ** this.sizeShift;
    if (!isAligned(paddr, au) || !isAligned(size, su)) {
      throw new RtkitError(
        MemoryErrorCode.MISALIGNED,
        `SART entry ${hex(paddr)}+${hex(size)}: address must be a multiple of ${hex(au)} and ` +
          `size a multiple of ${hex(su)}`,
        { paddr, size },
      );
    }
    const a = paddr / au;
    const s = size / su;
    if (a > ADDR_FIELD_MAX || s > SIZE_FIELD_MAX) {
      throw new RtkitError(
        MemoryErrorCode.OUT_OF_RANGE,
        `SART entry ${hex(paddr)}+${hex(size)} does not fit the register fields`,
        { paddr, size },
      );
    }
    return [a, s];
  }

  private freeSlot(): number | undefined {
    for (let i = 0; i < SART_ENTRIES; i++) if (!this.enabled(i)) return i;
    return undefined;
  }

  private enabled(slot: number): boolean {
    return this.config[slot]! >>> 24 !== 0;
  }

  private isReserved(slot: number): boolean {
    return (this.protectedMask & (1 << slot)) !== 0 && this.enabled(slot);
  }
}

function checkShift(shift: number, name: string): number {
  if (!(Number.isInteger(shift) && shift >= 0 && shift <= 20)) {
    throw new RtkitError(MemoryErrorCode.BAD_INPUT, `SART ${name} ${shift} (0–20)`, { shift });
  }
  return shift;
}

class SartPort extends ContiguousPort {
  constructor(
    private readonly sart: Sart,
    private readonly single: boolean,
    memory: PhysicalMemory,
    faults: FaultLog,
    opts: PortOptions,
  ) {
    super('sart', memory, faults, opts);
  }

  protected plan(paddr: number, len: number): { paddr: number } | Denial {
    const miss = this.sart.uncovered(paddr, len, this.single);
    if (miss === undefined) return { paddr };
    return new Denial(
      'sart-denied',
      this.single
        ? `physical range ${hex(paddr)}+${hex(len)} is not inside one SART entry`
        : `physical address ${hex(miss)} is not covered by any SART entry`,
    );
  }
}
