/**
 * Small memory helpers for the firmware model: a bounds-checked DmaPort over the co-processor's
 * own SRAM (mode C, when the SoC gives no port for it) and a bump allocator for firmware-owned
 * IOVAs (mode B, when the SoC gives no allocator).
 */

import type { DmaFault, DmaPort } from '../memory/types.js';
import type { LocalMemory } from './app.js';
import type { AddressWindow } from './types.js';

/** A DmaPort over `LocalMemory`, addressed by device address. Faults are kept in `faults`. */
export interface LocalMemoryPort extends DmaPort {
  readonly faults: readonly DmaFault[];
}

export function localMemoryPort(
  mem: LocalMemory,
  name = 'sram',
  now?: () => number,
): LocalMemoryPort {
  const faults: DmaFault[] = [];
  const size = Math.min(mem.size, mem.bytes.length);
  const inside = (addr: number, len: number): boolean =>
    Number.isSafeInteger(addr) &&
    Number.isSafeInteger(len) &&
    len >= 0 &&
    addr >= mem.base &&
    addr - mem.base + len <= size;
  const fault = (addr: number, len: number, write: boolean): void => {
    faults.push({
      time: now?.() ?? 0,
      port: name,
      kind: 'out-of-window',
      addr,
      len,
      write,
      detail: `outside SRAM [0x${mem.base.toString(16)}, 0x${(mem.base + size).toString(16)})`,
    });
  };
  return {
    name,
    faults,
    read(addr, len) {
      if (!inside(addr, len)) {
        fault(addr, len, false);
        return undefined;
      }
      const off = addr - mem.base;
      return mem.bytes.slice(off, off + len);
    },
    write(addr, data) {
      if (!inside(addr, data.length)) {
        fault(addr, data.length, true);
        return false;
      }
      mem.bytes.set(data, addr - mem.base);
      return true;
    },
    check(addr, len) {
      return inside(addr, len);
    },
  };
}

/**
 * Hands out page-aligned ranges of `window` in order; `undefined` when it is exhausted. The SoC
 * must map the whole window for the co-processor (mode B buffers are the firmware's own).
 */
export function createIovaAllocator(
  window: AddressWindow,
  align = 0x4000,
): (ep: number, bytes: number) => number | undefined {
  let next = window.base;
  const end = window.base + window.size;
  return (_ep, bytes) => {
    if (!(bytes > 0)) return undefined;
    const at = Math.ceil(next / align) * align;
    if (at + bytes > end) return undefined;
    next = at + Math.ceil(bytes / 0x1000) * 0x1000;
    return at;
  };
}
