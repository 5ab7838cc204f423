/**
 * Shared-memory strategies: how the host answers a firmware buffer request (PROTOCOL.md §6).
 * One interface, four implementations (IOMMU-mapped host memory, SART-allowed host memory,
 * firmware-owned IOVA mapped for the host, SRAM window), chosen per endpoint or per session.
 *
 * The hardware the strategies program is reached through the small interfaces below, so the
 * same code runs against the simulator (adapters in src/wiring/) and, later, a real Mac through
 * the m1n1 proxy.
 */

/** Host physical memory: allocation for buffers the host provides, and CPU access. */
export interface HostMemory {
  /** A physical range of at least `size` bytes aligned to `align`; undefined when exhausted. */
  alloc(size: number, align: number): Promise<number | undefined>;
  free(paddr: number): Promise<void>;
  read(paddr: number, len: number): Promise<Uint8Array>;
  write(paddr: number, data: Uint8Array): Promise<void>;
}

/** The co-processor's IOMMU (DART) for one stream. */
export interface IommuControl {
  readonly pageSize: number;
  map(iova: number, paddr: number, size: number, perms: 'r' | 'w' | 'rw'): Promise<void>;
  unmap(iova: number, size: number): Promise<void>;
  /** Physical address behind an IOVA, or undefined when unmapped. */
  translate(iova: number): Promise<number | undefined>;
}

/** The NVMe co-processor's allow-list (16 entries, 4 KiB granularity). */
export interface SartControl {
  /** Slot used, or undefined when every slot is taken. */
  allow(paddr: number, size: number): Promise<number | undefined>;
  revoke(slot: number): Promise<void>;
}

/**
 * How a buffer was granted. `identity` (additive): host memory handed to a co-processor that
 * reaches DRAM without a translating unit (device address = physical address, §6.2 "Identity").
 */
export type BufferMode = 'iommu' | 'sart' | 'firmware-iova' | 'sram' | 'identity';

/** A buffer request as the firmware sent it, in bytes and device address (0 = host allocates). */
export interface BufferRequest {
  readonly ep: number;
  readonly bytes: number;
  readonly iova: number;
}

/** A granted buffer. Every access is bounds-checked against exactly the granted range. */
export interface SharedBuffer {
  readonly ep: number;
  readonly mode: BufferMode;
  /** The address the firmware uses (what the reply carries, or what it announced). */
  readonly device: number;
  readonly bytes: number;
  read(offset: number, len: number): Promise<Uint8Array>;
  write(offset: number, data: Uint8Array): Promise<void>;
}

export type BufferRefusalCode =
  | 'BUFFER_REJECTED'
  | 'BUFFER_ALLOC_FAILED'
  | 'BUFFER_MAP_MISMATCH'
  | 'BUFFER_OUT_OF_WINDOW'
  | 'BUFFER_UNMAPPED';

export type BufferDecision =
  /** `reply`: send a buffer reply carrying `buffer.device` (mode A); modes B/C send nothing. */
  | { readonly ok: true; readonly buffer: SharedBuffer; readonly reply: boolean }
  | {
      readonly ok: false;
      readonly code: BufferRefusalCode;
      readonly message: string;
      /** The host-side error behind the refusal (an allocator or IOMMU call that threw). */
      readonly cause?: unknown;
    };

export interface BufferStrategy {
  readonly name: string;
  /** Never throws for firmware-supplied numbers: a bad request is a refusal. */
  acquire(req: BufferRequest): Promise<BufferDecision>;
  /** Free the memory and revoke every mapping or allow-list entry of the buffer. */
  release(buf: SharedBuffer): Promise<void>;
  /** Buffers granted and not yet released (leak tests). */
  readonly live: number;
}
