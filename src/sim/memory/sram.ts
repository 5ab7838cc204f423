/**
 * A co-processor's SRAM inside its MMIO space: the SMC's buffer window (PROTOCOL.md §6.4, mode C).
 * The SMC firmware asks for a buffer with a non-zero IOVA that is a physical address inside this
 * window; ML's SMC client checks `sram.start ≤ iova` and `iova + size − 1 ≤ sram.end` and then
 * reaches it at `sram_base + (iova − sram.start)` with MMIO-safe copies.
 *
 * Two faces over one byte array:
 *  - the host's: a SyncMmio device at absolute physical addresses (misuse throws). Accesses must
 *    be naturally aligned [inferred]: the window is device memory to the AP (ML maps it with
 *    ioremap and copies with memcpy_fromio/toio), where AArch64 faults on unaligned accesses.
 *  - the firmware's: `port()`, device address = physical address, `out-of-window` outside.
 * `{ base, size, bytes }` is also the LocalMemory shape of src/sim/firmware/app.ts, so the
 * firmware model can use the same object directly.
 */

import { RtkitError } from '../../errors.js';
import type { SyncMmio } from '../../mailbox/types.js';
import { checkSpace, hex, MemoryErrorCode } from './address.js';
import { toU32, toU64 } from './physical.js';
import { Denial, PortBase, type PortOptions } from './port.js';
import type { DmaPort, FaultLog } from './types.js';

export interface SramRegionOptions {
  /** Physical address of the first byte. */
  readonly base: number;
  /** Bytes. */
  readonly size: number;
}

/** Port options without `dramMask`: the window is not DRAM, so the mask does not apply. */
export type SramPortOptions = Omit<PortOptions, 'dramMask'>;

export class SramRegion implements SyncMmio {
  readonly base: number;
  readonly size: number;
  /** The SRAM contents; index 0 is physical address `base`. */
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(opts: SramRegionOptions) {
    if (!(Number.isSafeInteger(opts.size) && opts.size > 0)) {
      throw new RtkitError(MemoryErrorCode.BAD_INPUT, `SRAM size ${opts.size}`, {
        size: opts.size,
      });
    }
    checkSpace(opts.base, opts.size, 'SramRegion');
    this.base = opts.base;
    this.size = opts.size;
    this.bytes = new Uint8Array(opts.size);
    this.view = new DataView(this.bytes.buffer);
  }

  /** One past the last byte. */
  get end(): number {
    return this.base + this.size;
  }

  /** Whether `[addr, addr + len)` lies inside the window. */
  contains(addr: number, len: number): boolean {
    return (
      Number.isSafeInteger(addr) &&
      Number.isSafeInteger(len) &&
      len >= 0 &&
      addr >= this.base &&
      addr + len <= this.end
    );
  }

  read32(addr: number): number {
    return this.view.getUint32(this.offset(addr, 4), true);
  }

  write32(addr: number, value: number): void {
    const off = this.offset(addr, 4);
    this.view.setUint32(off, toU32(value), true);
  }

  read64(addr: number): bigint {
    return this.view.getBigUint64(this.offset(addr, 8), true);
  }

  write64(addr: number, value: bigint): void {
    const off = this.offset(addr, 8);
    this.view.setBigUint64(off, toU64(value), true);
  }

  /** Host-side bulk copy out (what memcpy_fromio amounts to); throws outside the window. */
  read(addr: number, len: number): Uint8Array {
    const off = this.offset(addr, len, 1);
    return this.bytes.slice(off, off + len);
  }

  /** Host-side bulk copy in; throws outside the window. */
  write(addr: number, data: Uint8Array): void {
    this.bytes.set(data, this.offset(addr, data.length, 1));
  }

  /** The firmware's view: device address = physical address; `out-of-window` outside. */
  port(faults: FaultLog, opts: SramPortOptions = {}): DmaPort {
    return new SramPort(this, faults, opts);
  }

  /** Offset of an access in `bytes`; throws MEMORY_OUT_OF_RANGE / MEMORY_MISALIGNED. */
  private offset(addr: number, len: number, align = len): number {
    if (!this.contains(addr, len)) {
      throw new RtkitError(
        MemoryErrorCode.OUT_OF_RANGE,
        `SRAM access ${hex(addr)}+${len} outside ${hex(this.base)}–${hex(this.end - 1)}`,
        { addr, len, base: this.base, size: this.size },
      );
    }
    if (addr % align !== 0) {
      throw new RtkitError(
        MemoryErrorCode.MISALIGNED,
        `SRAM access ${hex(addr)} is not ${align}-byte aligned`,
        { addr, align },
      );
    }
    return addr - this.base;
  }
}

class SramPort extends PortBase<number> {
  constructor(
    private readonly region: SramRegion,
    faults: FaultLog,
    opts: SramPortOptions,
  ) {
    // Not the whole object: a caller's wider object must not smuggle a dram mask in.
    super('sram', faults, { name: opts.name, clock: opts.clock, maxRead: opts.maxRead });
  }

  /** Plan = offset into the region's bytes. */
  protected plan(addr: number, len: number): number | Denial {
    const r = this.region;
    if (r.contains(addr, len)) return addr - r.base;
    return new Denial(
      'out-of-window',
      `range ${hex(addr)}+${hex(len)} is not inside the SRAM window ` +
        `${hex(r.base)}–${hex(r.end - 1)}`,
    );
  }

  protected copyOut(off: number, out: Uint8Array): void {
    out.set(this.region.bytes.subarray(off, off + out.length));
  }

  protected copyIn(off: number, data: Uint8Array): void {
    this.region.bytes.set(data, off);
  }
}
