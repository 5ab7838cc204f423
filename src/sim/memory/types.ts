/**
 * Contracts of the simulated memory system. Every access the simulated firmware makes to memory
 * the host provided goes through a DmaPort, which translates device addresses (IOMMU, SART,
 * SRAM window, identity) and records a fault instead of touching anything it may not.
 */

export type DmaFaultKind =
  /** IOVA not mapped in the DART stream */
  | 'unmapped'
  /** write through a read-only DART mapping (or read through write-only) */
  | 'permission'
  /** physical range not covered by any SART entry */
  | 'sart-denied'
  /** outside the SRAM window */
  | 'out-of-window'
  /** beyond the physical address space (2^44) or a negative/non-integer address */
  | 'out-of-range';

export interface DmaFault {
  /** Virtual time of the access (ms), when the port has a clock. */
  readonly time: number;
  /** Which port (co-processor and path), e.g. "ans/sart". */
  readonly port: string;
  readonly kind: DmaFaultKind;
  /** Device address of the access and its length. */
  readonly addr: number;
  readonly len: number;
  readonly write: boolean;
  readonly detail: string;
}

/** Shared, append-only list of faults that tests assert on. */
export interface FaultLog {
  readonly faults: readonly DmaFault[];
  record(f: DmaFault): void;
}

/** How a co-processor reaches memory. All-or-nothing: a partly inaccessible range is a fault. */
export interface DmaPort {
  readonly name: string;
  /** Copy of `len` bytes at device address `addr`; undefined after recording a fault. */
  read(addr: number, len: number): Uint8Array | undefined;
  /** Write all of `data` at `addr`; false after recording a fault (nothing written). */
  write(addr: number, data: Uint8Array): boolean;
  /** Whether the whole range is accessible, without recording anything. */
  check(addr: number, len: number, write: boolean): boolean;
}
