// The register-level driver beyond the shared contract: the exact register traffic, timeouts of
// queued sends, serialised drains, bounded drains, M3 interrupt handling, errors, CPU helpers.
import { describe, expect, it } from 'vitest';
import { macrotask, VirtualClock } from '../clock.js';
import { isRtkitError } from '../errors.js';
import { asyncMmio, MmioBus } from '../sim/bus.js';
import { SimAsc, type SimAscOptions } from '../sim/mailbox/asc.js';
import { EchoFirmware } from '../sim/mailbox/echo-firmware.js';
import { readAscCpuStatus, setAscCpuRun } from './asc-cpu.js';
import { AscMailboxDriver, type AscMailboxDriverOptions } from './asc-driver.js';
import type { MailboxMessage, Mmio } from './types.js';

const BASE = 0x2_3e40_0000;
const MB = BASE + 0x8000;

function traced(inner: Mmio, log: string[]): Mmio {
  const off = (a: number): string => `+${(a - MB).toString(16)}`;
  return {
    read32: async (a) => {
      const v = await inner.read32(a);
      log.push(`r32 ${off(a)} ${v.toString(16)}`);
      return v;
    },
    write32: async (a, v) => {
      log.push(`w32 ${off(a)} ${v.toString(16)}`);
      await inner.write32(a, v);
    },
    read64: async (a) => {
      const v = await inner.read64(a);
      log.push(`r64 ${off(a)} ${v.toString(16)}`);
      return v;
    },
    write64: async (a, v) => {
      log.push(`w64 ${off(a)} ${v.toString(16)}`);
      await inner.write64(a, v);
    },
  };
}

function setup(
  ascOpts: SimAscOptions = {},
  drvOpts: Partial<AscMailboxDriverOptions> = {},
): { clock: VirtualClock; asc: SimAsc; fw: EchoFirmware; drv: AscMailboxDriver; log: string[] } {
  const clock = new VirtualClock();
  const bus = new MmioBus();
  const asc = new SimAsc({ base: BASE, ...ascOpts });
  bus.map(BASE, asc.size, asc, 'asc');
  const fw = new EchoFirmware(asc);
  const log: string[] = [];
  const drv = new AscMailboxDriver({
    mmio: traced(asyncMmio(bus), log),
    base: asc.mailboxBase,
    clock,
    ...(ascOpts.variant ? { variant: ascOpts.variant } : {}),
    ...drvOpts,
  });
  return { clock, asc, fw, drv, log };
}

async function withAutoAdvance<T>(clock: VirtualClock, p: Promise<T>): Promise<T> {
  const stop = clock.autoAdvance();
  try {
    return await p;
  } finally {
    stop();
  }
}

describe('AscMailboxDriver register traffic', () => {
  it('send: CONTROL until not FULL, SEND0 = msg0, SEND1 = endpoint with zeros above', async () => {
    const { drv, log } = setup();
    await drv.send(0x37, 0x0123_4567_89ab_cdefn);
    expect(log).toEqual(['r32 +110 20001', 'w64 +800 123456789abcdef', 'w64 +808 37']);
  });

  it('receive: CONTROL, then RECV0, RECV1 per message until EMPTY', async () => {
    const { drv, fw, log } = setup({ recv1: 'realistic' });
    fw.send(1, 0xaan);
    fw.send(2, 0xbbn);
    const got: MailboxMessage[] = [];
    drv.setReceiver((m) => got.push(m));
    expect(await drv.poll()).toBe(2);
    expect(log).toEqual([
      'r32 +114 200201',
      'r64 +830 aa',
      'r64 +838 20020000000001',
      'r32 +114 101201',
      'r64 +830 bb',
      'r64 +838 10120000000002',
      'r32 +114 22201',
    ]);
    expect(got).toEqual([
      { ep: 1, msg: 0xaan },
      { ep: 2, msg: 0xbbn },
    ]);
  });

  it('t8015 and m3 use their own CONTROL offsets', async () => {
    for (const [variant, ctl] of [
      ['t8015', '+108'],
      ['m3-v2', '+50'],
    ] as const) {
      const { drv, log } = setup({ variant });
      await drv.send(1, 1n);
      expect(log[0]?.startsWith(`r32 ${ctl} `)).toBe(true);
    }
  });
});

describe('AscMailboxDriver sends', () => {
  it('a queued send times out at its own deadline, counted from the call', async () => {
    const { clock, asc, drv } = setup();
    asc.holdFull('a2i', true);
    const first = drv.send(1, 1n, { timeoutMs: 1000 }).catch((e: unknown) => e);
    const second = drv.send(2, 2n, { timeoutMs: 100 }).catch((e: unknown) => e);
    let secondAt = -1;
    void second.then(() => {
      secondAt = clock.now();
    });
    await withAutoAdvance(clock, first);
    expect(secondAt).toBeGreaterThanOrEqual(100);
    expect(secondAt).toBeLessThanOrEqual(101);
    expect(isRtkitError(await second, 'TRANSPORT_TIMEOUT')).toBe(true);
    const e = (await first) as { code: string; details: Record<string, unknown> };
    expect(e.code).toBe('TRANSPORT_TIMEOUT');
    expect(e.details).toMatchObject({ ep: 1, msg: '0x0000000000000001', timeoutMs: 1000 });
    expect(clock.now()).toBe(1000);
    expect(drv.stats.sendTimeouts).toBe(2);
  });

  it('a 500 ms timeout costs no wall time on a VirtualClock', async () => {
    const { clock, asc, drv } = setup();
    asc.holdFull('a2i', true);
    const t0 = performance.now();
    const e = await withAutoAdvance(
      clock,
      drv.send(1, 1n).catch((x: unknown) => x),
    );
    expect(isRtkitError(e, 'TRANSPORT_TIMEOUT')).toBe(true);
    expect(performance.now() - t0).toBeLessThan(400);
  });

  it('an Mmio failure rejects that send only', async () => {
    const { drv, fw } = setup();
    const bad = new AscMailboxDriver({ mmio: asyncMmio(new MmioBus()), base: MB });
    const e = await bad.send(1, 1n).catch((x: unknown) => x);
    expect(isRtkitError(e, 'MMIO_UNMAPPED')).toBe(true);
    await drv.send(1, 1n);
    expect(fw.inbox).toHaveLength(1);
  });

  it('msg0 outside 64 bits is BAD_INPUT, nothing written', async () => {
    const { drv, log } = setup();
    for (const msg of [-1n, 1n << 64n, 5 as unknown as bigint]) {
      expect(isRtkitError(await drv.send(1, msg).catch((x: unknown) => x), 'BAD_INPUT')).toBe(true);
    }
    expect(log).toEqual([]);
  });

  it('never half-writes a message when closed mid-send', async () => {
    const { drv, asc, fw } = setup();
    const p = drv.send(3, 3n);
    await Promise.resolve(); // the pump is between its CONTROL read and the SEND writes
    await drv.close();
    await p.catch(() => undefined);
    expect(asc.counters.a2i.overflows).toBe(0);
    expect(fw.inbox.length === 0 || fw.inbox[0]?.msg === 3n).toBe(true);
  });
});

describe('AscMailboxDriver receive', () => {
  it('concurrent polls never interleave: each message read once, in order', async () => {
    const { drv, fw } = setup();
    const got: bigint[] = [];
    drv.setReceiver((m) => got.push(m.msg));
    for (let i = 0; i < 16; i++) fw.send(1, BigInt(i));
    const counts = await Promise.all([drv.poll(), drv.poll(), drv.poll()]);
    expect(counts).toEqual([16, 0, 0]);
    expect(got).toEqual(Array.from({ length: 16 }, (_, i) => BigInt(i)));
  });

  it('a drain is bounded when the firmware refills forever', async () => {
    const { drv, asc } = setup({}, { maxDrain: 100 });
    let n = 0;
    const refill = (): void => {
      while (asc.trySend(1, BigInt(n))) n++;
    };
    asc.onOutboundSpace(refill);
    refill();
    expect(await drv.poll()).toBe(100);
    expect(await drv.poll()).toBe(100);
    expect(drv.stats).toMatchObject({ received: 200, buffered: 200 });
  });

  it('notification mode drains on recv-not-empty without poll(), and only then', async () => {
    const s = setup();
    await s.drv.close();
    const n = new AscMailboxDriver({
      mmio: asyncMmio(s.asc),
      base: s.asc.mailboxBase,
      interrupts: s.asc.interrupts,
      clock: s.clock,
    });
    const got: bigint[] = [];
    n.setReceiver((m) => got.push(m.msg));
    await macrotask();
    const drains = n.stats.drains;
    s.fw.send(1, 7n);
    s.fw.send(1, 8n);
    await macrotask();
    expect(got).toEqual([7n, 8n]);
    expect(n.stats.drains).toBe(drains + 1);
    await macrotask();
    expect(n.stats.drains).toBe(drains + 1);
    await n.close();
  });

  it('notification mode keeps up with a firmware that refills forever, yielding between drains', async () => {
    const s = setup({}, {});
    const n = new AscMailboxDriver({
      mmio: asyncMmio(s.asc),
      base: s.asc.mailboxBase,
      interrupts: s.asc.interrupts,
      clock: s.clock,
      maxDrain: 64,
    });
    let sent = 0;
    const refill = (): void => {
      while (sent < 1000 && s.asc.trySend(2, BigInt(sent))) sent++;
    };
    s.asc.onOutboundSpace(refill);
    let got = 0;
    n.setReceiver((m) => {
      expect(m.msg).toBe(BigInt(got));
      got++;
    });
    refill();
    for (let i = 0; i < 100 && got < 1000; i++) await macrotask();
    expect(got).toBe(1000);
    expect(n.stats.drains).toBeGreaterThanOrEqual(1000 / 64);
    await n.close();
  });

  it('m3 notification mode enables I2A_NOT_EMPTY and acknowledges after draining', async () => {
    const s = setup({ variant: 'm3-v2' });
    const log: string[] = [];
    const n = new AscMailboxDriver({
      mmio: traced(asyncMmio(s.asc), log),
      base: s.asc.mailboxBase,
      variant: 'm3-v2',
      interrupts: s.asc.interrupts,
      clock: s.clock,
    });
    await macrotask();
    expect(log.slice(0, 2)).toEqual(['r32 +48 0', 'w32 +48 8']);
    const got: bigint[] = [];
    n.setReceiver((m) => got.push(m.msg));
    log.length = 0;
    s.fw.send(1, 5n);
    await macrotask();
    expect(got).toEqual([5n]);
    expect(log).toContain('w32 +4c 8');
    expect(s.asc.interrupts.level('recv-not-empty')).toBe(false);
    await n.close();
  });

  it('periodic polling runs on the clock and stops at close', async () => {
    const s = setup();
    const n = new AscMailboxDriver({
      mmio: asyncMmio(s.asc),
      base: s.asc.mailboxBase,
      pollIntervalMs: 10,
      clock: s.clock,
    });
    const got: bigint[] = [];
    n.setReceiver((m) => got.push(m.msg));
    s.fw.send(1, 1n);
    s.clock.advance(9);
    await macrotask();
    expect(got).toEqual([]);
    s.clock.advance(1);
    await macrotask();
    expect(got).toEqual([1n]);
    await n.close();
    s.clock.advance(1000);
    expect(s.clock.pending).toBe(0);
  });

  it('a receiver may replace itself; a throwing onError does not stop delivery', async () => {
    const { drv, fw } = setup();
    const a: bigint[] = [];
    const b: bigint[] = [];
    drv.setReceiver(
      (m) => {
        a.push(m.msg);
        if (m.msg === 1n) throw new Error('x');
        drv.setReceiver((m2) => b.push(m2.msg));
      },
      () => {
        throw new Error('onError fails too');
      },
    );
    for (let i = 1; i <= 4; i++) fw.send(1, BigInt(i));
    await drv.poll();
    expect(a).toEqual([1n, 2n]);
    expect(b).toEqual([3n, 4n]);
    expect(drv.stats).toMatchObject({ receiverErrors: 1, backgroundErrors: 1 });
  });

  it('background drain errors go to onError', async () => {
    const bus = new MmioBus();
    const clock = new VirtualClock();
    const n = new AscMailboxDriver({
      mmio: asyncMmio(bus),
      base: MB,
      pollIntervalMs: 5,
      clock,
    });
    const errors: unknown[] = [];
    n.setReceiver(
      () => {},
      (e) => errors.push(e),
    );
    clock.advance(5);
    await macrotask();
    expect(isRtkitError(errors[0], 'MMIO_UNMAPPED')).toBe(true);
    await n.close();
  });
});

describe('AscMailboxDriver options', () => {
  it('rejects bad options with BAD_INPUT', () => {
    const mmio = asyncMmio(new MmioBus());
    for (const o of [
      { base: -1 },
      { base: MB, timeoutMs: -1 },
      { base: MB, sendPollMs: 0 },
      { base: MB, maxDrain: 0 },
      { base: MB, variant: 'v9' as never },
    ]) {
      let e: unknown;
      try {
        new AscMailboxDriver({ mmio, ...o });
      } catch (x) {
        e = x;
      }
      expect(isRtkitError(e, 'BAD_INPUT'), JSON.stringify(o)).toBe(true);
    }
  });
});

describe('ASC CPU helpers', () => {
  it('start and stop by read-modify-write of CPU_CONTROL.RUN; status decoded', async () => {
    const asc = new SimAsc({ base: BASE });
    const runs: boolean[] = [];
    asc.onRun((r) => runs.push(r));
    const mmio = asyncMmio(asc);
    asc.write32(BASE + 0x44, 0x100);
    expect(await readAscCpuStatus(mmio, BASE)).toEqual({
      raw: 2,
      running: false,
      stopped: true,
      idle: false,
    });
    await setAscCpuRun(mmio, BASE, true);
    expect(asc.read32(BASE + 0x44)).toBe(0x110);
    expect((await readAscCpuStatus(mmio, BASE)).running).toBe(true);
    asc.setCpuStatus({ running: true, idle: true });
    expect((await readAscCpuStatus(mmio, BASE)).idle).toBe(true);
    await setAscCpuRun(mmio, BASE, false);
    expect(asc.read32(BASE + 0x44)).toBe(0x100);
    expect(runs).toEqual([true, false]);
  });
});
