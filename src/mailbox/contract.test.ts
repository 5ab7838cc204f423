// The MailboxTransport contract (src/mailbox/types.ts), one suite run against every
// implementation: the in-process channel and the register-level driver over MmioBus + SimAsc in
// each register layout and receive mode. ROBUSTNESS B29, B30 and "Additional transport checks".
import { afterEach, describe, expect, it } from 'vitest';
import { macrotask, VirtualClock } from '../clock.js';
import { isRtkitError } from '../errors.js';
import { asyncMmio, MmioBus } from '../sim/bus.js';
import { SimAsc } from '../sim/mailbox/asc.js';
import { EchoFirmware } from '../sim/mailbox/echo-firmware.js';
import { AscMailboxDriver } from './asc-driver.js';
import { createChannelPair } from './channel.js';
import type { MailboxVariant } from './registers.js';
import type { MailboxMessage, MailboxTransport, Mmio } from './types.js';

interface Harness {
  clock: VirtualClock;
  host: MailboxTransport;
  /** Firmware side: queue an IOP→AP message (enters the FIFO as space allows). */
  iopSend(ep: number, msg: bigint): void;
  /** Every AP→IOP message the firmware took, in order. */
  iopInbox(): readonly MailboxMessage[];
  setEcho(on: boolean): void;
  holdA2iFull(hold: boolean): void;
  /** Host receives only when poll() is called. */
  polled: boolean;
  /** Register level only: RECV1 values the driver read, and MMIO writes it made. */
  recv1Reads?: bigint[];
  mmioWrites?: () => number;
  setI2aPointers?: (ptr: number) => void;
  /** Messages still in the hardware towards the host. */
  towardsHost(): number;
}

/** An Mmio that records what the driver does. */
function recording(inner: Mmio, recv1: number, log: { recv1: bigint[]; writes: number }): Mmio {
  return {
    read32: (a) => inner.read32(a),
    write32: (a, v) => {
      log.writes++;
      return inner.write32(a, v);
    },
    read64: async (a) => {
      const v = await inner.read64(a);
      if (a === recv1) log.recv1.push(v);
      return v;
    },
    write64: (a, v) => {
      log.writes++;
      return inner.write64(a, v);
    },
  };
}

const ASC_BASE = 0x2_3e40_0000;

function registerHarness(
  variant: MailboxVariant,
  mode: 'poll' | 'notify' | 'periodic',
): () => Harness {
  return () => {
    const clock = new VirtualClock();
    const bus = new MmioBus();
    const asc = new SimAsc({ base: ASC_BASE, variant, recv1: 'realistic', name: 'smc' });
    bus.map(asc.base, asc.size, asc, 'smc-asc');
    const fw = new EchoFirmware(asc);
    const log = { recv1: [] as bigint[], writes: 0 };
    const recv1Off = variant === 'm3-v2' ? 0xa8 : 0x838;
    const mmio = recording(asyncMmio(bus), asc.mailboxBase + recv1Off, log);
    const host = new AscMailboxDriver({
      mmio,
      base: asc.mailboxBase,
      variant,
      clock,
      ...(mode === 'notify' ? { interrupts: asc.interrupts } : {}),
      ...(mode === 'periodic' ? { pollIntervalMs: 1 } : {}),
    });
    return {
      clock,
      host,
      iopSend: (ep, msg) => fw.send(ep, msg),
      iopInbox: () => fw.inbox,
      setEcho: (on) => {
        fw.echo = on;
      },
      holdA2iFull: (hold) => asc.holdFull('a2i', hold),
      polled: mode === 'poll',
      recv1Reads: log.recv1,
      mmioWrites: () => log.writes,
      setI2aPointers: (p) => asc.setPointers('i2a', p),
      towardsHost: () => asc.queued('i2a') + fw.backlog,
    };
  };
}

function channelHarness(apDelivery: 'poll' | 'auto'): () => Harness {
  return () => {
    const clock = new VirtualClock();
    const { ap, iop } = createChannelPair({
      clock,
      depth: 16,
      delivery: { ap: apDelivery, iop: 'auto' },
    });
    const inbox: MailboxMessage[] = [];
    let echo = false;
    const fwSend = (ep: number, msg: bigint): void => {
      // The firmware side never gives up: its sends wait as long as it takes.
      iop.send(ep, msg, { timeoutMs: 1e12 }).catch(() => {});
    };
    iop.setReceiver((m) => {
      inbox.push(m);
      if (echo) fwSend(m.ep, m.msg);
    });
    return {
      clock,
      host: ap,
      iopSend: fwSend,
      iopInbox: () => inbox,
      setEcho: (on) => {
        echo = on;
      },
      holdA2iFull: (hold) => ap.holdFull(hold),
      polled: apDelivery === 'poll',
      towardsHost: () => ap.pending,
    };
  };
}

const IMPLEMENTATIONS: [string, () => Harness][] = [
  ['channel (polled)', channelHarness('poll')],
  ['channel (auto delivery)', channelHarness('auto')],
  ['asc-v4 registers, polled', registerHarness('asc-v4', 'poll')],
  ['asc-v4 registers, notification', registerHarness('asc-v4', 'notify')],
  ['asc-v4 registers, periodic poll', registerHarness('asc-v4', 'periodic')],
  ['t8015 registers, polled', registerHarness('t8015', 'poll')],
  ['m3-v2 registers, polled', registerHarness('m3-v2', 'poll')],
  ['m3-v2 registers, notification', registerHarness('m3-v2', 'notify')],
];

/** Let the host take what the firmware queued: poll() in polled mode, else let the loop run. */
async function step(h: Harness): Promise<void> {
  if (h.polled) await h.host.poll();
  else {
    await macrotask();
    // Periodic polling needs virtual time to pass.
    h.clock.advance(1);
    await macrotask();
  }
}

async function until(h: Harness, cond: () => boolean, what: string, limit = 20_000): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (cond()) return;
    await step(h);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Run `p` with the clock auto-advancing; resolves with its outcome and the time it took. */
async function timed<T>(
  h: Harness,
  p: Promise<T>,
): Promise<{ ok: boolean; value: T | undefined; error: unknown; ms: number }> {
  const t0 = h.clock.now();
  const stop = h.clock.autoAdvance();
  try {
    const value = await p;
    return { ok: true, value, error: undefined, ms: h.clock.now() - t0 };
  } catch (error) {
    return { ok: false, value: undefined, error, ms: h.clock.now() - t0 };
  } finally {
    stop();
  }
}

const word = (i: number): bigint => 0x0050_0000_0000_0000n | BigInt(i);

for (const [name, make] of IMPLEMENTATIONS) {
  describe(`MailboxTransport contract: ${name}`, () => {
    let h: Harness;
    afterEach(async () => {
      await h?.host.close();
    });

    it('delivers AP→IOP messages exactly once, in call order', async () => {
      h = make();
      const sends = Array.from({ length: 100 }, (_, i) => h.host.send(i % 256, word(i)));
      await Promise.all(sends);
      await macrotask();
      expect(h.iopInbox()).toEqual(
        Array.from({ length: 100 }, (_, i) => ({ ep: i, msg: word(i) })),
      );
    });

    it('delivers IOP→AP messages exactly once, in order, across FIFO refills', async () => {
      h = make();
      const got: MailboxMessage[] = [];
      h.host.setReceiver((m) => got.push(m));
      for (let i = 0; i < 100; i++) h.iopSend(0x20, word(i));
      await until(h, () => got.length >= 100, '100 messages');
      for (let i = 0; i < 5; i++) await step(h);
      expect(got).toEqual(Array.from({ length: 100 }, (_, i) => ({ ep: 0x20, msg: word(i) })));
    });

    it('keeps messages that arrive before a receiver is set', async () => {
      h = make();
      for (let i = 0; i < 3; i++) h.iopSend(2, word(i));
      await until(h, () => h.towardsHost() === 0, 'the host to drain');
      const got: MailboxMessage[] = [];
      h.host.setReceiver((m) => got.push(m));
      await until(h, () => got.length === 3, 'buffered delivery');
      expect(got.map((m) => m.msg)).toEqual([word(0), word(1), word(2)]);
    });

    it('B29 b: a throwing receiver is reported once and delivery continues', async () => {
      h = make();
      const got: bigint[] = [];
      const errors: unknown[] = [];
      let calls = 0;
      h.host.setReceiver(
        (m) => {
          calls++;
          got.push(m.msg);
          if (calls === 1) throw new Error('handler failed');
        },
        (e) => errors.push(e),
      );
      for (let i = 0; i < 3; i++) h.iopSend(0x20, word(i));
      await until(h, () => got.length === 3, 'three deliveries');
      expect(errors).toHaveLength(1);
      expect((errors[0] as Error).message).toBe('handler failed');
      h.iopSend(0x20, word(9));
      await until(h, () => got.length === 4, 'later traffic');
      expect(got).toEqual([word(0), word(1), word(2), word(9)]);
    });

    it('B29 a: 10 000 messages back to back, refilled as the host drains, echoed in order', async () => {
      h = make();
      const n = 10_000;
      let received = 0;
      let outOfOrder = 0;
      const echoes: Promise<void>[] = [];
      h.host.setReceiver((m) => {
        if (m.msg !== word(received)) outOfOrder++;
        received++;
        echoes.push(h.host.send(m.ep, m.msg));
      });
      for (let i = 0; i < n; i++) h.iopSend(2, word(i));
      await until(h, () => received === n, '10 000 messages', 100_000);
      await Promise.all(echoes);
      await macrotask();
      expect(outOfOrder).toBe(0);
      const back = h.iopInbox();
      expect(back).toHaveLength(n);
      expect(back.every((m, i) => m.ep === 2 && m.msg === word(i))).toBe(true);
    });

    it('drains 16 queued messages in one go, in order', async () => {
      h = make();
      const got: MailboxMessage[] = [];
      h.host.setReceiver((m) => got.push(m));
      for (let i = 0; i < 16; i++) h.iopSend(8, word(i));
      if (h.polled) {
        expect(await h.host.poll()).toBe(16);
      } else {
        // One notification, or one tick of the periodic poll.
        await step(h);
      }
      expect(got.map((m) => m.msg)).toEqual(Array.from({ length: 16 }, (_, i) => word(i)));
    });

    it('B30: a send rejects with TRANSPORT_TIMEOUT after 500 ms of virtual time while FULL is held', async () => {
      h = make();
      h.holdA2iFull(true);
      const r = await timed(h, h.host.send(0, 0x0050_0001_0000_0002n));
      expect(r.ok).toBe(false);
      expect(isRtkitError(r.error, 'TRANSPORT_TIMEOUT')).toBe(true);
      expect(r.ms).toBeGreaterThanOrEqual(500);
      expect(r.ms).toBeLessThanOrEqual(501);
      expect(h.iopInbox()).toHaveLength(0);
      // The retry (B30 allows one) waits another 500 ms.
      const again = await timed(h, h.host.send(0, 0x0050_0001_0000_0002n));
      expect(isRtkitError(again.error, 'TRANSPORT_TIMEOUT')).toBe(true);
      expect(again.ms).toBeGreaterThanOrEqual(500);
    });

    it('send space: FULL held for 200 ms, then freed: the send completes without error', async () => {
      h = make();
      h.holdA2iFull(true);
      h.clock.setTimer(200, () => h.holdA2iFull(false));
      const r = await timed(h, h.host.send(0x20, word(7)));
      expect(r.ok).toBe(true);
      expect(r.ms).toBeGreaterThanOrEqual(200);
      expect(r.ms).toBeLessThanOrEqual(201);
      expect(h.iopInbox()).toEqual([{ ep: 0x20, msg: word(7) }]);
    });

    it('sends queued behind a full FIFO keep their order', async () => {
      h = make();
      h.holdA2iFull(true);
      const sends = [1, 2, 3].map((i) => h.host.send(i, word(i)));
      h.clock.setTimer(50, () => h.holdA2iFull(false));
      const r = await timed(h, Promise.all(sends));
      expect(r.ok).toBe(true);
      expect(h.iopInbox().map((m) => m.ep)).toEqual([1, 2, 3]);
    });

    it('ENDPOINT_INVALID for endpoints outside 0–255, before anything is written', async () => {
      h = make();
      await macrotask();
      const writesBefore = h.mmioWrites?.();
      for (const ep of [256, -1, 1.5, Number.NaN, 0x1_0000_0000]) {
        const e = await h.host.send(ep, 1n).catch((x: unknown) => x);
        expect(isRtkitError(e, 'ENDPOINT_INVALID'), `ep ${ep}`).toBe(true);
      }
      await macrotask();
      expect(h.iopInbox()).toHaveLength(0);
      expect(h.mmioWrites?.()).toBe(writesBefore);
      // Endpoints 0 and 255 are fine.
      await h.host.send(0, 1n);
      await h.host.send(255, 2n);
      await macrotask();
      expect(h.iopInbox()).toEqual([
        { ep: 0, msg: 1n },
        { ep: 255, msg: 2n },
      ]);
    });

    it('close: pending sends reject TRANSPORT_CLOSED, later calls too; idempotent; nothing read after', async () => {
      h = make();
      h.holdA2iFull(true);
      const pending = h.host.send(1, 1n).catch((e: unknown) => e);
      await macrotask();
      expect(h.host.closed).toBe(false);
      await h.host.close();
      expect(h.host.closed).toBe(true);
      expect(isRtkitError(await pending, 'TRANSPORT_CLOSED')).toBe(true);
      const later = await h.host.send(1, 2n).catch((e: unknown) => e);
      expect(isRtkitError(later, 'TRANSPORT_CLOSED')).toBe(true);
      const poll = await h.host.poll().catch((e: unknown) => e);
      expect(isRtkitError(poll, 'TRANSPORT_CLOSED')).toBe(true);
      await h.host.close();
      // Nothing is taken from the hardware any more.
      const got: MailboxMessage[] = [];
      h.host.setReceiver((m) => got.push(m));
      h.iopSend(3, 3n);
      for (let i = 0; i < 5; i++) {
        await macrotask();
        h.clock.advance(1);
      }
      expect(got).toHaveLength(0);
      expect(h.iopInbox()).toHaveLength(0);
    });

    it('close keeps messages already received for a late receiver', async () => {
      h = make();
      h.iopSend(4, 44n);
      await until(h, () => h.towardsHost() === 0, 'the host to drain');
      await h.host.close();
      const got: MailboxMessage[] = [];
      h.host.setReceiver((m) => got.push(m));
      await macrotask();
      expect(got).toEqual([{ ep: 4, msg: 44n }]);
    });

    it('an aborted send rejects with the reason and is not sent', async () => {
      h = make();
      h.holdA2iFull(true);
      const ac = new AbortController();
      const p = h.host.send(5, 5n, { signal: ac.signal }).catch((e: unknown) => e);
      const q = h.host.send(6, 6n);
      ac.abort(new Error('stop'));
      expect(((await p) as Error).message).toBe('stop');
      h.holdA2iFull(false);
      const r = await timed(h, q);
      expect(r.ok).toBe(true);
      expect(h.iopInbox()).toEqual([{ ep: 6, msg: 6n }]);
    });

    it('echo round trip', async () => {
      h = make();
      h.setEcho(true);
      const got: MailboxMessage[] = [];
      h.host.setReceiver((m) => got.push(m));
      await h.host.send(0x37, 0x1234n);
      await until(h, () => got.length === 1, 'the echo');
      expect(got).toEqual([{ ep: 0x37, msg: 0x1234n }]);
    });

    if (name.includes('registers')) {
      it('endpoint masking: RECV1 0x0010450000000037 is endpoint 0x37', async () => {
        h = make();
        h.setI2aPointers!(4);
        const got: MailboxMessage[] = [];
        h.host.setReceiver((m) => got.push(m));
        h.iopSend(0x37, 0xabcn);
        await until(h, () => got.length === 1, 'the message');
        expect(h.recv1Reads).toEqual([0x0010_4500_0000_0037n]);
        expect(got).toEqual([{ ep: 0x37, msg: 0xabcn }]);
      });
    }
  });
}
