/**
 * Mode C (PROTOCOL.md §6.4, ML's SMC client): the firmware places its buffers in its own SRAM,
 * which the host reaches through MMIO. The request carries the buffer's address inside the
 * window; the host checks it, keeps a view and sends no reply. Nothing is allocated, so nothing
 * is freed (ML's `shmem_destroy` is optional for this reason).
 *
 * ML's check, restated: reject IOVA 0 ("RTKit wants a RAM buffer"); `end = iova + size − 1` with
 * an overflow check; `sram.start ≤ iova` and `end ≤ sram.end`. We compare `iova − start ≤
 * size − bytes` instead, which cannot overflow at all (an IOVA of 2^53 − 1 is simply outside).
 */

import { RtkitError } from '../../errors.js';
import type { Mmio } from '../../mailbox/types.js';
import type { SramAccess } from '../types.js';
import {
  badInput,
  checkMaxBytes,
  type Grant,
  HostSharedBuffer,
  hex,
  inWindow,
  isU53,
  type Refusal,
  refuse,
  ShmemErrorCode,
  StrategySkeleton,
} from './common.js';
import type { BufferRequest, BufferStrategy } from './types.js';

/**
 * `SramAccess` over MMIO with 32-bit accesses only (the window is device memory to the AP: ML
 * copies with `memcpy_fromio`/`memcpy_toio`, and AArch64 faults on unaligned device accesses).
 * Addresses are absolute (`base ≤ addr`, `addr + len ≤ base + size`); anything else throws
 * `BUFFER_OUT_OF_RANGE` before touching the bus. Unaligned edges of a write are read, merged and
 * written back as whole words.
 */
export function mmioSram(mmio: Mmio, base: number, size: number): SramAccess {
  if (!(isU53(base) && isU53(size) && size > 0 && base + size <= Number.MAX_SAFE_INTEGER)) {
    badInput(`SRAM window ${hex(base)}+${hex(size)}`, { base, size });
  }
  if (base % 4 !== 0 || size % 4 !== 0) {
    badInput(`SRAM window ${hex(base)}+${hex(size)} must be 4-byte aligned`, { base, size });
  }
  const check = (addr: number, len: number, what: string): void => {
    if (!(isU53(addr) && isU53(len) && inWindow(addr, len, base, size))) {
      throw new RtkitError(
        ShmemErrorCode.BUFFER_OUT_OF_RANGE,
        `SRAM ${what} of ${String(len)} bytes at ${hex(addr)} outside ` +
          `[${hex(base)}, ${hex(base + size - 1)}]`,
        { addr, len, base, size },
      );
    }
  };
  return {
    base,
    size,
    async read(addr, len) {
      check(addr, len, 'read');
      const out = new Uint8Array(len);
      if (len === 0) return out;
      const first = addr - (addr % 4);
      for (let a = first; a < addr + len; a += 4) {
        const w = await mmio.read32(a);
        for (let k = 0; k < 4; k++) {
          const i = a + k - addr;
          if (i >= 0 && i < len) out[i] = (w >>> (8 * k)) & 0xff;
        }
      }
      return out;
    },
    async write(addr, data) {
      check(addr, data?.length, 'write');
      const len = data.length;
      if (len === 0) return;
      const first = addr - (addr % 4);
      for (let a = first; a < addr + len; a += 4) {
        const whole = a >= addr && a + 4 <= addr + len;
        let w = whole ? 0 : await mmio.read32(a);
        for (let k = 0; k < 4; k++) {
          const i = a + k - addr;
          if (i >= 0 && i < len) w = (w & ~(0xff << (8 * k))) | (data[i]! << (8 * k));
        }
        await mmio.write32(a, w >>> 0);
      }
    },
  };
}

export interface SramStrategyOptions {
  readonly sram: SramAccess;
  /** Largest request accepted (default 1 MiB; the window bounds it anyway). */
  readonly maxBytes?: number;
  readonly name?: string;
}

export function sramStrategy(opts: SramStrategyOptions): BufferStrategy {
  const { sram } = opts;
  if (!(isU53(sram.base) && isU53(sram.size) && sram.size > 0)) {
    badInput(`SRAM window ${hex(sram.base)}+${hex(sram.size)}`);
  }
  const name = opts.name ?? 'sram';
  const last = sram.base + sram.size - 1;

  const firmwareOwned = async (req: BufferRequest): Promise<Grant | Refusal> => {
    if (!inWindow(req.iova, req.bytes, sram.base, sram.size)) {
      // ML's wording, with the requested range as the firmware stated it.
      const end = req.iova + req.bytes - 1;
      return refuse(
        'BUFFER_OUT_OF_WINDOW',
        `endpoint ${hex(req.ep)}: RTKit buffer request outside SRAM region: ` +
          `[${hex(req.iova)}, ${Number.isSafeInteger(end) ? hex(end) : 'overflow'}] ` +
          `(SRAM [${hex(sram.base)}, ${hex(last)}])`,
      );
    }
    const at = req.iova;
    const buffer = new HostSharedBuffer(
      req.ep,
      'sram',
      at,
      req.bytes,
      {},
      {
        read: (offset, len) => sram.read(at + offset, len),
        write: (offset, data) => sram.write(at + offset, data),
      },
    );
    return { buffer, reply: false, teardown: async () => {} };
  };

  return new StrategySkeleton({
    name,
    maxBytes: checkMaxBytes(opts.maxBytes),
    firmwareOwned,
    hostRefusal: (req) =>
      refuse('BUFFER_REJECTED', `endpoint ${hex(req.ep)}: RTKit wants a RAM buffer`),
  });
}
