// The firmware's mailbox side: an outbound backlog retried on onOutboundSpace when the I2A FIFO
// is full, in-order delivery, history stamped at the successful enqueue, no re-entrancy when the
// host reacts synchronously, and no dequeueing while the CPU is halted.

import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../clock.js';
import { decode, PowerState } from '../../protocol/index.js';
import { genericProfile } from '../profiles/generic.js';
import { createRng } from '../rng.js';
import { RtkitFirmware } from './firmware.js';
import { FakeDmaPort } from './testing/fake-dma.js';
import { FakeIopPort } from './testing/fake-port.js';
import { setup } from './testing/setup.js';

describe('mailbox side', () => {
  it('keeps a backlog when I2A is full and flushes it in order on onOutboundSpace', () => {
    const { host, fw, port } = setup(genericProfile(), {
      depth: 2,
      background: false,
      host: { irq: false },
    });
    port.setRun(true);
    host.advance(2);
    host.sendMsg(0, { kind: 'helloAck', minVersion: 12, maxVersion: 12 });
    host.sendMsg(0, { kind: 'epmapReply', base: 0, last: false, more: true });
    host.sendMsg(0, { kind: 'epmapReply', base: 1, last: true, more: false });
    host.setAp(PowerState.On);
    for (let i = 0; i < 10; i++) host.send(0, 0x0030000000000000n + BigInt(i));
    // Nothing drained yet: the FIFO holds 2, the rest waits in the firmware's backlog.
    expect(port.i2a.length).toBeLessThanOrEqual(2);
    host.pump();
    host.advance(1);
    const pongs = host.kinds('pong').map((r) => (r.m as { cookie: number }).cookie);
    expect(pongs).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(fw.state.backlog).toBe(0);
    // The history records the enqueue, after the dequeue of its PING.
    const kinds = new Set(['ping', 'pong']);
    const h = fw.history.filter((e) => kinds.has(decode(e.ep, e.msg, { dir: e.dir }).kind));
    expect(h.length).toBeGreaterThanOrEqual(20);
    expect(fw.violations).toEqual([]);
  });

  it('does not dequeue while the CPU is halted or before HELLO', () => {
    const clock = new VirtualClock();
    const port = new FakeIopPort();
    const fw = new RtkitFirmware({
      name: 'g',
      port,
      clock,
      rng: createRng(1),
      profile: genericProfile(),
      memory: { dma: new FakeDmaPort() },
    });
    port.hostSend(0, 0x0060000000000220n);
    clock.advance(10);
    expect(port.a2i).toHaveLength(1);
    port.setRun(true);
    expect(port.a2i).toHaveLength(1);
    clock.advance(1);
    // HELLO sent, then the early SET_IOP 0x220 is consumed and remembered (F2).
    expect(port.a2i).toHaveLength(0);
    expect(port.i2a.map((m) => m.msg)).toEqual([0x00100000000c000bn]);
    expect(fw.state.handshake).toBe('hello');
  });

  it('dispose stops everything', () => {
    const { host, fw, clock } = setup(genericProfile());
    host.bootLinux();
    fw.dispose();
    const n = host.received.length;
    host.send(0, 0x0030000000000001n);
    host.advance(5000);
    expect(host.received.length).toBe(n);
    expect(clock.pending).toBe(0);
  });

  it('state snapshot', () => {
    const { host, fw } = setup(genericProfile());
    host.bootLinux();
    host.advance(5);
    expect(fw.state).toMatchObject({
      cpu: 'running',
      handshake: 'done',
      iop: 'on',
      iopState: 0x20,
      apState: 0x20,
      version: 12,
      endpoints: [1, 2, 3, 4, 8, 0x20],
      started: [1, 2, 3, 4, 8],
      backlog: 0,
    });
    expect(fw.state.buffers.map((b) => [b.ep, b.status])).toEqual([
      [1, 'ready'],
      [2, 'ready'],
      [4, 'ready'],
      [8, 'ready'],
    ]);
    expect(fw.trace.length).toBeGreaterThan(10);
  });
});
