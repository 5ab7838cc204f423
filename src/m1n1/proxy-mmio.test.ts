import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock.js';
import { ProxyClient, type ProxyClientOptions } from './client.js';
import { ProxyOp } from './opcodes.js';
import { ProxyMmio } from './proxy-mmio.js';
import { FakeDevice } from './testing/fake-device.js';
import { createLinkPair } from './testing/mock-link.js';

const ASC = 0x2_3e40_0000;

function rig(opts: ProxyClientOptions = {}) {
  const [host, dev] = createLinkPair({ chunking: 'random', seed: 5 });
  const device = new FakeDevice(dev);
  const regs = new Map<bigint, bigint>();
  const log: string[] = [];
  device.mapMmio(BigInt(ASC), 0x10000n, {
    read(addr, width) {
      log.push(`r${width} ${addr.toString(16)}`);
      return regs.get(addr) ?? 0n;
    },
    write(addr, width, value) {
      log.push(`w${width} ${addr.toString(16)}=${value.toString(16)}`);
      regs.set(addr, value);
    },
  });
  const client = new ProxyClient(host, { clock: new VirtualClock(), ...opts });
  return { device, client, mmio: new ProxyMmio(client), regs, log };
}

describe('ProxyMmio', () => {
  it('32- and 64-bit accesses are READ/WRITE ops, each followed by GET_EXC_COUNT', async () => {
    const r = rig();
    await r.mmio.write32(ASC + 0x44, 0x10);
    expect(await r.mmio.read32(ASC + 0x44)).toBe(0x10);
    await r.mmio.write64(ASC + 0x8800, 0xfedc_ba98_7654_3210n);
    expect(await r.mmio.read64(ASC + 0x8800)).toBe(0xfedc_ba98_7654_3210n);
    expect(r.device.proxyOps()).toEqual([
      ProxyOp.WRITE32,
      ProxyOp.GET_EXC_COUNT,
      ProxyOp.READ32,
      ProxyOp.GET_EXC_COUNT,
      ProxyOp.WRITE64,
      ProxyOp.GET_EXC_COUNT,
      ProxyOp.READ64,
      ProxyOp.GET_EXC_COUNT,
    ]);
    expect(r.log).toEqual([
      'w32 23e400044=10',
      'r32 23e400044',
      'w64 23e408800=fedcba9876543210',
      'r64 23e408800',
    ]);
  });

  it('returns u32 values as unsigned numbers', async () => {
    const r = rig();
    r.regs.set(BigInt(ASC + 0x8114), 0xffff_ffffn);
    expect(await r.mmio.read32(ASC + 0x8114)).toBe(0xffff_ffff);
  });

  it('splits a 64-bit access at a 4-but-not-8-aligned address into two 32-bit ones, low first', async () => {
    const r = rig();
    await r.mmio.write64(ASC + 0x8804, 0x1111_2222_3333_4444n);
    r.regs.set(BigInt(ASC + 0x8834), 0xaaaa_bbbbn);
    r.regs.set(BigInt(ASC + 0x8838), 0xcccc_ddddn);
    expect(await r.mmio.read64(ASC + 0x8834)).toBe(0xcccc_dddd_aaaa_bbbbn);
    expect(r.log).toEqual([
      'w32 23e408804=33334444',
      'w32 23e408808=11112222',
      'r32 23e408834',
      'r32 23e408838',
    ]);
  });

  it('misalignment → MMIO_ALIGNMENT, bad addresses and values → BAD_INPUT, nothing sent', async () => {
    const r = rig();
    await expect(r.mmio.read32(ASC + 2)).rejects.toMatchObject({ code: 'MMIO_ALIGNMENT' });
    await expect(r.mmio.write32(ASC + 1, 0)).rejects.toMatchObject({ code: 'MMIO_ALIGNMENT' });
    await expect(r.mmio.read64(ASC + 6)).rejects.toMatchObject({ code: 'MMIO_ALIGNMENT' });
    await expect(r.mmio.write64(ASC + 2, 0n)).rejects.toMatchObject({ code: 'MMIO_ALIGNMENT' });
    await expect(r.mmio.read32(-4)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(r.mmio.read32(2 ** 53)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(r.mmio.write32(ASC, 2 ** 32)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(r.mmio.write32(ASC, -1)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(r.mmio.write32(ASC, 1.5)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(r.mmio.write64(ASC, -1n)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(r.mmio.write64(ASC, 1n << 64n)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    expect(r.device.requests).toEqual([]);
  });

  it('a faulting access → PROXY_EXCEPTION', async () => {
    const r = rig();
    await expect(r.mmio.read32(0x1000)).rejects.toMatchObject({
      code: 'PROXY_EXCEPTION',
      details: { op: 'READ32', addr: 0x1000n, exceptions: 1 },
    });
    await expect(r.mmio.write64(0x1004, 1n)).rejects.toMatchObject({ code: 'PROXY_EXCEPTION' });
  });

  it('without exception checks, one op per access', async () => {
    const r = rig({ checkExceptions: false });
    await r.mmio.write32(ASC, 1);
    await r.mmio.read64(ASC + 8);
    expect(r.device.proxyOps()).toEqual([ProxyOp.WRITE32, ProxyOp.READ64]);
  });
});
