// The simulated ASC at register level: PROTOCOL.md §1.2–§1.8 and the "Simulator rules" of §1.6.
import { describe, expect, it, vi } from 'vitest';
import { isRtkitError } from '../../errors.js';
import {
  decodeControl,
  decodeRecv1,
  MAILBOX_LAYOUTS,
  type MailboxVariant,
} from '../../mailbox/registers.js';
import { SimAsc } from './asc.js';

const BASE = 0x2_3e40_0000;
const MB = BASE + 0x8000;
const V4 = MAILBOX_LAYOUTS['asc-v4'];

function asc(opts: ConstructorParameters<typeof SimAsc>[0] = {}): SimAsc {
  return new SimAsc({ base: BASE, ...opts });
}

/** Host-side send through the registers. */
function hostSend(a: SimAsc, ep: number, msg: bigint, mb = MB, l = V4): void {
  a.write64(mb + l.a2iSend0, msg);
  a.write64(mb + l.a2iSend1, BigInt(ep));
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('CONTROL register (§1.4)', () => {
  it('an empty FIFO at reset reads 0x00020001 (EMPTY, ENABLE, pointers 0)', () => {
    const a = asc();
    expect(a.read32(MB + 0x110)).toBe(0x0002_0001);
    expect(a.read32(MB + 0x114)).toBe(0x0002_0001);
  });

  it('one entry with RPTR 4 reads 0x00104501 (FIFOCNT 1, RPTR 4, WPTR 5)', () => {
    const a = asc();
    a.setPointers('i2a', 4);
    expect(a.read32(MB + 0x114)).toBe(0x0002_4401);
    expect(a.trySend(0x37, 1n)).toBe(true);
    expect(a.read32(MB + 0x114)).toBe(0x0010_4501);
    expect(decodeControl(0x0010_4501)).toEqual({
      enable: true,
      wptr: 5,
      rptr: 4,
      full: false,
      empty: false,
      overflow: false,
      underflow: false,
      fifoCount: 1,
    });
  });

  it('FIFOCNT = (WPTR − RPTR) mod 16 at every step, through pointer wrap', () => {
    const a = asc();
    for (let i = 0; i < 40; i++) {
      for (let k = 0; k < (i % 5) + 1; k++) a.trySend(1, BigInt(i));
      const c = decodeControl(a.read32(MB + 0x114));
      expect(c.fifoCount).toBe((c.wptr - c.rptr + 16) % 16);
      expect(c.enable).toBe(true);
      while (a.queued('i2a') > 0) a.read64(MB + 0x838);
    }
  });

  it('a full 16-deep FIFO shows FULL, WPTR == RPTR and FIFOCNT 0', () => {
    const a = asc();
    for (let i = 0; i < 16; i++) hostSend(a, 1, BigInt(i));
    const c = decodeControl(a.read32(MB + 0x110));
    expect(c).toMatchObject({ full: true, empty: false, wptr: 0, rptr: 0, fifoCount: 0 });
    expect(a.read32(MB + 0x110)).toBe(0x0001_0001);
  });

  it('a shallower FIFO fills sooner but its pointers still wrap mod 16', () => {
    const a = asc({ depth: 4 });
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 4; i++) expect(a.trySend(2, BigInt(i))).toBe(true);
      expect(a.trySend(2, 9n)).toBe(false);
      const c = decodeControl(a.read32(MB + 0x114));
      expect(c).toMatchObject({ full: true, fifoCount: 4 });
      expect(c.wptr).toBe(((round + 1) * 4) % 16);
      for (let i = 0; i < 4; i++) a.read64(MB + 0x838);
    }
    expect(decodeControl(a.read32(MB + 0x114))).toMatchObject({ wptr: 4, rptr: 4, empty: true });
  });

  it('depth outside 1–16 is refused', () => {
    expect(
      isRtkitError(
        thrown(() => asc({ depth: 0 })),
        'BAD_INPUT',
      ),
    ).toBe(true);
    expect(
      isRtkitError(
        thrown(() => asc({ depth: 17 })),
        'BAD_INPUT',
      ),
    ).toBe(true);
  });
});

describe('FIFO semantics (§1.6 simulator rules)', () => {
  it('SEND1 enqueues with the last SEND0; the firmware receives in order', () => {
    const a = asc();
    hostSend(a, 0x20, 0x11n);
    a.write64(MB + 0x808, 0x21n); // SEND0 latch kept
    expect(a.receive()).toEqual({ ep: 0x20, msg: 0x11n });
    expect(a.receive()).toEqual({ ep: 0x21, msg: 0x11n });
    expect(a.receive()).toBeUndefined();
  });

  it('SEND1 while FULL drops the message and latches OVERFLOW until written 1', () => {
    const a = asc();
    const tap = vi.fn();
    a.onTraffic(tap);
    for (let i = 0; i < 16; i++) hostSend(a, 1, BigInt(i));
    expect(decodeControl(a.read32(MB + 0x110)).overflow).toBe(false);
    hostSend(a, 1, 99n);
    const c = decodeControl(a.read32(MB + 0x110));
    expect(c).toMatchObject({ full: true, overflow: true });
    expect(a.counters.a2i).toMatchObject({ enqueued: 16, overflows: 1 });
    expect(tap).toHaveBeenCalledTimes(16);
    const got: bigint[] = [];
    for (let m = a.receive(); m; m = a.receive()) got.push(m.msg);
    expect(got).toEqual(Array.from({ length: 16 }, (_, i) => BigInt(i)));
    // Sticky: still set once the FIFO has room again.
    expect(decodeControl(a.read32(MB + 0x110)).overflow).toBe(true);
    a.write32(MB + 0x110, 1 << 18);
    expect(a.read32(MB + 0x110)).toBe(0x0002_0001); // 16 in, 16 out: pointers back at 0
  });

  it('RECV1 while EMPTY reads 0 and latches UNDERFLOW; RECV0 has no side effect', () => {
    const a = asc();
    expect(a.read64(MB + 0x830)).toBe(0n);
    expect(decodeControl(a.read32(MB + 0x114)).underflow).toBe(false);
    expect(a.read64(MB + 0x838)).toBe(0n);
    expect(decodeControl(a.read32(MB + 0x114)).underflow).toBe(true);
    expect(a.counters.i2a.underflows).toBe(1);
    a.trySend(3, 0x42n);
    expect(a.read64(MB + 0x830)).toBe(0x42n);
    expect(a.read64(MB + 0x830)).toBe(0x42n);
    expect(a.queued('i2a')).toBe(1);
    expect(a.read64(MB + 0x838)).toBe(3n);
    expect(a.queued('i2a')).toBe(0);
    a.write32(MB + 0x114, 1 << 19);
    expect(decodeControl(a.read32(MB + 0x114)).underflow).toBe(false);
  });

  it('plain RECV1 carries only the endpoint', () => {
    const a = asc();
    a.setPointers('i2a', 7);
    a.trySend(0xff, 1n);
    a.trySend(0x10, 2n);
    expect(a.read64(MB + 0x838)).toBe(0xffn);
    expect(a.read64(MB + 0x838)).toBe(0x10n);
  });

  it('realistic RECV1: INPTR = write index, OUTPTR = slot read, OUTCNT = queued incl. this', () => {
    const a = asc({ recv1: 'realistic' });
    a.setPointers('i2a', 4);
    a.trySend(0x37, 1n);
    expect(a.read64(MB + 0x838)).toBe(0x0010_4500_0000_0037n);
    // Three queued from pointer 14: wraps through 0.
    a.setPointers('i2a', 14);
    for (let i = 0; i < 3; i++) a.trySend(2, BigInt(i));
    const seen = [0, 1, 2].map(() => decodeRecv1(a.read64(MB + 0x838)));
    expect(seen).toEqual([
      { ep: 2, inPtr: 1, outPtr: 14, inCount: 0, outCount: 3 },
      { ep: 2, inPtr: 1, outPtr: 15, inCount: 0, outCount: 2 },
      { ep: 2, inPtr: 1, outPtr: 0, inCount: 0, outCount: 1 },
    ]);
  });

  it('realistic RECV1 of a full 16-deep FIFO counts 16 (OUTCNT is 5 bits)', () => {
    const a = asc({ recv1: 'realistic' });
    for (let i = 0; i < 16; i++) a.trySend(1, 0n);
    expect(decodeRecv1(a.read64(MB + 0x838)).outCount).toBe(16);
  });

  it('the IOP-side registers work too: I2A_SEND0/1 enqueue, A2I_RECV0/1 dequeue', () => {
    const a = asc();
    a.write64(MB + V4.i2aSend0, 0x77n);
    a.write64(MB + V4.i2aSend1, 0x25n);
    expect(a.read64(MB + V4.i2aRecv0)).toBe(0x77n);
    expect(a.read64(MB + V4.i2aRecv1)).toBe(0x25n);
    hostSend(a, 0x26, 0x88n);
    expect(a.read64(MB + V4.a2iRecv0)).toBe(0x88n);
    expect(a.read64(MB + V4.a2iRecv1)).toBe(0x26n);
    expect(a.receive()).toBeUndefined();
  });

  it('trySend refuses a full FIFO without OVERFLOW; an I2A_SEND1 write to it overflows', () => {
    const a = asc({ depth: 2 });
    expect(a.trySend(1, 1n)).toBe(true);
    expect(a.trySend(1, 2n)).toBe(true);
    expect(a.trySend(1, 3n)).toBe(false);
    expect(decodeControl(a.read32(MB + 0x114)).overflow).toBe(false);
    a.write64(MB + V4.i2aSend1, 1n);
    expect(decodeControl(a.read32(MB + 0x114)).overflow).toBe(true);
  });

  it('trySend validates its arguments', () => {
    const a = asc();
    expect(
      isRtkitError(
        thrown(() => a.trySend(256, 0n)),
        'ENDPOINT_INVALID',
      ),
    ).toBe(true);
    expect(
      isRtkitError(
        thrown(() => a.trySend(1, -1n)),
        'BAD_INPUT',
      ),
    ).toBe(true);
    expect(
      isRtkitError(
        thrown(() => a.trySend(1, 1n << 64n)),
        'BAD_INPUT',
      ),
    ).toBe(true);
  });
});

describe('hooks, tap and knobs', () => {
  it('onInbound runs after the enqueue, onOutboundSpace after each host dequeue', () => {
    const a = asc();
    const events: string[] = [];
    a.onInbound(() => events.push(`in:${a.queued('a2i')}`));
    a.onOutboundSpace(() => events.push(`space:${a.queued('i2a')}`));
    hostSend(a, 1, 1n);
    a.trySend(1, 1n);
    a.trySend(1, 2n);
    a.read64(MB + 0x838);
    a.read64(MB + 0x838);
    a.read64(MB + 0x838); // empty: no dequeue, no hook
    expect(events).toEqual(['in:1', 'space:1', 'space:0']);
  });

  it('the traffic tap sees each message once, before the firmware reacts', () => {
    const a = asc();
    const log: string[] = [];
    a.onTraffic((dir, ep, msg) => log.push(`${dir} ${ep} ${msg}`));
    a.onInbound(() => {
      const m = a.receive()!;
      a.trySend(m.ep, m.msg + 1n);
    });
    hostSend(a, 2, 10n);
    a.read64(MB + 0x838);
    expect(log).toEqual(['ap->iop 2 10', 'iop->ap 2 11']);
  });

  it('a throwing hook does not fail the host access; it is recorded', () => {
    const onHookError = vi.fn();
    const a = asc({ onHookError });
    a.onInbound(() => {
      throw new Error('firmware bug');
    });
    hostSend(a, 1, 1n);
    expect(a.queued('a2i')).toBe(1);
    expect(a.counters.hookErrors).toBe(1);
    expect(a.hookErrors[0]?.hook).toBe('onInbound');
    expect(onHookError).toHaveBeenCalledOnce();
  });

  it('listeners can be removed', () => {
    const a = asc();
    const fn = vi.fn();
    const off = a.onInbound(fn);
    hostSend(a, 1, 1n);
    off();
    hostSend(a, 1, 1n);
    expect(fn).toHaveBeenCalledOnce();
  });

  it('holdFull keeps FULL set; releasing the I2A hold signals space', () => {
    const a = asc();
    a.holdFull('a2i', true);
    expect(decodeControl(a.read32(MB + 0x110))).toMatchObject({ full: true, empty: true });
    hostSend(a, 1, 1n);
    expect(a.counters.a2i.overflows).toBe(1);
    a.holdFull('a2i', false);
    expect(decodeControl(a.read32(MB + 0x110)).full).toBe(false);

    const space = vi.fn();
    a.onOutboundSpace(space);
    a.holdFull('i2a', true);
    expect(a.trySend(1, 1n)).toBe(false);
    a.holdFull('i2a', false);
    expect(space).toHaveBeenCalledOnce();
    expect(a.trySend(1, 1n)).toBe(true);
  });

  it('resetMailbox empties both FIFOs and clears flags, keeping counters', () => {
    const a = asc();
    hostSend(a, 1, 1n);
    a.trySend(1, 1n);
    a.read64(MB + 0x838);
    a.read64(MB + 0x838);
    a.resetMailbox();
    expect(a.read32(MB + 0x110)).toBe(0x0002_0001);
    expect(a.read32(MB + 0x114)).toBe(0x0002_0001);
    expect(a.counters.i2a).toMatchObject({ enqueued: 1, dequeued: 1, underflows: 1 });
  });
});

describe('CPU registers (§1.2)', () => {
  it('RUN 0→1 and 1→0 call onRun and update CPU_STATUS; RMW keeps other bits', () => {
    const a = asc();
    const runs: boolean[] = [];
    a.onRun((r) => runs.push(r));
    expect(a.read32(BASE + 0x48)).toBe(0b10); // STOPPED
    a.write32(BASE + 0x44, a.read32(BASE + 0x44) | 0x10);
    expect(runs).toEqual([true]);
    expect(a.read32(BASE + 0x48)).toBe(0b01); // RUNNING
    a.write32(BASE + 0x44, 0x10 | 0x1); // RUN unchanged: no call
    expect(runs).toEqual([true]);
    expect(a.read32(BASE + 0x44)).toBe(0x11);
    a.write32(BASE + 0x44, a.read32(BASE + 0x44) & ~0x10);
    expect(runs).toEqual([true, false]);
    expect(a.read32(BASE + 0x44)).toBe(0x1);
    expect(a.read32(BASE + 0x48)).toBe(0b10);
    expect(a.runBit).toBe(false);
  });

  it('setCpuStatus controls RUNNING/STOPPED and IDLE; CPU_STATUS ignores writes', () => {
    const a = asc();
    a.setCpuStatus({ running: true, idle: true });
    expect(a.read32(BASE + 0x48)).toBe(0b10_0001);
    a.write32(BASE + 0x48, 0);
    expect(a.read32(BASE + 0x48)).toBe(0b10_0001);
    a.setCpuStatus({ running: false, idle: false });
    expect(a.read32(BASE + 0x48)).toBe(0b10);
  });
});

describe('register layouts (§1.7)', () => {
  const cases: [MailboxVariant, number, number][] = [
    ['asc-v4', 0x110, 0x114],
    ['t8015', 0x108, 0x10c],
    ['m3-v2', 0x50, 0x80],
  ];
  for (const [variant, a2iCtl, i2aCtl] of cases) {
    it(`${variant}: CONTROL at +${a2iCtl.toString(16)}/+${i2aCtl.toString(16)}, data registers`, () => {
      const a = asc({ variant });
      const l = MAILBOX_LAYOUTS[variant];
      expect(l.a2iControl).toBe(a2iCtl);
      expect(l.i2aControl).toBe(i2aCtl);
      hostSend(a, 5, 0x55n, MB, l);
      expect(decodeControl(a.read32(MB + a2iCtl)).fifoCount).toBe(1);
      expect(a.receive()).toEqual({ ep: 5, msg: 0x55n });
      a.trySend(6, 0x66n);
      expect(decodeControl(a.read32(MB + i2aCtl)).empty).toBe(false);
      expect(a.read64(MB + l.i2aRecv0)).toBe(0x66n);
      expect(a.read64(MB + l.i2aRecv1)).toBe(6n);
    });
  }

  it('t8015 and m3 have no register at the v4 CONTROL offsets', () => {
    for (const variant of ['t8015', 'm3-v2'] as const) {
      const e = thrown(() => asc({ variant }).read32(MB + 0x110));
      expect(isRtkitError(e, 'MMIO_UNMAPPED')).toBe(true);
    }
    expect(MAILBOX_LAYOUTS['m3-v2']).toMatchObject({
      irqEnable: 0x48,
      irqAck: 0x4c,
      a2iSend0: 0x60,
      a2iSend1: 0x68,
      a2iRecv0: 0x70,
      a2iRecv1: 0x78,
      i2aSend0: 0x90,
      i2aSend1: 0x98,
      i2aRecv0: 0xa0,
      i2aRecv1: 0xa8,
    });
  });
});

describe('interrupt lines (§1.8)', () => {
  it('v4: level-triggered lines follow the FIFOs', () => {
    const a = asc();
    const seen: string[] = [];
    a.interrupts.subscribe('recv-not-empty', (l) => seen.push(`rne:${l}`));
    a.interrupts.subscribe('send-empty', (l) => seen.push(`se:${l}`));
    expect(a.interrupts.level('recv-not-empty')).toBe(false);
    expect(a.interrupts.level('send-empty')).toBe(true);
    a.trySend(1, 1n);
    a.trySend(1, 2n); // no edge
    a.read64(MB + 0x838);
    a.read64(MB + 0x838);
    hostSend(a, 1, 1n);
    a.receive();
    expect(seen).toEqual(['rne:true', 'rne:false', 'se:false', 'se:true']);
    expect(a.interrupts.level('recv-empty')).toBe(true);
    expect(a.interrupts.level('send-not-empty')).toBe(false);
  });

  it('m3: IRQ_ENABLE masks, conditions latch, IRQ_ACK clears and re-latches', () => {
    const a = asc({ variant: 'm3-v2' });
    const seen: boolean[] = [];
    a.interrupts.subscribe('recv-not-empty', (l) => seen.push(l));
    a.trySend(1, 1n);
    expect(a.interrupts.level('recv-not-empty')).toBe(false); // masked
    expect(a.read32(MB + 0x4c) & 0b1000).toBe(0b1000); // pending
    a.write32(MB + 0x48, 0b1000);
    expect(a.read32(MB + 0x48)).toBe(0b1000);
    expect(seen).toEqual([true]);
    a.read64(MB + 0xa8); // drained: still latched until acked
    expect(a.interrupts.level('recv-not-empty')).toBe(true);
    a.write32(MB + 0x4c, 0b1000);
    expect(seen).toEqual([true, false]);
    // Acknowledging while the condition still holds: the line drops and rises again.
    a.trySend(1, 2n);
    expect(seen).toEqual([true, false, true]);
    a.write32(MB + 0x4c, 0b1000);
    expect(seen).toEqual([true, false, true, false, true]);
  });
});

describe('access width and alignment', () => {
  it('a wrong-width access to a register is MMIO_ALIGNMENT', () => {
    const a = asc();
    for (const fn of [
      () => a.read64(MB + 0x110), // 32-bit CONTROL read as 64
      () => a.read32(MB + 0x838), // low half of 64-bit RECV1
      () => a.read32(MB + 0x83c), // high half
      () => a.write32(MB + 0x808, 1), // would it enqueue? the model does not guess
      () => a.write64(BASE + 0x48, 0n),
    ]) {
      const e = thrown(fn);
      expect(isRtkitError(e, 'MMIO_ALIGNMENT'), String(e)).toBe(true);
    }
    expect(a.queued('i2a')).toBe(0);
    expect(a.queued('a2i')).toBe(0);
  });

  it('a misaligned access is MMIO_ALIGNMENT', () => {
    const a = asc();
    expect(
      isRtkitError(
        thrown(() => a.read32(MB + 0x112)),
        'MMIO_ALIGNMENT',
      ),
    ).toBe(true);
    expect(
      isRtkitError(
        thrown(() => a.read64(MB + 0x834)),
        'MMIO_ALIGNMENT',
      ),
    ).toBe(true);
  });

  it('outside the block or at an unmodelled offset: MMIO_UNMAPPED, or read-as-zero in raz mode', () => {
    const a = asc();
    const e = thrown(() => a.read32(MB + 0x200)) as { message: string };
    expect(isRtkitError(e, 'MMIO_UNMAPPED')).toBe(true);
    expect(e.message).toContain('0x23e408200');
    expect(
      isRtkitError(
        thrown(() => a.read32(BASE - 4)),
        'MMIO_UNMAPPED',
      ),
    ).toBe(true);
    expect(
      isRtkitError(
        thrown(() => a.read32(BASE + 0xc000)),
        'MMIO_UNMAPPED',
      ),
    ).toBe(true);
    const r = asc({ unimplemented: 'raz' });
    expect(r.read32(MB + 0x200)).toBe(0);
    r.write64(MB + 0x1000, 5n);
    expect(r.counters.unimplemented).toBe(2);
    expect(
      isRtkitError(
        thrown(() => r.read32(BASE + 0xc000)),
        'MMIO_UNMAPPED',
      ),
    ).toBe(true);
  });

  it('SEND registers read as zero; writes to RECV registers are ignored', () => {
    const a = asc();
    hostSend(a, 1, 5n);
    expect(a.read64(MB + 0x800)).toBe(0n);
    a.write64(MB + 0x838, 1n);
    expect(a.queued('a2i')).toBe(1);
  });
});
