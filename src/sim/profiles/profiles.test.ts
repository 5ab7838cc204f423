// Profiles: what each modelled co-processor announces and where the SoC places it, and the
// application endpoints plugged in per profile (SMC 0x20, DCP IOMFB 0x37, the generic echo).

import { describe, expect, it } from 'vitest';
import { parseRtkitVersion } from '../../crashlog/index.js';
import { decode, fourccToU32 } from '../../protocol/index.js';
import { setup } from '../firmware/testing/setup.js';
import { getProfile, IOMFB_ENDPOINT, isProfileName, PROFILE_NAMES, SMC_SRAM } from './index.js';

describe('profile data', () => {
  for (const name of PROFILE_NAMES) {
    it(`${name}: documented, placeable, realistic version string`, () => {
      const p = getProfile(name);
      expect(p.name).toBe(name);
      expect(p.description.length).toBeGreaterThan(20);
      expect(p.sources.length).toBeGreaterThan(0);
      expect(parseRtkitVersion(p.crash.versionString)).toBeDefined();
      expect(Number.isSafeInteger(p.placement.ascBase)).toBe(true);
      expect(p.placement.ascBase % 0x4000).toBe(0);
      expect(p.crash.tasks.length).toBeGreaterThan(0);
      for (const l of p.syslog?.lines ?? []) expect(l.text.length).toBeGreaterThan(0);
    });
  }

  it('uses the real addresses the fixtures and device trees give', () => {
    expect(getProfile('smc').placement).toMatchObject({
      ascBase: 0x2_3e40_0000,
      sram: { base: 0x2_3fe0_0000, size: 0x10_0000 },
      deviceName: '23e400000.smc',
    });
    expect(getProfile('dcp').placement).toMatchObject({
      ascBase: 0x2_31c0_0000,
      deviceName: '231c00000.dcp',
      memoryPath: { kind: 'dart' },
    });
    expect(getProfile('ans').placement).toMatchObject({
      deviceName: '393cc0000.nvme',
      ascBase: 0x3_8f40_0000,
      memoryPath: { kind: 'sart' },
      related: { nvme: 0x3_93cc_0000, sart: 0x3_93c5_0000 },
    });
    expect(getProfile('mtp').placement).toMatchObject({ ascBase: 0x2_a940_0000 });
    expect(getProfile('dcp').crash.versionString).toBe(
      'RTKit: RTKit-1827.120.2.debug - Client: local-ipad14dcp.release',
    );
  });

  it('memory modes per profile: SMC SRAM, DCP firmware-owned, ANS/MTP host', () => {
    const modes = (n: (typeof PROFILE_NAMES)[number]) =>
      new Set(Object.values(getProfile(n).buffers).map((b) => b.mode));
    expect(modes('smc')).toEqual(new Set(['sram']));
    expect(modes('dcp')).toEqual(new Set(['firmware']));
    expect(modes('ans')).toEqual(new Set(['host']));
    expect(modes('mtp')).toEqual(new Set(['host']));
    expect(getProfile('ans').bootRequires).toEqual({ buffers: [1, 4] });
    expect(getProfile('ans', { requireBuffers: false }).bootRequires).toBeUndefined();
  });

  it('tracekit 0x0a on MTP and ANS; generic v10 keeps system endpoints below the first app', () => {
    expect(getProfile('mtp').endpoints).toContain(0x0a);
    expect(getProfile('ans').endpoints).toContain(0x0a);
    expect(getProfile('ans', { tracekit: false }).endpoints).not.toContain(0x0a);
    const g = getProfile('generic', { maxVersion: 10, minor: 0 });
    const eps = g.endpoints as (ctx: { version: number; minor: number | undefined }) => number[];
    expect(eps({ version: 10, minor: 0 })).toEqual([1, 2, 3, 4]);
    expect(eps({ version: 10, minor: 2 })).toEqual([1, 2, 3, 4]);
    expect(eps({ version: 12, minor: undefined })).toEqual([1, 2, 3, 4, 8]);
  });

  it('names', () => {
    expect(isProfileName('dcp')).toBe(true);
    expect(isProfileName('gpu')).toBe(false);
    expect(() => getProfile('gpu' as 'dcp')).toThrow();
  });
});

describe('DCP IOMFB (0x37)', () => {
  function boot(o: Parameters<typeof getProfile<'dcp'>>[1] = {}) {
    const rig = setup(getProfile('dcp', o));
    rig.host.bootLinux();
    rig.host.sendMsg(0, { kind: 'startEndpoint', endpoint: IOMFB_ENDPOINT });
    return rig;
  }

  it('answers SET_SHMEM with INITIALIZED and acks commands like the #142 dump', () => {
    const { host, fw } = boot();
    host.advance(5);
    expect(host.received.filter((r) => r.ep === IOMFB_ENDPOINT)).toEqual([]);
    // SET_SHMEM with the Asahi flag value 4 in [7:4].
    host.sendMsg(IOMFB_ENDPOINT, { kind: 'iomfbSetShmem', flag: 4, address: 0x9000_0000 });
    host.advance(1);
    expect(host.received.filter((r) => r.ep === IOMFB_ENDPOINT).map((r) => r.m.kind)).toEqual([
      'iomfbInitialized',
    ]);
    host.send(IOMFB_ENDPOINT, 0x0000003c00000202n); // CMD, length 0x3c
    host.send(IOMFB_ENDPOINT, 0x0000001000000602n); // OOBCMD
    host.advance(1);
    const acks = host.received.filter((r) => r.ep === IOMFB_ENDPOINT).slice(1);
    expect(acks.map((r) => r.msg)).toEqual([0x0000000000000242n, 0x0000000000000642n]);
    expect(fw.violations).toEqual([]);
  });

  it('INITIALIZED right after start when configured; checks the ACKs the AP sends', () => {
    const { host, fw } = boot({ iomfb: { initializedAfter: 'start', asyncLength: 0x10 } });
    host.advance(1);
    const msgs = host.received.filter((r) => r.ep === IOMFB_ENDPOINT);
    expect(msgs.map((r) => r.msg)).toEqual([0x0000000000000001n, 0x0000001000000302n]);
    host.send(IOMFB_ENDPOINT, 0x0000000000000342n); // ACK of ASYNC
    host.send(IOMFB_ENDPOINT, 0x0000000000000042n); // ACK of a CB never sent
    expect(fw.violations.map((v) => v.code)).toEqual(['UNEXPECTED_ECHO']);
  });

  it('logs an IOMFB line through the firmware syslog', () => {
    const { host } = boot({ iomfb: { initializedAfter: 'start' } });
    host.advance(50);
    expect(host.syslog.some((e) => e.context === 'eoInterfaceIOAV.cpp:296')).toBe(true);
  });
});

describe('SMC (0x20) on the firmware model', () => {
  it('INITIALIZE yields a shared buffer in SRAM clear of the RTKit buffers; #KEY reads', () => {
    const { host, fw } = setup(getProfile('smc'));
    host.bootLinux();
    host.advance(5);
    host.sendMsg(0, { kind: 'startEndpoint', endpoint: 0x20 });
    host.send(0x20, 0x0000000000000017n);
    host.advance(1);
    const addr = host.received.filter((r) => r.ep === 0x20)[0]!;
    const shmem = decode(0x20, addr.msg, { coproc: 'smc', smcShmemPending: true, dir: 'iop->ap' });
    expect(shmem.kind).toBe('smcShmemAddress');
    const a = (shmem as { address: number }).address;
    expect(a).toBeGreaterThanOrEqual(SMC_SRAM.base);
    for (const b of fw.state.buffers) {
      expect(b.addr >= a + 0x1000 || b.addr + b.bytes <= a).toBe(true);
    }
    const key = fourccToU32('#KEY');
    host.sendMsg(0x20, { kind: 'smcReadKey', id: 1, size: 4, wsize: 0, key });
    host.advance(1);
    const reply = host.received.filter((r) => r.ep === 0x20).at(-1)!;
    expect(decode(0x20, reply.msg, { coproc: 'smc', dir: 'iop->ap' })).toMatchObject({
      kind: 'smcReply',
      result: 0,
      id: 1,
      size: 4,
    });
    expect(fw.violations).toEqual([]);
  });
});

describe('generic echo endpoint', () => {
  it('echoes on 0x20 (v12) and on 6 (v10.2)', () => {
    for (const [opts, ep] of [
      [{}, 0x20],
      [{ maxVersion: 10, minor: 2 }, 6],
    ] as const) {
      const { host } = setup(getProfile('generic', opts));
      host.bootLinux();
      host.sendMsg(0, { kind: 'startEndpoint', endpoint: ep });
      host.send(ep, 0xabcdn);
      host.advance(1);
      expect(host.received.filter((r) => r.ep === ep).map((r) => r.msg)).toEqual([0xabcdn]);
    }
  });
});
