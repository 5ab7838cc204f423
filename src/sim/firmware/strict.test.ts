// Strict mode: host protocol violations are recorded with a code and the offending message, and
// the firmware keeps running (ROBUSTNESS B38: QEMU asserts and aborts instead).

import { describe, expect, it } from 'vitest';
import { PowerState } from '../../protocol/index.js';
import { genericProfile } from '../profiles/generic.js';
import { getProfile } from '../profiles/index.js';
import { setup } from './testing/setup.js';
import { Violation } from './types.js';

const codes = (fw: { violations: readonly { code: string }[] }): string[] =>
  fw.violations.map((v) => v.code);

function booted(o: Parameters<typeof setup>[1] = {}) {
  const rig = setup(genericProfile(), o);
  rig.host.bootLinux();
  rig.host.advance(10);
  return rig;
}

describe('strict mode', () => {
  it('B38: unexpected HELLO_ACK and EPMAP_REPLY are recorded; a later PING is still answered', () => {
    const { host, fw } = booted();
    host.send(0, 0x00200000000c000cn);
    host.send(0, 0x0088000000000000n);
    host.send(0, 0x0030000000000007n);
    const pong = host.waitKind('pong', 0);
    expect(pong.msg).toBe(0x0040000000000007n);
    expect(codes(fw)).toEqual([Violation.UNEXPECTED_HELLO_ACK, Violation.UNEXPECTED_EPMAP_REPLY]);
    expect(fw.violations[0]!.msg).toEqual({ ep: 0, msg: 0x00200000000c000cn });
    expect(fw.violations[0]!.time).toBe(host.clock.now());
  });

  it('PING echoes [31:0] only (real hardware); QEMU mode also [47:32]', () => {
    const { host } = booted();
    host.send(0, 0x0030123400000005n);
    expect(host.waitKind('pong').msg).toBe(0x0040000000000005n);
    const q = setup(genericProfile({ ping: 'qemu' }));
    q.host.bootLinux();
    q.host.send(0, 0x0030123400000005n);
    expect(q.host.waitKind('pong').msg).toBe(0x0040123400000005n);
  });

  it('BAD_VERSION for MINVER ≠ MAXVER, out of range or the NAK; a later valid ack proceeds', () => {
    const { host, fw, port } = setup(genericProfile());
    port.setRun(true);
    host.advance(2);
    host.sendMsg(0, { kind: 'helloAck', minVersion: 11, maxVersion: 12 });
    host.sendMsg(0, { kind: 'helloAck', minVersion: 13, maxVersion: 13 });
    host.send(0, 0x002000000badffffn);
    expect(codes(fw)).toEqual([
      Violation.BAD_VERSION,
      Violation.BAD_VERSION,
      Violation.BAD_VERSION,
    ]);
    expect(host.kinds('epmap')).toHaveLength(0);
    host.sendMsg(0, { kind: 'helloAck', minVersion: 11, maxVersion: 11 });
    expect(host.kinds('epmap')).toHaveLength(1);
    expect(fw.state.version).toBe(11);
  });

  it('BAD_EPMAP_REPLY when BASE or LAST/MORE do not match the block', () => {
    const { host, fw, port } = setup(genericProfile());
    port.setRun(true);
    host.advance(2);
    host.sendMsg(0, { kind: 'helloAck', minVersion: 12, maxVersion: 12 });
    host.sendMsg(0, { kind: 'epmapReply', base: 0, last: true, more: false });
    expect(codes(fw)).toEqual([Violation.BAD_EPMAP_REPLY]);
    // The firmware goes on with the next block anyway.
    expect(host.kinds('epmap')).toHaveLength(2);
  });

  it('STARTEP before the EPMAP is done, or for an undiscovered endpoint (F6)', () => {
    const { host, fw, port } = setup(genericProfile());
    port.setRun(true);
    host.advance(2);
    host.sendMsg(0, { kind: 'startEndpoint', endpoint: 1 });
    host.sendMsg(0, { kind: 'helloAck', minVersion: 12, maxVersion: 12 });
    host.sendMsg(0, { kind: 'epmapReply', base: 0, last: false, more: true });
    host.sendMsg(0, { kind: 'epmapReply', base: 1, last: true, more: false });
    host.sendMsg(0, { kind: 'startEndpoint', endpoint: 0x40 });
    expect(codes(fw)).toEqual([Violation.OUT_OF_ORDER, Violation.UNDISCOVERED_ENDPOINT]);
    expect(fw.state.started).toEqual([]);
  });

  it('messages to stopped or undiscovered endpoints (B32 from the other side)', () => {
    const { host, fw } = booted();
    host.send(0x21, 1n);
    host.sendMsg(0, { kind: 'startEndpoint', endpoint: 0x20 });
    host.send(0x20, 1n);
    expect(host.received.at(-1)).toMatchObject({ ep: 0x20, msg: 1n });
    host.sendMsg(0, { kind: 'stopEndpoint', endpoint: 0x20 });
    host.send(0x20, 2n);
    host.sendMsg(0, { kind: 'startEndpoint', endpoint: 0x20 });
    host.send(0x20, 3n);
    expect(codes(fw)).toEqual([
      Violation.UNDISCOVERED_ENDPOINT,
      Violation.MESSAGE_TO_STOPPED_ENDPOINT,
    ]);
    expect(host.received.at(-1)).toMatchObject({ ep: 0x20, msg: 3n });
  });

  it('BUFFER_REPLY_INVALID for fewer pages or IOVA 0; more pages are fine (F8)', () => {
    const small = setup(genericProfile(), { host: { serveBuffers: false } });
    small.host.bootLinux();
    small.host.advance(5);
    small.host.sendMsg(2, { kind: 'syslogBufferReply', size: 1, iova: 0x8_0000_0000 });
    small.host.sendMsg(4, { kind: 'ioreportBufferReply', size: 1, iova: 0 });
    expect(codes(small.fw)).toEqual([
      Violation.BUFFER_REPLY_INVALID,
      Violation.BUFFER_REPLY_INVALID,
    ]);

    const rounded = setup(genericProfile(), { host: { roundTo16k: true } });
    rounded.host.bootLinux();
    rounded.host.advance(3000);
    expect(rounded.fw.violations).toEqual([]);
    expect(rounded.fw.state.buffers.every((b) => b.status === 'ready')).toBe(true);
  });

  it('UNEXPECTED_BUFFER_REPLY for a second reply or one to a firmware-owned buffer', () => {
    const { host, fw } = booted();
    host.advance(5);
    const b = host.buffers.get(1)!;
    host.sendMsg(1, { kind: 'crashlogBufferReply', size: 1, iova: b.addr });
    expect(codes(fw)).toEqual([Violation.UNEXPECTED_BUFFER_REPLY]);
    const dcp = setup(getProfile('dcp'));
    dcp.host.bootLinux();
    dcp.host.advance(5);
    dcp.host.sendMsg(2, { kind: 'syslogBufferReply', size: 3, iova: 0xa000_4000 });
    expect(codes(dcp.fw)).toEqual([Violation.UNEXPECTED_BUFFER_REPLY]);
  });

  it('DMA_FAULT when a replied buffer is not accessible (e.g. not in the SART)', () => {
    const { host, fw, dma } = setup(getProfile('ans'), { host: { serveBuffers: false } });
    host.port.setRun(true);
    host.advance(2);
    host.sendMsg(0, { kind: 'helloAck', minVersion: 12, maxVersion: 12 });
    host.sendMsg(0, { kind: 'epmapReply', base: 0, last: true, more: false });
    host.sendMsg(0, { kind: 'startEndpoint', endpoint: 1 });
    host.advance(1);
    host.sendMsg(1, { kind: 'crashlogBufferReply', size: 3, iova: 0x9_0000_0000 });
    expect(codes(fw)).toEqual([Violation.DMA_FAULT]);
    fw.crash('boom');
    expect(fw.crashes[0]!.written).toBe(false);
    expect(codes(fw)).toEqual([Violation.DMA_FAULT, Violation.DMA_FAULT]);
    expect(dma.faults.length).toBeGreaterThan(0);
  });

  it('WRONG_ECHO keeps the syslog waiting; the identical echo releases it', () => {
    const { host, fw } = setup(genericProfile(), { host: { echoSyslog: false } });
    host.bootLinux();
    host.advance(5);
    const log = host.waitKind('syslogLog', 2);
    host.send(2, log.msg + 1n);
    host.advance(2000);
    expect(host.kinds('syslogLog')).toHaveLength(1);
    host.send(2, log.msg);
    host.advance(2000);
    expect(host.kinds('syslogLog').length).toBeGreaterThan(1);
    expect(codes(fw)).toContain(Violation.WRONG_ECHO);
  });

  it('MISSING_ECHO after the timeout; syslog stalls (non-strict: stalls silently)', () => {
    for (const strict of [true, false]) {
      const { host, fw } = setup(genericProfile({ ioreport: false }), {
        strict,
        host: { echoSyslog: false },
      });
      host.bootLinux();
      host.advance(5000);
      expect(host.kinds('syslogLog')).toHaveLength(1);
      expect(codes(fw)).toEqual(strict ? [Violation.MISSING_ECHO] : []);
    }
  });

  it('UNEXPECTED_ECHO for an echo with nothing outstanding', () => {
    const { host, fw } = booted({ background: false });
    host.send(2, 0x0050000000000003n);
    host.send(4, 0x0080000000000000n);
    expect(codes(fw)).toEqual([Violation.UNEXPECTED_ECHO, Violation.UNEXPECTED_ECHO]);
  });

  it('UNKNOWN_MESSAGE for unknown types and wrong directions (F10), ignored', () => {
    const { host, fw } = booted();
    host.send(0, 0x00a0000000000000n); // POWER_NAP: meaning unknown
    host.send(0, 0x00100000000c000bn); // HELLO from the AP
    host.send(1, 0x0050000000000000n); // EP1 type 5
    expect(codes(fw)).toEqual([
      Violation.UNKNOWN_MESSAGE,
      Violation.UNKNOWN_MESSAGE,
      Violation.UNKNOWN_MESSAGE,
    ]);
    host.send(0, 0x0030000000000001n);
    expect(host.waitKind('pong').msg).toBe(0x0040000000000001n);
  });

  it('crashOn turns chosen violations into a crash', () => {
    const { host, fw } = booted({ strict: { crashOn: [Violation.UNKNOWN_MESSAGE] } });
    host.advance(5);
    host.send(0, 0x00a0000000000000n);
    expect(fw.state.cpu).toBe('crashed');
    expect(fw.crashes[0]!.cause).toBe('strict-violation');
    expect(host.kinds('crashNotification')).toHaveLength(1);
  });

  it('records nothing outside strict mode', () => {
    const { host, fw } = booted({ strict: false });
    host.send(0, 0x00200000000c000cn);
    host.send(0, 0x00a0000000000000n);
    expect(fw.violations).toEqual([]);
  });

  it('KDebug stays silent unless it receives START (§5.3)', () => {
    const { host, fw } = booted();
    host.advance(100);
    expect(host.received.filter((r) => r.ep === 3)).toEqual([]);
    host.sendMsg(3, { kind: 'kdebugStart' });
    const get = host.waitKind('kdebugGetBuffer', 3);
    expect(get.m).toMatchObject({ count: 0x100 });
    host.advance(1);
    expect(fw.violations).toEqual([]);
  });

  it("accepts m1n1-Py's bare IOReport reply to a type 8 (recorded as WRONG_ECHO)", () => {
    const { host, fw } = setup(genericProfile({ ioreport: { intervalMs: 100 } }), {
      host: { echoIoreport: false },
    });
    host.bootLinux();
    host.advance(5);
    host.send(4, host.waitKind('ioreportStart', 4).msg);
    const report = host.waitKind('ioreportReport', 4);
    host.send(4, 0x0080000000000000n);
    host.advance(150);
    expect(host.kinds('ioreportReport').length).toBeGreaterThan(1);
    expect(report.msg).not.toBe(0x0080000000000000n);
    expect(codes(fw)).toContain(Violation.WRONG_ECHO);
  });

  it('echoes an AP IOReport type 4 a few ms later', () => {
    const { host } = booted({ background: false });
    host.send(4, 0x0040000000000000n);
    const t = host.clock.now();
    const echo = host.waitKind('ioreportQuery', 4);
    expect(echo.msg).toBe(0x0040000000000000n);
    expect(echo.time - t).toBeGreaterThanOrEqual(2);
    expect(echo.time - t).toBeLessThanOrEqual(3);
  });

  it('an application model that throws is recorded (APP_ERROR) and the firmware carries on', () => {
    const app = {
      ep: 0x20,
      name: 'bad',
      start() {},
      stop() {},
      message() {
        throw new Error('kaboom');
      },
    };
    const { host, fw } = booted({ apps: [app] });
    host.sendMsg(0, { kind: 'startEndpoint', endpoint: 0x20 });
    host.send(0x20, 1n);
    host.send(0, 0x0030000000000002n);
    expect(host.waitKind('pong').msg).toBe(0x0040000000000002n);
    expect(codes(fw)).toEqual([Violation.APP_ERROR]);
    expect(fw.state.apState).toBe(PowerState.On);
  });
});
