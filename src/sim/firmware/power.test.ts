// Power states of PROTOCOL.md §4.1 and the sequences of §4.5: idle/wake keeps state (no HELLO),
// quiesce or sleep then wake runs a new handshake, OFF is final until a CPU reset (RUN 1→0→1),
// power-down acks carry exactly the requested state (F9), AP acks in either order (F5).

import { describe, expect, it } from 'vitest';
import { PowerState } from '../../protocol/index.js';
import { genericProfile } from '../profiles/generic.js';
import { getProfile } from '../profiles/index.js';
import { setup } from './testing/setup.js';
import { Violation } from './types.js';

function booted(opts: Parameters<typeof genericProfile>[0] = {}) {
  const rig = setup(genericProfile(opts));
  rig.host.bootLinux();
  rig.host.advance(500);
  return rig;
}

describe('power states', () => {
  it('idle then wake: ack 0x201, then 0x20 without a new HELLO; syslog resumes', () => {
    const { host, fw, port } = booted();
    expect(host.setAp(PowerState.Idle).m).toMatchObject({ state: PowerState.Idle });
    expect(host.setIop(PowerState.Idle).m).toMatchObject({ state: PowerState.Idle });
    expect(fw.state.iop).toBe('idle');
    expect(port.cpuStatus).toEqual({ running: true, idle: true });
    const logs = host.kinds('syslogLog').length;
    host.advance(2000);
    expect(host.kinds('syslogLog')).toHaveLength(logs);
    // ML wake from idle: SET_IOP 0x220 → ack 0x20, then AP ON.
    expect(host.setIop(PowerState.Init).m).toMatchObject({ state: PowerState.On });
    expect(host.setAp(PowerState.On).m).toMatchObject({ state: PowerState.On });
    host.advance(2000);
    expect(host.kinds('hello')).toHaveLength(1);
    expect(host.kinds('syslogLog').length).toBeGreaterThan(logs);
    // The ring continues where it stopped (state kept).
    const idx = host.kinds('syslogLog').map((r) => (r.m as { index: number }).index);
    expect(idx).toEqual(idx.map((_, i) => i));
    expect(fw.violations).toEqual([]);
  });

  it('quiesce then wake: a full new handshake (HELLO, EPMAP, buffer requests, IOP ack)', () => {
    const { host, fw } = booted();
    host.setAp(PowerState.Quiesced);
    expect(host.setIop(PowerState.Quiesced).m).toMatchObject({ state: PowerState.Quiesced });
    expect(fw.state.iop).toBe('quiesced');
    const reqs = host.received.filter((r) => r.m.kind === 'crashlogBufferRequest').length;
    host.rehandshake();
    host.advance(100);
    expect(host.kinds('hello')).toHaveLength(2);
    expect(host.received.filter((r) => r.m.kind === 'crashlogBufferRequest').length).toBe(reqs + 1);
    expect(fw.state.iop).toBe('on');
    expect(fw.violations).toEqual([]);
  });

  it('sleep then wake with 0x20 (UB, NB) restarts the handshake too', () => {
    const { host, fw } = booted();
    host.shutdown();
    expect(fw.state.iop).toBe('sleep');
    host.reinit();
    host.sendMsg(0, { kind: 'setIopPowerState', state: PowerState.On });
    host.advance(5);
    expect(host.kinds('hello')).toHaveLength(2);
    expect(fw.state.handshake).toBe('hello');
  });

  it('sleep, RUN cleared and set again (m1n1 stop/start): a fresh boot', () => {
    const { host, fw, port } = booted();
    host.shutdown();
    port.setRun(false);
    expect(port.cpuStatus).toEqual({ running: false, idle: false });
    expect(fw.state.cpu).toBe('halted');
    host.reinit();
    host.bootLinux();
    expect(host.kinds('hello')).toHaveLength(2);
    expect(fw.violations).toEqual([]);
  });

  it('poweroff: acked 0x0, then nothing until a CPU reset (RUN 1→0→1)', () => {
    const { host, fw, port } = booted();
    host.setAp(PowerState.Off);
    expect(host.setIop(PowerState.Off).m).toMatchObject({ state: PowerState.Off });
    expect(port.cpuStatus.running).toBe(false);
    const n = host.received.length;
    host.sendMsg(0, { kind: 'setIopPowerState', state: PowerState.Init });
    host.sendMsg(0, { kind: 'ping', cookie: 1, extra: 0 });
    host.advance(3000);
    expect(host.received.length).toBe(n);
    // Not even dequeued: the messages stay in the FIFO.
    expect(port.a2i).toHaveLength(2);
    port.setRun(false);
    port.a2i.length = 0;
    host.reinit();
    host.bootLinux();
    expect(host.kinds('hello')).toHaveLength(2);
    expect(fw.state.iop).toBe('on');
  });

  it('acks every power-down state exactly (F9), including QEMU 0x202', () => {
    for (const state of [
      PowerState.Idle,
      PowerState.Quiesced,
      PowerState.Sleep,
      PowerState.Off,
      PowerState.QemuOff,
    ]) {
      const { host } = booted();
      host.setAp(PowerState.Quiesced);
      expect(host.setIop(state).m).toMatchObject({ kind: 'iopPowerStateAck', state });
    }
  });

  it('AP acks exactly the state set, before or after the IOP ack (F5)', () => {
    const { host } = booted();
    for (const s of [PowerState.Quiesced, PowerState.Idle, PowerState.On]) {
      expect(host.setAp(s).m).toMatchObject({ kind: 'apPowerStateAck', state: s });
    }
  });

  it('records a POWER_SEQUENCE violation when the IOP goes down while the AP is ON', () => {
    const { host, fw } = booted();
    host.setIop(PowerState.Sleep);
    expect(fw.violations.map((v) => v.code)).toEqual([Violation.POWER_SEQUENCE]);
  });

  it('records traffic while asleep and unknown power states, never aborting', () => {
    const { host, fw } = booted();
    host.setAp(PowerState.Quiesced);
    host.setIop(PowerState.Quiesced);
    host.sendMsg(0, { kind: 'ping', cookie: 5, extra: 0 });
    host.send(2, 0x0050000000000000n);
    host.sendMsg(0, { kind: 'setIopPowerState', state: 0x123 });
    host.advance(10);
    expect(fw.violations.map((v) => v.code)).toEqual([
      Violation.POWER_SEQUENCE,
      Violation.POWER_SEQUENCE,
      Violation.UNKNOWN_POWER_STATE,
    ]);
    host.rehandshake();
    expect(fw.state.iop).toBe('on');
  });

  it('wake while already ON is acked 0x20 again', () => {
    const { host, fw } = booted();
    expect(host.setIop(PowerState.Init).m).toMatchObject({ state: PowerState.On });
    expect(fw.violations).toEqual([]);
  });
});

describe('v10 (HoolockLinux)', () => {
  it('v10.2: HELLO carries the minor, apps from 6, AP ON acked', () => {
    const { host, fw } = setup(genericProfile({ maxVersion: 10, minor: 2 }));
    host.bootLinux();
    expect(host.kinds('hello')[0]!.msg).toBe(0x00100000000a0002n);
    expect(host.port.hostSent[0]!.msg).toBe(0x00200000000a0002n);
    expect(fw.state.endpoints).toEqual([1, 2, 3, 4, 6]);
    expect(host.kinds('epmap')).toHaveLength(1);
    expect(host.kinds('apPowerStateAck')).toHaveLength(1);
    expect(fw.violations).toEqual([]);
  });

  it('v10.0: no AP ON ack; QUIESCED acked as OFF (F9); apps from 5', () => {
    const { host, fw, port } = setup(genericProfile({ maxVersion: 10, minor: 0 }));
    port.setRun(true);
    host.advance(2);
    host.sendMsg(0, { kind: 'helloAck', minVersion: 0, maxVersion: 10 });
    host.sendMsg(0, { kind: 'epmapReply', base: 0, last: false, more: false });
    expect(fw.state.endpoints).toEqual([1, 2, 3, 4, 5]);
    expect(host.kinds('iopPowerStateAck')).toHaveLength(1);
    host.sendMsg(0, { kind: 'setApPowerState', state: PowerState.On });
    host.advance(10);
    expect(host.kinds('apPowerStateAck')).toHaveLength(0);
    expect(fw.state.apState).toBe(PowerState.On);
    host.setAp(PowerState.Quiesced);
    expect(host.setIop(PowerState.Quiesced).m).toMatchObject({ state: PowerState.Off });
    expect(fw.violations).toEqual([]);
  });
});

describe('firmware-owned memory across handshakes', () => {
  it('DCP asks for the same IOVAs again after quiesce/wake (no window leak)', () => {
    const { host, fw } = setup(getProfile('dcp'));
    host.bootLinux();
    host.advance(5);
    const first = fw.state.buffers.map((b) => [b.ep, b.addr]);
    for (let i = 0; i < 3; i++) {
      host.setAp(PowerState.Quiesced);
      host.setIop(PowerState.Quiesced);
      host.rehandshake();
      host.advance(5);
      expect(fw.state.buffers.map((b) => [b.ep, b.addr])).toEqual(first);
    }
    expect(fw.violations).toEqual([]);
  });

  it('a powered-off IOP cannot crash', () => {
    const { host, fw } = booted();
    host.setAp(PowerState.Off);
    host.setIop(PowerState.Off);
    fw.crash('after poweroff');
    expect(fw.crashes).toEqual([]);
  });
});
