/**
 * What every shared-memory strategy shares: request validation (M1, M5), address arithmetic on
 * 44-bit device addresses, the `asc-dram-mask`, the bounds-checked buffer (M4) and the strategy
 * skeleton that counts live buffers and routes requests by mode (IOVA 0 → host allocates,
 * IOVA ≠ 0 → firmware-owned, PROTOCOL.md §6).
 */

import { RtkitError } from '../../errors.js';
import type {
  BufferDecision,
  BufferMode,
  BufferRefusalCode,
  BufferRequest,
  BufferStrategy,
  HostMemory,
  SharedBuffer,
} from './types.js';

/** Error codes thrown by this module (misuse of a buffer or of the API; never firmware input). */
export const ShmemErrorCode = {
  /** `SharedBuffer.read/write` or an SRAM access outside the granted range (M4). */
  BUFFER_OUT_OF_RANGE: 'BUFFER_OUT_OF_RANGE',
  /** Access to a buffer after `release` (its memory may already belong to someone else). */
  BUFFER_RELEASED: 'BUFFER_RELEASED',
  /** Some buffers could not be freed, unmapped or revoked; they stay live for a retry. */
  BUFFER_RELEASE_FAILED: 'BUFFER_RELEASE_FAILED',
  /** Malformed options, a buffer not granted by this strategy, a reply for a non-buffer EP. */
  BAD_INPUT: 'BAD_INPUT',
} as const;

/** Device addresses in buffer messages are 44 bits (`[43:0]`, PROTOCOL.md §6.1). */
export const DEVICE_LIMIT = 2 ** 44;
/** The unit of SIZE on EP 1/2/4 and of the OSLog page number. */
export const PAGE_4K = 0x1000;
/** Alignment m1n1, U-Boot and OpenBSD give buffers (§6.2), and the Apple DART page. */
export const PAGE_16K = 0x4000;
/**
 * Default largest buffer: 1 MiB. No well-formed request exceeds it: EP 1/2/4 carry 8 bits of
 * 4 KiB pages (at most 0xff000 bytes) and OSLog 20 bits of bytes (at most 0xfffff).
 */
export const DEFAULT_MAX_BYTES = 0x10_0000;

const TWO32 = 0x1_0000_0000;

export function hex(n: number): string {
  return Number.isSafeInteger(n) && n >= 0 ? `0x${n.toString(16)}` : String(n);
}

export function isU53(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** Round up to a power-of-two multiple; exact below 2^53. */
export function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** `a | b` for non-negative integers below 2^53 (`|` itself only sees 32 bits). */
export function or53(a: number, b: number): number {
  const hi = Math.floor(a / TWO32) | Math.floor(b / TWO32);
  return (hi >>> 0) * TWO32 + (((a >>> 0) | (b >>> 0)) >>> 0);
}

/** `a & b` for non-negative integers below 2^53. */
export function and53(a: number, b: number): number {
  const hi = Math.floor(a / TWO32) & Math.floor(b / TWO32);
  return (hi >>> 0) * TWO32 + (((a >>> 0) & (b >>> 0)) >>> 0);
}

/** Whether `[addr, addr + len)` lies in `[base, base + size)`, without computing `addr + len`. */
export function inWindow(addr: number, len: number, base: number, size: number): boolean {
  return addr >= base && len <= size && addr - base <= size - len;
}

export function badInput(message: string, details: Record<string, unknown> = {}): never {
  throw new RtkitError(ShmemErrorCode.BAD_INPUT, message, details);
}

/** Check an `asc-dram-mask` option: an integer in [0, 2^44), as it must fit the IOVA field. */
export function checkDramMask(mask: number | undefined): number {
  const m = mask ?? 0;
  if (!(isU53(m) && m < DEVICE_LIMIT)) badInput(`asc-dram-mask ${hex(m)} must be in [0, 2^44)`);
  return m;
}

/**
 * The address behind a device address the IOP announced, or undefined when a mask bit is
 * missing. m1n1-C strips the mask from addresses received from the IOP (§6.2); we refuse an
 * address without it [inferred]: the IOP reaches DRAM only through the part of its address map
 * the mask selects, so such an address would not reach the memory we would be looking at.
 */
export function stripMask(addr: number, mask: number): number | undefined {
  if (mask === 0) return addr;
  if (and53(addr, mask) !== mask) return undefined;
  return addr - mask;
}

export interface AddressWindow {
  readonly base: number;
  readonly size: number;
}

export function checkWindow(w: AddressWindow, what: string, align = 1): void {
  if (!(isU53(w.base) && isU53(w.size) && w.size > 0 && w.base + w.size <= DEVICE_LIMIT)) {
    badInput(`${what} ${hex(w.base)}+${hex(w.size)} must be a non-empty range below 2^44`, {
      ...w,
    });
  }
  if (w.base % align !== 0 || w.size % align !== 0) {
    badInput(`${what} ${hex(w.base)}+${hex(w.size)} must be ${hex(align)}-aligned`, { ...w });
  }
}

export function checkMaxBytes(maxBytes: number | undefined): number {
  const m = maxBytes ?? DEFAULT_MAX_BYTES;
  if (!(isU53(m) && m > 0)) badInput(`maxBytes ${String(m)} must be a positive integer`);
  return m;
}

export type Refusal = Extract<BufferDecision, { ok: false }>;

export function refuse(code: BufferRefusalCode, message: string, cause?: unknown): Refusal {
  return cause === undefined
    ? { ok: false, code, message }
    : { ok: false, code, message: `${message}: ${errorText(cause)}`, cause };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** M1 and the size limit: a request every strategy refuses before looking at its address. */
export function checkRequest(req: BufferRequest, maxBytes: number): Refusal | undefined {
  if (!isU53(req.bytes) || req.bytes === 0) {
    return refuse(
      'BUFFER_REJECTED',
      `endpoint ${hex(req.ep)}: buffer request of ${String(req.bytes)} bytes`,
    );
  }
  if (req.bytes > maxBytes) {
    return refuse(
      'BUFFER_REJECTED',
      `endpoint ${hex(req.ep)}: buffer request of ${hex(req.bytes)} bytes exceeds the limit ` +
        `${hex(maxBytes)}`,
    );
  }
  if (!isU53(req.iova)) {
    return refuse('BUFFER_REJECTED', `endpoint ${hex(req.ep)}: IOVA ${String(req.iova)}`);
  }
  return undefined;
}

/** Mode B/C: the announced range must lie in the 44-bit device address space (M5). */
export function checkDeviceRange(req: BufferRequest): Refusal | undefined {
  if (!inWindow(req.iova, req.bytes, 0, DEVICE_LIMIT)) {
    return refuse(
      'BUFFER_OUT_OF_WINDOW',
      `endpoint ${hex(req.ep)}: buffer ${hex(req.iova)}+${hex(req.bytes)} leaves the 44-bit ` +
        'device address space',
    );
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The buffer

/** A run of physical memory backing part of a buffer, in buffer order. */
export interface Segment {
  readonly paddr: number;
  readonly len: number;
}

/** Where a buffer's bytes are, as the host reaches them. */
export interface BufferIo {
  read(offset: number, len: number): Promise<Uint8Array>;
  write(offset: number, data: Uint8Array): Promise<void>;
}

/** Host-side facts about a granted buffer, for tests, tools and the viewer. */
export interface BufferPlacement {
  /** Physical address of a host allocation (modes A). */
  readonly paddr?: number;
  /** Bytes reserved (the request rounded up to the allocation granule). */
  readonly allocated?: number;
  /** IOMMU address without the dram mask (IOMMU strategy, firmware-owned IOVA). */
  readonly iova?: number;
  /** SART slot (SART strategy). */
  readonly sartSlot?: number;
  /** Physical runs behind a firmware-owned buffer, in order (contiguity is not assumed). */
  readonly segments?: readonly Segment[];
}

/**
 * A granted buffer: every access is checked against exactly `[0, bytes)` (M4, ROBUSTNESS
 * Principle 4) and refused once the buffer is released.
 */
export class HostSharedBuffer implements SharedBuffer {
  #released = false;

  constructor(
    readonly ep: number,
    readonly mode: BufferMode,
    readonly device: number,
    readonly bytes: number,
    readonly placement: BufferPlacement,
    private readonly io: BufferIo,
  ) {}

  /** True from the start of `release`: no access reaches memory afterwards. */
  get released(): boolean {
    return this.#released;
  }

  markReleased(): void {
    this.#released = true;
  }

  async read(offset: number, len: number): Promise<Uint8Array> {
    this.check(offset, len, 'read');
    if (len === 0) return new Uint8Array(0);
    return this.io.read(offset, len);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    this.check(offset, data?.length, 'write');
    if (data.length === 0) return;
    await this.io.write(offset, data);
  }

  private check(offset: number, len: number, what: string): void {
    if (this.#released) {
      throw new RtkitError(
        ShmemErrorCode.BUFFER_RELEASED,
        `endpoint ${hex(this.ep)}: ${what} of a released buffer`,
        { ep: this.ep, device: this.device },
      );
    }
    if (!(isU53(offset) && isU53(len) && len <= this.bytes && offset <= this.bytes - len)) {
      throw new RtkitError(
        ShmemErrorCode.BUFFER_OUT_OF_RANGE,
        `endpoint ${hex(this.ep)}: ${what} of ${String(len)} bytes at offset ${String(offset)} ` +
          `outside the ${hex(this.bytes)}-byte buffer`,
        { ep: this.ep, offset, len, bytes: this.bytes },
      );
    }
  }
}

/** Reads and writes over physical runs through the host's CPU view of RAM. */
export function ramIo(memory: HostMemory, segments: readonly Segment[]): BufferIo {
  const each = async (
    offset: number,
    len: number,
    fn: (paddr: number, pos: number, n: number) => Promise<void>,
  ): Promise<void> => {
    let start = 0;
    let pos = 0;
    for (const s of segments) {
      const end = start + s.len;
      if (offset + pos < end && pos < len) {
        const within = offset + pos - start;
        const n = Math.min(s.len - within, len - pos);
        await fn(s.paddr + within, pos, n);
        pos += n;
      }
      start = end;
      if (pos >= len) break;
    }
  };
  return {
    async read(offset, len) {
      const out = new Uint8Array(len);
      await each(offset, len, async (paddr, pos, n) => {
        out.set((await memory.read(paddr, n)).subarray(0, n), pos);
      });
      return out;
    },
    async write(offset, data) {
      await each(offset, data.length, (paddr, pos, n) =>
        memory.write(paddr, data.subarray(pos, pos + n)),
      );
    },
  };
}

/** Overwrite `[paddr, paddr + size)` with zeros, in chunks (no stale data reaches the IOP). */
export async function zeroFill(memory: HostMemory, paddr: number, size: number): Promise<void> {
  const chunk = new Uint8Array(Math.min(size, 0x10000));
  for (let pos = 0; pos < size; pos += chunk.length) {
    const n = Math.min(chunk.length, size - pos);
    await memory.write(paddr + pos, n === chunk.length ? chunk : chunk.subarray(0, n));
  }
}

/** A physical address from `HostMemory.alloc` that a strategy can use as is. */
export function plausibleAllocation(
  paddr: unknown,
  size: number,
  align: number,
  allowZero: boolean,
): paddr is number {
  return (
    isU53(paddr) &&
    (allowZero || paddr !== 0) &&
    paddr % align === 0 &&
    inWindow(paddr, size, 0, DEVICE_LIMIT)
  );
}

// ---------------------------------------------------------------------------------------------
// The strategy skeleton

/** What a mode handler grants: the buffer, whether to reply, and how to undo it. */
export interface Grant {
  readonly buffer: HostSharedBuffer;
  readonly reply: boolean;
  /**
   * Revoke the device's access first, then free (so memory is never reused while the IOP can
   * still reach it). Each step runs once: after a failure a retry resumes where it stopped.
   */
  readonly teardown: () => Promise<void>;
}

export type ModeHandler = (req: BufferRequest) => Promise<Grant | Refusal>;

export interface SkeletonOptions {
  readonly name: string;
  readonly maxBytes: number;
  /** IOVA 0: host allocates (mode A). Undefined: refuse with `hostRefusal`. */
  readonly hostAllocated?: ModeHandler | undefined;
  /** IOVA ≠ 0: the firmware owns the buffer (modes B, C). Undefined: refuse. */
  readonly firmwareOwned?: ModeHandler | undefined;
  /** Another strategy that takes the requests this one does not handle. */
  readonly delegate?: BufferStrategy | undefined;
  readonly hostRefusal?: (req: BufferRequest) => Refusal;
  readonly firmwareRefusal?: (req: BufferRequest) => Refusal;
}

/**
 * The shared part of every strategy: validation, routing by IOVA, live counting, idempotent
 * release, and "never throws for firmware input" (a host-side exception becomes
 * `BUFFER_ALLOC_FAILED` with the error as `cause`).
 */
export class StrategySkeleton implements BufferStrategy {
  readonly name: string;
  readonly maxBytes: number;
  private readonly opts: SkeletonOptions;
  /** Buffers this strategy made, not yet torn down. */
  private readonly own = new Map<SharedBuffer, Grant>();
  /** Buffers a delegate made through this strategy, not yet released. */
  private readonly delegated = new Set<SharedBuffer>();
  /** Everything ever granted here, so a second release is recognised and ignored. */
  private readonly granted = new WeakSet<SharedBuffer>();

  constructor(opts: SkeletonOptions) {
    this.name = opts.name;
    this.maxBytes = opts.maxBytes;
    this.opts = opts;
  }

  get live(): number {
    return this.own.size + this.delegated.size;
  }

  async acquire(req: BufferRequest): Promise<BufferDecision> {
    try {
      const bad = checkRequest(req, this.maxBytes);
      if (bad) return bad;
      const host = req.iova === 0;
      const handler = host ? this.opts.hostAllocated : this.opts.firmwareOwned;
      if (handler === undefined) {
        const d = this.opts.delegate;
        if (d !== undefined) {
          const r = await d.acquire(req);
          if (r.ok) {
            this.delegated.add(r.buffer);
            this.granted.add(r.buffer);
          }
          return r;
        }
        const refusal = host ? this.opts.hostRefusal : this.opts.firmwareRefusal;
        return refusal
          ? refusal(req)
          : refuse(
              'BUFFER_REJECTED',
              `endpoint ${hex(req.ep)}: ${host ? 'host-allocated' : `firmware-owned buffer at ${hex(req.iova)}`} ` +
                `refused (the ${this.name} strategy does not take ${host ? 'host-allocated' : 'firmware-owned'} buffers)`,
            );
      }
      const g = await handler(req);
      if ('ok' in g) return g;
      this.own.set(g.buffer, g);
      this.granted.add(g.buffer);
      return { ok: true, buffer: g.buffer, reply: g.reply };
    } catch (e) {
      return refuse('BUFFER_ALLOC_FAILED', `endpoint ${hex(req.ep)}: ${this.name} failed`, e);
    }
  }

  async release(buf: SharedBuffer): Promise<void> {
    const g = this.own.get(buf);
    if (g !== undefined) {
      g.buffer.markReleased();
      await g.teardown();
      this.own.delete(buf);
      return;
    }
    if (this.delegated.has(buf)) {
      await this.opts.delegate!.release(buf);
      this.delegated.delete(buf);
      return;
    }
    if (this.granted.has(buf)) return;
    badInput(`${this.name}: release of a buffer this strategy did not grant`, {
      ep: buf.ep,
      device: buf.device,
    });
  }
}

/** Run each teardown step once; a failed step is retried by the next call. */
export function steps(...fns: (() => Promise<unknown>)[]): () => Promise<void> {
  let done = 0;
  return async () => {
    while (done < fns.length) {
      await fns[done]!();
      done++;
    }
  };
}
