// Boot every profile to ON in the Linux (§4.2) and m1n1-Py (§4.3) orderings, run a while, shut
// down (AP 0x10, IOP 0x01), and check that a well-behaved host causes zero strict-mode violations.

import { describe, expect, it } from 'vitest';
import { decode, PowerState } from '../../protocol/index.js';
import { getProfile, type ProfileName } from '../profiles/index.js';
import { setup } from './testing/setup.js';
import type { FirmwareProfile } from './types.js';

const CASES: [ProfileName, number[]][] = [
  ['generic', [10, 11, 12]],
  ['smc', [11, 12]],
  ['ans', [11, 12]],
  ['dcp', [11, 12]],
  ['mtp', [11, 12]],
];

function profileFor(name: ProfileName, version: number): FirmwareProfile {
  // v10 needs a v10 firmware: HELLO max 10, MINVER = minor (HoolockLinux).
  if (name === 'generic' && version === 10) return getProfile('generic', { maxVersion: 10 });
  return getProfile(name);
}

describe('boot and shutdown with zero violations', () => {
  for (const [name, versions] of CASES) {
    for (const version of versions) {
      for (const ordering of ['linux', 'm1n1'] as const) {
        it(`${name} v${version}, ${ordering} ordering`, () => {
          const profile = profileFor(name, version);
          const { fw, host, port } = setup(profile);
          if (ordering === 'linux') host.bootLinux({ version });
          // m1n1-Py acks fwMax; to run v11 in that ordering the host picks 11 itself.
          else host.bootM1n1(version === 10 ? {} : { version });
          expect(host.version).toBe(version);
          expect(fw.state.version).toBe(version);
          expect(fw.state.iop).toBe('on');
          expect(fw.state.apState).toBe(PowerState.On);
          expect(port.cpuStatus).toEqual({ running: true, idle: false });
          host.advance(3000);
          host.shutdown();
          expect(fw.state.iop).toBe('sleep');
          expect(port.cpuStatus.idle).toBe(true);
          expect(fw.violations).toEqual([]);
          expect(fw.errors).toEqual([]);
          expect(host.syslogFailures).toEqual([]);
        });
      }
    }
  }
});

describe('boot details', () => {
  it('HELLO announces the profile range; EPMAP comes in blocks of 32 with LAST', () => {
    const { host } = setup(getProfile('dcp'));
    host.bootLinux();
    const hello = host.kinds('hello')[0]!;
    expect(hello.msg).toBe(0x00100000000c000bn);
    const blocks = host.kinds('epmap');
    // Block 0 {1,2,3,4,8} not last, block 1 {0x20..0x37} last.
    expect(blocks.map((b) => b.msg)).toEqual([0x008000000000011en, 0x0088000100802f9fn]);
    // The next block only after the reply to the previous one.
    expect(host.port.hostSent.some((m) => m.msg === 0x0080000000000001n)).toBe(true);
  });

  it('sends the IOP ack 0x20 right after the reply to the LAST EPMAP block (F4)', () => {
    const { host, port } = setup(getProfile('generic'));
    port.setRun(true);
    host.advance(2);
    host.sendMsg(0, { kind: 'helloAck', minVersion: 12, maxVersion: 12 });
    host.sendMsg(0, { kind: 'epmapReply', base: 0, last: false, more: true });
    const before = host.received.length;
    host.sendMsg(0, { kind: 'epmapReply', base: 1, last: true, more: false });
    // Synchronous: no STARTEP yet (F4: not dependent on which endpoints are started).
    expect(host.received.slice(before).map((r) => r.m.kind)).toEqual(['iopPowerStateAck']);
  });

  it('accepts SET_IOP 0x220 before HELLO (ML wake(), F2) and m1n1-C 0x220 after RUN', () => {
    for (const wake of [true, false]) {
      const { host, fw } = setup(getProfile('generic'));
      host.bootLinux({ wake });
      expect(host.kinds('iopPowerStateAck')).toHaveLength(1);
      expect(host.kinds('hello')).toHaveLength(1);
      expect(fw.violations).toEqual([]);
    }
  });

  it('accepts STARTEP in any order and subset (NB: 1, 3, 4; UB: app endpoints before AP ON)', () => {
    const { host, fw } = setup(getProfile('generic'));
    host.port.setRun(true);
    host.advance(2);
    host.sendMsg(0, { kind: 'helloAck', minVersion: 12, maxVersion: 12 });
    host.sendMsg(0, { kind: 'epmapReply', base: 0, last: false, more: true });
    host.sendMsg(0, { kind: 'epmapReply', base: 1, last: true, more: false });
    for (const ep of [4, 0x20, 3, 1]) host.sendMsg(0, { kind: 'startEndpoint', endpoint: ep });
    host.advance(5);
    expect(fw.state.started).toEqual([1, 3, 4, 0x20]);
    host.setAp(PowerState.On);
    // The echo app answers before and after AP ON.
    host.send(0x20, 0x1234n);
    host.advance(1);
    expect(host.received.at(-1)).toMatchObject({ ep: 0x20, msg: 0x1234n });
    // Syslog never started: no INIT, no LOG; no violation either.
    expect(host.kinds('syslogInit')).toHaveLength(0);
    host.advance(2000);
    expect(fw.violations).toEqual([]);
  });

  it('serves the buffer requests of the profile in its memory mode', () => {
    const { host, fw, sram } = setup(getProfile('smc'));
    host.bootLinux();
    host.advance(5);
    const reqs = host.received.filter((r) => r.m.kind.endsWith('BufferRequest'));
    expect(reqs.map((r) => r.ep)).toEqual([1, 2, 4]);
    for (const r of reqs) {
      const m = r.m as { iova: number; size: number };
      // Mode C: SRAM addresses, no reply expected.
      expect(m.iova).toBeGreaterThanOrEqual(sram!.base);
      expect(m.iova + m.size * 0x1000).toBeLessThanOrEqual(sram!.base + sram!.size);
    }
    expect(host.port.hostSent.filter((m) => m.ep !== 0)).toEqual([]);
    expect(fw.state.buffers.every((b) => b.status === 'ready' && b.mode === 'sram')).toBe(true);
  });

  it('ans holds the IOP ack until the crashlog and ioreport buffers are served', () => {
    const { host, fw } = setup(getProfile('ans'));
    host.port.setRun(true);
    host.advance(2);
    host.sendMsg(0, { kind: 'helloAck', minVersion: 12, maxVersion: 12 });
    host.sendMsg(0, { kind: 'epmapReply', base: 0, last: true, more: false });
    host.sendMsg(0, { kind: 'startEndpoint', endpoint: 1 });
    host.sendMsg(0, { kind: 'startEndpoint', endpoint: 2 });
    host.advance(1000);
    expect(host.kinds('iopPowerStateAck')).toHaveLength(0);
    expect(fw.state.iop).toBe('booting');
    host.sendMsg(0, { kind: 'startEndpoint', endpoint: 4 });
    host.advance(1);
    expect(host.kinds('iopPowerStateAck')).toHaveLength(1);
  });

  it('m1n1 ordering with a slower IOP ack: AP ON acked first, zero violations', () => {
    const { host, fw } = setup(getProfile('dcp'), { timing: { iopAckDelayMs: 5 } });
    host.bootM1n1();
    const order = host.received
      .filter((r) => r.m.kind === 'iopPowerStateAck' || r.m.kind === 'apPowerStateAck')
      .map((r) => r.m.kind);
    expect(order).toEqual(['apPowerStateAck', 'iopPowerStateAck']);
    host.advance(3000);
    host.shutdown();
    expect(fw.violations).toEqual([]);
  });

  it('ans in the m1n1 ordering acks AP ON before the IOP ack', () => {
    const { host } = setup(getProfile('ans'));
    host.bootM1n1();
    const order = host.received
      .filter((r) => r.m.kind === 'iopPowerStateAck' || r.m.kind === 'apPowerStateAck')
      .map((r) => r.m.kind);
    expect(order).toEqual(['apPowerStateAck', 'iopPowerStateAck']);
  });

  it('sends syslog LOG only after AP ON (F7), INIT right after STARTEP 2', () => {
    const { host, fw } = setup(getProfile('generic'));
    host.port.setRun(true);
    host.advance(2);
    host.sendMsg(0, { kind: 'helloAck', minVersion: 12, maxVersion: 12 });
    host.sendMsg(0, { kind: 'epmapReply', base: 0, last: false, more: true });
    host.sendMsg(0, { kind: 'epmapReply', base: 1, last: true, more: false });
    host.sendMsg(0, { kind: 'startEndpoint', endpoint: 2 });
    fw.log('test.c', 1, 'early');
    host.advance(500);
    expect(host.kinds('syslogInit')).toHaveLength(1);
    expect(host.kinds('syslogLog')).toHaveLength(0);
    host.setAp(PowerState.On);
    host.advance(1);
    expect(host.syslog.map((e) => e.message)).toContain('early');
  });

  it('decodes every message it sends with the shared codecs', () => {
    const { host } = setup(getProfile('mtp'));
    host.bootLinux();
    host.advance(2000);
    for (const r of host.received) {
      const m = decode(r.ep, r.msg, { dir: 'iop->ap', coproc: 'mtp' });
      expect(m.kind).toBe(r.m.kind);
    }
    // MTP's unknown OSLog types 3/4/5 as in the fixture.
    const unknown = host.received.filter((r) => r.ep === 8 && r.m.kind === 'unknown');
    expect(unknown.map((r) => r.msg)).toEqual([
      0x0300006e6ab20420n,
      0x0400002000000105n,
      0x0400004001050000n,
      0x0400006000000000n,
      0x050672694670744dn,
      0x056500657261776dn,
    ]);
  });
});
