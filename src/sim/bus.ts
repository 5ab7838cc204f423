/**
 * The simulated SoC's physical address space: an `MmioBus` routes each register access to the
 * device mapped there, and `asyncMmio` lifts any synchronous device (or the whole bus) to the
 * asynchronous `Mmio` contract the host code is written against, so the same driver runs over
 * the simulator in process and over the m1n1 proxy.
 */

import { RtkitError } from '../errors.js';
import type { Mmio, SyncMmio } from '../mailbox/types.js';

export interface MmioRegion {
  readonly base: number;
  readonly size: number;
  readonly name: string;
}

interface Mapped extends MmioRegion {
  readonly end: number;
  readonly device: SyncMmio;
}

/** Physical addresses are below 2^53 (exact JavaScript numbers). */
const ADDR_LIMIT = 2 ** 53;

function hex(n: number): string {
  return Number.isSafeInteger(n) && n >= 0 ? `0x${n.toString(16)}` : String(n);
}

/**
 * Routes absolute physical addresses to devices. Devices receive the absolute address, not an
 * offset (a device knows its own base). An access must lie entirely inside one mapping;
 * anything else is `MMIO_UNMAPPED` naming the address.
 */
export class MmioBus implements SyncMmio {
  /** Sorted by base. */
  private maps: Mapped[] = [];
  private last: Mapped | undefined;

  /** Map `device` at [base, base + size). Overlapping or duplicate-named mappings are rejected. */
  map(base: number, size: number, device: SyncMmio, name: string): void {
    if (!Number.isSafeInteger(base) || base < 0 || !Number.isSafeInteger(size) || size <= 0) {
      throw new RtkitError('BAD_INPUT', `bad mapping ${name}: base ${hex(base)}, size ${size}`, {
        base,
        size,
        name,
      });
    }
    const end = base + size;
    if (end > ADDR_LIMIT) {
      throw new RtkitError('BAD_INPUT', `mapping ${name} ends above 2^53`, { base, size, name });
    }
    for (const m of this.maps) {
      if (m.name === name) {
        throw new RtkitError('BAD_INPUT', `a mapping named ${name} exists`, { name });
      }
      if (base < m.end && m.base < end) {
        throw new RtkitError(
          'BAD_INPUT',
          `mapping ${name} [${hex(base)}, ${hex(end)}) overlaps ${m.name} [${hex(m.base)}, ${hex(m.end)})`,
          { base, size, name, overlaps: m.name },
        );
      }
    }
    this.maps.push({ base, size, end, device, name });
    this.maps.sort((a, b) => a.base - b.base);
  }

  /** Remove the mapping called `name`; false when there is none. */
  unmap(name: string): boolean {
    const i = this.maps.findIndex((m) => m.name === name);
    if (i < 0) return false;
    this.maps.splice(i, 1);
    this.last = undefined;
    return true;
  }

  /** The current mappings, by address. */
  regions(): MmioRegion[] {
    return this.maps.map(({ base, size, name }) => ({ base, size, name }));
  }

  /** The mapping holding `addr`, if any. */
  find(addr: number): MmioRegion | undefined {
    const m = this.lookup(addr, 1);
    return m === undefined ? undefined : { base: m.base, size: m.size, name: m.name };
  }

  read32(addr: number): number {
    return this.route(addr, 4, false).read32(addr);
  }

  write32(addr: number, value: number): void {
    this.route(addr, 4, true).write32(addr, value);
  }

  read64(addr: number): bigint {
    return this.route(addr, 8, false).read64(addr);
  }

  write64(addr: number, value: bigint): void {
    this.route(addr, 8, true).write64(addr, value);
  }

  private route(addr: number, width: number, write: boolean): SyncMmio {
    const l = this.last;
    if (l !== undefined && addr >= l.base && addr + width <= l.end) return l.device;
    const m = this.lookup(addr, width);
    if (m === undefined) {
      const op = `${write ? 'write' : 'read'}${width * 8}`;
      throw new RtkitError('MMIO_UNMAPPED', `no device at ${hex(addr)} (${op})`, {
        addr,
        width,
        write,
      });
    }
    this.last = m;
    return m.device;
  }

  private lookup(addr: number, width: number): Mapped | undefined {
    if (typeof addr !== 'number' || !Number.isSafeInteger(addr) || addr < 0) return undefined;
    let lo = 0;
    let hi = this.maps.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const m = this.maps[mid]!;
      if (addr < m.base) hi = mid - 1;
      else if (addr >= m.end) lo = mid + 1;
      else return addr + width <= m.end ? m : undefined;
    }
    return undefined;
  }
}

// One shared settled promise for writes: awaiting it costs the same as a fresh one.
const RESOLVED: Promise<void> = Promise.resolve();

/**
 * The asynchronous view of a synchronous device: every call answers with an already settled
 * promise (a throw becomes a rejection), so host code behaves exactly as over a remote Mmio.
 */
export function asyncMmio(sync: SyncMmio): Mmio {
  return {
    read32(addr) {
      try {
        return Promise.resolve(sync.read32(addr));
      } catch (e) {
        return Promise.reject(e);
      }
    },
    write32(addr, value) {
      try {
        sync.write32(addr, value);
        return RESOLVED;
      } catch (e) {
        return Promise.reject(e);
      }
    },
    read64(addr) {
      try {
        return Promise.resolve(sync.read64(addr));
      } catch (e) {
        return Promise.reject(e);
      }
    },
    write64(addr, value) {
      try {
        sync.write64(addr, value);
        return RESOLVED;
      } catch (e) {
        return Promise.reject(e);
      }
    },
  };
}
