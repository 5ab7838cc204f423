/**
 * The `Mmio` contract (src/mailbox/types.ts) over the m1n1 proxy: each access is one READ/WRITE
 * proxy op followed by GET_EXC_COUNT (when the client checks exceptions), as m1n1's tooling
 * wraps every register access (M1N1-PROXY.md §9). The mailbox driver and CPU control run
 * unchanged on top of it.
 *
 * Alignment follows the tooling (§8 notes): 32-bit accesses need 4-byte alignment; a 64-bit
 * access at a 4- but not 8-aligned address becomes two 32-bit accesses, low word first.
 */

import { ErrorCode, RtkitError } from '../errors.js';
import type { Mmio } from '../mailbox/types.js';
import type { ProxyClient } from './client.js';

const U32_LIMIT = 2 ** 32;

function address(addr: number, align: number, op: string): bigint {
  if (!Number.isSafeInteger(addr) || addr < 0) {
    throw new RtkitError(ErrorCode.BAD_INPUT, `${op}: address ${addr} is not a byte address`, {
      op,
      addr,
    });
  }
  if (addr % align !== 0) {
    throw new RtkitError(
      ErrorCode.MMIO_ALIGNMENT,
      `${op}: address 0x${addr.toString(16)} is not ${align}-byte aligned`,
      { op, addr, align },
    );
  }
  return BigInt(addr);
}

export class ProxyMmio implements Mmio {
  readonly client: ProxyClient;

  constructor(client: ProxyClient) {
    this.client = client;
  }

  async read32(addr: number): Promise<number> {
    return Number(await this.client.read32(address(addr, 4, 'read32')));
  }

  async write32(addr: number, value: number): Promise<void> {
    const a = address(addr, 4, 'write32');
    if (!Number.isInteger(value) || value < 0 || value >= U32_LIMIT) {
      throw new RtkitError(ErrorCode.BAD_INPUT, `write32: value ${value} is not a u32`, {
        addr,
        value,
      });
    }
    await this.client.write32(a, BigInt(value));
  }

  async read64(addr: number): Promise<bigint> {
    const a = address(addr, 4, 'read64');
    if (addr % 8 === 0) return this.client.read64(a);
    const lo = await this.client.read32(a);
    const hi = await this.client.read32(a + 4n);
    return (hi << 32n) | lo;
  }

  async write64(addr: number, value: bigint): Promise<void> {
    const a = address(addr, 4, 'write64');
    if (typeof value !== 'bigint' || value < 0n || value >= 1n << 64n) {
      throw new RtkitError(ErrorCode.BAD_INPUT, `write64: value ${String(value)} is not a u64`, {
        addr,
        value,
      });
    }
    if (addr % 8 === 0) {
      await this.client.write64(a, value);
      return;
    }
    await this.client.write32(a, value & 0xffff_ffffn);
    await this.client.write32(a + 4n, value >> 32n);
  }
}
