/**
 * A DmaPort over sparse memory for unit tests. Accesses are allowed inside the mapped windows
 * only (like a DART or SART); anything else is recorded as a fault and refused.
 */

import type { DmaFault, DmaPort } from '../../memory/types.js';

const PAGE = 0x1000;

export class FakeDmaPort implements DmaPort {
  readonly name: string;
  readonly faults: DmaFault[] = [];
  readonly #pages = new Map<number, Uint8Array>();
  readonly #windows: { base: number; size: number }[] = [];
  /** Refuse every access (a failing IOMMU, ROBUSTNESS B12). */
  failAll = false;
  reads = 0;
  writes = 0;

  constructor(name = 'fake-dma') {
    this.name = name;
  }

  /** Allow `[base, base + size)`. */
  map(base: number, size: number): void {
    this.#windows.push({ base, size });
  }

  unmapAll(): void {
    this.#windows.length = 0;
  }

  check(addr: number, len: number): boolean {
    if (this.failAll || !Number.isSafeInteger(addr) || addr < 0 || len < 0) return false;
    return this.#windows.some((w) => addr >= w.base && addr + len <= w.base + w.size);
  }

  #fault(addr: number, len: number, write: boolean): void {
    this.faults.push({
      time: 0,
      port: this.name,
      kind: 'unmapped',
      addr,
      len,
      write,
      detail: 'outside the mapped windows',
    });
  }

  read(addr: number, len: number): Uint8Array | undefined {
    if (!this.check(addr, len)) {
      this.#fault(addr, len, false);
      return undefined;
    }
    this.reads++;
    return this.peek(addr, len);
  }

  write(addr: number, data: Uint8Array): boolean {
    if (!this.check(addr, data.length)) {
      this.#fault(addr, data.length, true);
      return false;
    }
    this.writes++;
    this.poke(addr, data);
    return true;
  }

  /** Test access without the window check. */
  peek(addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const off = a % PAGE;
      const n = Math.min(PAGE - off, len - done);
      const page = this.#pages.get(Math.floor(a / PAGE));
      if (page !== undefined) out.set(page.subarray(off, off + n), done);
      done += n;
    }
    return out;
  }

  poke(addr: number, data: Uint8Array): void {
    let done = 0;
    while (done < data.length) {
      const a = addr + done;
      const off = a % PAGE;
      const n = Math.min(PAGE - off, data.length - done);
      const pn = Math.floor(a / PAGE);
      let page = this.#pages.get(pn);
      if (page === undefined) {
        page = new Uint8Array(PAGE);
        this.#pages.set(pn, page);
      }
      page.set(data.subarray(done, done + n), off);
      done += n;
    }
  }
}
