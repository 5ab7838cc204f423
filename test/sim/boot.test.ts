// Issue 3 acceptance: a minimal hand-written host boots every profile to ON through the register
// interface, in the Linux and the m1n1 ordering, for protocol versions 11 and 12 (10 for
// generic), runs for a while (syslog, IOReport and OSLog traffic echoed), and shuts it down again
// with zero strict-mode violations and zero DMA faults.
import { afterEach, describe, expect, it } from 'vitest';
import type { FirmwareProfile } from '../../src/sim/firmware/types.js';
import { genericProfile } from '../../src/sim/profiles/index.js';
import { SimSoc } from '../../src/sim/soc.js';
import { MiniHost, type Ordering } from '../../src/sim/testing/mini-host.js';

let stopClock: (() => void) | undefined;
afterEach(() => {
  stopClock?.();
  stopClock = undefined;
});

function soc(seed = 1): SimSoc {
  const s = new SimSoc({ seed });
  stopClock = s.clock.autoAdvance();
  return s;
}

const CASES: { profile: string | (() => FirmwareProfile); versions: number[] }[] = [
  { profile: 'generic', versions: [11, 12] },
  { profile: 'smc', versions: [11, 12] },
  { profile: 'ans', versions: [11, 12] },
  { profile: 'dcp', versions: [11, 12] },
  { profile: 'mtp', versions: [11, 12] },
];

describe('boot every profile through the registers', () => {
  for (const c of CASES) {
    for (const version of c.versions) {
      for (const ordering of ['linux', 'm1n1'] as Ordering[]) {
        it(`${String(c.profile)} v${version}, ${ordering} ordering: boot, run, shut down`, async () => {
          const s = soc();
          const cp = s.add({ profile: c.profile as 'generic' });
          const host = new MiniHost(s, cp);
          await host.boot({ ordering, maxVersion: version });
          expect(host.version).toBe(version);
          expect(cp.firmware.state.iop).toBe('on');
          await host.idle(3000);
          // The session is real traffic, not a handshake alone: syslog entries were echoed.
          if (cp.profile.syslog?.lines.length) expect(host.syslogEchoes).toBeGreaterThan(2);
          expect(s.traceLines().length).toBeGreaterThan(20);
          await host.shutdown();
          expect(cp.firmware.state.iop).toBe('sleep');
          expect(s.violations()).toEqual([]);
          expect(s.faults.faults).toEqual([]);
          await host.close();
        });
      }
    }
  }

  for (const minor of [0, 2]) {
    for (const ordering of ['linux', 'm1n1'] as Ordering[]) {
      it(`generic v10.${minor}, ${ordering} ordering`, async () => {
        const s = soc();
        const cp = s.add({ profile: genericProfile({ maxVersion: 10, minor }) });
        const host = new MiniHost(s, cp);
        await host.boot({ ordering, maxVersion: 12, minVersion: 10 });
        expect(host.version).toBe(10);
        await host.idle(1000);
        await host.setPower(0x10, 0x01);
        expect(s.violations()).toEqual([]);
        expect(s.faults.faults).toEqual([]);
        await host.close();
      });
    }
  }
});

describe('the strict mode notices a careless host', () => {
  it('a host that never echoes syslog LOG gets MISSING_ECHO and a stalled log', async () => {
    const s = soc();
    const cp = s.add({ profile: 'dcp' });
    const host = new MiniHost(s, cp);
    host.echoSyslog = false;
    await host.boot({ ordering: 'linux' });
    await host.idle(5000);
    const codes = s.violations().map((v) => v.code);
    expect(codes).toContain('MISSING_ECHO');
    const logs = s.traceLines().filter((l) => l.includes('"ep":2,') && l.includes('"msg":"0x0050'));
    expect(logs.length).toBe(1);
    await host.close();
  });

  it('a host that revokes a live buffer makes the firmware fault (SART)', async () => {
    const s = soc();
    const cp = s.add({ profile: 'ans' });
    const host = new MiniHost(s, cp);
    await host.boot({ ordering: 'linux' });
    await host.idle(200);
    host.release();
    // The firmware keeps writing into a buffer the host has revoked.
    await host.idle(3000);
    expect(s.faults.faults.map((f) => f.kind)).toContain('sart-denied');
    expect(s.violations().map((v) => v.code)).toContain('DMA_FAULT');
    await host.close();
  });
});

describe('lifecycle through the registers', () => {
  it('sleep then wake runs the full handshake again; idle keeps state', async () => {
    const s = soc();
    const cp = s.add({ profile: 'dcp' });
    const host = new MiniHost(s, cp);
    await host.boot({ ordering: 'linux' });
    await host.idle(500);
    await host.setPower(0x201, 0x201);
    expect(cp.firmware.state.iop).toBe('idle');
    await host.send(0, { kind: 'setIopPowerState', state: 0x220 });
    await host.expect((r) => r.m.kind === 'iopPowerStateAck' && r.m.state === 0x20);
    await host.send(0, { kind: 'setApPowerState', state: 0x20 });
    await host.expect((r) => r.m.kind === 'apPowerStateAck');
    expect(host.inbox.some((r) => r.m.kind === 'hello')).toBe(false);
    await host.shutdown();
    await host.wake('linux');
    expect(cp.firmware.state.iop).toBe('on');
    await host.idle(500);
    await host.shutdown();
    expect(s.violations()).toEqual([]);
    await host.close();
  });

  it('power off: nothing until the CPU is reset, then a normal boot', async () => {
    const s = soc();
    const cp = s.add({ profile: 'generic' });
    const host = new MiniHost(s, cp);
    await host.boot({ ordering: 'linux' });
    await host.setPower(0x00, 0x00);
    host.release();
    await host.send(0, { kind: 'setIopPowerState', state: 0x220 });
    await expect(host.expect((r) => r.m.kind === 'hello', 500)).rejects.toThrow(/timeout/);
    await host.idle(10);
    const { setAscCpuRun } = await import('../../src/mailbox/asc-cpu.js');
    await setAscCpuRun(s.mmio, cp.ascBase, false);
    await host.boot({ ordering: 'linux' });
    expect(cp.firmware.state.iop).toBe('on');
    await host.close();
  });
});
