/**
 * A DART-style IOMMU (Apple's Device Address Resolution Table): per stream, a page table from
 * IOVA pages to physical pages with read/write permission. Co-processors that sit behind a DART
 * (DCP, and m1n1's ASC setups) see only what the host mapped (PROTOCOL.md §6.2, "IOMMU (DART)").
 *
 * Facts used: Apple DARTs on M1-class SoCs use 16 KiB pages, a device attaches through a stream
 * id, and page-table entries carry no-read / no-write protection bits (ML `apple-dart.c`, DART1
 * and DART2 PTE formats). Ours: 16 streams by default (configurable). Inferred: the default
 * 36-bit IOVA space, from "DCP on M2 needs IOVAs < 2^36" (§6.2; m1n1 masks `[35:0]`).
 *
 * The host maps and unmaps (misuse throws); the firmware reaches memory through `port()`, which
 * checks every page of an access before copying anything and records a fault instead.
 */

import { RtkitError } from '../../errors.js';
import { checkSpace, hex, isAligned, MemoryErrorCode } from './address.js';
import type { PhysicalMemory } from './physical.js';
import { Denial, PortBase, type PortOptions } from './port.js';
import type { DmaPort, FaultLog } from './types.js';

/** Read-only, write-only, or both: what the device may do through a mapping. */
export type DartPerms = 'r' | 'w' | 'rw';

export interface DartOptions {
  /** Bytes per page: 16384 (default, Apple DART) or 4096. */
  readonly pageSize?: 4096 | 16384 | undefined;
  /** Stream ids are 0 … streams − 1. Default 16. */
  readonly streams?: number | undefined;
  /** IOVAs are below 2^iovaBits. Default 36 [inferred, see above]; at most 44. */
  readonly iovaBits?: number | undefined;
}

/** A run of contiguous mapped pages with contiguous physical pages and one permission. */
export interface DartMapping {
  readonly stream: number;
  readonly iova: number;
  readonly paddr: number;
  readonly size: number;
  readonly perms: DartPerms;
}

const PERM_R = 1;
const PERM_W = 2;
const PERM_BITS = 4;

function permBits(p: DartPerms): number {
  switch (p) {
    case 'r':
      return PERM_R;
    case 'w':
      return PERM_W;
    case 'rw':
      return PERM_R | PERM_W;
    default:
      throw new RtkitError(MemoryErrorCode.BAD_INPUT, `DART permission ${String(p)}`);
  }
}

function permName(bits: number): DartPerms {
  return bits === PERM_R ? 'r' : bits === PERM_W ? 'w' : 'rw';
}

export class Dart {
  readonly pageSize: number;
  readonly streams: number;
  readonly iovaBits: number;
  /** One past the highest IOVA. */
  readonly iovaLimit: number;

  /**
   * Per stream: IOVA page number → physical page number × 4 + permission bits. A number per
   * entry keeps a large mapping cheap (2^44 / 4 KiB × 4 = 2^34, exact).
   */
  private readonly tables: Map<number, number>[] = [];
  private mapped = 0;

  constructor(opts: DartOptions = {}) {
    const pageSize = opts.pageSize ?? 0x4000;
    const streams = opts.streams ?? 16;
    const iovaBits = opts.iovaBits ?? 36;
    if (pageSize !== 0x1000 && pageSize !== 0x4000) {
      throw new RtkitError(MemoryErrorCode.BAD_INPUT, `DART page size ${pageSize}`);
    }
    if (!(Number.isSafeInteger(streams) && streams >= 1 && streams <= 256)) {
      throw new RtkitError(MemoryErrorCode.BAD_INPUT, `DART streams ${streams} (1–256)`);
    }
    if (!(Number.isSafeInteger(iovaBits) && iovaBits >= Math.log2(pageSize) && iovaBits <= 44)) {
      throw new RtkitError(MemoryErrorCode.BAD_INPUT, `DART iovaBits ${iovaBits} (page–44)`);
    }
    this.pageSize = pageSize;
    this.streams = streams;
    this.iovaBits = iovaBits;
    this.iovaLimit = 2 ** iovaBits;
    for (let s = 0; s < streams; s++) this.tables.push(new Map());
  }

  /** Pages mapped, over all streams. */
  get mappedPages(): number {
    return this.mapped;
  }

  /** Pages mapped in one stream. */
  mappedPagesIn(stream: number): number {
    return this.table(stream).size;
  }

  /**
   * Map `[iova, iova + size)` to `[paddr, paddr + size)`. All three must be page-aligned, size
   * > 0. Throws DART_OVERLAP (and maps nothing) if any page is already mapped in the stream.
   */
  map(stream: number, iova: number, paddr: number, size: number, perms: DartPerms = 'rw'): void {
    const t = this.table(stream);
    const bits = permBits(perms);
    this.checkIovaRange(iova, size, 'Dart.map');
    checkSpace(paddr, size, 'Dart.map physical range');
    if (size === 0) throw new RtkitError(MemoryErrorCode.BAD_INPUT, 'Dart.map: size 0');
    this.checkAligned(iova, paddr, size, 'Dart.map');
    const ps = this.pageSize;
    const first = iova / ps;
    const n = size / ps;
    for (let i = 0; i < n; i++) {
      if (t.has(first + i)) {
        throw new RtkitError(
          MemoryErrorCode.DART_OVERLAP,
          `Dart.map: stream ${stream} IOVA ${hex((first + i) * ps)} is already mapped`,
          { stream, iova: (first + i) * ps },
        );
      }
    }
    const ppn = paddr / ps;
    for (let i = 0; i < n; i++) t.set(first + i, (ppn + i) * PERM_BITS + bits);
    this.mapped += n;
  }

  /** Unmap every mapped page in `[iova, iova + size)` (page-aligned). Returns pages removed. */
  unmap(stream: number, iova: number, size: number): number {
    const t = this.table(stream);
    this.checkIovaRange(iova, size, 'Dart.unmap');
    this.checkAligned(iova, 0, size, 'Dart.unmap');
    const ps = this.pageSize;
    const first = iova / ps;
    const n = size / ps;
    let removed = 0;
    if (n > t.size) {
      // A huge range over a sparse table: walk the table instead of the range.
      for (const pn of [...t.keys()]) if (pn >= first && pn < first + n && t.delete(pn)) removed++;
    } else {
      for (let i = 0; i < n; i++) if (t.delete(first + i)) removed++;
    }
    this.mapped -= removed;
    return removed;
  }

  /** Unmap everything in one stream, or in all streams. Returns pages removed. */
  unmapAll(stream?: number): number {
    const tables = stream === undefined ? this.tables : [this.table(stream)];
    let removed = 0;
    for (const t of tables) {
      removed += t.size;
      t.clear();
    }
    this.mapped -= removed;
    return removed;
  }

  /**
   * Physical address of one IOVA for a read (or a write), or undefined when unmapped, not
   * permitted, or not a valid IOVA at all: the IOVA may come from firmware, so this never throws
   * for it (only for an invalid stream).
   */
  translate(stream: number, iova: number, write: boolean): number | undefined {
    const e = this.lookup(stream, iova);
    if (e === undefined || !e.perms.includes(write ? 'w' : 'r')) return undefined;
    return e.paddr;
  }

  /** The mapping of one IOVA: its physical address and permission. */
  lookup(stream: number, iova: number): { paddr: number; perms: DartPerms } | undefined {
    const t = this.table(stream);
    if (!(Number.isSafeInteger(iova) && iova >= 0 && iova < this.iovaLimit)) return undefined;
    const pn = Math.floor(iova / this.pageSize);
    const v = t.get(pn);
    if (v === undefined) return undefined;
    const ppn = Math.floor(v / PERM_BITS);
    return {
      paddr: ppn * this.pageSize + (iova - pn * this.pageSize),
      perms: permName(v - ppn * PERM_BITS),
    };
  }

  /** A stream's mappings, merged into maximal runs, in IOVA order. */
  mappings(stream: number): DartMapping[] {
    const t = this.table(stream);
    const ps = this.pageSize;
    const out: DartMapping[] = [];
    let cur: { iova: number; paddr: number; size: number; bits: number } | undefined;
    for (const pn of [...t.keys()].sort((a, b) => a - b)) {
      const v = t.get(pn)!;
      const ppn = Math.floor(v / PERM_BITS);
      const bits = v - ppn * PERM_BITS;
      if (
        cur !== undefined &&
        cur.iova + cur.size === pn * ps &&
        cur.paddr + cur.size === ppn * ps &&
        cur.bits === bits
      ) {
        cur.size += ps;
        continue;
      }
      if (cur !== undefined) out.push(runOf(stream, cur));
      cur = { iova: pn * ps, paddr: ppn * ps, size: ps, bits };
    }
    if (cur !== undefined) out.push(runOf(stream, cur));
    return out;
  }

  /**
   * The firmware's view through `stream`: device addresses are IOVAs (with `dramMask` ORed in,
   * see PortOptions). The port reads the table on every access, so an unmap takes effect at once.
   * Throws BAD_INPUT if the mask overlaps the IOVA bits (stripping would be ambiguous).
   */
  port(stream: number, memory: PhysicalMemory, faults: FaultLog, opts: PortOptions = {}): DmaPort {
    const table = this.table(stream);
    const mask = opts.dramMask ?? 0;
    if (mask !== 0 && mask % this.iovaLimit !== 0) {
      throw new RtkitError(
        MemoryErrorCode.BAD_INPUT,
        `asc-dram-mask ${hex(mask)} overlaps the DART's ${this.iovaBits}-bit IOVA space`,
        { mask, iovaBits: this.iovaBits },
      );
    }
    return new DartPort(this, table, stream, memory, faults, opts);
  }

  private table(stream: number): Map<number, number> {
    const t = Number.isInteger(stream) ? this.tables[stream] : undefined;
    if (t === undefined) {
      throw new RtkitError(
        MemoryErrorCode.DART_STREAM_INVALID,
        `DART stream ${stream} (valid: 0–${this.streams - 1})`,
        { stream },
      );
    }
    return t;
  }

  private checkIovaRange(iova: number, size: number, what: string): void {
    if (
      !(
        Number.isSafeInteger(iova) &&
        Number.isSafeInteger(size) &&
        iova >= 0 &&
        size >= 0 &&
        iova + size <= this.iovaLimit
      )
    ) {
      throw new RtkitError(
        MemoryErrorCode.OUT_OF_RANGE,
        `${what}: IOVA range ${hex(iova)}+${hex(size)} outside the ${this.iovaBits}-bit IOVA space`,
        { iova, size, iovaBits: this.iovaBits },
      );
    }
  }

  private checkAligned(iova: number, paddr: number, size: number, what: string): void {
    const ps = this.pageSize;
    if (!isAligned(iova, ps) || !isAligned(paddr, ps) || !isAligned(size, ps)) {
      throw new RtkitError(
        MemoryErrorCode.MISALIGNED,
        `${what}: IOVA ${hex(iova)}, physical ${hex(paddr)} and size ${hex(size)} must be ` +
          `multiples of the ${hex(ps)}-byte page`,
        { iova, paddr, size, pageSize: ps },
      );
    }
  }
}

function runOf(
  stream: number,
  r: { iova: number; paddr: number; size: number; bits: number },
): DartMapping {
  return { stream, iova: r.iova, paddr: r.paddr, size: r.size, perms: permName(r.bits) };
}

/** Physical address of each page an access touches; the first may start mid-page. */
interface Pages {
  readonly first: number;
  readonly pages: number[];
}

class DartPort extends PortBase<Pages> {
  constructor(
    private readonly dart: Dart,
    /** The stream's live table: map/unmap/unmapAll mutate it in place. */
    private readonly table: ReadonlyMap<number, number>,
    private readonly stream: number,
    private readonly memory: PhysicalMemory,
    faults: FaultLog,
    opts: PortOptions,
  ) {
    super(`dart/${stream}`, faults, opts);
  }

  protected plan(iova: number, len: number, write: boolean): Pages | Denial {
    const d = this.dart;
    if (iova + len > d.iovaLimit) {
      return new Denial(
        'unmapped',
        `IOVA range ${hex(iova)}+${hex(len)} leaves the ${d.iovaBits}-bit IOVA space`,
      );
    }
    const ps = d.pageSize;
    const need = write ? PERM_W : PERM_R;
    const firstPn = Math.floor(iova / ps);
    const lastPn = Math.floor((iova + len - 1) / ps);
    const pages: number[] = [];
    for (let pn = firstPn; pn <= lastPn; pn++) {
      const v = this.table.get(pn);
      if (v === undefined) {
        return new Denial(
          'unmapped',
          `stream ${this.stream}: IOVA ${hex(Math.max(iova, pn * ps))} is not mapped`,
        );
      }
      const ppn = Math.floor(v / PERM_BITS);
      if (((v - ppn * PERM_BITS) & need) === 0) {
        return new Denial(
          'permission',
          `stream ${this.stream}: IOVA ${hex(Math.max(iova, pn * ps))} is mapped ` +
            `${permName(v - ppn * PERM_BITS)}-only, ${write ? 'write' : 'read'} refused`,
        );
      }
      pages.push(ppn * ps);
    }
    return { first: iova - firstPn * ps, pages };
  }

  protected copyOut(plan: Pages, out: Uint8Array): void {
    this.each(plan, out.length, (paddr, pos, n) => {
      this.memory.readInto(paddr, out.subarray(pos, pos + n));
    });
  }

  protected copyIn(plan: Pages, data: Uint8Array): void {
    this.each(plan, data.length, (paddr, pos, n) => {
      this.memory.write(paddr, data.subarray(pos, pos + n));
    });
  }

  private each(plan: Pages, len: number, fn: (paddr: number, pos: number, n: number) => void) {
    const ps = this.dart.pageSize;
    let pos = 0;
    let off = plan.first;
    for (const base of plan.pages) {
      const n = Math.min(ps - off, len - pos);
      fn(base + off, pos, n);
      pos += n;
      off = 0;
    }
  }
}
